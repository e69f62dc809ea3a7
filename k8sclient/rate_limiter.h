// Waiting, client-side rate limiting and retry timing. Everything here reads time through a
// Clock and waits through a Sleeper, so unit tests step a FakeClock instead of sleeping.
#pragma once

#include <atomic>
#include <chrono>

#include "k8sclient/clock.h"
#include "k8sclient/status.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::k8s {

// Blocks the calling thread for a while. Implementations are thread-safe.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  // Waits d (measured on the implementation's clock) or until *cancel becomes true (checked at
  // least every 100 ms when given). False when cancelled.
  virtual bool SleepFor(std::chrono::nanoseconds d, const std::atomic<bool>* cancel) = 0;
};

// Waits by watching a Clock in short real-time slices: with a RealClock it is an ordinary
// sleep; with a FakeClock it returns once another thread has advanced the clock far enough.
// Stateless apart from the clock reference; thread-safe.
class ClockSleeper final : public Sleeper {
 public:
  explicit ClockSleeper(const Clock& clock) : clock_(clock) {}
  bool SleepFor(std::chrono::nanoseconds d, const std::atomic<bool>* cancel) override;

 private:
  const Clock& clock_;
};

// Admits requests at a steady rate. Thread-safe.
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // Blocks until the caller may send one request. kCancelled when *cancel turned true first.
  virtual Status Wait(const std::atomic<bool>* cancel) = 0;
};

// A token bucket: `burst` requests at once, then `qps` per second (client-go's default limiter).
// Waiters reserve their token on arrival, so concurrent callers are served in turn.
// Thread-safe: the state is GUARDED_BY mu_. qps <= 0 means unlimited.
class TokenBucketRateLimiter final : public RateLimiter {
 public:
  // clock and sleeper must outlive the limiter.
  TokenBucketRateLimiter(double qps, int burst, const Clock& clock, Sleeper& sleeper);
  Status Wait(const std::atomic<bool>* cancel) override EXCLUDES(mu_);
  // Takes a token if one is available now, without waiting.
  bool TryAccept() EXCLUDES(mu_);

 private:
  void RefillLocked(MonoTime now) REQUIRES(mu_);

  // Constant after construction.
  const double qps_;
  const double burst_;
  const Clock& clock_;
  Sleeper& sleeper_;

  Mutex mu_;
  double tokens_ GUARDED_BY(mu_);  // negative while callers hold reservations
  MonoTime last_ GUARDED_BY(mu_){};
};

}  // namespace stepline::k8s
