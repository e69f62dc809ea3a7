// Small readers of Pod objects shared by the agent's parts. Pure functions.
#pragma once

#include <optional>
#include <string>

#include "k8sclient/clock.h"
#include "k8sclient/resource.h"

namespace stepline::localagent {

inline constexpr const char* kJobTrackingFinalizer = "batch.kubernetes.io/job-tracking";

std::string PodPhase(const k8s::Object& pod);
// Succeeded or Failed.
bool IsPodTerminal(const k8s::Object& pod);
bool HasFinalizer(const k8s::Object& obj, const std::string& finalizer);
// The Ready condition is True.
bool IsPodReady(const k8s::Object& pod);
// When the pod finished: the latest container finishedAt, else its deletionTimestamp.
std::optional<k8s::WallTime> PodFinishTime(const k8s::Object& pod);
// spec.terminationGracePeriodSeconds (30 when absent).
int64_t TerminationGraceSeconds(const k8s::Object& pod);

}  // namespace stepline::localagent
