// Wiring of the stepline-controller process: configuration, client, informers, manager,
// reconcilers, event recorder, leader election, HTTP endpoints, signals and shutdown order.
#pragma once

#include "controller/flags.h"

namespace stepline::controller {

// Checks what ParseFlags cannot check alone (leader election timings, bind addresses).
k8s::Status ValidateFlags(const ControllerFlags& flags);

// Runs until SIGTERM/SIGINT (returns 0 after a graceful stop) or until leadership is lost or
// the caches never sync (returns 1). Logging must already be configured.
int RunController(const ControllerFlags& flags);

}  // namespace stepline::controller
