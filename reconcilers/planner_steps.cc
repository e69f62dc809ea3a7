// The planning of one step: dependencies, `when`, Approval, Fail and Record steps, fan-out items,
// and the aggregation of its units into the step's status.
#include <algorithm>
#include <utility>

#include "reconcilers/expression.h"
#include "reconcilers/fan_in_store.h"
#include "reconcilers/labels.h"
#include "reconcilers/planner_internal.h"
#include "reconcilers/rerun.h"
#include "reconcilers/status_bounds.h"
#include "reconcilers/step_cache.h"

namespace stepline::reconcilers::planner_internal {
namespace {

using k8s::WallTime;

void Decide(StepPlan& sp, StepPhase phase, std::string reason, std::string message) {
  sp.gated = true;
  sp.status.phase = phase;
  sp.status.reason = std::move(reason);
  sp.status.message = std::move(message);
}

bool Blocks(const StepPlan& dep) {
  return dep.status.phase == StepPhase::kFailed && dep.blocking_failure;
}

// False when the step must wait or was decided by its dependencies.
bool GateOnDependencies(StepPlan& sp, const std::map<std::string, const StepPlan*>& planned) {
  std::vector<std::string> waiting;
  for (const auto& name : sp.step->depends_on) {
    auto it = planned.find(name);
    if (it == planned.end()) continue;  // validation rejects unknown dependencies
    const StepPlan& dep = *it->second;
    if (Blocks(dep)) {
      Decide(sp, StepPhase::kSkipped, "DependencyFailed", "not run: step \"" + name + "\" failed");
      return false;
    }
    if (!dep.status.phase || !IsTerminal(*dep.status.phase)) waiting.push_back(name);
  }
  if (waiting.empty()) return true;
  std::string list;
  for (const auto& w : waiting) list += (list.empty() ? "" : ", ") + w;
  Decide(sp, StepPhase::kPending, "", "waiting for " + list);
  return false;
}

// False when `when` skipped the step or could not be evaluated.
bool GateOnWhen(StepPlan& sp, const PlanContext& ctx) {
  if (sp.step->when.empty()) return true;
  k8s::Result<Expression> expr = ParseExpression(sp.step->when);
  k8s::Result<bool> value = expr.ok() ? Evaluate(*expr, ctx) : k8s::Result<bool>(expr.status());
  if (!value.ok()) {
    std::string why = value.status().message();  // the expression module names "when:"
    if (why.rfind("when:", 0) != 0) why = "when: " + why;
    Decide(sp, StepPhase::kFailed, "InvalidCondition", why);
    sp.blocking_failure = sp.step->on_failure.value_or(OnFailure::kFail) == OnFailure::kFail;
    return false;
  }
  if (!*value) {
    Decide(sp, StepPhase::kSkipped, "ConditionFalse", "when was false: " + sp.step->when);
    return false;
  }
  return true;
}

const Signal* FindSignal(const PipelineExecution& ex, const std::string& step) {
  for (const auto& s : ex.spec.signals) {
    if (s.step == step) return &s;
  }
  return nullptr;
}

void PlanApproval(StepPlan& sp, const PipelineExecution& ex) {
  const Signal* signal = FindSignal(ex, sp.step->name);
  if (signal == nullptr || !signal->outcome) {
    Decide(sp, StepPhase::kWaiting, "WaitingForSignal",
           "waiting for a signal: spec.signals[{step: " + sp.step->name + "}]");
    return;
  }
  if (*signal->outcome == SignalOutcome::kSucceeded) {
    Decide(sp, StepPhase::kSucceeded, "", signal->message);
    sp.status.outputs = signal->outputs;
    return;
  }
  Decide(sp, StepPhase::kFailed, "Rejected",
         "rejected" + (signal->message.empty() ? "" : ": " + signal->message));
  sp.blocking_failure = sp.step->on_failure.value_or(OnFailure::kFail) == OnFailure::kFail;
}

// A Record step: its values rendered are its outputs, at once; a value that cannot be rendered
// fails it.
void PlanRecordStep(StepPlan& sp, const PlanContext& ctx) {
  StringMap outputs;
  for (const auto& [name, text] : sp.step->values) {
    k8s::Result<std::string> value = RenderTemplate(text, ctx);
    if (!value.ok()) {
      Decide(sp, StepPhase::kFailed, "TemplateError",
             "values." + name + ": " + value.status().message());
      sp.blocking_failure = sp.step->on_failure.value_or(OnFailure::kFail) == OnFailure::kFail;
      return;
    }
    outputs[name] = *value;
  }
  Decide(sp, StepPhase::kSucceeded, "",
         "recorded " + std::to_string(outputs.size()) + " value(s); no Job runs");
  sp.status.outputs = std::move(outputs);
}

void PlanFailStep(StepPlan& sp, const PlanContext& ctx) {
  k8s::Result<std::string> message = RenderTemplate(sp.step->message, ctx);
  Decide(sp, StepPhase::kFailed, "FailStep",
         message.ok() ? *message : "message: " + message.status().message());
  sp.blocking_failure = true;
}

// The fan-out items: a JSON list, literal or from a template. False on error (step decided).
bool ResolveItems(StepPlan& sp, const PlanContext& ctx) {
  k8s::Result<std::string> text = RenderTemplate(sp.step->for_each, ctx);
  nlohmann::json list;
  if (text.ok()) list = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!text.ok() || !list.is_array()) {
    std::string why =
        text.ok() ? "is not a JSON list: " + BoundText(*text, 200) : text.status().message();
    Decide(sp, StepPhase::kFailed, "InvalidForEach", "forEach: " + why);
    sp.blocking_failure = sp.step->on_failure.value_or(OnFailure::kFail) == OnFailure::kFail;
    return false;
  }
  sp.items = std::move(list);
  return true;
}

StepPhase PhaseOf(UnitPhase u) {
  switch (u) {
    case UnitPhase::kNotStarted:
    case UnitPhase::kPending:
      return StepPhase::kPending;
    case UnitPhase::kWaitingForQuota:
      return StepPhase::kWaitingForQuota;
    case UnitPhase::kWaitingForAdmission:
      return StepPhase::kWaitingForAdmission;
    case UnitPhase::kRunning:
      return StepPhase::kRunning;
    case UnitPhase::kRetrying:
      return StepPhase::kRetrying;
    case UnitPhase::kSucceeded:
      return StepPhase::kSucceeded;
    case UnitPhase::kFailed:
      return StepPhase::kFailed;
  }
  return StepPhase::kPending;
}

void AggregateSingle(StepPlan& sp) {
  const UnitState& u = sp.units.front();
  StepStatus& s = sp.status;
  s.phase = PhaseOf(u.phase);
  // A Job that exists but whose pod is not running yet is shown as Running once its pod runs;
  // until then Pending, with the scheduler's or kubelet's words in the message.
  s.attempts = u.attempts;
  s.job_name = u.job_name;
  s.reason = u.reason;
  s.message = u.message;
  s.next_attempt_time = u.next_attempt_time;
  s.start_time = u.start_time;
  s.completion_time = u.completion_time;
  if (u.outputs) s.outputs = *u.outputs;
  if (u.phase == UnitPhase::kSucceeded) s.artifacts = u.artifacts;
}

ChildStatus ChildOf(const StepPlan& sp, size_t i) {
  const UnitState& u = sp.units[i];
  ChildStatus c;
  c.index = static_cast<int64_t>(i);
  c.item = BoundText(sp.items[i].dump(), kMaxItemBytes);
  c.phase = PhaseOf(u.phase);
  c.attempts = u.attempts;
  c.job_name = u.job_name;
  c.reason = u.reason;
  c.message = BoundText(u.message, 512);
  c.next_attempt_time = u.next_attempt_time;
  return c;
}

// The fan-in: every output name seen, as a JSON list in item order, null where missing.
StringMap FanIn(const StepPlan& sp) {
  std::map<std::string, nlohmann::json> lists;
  for (const auto& name : sp.step->outputs) lists[name] = nlohmann::json::array();
  for (const auto& u : sp.units) {
    if (!u.outputs) continue;
    for (const auto& [k, v] : *u.outputs) lists.emplace(k, nlohmann::json::array());
  }
  for (auto& [name, list] : lists) {
    for (const auto& u : sp.units) {
      auto it = u.outputs ? u.outputs->find(name) : StringMap::const_iterator();
      if (u.outputs && it != u.outputs->end()) {
        list.push_back(it->second);
      } else {
        list.push_back(nullptr);
      }
    }
  }
  StringMap out;
  for (const auto& [name, list] : lists) out[name] = list.dump();
  return out;
}

// Each declared output artifact as the JSON list of the children's URIs, null where missing.
StringMap FanInArtifacts(const StepPlan& sp) {
  StringMap out;
  for (const Artifact& a : sp.step->output_artifacts) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& u : sp.units) {
      auto it = u.artifacts.find(a.name);
      list.push_back(it == u.artifacts.end() ? nlohmann::json(nullptr)
                                             : nlohmann::json(it->second));
    }
    out[a.name] = list.dump();
  }
  return out;
}

