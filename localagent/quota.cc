#include "localagent/quota.h"

#include <set>

#include "k8sclient/object_fields.h"

namespace stepline::localagent {

using k8s::ObjectField;
using k8s::StringField;

namespace {

const std::set<std::string> kNative = {"cpu", "memory", "ephemeral-storage"};
// The quota names that oblige every container to state a value (the pod evaluator's
// constraint check).
const std::set<std::string> kMustSpecify = {
    "cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"};

bool IsExtended(const std::string& name) {
  return kNative.count(name) == 0 && name != "pods" && name.rfind("hugepages-", 0) != 0;
}

// For "limits.cpu": does the container state a cpu limit? For "cpu"/"requests.cpu": a request?
bool ContainerStates(const ContainerResources& c, const std::string& quota_name) {
  if (quota_name.rfind("limits.", 0) == 0) return c.limits.count(quota_name.substr(7)) > 0;
  const std::string name =
      quota_name.rfind("requests.", 0) == 0 ? quota_name.substr(9) : quota_name;
  return c.requests.count(name) > 0;
}

std::string MissingConstraints(const PodResources& pod, const ResourceList& hard) {
  std::string out;
  for (const auto& [name, unused] : hard) {
    if (kMustSpecify.count(name) == 0) continue;
    std::string containers;
    for (const auto& c : pod.containers) {
      if (!ContainerStates(c, name)) containers += (containers.empty() ? "" : ",") + c.name;
    }
    if (!containers.empty()) out += (out.empty() ? "" : "; ") + name + " for: " + containers;
  }
  return out;
}

ResourceList Masked(const ResourceList& list, const std::set<std::string>& names) {
  ResourceList out;
  for (const auto& name : names) {
    auto it = list.find(name);
    out[name] = it == list.end() ? k8s::Quantity() : it->second;
  }
  return out;
}

}  // namespace

ResourceList PodQuotaUsage(const PodResources& pod) {
  ResourceList usage;
  usage["pods"] = k8s::Quantity::FromValue(1);
  usage["count/pods"] = k8s::Quantity::FromValue(1);
  for (const auto& [name, quantity] : pod.requests) {
    if (kNative.count(name) > 0) {
      usage["requests." + name] = quantity;
      usage[name] = quantity;
    } else if (IsExtended(name)) {
      usage["requests." + name] = quantity;
    }
  }
  for (const auto& [name, quantity] : pod.limits) {
    if (kNative.count(name) > 0) usage["limits." + name] = quantity;
  }
  return usage;
}

bool PodCountsForQuota(const k8s::Object& pod) {
  const std::string phase = StringField(ObjectField(pod, "status"), "phase");
  return phase != "Succeeded" && phase != "Failed";
}

ResourceList QuotaUsedFor(const ResourceList& hard, const ResourceList& total_usage) {
  std::set<std::string> names;
  for (const auto& [name, unused] : hard) names.insert(name);
  return Masked(total_usage, names);
}

k8s::Status AdmitPod(const std::string& pod_name, const PodResources& pod,
                     const std::vector<QuotaState>& quotas) {
  const std::string prefix = "pods \"" + pod_name + "\" is forbidden: ";
  for (const auto& quota : quotas) {
    const std::string missing = MissingConstraints(pod, quota.hard);
    if (!missing.empty()) {
      return k8s::Status::Forbidden(prefix + "failed quota: " + quota.name + ": must specify " +
                                    missing);
    }
  }
  const ResourceList requested = PodQuotaUsage(pod);
  for (const auto& quota : quotas) {
    std::set<std::string> exceeded;
    for (const auto& [name, limit] : quota.hard) {
      auto req = requested.find(name);
      if (req == requested.end() || req->second.IsZero()) continue;
      auto used = quota.used.find(name);
      const k8s::Quantity in_use = used == quota.used.end() ? k8s::Quantity() : used->second;
      auto total = in_use.Add(req->second);
      if (!total.ok() || limit < *total) exceeded.insert(name);
    }
    if (exceeded.empty()) continue;
    return k8s::Status::Forbidden(prefix + "exceeded quota: " + quota.name + ", requested: " +
                                  FormatResourceList(Masked(requested, exceeded)) +
                                  ", used: " + FormatResourceList(Masked(quota.used, exceeded)) +
                                  ", limited: " + FormatResourceList(Masked(quota.hard, exceeded)));
  }
  return k8s::Status::Ok();
}

}  // namespace stepline::localagent
