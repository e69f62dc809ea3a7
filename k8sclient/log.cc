#include "k8sclient/log.h"

#include <spdlog/spdlog.h>

#include <mutex>

namespace stepline::k8s {

std::shared_ptr<spdlog::logger> Logger() {
  if (auto existing = spdlog::get("k8sclient")) return existing;
  static std::mutex mu;
  std::lock_guard lock(mu);
  if (auto existing = spdlog::get("k8sclient")) return existing;
  // Same sinks, pattern and level as the process's default logger.
  auto sinks = spdlog::default_logger()->sinks();
  auto logger = std::make_shared<spdlog::logger>("k8sclient", sinks.begin(), sinks.end());
  try {
    spdlog::initialize_logger(logger);  // registers it
  } catch (const spdlog::spdlog_ex&) {
    if (auto existing = spdlog::get("k8sclient")) return existing;  // registered meanwhile
  }
  return logger;
}

}  // namespace stepline::k8s