// Where a fan-in's values stay when they are not kept: on the children's pods (outputs) or Jobs
// (artifact URIs), with the kubectl command that lists them.
std::string FanInWhereabouts(const StepPlan& sp, bool artifacts, std::string_view execution) {
  const std::string selector = std::string(kLabelExecution) + "=" + std::string(execution) + "," +
                               kLabelStep + "=" + sp.step->name;
  if (artifacts) {
    return "each child's URI stays on its Job: kubectl get jobs -l " + selector +
           " -o jsonpath='{..annotations.stepline\\.dev/artifacts}'";
  }
  return "each child's value stays in its pod's termination message: kubectl get pods -l " +
         selector + " -o jsonpath='{..terminated.message}'";
}

const StoredFanIn* Find(const std::vector<StoredFanIn>& stored, const std::string& name) {
  for (const StoredFanIn& s : stored) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string StoredNote(const StoredFanIn& s, const std::string& kubectl) {
  const auto& cms = s.config_maps;
  const std::string which = cms.size() == 1 ? "ConfigMap " + cms[0]
                                            : std::to_string(cms.size()) + " ConfigMaps, " +
                                                  cms.front() + " to " + cms.back();
  return "stored in " + which + ": " + kubectl;
}

// Stores a fan-in too large for the status in ConfigMaps (unless `stored` names it already),
// adding its reference to `stored`; says where it is, or why it is not stored and where the
// values stay.
std::string StoreOrSayWhere(StepPlan& sp, FanInKind kind, const std::string& name,
                            const std::string& list, const PlanInputs& in,
                            std::vector<StoredFanIn>& stored) {
  const ObjectMeta& meta = in.execution->metadata;
  const FanInOwner owner{meta.name, meta.namespace_, meta.uid};
  const std::string& step = sp.step->name;
  const std::string kubectl = FanInKubectl(owner, step, kind, name);
  if (const StoredFanIn* done = Find(stored, name)) return StoredNote(*done, kubectl);
  std::string stays = FanInWhereabouts(sp, kind == FanInKind::kArtifact, meta.name);
  if (auto refused = in.fan_in_store_refusals.find(FanInKey(step, kind, name));
      refused != in.fan_in_store_refusals.end()) {
    return "storing it in ConfigMaps was refused (" + BoundText(refused->second, 300) + "); " +
           stays;
  }
  if (list.size() > kMaxStoredFanInBytes) return "too large to store (over 8 MiB); " + stays;
  k8s::Result<FanInStore> store = StoreFanIn(owner, step, kind, name, list);
  if (!store.ok()) return stays;  // not a JSON list: FanIn writes lists
  for (auto& cm : store->config_maps) sp.fan_in_config_maps.push_back(std::move(cm));
  stored.push_back(store->stored);
  return StoredNote(store->stored, kubectl);
}

std::string FanInWhat(FanInKind kind, const std::string& name) {
  return (kind == FanInKind::kArtifact ? "the URIs of output artifact \"" : "output \"") + name +
         "\"";
}

// What a template reading a fan-in that is not kept is told: the note, and how to read the
// values when they are stored.
std::string NotPassedNote(const std::string& note, const std::string& step, FanInKind kind,
                          const std::string& name, const std::vector<StoredFanIn>& stored) {
  std::string out = note + "; a value this large cannot be passed in a pod's spec either";
  if (Find(stored, name) == nullptr) return out;
  const std::string ref =
      "{{steps." + step +
      (kind == FanInKind::kArtifact ? ".artifacts." + name + ".uri}}" : ".outputs." + name + "}}");
  return out + ": an input artifact reads it as a file (from: \"" + ref + "\")";
}

// Drops from `values` (the fan-in's outputs, or its artifacts' URI lists) each one larger than
// a status keeps, storing it in ConfigMaps where it can be (its reference goes to `stored`) and
// saying so in the step's message and in not_kept. `stored` holds what earlier plans stored:
// those stay as they are, since the values they were made of may be gone since (pods removed).
void KeepWhatFits(StepPlan& sp, StringMap& values, std::vector<StoredFanIn>& stored,
                  StringMap& not_kept, FanInKind kind, const PlanInputs& in) {
  const std::string why =
      "larger than 64 KiB (the fan-in of " + std::to_string(sp.units.size()) + " children)";
  for (auto it = values.begin(); it != values.end();) {
    if (it->second.size() <= kMaxOutputBytes && Find(stored, it->first) == nullptr) {
      ++it;
      continue;
    }
    std::string note = NotKeptNote(FanInWhat(kind, it->first), it->second.size(), why,
                                   StoreOrSayWhere(sp, kind, it->first, it->second, in, stored));
    sp.status.message += "; " + note;
    not_kept[it->first] = NotPassedNote(note, sp.step->name, kind, it->first, stored);
    it = values.erase(it);
  }
}

void CountChild(const UnitState& u, ChildCounts& n) {
  switch (u.phase) {
    case UnitPhase::kSucceeded:
      ++n.succeeded;
      break;
    case UnitPhase::kFailed:
      ++n.failed;
      break;
    case UnitPhase::kRunning:
    case UnitPhase::kPending:
      if (u.active) {
        ++n.running;
      } else {
        ++n.pending;
      }
      break;
    default:
      ++n.pending;
  }
}

StepPhase FanOutPhase(const ChildCounts& n, bool quota, bool admission, bool retrying) {
  if (n.succeeded + n.failed == n.total) {
    return n.failed > 0 ? StepPhase::kFailed : StepPhase::kSucceeded;
  }
  if (n.running > 0) return StepPhase::kRunning;
  if (quota) return StepPhase::kWaitingForQuota;
  if (admission) return StepPhase::kWaitingForAdmission;
  if (retrying) return StepPhase::kRetrying;
  return StepPhase::kPending;
}

void AggregateFanOut(StepPlan& sp, const PlanInputs& in) {
  StepStatus& s = sp.status;
  ChildCounts n;
  n.total = static_cast<int64_t>(sp.units.size());
  bool quota = false, admission = false, retrying = false;
  s.failed_children.clear();
  s.running_children.clear();
  for (size_t i = 0; i < sp.units.size(); ++i) {
    const UnitState& u = sp.units[i];
    CountChild(u, n);
    quota = quota || u.phase == UnitPhase::kWaitingForQuota;
    admission = admission || u.phase == UnitPhase::kWaitingForAdmission;
    retrying = retrying || u.phase == UnitPhase::kRetrying;
    if (u.phase == UnitPhase::kFailed && s.failed_children.size() < kMaxChildDetails) {
      s.failed_children.push_back(ChildOf(sp, i));
    } else if (u.active && s.running_children.size() < kMaxChildDetails) {
      s.running_children.push_back(ChildOf(sp, i));
    }
    if (u.start_time && (!s.start_time || *u.start_time < *s.start_time))
      s.start_time = u.start_time;
    if (u.next_attempt_time &&
        (!s.next_attempt_time || *u.next_attempt_time < *s.next_attempt_time))
      s.next_attempt_time = u.next_attempt_time;
  }
  s.children = n;
  s.phase = FanOutPhase(n, quota, admission, retrying);
  s.message = std::to_string(n.succeeded) + "/" + std::to_string(n.total) + " succeeded";
  if (n.failed > 0) s.message += ", " + std::to_string(n.failed) + " failed";
  if (n.running > 0) s.message += ", " + std::to_string(n.running) + " running";
  s.stored_outputs.clear();  // made again below (AggregateStep may run twice in a plan)
  s.stored_artifacts.clear();
  sp.fan_in_config_maps.clear();
  if (IsTerminal(*s.phase) && sp.old != nullptr) {  // stored once, kept
    s.stored_outputs = sp.old->stored_outputs;
    s.stored_artifacts = sp.old->stored_artifacts;
  }
  if (IsTerminal(*s.phase)) {
    s.outputs = FanIn(sp);
    s.artifacts = FanInArtifacts(sp);
    KeepWhatFits(sp, s.outputs, s.stored_outputs, sp.outputs_not_kept, FanInKind::kOutput, in);
    KeepWhatFits(sp, s.artifacts, s.stored_artifacts, sp.artifacts_not_kept, FanInKind::kArtifact,
                 in);
    s.completion_time = sp.old && sp.old->completion_time ? sp.old->completion_time : in.now;
  }
}

}  // namespace

