#include "localagent/agent_loop.h"

#include <exception>

#include "localagent/agent_log.h"

namespace stepline::localagent {

namespace {
controller::WorkQueueOptions QueueOptions(const std::string& name,
                                          std::unique_ptr<controller::RateLimiter> limiter) {
  controller::WorkQueueOptions options;
  options.name = name;
  options.limiter = std::move(limiter);
  return options;
}
}  // namespace

SyncLoop::SyncLoop(std::string name, const k8s::Clock& clock, SyncFn sync,
                   std::unique_ptr<controller::RateLimiter> limiter)
    : name_(std::move(name)),
      sync_(std::move(sync)),
      queue_(clock, QueueOptions(name_, std::move(limiter))) {}

SyncLoop::~SyncLoop() { Stop(); }

void SyncLoop::Start(int workers) {
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { Work(); });
}

void SyncLoop::Stop() {
  queue_.ShutDown();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void SyncLoop::Work() {
  while (auto key = queue_.Get()) {
    SyncOutcome outcome = SyncOutcome::Retry();
    try {
      outcome = sync_(*key);
    } catch (const std::exception& e) {
      AgentLogger(name_)->error("sync failed key={} error={}", *key, e.what());
    }
    switch (outcome.kind) {
      case SyncOutcome::Kind::kDone:
        queue_.Forget(*key);
        break;
      case SyncOutcome::Kind::kRetry:
        queue_.AddRateLimited(*key);
        break;
      case SyncOutcome::Kind::kAfter:
        queue_.Forget(*key);
        queue_.AddAfter(*key, outcome.after);
        break;
    }
    queue_.Done(*key);
  }
}

}  // namespace stepline::localagent
