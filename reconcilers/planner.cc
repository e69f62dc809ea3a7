// The planner's top level: start (snapshot, parameters), stop, timeout, the steps in
// dependency order, parallelism limits, fail-fast, completion, conditions and events.
#include "reconcilers/planner.h"

#include <algorithm>

#include "k8sclient/object_fields.h"

#include "reconcilers/graph.h"
#include "reconcilers/job_builder.h"
#include "reconcilers/notebook.h"
#include "reconcilers/planner_internal.h"
#include "reconcilers/rerun.h"
#include "reconcilers/status_bounds.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using k8s::WallTime;
using planner_internal::IsTerminal;
using planner_internal::JobPatch;
using planner_internal::Planning;
using planner_internal::StepDecisions;
using planner_internal::StepPlan;
using planner_internal::UnitJobs;
using planner_internal::UnitPhase;
using planner_internal::UnitState;

using JobIndex = std::map<std::string, planner_internal::StepJobs, std::less<>>;

// The plan being made: what its parts read, the result it fills and the earliest time something
// is due. Only this file writes into it: the steps and their units return what they decided
// (planner_internal.h), and Enact turns that into actions and results.
struct Making {
  Making(const PlanInputs& inputs, PlanResult& result)
      : reads{inputs, {}}, in(inputs), out(result) {}

  Planning reads;
  const PlanInputs& in;
  PlanResult& out;
  std::optional<WallTime> wake_at;

  const JobRecord& Record(const ObservedJob& j) const { return reads.Record(j); }
  void WakeAt(WallTime t) { planner_internal::KeepEarliest(wake_at, t); }
  void Delete(const std::string& step, const std::string& job_name) {
    Action a;
    a.kind = Action::Kind::kDeleteJob;
    a.step = step;
    a.job_name = job_name;
    out.actions.push_back(std::move(a));
  }
  // What one step decided, as actions and results; steps in planning order.
  void Enact(StepDecisions& d) {
    for (JobPatch& patch : d.patches) {
      Action a;
      a.kind = Action::Kind::kPatchJob;
      a.step = std::move(patch.step);
      a.job_name = std::move(patch.job_name);
      a.patch = std::move(patch.patch);
      out.actions.push_back(std::move(a));
    }
    if (d.wake_at) WakeAt(*d.wake_at);
    out.quota_waiting += d.quota_waiting;
    if (d.quota_waiting_since) {
      planner_internal::KeepEarliest(out.quota_waiting_since, *d.quota_waiting_since);
    }
    out.quota_grants_used += d.quota_grants_used;
    out.step_cache_needed = out.step_cache_needed || d.step_cache_needed;
    if (d.step_cache_write) out.step_cache_writes.push_back(std::move(*d.step_cache_write));
  }
};

JobIndex IndexJobs(const Making& p) {
  JobIndex index;
  for (const auto& j : p.in.jobs) {
    const JobRecord& r = p.Record(j);
    if (r.step.empty() || r.attempt == 0) continue;
    UnitJobs& unit = index[r.step][r.index];
    if (unit.size() < static_cast<size_t>(r.attempt)) unit.resize(r.attempt, nullptr);
    unit[r.attempt - 1] = &j;
  }
  return index;
}

void Emit(PlanResult& out, EventType type, std::string reason, std::string message) {
  Action a;
  a.kind = Action::Kind::kEvent;
  a.event_type = type;
  a.reason = std::move(reason);
  a.message = std::move(message);
  out.actions.push_back(std::move(a));
}

void SetBothConditions(PipelineExecutionStatus& s, const char* status, const std::string& reason,
                       const std::string& message, int64_t generation, WallTime now) {
  for (const char* type : {kConditionSucceeded, kConditionReady}) {
    Condition c;
    c.type = type;
    c.status = status;
    c.reason = reason;
    c.message = message;
    c.observed_generation = generation;
    SetCondition(&s.conditions, c, now);
  }
  SetKstatusConditions(&s.conditions, status, reason, message, generation, now);
}

int64_t Generation(const PlanInputs& in) { return in.execution->metadata.generation.value_or(0); }

