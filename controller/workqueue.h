// WorkQueue: the controller's queue of object keys ("namespace/name"), with client-go's
// semantics:
//   - a key added several times before a worker takes it is processed once (dirty set);
//   - a key is never handed to two workers at once: a key added while it is processing is
//     queued again only when the worker calls Done (processing set);
//   - AddAfter parks a key in a heap of waiting keys until the Clock reaches its time;
//   - AddRateLimited waits as the RateLimiter says (per-key backoff, overall bucket);
//   - ShutDown wakes every getter; from then on Get returns nullopt at once (keys still queued
//     are dropped: a stopping controller leaves them to its successor's initial list).
//
// Waiting keys move to the queue when Get/Len observe that their time has come; a blocked Get
// wakes up at the earliest waiting time, or after options.max_idle_wait when the clock is a
// FakeClock that tests step by hand.
//
// Thread-safety: all methods may be called from any thread; state is guarded by mu_ (GUARDED_BY,
// checked by clang's -Wthread-safety: CTest thread_safety_check).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "controller/rate_limiter.h"
#include "k8sclient/clock.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::controller {

// Hooks for queue metrics, called with the queue's lock held: must be quick and must not call
// back into the queue. Implementations must be thread-safe.
class WorkQueueMetrics {
 public:
  virtual ~WorkQueueMetrics() = default;
  virtual void SetDepth(int64_t depth) = 0;
  virtual void Added() = 0;
  virtual void Retried() = 0;
  virtual void ObserveQueueLatency(double seconds) = 0;  // from add to Get
  virtual void ObserveWorkDuration(double seconds) = 0;  // from Get to Done
};

struct WorkQueueOptions {
  std::string name;                      // for metrics and logs: the controller's name
  std::unique_ptr<RateLimiter> limiter;  // default: DefaultControllerRateLimiter
  WorkQueueMetrics* metrics = nullptr;   // optional; must outlive the queue
  std::chrono::milliseconds max_idle_wait{1000};
};

class WorkQueue {
 public:
  WorkQueue(const k8s::Clock& clock, WorkQueueOptions options);
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Add(const std::string& key) EXCLUDES(mu_);
  // Adds key once the clock has advanced by delay (at once when delay <= 0). A key already
  // waiting keeps the earlier of its two times.
  void AddAfter(const std::string& key, Duration delay) EXCLUDES(mu_);
  // Drops the key's waiting time, if it has one (a key already queued stays queued).
  void CancelWaiting(const std::string& key) EXCLUDES(mu_);
  // AddAfter(key, limiter.When(key)); counts a retry.
  void AddRateLimited(const std::string& key) EXCLUDES(mu_);
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key);

  // Blocks until a key is ready or the queue shuts down (nullopt). The caller must call
  // Done(key) when it has finished with it.
  std::optional<std::string> Get() EXCLUDES(mu_);
  void Done(const std::string& key) EXCLUDES(mu_);

  void ShutDown() EXCLUDES(mu_);
  bool ShuttingDown() const EXCLUDES(mu_);
  // Keys ready to be handed out (waiting keys not counted until their time has come).
  size_t Len() EXCLUDES(mu_);
  // Keys parked by AddAfter whose time has not come.
  size_t NumWaiting() EXCLUDES(mu_);

 private:
  struct Waiting {
    k8s::MonoTime ready_at;
    uint64_t seq;  // FIFO among equal times
    std::string key;
    bool operator>(const Waiting& o) const {
      return ready_at != o.ready_at ? ready_at > o.ready_at : seq > o.seq;
    }
  };

  void AddLocked(const std::string& key) REQUIRES(mu_);
  void PromoteDueLocked() REQUIRES(mu_);
  std::chrono::nanoseconds IdleWaitLocked() REQUIRES(mu_);
  void UpdateDepthLocked() REQUIRES(mu_);

  // Constant after construction.
  const k8s::Clock& clock_;
  const WorkQueueOptions options_;

  mutable k8s::Mutex mu_;
  k8s::CondVar cond_;
  std::deque<std::string> queue_ GUARDED_BY(mu_);
  std::unordered_set<std::string> dirty_ GUARDED_BY(mu_);
  std::unordered_set<std::string> processing_ GUARDED_BY(mu_);
  std::unordered_map<std::string, k8s::MonoTime> added_at_ GUARDED_BY(mu_);
  std::unordered_map<std::string, k8s::MonoTime> started_at_ GUARDED_BY(mu_);
  // The waiting heap; waiting_at_ holds each key's current time, so stale heap entries (a key
  // whose time was moved earlier) are skipped when popped.
  std::priority_queue<Waiting, std::vector<Waiting>, std::greater<>> waiting_ GUARDED_BY(mu_);
  std::unordered_map<std::string, k8s::MonoTime> waiting_at_ GUARDED_BY(mu_);
  uint64_t next_seq_ GUARDED_BY(mu_) = 0;
  bool shutting_down_ GUARDED_BY(mu_) = false;
};

}  // namespace stepline::controller
