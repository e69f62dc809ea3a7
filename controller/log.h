// Named spdlog loggers for the controller's components ("manager", "leaderelection", "events",
// "http", ...), created on first use with the process-wide sinks, pattern and level that main
// set up. Log lines carry key=value fields; never tokens, secrets or env values.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace stepline::controller {

// The logger registered under name, created (with the default logger's sinks) if missing.
// Safe from any thread.
std::shared_ptr<spdlog::logger> NamedLogger(const std::string& name);

// Sets up process-wide logging: format "text" or "json" (one JSON object per line), level as
// spdlog names it ("trace", "debug", "info", "warn", "error", "off"). False when either is
// unknown.
bool ConfigureLogging(const std::string& format, const std::string& level);

}  // namespace stepline::controller
