#include "reconcilers/attempt.h"

#include <algorithm>
#include <array>
#include <utility>

#include "k8sclient/job_state.h"
#include "k8sclient/object_fields.h"

namespace stepline::reconcilers {
namespace {

using k8s::Child;
using k8s::ConditionOf;
using k8s::Object;
using k8s::StringField;
using k8s::TimeField;
using k8s::TrueCondition;
using k8s::WallTime;

constexpr std::array<std::pair<FailureClass, const char*>, 9> kClassNames = {{
    {FailureClass::kError, "Error"},
    {FailureClass::kOOMKilled, "OOMKilled"},
    {FailureClass::kDeadlineExceeded, "DeadlineExceeded"},
    {FailureClass::kDisrupted, "Disrupted"},
    {FailureClass::kImagePull, "ImagePull"},
    {FailureClass::kUnschedulable, "Unschedulable"},
    {FailureClass::kQuotaExceeded, "QuotaExceeded"},
    {FailureClass::kPodRejected, "PodRejected"},
    {FailureClass::kArtifactError, "ArtifactError"},
}};

// The first container's status (Stepline pods have exactly one container).
const Object& MainContainerStatus(const Object& pod) {
  static const Object kNull;
  const Object& statuses = Child(Child(pod, "status"), "containerStatuses");
  if (!statuses.is_array() || statuses.empty()) return kNull;
  return statuses[0];
}

const Object& Terminated(const Object& pod) {
  return Child(Child(MainContainerStatus(pod), "state"), "terminated");
}

// The terminated state of an artifact container (init or sidecar) that exited non-zero, or null.
const Object* FailedArtifactContainer(const Object& pod) {
  const Object& statuses = Child(Child(pod, "status"), "initContainerStatuses");
  if (!statuses.is_array()) return nullptr;
  for (const Object& st : statuses) {
    if (StringField(st, "name").rfind(kArtifactContainerPrefix, 0) != 0) continue;
    const Object& term = Child(Child(st, "state"), "terminated");
    const Object& code = Child(term, "exitCode");
    if (code.is_number_integer() && code.get<int>() != 0) return &term;
  }
  return nullptr;
}

// The pod that best explains the Job's state: the newest one.
const Object* NewestPod(const std::vector<const Object*>& pods) {
  const Object* best = nullptr;
  std::string best_time;
  for (const Object* p : pods) {
    std::string created = StringField(Child(*p, "metadata"), "creationTimestamp");
    if (best == nullptr || created >= best_time) {
      best = p;
      best_time = created;
    }
  }
  return best;
}

bool IsImagePullReason(const std::string& reason) {
  return reason == "ErrImagePull" || reason == "ImagePullBackOff" || reason == "InvalidImageName" ||
         reason == "ErrImageNeverPull";
}

void FillTimes(const Object* pod, AttemptObservation* out) {
  if (pod == nullptr) return;
  const Object& state = Child(MainContainerStatus(*pod), "state");
  out->start_time = TimeField(Child(state, "running"), "startedAt");
  const Object& term = Child(state, "terminated");
  if (!out->start_time) out->start_time = TimeField(term, "startedAt");
  if (!out->completion_time) out->completion_time = TimeField(term, "finishedAt");
}

std::string ExitMessage(int code, const std::string& detail) {
  std::string msg = "exit code " + std::to_string(code);
  if (!detail.empty()) msg += ": " + detail;
  return msg;
}

}  // namespace

const char* FailureClassName(FailureClass c) {
  for (const auto& [cls, name] : kClassNames) {
    if (cls == c) return name;
  }
  return "";
}

std::optional<FailureClass> ParseFailureClass(const std::string& name) {
  for (const auto& [cls, n] : kClassNames) {
    if (name == n) return cls;
  }
  return std::nullopt;
}

namespace {

// A failed download or upload: ArtifactError with stepline-artifacts' message (the storage's
// code and words, the operation and the URI). False when no artifact container failed.
bool ClassifyArtifactFailure(const Object& pod, AttemptObservation* out) {
  const Object* term = FailedArtifactContainer(pod);
  if (term == nullptr) return false;
  out->phase = AttemptPhase::kFailed;
  out->failure = FailureClass::kArtifactError;
  std::string message = StringField(*term, "message");
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  out->message = "ArtifactError: " +
                 (message.empty() ? ExitMessage(Child(*term, "exitCode").get<int>(), "") : message);
  if (!out->completion_time) out->completion_time = TimeField(*term, "finishedAt");
  return true;
}

// Why the newest pod of a failed Job failed.
void ClassifyFailedPod(const Object* pod, AttemptObservation* out) {
  if (pod == nullptr) {
    out->failure = FailureClass::kError;
    return;
  }
  if (const Object* d = TrueCondition(*pod, "DisruptionTarget")) {
    out->failure = FailureClass::kDisrupted;
    out->message = StringField(*d, "reason") + ": " + StringField(*d, "message");
    return;
  }
  const Object& status = Child(*pod, "status");
  if (k8s::IsBeingDeleted(*pod)) {
    // Deleted while it ran (kubectl delete pod, a drain without the eviction API): the
    // platform's doing, not the step's, like an eviction.
    const Object& code = Child(Terminated(*pod), "exitCode");
    out->failure = FailureClass::kDisrupted;
    out->message =
        "PodDeleted: the pod was deleted while it ran" +
        (code.is_number_integer() ? " (exit code " + std::to_string(code.get<int>()) + ")"
                                  : std::string());
    return;
  }
  if (StringField(status, "reason") == "Evicted" || StringField(status, "reason") == "NodeLost") {
    out->failure = FailureClass::kDisrupted;
    out->message = StringField(status, "reason") + ": " + StringField(status, "message");
    return;
  }
  const Object& term = Terminated(*pod);
  // The step's own failure comes first: an upload after it may fail only for want of its files.
  const Object& main_code = Child(term, "exitCode");
  bool main_failed = main_code.is_number_integer() && main_code.get<int>() != 0;
  if (!main_failed && ClassifyArtifactFailure(*pod, out)) return;
  const Object& code = Child(term, "exitCode");
  if (code.is_number_integer()) out->exit_code = code.get<int>();
  std::string reason = StringField(term, "reason");
  if (reason == "OOMKilled") {
    out->failure = FailureClass::kOOMKilled;
    out->message = "OOMKilled: the container exceeded its memory limit";
    return;
  }
  std::string waiting =
      StringField(Child(Child(MainContainerStatus(*pod), "state"), "waiting"), "reason");
  if (IsImagePullReason(waiting)) {
    out->failure = FailureClass::kImagePull;
    out->message = waiting;
    return;
  }
  out->failure = FailureClass::kError;
  out->message = ExitMessage(out->exit_code.value_or(-1), StringField(term, "message"));
}

void ObserveFailedJob(const Object& failed, const Object* pod, AttemptObservation* out) {
  out->phase = AttemptPhase::kFailed;
  out->completion_time = TimeField(failed, "lastTransitionTime");
  FillTimes(pod, out);
  if (StringField(failed, "reason") == "DeadlineExceeded") {
    out->failure = FailureClass::kDeadlineExceeded;
    out->message = "DeadlineExceeded: " + StringField(failed, "message");
    return;
  }
  ClassifyFailedPod(pod, out);
  if (pod != nullptr) out->termination_message = StringField(Terminated(*pod), "message");
}

// The newest of the Job controller's FailedCreate events (the pod was refused), or null.
const Object* NewestFailedCreate(const std::vector<const Object*>& events) {
  const Object* best = nullptr;
  for (const Object* e : events) {
    if (StringField(*e, "reason") != "FailedCreate") continue;
    if (best == nullptr || StringField(*e, "lastTimestamp") >= StringField(*best, "lastTimestamp"))
      best = e;
  }
  return best;
}

// A refused pod: "exceeded quota" is a wait (QuotaExceeded); any other refusal (Pod Security,
// LimitRange, an admission webhook) ends the attempt as PodRejected with the server's message.
void ObserveRefusedPod(const Object& event, AttemptObservation* out) {
  out->message = StringField(event, "message");
  if (out->message.find("exceeded quota") != std::string::npos) {
    out->failure = FailureClass::kQuotaExceeded;
    return;
  }
  out->failure = FailureClass::kPodRejected;
  out->phase = AttemptPhase::kFailed;
  out->completion_time = TimeField(event, "lastTimestamp");
}

bool WaitedTooLong(const std::optional<WallTime>& since, const AttemptInputs& in) {
  return since.has_value() && in.now - *since >= in.scheduling_timeout;
}

// A pod that exists but is not running: waiting for a node or an image.
void ObservePendingPod(const Object& pod, const AttemptInputs& in, AttemptObservation* out) {
  out->reusable = false;  // how long it has waited depends on now
  const Object* sched = ConditionOf(pod, "PodScheduled");
  if (sched != nullptr && StringField(*sched, "status") == "False" &&
      StringField(*sched, "reason") == "Unschedulable") {
    out->failure = FailureClass::kUnschedulable;
    out->message = StringField(*sched, "message");
    auto since = TimeField(*sched, "lastTransitionTime");
    if (!since) since = TimeField(Child(pod, "metadata"), "creationTimestamp");
    if (WaitedTooLong(since, in)) out->phase = AttemptPhase::kFailed;
    return;
  }
  const Object& waiting = Child(Child(MainContainerStatus(pod), "state"), "waiting");
  std::string reason = StringField(waiting, "reason");
  if (reason.empty() || reason == "ContainerCreating" || reason == "PodInitializing") return;
  out->message = reason + ": " + StringField(waiting, "message");
  if (IsImagePullReason(reason)) out->failure = FailureClass::kImagePull;
  bool permanent = reason == "InvalidImageName" || reason == "ErrImageNeverPull";
  if (permanent || WaitedTooLong(TimeField(Child(pod, "metadata"), "creationTimestamp"), in)) {
    out->phase = AttemptPhase::kFailed;
    if (out->failure == FailureClass::kNone) out->failure = FailureClass::kError;
  }
}

// An artifact sidecar (an output's upload) the pod's status shows not yet terminated while the
// pod has not reached its final phase. The Job controller may already have seen the pod end
// (its pod watch is not ours): until the upload's exit is in our copy, the attempt's outcome is
// unknown.
bool UploadPending(const Object& pod) {
  std::string phase = StringField(Child(pod, "status"), "phase");
  if (phase == "Succeeded" || phase == "Failed") return false;
  const Object& statuses = Child(Child(pod, "status"), "initContainerStatuses");
  if (!statuses.is_array()) return false;
  for (const Object& st : statuses) {
    if (StringField(st, "name").rfind(kArtifactContainerPrefix, 0) != 0) continue;
    if (!Child(Child(st, "state"), "terminated").is_object()) return true;
  }
  return false;
}

// True when the pod's final state explains the Job's end: terminated (with its uploads), or
// disrupted/evicted.
bool PodSettled(const Object* pod) {
  if (pod == nullptr) return false;
  if (FailedArtifactContainer(*pod) != nullptr) return true;
  if (Terminated(*pod).is_object() && !UploadPending(*pod)) return true;
  if (TrueCondition(*pod, "DisruptionTarget") != nullptr) return true;
  std::string reason = StringField(Child(*pod, "status"), "reason");
  return reason == "Evicted" || reason == "NodeLost";
}

// A finished Job whose pod has not caught up: wait for it, at most kPodStatusGrace.
bool AwaitPodStatus(const Object* condition, const Object* pod, const AttemptInputs& in,
                    AttemptObservation* out) {
  if (PodSettled(pod)) return false;
  out->reusable = false;  // the answer depends on judged and on now
  if (in.judged) return false;
  auto since = TimeField(*condition, "lastTransitionTime");
  if (!since || in.now >= *since + kPodStatusGrace) return false;
  out->phase = AttemptPhase::kRunning;
  out->settle_by = *since + kPodStatusGrace;
  FillTimes(pod, out);
  return true;
}

}  // namespace

AttemptObservation ObserveAttempt(const AttemptInputs& in) {
  AttemptObservation out;
  const Object& job = *in.job;
  const Object* pod = NewestPod(in.pods);
  const k8s::JobState state = k8s::ClassifyJob(job);
  if (k8s::Succeeds(state)) {
    const Object* done =
        TrueCondition(job, state == k8s::JobState::kSucceeded ? "Complete" : "SuccessCriteriaMet");
    if (AwaitPodStatus(done, pod, in, &out)) return out;
    out.phase = AttemptPhase::kSucceeded;
    out.completion_time = TimeField(*done, "lastTransitionTime");
    if (!out.completion_time)
      out.completion_time = TimeField(Child(job, "status"), "completionTime");
    FillTimes(pod, &out);
    if (pod != nullptr) out.termination_message = StringField(Terminated(*pod), "message");
    // The main container succeeded but an upload (the sidecar, whose exit the Job ignores) failed.
    if (pod != nullptr) ClassifyArtifactFailure(*pod, &out);
    return out;
  }
  if (k8s::OutcomeDecided(state)) {  // failed, or failing while its pods terminate
    const Object* failed =
        TrueCondition(job, state == k8s::JobState::kFailed ? "Failed" : "FailureTarget");
    bool deadline = StringField(*failed, "reason") == "DeadlineExceeded";
    if (!deadline && AwaitPodStatus(failed, pod, in, &out)) return out;
    ObserveFailedJob(*failed, pod, &out);
    return out;
  }
  if (pod == nullptr) {
    // The Job controller counts a pod it created as active in the same sync: a refusal that
    // the Job's status contradicts is older than the pod our cache has not seen yet.
    const Object& active = Child(Child(job, "status"), "active");
    if (active.is_number_integer() && active.get<int64_t>() > 0) return out;
    if (const Object* refused = NewestFailedCreate(in.events)) ObserveRefusedPod(*refused, &out);
    return out;
  }
  std::string phase = StringField(Child(*pod, "status"), "phase");
  if (phase == "Running" || phase == "Succeeded" || phase == "Failed") {
    // Succeeded/Failed pods of an unfinished Job: the Job controller has not caught up yet.
    out.phase = AttemptPhase::kRunning;
    FillTimes(pod, &out);
    return out;
  }
  ObservePendingPod(*pod, in, &out);
  return out;
}

}  // namespace stepline::reconcilers
