#include "controller/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace stepline::controller {

Duration ItemExponentialRateLimiter::When(const std::string& key) {
  int failures;
  {
    k8s::MutexLock lock(mu_);
    failures = failures_[key]++;
  }
  // 2^62 ns is far past any cap; stop doubling long before overflow.
  if (failures >= 62) return max_delay_;
  const double delay = static_cast<double>(base_.count()) * std::ldexp(1.0, failures);
  if (delay >= static_cast<double>(max_delay_.count())) return max_delay_;
  return Duration(static_cast<Duration::rep>(delay));
}

void ItemExponentialRateLimiter::Forget(const std::string& key) {
  k8s::MutexLock lock(mu_);
  failures_.erase(key);
}

int ItemExponentialRateLimiter::NumRequeues(const std::string& key) {
  k8s::MutexLock lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

BucketRateLimiter::BucketRateLimiter(double qps, int burst, const k8s::Clock& clock)
    : qps_(qps), burst_(burst), clock_(clock), tokens_(burst), last_(clock.MonotonicNow()) {}

Duration BucketRateLimiter::When(const std::string&) {
  k8s::MutexLock lock(mu_);
  const k8s::MonoTime now = clock_.MonotonicNow();
  if (now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * qps_);
    last_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0) return Duration::zero();
  const double wait_seconds = -tokens_ / qps_;
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(wait_seconds));
}

Duration MaxOfRateLimiter::When(const std::string& key) {
  Duration longest = Duration::zero();
  for (const auto& limiter : limiters_) longest = std::max(longest, limiter->When(key));
  return longest;
}

void MaxOfRateLimiter::Forget(const std::string& key) {
  for (const auto& limiter : limiters_) limiter->Forget(key);
}

int MaxOfRateLimiter::NumRequeues(const std::string& key) {
  int most = 0;
  for (const auto& limiter : limiters_) most = std::max(most, limiter->NumRequeues(key));
  return most;
}

std::unique_ptr<RateLimiter> DefaultControllerRateLimiter(const k8s::Clock& clock) {
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  limiters.push_back(std::make_unique<ItemExponentialRateLimiter>(std::chrono::milliseconds(5),
                                                                  std::chrono::seconds(1000)));
  limiters.push_back(std::make_unique<BucketRateLimiter>(10.0, 100, clock));
  return std::make_unique<MaxOfRateLimiter>(std::move(limiters));
}

}  // namespace stepline::controller
