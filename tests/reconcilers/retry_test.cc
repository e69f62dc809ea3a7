#include "reconcilers/retry.h"

#include <gtest/gtest.h>

namespace stepline::reconcilers {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

RetrySettings Policy(int max_attempts, double interval, double rate,
                     std::optional<double> max_interval = std::nullopt) {
  RetrySettings s;
  s.has_policy = true;
  s.max_attempts = max_attempts;
  s.interval_seconds = interval;
  s.backoff_rate = rate;
  s.max_interval_seconds = max_interval;
  s.retry_on = {FailureClass::kError, FailureClass::kOOMKilled, FailureClass::kDisrupted,
                FailureClass::kDeadlineExceeded};
  return s;
}

TEST(RetryDelayTest, BackoffSequenceIsCapped) {
  RetrySettings s = Policy(10, 30, 2, 600);
  std::vector<int64_t> want = {30, 60, 120, 240, 480, 600, 600};
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(RetryDelay(s, static_cast<int>(i) + 1), seconds(want[i]));
  }
  EXPECT_EQ(RetryDelay(Policy(3, 1.5, 1), 2), milliseconds(1500));
  // A huge rate stays bounded instead of overflowing.
  EXPECT_GT(RetryDelay(Policy(3, 1, 1e308), 50), seconds(0));
}

TEST(DecideRetryTest, Table) {
  const k8s::WallTime start{seconds(1'000'000)};
  RetrySettings no_policy;
  RetrySettings policy = Policy(3, 30, 2);
  RetrySettings oom_only = Policy(3, 1, 2);
  oom_only.retry_on = {FailureClass::kOOMKilled};
  RetrySettings expiring = Policy(5, 60, 2);
  expiring.expire_after_minutes = 2;
  struct Case {
    std::string name;
    RetrySettings s;
    FailedAttempt f;
    bool want_retry;
    milliseconds want_delay;
    std::string want_why;
  };
  std::vector<Case> cases = {
      {"no policy: error is final",
       no_policy,
       {1, FailureClass::kError, 0, start, start},
       false,
       milliseconds(0),
       "attempt 1 failed (Error); no attempts left"},
      {"no policy: disruption retried",
       no_policy,
       {1, FailureClass::kDisrupted, 0, start, start},
       true,
       milliseconds(0),
       "attempt 1 failed (Disrupted); retrying in 0s"},
      {"no policy: fourth disruption is final",
       no_policy,
       {4, FailureClass::kDisrupted, 3, start, start},
       false,
       milliseconds(0),
       "attempt 4 failed (Disrupted); no attempts left"},
      {"policy: first failure waits interval",
       policy,
       {1, FailureClass::kError, 0, start, start},
       true,
       seconds(30),
       "attempt 1 of 3 failed (Error); retrying in 30s"},
      {"policy: second failure doubles",
       policy,
       {2, FailureClass::kOOMKilled, 0, start, start},
       true,
       seconds(60),
       "attempt 2 of 3 failed (OOMKilled); retrying in 1m"},
      {"policy: last attempt",
       policy,
       {3, FailureClass::kError, 0, start, start},
       false,
       milliseconds(0),
       "attempt 3 of 3 failed (Error); no attempts left"},
      {"policy: disruption beyond maxAttempts",
       policy,
       {3, FailureClass::kDisrupted, 1, start, start},
       true,
       milliseconds(0),
       "attempt 3 of 3 failed (Disrupted); retrying in 0s"},
      {"retryOn filters",
       oom_only,
       {1, FailureClass::kError, 0, start, start},
       false,
       milliseconds(0),
       "attempt 1 of 3 failed (Error); Error is not in retryOn"},
      {"retryOn admits",
       oom_only,
       {1, FailureClass::kOOMKilled, 0, start, start},
       true,
       seconds(1),
       "attempt 1 of 3 failed (OOMKilled); retrying in 1s"},
      {"image pull not retried by default",
       policy,
       {1, FailureClass::kImagePull, 0, start, start},
       false,
       milliseconds(0),
       "attempt 1 of 3 failed (ImagePull); ImagePull is not in retryOn"},
      {"inside the window",
       expiring,
       {1, FailureClass::kError, 0, start, start + seconds(30)},
       true,
       seconds(60),
       "attempt 1 of 5 failed (Error); retrying in 1m"},
      {"window expired",
       expiring,
       {2, FailureClass::kError, 0, start, start + seconds(30)},
       false,
       seconds(120),
       "attempt 2 of 5 failed (Error); the retry window of 2m has expired"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    RetryDecision d = DecideRetry(c.s, c.f);
    EXPECT_EQ(d.retry, c.want_retry);
    if (d.retry) {
      EXPECT_EQ(d.delay, c.want_delay);
    }
    EXPECT_EQ(d.why, c.want_why);
  }
}

TEST(QuotaBackoffTest, TenSecondsDoublingToFiveMinutes) {
  std::vector<int64_t> want = {10, 20, 40, 80, 160, 300, 300};
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(QuotaBackoff(static_cast<int>(i)), seconds(want[i]));
  }
  EXPECT_EQ(QuotaBackoff(1000), minutes(5));
}

TEST(FormatDurationTest, Forms) {
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "2s");
  EXPECT_EQ(FormatDuration(seconds(90)), "1m30s");
  EXPECT_EQ(FormatDuration(seconds(3720)), "1h2m");
}

}  // namespace
}  // namespace stepline::reconcilers

namespace stepline::reconcilers {
namespace {

TEST(DecideRetryTest, ExpiryJudgesWhenTheNextAttemptStarts) {
  const k8s::WallTime start{std::chrono::seconds(1'000'000)};
  RetrySettings s;
  s.has_policy = true;
  s.max_attempts = 5;
  s.interval_seconds = 60;
  s.backoff_rate = 1;
  s.retry_on = {FailureClass::kError};
  s.expire_after_minutes = 2;
  FailedAttempt f{1, FailureClass::kError, 0, start, start + std::chrono::seconds(30)};
  f.failed_at = start + std::chrono::seconds(30);
  EXPECT_TRUE(DecideRetry(s, f).retry) << "due at +90s, inside the window";
  f.now = start + std::chrono::seconds(90);
  EXPECT_TRUE(DecideRetry(s, f).retry) << "the same decision when it is due";
  f.now = start + std::chrono::seconds(121);
  EXPECT_FALSE(DecideRetry(s, f).retry) << "too late to start it now";
}

}  // namespace
}  // namespace stepline::reconcilers
