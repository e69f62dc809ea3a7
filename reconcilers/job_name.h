// Deterministic Job names: <execution>-<step>[-<index>]-<attempt>, at most 63 characters.
//
// Names are a function of (execution, step, index, attempt) only, so a create that answers
// AlreadyExists after a restart means "already done", never a duplicate. A name longer than 63
// characters is cut and ends in a short hash of the full name, so distinct inputs stay distinct.
#pragma once

#include <optional>
#include <string>

namespace stepline::reconcilers {

inline constexpr size_t kMaxJobNameLength = 63;

// step appears as StepJobPart(step).
std::string JobName(const std::string& execution, const std::string& step, std::optional<int> index,
                    int attempt);

// A step name as part of a Job name: lower case, '_' as '-' ("Abalone_Train" ->
// "abalone-train"). Two steps of a pipeline may not share it (validation refuses them).
std::string StepJobPart(const std::string& step);

// Cuts name to at most max_length characters, ending in "-" + a 10-character hash of the whole
// name when it had to cut; the result is a valid DNS-1123 label if name was made of one's
// characters.
std::string ShortenName(const std::string& name, size_t max_length = kMaxJobNameLength);

// A 10-character hash of text (FNV-1a 64 in base 36), stable across builds: names a value
// without holding it. Not for security.
std::string ShortHash(const std::string& text);

}  // namespace stepline::reconcilers
