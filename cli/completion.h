// Shell completion: the bash and zsh scripts, and the candidates for a partly typed command line.
// Pure: the names from the cluster are passed in through a lookup.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace stepline::cli {

// What completion may ask the cluster: "runs", "pipelines", "namespaces", or "steps:RUN" /
// "waiting-steps:RUN" / "container-steps:RUN". Returns names (empty when unknown or denied).
using NameLookup = std::function<std::vector<std::string>(const std::string& what)>;

// Candidates for the last word of `words` (the words after the program name; the last may be
// empty), one per element, not yet filtered by the typed prefix.
std::vector<std::string> CompletionCandidates(const std::vector<std::string>& words,
                                              const NameLookup& lookup);
// The script for `completion bash|zsh`; "" for another shell.
std::string CompletionScript(const std::string& shell);

}  // namespace stepline::cli
