#include "cli/args.h"

namespace stepline::cli {

namespace {

const FlagSpec* Find(const std::string& name, char short_name) {
  for (const auto& f : KnownFlags()) {
    if ((!name.empty() && name == f.name) || (short_name != 0 && short_name == f.short_name)) {
      return &f;
    }
  }
  return nullptr;
}

}  // namespace

std::string Args::Get(const std::string& flag, const std::string& fallback) const {
  auto it = flags.find(flag);
  return it == flags.end() || it->second.empty() ? fallback : it->second.back();
}

std::vector<std::string> Args::All(const std::string& flag) const {
  auto it = flags.find(flag);
  return it == flags.end() ? std::vector<std::string>{} : it->second;
}

const std::vector<FlagSpec>& KnownFlags() {
  static const std::vector<FlagSpec> kFlags = {
      {"namespace", 'n', true, "the namespace (default: the kubeconfig context's)"},
      {"all-namespaces", 'A', false, "list: every namespace"},
      {"kubeconfig", 0, true, "the kubeconfig file (default: $KUBECONFIG, ~/.kube/config)"},
      {"context", 0, true, "the kubeconfig context"},
      {"output", 'o', true, "get: json|yaml; graph: dot|svg|png"},
      {"selector", 'l', true, "list: a label selector"},
      {"pipeline", 0, true, "list: only runs of this pipeline"},
      {"param", 'p', true, "start: a parameter, name=value (repeatable)"},
      {"name", 0, true, "start, rerun: the new run's name"},
      {"generate-name", 0, false, "start: a generated name <pipeline>-xxxxx (the default)"},
      {"message", 'm', true, "approve/reject: the signal's message"},
      {"index", 0, true, "logs: the fan-out child's index"},
      {"attempt", 0, true, "logs: the attempt (default: every attempt, in order)"},
      {"follow", 'f', false, "logs: follow the step until it ends, across retries"},
      {"tail", 0, true, "logs: the last N lines of each attempt"},
      {"from-failed", 0, false, "rerun: the steps that did not succeed (the default)"},
      {"steps", 0, true, "rerun: these steps, a,b (and those downstream)"},
      {"allow-pipeline-change", 0, false, "rerun: though the Pipeline changed since"},
      {"file", 0, true, "graph: write the output to this file instead of stdout"},
      {"port", 0, true, "ui: the local port (default 8080; 0 picks a free one)"},
      {"no-color", 0, false, "no colours even on a terminal"},
      {"help", 'h', false, "help"},
  };
  return kFlags;
}

k8s::Result<Args> ParseArgs(const std::vector<std::string>& argv) {
  Args args;
  bool only_positionals = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (only_positionals || a.size() < 2 || a[0] != '-') {
      (args.command.empty() ? args.command : args.positionals.emplace_back()) = a;
      continue;
    }
    if (a == "--") {
      only_positionals = true;
      continue;
    }
    const bool is_long = a.rfind("--", 0) == 0;
    const size_t eq = a.find('=');
    const std::string name = is_long ? a.substr(2, eq == std::string::npos ? eq : eq - 2) : "";
    if (!is_long && a.size() > 2 && a[2] != '=') {  // -nfoo: a short flag with its value glued
      const FlagSpec* f = Find("", a[1]);
      if (f == nullptr || !f->takes_value) return k8s::Status::InvalidArgument("unknown flag " + a);
      args.flags[f->name].push_back(a.substr(2));
      continue;
    }
    const FlagSpec* f = Find(name, is_long ? 0 : a[1]);
    const std::string shown = is_long ? "--" + name : a.substr(0, 2);
    if (f == nullptr) return k8s::Status::InvalidArgument("unknown flag " + shown);
    if (eq != std::string::npos) {
      args.flags[f->name].push_back(a.substr(eq + 1));
    } else if (!f->takes_value) {
      args.flags[f->name].push_back("true");
    } else if (i + 1 < argv.size()) {
      args.flags[f->name].push_back(argv[++i]);
    } else {
      return k8s::Status::InvalidArgument("flag " + shown + " needs a value");
    }
  }
  return args;
}

}  // namespace stepline::cli
