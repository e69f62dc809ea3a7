#include "controller/dispatch_latency.h"

#include "k8sclient/job_state.h"

namespace stepline::controller {

namespace {

// 0.25 ms to about 8 s, doubling: the target (20 ms) falls between two buckets' bounds.
std::vector<double> LatencyBuckets() { return metrics::ExponentialBuckets(0.00025, 2, 16); }

}  // namespace

bool JobIsFinished(const k8s::Object& job) {
  return k8s::OutcomeDecided(k8s::ClassifyJob(job));  // when the planner takes it as finished
}

DispatchLatency::DispatchLatency(const k8s::Clock& clock, metrics::Registry& registry)
    : clock_(clock),
      latency_(registry.Histogram(
          "stepline_dispatch_latency_seconds",
          "From the Job informer event showing a Job of an execution finished to the return of "
          "each Job create of that execution that followed it.",
          {}, LatencyBuckets())) {}

void DispatchLatency::OnJobUpdate(const std::string& owner_key, const k8s::Object& old_job,
                                  const k8s::Object& new_job) {
  if (JobIsFinished(old_job) || !JobIsFinished(new_job)) return;
  const k8s::MonoTime now = clock_.MonotonicNow();
  std::lock_guard lock(mu_);
  pending_[owner_key] = now;
}

std::optional<k8s::MonoTime> DispatchLatency::PendingFinish(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(key);
  if (it == pending_.end()) return std::nullopt;
  return it->second;
}

void DispatchLatency::JobCreated(const std::string& /*key*/, k8s::MonoTime since) {
  latency_.Observe({}, std::chrono::duration<double>(clock_.MonotonicNow() - since).count());
}

void DispatchLatency::Dispatched(const std::string& key, k8s::MonoTime since) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(key);
  if (it != pending_.end() && it->second == since) pending_.erase(it);
}

void DispatchLatency::Forget(const std::string& key) {
  std::lock_guard lock(mu_);
  pending_.erase(key);
}

}  // namespace stepline::controller
