// JobController: the Job controller's shell around SyncJob (job_sync.h). Event handlers only
// enqueue keys; Sync reads the Job and its Pods from the caches, writes the status (first, with
// optimistic concurrency), removes tracking finalizers, deletes and creates pods (quota
// admission first; a refusal becomes a FailedCreate event and a rate-limited retry, 1s doubling
// to 60s as the real controller's API backoff), and records the controller's events.
// Expectations keep it from creating twice before the pod cache has caught up.
//
// Thread-safety: the handlers may be called from any thread; Sync runs on the loop's worker.
// expectations_, written_from_ and random_ are GUARDED_BY mu_.
#pragma once

#include <map>
#include <random>
#include <set>
#include <string>

#include "k8sclient/cache.h"
#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "k8sclient/thread_annotations.h"
#include "localagent/agent_events.h"
#include "localagent/agent_loop.h"
#include "localagent/agent_quota.h"
#include "localagent/job_sync.h"

namespace stepline::localagent {

class JobController {
 public:
  // Everything passed in must outlive the controller.
  JobController(k8s::Client& client, const k8s::CacheReader& jobs, const k8s::CacheReader& pods,
                QuotaAdmission& admission, EventWriter& events, const k8s::Clock& clock);
  void Start() { loop_.Start(2); }
  void Stop() { loop_.Stop(); }

  void OnJob(const k8s::ObjectPtr& job);
  void OnPod(const k8s::ObjectPtr& pod);

 private:
  struct Expectation {
    std::set<std::string> names;  // pods created, not yet in the cache
    k8s::MonoTime since{};
  };

  SyncOutcome Sync(const std::string& key);
  SyncOutcome SyncJobKey(const std::string& ns, const std::string& name) EXCLUDES(mu_);
  SyncOutcome SyncOrphanPod(const std::string& ns, const std::string& name);
  std::vector<k8s::ObjectPtr> ControlledPods(const k8s::Object& job) const;
  bool ExpectationsMet(const std::string& key, const std::vector<k8s::ObjectPtr>& pods)
      EXCLUDES(mu_);
  bool Apply(const k8s::Object& job, const JobSyncResult& result) EXCLUDES(mu_);
  // Creates up to count pods, adding each created to *created_count; false at the first refusal.
  bool CreatePods(const k8s::Object& job, int count, int* created_count) EXCLUDES(mu_);
  bool RemoveTrackingFinalizer(const std::string& ns, const std::string& pod_name);

  k8s::Client& client_;
  const k8s::CacheReader& jobs_;
  const k8s::CacheReader& pods_;
  QuotaAdmission& admission_;
  EventWriter& events_;
  const k8s::Clock& clock_;
  k8s::Mutex mu_;
  std::map<std::string, Expectation> expectations_ GUARDED_BY(mu_);
  // Job key -> the resourceVersion our last status write replaced.
  std::map<std::string, std::string> written_from_ GUARDED_BY(mu_);
  std::mt19937_64 random_ GUARDED_BY(mu_);
  SyncLoop loop_;
};

}  // namespace stepline::localagent
