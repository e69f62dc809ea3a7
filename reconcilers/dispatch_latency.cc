#include "reconcilers/dispatch_latency.h"

#include "k8sclient/job_state.h"

namespace stepline::reconcilers {

namespace {

// When the planner takes a Job as finished and may start what follows it.
bool Decided(const k8s::Object& job) { return k8s::OutcomeDecided(k8s::ClassifyJob(job)); }

}  // namespace

void DispatchLatency::OnJobUpdate(const std::string& owner_key, const k8s::Object& old_job,
                                  const k8s::Object& new_job) {
  if (Decided(old_job) || !Decided(new_job)) return;
  const k8s::MonoTime now = clock_.MonotonicNow();
  k8s::MutexLock lock(mu_);
  pending_[owner_key] = now;
}

std::optional<k8s::MonoTime> DispatchLatency::PendingFinish(const std::string& key) {
  k8s::MutexLock lock(mu_);
  auto it = pending_.find(key);
  if (it == pending_.end()) return std::nullopt;
  return it->second;
}

void DispatchLatency::JobRequestSending(const std::string& /*key*/, k8s::MonoTime since) {
  if (controller_part_) {
    controller_part_(std::chrono::duration<double>(clock_.MonotonicNow() - since).count());
  }
}

void DispatchLatency::JobCreated(const std::string& /*key*/, k8s::MonoTime since) {
  if (sink_) sink_(std::chrono::duration<double>(clock_.MonotonicNow() - since).count());
}

void DispatchLatency::Dispatched(const std::string& key, k8s::MonoTime since) {
  k8s::MutexLock lock(mu_);
  auto it = pending_.find(key);
  if (it != pending_.end() && it->second == since) pending_.erase(it);
}

void DispatchLatency::Forget(const std::string& key) {
  k8s::MutexLock lock(mu_);
  pending_.erase(key);
}

}  // namespace stepline::reconcilers
