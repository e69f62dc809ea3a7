#include "artifacts/fan_in_join.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include <nlohmann/json.hpp>

namespace stepline::artifacts {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view Trimmed(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// "part 2 of 3 (/stepline/fan-in/0/run-f-outputs-v-01/values.json, ConfigMap run-f-outputs-v-01)"
std::string PartName(const std::vector<std::string>& parts, size_t k) {
  const std::filesystem::path path(parts[k]);
  return "part " + std::to_string(k + 1) + " of " + std::to_string(parts.size()) + " (" + parts[k] +
         ", ConfigMap " + path.parent_path().filename().string() + ")";
}

}  // namespace

k8s::Result<JoinedFanIn> JoinFanIn(const std::vector<std::string>& parts, int64_t expected_items,
                                   const std::string& dest) {
  std::string joined = "[";
  JoinedFanIn out;
  for (size_t k = 0; k < parts.size(); ++k) {
    std::ifstream in(parts[k], std::ios::binary);
    if (!in) {
      return k8s::Status::InvalidArgument(
          "join: fan-in " + PartName(parts, k) +
          " is missing: the ConfigMap was deleted (with the execution that stored it?) or not "
          "made");
    }
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    nlohmann::json list = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    const std::string_view trimmed = Trimmed(text);
    if (!list.is_array() || trimmed.size() < 2) {
      return k8s::Status::InvalidArgument("join: fan-in " + PartName(parts, k) +
                                          " is not a JSON list");
    }
    out.items += static_cast<int64_t>(list.size());
    const std::string_view items = Trimmed(trimmed.substr(1, trimmed.size() - 2));
    if (items.empty()) continue;
    if (joined.size() > 1) joined += ',';
    joined += items;
  }
  joined += ']';
  if (out.items != expected_items) {
    return k8s::Status::InvalidArgument(
        "join: the fan-in's " + std::to_string(parts.size()) + " part(s) hold " +
        std::to_string(out.items) + " items, the step stored " + std::to_string(expected_items) +
        ": a ConfigMap was changed since");
  }
  const std::filesystem::path path(dest);
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file << joined;
  file.close();
  if (ec || !file) return k8s::Status::Internal("join: cannot write " + dest);
  out.bytes = joined.size();
  return out;
}

}  // namespace stepline::artifacts
