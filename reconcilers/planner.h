// The planner: the pure heart of the PipelineExecution reconciler (DESIGN.md section 4).
//
//   Plan(execution, pipeline, observed Jobs with their Pods and events, now)
//     -> actions + the new status + when to look again
//
// It does no I/O and reads time only from its input, so every step semantic is covered by table
// tests without a server. It is level-based: the state of every step is recomputed from the
// Jobs that exist (their labels name step, index and attempt), the execution's spec (signals,
// stop) and the snapshot, so a controller restart at any moment loses nothing; status only
// carries what no Job can tell (the snapshot, quota waits before a Job existed, outputs whose
// pods are gone).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controller/event_type.h"
#include "k8sclient/clock.h"
#include "k8sclient/resource.h"
#include "reconcilers/api_types.h"
#include "reconcilers/artifact_staging.h"
#include "reconcilers/attempt.h"
#include "reconcilers/fan_in_store.h"
#include "reconcilers/step_cache.h"

namespace stepline::reconcilers {

using controller::EventType;

// Annotations the controller keeps on its Jobs (the Job is the record of its attempt).
inline constexpr const char* kAnnotationQuotaWaits = "stepline.dev/quota-waits";
inline constexpr const char* kAnnotationResumeAt = "stepline.dev/resume-at";
inline constexpr const char* kAnnotationResumedAt = "stepline.dev/resumed-at";
inline constexpr const char* kAnnotationQuotaMessage = "stepline.dev/quota-message";
inline constexpr const char* kAnnotationAbandoned = "stepline.dev/abandoned";
inline constexpr const char* kAnnotationAbandonedMessage = "stepline.dev/abandoned-message";
inline constexpr const char* kAnnotationAbandonedAt = "stepline.dev/abandoned-at";

struct JobRecord;

struct ObservedJob {
  const k8s::Object* job = nullptr;
  std::vector<const k8s::Object*> pods;    // the Job's pods
  std::vector<const k8s::Object*> events;  // Warning events about the Job (FailedCreate)
  // What the planner reads of these objects, read before (ReadJobRecord of this very job, pods
  // and events; see JobRecordMemo); null: Plan reads it.
  const JobRecord* record = nullptr;
};

// What the planner reads of one Job with its pods and events, apart from what only a failed or
// waiting attempt needs: reading it is most of a re-plan's cost, so it can be kept for as long
// as the objects are the same (the informer's objects are immutable; a change is a new object).
struct JobRecord {
  std::string step;  // the step label; "" when missing (the Job is ignored)
  int index = -1;    // the fan-out index label; -1 without one
  int attempt = 0;   // the attempt label; 0 when missing or out of range (the Job is ignored)
  std::string name;
  bool finished = false;  // Complete, Failed (or their targets), or abandoned
  // The attempt's observation when it depends neither on the time nor on whether the attempt
  // was judged before (AttemptObservation::reusable); nullopt: Plan observes it each time.
  std::optional<AttemptObservation> observation;
};

// Reads j's record (j.record is ignored).
JobRecord ReadJobRecord(const ObservedJob& j, std::chrono::seconds scheduling_timeout);

// A Job create a ResourceQuota refused (the API server's Forbidden "exceeded quota" answer), as
// the Job applier reported it: attempt `attempt` of step `step` (fan-out child `index`, -1
// without fan-out), refused at `at` with the server's `message`.
struct QuotaRefusal {
  std::string step;
  int index = -1;
  int attempt = 0;
  k8s::WallTime at;
  std::string message;
};

// How a step waits after ResourceQuotas refused `refused` of its Job creates at `at`, when it
// had waited `waits` times before (its status' quotaWaits): until when (10 s doubling to 5 min,
// retry.h's QuotaBackoff), and its count of waits from then on.
struct QuotaRefusalWait {
  k8s::WallTime until;
  int64_t waits = 0;
};
QuotaRefusalWait WaitAfterQuotaRefusals(int64_t waits, int refused, k8s::WallTime at);

struct PlanOptions {
  // A pod that cannot be scheduled (or cannot pull its image) this long fails its attempt.
  std::chrono::seconds scheduling_timeout{600};
  // How often to look again while the Pipeline is missing (its creation also triggers a look).
  std::chrono::seconds pipeline_not_found_requeue{60};
  ArtifactStagingOptions artifacts;  // the staging containers' image, the upload grace
};

struct PlanInputs {
  const PipelineExecution* execution = nullptr;  // required
  // The Pipeline named by spec.pipelineName (by name, else by spec.pipelineName alias);
  // nullptr when there is none. Read only before the snapshot is taken.
  const Pipeline* pipeline = nullptr;
  // Non-empty when that Pipeline failed validation: the message of its Ready condition.
  std::string pipeline_invalid_message;
  // Why no pipeline was found when one might have been (several Pipelines share the
  // spec.pipelineName alias); "" otherwise.
  std::string pipeline_lookup_problem;
  // A re-run's source (rerun.h): the execution its spec.rerunOf / selectiveExecutionConfig
  // names; nullptr when it names none or that one does not exist. Read only before the snapshot
  // is taken.
  const PipelineExecution* rerun_source = nullptr;
  std::vector<ObservedJob> jobs;  // Jobs whose controller is this execution (by UID)
  // Jobs labelled with this execution's name whose controller is not this execution (left by
  // an earlier execution of the same name, or planted): name -> who controls it. A step whose
  // next Job would take one of these names fails with reason JobNameTaken; nothing adopts them.
  std::map<std::string, std::string> foreign_jobs;
  // The namespace's artifact repository (the ConfigMap kArtifactRepositoryConfigMap); unset when
  // there is none or it is invalid, and then artifact_repository_problem says what is wrong.
  std::optional<ArtifactRepository> artifact_repository;
  std::string artifact_repository_problem;
  k8s::WallTime now;
  PlanOptions options;
  // Room may have appeared in the namespace's ResourceQuotas for this many of the execution's
  // quota waits (QuotaQueue): that many waiting units try again now, in planning order, backoff
  // or not. 0: quota waits end when their backoff does.
  int quota_grants = 0;
  // The Job creates of this execution that ResourceQuotas refused since the last plan (the
  // previous plan's creates). The unit whose create was refused (and, in a fan-out, every unit
  // without a Job) waits for quota instead of creating its Job again: WaitingForQuota, reason
  // QuotaExceeded, the server's message, until WaitAfterQuotaRefusals says; the step's status
  // counts the wait in quotaWaits, which the plans after it read.
  std::vector<QuotaRefusal> quota_refusals;
  // The fan-in stores (PlanResult::config_maps) the server refused, by FanInKey: the server's
  // message. The plan does not store those fan-ins again; their steps say why not.
  std::map<std::string, std::string> fan_in_store_refusals;
  // The namespace's step cache (step_cache.h); nullptr: not read. A cached step that has no Job
  // yet then waits, Pending, and PlanResult::step_cache_needed asks for a plan with the index.
  const StepCacheIndex* step_cache = nullptr;
};

struct Action {
  enum class Kind {
    kCreateJob,  // job: the Job to create
    kDeleteJob,  // job_name; background propagation
    kPatchJob,   // job_name, patch: a JSON merge patch
    kEvent,      // event_type, reason, message: an Event on the execution
  };
  Kind kind = Kind::kEvent;
  k8s::Object job;
  std::string job_name;
  k8s::Object patch;
  EventType event_type = EventType::kNormal;
  std::string reason;
  std::string message;
  std::string step;  // the step a Job action is for
  int index = -1;    // kCreateJob: the fan-out child it is for (-1 without fan-out)
  int attempt = 0;   // kCreateJob: the attempt it starts
};

struct PlanResult {
  PipelineExecutionStatus status;  // the new status; write it if it differs from the old one
  std::vector<Action> actions;     // in order: deletes and patches, creates, then events
  std::optional<std::chrono::milliseconds> requeue_after;
  // The quota waits this plan leaves: how many units wait and since when the oldest waits (its
  // Job's creation, or the execution's for a refused Job create). For the namespace's QuotaQueue.
  int quota_waiting = 0;
  std::optional<k8s::WallTime> quota_waiting_since;
  int quota_grants_used = 0;  // of PlanInputs::quota_grants
  // A cached step waits for the step cache, which PlanInputs did not give: plan again with it.
  bool step_cache_needed = false;
  // Entries to add to the namespace's step cache: attempts of cached steps that succeeded.
  std::vector<StepCacheEntry> step_cache_writes;
  // ConfigMaps to create before anything else of the plan is done: fan-ins the status does not
  // keep (fan_in_store.h), which this plan's status already names (status.steps[].storedOutputs
  // / storedArtifacts). Made once: a plan whose previous status names them does not make them
  // again. A plan whose ConfigMaps were not all created must not be acted on (retry it).
  std::vector<FanInConfigMap> config_maps;
};

PlanResult Plan(const PlanInputs& in);

}  // namespace stepline::reconcilers
