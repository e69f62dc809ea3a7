#include "controller/workqueue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace stepline::controller {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct CountingMetrics : WorkQueueMetrics {
  std::atomic<int64_t> depth{0};
  std::atomic<int> adds{0}, retries{0}, latencies{0}, durations{0};
  void SetDepth(int64_t d) override { depth = d; }
  void Added() override { ++adds; }
  void Retried() override { ++retries; }
  void ObserveQueueLatency(double) override { ++latencies; }
  void ObserveWorkDuration(double) override { ++durations; }
};

WorkQueueOptions Options(WorkQueueMetrics* metrics = nullptr) {
  WorkQueueOptions o;
  o.name = "test";
  o.metrics = metrics;
  o.max_idle_wait = milliseconds(5);
  return o;
}

TEST(WorkQueueTest, RepeatedAddsCollapse) {
  k8s::FakeClock clock;
  CountingMetrics metrics;
  WorkQueue q(clock, Options(&metrics));
  q.Add("ml/a");
  q.Add("ml/b");
  q.Add("ml/a");
  q.Add("ml/a");
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_EQ(metrics.adds, 2);
  EXPECT_EQ(metrics.depth, 2);
  EXPECT_EQ(q.Get(), "ml/a");
  EXPECT_EQ(q.Get(), "ml/b");
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(metrics.latencies, 2);
}

TEST(WorkQueueTest, KeyAddedWhileProcessingIsRequeuedOnlyAfterDone) {
  k8s::FakeClock clock;
  WorkQueue q(clock, Options());
  q.Add("ml/a");
  auto key = q.Get();
  ASSERT_EQ(key, "ml/a");
  q.Add("ml/a");
  q.Add("ml/a");
  EXPECT_EQ(q.Len(), 0u) << "a key being processed must not be handed to a second worker";
  q.Done("ml/a");
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.Get(), "ml/a");
  q.Done("ml/a");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, NoKeyIsProcessedByTwoWorkersAtOnce) {
  k8s::RealClock clock;
  WorkQueue q(clock, Options());
  constexpr int kKeys = 5;
  std::atomic<int> in_flight[kKeys] = {};
  std::atomic<bool> overlap{false};
  std::atomic<int> processed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = q.Get()) {
        int i = (*key)[3] - '0';
        if (in_flight[i].fetch_add(1) != 0) overlap = true;
        std::this_thread::yield();
        in_flight[i].fetch_sub(1);
        ++processed;
        q.Done(*key);
      }
    });
  }
  for (int round = 0; round < 2000; ++round) q.Add("ml/" + std::to_string(round % kKeys));
  while (q.Len() > 0) std::this_thread::yield();
  q.ShutDown();
  for (auto& t : workers) t.join();
  EXPECT_FALSE(overlap);
  EXPECT_GT(processed, 0);
}

TEST(WorkQueueTest, AddAfterWaitsForTheClockInOrder) {
  k8s::FakeClock clock;
  WorkQueue q(clock, Options());
  q.AddAfter("ml/late", seconds(30));
  q.AddAfter("ml/early", seconds(10));
  q.AddAfter("ml/mid", seconds(20));
  q.AddAfter("ml/now", Duration::zero());
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.Get(), "ml/now");
  EXPECT_EQ(q.NumWaiting(), 3u);
  clock.Advance(seconds(9));
  EXPECT_EQ(q.Len(), 0u);
  clock.Advance(seconds(25));
  EXPECT_EQ(q.Len(), 3u);
  EXPECT_EQ(q.Get(), "ml/early");
  EXPECT_EQ(q.Get(), "ml/mid");
  EXPECT_EQ(q.Get(), "ml/late");
}

TEST(WorkQueueTest, AddAfterKeepsTheEarlierTimeOfAWaitingKey) {
  k8s::FakeClock clock;
  WorkQueue q(clock, Options());
  q.AddAfter("ml/a", seconds(60));
  q.AddAfter("ml/a", seconds(5));
  q.AddAfter("ml/a", seconds(30));
  EXPECT_EQ(q.NumWaiting(), 1u);
  clock.Advance(seconds(5));
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.Get(), "ml/a");
  q.Done("ml/a");
  clock.Advance(seconds(100));
  EXPECT_EQ(q.Len(), 0u) << "the later times were merged into the earlier one";
}

TEST(WorkQueueTest, CancelWaitingDropsTheWaitButNotAQueuedKey) {
  k8s::FakeClock clock;
  WorkQueue q(clock, Options());
  q.AddAfter("ml/a", seconds(5));
  q.CancelWaiting("ml/a");
  EXPECT_EQ(q.NumWaiting(), 0u);
  clock.Advance(seconds(10));
  EXPECT_EQ(q.Len(), 0u) << "the cancelled wait never fires";
  q.AddAfter("ml/a", seconds(20));  // a new wait after a cancel takes its own time
  clock.Advance(seconds(19));
  EXPECT_EQ(q.Len(), 0u);
  clock.Advance(seconds(1));
  EXPECT_EQ(q.Len(), 1u);
  q.Add("ml/b");
  q.CancelWaiting("ml/b");
  EXPECT_EQ(q.Len(), 2u);
}

TEST(WorkQueueTest, BlockedGetterWakesWhenTheClockReachesAWaitingKey) {
  k8s::FakeClock clock;
  WorkQueue q(clock, Options());
  q.AddAfter("ml/a", seconds(10));
  std::optional<std::string> got;
  std::thread getter([&] { got = q.Get(); });
  clock.Advance(seconds(10));
  getter.join();  // returns within max_idle_wait of the advance
  EXPECT_EQ(got, "ml/a");
}

TEST(WorkQueueTest, RateLimitedRequeueBacksOffPerKey) {
  k8s::FakeClock clock;
  CountingMetrics metrics;
  WorkQueue q(clock, Options(&metrics));
  q.AddRateLimited("ml/a");  // 5ms
  EXPECT_EQ(q.Len(), 0u);
  clock.Advance(milliseconds(5));
  ASSERT_EQ(q.Get(), "ml/a");
  q.Done("ml/a");
  q.AddRateLimited("ml/a");  // 10ms
  clock.Advance(milliseconds(9));
  EXPECT_EQ(q.Len(), 0u);
  clock.Advance(milliseconds(1));
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.NumRequeues("ml/a"), 2);
  EXPECT_EQ(metrics.retries, 2);
  q.Forget("ml/a");
  EXPECT_EQ(q.NumRequeues("ml/a"), 0);
}

TEST(WorkQueueTest, ShutDownWakesAllGettersAndRefusesAdds) {
  k8s::FakeClock clock;
  WorkQueue q(clock, Options());
  std::atomic<int> returned{0};
  std::vector<std::thread> getters;
  for (int i = 0; i < 3; ++i) {
    getters.emplace_back([&] {
      EXPECT_EQ(q.Get(), std::nullopt);
      ++returned;
    });
  }
  q.ShutDown();
  for (auto& t : getters) t.join();
  EXPECT_EQ(returned, 3);
  EXPECT_TRUE(q.ShuttingDown());
  q.Add("ml/a");
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.Get(), std::nullopt);
}

TEST(WorkQueueTest, WorkDurationIsObservedOnDone) {
  k8s::FakeClock clock;
  CountingMetrics metrics;
  WorkQueue q(clock, Options(&metrics));
  q.Add("ml/a");
  q.Get();
  EXPECT_EQ(metrics.depth, 0);
  EXPECT_EQ(metrics.durations, 0);
  q.Done("ml/a");
  EXPECT_EQ(metrics.durations, 1);
}

}  // namespace
}  // namespace stepline::controller
