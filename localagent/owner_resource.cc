#include "localagent/owner_resource.h"

#include <cctype>

namespace stepline::localagent {

namespace {

// The way the API derives a plural from a kind (gengo's namer): "Policy" -> "policies",
// "Class" -> "classes", "Job" -> "jobs".
std::string Plural(std::string lower) {
  auto ends = [&](const std::string& s) {
    return lower.size() >= s.size() && lower.compare(lower.size() - s.size(), s.size(), s) == 0;
  };
  if (ends("y") && lower.size() > 1 &&
      std::string("aeiou").find(lower[lower.size() - 2]) == std::string::npos) {
    return lower.substr(0, lower.size() - 1) + "ies";
  }
  if (ends("s") || ends("x") || ends("z") || ends("ch") || ends("sh")) return lower + "es";
  return lower + "s";
}

}  // namespace

std::optional<k8s::Resource> ResourceForKind(const std::string& api_version,
                                             const std::string& kind) {
  namespace r = k8s::resources;
  for (const k8s::Resource* known :
       {&r::kPods, &r::kEvents, &r::kNamespaces, &r::kConfigMaps, &r::kSecrets,
        &r::kServiceAccounts, &r::kResourceQuotas, &r::kJobs, &r::kLeases, &r::kPipelines,
        &r::kPipelineExecutions, &r::kCustomResourceDefinitions}) {
    if (known->ApiVersion() == api_version && known->kind == kind) return *known;
  }
  if (kind.empty() || api_version.empty()) return std::nullopt;
  const size_t slash = api_version.find('/');
  k8s::Resource res;
  res.group = slash == std::string::npos ? "" : api_version.substr(0, slash);
  res.version = slash == std::string::npos ? api_version : api_version.substr(slash + 1);
  res.kind = kind;
  std::string lower = kind;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  res.resource = Plural(lower);
  res.namespaced = true;
  return res;
}

}  // namespace stepline::localagent
