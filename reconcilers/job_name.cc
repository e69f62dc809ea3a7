#include "reconcilers/job_name.h"

#include <cctype>
#include <cstdint>

namespace stepline::reconcilers {
namespace {

constexpr size_t kHashLength = 10;

// FNV-1a, 64 bits: stable across builds and platforms, which std::hash is not.
uint64_t Fnv1a(const std::string& text) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

std::string Base36(uint64_t value, size_t width) {
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out(width, '0');
  for (size_t i = width; i > 0; --i) {
    out[i - 1] = kDigits[value % 36];
    value /= 36;
  }
  return out;
}

}  // namespace

std::string ShortHash(const std::string& text) { return Base36(Fnv1a(text), kHashLength); }

std::string ShortenName(const std::string& name, size_t max_length) {
  if (name.size() <= max_length) return name;
  std::string prefix = name.substr(0, max_length - kHashLength - 1);
  while (!prefix.empty() && (prefix.back() == '-' || prefix.back() == '.')) prefix.pop_back();
  return prefix + "-" + Base36(Fnv1a(name), kHashLength);
}

std::string StepJobPart(const std::string& step) {
  std::string out = step;
  for (char& c : out) {
    c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string JobName(const std::string& execution, const std::string& step, std::optional<int> index,
                    int attempt) {
  std::string name = execution + "-" + StepJobPart(step);
  if (index.has_value()) name += "-" + std::to_string(*index);
  name += "-" + std::to_string(attempt);
  return ShortenName(name);
}

}  // namespace stepline::reconcilers
