// Slow start: batches of 1, 2, 4, ... calls run at once, and a failure ends them.
#include "reconcilers/slow_start.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace stepline::reconcilers {
namespace {

// Records, for every call, how many calls were in flight with it (itself included). Each call
// waits (at most 5 s) until as many calls are in flight as its batch should hold, so that a
// batch's calls are seen to overlap even on a loaded machine, and calls run one after another
// are seen as such.
struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  std::vector<int> peak = std::vector<int>(64, 0);  // by call index
  std::set<size_t> called;

  bool Call(size_t i, int batch_size, const std::set<size_t>& failing) {
    std::unique_lock lock(mu);
    called.insert(i);
    ++in_flight;
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(5), [&] { return in_flight >= batch_size; });
    peak[i] = std::max(peak[i], in_flight);
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    lock.lock();
    --in_flight;
    return failing.count(i) == 0;
  }
};

// The batch sizes of n calls at most max at once: 1, 2, 4, ... max, max, ..., the rest.
std::vector<int> BatchSizeOfEachCall(size_t n, size_t max) {
  std::vector<int> out;
  size_t batch = 1;
  while (out.size() < n) {
    size_t size = std::min(batch, n - out.size());
    out.insert(out.end(), size, static_cast<int>(size));
    batch = std::min(batch * 2, max);
  }
  return out;
}

TEST(SlowStartTest, BatchesDoubleUpToTheLimitAndEveryCallIsMadeOnce) {
  Recorder r;
  const std::vector<int> sizes = BatchSizeOfEachCall(20, 4);
  ASSERT_EQ(sizes, (std::vector<int>{1, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 1}));
  size_t made = CallInSlowStartBatches(20, 4, [&](size_t i) { return r.Call(i, sizes[i], {}); });
  EXPECT_EQ(made, 20u);
  EXPECT_EQ(r.called.size(), 20u);
  for (size_t i = 0; i < 20; ++i) EXPECT_EQ(r.peak[i], sizes[i]) << "call " << i;
}

TEST(SlowStartTest, AFailedCallEndsTheBatchesAfterItsOwn) {
  Recorder r;
  // Call 4 is in the third batch {3, 4, 5, 6}: that batch completes, nothing after it starts.
  const std::vector<int> sizes = BatchSizeOfEachCall(50, 16);
  size_t made = CallInSlowStartBatches(50, 16, [&](size_t i) { return r.Call(i, sizes[i], {4}); });
  EXPECT_EQ(made, 7u);
  EXPECT_EQ(r.called, (std::set<size_t>{0, 1, 2, 3, 4, 5, 6}));
}

TEST(SlowStartTest, NoCallsAndALimitOfZero) {
  EXPECT_EQ(CallInSlowStartBatches(0, 16, [](size_t) { return true; }), 0u);
  std::atomic<int> calls{0};
  EXPECT_EQ(CallInSlowStartBatches(3, 0, [&](size_t) { return ++calls > 0; }), 3u);
  EXPECT_EQ(calls.load(), 3);
}

}  // namespace
}  // namespace stepline::reconcilers
