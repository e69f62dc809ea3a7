// What one attempt of a step (one Job and its Pods) tells us, read from the API objects the
// way a person reading `kubectl get job,pod -o yaml` would: did it finish, and if it failed, why.
//
// Pure: no I/O, no clock reads (now is an argument).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "k8sclient/clock.h"
#include "k8sclient/resource.h"

namespace stepline::reconcilers {

// The failure classes of the design (section 2). kNone: not failed (or not yet).
enum class FailureClass {
  kNone,
  kError,             // non-zero exit
  kOOMKilled,         // the container went over its memory limit
  kDeadlineExceeded,  // the step's timeoutSeconds (the Job's activeDeadlineSeconds)
  kDisrupted,         // evicted, preempted, node lost: the platform's fault
  kImagePull,         // the image cannot be pulled
  kUnschedulable,     // no node fits, for longer than the scheduling timeout
  kQuotaExceeded,     // a ResourceQuota forbids the pod or Job: a wait, not a failure
  kPodRejected,       // the pod was refused at creation (Pod Security, LimitRange, a webhook)
  kArtifactError,     // an artifact could not be downloaded or uploaded (docs/api.md, Artifacts)
};

// The containers that stage a step's artifacts are named with this prefix (job_builder.h).
inline constexpr const char* kArtifactContainerPrefix = "artifact-";

// "Error", "OOMKilled", ... as written in status and in retryOn; "" for kNone.
const char* FailureClassName(FailureClass c);
// The inverse; nullopt for an unknown name.
std::optional<FailureClass> ParseFailureClass(const std::string& name);

enum class AttemptPhase {
  kPending,  // created, not running yet (waiting for a node, an image, quota)
  kRunning,
  kSucceeded,
  kFailed,
};

struct AttemptObservation {
  AttemptPhase phase = AttemptPhase::kPending;
  // For kFailed: why. For kPending: what it waits on (kUnschedulable, kQuotaExceeded,
  // kImagePull) when known, kNone otherwise.
  FailureClass failure = FailureClass::kNone;
  std::optional<int> exit_code;
  // One line for the step's status message: the scheduler's or quota's words, the exit code.
  std::string message;
  // The container's termination message (the step's outputs JSON) when it finished.
  std::string termination_message;
  std::optional<k8s::WallTime> start_time;       // the pod's container started
  std::optional<k8s::WallTime> completion_time;  // the Job finished
  // Set while the Job says it finished but its pod's final state has not been observed yet
  // (watches of Jobs and Pods are separate streams): phase is kRunning until then, and the
  // attempt is judged with what there is once this time has passed.
  std::optional<k8s::WallTime> settle_by;
  // False when the answer depends on `now` or on `judged` (a pod still pending, a finished Job
  // whose pod has not settled): only a reusable answer may be kept for the same objects.
  bool reusable = true;
};

// How long a finished Job waits for its pod's final status before being judged without it.
inline constexpr std::chrono::seconds kPodStatusGrace{30};

struct AttemptInputs {
  const k8s::Object* job = nullptr;        // required
  std::vector<const k8s::Object*> pods;    // the Job's pods (any order)
  std::vector<const k8s::Object*> events;  // Warning events about the Job (FailedCreate)
  k8s::WallTime now;
  // A pod that stays unschedulable or unable to pull its image this long fails the attempt.
  std::chrono::seconds scheduling_timeout{600};
  // The attempt was judged before (or a later one exists): do not wait for its pod's status.
  bool judged = false;
};

AttemptObservation ObserveAttempt(const AttemptInputs& in);

}  // namespace stepline::reconcilers