// Ends the execution as Failed (or Stopped) with a reason and message.
void Finish(PlanResult& out, const PlanInputs& in, ExecutionStatus final_status,
            const std::string& reason, const std::string& message) {
  PipelineExecutionStatus& s = out.status;
  s.pipeline_execution_status = final_status;
  s.completion_time = in.now;
  bool ok = final_status == ExecutionStatus::kSucceeded;
  s.failure_reason = final_status == ExecutionStatus::kFailed ? reason + ": " + message : "";
  SetBothConditions(s, ok ? kConditionTrue : kConditionFalse, reason, message, Generation(in),
                    in.now);
  const char* event =
      ok ? "ExecutionSucceeded"
         : (final_status == ExecutionStatus::kStopped ? "ExecutionStopped" : "ExecutionFailed");
  Emit(out, ok ? EventType::kNormal : EventType::kWarning, event, message);
}

// True when status says Succeeded though a step of the snapshot has not finished: not a
// status the planner writes (it concludes Succeeded only when every step is terminal).
bool ClaimsUnfinishedSuccess(const PipelineExecutionStatus& s) {
  if (s.pipeline_execution_status != ExecutionStatus::kSucceeded) return false;
  if (!s.pipeline_snapshot.is_object()) return false;
  for (const auto& step : s.steps) {
    if (!step.phase || !planner_internal::IsTerminal(*step.phase)) return true;
  }
  return false;
}

// Deletes the Jobs that are still running; true if there were any.
bool DeleteActiveJobs(const PlanInputs& in, Making& p) {
  bool any = false;
  for (const auto& j : in.jobs) {
    const JobRecord& r = p.Record(j);
    if (r.finished) continue;
    any = true;
    if (k8s::IsBeingDeleted(*j.job)) continue;
    p.Delete(r.step, r.name);
  }
  return any;
}

void MarkUnfinishedSteps(PipelineExecutionStatus& s, StepPhase phase, const std::string& why) {
  for (auto& step : s.steps) {
    if (step.phase && IsTerminal(*step.phase)) continue;
    step.phase = phase;
    step.message = why;
    step.next_attempt_time.reset();
  }
}

