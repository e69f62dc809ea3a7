// The scheduler's decision for one pod, as kube-scheduler's default profile makes it for the
// filters that matter here (NodeAffinity via nodeSelector, NodeResourcesFit) and with its
// message when nothing fits:
//   "0/2 nodes are available: 2 Insufficient memory. preemption: 0/2 nodes are available:
//    2 No preemption victims found for incoming pod."
// Pure functions; no shared state.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "localagent/node_spec.h"
#include "localagent/resources.h"

namespace stepline::localagent {

struct NodeUsage {
  NodeSpec node;
  ResourceList requested;  // the sum of the requests of the non-terminal pods bound to it
  int64_t pod_count = 0;
};

struct ScheduleResult {
  std::string node;     // the chosen node, or "" when none fits
  std::string message;  // why none fits (the FailedScheduling message)
};

// Least-allocated node among those that fit (ties by name).
ScheduleResult SchedulePod(const ResourceList& requests,
                           const std::map<std::string, std::string>& node_selector,
                           const std::vector<NodeUsage>& nodes);

// The reasons one node cannot take the pod ("Insufficient cpu", "Too many pods",
// "node(s) didn't match Pod's node affinity/selector"); empty when it fits.
std::vector<std::string> NodeFitFailures(const ResourceList& requests,
                                         const std::map<std::string, std::string>& node_selector,
                                         const NodeUsage& usage);

}  // namespace stepline::localagent
