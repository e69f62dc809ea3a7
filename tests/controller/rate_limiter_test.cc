#include "controller/rate_limiter.h"

#include <gtest/gtest.h>

namespace stepline::controller {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(ItemExponentialRateLimiterTest, DoublesFrom5msAndCapsAt1000s) {
  ItemExponentialRateLimiter limiter(milliseconds(5), seconds(1000));
  const std::vector<Duration> want = {milliseconds(5),  milliseconds(10), milliseconds(20),
                                      milliseconds(40), milliseconds(80), milliseconds(160)};
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(limiter.When("ml/a"), want[i]);
  }
  EXPECT_EQ(limiter.NumRequeues("ml/a"), 6);
  // 5ms * 2^17 = 655.36s, 2^18 = 1310.72s -> capped; and it stays capped long after.
  for (int i = 6; i < 17; ++i) limiter.When("ml/a");
  EXPECT_EQ(limiter.When("ml/a"), milliseconds(655'360));
  EXPECT_EQ(limiter.When("ml/a"), seconds(1000));
  for (int i = 0; i < 100; ++i) limiter.When("ml/a");
  EXPECT_EQ(limiter.When("ml/a"), seconds(1000));
}

TEST(ItemExponentialRateLimiterTest, KeysAreIndependentAndForgetResets) {
  ItemExponentialRateLimiter limiter(milliseconds(5), seconds(1000));
  limiter.When("ml/a");
  limiter.When("ml/a");
  EXPECT_EQ(limiter.When("ml/b"), milliseconds(5));
  limiter.Forget("ml/a");
  EXPECT_EQ(limiter.NumRequeues("ml/a"), 0);
  EXPECT_EQ(limiter.When("ml/a"), milliseconds(5));
}

TEST(BucketRateLimiterTest, BurstThenTenPerSecond) {
  k8s::FakeClock clock;
  BucketRateLimiter limiter(10, 100, clock);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(limiter.When("k"), Duration::zero()) << i;
  EXPECT_EQ(limiter.When("k"), milliseconds(100));
  EXPECT_EQ(limiter.When("k"), milliseconds(200));
  clock.Advance(milliseconds(200));  // two tokens came back, both already reserved
  EXPECT_EQ(limiter.When("k"), milliseconds(100));
  clock.Advance(seconds(60));  // refills to the burst, never beyond
  for (int i = 0; i < 100; ++i) ASSERT_EQ(limiter.When("k"), Duration::zero()) << i;
  EXPECT_GT(limiter.When("k"), Duration::zero());
}

TEST(DefaultControllerRateLimiterTest, PerKeyBackoffUnderTheOverallBucket) {
  k8s::FakeClock clock;
  auto limiter = DefaultControllerRateLimiter(clock);
  EXPECT_EQ(limiter->When("ml/a"), milliseconds(5));
  EXPECT_EQ(limiter->When("ml/a"), milliseconds(10));
  EXPECT_EQ(limiter->NumRequeues("ml/a"), 2);
  // 98 more distinct keys use up the burst; the next retry waits for the bucket (100ms), which
  // is longer than its own 5ms backoff.
  for (int i = 0; i < 98; ++i) limiter->When("ml/k" + std::to_string(i));
  EXPECT_EQ(limiter->When("ml/b"), milliseconds(100));
  limiter->Forget("ml/a");
  EXPECT_EQ(limiter->NumRequeues("ml/a"), 0);
}

}  // namespace
}  // namespace stepline::controller