// spec.stop: delete running Jobs, start nothing; Stopped once no Job runs.
void PlanStop(PlanResult& out, const PlanInputs& in, Making& p) {
  bool running = DeleteActiveJobs(in, p);
  MarkUnfinishedSteps(out.status, StepPhase::kStopped, "stopped by spec.stop");
  if (running) {
    out.status.pipeline_execution_status = ExecutionStatus::kStopping;
    SetBothConditions(out.status, kConditionUnknown, "Stopping", "deleting the running Jobs",
                      Generation(in), in.now);
    return;
  }
  Finish(out, in, ExecutionStatus::kStopped, "Stopped", "stopped by spec.stop");
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

// A re-run starts from its source's snapshot with the reused steps decided (rerun.h).
bool StartRerunOf(PlanResult& out, const PlanInputs& in, const RerunRequest& request) {
  k8s::Result<RerunStart> start = StartRerun(request, *in.execution, in.rerun_source, in.pipeline);
  if (!start.ok()) {
    Finish(out, in, ExecutionStatus::kFailed, "InvalidRerun", start.status().message());
    return false;
  }
  PipelineExecutionStatus& s = out.status;
  s.pipeline_snapshot = std::move(start->snapshot);
  s.pipeline_generation = start->pipeline_generation;
  s.start_time = in.now;
  s.pipeline_execution_status = ExecutionStatus::kExecuting;
  std::vector<std::string> reused;
  for (const auto& step : start->reused) reused.push_back(step.name);
  s.steps = std::move(start->reused);
  Emit(out, EventType::kNormal, "Rerun",
       BoundText("re-running " + JoinNames(start->run) + " of \"" + request.source +
                     "\"; reusing " + JoinNames(reused),
                 kMaxMessageBytes));
  return true;
}

// Takes the snapshot when the execution starts; false when the execution cannot start.
bool Start(PlanResult& out, const PlanInputs& in) {
  k8s::Result<std::optional<RerunRequest>> rerun = RerunRequestOf(in.execution->spec);
  if (!rerun.ok()) {
    Finish(out, in, ExecutionStatus::kFailed, "InvalidRerun", rerun.status().message());
    return false;
  }
  if (*rerun) return StartRerunOf(out, in, **rerun);
  PipelineExecutionStatus& s = out.status;
  const std::string& name = in.execution->spec.pipeline_name;
  if (in.pipeline == nullptr) {
    s.pipeline_execution_status = ExecutionStatus::kPending;
    bool ambiguous = !in.pipeline_lookup_problem.empty();
    SetBothConditions(s, kConditionUnknown,
                      ambiguous ? "AmbiguousPipelineName" : "PipelineNotFound",
                      ambiguous ? in.pipeline_lookup_problem
                                : "pipeline \"" + name + "\" not found in namespace \"" +
                                      in.execution->metadata.namespace_ + "\"",
                      Generation(in), in.now);
    out.requeue_after = in.options.pipeline_not_found_requeue;
    return false;
  }
  if (!in.pipeline_invalid_message.empty()) {
    Finish(out, in, ExecutionStatus::kFailed, "InvalidPipeline",
           "pipeline \"" + name + "\" is not valid: " + in.pipeline_invalid_message);
    return false;
  }
  k8s::Result<Snapshot> snap = CompileSnapshot(*in.pipeline, in.execution->spec);
  if (!snap.ok()) {
    bool params = snap.status().code() == k8s::StatusCode::kInvalidArgument;
    Finish(out, in, ExecutionStatus::kFailed, params ? "InvalidParameters" : "InvalidPipeline",
           snap.status().message());
    return false;
  }
  s.pipeline_snapshot = ToJson(*snap);
  s.pipeline_generation = snap->pipeline_generation;
  s.start_time = in.now;
  s.pipeline_execution_status = ExecutionStatus::kExecuting;
  return true;
}

// Steps in an order where every dependency comes first, ties in declaration order. A snapshot
// is compiled from a validated Pipeline; should its graph still be broken, the steps are taken
// in declaration order (and those whose dependencies never finish keep waiting).
std::vector<size_t> DependencyOrder(const std::vector<Step>& steps) {
  std::vector<StepDependencies> deps;
  deps.reserve(steps.size());
  for (const auto& s : steps) deps.push_back({s.name, s.depends_on});
  k8s::Result<Graph> graph = BuildGraph(deps);
  if (graph.ok()) return graph->TopologicalOrder();
  std::vector<size_t> order(steps.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  return order;
}

}  // namespace
}  // namespace stepline::reconcilers

