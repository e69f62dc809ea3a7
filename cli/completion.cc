#include "cli/completion.h"

#include "cli/args.h"

namespace stepline::cli {

namespace {

const std::vector<std::string> kCommands = {"list",    "get",    "watch",     "logs",  "start",
                                            "approve", "reject", "stop",      "rerun", "delete",
                                            "graph",   "ui",     "completion"};

const FlagSpec* FlagOf(const std::string& word) {
  for (const auto& f : KnownFlags()) {
    if (word == std::string("--") + f.name ||
        (f.short_name && word == std::string("-") + f.short_name)) {
      return &f;
    }
  }
  return nullptr;
}

std::vector<std::string> ValuesOf(const FlagSpec& flag, const std::string& command,
                                  const NameLookup& lookup) {
  const std::string name = flag.name;
  if (name == "namespace") return lookup("namespaces");
  if (name == "pipeline") return lookup("pipelines");
  if (name == "output") {
    if (command == "graph") return {"dot", "svg", "png"};
    return {"json", "yaml"};
  }
  return {};
}

std::vector<std::string> Positional(const std::string& command, size_t index,
                                    const std::vector<std::string>& before,
                                    const NameLookup& lookup) {
  if (command == "completion")
    return index == 0 ? std::vector<std::string>{"bash", "zsh"} : std::vector<std::string>{};
  if (command == "start") return index == 0 ? lookup("pipelines") : std::vector<std::string>{};
  if (command == "graph" && index == 0) {
    std::vector<std::string> out = lookup("runs");
    for (auto& p : lookup("pipelines")) out.push_back(p);
    return out;
  }
  if (command == "list" || command == "ui" || command == "graph") return {};
  if (index == 0) return lookup("runs");
  if (index == 1 && (command == "approve" || command == "reject")) {
    return lookup("waiting-steps:" + before[0]);
  }
  if (index == 1 && command == "logs") return lookup("container-steps:" + before[0]);
  return {};
}

}  // namespace

std::vector<std::string> CompletionCandidates(const std::vector<std::string>& words,
                                              const NameLookup& lookup) {
  if (words.empty()) return kCommands;
  const std::string& current = words.back();
  std::string command;
  std::vector<std::string> positionals;
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    const FlagSpec* f = FlagOf(words[i]);
    if (f != nullptr) {
      if (f->takes_value && words[i].find('=') == std::string::npos) ++i;  // skip its value
      continue;
    }
    if (!words[i].empty() && words[i][0] == '-') continue;
    (command.empty() ? command : positionals.emplace_back()) = words[i];
  }
  if (words.size() >= 2) {
    const FlagSpec* prev = FlagOf(words[words.size() - 2]);
    if (prev != nullptr && prev->takes_value) return ValuesOf(*prev, command, lookup);
  }
  if (!current.empty() && current[0] == '-') {
    std::vector<std::string> out;
    for (const auto& f : KnownFlags()) out.push_back(std::string("--") + f.name);
    return out;
  }
  if (command.empty()) return kCommands;
  return Positional(command, positionals.size(), positionals, lookup);
}

std::string CompletionScript(const std::string& shell) {
  if (shell == "bash") {
    return R"SH(# bash completion for kubectl-stepline / stepline: source <(stepline completion bash)
# (`kubectl stepline` itself completes through kubectl_complete-stepline, installed beside it.)
_stepline_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}" IFS=$'\n'
  COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" __complete "${COMP_WORDS[@]:1:COMP_CWORD}" \
    2>/dev/null | grep -v '^:')" -- "$cur"))
}
complete -o default -F _stepline_complete stepline kubectl-stepline
)SH";
  }
  if (shell == "zsh") {
    return R"SH(#compdef stepline kubectl-stepline
# zsh completion for kubectl-stepline / stepline: source <(stepline completion zsh)
# (`kubectl stepline` itself completes through kubectl_complete-stepline, installed beside it.)
_stepline() {
  local -a candidates
  candidates=("${(@f)$("${words[1]}" __complete "${(@)words[2,CURRENT]}" 2>/dev/null \
    | grep -v '^:')}")
  compadd -a candidates
}
if (( $+functions[compdef] )); then compdef _stepline stepline kubectl-stepline; fi
)SH";
  }
  return "";
}

}  // namespace stepline::cli
