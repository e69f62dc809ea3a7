#include "reconcilers/execution_reconciler.h"

#include <algorithm>

#include "k8sclient/object_fields.h"
#include "reconcilers/cache_trim.h"
#include "reconcilers/cleanup.h"
#include "reconcilers/log.h"
#include "reconcilers/status_bounds.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using k8s::ObjectPtr;
using std::chrono::milliseconds;

// How long a write the cache does not show yet is believed (read_your_writes.h): a hint until
// the informer shows it (then the cache is the truth), short-lived so that a Job deleted before
// the cache showed it is recreated soon.
constexpr milliseconds kWriteMemory = std::chrono::seconds(30);
// An unfinished execution is looked at again at least this often, even with no event and no
// timer: a lost event or a hint that hid a deletion cannot leave it stuck.
constexpr milliseconds kIdleRecheck = std::chrono::minutes(5);
// The shortest wait before a finished execution's cleanup, or an expired hint, is looked at.
constexpr milliseconds kSoonest{100};
// After a create found its name taken: when to look again (the cache then shows whose Job holds
// the name).
constexpr milliseconds kNameTakenRecheck{2000};

bool IsFinished(const PipelineExecutionStatus& s) {
  return IsFinishedPhase(s.pipeline_execution_status);
}

void Lower(std::optional<milliseconds>* wake, milliseconds to) {
  *wake = *wake ? std::min(**wake, to) : to;
}

bool SameConditionReasons(const PipelineExecutionStatus& a, const PipelineExecutionStatus& b) {
  if (a.conditions.size() != b.conditions.size()) return false;
  for (size_t i = 0; i < a.conditions.size(); ++i) {
    const Condition& x = a.conditions[i];
    const Condition& y = b.conditions[i];
    if (x.type != y.type || x.status != y.status || x.reason != y.reason) return false;
  }
  return true;
}

// A change that records no progress: nothing was done and nothing finished or started.
bool IsTransient(const PipelineExecutionStatus& old_status, const PlanResult& result) {
  const PipelineExecutionStatus& now = result.status;
  return result.actions.empty() && old_status.pipeline_snapshot.is_object() &&
         old_status.pipeline_execution_status == now.pipeline_execution_status &&
         old_status.progress == now.progress && SameConditionReasons(old_status, now);
}

// An answer that the same request would get again: not worth retrying as it is.
bool IsRefusal(const k8s::Status& s) {
  return s.IsForbidden() || s.IsInvalid() || s.code() == k8s::StatusCode::kBadRequest ||
         s.http_code() == 413;
}

// The planner's Events that say a step started or succeeded (see
// ExecutionReconcilerOptions::routine_step_events).
bool IsRoutineStepEvent(const std::string& reason) {
  return reason == "StepStarted" || reason == "StepSucceeded";
}

// The Job creates of `actions` a ResourceQuota refused, as the next plan reads them.
std::vector<QuotaRefusal> QuotaRefusals(const std::vector<Action>& actions,
                                        const JobApplyReport& report, k8s::WallTime at) {
  std::vector<QuotaRefusal> out;
  for (const auto& [i, message] : report.quota_refusals) {
    const Action& a = actions[i];
    out.push_back({a.step, a.index, a.attempt, at, message});
  }
  return out;
}

}  // namespace

ExecutionReconciler::ExecutionReconciler(ExecutionCaches caches, k8s::ObjectWriter& writer,
                                         EventRecorder& events, const k8s::Clock& clock,
                                         ExecutionReconcilerOptions options)
    : caches_(caches),
      writer_(writer),
      events_(events),
      clock_(clock),
      options_(std::move(options)),
      executions_(*caches_.executions, clock, kWriteMemory),
      jobs_(*caches_.jobs, clock, kWriteMemory),
      applier_(writer, jobs_, {options_.field_manager, 16, options_.reader}),
      statuses_(k8s::resources::kPipelineExecutions, writer, executions_, clock,
                {options_.field_manager, options_.transient_status_delay, TrimExecution}),
      quota_(clock) {}

ReconcileOutcome ExecutionReconciler::Reconcile(const std::string& key) {
  auto [ns, name] = k8s::SplitKey(key);
  ObjectPtr current = executions_.Get(ns, name);
  if (!current) {
    Forget(key);
    return ReconcileOutcome::Done();  // deleted: its Jobs go with it (owner references)
  }
  if (k8s::IsBeingDeleted(*current)) {
    ForgetRecords(key);
    return ReconcileOutcome::Done();
  }
  k8s::Result<PipelineExecution> ex = ParsePipelineExecution(*current);
  if (!ex.ok()) return ReconcileOutcome::Drop(ex.status());  // the schema should prevent it
  // Asked before the caches are read: a finish seen later stays pending.
  std::optional<k8s::MonoTime> since;
  if (options_.dispatch != nullptr) since = options_.dispatch->PendingFinish(key);
  Planned planned;
  k8s::Status planning = PlanExecution(key, *ex, *current, &planned);
  if (!planning.ok()) return ReconcileOutcome::Retry(planning);
  k8s::Status stored = StoreFanIns(key, planned.result);
  if (!stored.ok()) return ReconcileOutcome::Retry(stored);
  k8s::Status applied = Apply(key, *current, &planned, since);
  std::optional<milliseconds> wake = Wake(*ex, planned.result);
  if (planned.requeue) Lower(&wake, *planned.requeue);
  k8s::Status written = SettleStatus(*current, ex->status, planned.result, &wake);
  if (!written.ok()) return ReconcileOutcome::Retry(written);
  if (!applied.ok()) return ReconcileOutcome::Retry(applied);
  return Outcome(key, *ex, planned.result, wake);
}