namespace stepline::reconcilers {
namespace {

struct Steps {
  std::vector<StepPlan> plans;  // in declaration order
  std::map<std::string, StepStatus, std::less<>> old;
};

using planner_internal::RenderStep;
void MarkTemplateError(UnitState& u, const k8s::Status& why);

// A caught step (onFailure: Continue) whose templates cannot be rendered fails here, before its
// dependents are planned: found only when its Jobs are built (Allocate), it would be planned
// again as not started on every reconcile and its dependents would wait for it forever.
void FailUnrenderableUnits(StepPlan& sp, planner_internal::PlanContext& ctx) {
  if (sp.gated || sp.step->on_failure.value_or(OnFailure::kFail) != OnFailure::kContinue) return;
  for (size_t i = 0; i < sp.units.size(); ++i) {
    UnitState& u = sp.units[i];
    if (!u.wants_job) continue;
    ctx.SetItem(sp.fan_out ? &sp.items[i] : nullptr);
    k8s::Result<Step> rendered = RenderStep(*sp.step, ctx);
    ctx.SetItem(nullptr);
    if (!rendered.ok()) MarkTemplateError(u, rendered.status());
  }
}

void PlanAllSteps(Steps& st, const Snapshot& snap, const JobIndex& jobs,
                  planner_internal::PlanContext& ctx, Making& p) {
  for (const auto& s : p.out.status.steps) st.old[s.name] = s;  // as Start left them
  st.plans.resize(snap.steps.size());
  for (size_t i = 0; i < snap.steps.size(); ++i) {
    StepPlan& sp = st.plans[i];
    sp.step = &snap.steps[i];
    sp.declared = i;
    auto it = st.old.find(sp.step->name);
    sp.old = it == st.old.end() ? nullptr : &it->second;
    if (sp.old != nullptr) sp.status.extra = sp.old->extra;
  }
  static const planner_internal::StepJobs kNoJobs;
  std::map<std::string, const StepPlan*> planned;
  for (size_t i : DependencyOrder(snap.steps)) {
    StepPlan& sp = st.plans[i];
    auto it = jobs.find(sp.step->name);
    planner_internal::PlanStep(sp, it == jobs.end() ? kNoJobs : it->second, ctx, planned,
                               p.in.quota_grants - p.out.quota_grants_used, p.reads);
    FailUnrenderableUnits(sp, ctx);
    planner_internal::AggregateStep(sp, p.in);
    sp.decided.step_cache_write = planner_internal::StepCacheWrite(sp, ctx, p.in);
    p.Enact(sp.decided);
    ctx.Publish(sp);
    planned[sp.step->name] = &sp;
  }
}

// The artifacts of one attempt of one unit, resolved from the rendered step.
k8s::Result<StagedArtifacts> StageArtifacts(const Step& rendered, std::optional<int> index,
                                            int attempt, const planner_internal::PlanContext& ctx,
                                            const Making& p) {
  const PipelineExecution& ex = *p.in.execution;
  ArtifactResolution r;
  r.step = &rendered;
  // No repository: a Notebook step's executed copy stays in its pod (the step's message says so).
  Step unkept;
  if (!p.in.artifact_repository && p.in.artifact_repository_problem.empty() &&
      WithoutUnkeptNotebook(rendered, &unkept)) {
    r.step = &unkept;
  }
  r.upstream = [&ctx](const std::string& step) { return ctx.Step(step); };
  r.repository = p.in.artifact_repository ? &*p.in.artifact_repository : nullptr;
  r.repository_problem = p.in.artifact_repository_problem;
  r.ns = ex.metadata.namespace_;
  r.execution = ex.metadata.name;
  r.index = index;
  r.attempt = attempt;
  r.options = p.in.options.artifacts;
  return ResolveArtifacts(r);
}

void MarkTemplateError(UnitState& u, const k8s::Status& why) {
  u.phase = UnitPhase::kFailed;
  u.wants_job = false;
  u.reason = "TemplateError";
  u.message = why.message();
}

std::string ItemText(const nlohmann::json& item) {
  return item.is_string() ? item.get<std::string>() : item.dump();
}

// The step as its Jobs are built from it: without its forEach, a fan-out's whole item list
// that no Job reads (copying it once per child made building n Jobs cost O(n^2)).
Step JobStepOf(const Step& step) {
  Step out = step;
  out.for_each.clear();
  out.for_each.shrink_to_fit();
  return out;
}

// Creates the Job of one unit from job_step (JobStepOf the unit's step); false if its templates
// could not be rendered (unit failed).
bool CreateUnitJob(StepPlan& sp, const Step& job_step, size_t i, const Snapshot& snap,
                   planner_internal::PlanContext& ctx, Making& p) {
  UnitState& u = sp.units[i];
  const nlohmann::json* item = sp.fan_out ? &sp.items[i] : nullptr;
  ctx.SetItem(item);
  k8s::Result<Step> rendered = RenderStep(job_step, ctx);
  ctx.SetItem(nullptr);
  if (!rendered.ok()) {
    MarkTemplateError(u, rendered.status());
    return false;
  }
  const PipelineExecution& ex = *p.in.execution;
  std::optional<int> index = sp.fan_out ? std::optional<int>(static_cast<int>(i)) : std::nullopt;
  k8s::Result<StagedArtifacts> staged = StageArtifacts(*rendered, index, u.attempts + 1, ctx, p);
  if (!staged.ok()) {
    MarkTemplateError(u, staged.status());
    u.reason = FailureClassName(FailureClass::kArtifactError);
    return false;
  }
  JobInput in{ex.metadata.name,
              ex.metadata.namespace_,
              ex.metadata.uid,
              &snap,
              &*rendered,
              index,
              sp.fan_out ? ItemText(*item) : "",
              u.attempts + 1,
              &*staged};
  Action a;
  a.kind = Action::Kind::kCreateJob;
  a.step = sp.step->name;
  a.index = index.value_or(-1);
  a.attempt = u.attempts + 1;
  a.job = BuildStepJob(in);
  if (auto foreign = p.in.foreign_jobs.find(k8s::NameOf(a.job));
      foreign != p.in.foreign_jobs.end()) {
    u.phase = UnitPhase::kFailed;
    u.wants_job = false;
    u.reason = "JobNameTaken";
    u.message = "Job \"" + foreign->first + "\" exists but is not owned by this execution (" +
                foreign->second + "); delete that Job, or run under another execution name";
    return false;
  }
  u.job_name = k8s::NameOf(a.job);
  p.out.actions.push_back(std::move(a));
  u.attempts += 1;
  u.phase = UnitPhase::kPending;
  if (!snap.queue_name.empty()) WaitForAdmission(snap.queue_name, &u);  // created suspended
  u.wants_job = false;
  u.active = true;
  return true;
}

int ActiveUnits(const StepPlan& sp) {
  int n = 0;
  for (const auto& u : sp.units) n += u.active ? 1 : 0;
  return n;
}

// Creates Jobs for the units that want one, in declaration order, within the execution's
// maxParallelExecutionSteps and each fan-out step's maxParallel.
void Allocate(Steps& st, const Snapshot& snap, planner_internal::PlanContext& ctx, Making& p) {
  int64_t active = 0;
  for (const auto& sp : st.plans) active += ActiveUnits(sp);
  const auto& limit = snap.max_parallel_execution_steps;
  for (auto& sp : st.plans) {
    if (sp.gated) continue;
    int64_t step_active = ActiveUnits(sp);
    bool created = false;
    std::optional<Step> job_step;  // made when the first unit wants a Job
    for (size_t i = 0; i < sp.units.size(); ++i) {
      if (!sp.units[i].wants_job) continue;
      if (limit && active >= *limit) break;
      if (sp.fan_out && sp.step->max_parallel && step_active >= *sp.step->max_parallel) break;
      if (!job_step) job_step = JobStepOf(*sp.step);
      if (!CreateUnitJob(sp, *job_step, i, snap, ctx, p)) continue;
      ++active;
      ++step_active;
      created = true;
    }
    if (created || !sp.units.empty()) {
      planner_internal::AggregateStep(sp, p.in);
    }
  }
}

const StepPlan* FirstBlockingFailure(const Steps& st) {
  for (const auto& sp : st.plans) {
    if (sp.blocking_failure && sp.status.phase == StepPhase::kFailed) return &sp;
  }
  return nullptr;
}

// After a blocking failure nothing new starts: steps that are not running end as Skipped.
void FailFast(Steps& st, const StepPlan& failed) {
  std::string why = "not run: step \"" + failed.step->name + "\" failed";
  for (auto& sp : st.plans) {
    if (&sp == &failed || (sp.status.phase && IsTerminal(*sp.status.phase))) continue;
    if (ActiveUnits(sp) > 0) continue;
    sp.status.phase =
        sp.status.phase == StepPhase::kRetrying ? StepPhase::kFailed : StepPhase::kSkipped;
    sp.status.message =
        sp.status.phase == StepPhase::kFailed
            ? sp.status.message + "; not retried: step \"" + failed.step->name + "\" failed"
            : why;
    sp.status.next_attempt_time.reset();
  }
}

std::string Progress(const Steps& st) {
  int64_t done = 0, total = 0;
  for (const auto& sp : st.plans) {
    bool terminal = sp.status.phase && IsTerminal(*sp.status.phase);
    if (sp.status.children && sp.status.children->total > 0) {
      total += sp.status.children->total;
      done += terminal ? sp.status.children->total
                       : sp.status.children->succeeded + sp.status.children->failed;
    } else {
      total += 1;
      done += terminal ? 1 : 0;
    }
  }
  return std::to_string(done) + "/" + std::to_string(total);
}

}  // namespace
}  // namespace stepline::reconcilers

