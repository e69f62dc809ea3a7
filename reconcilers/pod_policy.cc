#include "reconcilers/pod_policy.h"

#include <algorithm>
#include <array>

namespace stepline::reconcilers {
namespace {

constexpr std::array<const char*, 2> kControlPlaneKeys = {"node-role.kubernetes.io/control-plane",
                                                          "node-role.kubernetes.io/master"};

bool IsControlPlaneKey(const std::string& key) {
  return std::find(kControlPlaneKeys.begin(), kControlPlaneKeys.end(), key) !=
         kControlPlaneKeys.end();
}

bool ServiceAccountAllowed(const std::string& ns, const std::string& name,
                           const std::vector<std::string>& allowed) {
  for (const std::string& a : allowed) {
    if (a == "*" || a == ns + "/" + name || a == "*/" + name || a == ns + "/*") return true;
  }
  return false;
}

void CheckTolerations(const Step& step, const std::string& path, const PodPolicy& policy,
                      std::vector<std::string>* out) {
  if (!step.tolerations.is_array()) return;
  for (size_t j = 0; j < step.tolerations.size(); ++j) {
    const Json& t = step.tolerations[j];
    if (!t.is_object()) continue;
    const std::string key = t.value("key", "");
    const std::string where = path + ".tolerations[" + std::to_string(j) + "]";
    if (key.empty() && t.value("operator", "Equal") == "Exists") {
      out->push_back(where + ": tolerating every taint is not allowed; name the taint's key");
    } else if (IsControlPlaneKey(key)) {
      out->push_back(where + ".key: \"" + key + "\": the control-plane taint is not allowed");
    } else if (!policy.allowed_toleration_keys.empty() &&
               std::find(policy.allowed_toleration_keys.begin(),
                         policy.allowed_toleration_keys.end(),
                         key) == policy.allowed_toleration_keys.end()) {
      out->push_back(where + ".key: \"" + key +
                     "\" is not allowed (the controller's --allowed-toleration-keys lists the "
                     "taints Pipelines may tolerate)");
    }
  }
}

void CheckStep(const Step& step, const std::string& path, const PodPolicy& policy,
               std::vector<std::string>* out) {
  CheckTolerations(step, path, policy, out);
  for (const auto& [key, value] : step.node_selector) {
    if (IsControlPlaneKey(key)) {
      out->push_back(path + ".nodeSelector: \"" + key +
                     "\": selecting control-plane nodes is not allowed");
    }
  }
}

}  // namespace

std::vector<std::string> PodPolicyProblems(const Pipeline& pipeline, const PodPolicy& policy) {
  std::vector<std::string> out;
  const std::string& sa = pipeline.spec.service_account_name;
  const std::string& ns = pipeline.metadata.namespace_;
  if (!sa.empty() && !ServiceAccountAllowed(ns, sa, policy.allowed_service_accounts)) {
    out.push_back("spec.serviceAccountName: \"" + sa + "\" is not allowed in namespace \"" + ns +
                  "\" (the controller's --allowed-service-accounts lists the service accounts "
                  "Pipelines may use)");
  }
  if (pipeline.spec.step_defaults) {
    CheckStep(*pipeline.spec.step_defaults, "spec.stepDefaults", policy, &out);
  }
  for (size_t i = 0; i < pipeline.spec.steps.size(); ++i) {
    const Step& s = pipeline.spec.steps[i];
    CheckStep(s, "spec.steps[" + std::to_string(i) + "] (" + s.name + ")", policy, &out);
  }
  return out;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace stepline::reconcilers