bool IsTerminal(StepPhase phase) {
  return phase == StepPhase::kSucceeded || phase == StepPhase::kFailed ||
         phase == StepPhase::kSkipped || phase == StepPhase::kStopped;
}

PlanContext::PlanContext(const Snapshot& snapshot, const PipelineExecution& execution,
                         std::string start_time)
    : snapshot_(snapshot), execution_(execution), start_time_(std::move(start_time)) {
  for (const auto& p : snapshot.parameters) {
    parameters_[p.name] = p.value;
    if (p.type == ParameterType::kString) string_parameters_.insert(p.name);
  }
}

const std::string* PlanContext::Parameter(std::string_view name) const {
  auto it = parameters_.find(name);
  return it == parameters_.end() ? nullptr : &it->second;
}

namespace {

// The stored fan-ins of a step's status, readable by input artifacts; one the plan did not make
// (a re-run's reused step carries its source's) also gets its note for templates.
void PublishStored(const std::vector<StoredFanIn>& status,
                   std::map<std::string, StoredValue, std::less<>>& out,
                   std::map<std::string, std::string, std::less<>>& not_kept,
                   const std::string& step, FanInKind kind) {
  out.clear();
  for (const StoredFanIn& f : status) {
    if (f.config_maps.empty()) continue;  // names nothing to read
    out[f.name] = StoredValue{f.config_maps, f.items};
    if (not_kept.count(f.name) != 0) continue;
    std::string kubectl = "kubectl get configmap";
    for (const std::string& cm : f.config_maps) kubectl += " " + cm;
    not_kept[f.name] =
        NotPassedNote(NotKeptNote(FanInWhat(kind, f.name), static_cast<size_t>(f.bytes),
                                  "larger than 64 KiB", StoredNote(f, kubectl)),
                      step, kind, f.name, status);
  }
}

}  // namespace

