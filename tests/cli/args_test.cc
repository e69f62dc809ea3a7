#include "cli/args.h"

#include <gtest/gtest.h>

namespace stepline::cli {
namespace {

TEST(ParseArgsTest, Table) {
  struct Case {
    std::string name;
    std::vector<std::string> argv;
    std::string command;
    std::vector<std::string> positionals;
    std::map<std::string, std::vector<std::string>> flags;
  };
  const std::vector<Case> cases = {
      {"command and positionals", {"approve", "run-1", "gate"}, "approve", {"run-1", "gate"}, {}},
      {"short and long flags anywhere",
       {"-n", "ml", "logs", "r", "--follow", "--index=2"},
       "logs",
       {"r"},
       {{"namespace", {"ml"}}, {"follow", {"true"}}, {"index", {"2"}}}},
      {"repeated values kept in order",
       {"start", "p", "-p", "a=1", "--param", "b=x=y"},
       "start",
       {"p"},
       {{"param", {"a=1", "b=x=y"}}}},
      {"glued short value",
       {"list", "-nml", "-A"},
       "list",
       {},
       {{"namespace", {"ml"}}, {"all-namespaces", {"true"}}}},
      {"after -- everything is positional", {"get", "--", "-odd"}, "get", {"-odd"}, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto args = ParseArgs(c.argv);
    ASSERT_TRUE(args.ok()) << args.status().message();
    EXPECT_EQ(args->command, c.command);
    EXPECT_EQ(args->positionals, c.positionals);
    EXPECT_EQ(args->flags, c.flags);
  }
}

TEST(ParseArgsTest, Errors) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"list", "--bogus"}, "unknown flag --bogus"},
      {{"list", "-z"}, "unknown flag -z"},
      {{"ui", "--port"}, "flag --port needs a value"},
      {{"get", "-x1"}, "unknown flag -x1"},
  };
  for (const auto& [argv, want] : cases) {
    SCOPED_TRACE(want);
    auto args = ParseArgs(argv);
    ASSERT_FALSE(args.ok());
    EXPECT_EQ(args.status().message(), want);
  }
}

TEST(ArgsTest, GetAndAll) {
  auto args = ParseArgs({"x", "-o", "json", "-o", "yaml"});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(args->Get("output"), "yaml");
  EXPECT_EQ(args->Get("port", "8080"), "8080");
  EXPECT_EQ(args->All("output").size(), 2u);
  EXPECT_TRUE(args->All("param").empty());
}

}  // namespace
}  // namespace stepline::cli
