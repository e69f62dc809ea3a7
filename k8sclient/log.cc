#include "k8sclient/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace stepline::k8s {

std::shared_ptr<spdlog::logger> Logger() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("k8sclient")) return existing;
    try {
      return spdlog::stderr_color_mt("k8sclient");
    } catch (const spdlog::spdlog_ex&) {
      // Registered concurrently by the program: use that one.
      return spdlog::get("k8sclient");
    }
  }();
  return logger;
}

}  // namespace stepline::k8s
