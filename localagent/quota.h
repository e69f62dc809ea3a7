// ResourceQuota accounting and admission, as the API server's quota admission plugin and the
// resource quota controller do it for pods (and count/jobs.batch for Jobs):
//   pods "x" is forbidden: exceeded quota: q1, requested: pods=1, used: pods=1, limited: pods=1
//   pods "x" is forbidden: failed quota: q1: must specify limits.cpu for: main
// Pure functions; no shared state.
#pragma once

#include <string>
#include <vector>

#include "k8sclient/resource.h"
#include "k8sclient/status.h"
#include "localagent/resources.h"

namespace stepline::localagent {

struct QuotaState {
  std::string name;
  ResourceList hard;
  ResourceList used;  // only the names in hard
};

// What one non-terminal pod counts for: pods, count/pods, requests.X and X for cpu, memory and
// ephemeral-storage, limits.X for those, requests.X for extended resources.
ResourceList PodQuotaUsage(const PodResources& pod);
// A terminal pod (Succeeded or Failed) uses no quota.
bool PodCountsForQuota(const k8s::Object& pod);
// The usage restricted to the names in hard (absent ones are 0): a quota's status.used.
ResourceList QuotaUsedFor(const ResourceList& hard, const ResourceList& total_usage);

// OK, or Forbidden with the API server's message. quotas are checked in the order given.
k8s::Status AdmitPod(const std::string& pod_name, const PodResources& pod,
                     const std::vector<QuotaState>& quotas);

}  // namespace stepline::localagent