const StepValues* PlanContext::Step(std::string_view name) const {
  auto it = steps_.find(name);
  return it == steps_.end() ? nullptr : &it->second;
}

void PlanContext::Publish(const StepPlan& plan) {
  const StepStatus& status = plan.status;
  StepValues& v = steps_[status.name];
  v.phase = status.phase ? ToString(*status.phase) : "Pending";
  v.outputs.clear();
  for (const auto& [k, val] : status.outputs) v.outputs[k] = val;
  v.artifacts.clear();
  for (const auto& [k, val] : status.artifacts) v.artifacts[k] = val;
  v.job_name = status.children ? "" : status.job_name;
  v.outputs_not_kept.clear();
  for (const auto& [k, why] : plan.outputs_not_kept) v.outputs_not_kept[k] = why;
  v.artifacts_not_kept.clear();
  for (const auto& [k, why] : plan.artifacts_not_kept) v.artifacts_not_kept[k] = why;
  PublishStored(status.stored_outputs, v.stored_outputs, v.outputs_not_kept, status.name,
                FanInKind::kOutput);
  PublishStored(status.stored_artifacts, v.stored_artifacts, v.artifacts_not_kept, status.name,
                FanInKind::kArtifact);
}

void PlanStep(StepPlan& sp, const StepJobs& jobs, const PlanContext& ctx,
              const std::map<std::string, const StepPlan*>& planned, int grants,
              const Planning& p) {
  sp.status.name = sp.step->name;
  if (sp.old != nullptr &&
      (sp.old->extra.contains(kReusedFromField) || sp.old->extra.contains(kCachedFromField))) {
    // decided: a re-run's reused step, or a step taken from the cache
    sp.status = *sp.old;
    sp.gated = true;
    return;
  }
  if (!GateOnDependencies(sp, planned) || !GateOnWhen(sp, ctx)) return;
  switch (sp.step->type.value_or(StepType::kContainer)) {
    case StepType::kApproval:
      return PlanApproval(sp, *p.in.execution);
    case StepType::kFail:
      return PlanFailStep(sp, ctx);
    case StepType::kRecord:
      return PlanRecordStep(sp, ctx);
    case StepType::kContainer:
    case StepType::kNotebook:
      break;
  }
  if (DecideFromStepCache(sp, jobs, ctx, p.in)) return;
  static const UnitJobs kNone;
  sp.fan_out = !sp.step->for_each.empty();
  if (sp.fan_out && !ResolveItems(sp, ctx)) return;
  size_t count = sp.fan_out ? sp.items.size() : 1;
  sp.units.reserve(count);
  std::optional<QuotaHold> hold = QuotaHoldOf(*sp.step, sp.old, p.in);
  for (size_t i = 0; i < count; ++i) {
    int index = sp.fan_out ? static_cast<int>(i) : -1;
    auto it = jobs.find(index);
    bool grant_available = sp.decided.quota_grants_used < grants;
    UnitDecision d = PlanUnit(it == jobs.end() ? kNone : it->second, *sp.step, sp.old,
                              hold ? &*hold : nullptr, index, sp.fan_out, grant_available, p);
    sp.decided.Add(sp.step->name, d);
    sp.units.push_back(std::move(d.state));
  }
  if (hold && hold->waits) sp.status.extra["quotaWaits"] = *hold->waits;
}

void AggregateStep(StepPlan& sp, const PlanInputs& in) {
  if (sp.gated) return;
  if (sp.fan_out) {
    AggregateFanOut(sp, in);
  } else {
    AggregateSingle(sp);
  }
  if (sp.status.phase == StepPhase::kFailed) {
    sp.blocking_failure = sp.step->on_failure.value_or(OnFailure::kFail) == OnFailure::kFail;
  }
}

}  // namespace stepline::reconcilers::planner_internal
