#include "reconcilers/slow_start.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace stepline::reconcilers {

size_t CallInSlowStartBatches(size_t n, size_t max_batch, const std::function<bool(size_t)>& call) {
  size_t done = 0;
  size_t batch = 1;
  max_batch = std::max<size_t>(max_batch, 1);
  while (done < n) {
    const size_t size = std::min(batch, n - done);
    std::atomic<bool> failed{false};
    auto run = [&](size_t i) {
      if (!call(i)) failed = true;
    };
    std::vector<std::thread> others;
    others.reserve(size - 1);
    for (size_t i = done + 1; i < done + size; ++i) others.emplace_back(run, i);
    run(done);
    for (std::thread& t : others) t.join();
    done += size;
    if (failed) break;
    batch = std::min(batch * 2, max_batch);
  }
  return done;
}

}  // namespace stepline::reconcilers
