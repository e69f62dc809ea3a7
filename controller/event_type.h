// The type of a Kubernetes Event (core/v1 Event.type): what the planner decides to tell and the
// event recorder writes. Header-only and free of the runtime, so that the pure planner
// (reconcilers/CMakeLists.txt, target planner) can name it without including the runtime's
// interfaces.
#pragma once

namespace stepline::controller {

enum class EventType { kNormal, kWarning };

}  // namespace stepline::controller