namespace stepline::reconcilers {
namespace {

// Events for what changed in a step since the last status: once per transition.
void StepEvents(PlanResult& out, const StepStatus* old, const StepStatus& now, int created) {
  const std::string& name = now.name;
  auto was = old && old->phase ? *old->phase : StepPhase::kPending;
  auto is = now.phase.value_or(StepPhase::kPending);
  bool first_children =
      now.children &&
      (!old || !old->children ||
       old->children->running + old->children->succeeded + old->children->failed == 0);
  if (created > 0 && now.children && first_children) {
    Emit(out, EventType::kNormal, "StepStarted",
         "step \"" + name + "\": fan-out over " + std::to_string(now.children->total) +
             " items, first " + std::to_string(created) + " started");
  } else if (created > 0 && !now.children) {
    Emit(out, EventType::kNormal, "StepStarted",
         "step \"" + name + "\" attempt " + std::to_string(now.attempts) + ": created Job " +
             now.job_name);
  }
  bool reason_new = now.reason == "Unschedulable" && (!old || old->reason != "Unschedulable");
  if (reason_new && is == StepPhase::kPending) {
    Emit(out, EventType::kWarning, "Unschedulable", "step \"" + name + "\": " + now.message);
  }
  if (was == is) return;
  std::string prefix = "step \"" + name + "\"";
  switch (is) {
    case StepPhase::kSucceeded:
      return Emit(out, EventType::kNormal, "StepSucceeded", prefix + " succeeded");
    case StepPhase::kFailed:
      return Emit(out, EventType::kWarning, "StepFailed", prefix + " failed: " + now.message);
    case StepPhase::kRetrying:
      return Emit(out, EventType::kNormal, "StepRetrying", prefix + ": " + now.message);
    case StepPhase::kWaitingForQuota:
      return Emit(out, EventType::kWarning, "WaitingForQuota", prefix + ": " + now.message);
    case StepPhase::kWaitingForAdmission:
      return Emit(out, EventType::kNormal, "WaitingForAdmission", prefix + ": " + now.message);
    default:
      return;
  }
}

void AllEvents(PlanResult& out, const Steps& st) {
  std::map<std::string, int> created;
  for (const auto& a : out.actions) {
    if (a.kind == Action::Kind::kCreateJob) ++created[a.step];
  }
  for (const auto& sp : st.plans) {
    StepEvents(out, sp.old, sp.status, created[sp.step->name]);
  }
}

// The Succeeded/Ready conditions of a running execution, and its completion.
void Conclude(PlanResult& out, const PlanInputs& in, const Steps& st) {
  bool all_terminal = true, busy = false, running = false, quota = false, waiting = false,
       admission = false;
  for (const auto& sp : st.plans) {
    StepPhase ph = sp.status.phase.value_or(StepPhase::kPending);
    all_terminal = all_terminal && IsTerminal(ph);
    busy = busy || ActiveUnits(sp) > 0;  // a Job of it still exists unfinished
    running =
        running || ph == StepPhase::kRunning || (ph == StepPhase::kPending && ActiveUnits(sp) > 0);
    quota = quota || ph == StepPhase::kWaitingForQuota;
    admission = admission || ph == StepPhase::kWaitingForAdmission;
    waiting = waiting || ph == StepPhase::kWaiting;
  }
  if (const StepPlan* failed = FirstBlockingFailure(st); failed != nullptr && !busy) {
    bool fail_step = failed->status.reason == "FailStep";
    Finish(out, in, ExecutionStatus::kFailed, fail_step ? "FailStep" : "StepFailed",
           "step \"" + failed->step->name + "\" failed: " + failed->status.message);
    return;
  }
  if (all_terminal) {
    Finish(out, in, ExecutionStatus::kSucceeded, "Succeeded",
           "all " + std::to_string(st.plans.size()) + " steps finished");
    return;
  }
  const char* reason = running     ? "Running"
                       : quota     ? "WaitingForQuota"
                       : admission ? "WaitingForAdmission"
                       : waiting   ? "WaitingForApproval"
                                   : "Running";
  out.status.pipeline_execution_status = ExecutionStatus::kExecuting;
  SetBothConditions(out.status, kConditionUnknown, reason, "progress " + out.status.progress,
                    Generation(in), in.now);
}

// Drops the waits recorded before a Job existed once the step has one.
void ClearQuotaWaits(StepPlan& sp) {
  if (ActiveUnits(sp) > 0) sp.status.extra.erase("quotaWaits");
}

// A signal for a step that is not an Approval step of the run is reported once per spec change
// (a Warning Event), never silently ignored.
void WarnUnknownSignals(PlanResult& out, const PlanInputs& in, const Snapshot& snap) {
  if (in.execution->status.observed_generation == Generation(in)) return;
  for (const Signal& signal : in.execution->spec.signals) {
    auto step = std::find_if(snap.steps.begin(), snap.steps.end(),
                             [&](const Step& s) { return s.name == signal.step; });
    if (step != snap.steps.end() && step->type == StepType::kApproval) continue;
    Emit(out, EventType::kWarning, "UnknownSignal",
         "spec.signals names step \"" + BoundText(signal.step, 64) + "\", " +
             (step == snap.steps.end() ? "which the pipeline does not have"
                                       : "which is not an Approval step") +
             "; the signal is ignored");
  }
}

void PlanSteps(PlanResult& out, const PlanInputs& in, const Snapshot& snap, Making& p) {
  WarnUnknownSignals(out, in, snap);
  planner_internal::PlanContext ctx(snap, *in.execution,
                                    k8s::FormatRfc3339(out.status.start_time.value_or(in.now)));
  Steps st;
  JobIndex jobs = IndexJobs(p);
  PlanAllSteps(st, snap, jobs, ctx, p);
  const StepPlan* failed = FirstBlockingFailure(st);
  if (failed == nullptr) {
    Allocate(st, snap, ctx, p);
    failed = FirstBlockingFailure(st);
  }
  if (failed != nullptr) FailFast(st, *failed);
  out.status.steps.clear();
  for (auto& sp : st.plans) {
    ClearQuotaWaits(sp);
    out.status.steps.push_back(sp.status);
    for (auto& cm : sp.fan_in_config_maps) out.config_maps.push_back(std::move(cm));
  }
  out.status.progress = Progress(st);
  AllEvents(out, st);
  Conclude(out, in, st);
}

// Executions past their own timeoutSeconds: running Jobs deleted, nothing new.
bool TimedOut(PlanResult& out, const PlanInputs& in, Making& p) {
  const auto& timeout = in.execution->spec.timeout_seconds;
  const auto& start = out.status.start_time;
  if (!timeout || !start) return false;
  WallTime deadline = *start + std::chrono::seconds(Saturate(*timeout, 1, kMaxTimeoutSeconds));
  if (in.now < deadline) {
    p.WakeAt(deadline);
    return false;
  }
  DeleteActiveJobs(in, p);
  MarkUnfinishedSteps(out.status, StepPhase::kStopped, "stopped: the execution timed out");
  Finish(out, in, ExecutionStatus::kFailed, "TimedOut",
         "the execution exceeded its timeout of " + std::to_string(*timeout) + "s");
  return true;
}

// Compared in their API form, without copying either status (an unset field is left out of
// the form, so erasing lastModifiedTime equals resetting it).
bool SameIgnoringModifiedTime(const PipelineExecutionStatus& a, const PipelineExecutionStatus& b) {
  Object ja = ToJson(a), jb = ToJson(b);
  ja.erase("lastModifiedTime");
  jb.erase("lastModifiedTime");
  return ja == jb;
}

void Wrap(PlanResult& out, const PlanInputs& in, const Making& p) {
  out.status.observed_generation = Generation(in);
  BoundStatus(&out.status);  // the one rule for what status holds (status_bounds.h)
  if (p.wake_at && !out.requeue_after) {
    auto d = std::chrono::duration_cast<std::chrono::milliseconds>(*p.wake_at - in.now);
    out.requeue_after = std::max(d, std::chrono::milliseconds(1));
  }
  if (!SameIgnoringModifiedTime(out.status, in.execution->status)) {
    out.status.last_modified_time = in.now;
  }
  // Events last, after the Job writes they describe.
  std::stable_partition(out.actions.begin(), out.actions.end(),
                        [](const Action& a) { return a.kind != Action::Kind::kEvent; });
}

}  // namespace

PlanResult Plan(const PlanInputs& in) {
  PlanResult out;
  out.status = in.execution->status;
  Making p(in, out);
  p.reads.own_records.resize(in.jobs.size());
  for (size_t i = 0; i < in.jobs.size(); ++i) {
    if (in.jobs[i].record == nullptr) {
      p.reads.own_records[i] = ReadJobRecord(in.jobs[i], in.options.scheduling_timeout);
    }
  }
  const auto& current = out.status.pipeline_execution_status;
  if (ClaimsUnfinishedSuccess(out.status)) {
    // Someone else wrote Succeeded while steps were unfinished: the Jobs are the truth.
    out.status.pipeline_execution_status = ExecutionStatus::kExecuting;
    out.status.completion_time.reset();
    Emit(out, EventType::kWarning, "StatusCorrected",
         "status said Succeeded while steps were unfinished; the run goes on");
  }
  if (IsFinishedPhase(current)) {
    if (current != ExecutionStatus::kSucceeded) DeleteActiveJobs(in, p);
  } else if (in.execution->spec.stop.value_or(false)) {
    PlanStop(out, in, p);
  } else if (out.status.pipeline_snapshot.is_object() || Start(out, in)) {
    k8s::Result<Snapshot> snap = ParseSnapshot(out.status.pipeline_snapshot, in.execution->spec);
    if (!snap.ok()) {
      Finish(out, in, ExecutionStatus::kFailed, "InvalidPipeline", snap.status().message());
    } else if (!TimedOut(out, in, p)) {
      PlanSteps(out, in, *snap, p);
    }
  }
  Wrap(out, in, p);
  return out;
}

QuotaRefusalWait WaitAfterQuotaRefusals(int64_t waits, int refused, WallTime at) {
  QuotaRefusalWait wait;
  wait.waits = std::max<int64_t>(0, waits) + std::max(refused, 1);
  wait.until = at + QuotaBackoff(static_cast<int>(std::min<int64_t>(wait.waits - 1, 1 << 20)));
  return wait;
}

}  // namespace stepline::reconcilers

