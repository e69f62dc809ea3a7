// The plugin's command line: `kubectl stepline COMMAND [ARGS] [FLAGS]`, kubectl's conventions
// (-n/--namespace, -A, -o, -l, --kubeconfig, --context; `--flag=value` and `--flag value`).
// Pure; the known flags are a table, so an unknown or misused flag is an error that names it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "k8sclient/status.h"

namespace stepline::cli {

struct Args {
  std::string command;                                    // "" when none was given
  std::vector<std::string> positionals;                   // after the command
  std::map<std::string, std::vector<std::string>> flags;  // long name -> values ("true" for bools)

  bool Has(const std::string& flag) const { return flags.count(flag) > 0; }
  // The last value of a flag, or fallback.
  std::string Get(const std::string& flag, const std::string& fallback = "") const;
  std::vector<std::string> All(const std::string& flag) const;
};

struct FlagSpec {
  const char* name;  // long name, without "--"
  char short_name;   // 0 = none
  bool takes_value;
  const char* help;
};

// Every flag the plugin knows (for parsing, help and completion).
const std::vector<FlagSpec>& KnownFlags();
// Errors (kInvalidArgument): "unknown flag --x", "flag --port needs a value".
k8s::Result<Args> ParseArgs(const std::vector<std::string>& argv);

}  // namespace stepline::cli
