// SyncLoop: a work queue of keys drained by worker threads, with one place that decides what
// happens to a key after its sync (client-go's processNextWorkItem):
//   kDone  -> forget its backoff;      kRetry -> requeue with its rate-limited backoff;
//   kAfter -> forget, requeue after the given delay.
// A key is never synced by two workers at once; repeated adds collapse into one.
//
// Thread-safety: Add/AddAfter/AddRateLimited from any thread; Start and Stop from the owning
// thread. The sync function runs on the worker threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "controller/workqueue.h"
#include "k8sclient/clock.h"

namespace stepline::localagent {

struct SyncOutcome {
  enum class Kind { kDone, kRetry, kAfter };
  Kind kind = Kind::kDone;
  std::chrono::milliseconds after{0};

  static SyncOutcome Done() { return {}; }
  static SyncOutcome Retry() { return {Kind::kRetry, {}}; }
  static SyncOutcome After(std::chrono::milliseconds d) { return {Kind::kAfter, d}; }
};

class SyncLoop {
 public:
  using SyncFn = std::function<SyncOutcome(const std::string& key)>;

  // limiter: nullptr for client-go's default controller rate limiter.
  SyncLoop(std::string name, const k8s::Clock& clock, SyncFn sync,
           std::unique_ptr<controller::RateLimiter> limiter = nullptr);
  ~SyncLoop();
  SyncLoop(const SyncLoop&) = delete;
  SyncLoop& operator=(const SyncLoop&) = delete;

  void Add(const std::string& key) { queue_.Add(key); }
  void AddAfter(const std::string& key, std::chrono::milliseconds delay) {
    queue_.AddAfter(key, delay);
  }
  void Start(int workers);
  void Stop();

 private:
  void Work();

  const std::string name_;
  const SyncFn sync_;
  controller::WorkQueue queue_;
  std::vector<std::thread> workers_;
};

}  // namespace stepline::localagent
