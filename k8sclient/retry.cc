#include "k8sclient/retry.h"

#include <algorithm>
#include <charconv>

#include "k8sclient/log.h"

namespace stepline::k8s {
namespace {

bool RetriableForNonIdempotent(const Status& status) {
  // The server refused before doing anything, or the connection was never made.
  return status.code() == StatusCode::kTooManyRequests || status.code() == StatusCode::kUnavailable;
}

}  // namespace

std::optional<std::chrono::milliseconds> RetryDelay(const RetryPolicy& policy, int attempt,
                                                    const AttemptOutcome& outcome,
                                                    bool idempotent) {
  const Status& status = outcome.status;
  if (status.ok() || !status.IsRetriable()) return std::nullopt;
  if (status.reason() == kReasonPermanentTransport) return std::nullopt;
  if (attempt >= policy.max_attempts) return std::nullopt;
  if (!idempotent && !RetriableForNonIdempotent(status)) return std::nullopt;
  if (outcome.retry_after_seconds && *outcome.retry_after_seconds > 0) {
    std::chrono::seconds wait =
        std::min(std::chrono::seconds(*outcome.retry_after_seconds), policy.max_retry_after);
    return std::chrono::duration_cast<std::chrono::milliseconds>(wait);
  }
  std::chrono::milliseconds wait = policy.initial_backoff;
  for (int i = 1; i < attempt && wait < policy.max_backoff; ++i) wait *= 2;
  return std::min(wait, policy.max_backoff);
}

std::optional<int> ParseRetryAfter(std::string_view header) {
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && (header.back() == ' ' || header.back() == '\r'))
    header.remove_suffix(1);
  int value = 0;
  auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), value);
  if (ec != std::errc() || end != header.data() + header.size() || value < 0) return std::nullopt;
  return value;
}

Status RunWithRetries(const RetryPolicy& policy, Sleeper& sleeper, const std::atomic<bool>* cancel,
                      bool idempotent, const std::function<AttemptOutcome(int attempt)>& attempt) {
  for (int n = 1;; ++n) {
    AttemptOutcome outcome = attempt(n);
    std::optional<std::chrono::milliseconds> delay = RetryDelay(policy, n, outcome, idempotent);
    if (!delay) return outcome.status;
    Logger()->debug("retrying attempt={} wait_ms={} error=\"{}\"", n + 1, delay->count(),
                    outcome.status.ToString());
    if (!sleeper.SleepFor(*delay, cancel)) {
      return Status::Cancelled("cancelled while waiting to retry: " + outcome.status.ToString());
    }
  }
}

}  // namespace stepline::k8s
