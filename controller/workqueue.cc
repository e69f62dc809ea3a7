#include "controller/workqueue.h"

#include <algorithm>

namespace stepline::controller {

namespace {
double SecondsBetween(k8s::MonoTime from, k8s::MonoTime to) {
  return std::chrono::duration<double>(to - from).count();
}
}  // namespace

WorkQueue::WorkQueue(const k8s::Clock& clock, WorkQueueOptions options)
    : clock_(clock), options_([&] {
        if (!options.limiter) options.limiter = DefaultControllerRateLimiter(clock);
        return std::move(options);
      }()) {}

void WorkQueue::Add(const std::string& key) {
  k8s::MutexLock lock(mu_);
  AddLocked(key);
}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_) return;
  if (!dirty_.insert(key).second) return;  // already queued: the adds collapse
  if (options_.metrics) options_.metrics->Added();
  added_at_.emplace(key, clock_.MonotonicNow());
  if (processing_.count(key)) return;  // queued again by Done
  queue_.push_back(key);
  UpdateDepthLocked();
  cond_.Signal();
}

void WorkQueue::AddAfter(const std::string& key, Duration delay) {
  if (delay <= Duration::zero()) return Add(key);
  k8s::MutexLock lock(mu_);
  if (shutting_down_) return;
  const k8s::MonoTime ready_at = clock_.MonotonicNow() + delay;
  auto it = waiting_at_.find(key);
  if (it != waiting_at_.end() && it->second <= ready_at) return;
  waiting_at_[key] = ready_at;
  waiting_.push(Waiting{ready_at, next_seq_++, key});
  cond_.SignalAll();  // a getter may need to wait for an earlier time now
}

void WorkQueue::CancelWaiting(const std::string& key) {
  k8s::MutexLock lock(mu_);
  waiting_at_.erase(key);  // its heap entry is now stale: skipped when popped
}

void WorkQueue::AddRateLimited(const std::string& key) {
  const Duration delay = options_.limiter->When(key);
  {
    k8s::MutexLock lock(mu_);
    if (shutting_down_) return;
    if (options_.metrics) options_.metrics->Retried();
  }
  AddAfter(key, delay);
}

void WorkQueue::Forget(const std::string& key) { options_.limiter->Forget(key); }

int WorkQueue::NumRequeues(const std::string& key) { return options_.limiter->NumRequeues(key); }

void WorkQueue::PromoteDueLocked() {
  const k8s::MonoTime now = clock_.MonotonicNow();
  while (!waiting_.empty() && waiting_.top().ready_at <= now) {
    Waiting w = waiting_.top();
    waiting_.pop();
    auto it = waiting_at_.find(w.key);
    if (it == waiting_at_.end() || it->second != w.ready_at) continue;  // stale entry
    waiting_at_.erase(it);
    AddLocked(w.key);
  }
}

std::chrono::nanoseconds WorkQueue::IdleWaitLocked() {
  const std::chrono::nanoseconds cap = options_.max_idle_wait;
  if (waiting_.empty()) return cap;
  const auto until = waiting_.top().ready_at - clock_.MonotonicNow();
  return std::clamp<std::chrono::nanoseconds>(until, std::chrono::nanoseconds(0), cap);
}

std::optional<std::string> WorkQueue::Get() {
  k8s::MutexLock lock(mu_);
  while (true) {
    if (shutting_down_) return std::nullopt;
    PromoteDueLocked();
    if (!queue_.empty()) break;
    if (waiting_.empty()) {
      cond_.Wait(mu_);
    } else {
      cond_.WaitFor(mu_, IdleWaitLocked());
    }
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  const k8s::MonoTime now = clock_.MonotonicNow();
  if (auto it = added_at_.find(key); it != added_at_.end()) {
    if (options_.metrics) options_.metrics->ObserveQueueLatency(SecondsBetween(it->second, now));
    added_at_.erase(it);
  }
  started_at_[key] = now;
  processing_.insert(key);
  dirty_.erase(key);
  UpdateDepthLocked();
  return key;
}

void WorkQueue::Done(const std::string& key) {
  k8s::MutexLock lock(mu_);
  processing_.erase(key);
  if (auto it = started_at_.find(key); it != started_at_.end()) {
    if (options_.metrics) {
      options_.metrics->ObserveWorkDuration(SecondsBetween(it->second, clock_.MonotonicNow()));
    }
    started_at_.erase(it);
  }
  if (dirty_.count(key) && !shutting_down_) {
    queue_.push_back(key);
    UpdateDepthLocked();
    cond_.Signal();
  }
}

void WorkQueue::ShutDown() {
  k8s::MutexLock lock(mu_);
  shutting_down_ = true;
  cond_.SignalAll();
}

bool WorkQueue::ShuttingDown() const {
  k8s::MutexLock lock(mu_);
  return shutting_down_;
}

size_t WorkQueue::Len() {
  k8s::MutexLock lock(mu_);
  PromoteDueLocked();
  return queue_.size();
}

size_t WorkQueue::NumWaiting() {
  k8s::MutexLock lock(mu_);
  return waiting_at_.size();
}

void WorkQueue::UpdateDepthLocked() {
  if (options_.metrics) options_.metrics->SetDepth(static_cast<int64_t>(queue_.size()));
}

}  // namespace stepline::controller
