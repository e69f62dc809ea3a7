#include "localagent/agent_log.h"

#include <mutex>

namespace stepline::localagent {

std::shared_ptr<spdlog::logger> AgentLogger(const std::string& name) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  if (auto existing = spdlog::get(name)) return existing;
  auto base = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(name, base->sinks().begin(), base->sinks().end());
  logger->set_level(base->level());
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace stepline::localagent
