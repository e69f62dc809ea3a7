#include "controller/reconcile_loop.h"

#include <exception>

#include "controller/log.h"

namespace stepline::controller {

namespace {

std::shared_ptr<spdlog::logger> Log() {
  static auto logger = NamedLogger("manager");
  return logger;
}

std::vector<double> QueueBuckets() { return metrics::ExponentialBuckets(1e-4, 4, 12); }

std::vector<double> ReconcileBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

}  // namespace

namespace {

metrics::ScalarFamily& DepthFamily(metrics::Registry& r) {
  return r.Gauge("stepline_workqueue_depth", "Keys waiting in the work queue.", {"name"});
}
metrics::ScalarFamily& AddsFamily(metrics::Registry& r) {
  return r.Counter("stepline_workqueue_adds_total", "Keys added to the work queue.", {"name"});
}
metrics::ScalarFamily& RetriesFamily(metrics::Registry& r) {
  return r.Counter("stepline_workqueue_retries_total",
                   "Rate-limited requeues (retries after an error).", {"name"});
}
metrics::HistogramFamily& QueueLatencyFamily(metrics::Registry& r) {
  return r.Histogram("stepline_workqueue_queue_duration_seconds",
                     "Time a key waits in the queue before a worker takes it.", {"name"},
                     QueueBuckets());
}
metrics::HistogramFamily& WorkDurationFamily(metrics::Registry& r) {
  return r.Histogram("stepline_workqueue_work_duration_seconds", "Time a worker holds a key.",
                     {"name"}, QueueBuckets());
}
metrics::ScalarFamily& ReconcilesFamily(metrics::Registry& r) {
  return r.Counter("stepline_reconcile_total",
                   "Reconciles by controller and result (success, error, requeue_after, "
                   "dropped).",
                   {"controller", "result"});
}
metrics::ScalarFamily& ErrorsFamily(metrics::Registry& r) {
  return r.Counter("stepline_reconcile_errors_total", "Reconciles that returned an error.",
                   {"controller"});
}
metrics::HistogramFamily& DurationFamily(metrics::Registry& r) {
  return r.Histogram("stepline_reconcile_duration_seconds", "Time per reconcile.", {"controller"},
                     ReconcileBuckets());
}

}  // namespace

void RegisterReconcileMetricFamilies(metrics::Registry& r) {
  DepthFamily(r);
  AddsFamily(r);
  RetriesFamily(r);
  QueueLatencyFamily(r);
  WorkDurationFamily(r);
  ReconcilesFamily(r);
  ErrorsFamily(r);
  DurationFamily(r);
}

RegistryQueueMetrics::RegistryQueueMetrics(metrics::Registry& registry, std::string name)
    : labels_({std::move(name)}),
      depth_(DepthFamily(registry)),
      adds_(AddsFamily(registry)),
      retries_(RetriesFamily(registry)),
      latency_(QueueLatencyFamily(registry)),
      work_(WorkDurationFamily(registry)) {
  depth_.Set(labels_, 0);
  adds_.Inc(labels_, 0);
  retries_.Inc(labels_, 0);
}

void RegistryQueueMetrics::SetDepth(int64_t depth) {
  depth_.Set(labels_, static_cast<double>(depth));
}
void RegistryQueueMetrics::Added() { adds_.Inc(labels_); }
void RegistryQueueMetrics::Retried() { retries_.Inc(labels_); }
void RegistryQueueMetrics::ObserveQueueLatency(double s) { latency_.Observe(labels_, s); }
void RegistryQueueMetrics::ObserveWorkDuration(double s) { work_.Observe(labels_, s); }

ReconcileLoop::ReconcileLoop(Reconciler& reconciler, const k8s::Clock& clock,
                             metrics::Registry& registry, WorkQueueOptions queue_options)
    : reconciler_(reconciler),
      clock_(clock),
      labels_({reconciler.Name()}),
      queue_metrics_(registry, reconciler.Name()),
      queue_(clock,
             [&] {
               queue_options.name = reconciler.Name();
               queue_options.metrics = &queue_metrics_;
               return std::move(queue_options);
             }()),
      reconciles_(ReconcilesFamily(registry)),
      errors_(ErrorsFamily(registry)),
      duration_(DurationFamily(registry)) {
  errors_.Inc(labels_, 0);
}

ReconcileLoop::~ReconcileLoop() {
  ShutDown();
  Join();
}

void ReconcileLoop::Start(int workers) {
  for (int i = 0; i < workers; ++i) {
    workers_.emplace_back([this] {
      while (ProcessNext()) {
      }
    });
  }
  Log()->info("controller started controller={} workers={}", name(), workers);
}

void ReconcileLoop::Join() {
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

bool ReconcileLoop::ProcessNext() {
  std::optional<std::string> key = queue_.Get();
  if (!key) return false;
  const k8s::MonoTime start = clock_.MonotonicNow();
  const ReconcileOutcome outcome = ReconcileSafely(*key);
  duration_.Observe(labels_, std::chrono::duration<double>(clock_.MonotonicNow() - start).count());
  HandleOutcome(*key, outcome);
  queue_.Done(*key);
  return true;
}

ReconcileOutcome ReconcileLoop::ReconcileSafely(const std::string& key) {
  try {
    return reconciler_.Reconcile(key);
  } catch (const std::exception& e) {
    // A reconciler must not throw; if one does, the key is retried rather than the process lost.
    return ReconcileOutcome::Retry(
        k8s::Status::Internal(std::string("reconciler threw: ") + e.what()));
  }
}

void ReconcileLoop::HandleOutcome(const std::string& key, const ReconcileOutcome& outcome) {
  const std::string& ctrl = name();
  if (!outcome.status.ok()) {
    errors_.Inc(labels_);
    if (outcome.terminal) {
      Log()->warn("reconcile failed, not retrying controller={} key={} err={}", ctrl, key,
                  outcome.status.ToString());
      queue_.Forget(key);
      reconciles_.Inc({ctrl, "dropped"});
      return;
    }
    Log()->info("reconcile failed, retrying controller={} key={} requeues={} err={}", ctrl, key,
                queue_.NumRequeues(key), outcome.status.ToString());
    queue_.AddRateLimited(key);
    reconciles_.Inc({ctrl, "error"});
    return;
  }
  queue_.Forget(key);
  // A reconcile reads the whole state, so its answer replaces any wake-up an earlier one asked
  // for (a retry, a requeue-after): a step that finished before its "show Running" wake-up
  // costs no extra reconcile.
  queue_.CancelWaiting(key);
  if (outcome.requeue_after.count() > 0) {
    Log()->debug("requeue controller={} key={} after_ms={}", ctrl, key,
                 outcome.requeue_after.count());
    queue_.AddAfter(key, outcome.requeue_after);
    reconciles_.Inc({ctrl, "requeue_after"});
    return;
  }
  reconciles_.Inc({ctrl, "success"});
}

}  // namespace stepline::controller
