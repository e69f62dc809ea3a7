#include "reconcilers/retry.h"

#include <algorithm>
#include <cmath>

namespace stepline::reconcilers {

using std::chrono::milliseconds;

milliseconds RetryDelay(const RetrySettings& s, int failed_attempt) {
  double seconds = s.interval_seconds * std::pow(s.backoff_rate, std::max(0, failed_attempt - 1));
  if (s.max_interval_seconds) seconds = std::min(seconds, *s.max_interval_seconds);
  seconds = std::clamp(seconds, 0.0, 365.0 * 24 * 3600);  // bounded however large the rate
  return milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

namespace {

bool Listed(const RetrySettings& s, FailureClass c) {
  return std::find(s.retry_on.begin(), s.retry_on.end(), c) != s.retry_on.end();
}

std::string Describe(const RetrySettings& s, const FailedAttempt& f) {
  std::string out = "attempt " + std::to_string(f.attempt);
  if (s.has_policy) out += " of " + std::to_string(s.max_attempts);
  return out + " failed (" + FailureClassName(f.failure) + ")";
}

}  // namespace

RetryDecision DecideRetry(const RetrySettings& s, const FailedAttempt& f) {
  RetryDecision d;
  std::string what = Describe(s, f);
  bool by_policy = s.has_policy && Listed(s, f.failure) && f.attempt < s.max_attempts;
  bool by_disruption =
      f.failure == FailureClass::kDisrupted && f.disruptions_so_far < kDisruptionRetries;
  if (!by_policy && !by_disruption) {
    if (s.has_policy && !Listed(s, f.failure)) {
      d.why = what + "; " + FailureClassName(f.failure) + " is not in retryOn";
    } else {
      d.why = what + "; no attempts left";
    }
    return d;
  }
  d.delay = by_policy ? RetryDelay(s, f.attempt) : milliseconds(0);
  if (s.expire_after_minutes) {
    // No new attempt starts after the window: not when it is due, nor later if it is late.
    auto deadline = f.first_attempt_start + std::chrono::minutes(*s.expire_after_minutes);
    auto starts = std::max(f.failed_at.value_or(f.now) + d.delay, f.now);
    if (starts > deadline) {
      d.why = what + "; the retry window of " + std::to_string(*s.expire_after_minutes) +
              "m has expired";
      return d;
    }
  }
  d.retry = true;
  d.why = what + "; retrying in " + FormatDuration(d.delay);
  return d;
}

milliseconds QuotaBackoff(int waits) {
  constexpr int64_t kStartMs = 10'000, kCapMs = 300'000;
  int64_t ms = kStartMs;
  for (int i = 0; i < waits && ms < kCapMs; ++i) ms *= 2;
  return milliseconds(std::min(ms, kCapMs));
}

std::string FormatDuration(milliseconds d) {
  int64_t total = (d.count() + 999) / 1000;  // whole seconds, rounded up
  if (total < 60) return std::to_string(total) + "s";
  int64_t h = total / 3600, m = (total % 3600) / 60, sec = total % 60;
  std::string out;
  if (h > 0) out += std::to_string(h) + "h";
  if (m > 0) out += std::to_string(m) + "m";
  if (sec > 0) out += std::to_string(sec) + "s";
  return out;
}

}  // namespace stepline::reconcilers
