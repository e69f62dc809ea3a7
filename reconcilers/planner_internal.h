// Internals of the planner shared by its source files. Not part of the API.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "k8sclient/object_fields.h"
#include "reconcilers/attempt.h"
#include "reconcilers/planner.h"
#include "reconcilers/retry.h"
#include "reconcilers/snapshot.h"
#include "reconcilers/template.h"

namespace stepline::reconcilers::planner_internal {

// One thing that runs as Jobs: a step, or one child of a fan-out step.
enum class UnitPhase {
  kNotStarted,
  kPending,              // its Job exists; the pod is not running yet
  kWaitingForQuota,      // a ResourceQuota keeps its pod (or Job) from being created
  kWaitingForAdmission,  // its Job is suspended until Kueue admits it (spec.queueName)
  kRunning,
  kRetrying,  // a failed attempt; the next one starts at next_attempt_time
  kSucceeded,
  kFailed,
};

struct UnitState {
  UnitPhase phase = UnitPhase::kNotStarted;
  int attempts = 0;  // the highest attempt with a Job
  std::string job_name;
  std::string reason;  // the last failure class
  std::string message;
  std::optional<k8s::WallTime> next_attempt_time;
  std::optional<k8s::WallTime> start_time;
  std::optional<k8s::WallTime> completion_time;
  std::optional<StringMap> outputs;  // set when it succeeded and its outputs were read
  StringMap artifacts;               // when it succeeded: its output artifacts' URIs
  bool wants_job = false;            // a Job for attempt `attempts + 1` should be created now
  bool active = false;               // holds a parallelism slot (its Job is not finished)
};

// A unit's Jobs, in attempt order (index 0 is attempt 1; missing attempts are nullptr).
using UnitJobs = std::vector<const ObservedJob*>;

// What every part of one Plan call reads: the inputs and the records of their Jobs. Read-only:
// the parts return what they decided, and Plan (planner.cc) turns that into actions.
struct Planning {
  const PlanInputs& in;
  // The records Plan read itself, by position in in.jobs (for the Jobs without one).
  std::vector<JobRecord> own_records;

  // The record of j, which is an element of in.jobs.
  const JobRecord& Record(const ObservedJob& j) const {
    return j.record != nullptr ? *j.record : own_records[&j - in.jobs.data()];
  }
};

// Keeps in `at` the earlier of it and t.
inline void KeepEarliest(std::optional<k8s::WallTime>& at, k8s::WallTime t) {
  if (!at || t < *at) at = t;
}

// A JSON merge patch of one Job of a step.
struct JobPatch {
  std::string step;
  std::string job_name;
  k8s::Object patch;
};

// What planning one unit decided: its state, and what it wants done beside it.
struct UnitDecision {
  UnitState state;
  std::optional<JobPatch> patch;                  // of its latest Job (its step left "")
  std::optional<k8s::WallTime> wake_at;           // when something of it is due
  std::optional<k8s::WallTime> quota_wait_since;  // it keeps waiting for quota, since then
  bool took_quota_grant = false;                  // a quota grant (PlanInputs) ended its wait
};

// What planning one step decided beside its status, its units in order. Plan turns it into
// actions and into the plan's results (planner.cc, Enact).
struct StepDecisions {
  std::vector<JobPatch> patches;
  std::optional<k8s::WallTime> wake_at;
  int quota_waiting = 0;  // units that keep waiting for quota
  std::optional<k8s::WallTime> quota_waiting_since;
  int quota_grants_used = 0;
  bool step_cache_needed = false;  // PlanResult::step_cache_needed
  std::optional<StepCacheEntry> step_cache_write;

  // Adds a unit's decision; `step` is the unit's step.
  void Add(const std::string& step, UnitDecision& d);
};

// A step's wait for quota from before its units had Jobs: from this plan's quota refusals of
// its creates (PlanInputs::quota_refusals), else from its previous status.
struct QuotaHold {
  k8s::WallTime until;
  std::string reason;
  std::string message;
  // From this plan's refusals: the count of waits the step's status records, and the units
  // (fan-out index, attempt) whose creates were refused.
  std::optional<int64_t> waits;
  std::vector<std::pair<int, int>> refused;
};

// The step's quota hold; nullopt when it has none.
std::optional<QuotaHold> QuotaHoldOf(const Step& step, const StepStatus* old, const PlanInputs& in);

RetrySettings RetrySettingsOf(const Step& step);

// The state of one unit from its Jobs. old: the step's previous status (for outputs whose pods
// are gone); may be null. hold: the step's quota hold (QuotaHoldOf); may be null. index: the
// unit's fan-out index, -1 without fan-out.
// fan_out_child: old is the whole step's status, whose outputs are not this unit's.
// grant_available: a quota grant is left to end a wait of it now (it says if it took it).
UnitDecision PlanUnit(const UnitJobs& jobs, const Step& step, const StepStatus* old,
                      const QuotaHold* hold, int index, bool fan_out_child, bool grant_available,
                      const Planning& p);

// Parses a termination message into outputs: a JSON object whose values are strings (numbers
// and booleans are kept in their JSON spelling). "" gives no outputs.
k8s::Result<StringMap> ParseOutputs(const std::string& text);

// True when the Job has finished (Complete or Failed) or was abandoned by the controller.
bool JobFinished(const k8s::Object& job);
// The unit's Job is suspended until Kueue admits it from LocalQueue `queue` (spec.queueName).
void WaitForAdmission(const std::string& queue, UnitState* u);

}  // namespace stepline::reconcilers::planner_internal

