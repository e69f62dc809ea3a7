// Status conditions (Job and Pod) in the API's shape: type, status, reason, message,
// lastProbeTime, lastTransitionTime. lastTransitionTime moves only when status changes.
// Pure functions; no shared state.
#pragma once

#include <string>

#include "k8sclient/clock.h"
#include "k8sclient/resource.h"

namespace stepline::localagent {

// The condition of that type in status["conditions"], or nullptr.
const k8s::Object* FindCondition(const k8s::Object& status, const std::string& type);
// True when the condition exists with status "True".
bool ConditionIsTrue(const k8s::Object& status, const std::string& type);

struct ConditionValue {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
};

// Adds or updates the condition in status["conditions"] (appended when new, in place
// otherwise). with_probe_time: also write lastProbeTime (Job conditions carry it; Pod conditions
// carry lastProbeTime: null).
void SetCondition(k8s::Object* status, const ConditionValue& value, k8s::WallTime now,
                  bool with_probe_time);

}  // namespace stepline::localagent
