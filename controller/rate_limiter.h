// Rate limiters for the work queue: how long a key waits before its next retry. The same
// shapes as client-go's workqueue rate limiters, driven by an injected k8s::Clock.
//
// Thread-safety: every limiter here is safe to call from any thread (each guards its state with
// its own mu_; GUARDED_BY is checked by clang's -Wthread-safety, CTest thread_safety_check).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "k8sclient/clock.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::controller {

using Duration = std::chrono::nanoseconds;

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // How long key should wait before it is processed again; records one more failure.
  virtual Duration When(const std::string& key) = 0;
  // Forgets key's failures (after a success).
  virtual void Forget(const std::string& key) = 0;
  // How many failures key has recorded since it was last forgotten.
  virtual int NumRequeues(const std::string& key) = 0;
};

// base * 2^(failures-1), capped at max_delay: 5ms, 10ms, 20ms, ... 1000s with the defaults.
class ItemExponentialRateLimiter final : public RateLimiter {
 public:
  ItemExponentialRateLimiter(Duration base, Duration max_delay)
      : base_(base), max_delay_(max_delay) {}
  Duration When(const std::string& key) override EXCLUDES(mu_);
  void Forget(const std::string& key) override EXCLUDES(mu_);
  int NumRequeues(const std::string& key) override EXCLUDES(mu_);

 private:
  const Duration base_;
  const Duration max_delay_;
  k8s::Mutex mu_;
  std::map<std::string, int> failures_ GUARDED_BY(mu_);
};

// A token bucket over all keys (golang.org/x/time/rate): `burst` retries pass at once, then one
// every 1/qps; When() reserves a token and returns how long until it is available.
class BucketRateLimiter final : public RateLimiter {
 public:
  BucketRateLimiter(double qps, int burst, const k8s::Clock& clock);
  Duration When(const std::string& key) override EXCLUDES(mu_);
  void Forget(const std::string&) override {}
  int NumRequeues(const std::string&) override { return 0; }

 private:
  const double qps_;
  const double burst_;
  const k8s::Clock& clock_;
  k8s::Mutex mu_;
  double tokens_ GUARDED_BY(mu_);       // negative when reservations are outstanding
  k8s::MonoTime last_ GUARDED_BY(mu_);  // when tokens_ was last brought up to date
};

// The longest wait of its limiters; NumRequeues is the largest of theirs.
class MaxOfRateLimiter final : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters)
      : limiters_(std::move(limiters)) {}
  Duration When(const std::string& key) override;
  void Forget(const std::string& key) override;
  int NumRequeues(const std::string& key) override;

 private:
  const std::vector<std::unique_ptr<RateLimiter>> limiters_;  // each is thread-safe
};

// client-go's DefaultControllerRateLimiter: per key 5ms doubling to 1000s, overall 10 qps with
// a burst of 100.
std::unique_ptr<RateLimiter> DefaultControllerRateLimiter(const k8s::Clock& clock);

}  // namespace stepline::controller
