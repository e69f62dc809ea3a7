#include "localagent/agent_loop.h"

#include <utility>

namespace stepline::localagent {

namespace {
controller::WorkQueueOptions QueueOptions(std::unique_ptr<controller::RateLimiter> limiter) {
  controller::WorkQueueOptions options;
  options.limiter = std::move(limiter);
  return options;
}
}  // namespace

SyncLoop::SyncLoop(std::string name, const k8s::Clock& clock, SyncFn sync,
                   std::unique_ptr<controller::RateLimiter> limiter)
    : name_(std::move(name)),
      sync_(std::move(sync)),
      loop_(*this, clock, registry_, QueueOptions(std::move(limiter))) {}

SyncLoop::~SyncLoop() { Stop(); }

void SyncLoop::Stop() {
  loop_.ShutDown();
  loop_.Join();
}

}  // namespace stepline::localagent