namespace stepline::reconcilers::planner_internal {

// The step with command, args and env values rendered for one unit.
k8s::Result<Step> RenderStep(const Step& step, const PlanContext& ctx) {
  Step out = step;
  for (auto* list : {&out.command, &out.args}) {
    for (auto& s : *list) {
      k8s::Result<std::string> r = RenderContainerTemplate(s, ctx);
      if (!r.ok()) return r.status();
      s = std::move(r).value();
    }
  }
  for (auto& e : out.env) {
    if (!e.value) continue;
    k8s::Result<std::string> r = RenderContainerTemplate(*e.value, ctx);
    if (!r.ok()) return r.status();
    e.value = std::move(r).value();
  }
  if (out.notebook) {
    k8s::Result<Json> params = RenderNotebookParameters(
        out.notebook->parameters, ctx,
        [&ctx](std::string_view name) { return ctx.IsStringParameter(name); });
    if (!params.ok()) return params.status();
    out.notebook->parameters = std::move(params).value();
  }
  // Artifact URIs and raw texts as they are (the Job builder escapes them where Kubernetes
  // would expand).
  for (Artifact& a : out.input_artifacts) {
    if (!a.raw) continue;
    k8s::Result<std::string> r = RenderRawText(*a.raw, ctx);
    if (!r.ok()) return r.status();
    a.raw = std::move(r).value();
  }
  for (auto* list : {&out.input_artifacts, &out.output_artifacts}) {
    for (Artifact& a : *list) {
      if (a.s3.empty()) continue;
      k8s::Result<std::string> r = RenderTemplate(a.s3, ctx);
      if (!r.ok()) return r.status();
      a.s3 = std::move(r).value();
    }
  }
  return out;
}

}  // namespace stepline::reconcilers::planner_internal
