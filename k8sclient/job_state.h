// What a batch/v1 Job's conditions say about it, decided in one place for every reader: the
// planner, the controller's event filters and dispatch clock, the cache trimmer and the local
// agent's Job controller.
//
// Since Kubernetes 1.31 the Job controller first adds SuccessCriteriaMet or FailureTarget, once
// the outcome is known, and Complete or Failed only after the Job's pods have terminated. The
// outcome is decided at the first; the Job has ended at the second.
//
// Pure functions; safe from any thread.
#pragma once

#include <string>

#include "k8sclient/resource.h"

namespace stepline::k8s {

enum class JobState {
  kActive,      // no outcome yet
  kSucceeding,  // SuccessCriteriaMet=True, pods still terminating
  kFailing,     // FailureTarget=True, pods still terminating
  kSucceeded,   // Complete=True
  kFailed,      // Failed=True
};

// A Failed or FailureTarget condition wins over a success condition (the Job controller never
// sets both; a hand-edited object may).
JobState ClassifyJob(const Object& job);

// The outcome is known: the planner may act on it.
inline bool OutcomeDecided(JobState s) { return s != JobState::kActive; }
// The Job controller is done with the Job: Complete or Failed.
inline bool HasEnded(JobState s) { return s == JobState::kSucceeded || s == JobState::kFailed; }
inline bool Succeeds(JobState s) { return s == JobState::kSucceeding || s == JobState::kSucceeded; }

// The condition types ClassifyJob reads; an informer's event filter watches exactly these.
bool IsJobOutcomeCondition(const std::string& type);

}  // namespace stepline::k8s
