// Clock: the one source of time. Wall time for timestamps (lastTransitionTime, startTime),
// monotonic time for intervals (backoff, rate limits, lease renewals). Code that waits or
// stamps takes a Clock& so that tests can step a FakeClock instead of sleeping.
//
// RealClock is stateless and thread-safe. FakeClock is thread-safe (its times are GUARDED_BY mu_).
#pragma once

#include <chrono>
#include <string>

#include "k8sclient/thread_annotations.h"

namespace stepline::k8s {

using WallTime = std::chrono::system_clock::time_point;
using MonoTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual WallTime Now() const = 0;
  virtual MonoTime MonotonicNow() const = 0;
};

class RealClock final : public Clock {
 public:
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  MonoTime MonotonicNow() const override { return std::chrono::steady_clock::now(); }
};

// A clock that moves only when told. Advance() moves wall and monotonic time together.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(WallTime start = WallTime{std::chrono::seconds(1'700'000'000)})
      : wall_(start) {}

  WallTime Now() const override EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return wall_;
  }
  MonoTime MonotonicNow() const override EXCLUDES(mu_) {
    MutexLock lock(mu_);
    return mono_;
  }
  void Advance(std::chrono::nanoseconds d) EXCLUDES(mu_) {
    MutexLock lock(mu_);
    wall_ += std::chrono::duration_cast<WallTime::duration>(d);
    mono_ += std::chrono::duration_cast<MonoTime::duration>(d);
  }

 private:
  mutable Mutex mu_;
  WallTime wall_ GUARDED_BY(mu_);
  MonoTime mono_ GUARDED_BY(mu_){};
};

// RFC 3339 with second precision in UTC ("2026-11-22T14:20:55Z"), the form metav1.Time uses.
std::string FormatRfc3339(WallTime t);
// Parses RFC 3339 ("...Z", fractional seconds and numeric offsets accepted). False on error.
bool ParseRfc3339(const std::string& text, WallTime* out);

}  // namespace stepline::k8s
