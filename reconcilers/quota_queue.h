// QuotaQueue: the order in which the quota waits of a namespace end (issue #19).
//
// A step whose pod (or Job) a ResourceQuota refuses waits with backoff, 10 s doubling to 5 min
// (retry.h). On its own that leaves the quota idle for minutes after room appears. So the
// execution reconciler reports, after each plan, how many of the execution's units wait for
// quota and since when the oldest waits; and the watch of ResourceQuotas tells this queue when
// a quota changed. When room appears, the queue hands out grants ("try one unit again now") to
// the oldest waits of that namespace first, across executions, and only as many as there is
// room for:
//   - a quota that limits the pod count (`pods`, `count/pods`): hard - used (its status, as the
//     quota controller counts it), less the grants still outstanding in the namespace;
//   - any other quota (cpu, memory, ...): one grant per change that freed something (a used
//     value fell, a hard limit rose, a quota went away), so one waiter probes at a time.
// A Job create a quota refused is also kept until the execution's next plan takes it
// (TakeRefusals): the plan, not an edit of the one applied, turns it into the step's wait.
// A grant is outstanding from when it is handed out until the granted execution's pod is
// created (admitted), a create is refused again, the plan had no wait to end (unused), or
// kGrantTimeout passes. The backoff timers stay: they end waits when no change is seen.
//
// Thread-safety: every method may be called from any thread (informer threads report changes,
// workers take and report); state is guarded by mu_ (GUARDED_BY, checked by clang's
// -Wthread-safety: scripts/check-thread-safety.sh).
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "k8sclient/clock.h"
#include "k8sclient/resource.h"
#include "k8sclient/thread_annotations.h"
#include "reconcilers/planner.h"

namespace stepline::reconcilers {

class QuotaQueue {
 public:
  // A grant nobody resolved is forgotten after this long (its pod never showed, say).
  static constexpr std::chrono::seconds kGrantTimeout{10};

  explicit QuotaQueue(const k8s::Clock& clock) : clock_(clock) {}  // clock must outlive it

  // ---- The reconciler's side; key is "namespace/name" of an execution.
  // The grants handed to key and not taken yet; they stay outstanding until resolved.
  int TakeGrants(const std::string& key);
  // After a plan: `unused` of the grants it took ended no wait; `waiting` units of key wait for
  // quota, the oldest since `since` (0 waiting: key waits for nothing).
  void Report(const std::string& key, int unused, int waiting, std::optional<k8s::WallTime> since);
  // A create or pod of key was refused by a quota again.
  void Refused(const std::string& key);
  // A Job create of key was refused: as Refused(key), and kept for key's next plan.
  void Refused(const std::string& key, QuotaRefusal refusal);
  // The refusals kept for key since it last took them (PlanInputs::quota_refusals).
  std::vector<QuotaRefusal> TakeRefusals(const std::string& key);
  // key finished or is gone.
  void Forget(const std::string& key);

  // ---- The watch's side.
  // A ResourceQuota changed (old: null when added; now: null when deleted); quotas: every
  // ResourceQuota of its namespace as the cache holds them now. Answers the executions that got
  // grants, to reconcile now.
  std::vector<std::string> QuotaChanged(const k8s::Object* old, const k8s::Object* now,
                                        const std::vector<k8s::ObjectPtr>& quotas);
  // A pod of key was created: one of its outstanding grants was admitted.
  void PodCreated(const std::string& key);

 private:
  struct Waiter {
    k8s::WallTime since{};
    int waiting = 0;
    std::deque<k8s::MonoTime> grants;    // outstanding, oldest first
    int untaken = 0;                     // the newest `untaken` of grants
    std::vector<QuotaRefusal> refusals;  // for the next plan
  };
  // Drops expired grants and entries that neither wait nor hold grants nor refusals.
  void SweepLocked(const std::string& key) REQUIRES(mu_);
  int OutstandingLocked(const std::string& ns) REQUIRES(mu_);
  std::vector<std::string> GrantLocked(const std::string& ns, int count) REQUIRES(mu_);

  const k8s::Clock& clock_;
  k8s::Mutex mu_;
  std::map<std::string, Waiter> waiters_ GUARDED_BY(mu_);  // by execution key
};

// Room for more pods in a namespace by its quotas (hard - used of `pods` / `count/pods`, the
// least over the quotas that limit them; never below 0); nullopt: no quota limits the pod count.
std::optional<int64_t> PodRoom(const std::vector<k8s::ObjectPtr>& quotas);
// True when the change from old to now may have freed room: a status.used value fell, a
// spec.hard value rose or went away, or the quota was deleted (now null).
bool QuotaFreedRoom(const k8s::Object* old, const k8s::Object* now);

}  // namespace stepline::reconcilers
