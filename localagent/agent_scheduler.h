// Scheduler: binds pending pods to the simulated nodes as kube-scheduler does (schedulerName
// default-scheduler): the least allocated node that fits gets spec.nodeName, PodScheduled=True
// and a Scheduled event; when none fits the pod keeps PodScheduled=False, reason Unschedulable,
// with the scheduler's message and a FailedScheduling event, and is tried again when capacity
// frees (a pod finishes or goes, a node is added) and every 30 seconds.
//
// Thread-safety: the handlers may be called from any thread; Sync runs on the loop's single
// worker. assumed_ and unschedulable_ are GUARDED_BY mu_.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "k8sclient/cache.h"
#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "k8sclient/thread_annotations.h"
#include "localagent/agent_events.h"
#include "localagent/agent_loop.h"
#include "localagent/agent_nodes.h"
#include "localagent/scheduler_fit.h"

namespace stepline::localagent {

class Scheduler {
 public:
  Scheduler(k8s::Client& client, const k8s::CacheReader& pods, const NodeRegistry& nodes,
            EventWriter& events, const k8s::Clock& clock);
  void Start() { loop_.Start(1); }
  void Stop() { loop_.Stop(); }

  void OnPod(const k8s::ObjectPtr& pod);
  // A pod finished or went away, or nodes changed: try the unschedulable pods again.
  void CapacityChanged() EXCLUDES(mu_);

 private:
  struct Assumed {
    std::string node;
    ResourceList requests;
  };
  SyncOutcome Sync(const std::string& key) EXCLUDES(mu_);
  std::vector<NodeUsage> Usage() EXCLUDES(mu_);
  SyncOutcome Bind(const k8s::Object& pod, const std::string& node, const ResourceList& requests)
      EXCLUDES(mu_);
  SyncOutcome MarkUnschedulable(const k8s::Object& pod, const std::string& message) EXCLUDES(mu_);

  k8s::Client& client_;
  const k8s::CacheReader& pods_;
  const NodeRegistry& nodes_;
  EventWriter& events_;
  const k8s::Clock& clock_;
  k8s::Mutex mu_;
  std::map<std::string, Assumed> assumed_ GUARDED_BY(mu_);  // pod key -> binding not yet cached
  std::set<std::string> unschedulable_ GUARDED_BY(mu_);     // pod keys
  SyncLoop loop_;
};

}  // namespace stepline::localagent
