// RecordingSleeper: a k8s::Sleeper for the client's unit tests (rate limits, retries).
#pragma once

#include <atomic>
#include <chrono>
#include <vector>

#include "k8sclient/clock.h"
#include "k8sclient/rate_limiter.h"
#include "k8sclient/thread_annotations.h"

namespace stepline::fakes {

// A Sleeper that does not sleep: it records each wait and advances the fake clock by it.
// Thread-safe (the waits are GUARDED_BY mu_).
class RecordingSleeper final : public k8s::Sleeper {
 public:
  explicit RecordingSleeper(k8s::FakeClock& clock) : clock_(clock) {}
  bool SleepFor(std::chrono::nanoseconds d, const std::atomic<bool>* cancel) override {
    if (cancel != nullptr && cancel->load()) return false;
    {
      k8s::MutexLock lock(mu_);
      waits_.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(d));
    }
    clock_.Advance(d);
    return true;
  }
  std::vector<std::chrono::milliseconds> waits() const {
    k8s::MutexLock lock(mu_);
    return waits_;
  }

 private:
  k8s::FakeClock& clock_;
  mutable k8s::Mutex mu_;
  std::vector<std::chrono::milliseconds> waits_ GUARDED_BY(mu_);
};

}  // namespace stepline::fakes