k8s::Status ExecutionReconciler::PlanExecution(const std::string& key, const PipelineExecution& ex,
                                               const Object& current, Planned* planned) {
  planned->jobs = OwnedJobs(ex);
  JobRecordMemo* memo = Memo(key);
  Inputs(key, ex, memo, planned);
  if (!planned->error.ok()) return planned->error;
  planned->inputs.quota_grants = quota_.TakeGrants(key);
  planned->inputs.quota_refusals = quota_.TakeRefusals(key);
  planned->inputs.fan_in_store_refusals = FanInRefusals(key);
  planned->result = Plan(planned->inputs);
  if (planned->result.step_cache_needed) {  // a cached step is ready: plan again with the index
    planned->step_cache = ReadStepCacheOf(current);
    planned->inputs.step_cache = &planned->step_cache;
    planned->result = Plan(planned->inputs);
  }
  if (IsFinished(planned->result.status)) {
    ForgetRecords(key);  // not reconciled again but to delete leftovers: nothing to keep
  } else {
    memo->Sweep();
  }
  return k8s::Status::Ok();
}

k8s::Status ExecutionReconciler::Apply(const std::string& key, const Object& execution,
                                       Planned* planned, std::optional<k8s::MonoTime> since) {
  const PlanResult& result = planned->result;
  const std::vector<Action>& actions = result.actions;
  DispatchObserver* observer = since ? options_.dispatch : nullptr;
  CreateHooks hooks;
  if (observer != nullptr) {
    hooks.sending = [&] { observer->JobRequestSending(key, *since); };
    hooks.created = [&] { observer->JobCreated(key, *since); };
  }
  JobApplyReport report = applier_.Apply(execution, actions, hooks);
  if (report.name_taken) Lower(&planned->requeue, kNameTakenRecheck);
  RecordEvents(execution, actions);
  WriteStepCacheEntries(execution, result);
  ReportQuotaWaits(key, planned->inputs, result, QuotaRefusals(actions, report, clock_.Now()));
  // The next plan reads the refusals (QuotaQueue::TakeRefusals): soon, so that the status says
  // the step waits for quota.
  if (!report.quota_refusals.empty()) Lower(&planned->requeue, kSoonest);
  if (observer != nullptr && report.created > 0) observer->Dispatched(key, *since);
  return report.error;
}

std::optional<milliseconds> ExecutionReconciler::Wake(const PipelineExecution& ex,
                                                      const PlanResult& result) const {
  std::optional<milliseconds> wake = result.requeue_after;
  if (IsFinished(result.status)) return wake;
  Lower(&wake, kIdleRecheck);
  if (auto hint = jobs_.CreatedExpiry(ex.metadata.uid)) Lower(&wake, std::max(*hint, kSoonest));
  return wake;
}

k8s::Status ExecutionReconciler::SettleStatus(const Object& current,
                                              const PipelineExecutionStatus& old_status,
                                              const PlanResult& result,
                                              std::optional<milliseconds>* wake) {
  const auto change = IsTransient(old_status, result) ? StatusWriter::Change::kTransient
                                                      : StatusWriter::Change::kProgress;
  StatusWriter::Settled settled =
      statuses_.Settle(current, ToJson(old_status), ToJson(result.status), change,
                       [&](const k8s::Status& refusal, int attempt) {
                         return ReduceRefused(current, result.status, refusal, attempt);
                       });
  if (settled.held_back) Lower(wake, *settled.held_back);
  return settled.status;
}

ReconcileOutcome ExecutionReconciler::Outcome(const std::string& key, const PipelineExecution& ex,
                                              const PlanResult& result,
                                              std::optional<milliseconds> wake) {
  if (wake) return ReconcileOutcome::After(*wake);
  if (!IsFinished(result.status)) return ReconcileOutcome::Done();
  if (IsFinished(ex.status)) return CleanUpFinished(key, ex);
  if (ex.spec.ttl_seconds_after_finished) {  // finished just now
    auto ttl = std::chrono::seconds(std::max<int64_t>(0, *ex.spec.ttl_seconds_after_finished));
    return ReconcileOutcome::After(std::max<milliseconds>(ttl, kSoonest));
  }
  return ReconcileOutcome::Done();
}

void ExecutionReconciler::RecordEvents(const Object& execution,
                                       const std::vector<Action>& actions) {
  for (const Action& a : actions) {
    if (a.kind != Action::Kind::kEvent) continue;
    if (!options_.routine_step_events && IsRoutineStepEvent(a.reason)) continue;
    events_.Record(execution, a.event_type, a.reason, a.message);
  }
}

