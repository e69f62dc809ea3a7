#include "k8sclient/rate_limiter.h"

#include <gtest/gtest.h>

#include <thread>

#include "k8sclient/retry.h"
#include "k8sclient/token_provider.h"
#include "test_util.h"
#include "tests/fakes/recording_sleeper.h"

namespace stepline::k8s {
namespace {

using fakes::RecordingSleeper;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(TokenBucketTest, BurstThenSteadyRate) {
  FakeClock clock;
  RecordingSleeper sleeper(clock);
  TokenBucketRateLimiter limiter(/*qps=*/10, /*burst=*/3, clock, sleeper);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter.Wait(nullptr).ok());
  EXPECT_TRUE(sleeper.waits().empty()) << "the burst passes without waiting";
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(limiter.Wait(nullptr).ok());
  EXPECT_EQ(sleeper.waits(), std::vector<milliseconds>(4, milliseconds(100)));
  clock.Advance(seconds(10));  // idle time refills at most `burst` tokens
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter.TryAccept());
  EXPECT_FALSE(limiter.TryAccept());
}

TEST(TokenBucketTest, ConcurrentWaitersReserveInTurn) {
  // A sleeper that does not advance time: callers arriving at the same instant each reserve
  // the next free slot instead of all waking together.
  FakeClock frozen;
  FakeClock elsewhere;
  RecordingSleeper sleeper(elsewhere);
  TokenBucketRateLimiter limiter(/*qps=*/2, /*burst=*/1, frozen, sleeper);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(limiter.Wait(nullptr).ok());
  EXPECT_EQ(sleeper.waits(),
            (std::vector<milliseconds>{milliseconds(500), milliseconds(1000), milliseconds(1500)}));
}

TEST(TokenBucketTest, CancelledWaitGivesTheTokenBack) {
  FakeClock clock;
  RecordingSleeper sleeper(clock);
  TokenBucketRateLimiter limiter(1, 1, clock, sleeper);
  ASSERT_TRUE(limiter.Wait(nullptr).ok());
  std::atomic<bool> cancel{true};
  EXPECT_EQ(limiter.Wait(&cancel).code(), StatusCode::kCancelled);
  clock.Advance(seconds(1));
  EXPECT_TRUE(limiter.TryAccept());
}

TEST(TokenBucketTest, ZeroQpsIsUnlimited) {
  FakeClock clock;
  RecordingSleeper sleeper(clock);
  TokenBucketRateLimiter limiter(0, 1, clock, sleeper);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(limiter.Wait(nullptr).ok());
  EXPECT_TRUE(sleeper.waits().empty());
}

TEST(ClockSleeperTest, ReturnsWhenAnotherThreadAdvancesTheFakeClock) {
  FakeClock clock;
  ClockSleeper sleeper(clock);
  const MonoTime begin = clock.MonotonicNow();
  std::atomic<bool> done{false};
  MonoTime woke{};
  std::thread waiter([&] {
    EXPECT_TRUE(sleeper.SleepFor(seconds(30), nullptr));
    woke = clock.MonotonicNow();
    done = true;
  });
  while (!done.load()) {
    clock.Advance(seconds(1));
    std::this_thread::sleep_for(milliseconds(2));
  }
  waiter.join();
  EXPECT_GE(woke - begin, seconds(30)) << "woke only once the fake clock had moved 30 s";
  std::atomic<bool> cancel{true};
  EXPECT_FALSE(sleeper.SleepFor(seconds(30), &cancel));
}

