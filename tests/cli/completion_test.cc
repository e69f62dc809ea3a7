#include "cli/completion.h"

#include <gtest/gtest.h>

namespace stepline::cli {
namespace {

using Names = std::vector<std::string>;

TEST(CompletionCandidatesTest, Table) {
  std::vector<std::string> asked;
  NameLookup lookup = [&asked](const std::string& what) {
    asked.push_back(what);
    if (what == "runs") return Names{"run-1", "run-2"};
    if (what == "pipelines") return Names{"forecast"};
    if (what == "namespaces") return Names{"default", "ml"};
    if (what == "waiting-steps:run-1") return Names{"approve"};
    if (what == "container-steps:run-1") return Names{"prepare", "train"};
    return Names{};
  };
  struct Case {
    std::string name;
    std::vector<std::string> words;
    Names want;
  };
  const std::vector<Case> cases = {
      {"the command",
       {""},
       {"list", "get", "watch", "logs", "start", "approve", "reject", "stop", "rerun", "delete",
        "graph", "ui", "completion"}},
      {"a run for get", {"get", ""}, {"run-1", "run-2"}},
      {"a run after a namespace flag", {"-n", "ml", "watch", "r"}, {"run-1", "run-2"}},
      {"the namespace flag's value", {"get", "-n", ""}, {"default", "ml"}},
      {"approval steps of the run", {"approve", "run-1", ""}, {"approve"}},
      {"container steps for logs", {"logs", "run-1", "t"}, {"prepare", "train"}},
      {"pipelines for start", {"start", ""}, {"forecast"}},
      {"runs then pipelines for graph", {"graph", ""}, {"run-1", "run-2", "forecast"}},
      {"graph formats", {"graph", "run-1", "-o", ""}, {"dot", "svg", "png"}},
      {"get formats", {"get", "run-1", "--output", ""}, {"json", "yaml"}},
      {"shells", {"completion", ""}, {"bash", "zsh"}},
      {"nothing after the last positional", {"stop", "run-1", ""}, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(CompletionCandidates(c.words, lookup), c.want);
  }
  auto flags = CompletionCandidates({"logs", "--f"}, lookup);
  EXPECT_NE(std::find(flags.begin(), flags.end(), "--follow"), flags.end());
}

TEST(CompletionScriptTest, Shells) {
  EXPECT_NE(CompletionScript("bash").find("complete -o default -F _stepline_complete stepline"),
            std::string::npos);
  EXPECT_NE(CompletionScript("zsh").find("#compdef stepline kubectl-stepline"), std::string::npos);
  EXPECT_EQ(CompletionScript("fish"), "");
}

}  // namespace
}  // namespace stepline::cli
