// SyncLoop: one of the agent's controllers on the controller's own reconcile loop
// (controller/reconcile_loop.h): a work queue of keys drained by worker threads, a key never
// synced by two workers at once, repeated adds collapsed into one, and the one place that
// decides what follows a sync:
//   Done            -> forget its backoff (and any wake-up an earlier sync asked for);
//   Retry(status)   -> requeue with its rate-limited backoff, the status logged;
//   After(d)        -> forget, requeue after d.
// The agent keeps the loop's metrics in a registry of its own, which nothing serves.
//
// Thread-safety: Add from any thread; Start and Stop from the owning thread. The sync
// function runs on the worker threads.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "controller/metrics.h"
#include "controller/rate_limiter.h"
#include "controller/reconcile_loop.h"
#include "controller/reconciler.h"
#include "k8sclient/clock.h"

namespace stepline::localagent {

using SyncOutcome = controller::ReconcileOutcome;

class SyncLoop final : private controller::Reconciler {
 public:
  using SyncFn = std::function<SyncOutcome(const std::string& key)>;

  // limiter: nullptr for client-go's default controller rate limiter.
  SyncLoop(std::string name, const k8s::Clock& clock, SyncFn sync,
           std::unique_ptr<controller::RateLimiter> limiter = nullptr);
  ~SyncLoop() override;
  SyncLoop(const SyncLoop&) = delete;
  SyncLoop& operator=(const SyncLoop&) = delete;

  void Add(const std::string& key) { loop_.Enqueue(key); }
  void Start(int workers) { loop_.Start(workers); }
  void Stop();

 private:
  const std::string& Name() const override { return name_; }
  SyncOutcome Reconcile(const std::string& key) override { return sync_(key); }

  const std::string name_;
  const SyncFn sync_;
  controller::metrics::Registry registry_;
  controller::ReconcileLoop loop_;  // last: its workers stop before the rest goes
};

}  // namespace stepline::localagent