TEST(RetryTest, DelaysHonourRetryAfterAndCapBackoff) {
  RetryPolicy policy;  // 5 attempts, 250 ms doubling, capped at 8 s, Retry-After up to 60 s
  const Status too_many(StatusCode::kTooManyRequests, "slow down", 429);
  const Status internal = Status::Internal("boom");
  const Status transport = Status::Transport("connection reset");
  const Status tls(StatusCode::kTransport, "TLS", 0, std::string(kReasonPermanentTransport));
  struct Case {
    std::string name;
    int attempt;
    AttemptOutcome outcome;
    bool idempotent;
    std::optional<milliseconds> want;
  };
  std::vector<Case> cases = {
      {"ok is final", 1, {Status::Ok(), 5}, true, std::nullopt},
      {"conflict is final", 1, {Status::Conflict("x"), std::nullopt}, true, std::nullopt},
      {"429 with Retry-After", 1, {too_many, 3}, true, milliseconds(3000)},
      {"429 on a create", 2, {too_many, std::nullopt}, false, milliseconds(500)},
      {"Retry-After is capped", 1, {too_many, 3600}, true, milliseconds(60'000)},
      {"500 backs off", 3, {internal, std::nullopt}, true, milliseconds(1000)},
      {"backoff capped", 4, {transport, std::nullopt}, true, milliseconds(2000)},
      {"500 on a create is not retried", 1, {internal, std::nullopt}, false, std::nullopt},
      {"unreachable on a create is retried",
       1,
       {Status(StatusCode::kUnavailable, "refused"), {}},
       false,
       milliseconds(250)},
      {"TLS errors are final", 1, {tls, std::nullopt}, true, std::nullopt},
      {"501 is final", 1, {Status(StatusCode::kInternal, "no", 501), {}}, true, std::nullopt},
      {"attempts used up", 5, {too_many, 1}, true, std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(RetryDelay(policy, c.attempt, c.outcome, c.idempotent), c.want);
  }
  RetryPolicy small{
      .max_attempts = 10, .initial_backoff = milliseconds(100), .max_backoff = milliseconds(1000)};
  EXPECT_EQ(RetryDelay(small, 9, {internal, {}}, true), milliseconds(1000));
}

TEST(RetryTest, RunWithRetriesWaitsOnTheFakeClockAndStopsAfterMaxAttempts) {
  FakeClock clock;
  RecordingSleeper sleeper(clock);
  const MonoTime start = clock.MonotonicNow();
  std::vector<MonoTime> attempts_at;
  Status got = RunWithRetries(RetryPolicy{}, sleeper, nullptr, true, [&](int) {
    attempts_at.push_back(clock.MonotonicNow());
    return AttemptOutcome{Status(StatusCode::kTooManyRequests, "busy", 429), 2};
  });
  EXPECT_TRUE(got.IsTooManyRequests());
  ASSERT_EQ(attempts_at.size(), 5u);
  for (size_t i = 0; i < attempts_at.size(); ++i) {
    EXPECT_EQ(attempts_at[i] - start, seconds(2 * i)) << "attempt " << i + 1;
  }
}

TEST(RetryTest, RunWithRetriesSucceedsAfterTransientErrors) {
  FakeClock clock;
  RecordingSleeper sleeper(clock);
  int calls = 0;
  Status got = RunWithRetries(RetryPolicy{}, sleeper, nullptr, true, [&](int n) {
    ++calls;
    if (n < 3) return AttemptOutcome{Status::Unavailable("down"), std::nullopt};
    return AttemptOutcome{Status::Ok(), std::nullopt};
  });
  EXPECT_TRUE(got.ok());
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(sleeper.waits(), (std::vector<milliseconds>{milliseconds(250), milliseconds(500)}));
  std::atomic<bool> cancel{true};
  Status cancelled = RunWithRetries(RetryPolicy{}, sleeper, &cancel, true, [](int) {
    return AttemptOutcome{Status::Unavailable("down"), std::nullopt};
  });
  EXPECT_EQ(cancelled.code(), StatusCode::kCancelled);
}

TEST(RetryTest, ParseRetryAfter) {
  EXPECT_EQ(ParseRetryAfter("1"), 1);
  EXPECT_EQ(ParseRetryAfter(" 120 "), 120);
  EXPECT_EQ(ParseRetryAfter(""), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-1"), std::nullopt);
}

TEST(TokenProviderTest, RereadsTheFileEveryMinuteAndOnRefresh) {
  testing::TempDir dir;
  std::string file = dir.Write("token", "one\n");
  FakeClock clock;
  TokenProvider provider("static", file, clock);
  EXPECT_EQ(provider.Token(), "one");
  dir.Write("token", "two");
  clock.Advance(seconds(59));
  EXPECT_EQ(provider.Token(), "one") << "cached for a minute";
  clock.Advance(seconds(1));
  EXPECT_EQ(provider.Token(), "two");
  dir.Write("token", "three");
  EXPECT_TRUE(provider.Refresh()) << "a 401 re-reads at once";
  EXPECT_EQ(provider.Token(), "three");
  EXPECT_FALSE(provider.Refresh()) << "unchanged";
  std::filesystem::remove(file);
  clock.Advance(seconds(61));
  EXPECT_EQ(provider.Token(), "three") << "an unreadable file keeps the last token";
  TokenProvider fixed("static", "", clock);
  EXPECT_EQ(fixed.Token(), "static");
  EXPECT_FALSE(fixed.Refresh());
}

}  // namespace
}  // namespace stepline::k8s
