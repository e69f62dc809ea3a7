// ReconcileLoop: one registered reconciler with its work queue and workers. The one place that
// decides what happens after a reconcile (controller/reconciler.h, controller-runtime's
// reconcileHandler):
//   error, not terminal -> AddRateLimited (per-key backoff under the overall bucket);
//   error, terminal     -> log, Forget, drop (a later change re-enqueues the key);
//   requeue_after > 0   -> Forget, AddAfter(requeue_after);
//   success             -> Forget.
// A successful outcome replaces the key's earlier wake-up (CancelWaiting): the newest
// reconcile saw the newest state, so its requeue_after (or none) is the one that counts.
// Records stepline_reconcile_total{controller,result}, stepline_reconcile_errors_total and
// stepline_reconcile_duration_seconds per controller, and the queue's metrics.
//
// Thread-safety: Enqueue from any thread (event handlers); Start/ShutDown/Join from the
// manager's thread. The queue is thread-safe; the rest is constant after construction.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "controller/metrics.h"
#include "controller/reconciler.h"
#include "controller/workqueue.h"
#include "k8sclient/clock.h"

namespace stepline::controller {

// Registers the work queue and reconcile metric families, so that /metrics lists them even
// before (or without) any controller.
void RegisterReconcileMetricFamilies(metrics::Registry& registry);

// WorkQueueMetrics onto the registry, labelled name=<queue name>.
class RegistryQueueMetrics final : public WorkQueueMetrics {
 public:
  RegistryQueueMetrics(metrics::Registry& registry, std::string name);
  void SetDepth(int64_t depth) override;
  void Added() override;
  void Retried() override;
  void ObserveQueueLatency(double seconds) override;
  void ObserveWorkDuration(double seconds) override;

 private:
  const metrics::LabelValues labels_;
  metrics::ScalarFamily& depth_;
  metrics::ScalarFamily& adds_;
  metrics::ScalarFamily& retries_;
  metrics::HistogramFamily& latency_;
  metrics::HistogramFamily& work_;
};

class ReconcileLoop {
 public:
  // reconciler, clock and registry must outlive the loop.
  ReconcileLoop(Reconciler& reconciler, const k8s::Clock& clock, metrics::Registry& registry,
                WorkQueueOptions queue_options = {});
  ~ReconcileLoop();

  const std::string& name() const { return reconciler_.Name(); }
  void Enqueue(const std::string& key) { queue_.Add(key); }
  WorkQueue& queue() { return queue_; }

  void Start(int workers);
  // Stops handing out keys (a reconcile in flight finishes); Join waits for the workers.
  void ShutDown() { queue_.ShutDown(); }
  void Join();

  // Takes one key, reconciles it and decides what follows. False when the queue shut down.
  bool ProcessNext();

 private:
  void HandleOutcome(const std::string& key, const ReconcileOutcome& outcome);
  ReconcileOutcome ReconcileSafely(const std::string& key);

  Reconciler& reconciler_;
  const k8s::Clock& clock_;
  const metrics::LabelValues labels_;
  RegistryQueueMetrics queue_metrics_;
  WorkQueue queue_;
  metrics::ScalarFamily& reconciles_;
  metrics::ScalarFamily& errors_;
  metrics::HistogramFamily& duration_;
  std::vector<std::thread> workers_;  // the manager's thread only
};

}  // namespace stepline::controller