void ExecutionReconciler::ReportQuotaWaits(const std::string& key, const PlanInputs& in,
                                           const PlanResult& result,
                                           std::vector<QuotaRefusal> refusals) {
  if (IsFinished(result.status)) return quota_.Forget(key);
  const int quota_refused = static_cast<int>(refusals.size());
  for (QuotaRefusal& r : refusals) quota_.Refused(key, std::move(r));
  std::optional<k8s::WallTime> since = result.quota_waiting_since;
  if (quota_refused > 0 && (!since || in.now < *since)) since = in.now;
  quota_.Report(key, in.quota_grants - result.quota_grants_used,
                result.quota_waiting + quota_refused, since);
}

// A refused status would be refused again on every retry and wedge the run: the reduced status
// ends the run and says why (status_bounds.h); the second reduction is the smallest status that
// still says how the run ended and why.
std::optional<Object> ExecutionReconciler::ReduceRefused(const Object& current,
                                                         const PipelineExecutionStatus& status,
                                                         const k8s::Status& refusal, int attempt) {
  if (attempt > 2) return std::nullopt;
  Log()->warn("status refused key={} level={} error={}", k8s::KeyOf(current), attempt,
              refusal.ToString());
  PipelineExecutionStatus reduced = ReduceRefusedStatus(status, refusal.message(), clock_.Now());
  if (attempt == 2) {
    reduced.steps.clear();
    reduced.pipeline_snapshot = nullptr;
  }
  events_.Record(
      current, EventType::kWarning, "StatusTooLarge",
      BoundText("the API server refused the status: " + refusal.message(), kMaxMessageBytes));
  return ToJson(reduced);
}

ReconcileOutcome ExecutionReconciler::CleanUpFinished(const std::string& key,
                                                      const PipelineExecution& ex) {
  std::optional<k8s::WallTime> due = ExecutionDeletionDue(ex);
  if (!due) return ReconcileOutcome::Done();
  const k8s::WallTime now = clock_.Now();
  if (now < *due) {
    return ReconcileOutcome::After(std::chrono::ceil<std::chrono::milliseconds>(*due - now));
  }
  // As a Job's TTL: the object goes, and its Jobs and their pods with it (owner references).
  k8s::DeleteOptions opts;
  opts.propagation_policy = "Background";
  opts.precondition_uid = ex.metadata.uid;
  k8s::Status s = writer_.Delete(k8s::resources::kPipelineExecutions, ex.metadata.namespace_,
                                 ex.metadata.name, opts);
  if (!s.ok() && !s.IsNotFound()) return ReconcileOutcome::Retry(s);  // a conflict: again
  Log()->info("execution deleted key={} cause=ttlSecondsAfterFinished", key);
  return ReconcileOutcome::Done();
}

JobRecordMemo* ExecutionReconciler::Memo(const std::string& key) {
  k8s::MutexLock lock(mu_);
  auto& memo = records_[key];
  if (!memo) memo = std::make_unique<JobRecordMemo>(options_.plan.scheduling_timeout);
  return memo.get();
}

k8s::Status ExecutionReconciler::StoreFanIns(const std::string& key, const PlanResult& result) {
  k8s::Status first;
  for (const FanInConfigMap& cm : result.config_maps) {
    k8s::WriteOptions opts;
    opts.field_manager = options_.field_manager;
    k8s::Result<Object> created =
        writer_.Create(k8s::resources::kConfigMaps, k8s::NamespaceOf(cm.object), cm.object, opts);
    if (created.ok() || created.status().IsAlreadyExists()) continue;
    const k8s::Status& s = created.status();
    const std::string name = k8s::NameOf(cm.object);
    Log()->warn("fan-in store failed key={} configmap={} error={}", key, name, s.ToString());
    if (first.ok()) first = s;
    if (!IsRefusal(s)) continue;
    k8s::MutexLock lock(mu_);
    fan_in_refusals_[key][cm.key] = "ConfigMap " + name + ": " + s.message();
  }
  return first;
}

std::map<std::string, std::string> ExecutionReconciler::FanInRefusals(
    const std::string& key) const {
  k8s::MutexLock lock(mu_);
  auto it = fan_in_refusals_.find(key);
  return it == fan_in_refusals_.end() ? std::map<std::string, std::string>{} : it->second;
}

void ExecutionReconciler::ForgetRecords(const std::string& key) {
  k8s::MutexLock lock(mu_);
  records_.erase(key);
}

void ExecutionReconciler::Forget(const std::string& key) {
  if (options_.dispatch != nullptr) options_.dispatch->Forget(key);
  quota_.Forget(key);
  auto [ns, name] = k8s::SplitKey(key);
  executions_.Forget(ns, name);
  statuses_.Forget(key);
  applier_.Forget(key);
  ForgetRecords(key);
  k8s::MutexLock lock(mu_);
  fan_in_refusals_.erase(key);
}

}  // namespace stepline::reconcilers
