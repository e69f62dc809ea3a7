// The library's spdlog logger, named "k8sclient". Never log tokens, keys or Secret data.
#pragma once

#include <memory>

#include <spdlog/logger.h>

namespace stepline::k8s {

// The "k8sclient" logger: the one registered under that name if the program registered one,
// else one created (and registered) on first use with the default logger's sinks, pattern and
// level. Safe from any thread.
std::shared_ptr<spdlog::logger> Logger();

}  // namespace stepline::k8s
