#include "k8sclient/rate_limiter.h"

#include <algorithm>
#include <thread>

namespace stepline::k8s {

bool ClockSleeper::SleepFor(std::chrono::nanoseconds d, const std::atomic<bool>* cancel) {
  const MonoTime deadline = clock_.MonotonicNow() + d;
  constexpr auto kSlice = std::chrono::milliseconds(50);
  while (true) {
    if (cancel != nullptr && cancel->load()) return false;
    MonoTime now = clock_.MonotonicNow();
    if (now >= deadline) return true;
    // Never sleep past the deadline on a real clock; a fake clock is polled every slice.
    auto remaining = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(remaining, kSlice));
  }
}

TokenBucketRateLimiter::TokenBucketRateLimiter(double qps, int burst, const Clock& clock,
                                               Sleeper& sleeper)
    : qps_(qps),
      burst_(std::max(1, burst)),
      clock_(clock),
      sleeper_(sleeper),
      tokens_(std::max(1, burst)),
      last_(clock.MonotonicNow()) {}

void TokenBucketRateLimiter::RefillLocked(MonoTime now) {
  if (now <= last_) return;
  std::chrono::duration<double> elapsed = now - last_;
  tokens_ = std::min(burst_, tokens_ + elapsed.count() * qps_);
  last_ = now;
}

bool TokenBucketRateLimiter::TryAccept() {
  if (qps_ <= 0) return true;
  MutexLock lock(mu_);
  RefillLocked(clock_.MonotonicNow());
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

Status TokenBucketRateLimiter::Wait(const std::atomic<bool>* cancel) {
  if (qps_ <= 0) return Status::Ok();
  std::chrono::duration<double> wait{0};
  {
    MutexLock lock(mu_);
    RefillLocked(clock_.MonotonicNow());
    tokens_ -= 1;  // reserve
    if (tokens_ >= 0) return Status::Ok();
    wait = std::chrono::duration<double>(-tokens_ / qps_);
  }
  if (sleeper_.SleepFor(std::chrono::duration_cast<std::chrono::nanoseconds>(wait), cancel)) {
    return Status::Ok();
  }
  MutexLock lock(mu_);
  tokens_ = std::min(burst_, tokens_ + 1);  // give the reservation back
  return Status::Cancelled("cancelled while waiting for the client-side rate limiter");
}

}  // namespace stepline::k8s
