// RecordingSleeper: a k8s::Sleeper for the client's unit tests (rate limits, retries).
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <vector>

#include "k8sclient/clock.h"
#include "k8sclient/rate_limiter.h"

namespace stepline::fakes {

// A Sleeper that does not sleep: it records each wait and advances the fake clock by it.
// Thread-safe.
class RecordingSleeper final : public k8s::Sleeper {
 public:
  explicit RecordingSleeper(k8s::FakeClock& clock) : clock_(clock) {}
  bool SleepFor(std::chrono::nanoseconds d, const std::atomic<bool>* cancel) override {
    if (cancel != nullptr && cancel->load()) return false;
    {
      std::lock_guard lock(mu_);
      waits_.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(d));
    }
    clock_.Advance(d);
    return true;
  }
  std::vector<std::chrono::milliseconds> waits() const {
    std::lock_guard lock(mu_);
    return waits_;
  }

 private:
  k8s::FakeClock& clock_;
  mutable std::mutex mu_;
  std::vector<std::chrono::milliseconds> waits_;
};

}  // namespace stepline::fakes
