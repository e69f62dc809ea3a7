// Retry decisions (SageMaker StepRetryPolicy semantics, Metaflow @retry), on a normalized view
// of a step's retryPolicy. Pure: time comes in as arguments.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "k8sclient/clock.h"
#include "reconcilers/attempt.h"

namespace stepline::reconcilers {

// A step's retryPolicy with the design's defaults applied.
struct RetrySettings {
  bool has_policy = false;      // false: one attempt (plus disruption retries)
  int max_attempts = 1;         // counts all attempts
  double interval_seconds = 1;  // wait before attempt 2
  double backoff_rate = 2;      // wait before attempt n+1: interval * rate^(n-1)
  std::optional<double> max_interval_seconds;
  std::optional<int> expire_after_minutes;  // no new attempt after this, from the first attempt
  std::vector<FailureClass> retry_on;       // default with a policy: Error, OOMKilled,
                                            // Disrupted, DeadlineExceeded
};

// Disrupted attempts are the platform's fault: retried this many times even without a policy
// (and beyond maxAttempts with one).
inline constexpr int kDisruptionRetries = 3;

// The wait before attempt failed_attempt + 1 (failed_attempt counts from 1).
std::chrono::milliseconds RetryDelay(const RetrySettings& s, int failed_attempt);

struct RetryDecision {
  bool retry = false;
  std::chrono::milliseconds delay{0};
  std::string why;  // "attempt 1 of 3 failed (OOMKilled); retrying in 30s" or why not
};

struct FailedAttempt {
  int attempt = 1;  // the attempt that failed, from 1
  FailureClass failure = FailureClass::kError;
  int disruptions_so_far = 0;  // Disrupted attempts before this one
  k8s::WallTime first_attempt_start;
  k8s::WallTime now;
  // When it failed; the next attempt is due at failed_at + delay. Unset: now.
  std::optional<k8s::WallTime> failed_at;
};

RetryDecision DecideRetry(const RetrySettings& s, const FailedAttempt& f);

// QuotaExceeded is a wait: 10 s doubling to 5 min (waits counts from 0).
std::chrono::milliseconds QuotaBackoff(int waits);

// "30s", "2m", "1m30s", "1h2m": for messages.
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace stepline::reconcilers
