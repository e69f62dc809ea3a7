#include "reconcilers/log.h"

namespace stepline::reconcilers {

std::shared_ptr<spdlog::logger> Log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::get("reconciler");
    return l ? l : spdlog::default_logger();
  }();
  return logger;
}

}  // namespace stepline::reconcilers
