// When and how long to wait before retrying a request: 429 and 5xx answers, and transport
// failures, with the server's Retry-After honoured and capped exponential backoff otherwise.
//
// Pure functions plus RunWithRetries, which waits through an injected Sleeper; all thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

#include "k8sclient/rate_limiter.h"
#include "k8sclient/status.h"

namespace stepline::k8s {

// Status::reason() of a transport failure that retrying cannot fix (TLS verification, bad
// client certificate, malformed URL).
inline constexpr std::string_view kReasonPermanentTransport = "PermanentTransportError";

struct RetryPolicy {
  int max_attempts = 5;  // all attempts, the first included
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{8'000};
  std::chrono::seconds max_retry_after{60};  // a longer Retry-After is cut to this
};

// What one attempt produced, as far as retrying is concerned.
struct AttemptOutcome {
  Status status;                           // OK, or why the attempt failed
  std::optional<int> retry_after_seconds;  // the server's Retry-After, when it sent one
};

// The wait before the attempt after `attempt` (1-based), or nullopt when not to retry: the
// status is OK or not retriable, the attempts are used up, or the request is not idempotent
// (a POST) and the failure may have left it applied (only 429 and 503/unreachable are retried
// for those).
std::optional<std::chrono::milliseconds> RetryDelay(const RetryPolicy& policy, int attempt,
                                                    const AttemptOutcome& outcome, bool idempotent);

// The Retry-After header in its delay-seconds form; nullopt when absent or not a number.
std::optional<int> ParseRetryAfter(std::string_view header);

// Calls attempt(n) for n = 1, 2, ... until RetryDelay says stop, sleeping in between.
// Returns the last attempt's status, or kCancelled when *cancel turned true during a wait.
Status RunWithRetries(const RetryPolicy& policy, Sleeper& sleeper, const std::atomic<bool>* cancel,
                      bool idempotent, const std::function<AttemptOutcome(int attempt)>& attempt);

}  // namespace stepline::k8s
