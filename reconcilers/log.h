// The reconcilers' logger: spdlog's "reconciler" logger when the binary registered one (the
// controller does, at start), else spdlog's default logger. Thread-safe, as spdlog's loggers are.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>

namespace stepline::reconcilers {

std::shared_ptr<spdlog::logger> Log();

}  // namespace stepline::reconcilers
