// Pod writes shared by the scheduler, the kubelet and eviction: status updates with optimistic
// concurrency, retried on conflicts against a fresh read. Stateless; safe from any thread.
#pragma once

#include <functional>
#include <string>

#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "localagent/conditions.h"

namespace stepline::localagent {

// GET the pod, apply edit to a copy (edit returns false: nothing to write), PUT /status with
// its resourceVersion; up to 5 attempts on conflicts. NotFound is returned as it is.
k8s::Status EditPodStatus(k8s::Client& client, const std::string& ns, const std::string& name,
                          const std::function<bool(k8s::Object& pod)>& edit);

// Sets one pod condition (Pod conditions carry lastProbeTime: null).
k8s::Status SetPodCondition(k8s::Client& client, const std::string& ns, const std::string& name,
                            const ConditionValue& condition, k8s::WallTime now);

}  // namespace stepline::localagent