namespace stepline::reconcilers::planner_internal {

// The plan of one step within one Plan call.
struct StepPlan {
  const Step* step = nullptr;
  size_t declared = 0;              // position in the snapshot
  const StepStatus* old = nullptr;  // previous status entry, may be null
  bool fan_out = false;
  bool gated = false;  // waiting for dependencies, skipped, or decided without Jobs
  nlohmann::json items = nlohmann::json::array();  // fan-out items, in order
  std::vector<UnitState> units;                    // one (no fan-out) or one per item
  StepStatus status;                               // the result, filled by AggregateStep
  bool blocking_failure = false;                   // failed with onFailure Fail, or a Fail step
  StepDecisions decided;                           // what else PlanStep decided
  // A fan-in too large to pass on (AggregateStep): name -> why, and where the values are.
  StringMap outputs_not_kept;
  StringMap artifacts_not_kept;
  // The ConfigMaps storing fan-ins the status does not keep, to create (PlanResult::config_maps).
  std::vector<FanInConfigMap> fan_in_config_maps;
};

// Values of the steps planned so far, parameters and the execution, for templates and `when`.
class PlanContext : public TemplateContext {
 public:
  // start_time: when the execution started, RFC 3339. snapshot must outlive the context.
  PlanContext(const Snapshot& snapshot, const PipelineExecution& execution, std::string start_time);
  const Snapshot& snapshot() const { return snapshot_; }
  const std::string* Parameter(std::string_view name) const override;
  const nlohmann::json* Item() const override { return item_; }
  const StepValues* Step(std::string_view name) const override;
  std::string_view ExecutionName() const override { return execution_.metadata.name; }
  std::string_view ExecutionNamespace() const override { return execution_.metadata.namespace_; }
  std::string_view ExecutionStartTime() const override { return start_time_; }

  void SetItem(const nlohmann::json* item) { item_ = item; }
  // Makes the planned step's values (its status, and what of its fan-in is not kept) readable.
  void Publish(const StepPlan& plan);
  // Declared with type String (or no type): a notebook parameter of it stays a string.
  bool IsStringParameter(std::string_view name) const { return string_parameters_.count(name); }

 private:
  const Snapshot& snapshot_;
  const PipelineExecution& execution_;
  std::string start_time_;
  std::map<std::string, std::string, std::less<>> parameters_;
  std::set<std::string, std::less<>> string_parameters_;
  std::map<std::string, StepValues, std::less<>> steps_;
  const nlohmann::json* item_ = nullptr;
};

// Decides a step that needs no Jobs (dependencies, `when`, Approval, Fail), or resolves its
// fan-out items; then plans its units from jobs (key: index, -1 without fan-out).
// A step's Jobs by fan-out index (-1 without fan-out).
using StepJobs = std::unordered_map<int, UnitJobs>;

// grants: the quota grants (PlanInputs::quota_grants) the steps planned before left.
void PlanStep(StepPlan& sp, const StepJobs& jobs, const PlanContext& ctx,
              const std::map<std::string, const StepPlan*>& planned, int grants, const Planning& p);

// The step with command, args, env values and artifact URIs rendered for the context's item.
k8s::Result<Step> RenderStep(const Step& step, const PlanContext& ctx);

// Step caching (step_cache.h), for a step StepCached says is cached:
// DecideFromStepCache decides a step that has no Job yet from the index (Succeeded with the
// entry's outputs and cachedFrom; or Pending while the index has not been read: its decisions'
// step_cache_needed); false when it must run. StepCacheWrite answers, in the plan that sees its
// Job succeed, the entry to add to the index.
bool DecideFromStepCache(StepPlan& sp, const StepJobs& jobs, const PlanContext& ctx,
                         const PlanInputs& in);
std::optional<StepCacheEntry> StepCacheWrite(const StepPlan& sp, const PlanContext& ctx,
                                             const PlanInputs& in);

// Fills sp.status from its units (or keeps the gate's decision). A fan-in value (an output, or
// an output artifact's URIs, as a JSON list of the children's) larger than a status keeps
// (kMaxOutputBytes) is not in the status and not passed on in templates: it is stored in
// ConfigMaps of the execution (fan_in_store.h; sp.status names them, sp.fan_in_config_maps are
// the ones to create when the previous status did not name them yet) unless it is larger than
// kMaxStoredFanInBytes or the server refused the store (in.fan_in_store_refusals); the step's
// message and sp.*_not_kept say where the values are.
void AggregateStep(StepPlan& sp, const PlanInputs& in);

bool IsTerminal(StepPhase phase);

}  // namespace stepline::reconcilers::planner_internal
