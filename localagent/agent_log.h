// Named spdlog loggers for the agent's parts ("job-controller", "scheduler", "kubelet",
// "quota", "gc", "agent"), sharing the default logger's sinks and level. Safe from any thread.
#pragma once

#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace stepline::localagent {

std::shared_ptr<spdlog::logger> AgentLogger(const std::string& name);

}  // namespace stepline::localagent
