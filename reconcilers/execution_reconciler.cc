#include "reconcilers/execution_reconciler.h"

#include <spdlog/spdlog.h>

#include <set>

#include "reconcilers/cache_trim.h"
#include "reconcilers/job_builder.h"
#include "reconcilers/object_fields.h"
#include "reconcilers/slow_start.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using k8s::ObjectPtr;

constexpr auto kCreatedJobMemory = std::chrono::minutes(2);
// At most this many Job creates of one reconcile are in flight at once.
constexpr size_t kMaxCreatesInFlight = 16;

// The planner's Events that say a step started or succeeded (see
// ExecutionReconcilerOptions::routine_step_events).
bool IsRoutineStepEvent(const std::string& reason) {
  return reason == "StepStarted" || reason == "StepSucceeded";
}

std::pair<std::string, std::string> SplitKey(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

bool IsQuotaRefusal(const k8s::Status& s) {
  return s.IsForbidden() && s.message().find("exceeded quota") != std::string::npos;
}

bool IsFinished(const PipelineExecutionStatus& s) {
  const auto& phase = s.pipeline_execution_status;
  return phase == ExecutionStatus::kSucceeded || phase == ExecutionStatus::kFailed ||
         phase == ExecutionStatus::kStopped;
}

bool Controls(const Object& job, const std::string& uid) {
  const Object* owner = k8s::ControllerOf(job);
  return owner != nullptr && owner->value("uid", "") == uid;
}

std::shared_ptr<spdlog::logger> Log() {
  static auto logger = [] {
    auto l = spdlog::get("reconciler");
    return l ? l : spdlog::default_logger();
  }();
  return logger;
}

}  // namespace

ExecutionReconciler::ExecutionReconciler(ExecutionCaches caches, k8s::ObjectWriter& writer,
                                         EventRecorder& events, const k8s::Clock& clock,
                                         ExecutionReconcilerOptions options)
    : caches_(caches), writer_(writer), events_(events), clock_(clock), options_(options) {}

// The cached execution, or what this reconciler last wrote if the cache does not show it yet.
ObjectPtr ExecutionReconciler::Fresh(const std::string& key, const ObjectPtr& cached) {
  std::lock_guard lock(mu_);
  auto it = written_status_.find(key);
  if (it == written_status_.end()) return cached;
  if (k8s::ResourceVersionOf(*cached) == it->second.from_resource_version) {
    return it->second.object;
  }
  written_status_.erase(it);  // the cache caught up, or someone else wrote
  return cached;
}

const Pipeline* ExecutionReconciler::FindPipeline(const PipelineExecution& ex,
                                                  Pipeline* storage) const {
  const std::string& ns = ex.metadata.namespace_;
  const std::string& want = ex.spec.pipeline_name;
  ObjectPtr found = caches_.pipelines->Get(ns, want);
  if (!found) {  // spec.pipelineName is also an alias (ACK)
    for (const ObjectPtr& p : caches_.pipelines->List(ns)) {
      if (StringField(Child(*p, "spec"), "pipelineName") == want) found = p;
    }
  }
  if (!found) return nullptr;
  k8s::Result<Pipeline> parsed = ParsePipeline(*found);
  if (!parsed.ok()) return nullptr;
  *storage = std::move(parsed).value();
  return storage;
}

void ExecutionReconciler::Remember(const std::string& key, const std::string& job_name,
                                   ObjectPtr job) {
  std::lock_guard lock(mu_);
  created_jobs_[key][job_name] = {clock_.Now(), std::move(job)};
}

// The execution's Jobs from the cache, plus those it created that the cache does not show yet.
std::vector<ObjectPtr> ExecutionReconciler::OwnedJobs(const std::string& key,
                                                      const PipelineExecution& ex) {
  std::vector<ObjectPtr> jobs;
  std::set<std::string> names;
  for (const ObjectPtr& j : caches_.jobs->ListByOwner(ex.metadata.uid)) {
    if (!Controls(*j, ex.metadata.uid)) continue;  // adopted by owner UID only
    jobs.push_back(j);
    names.insert(k8s::NameOf(*j));
  }
  std::lock_guard lock(mu_);
  auto it = created_jobs_.find(key);
  if (it == created_jobs_.end()) return jobs;
  auto& created = it->second;
  for (auto c = created.begin(); c != created.end();) {
    bool seen = names.count(c->first) > 0;
    bool old = clock_.Now() - c->second.first > kCreatedJobMemory;
    if (seen || old) {
      c = created.erase(c);
      continue;
    }
    if (Controls(*c->second.second, ex.metadata.uid)) jobs.push_back(c->second.second);
    ++c;
  }
  if (created.empty()) created_jobs_.erase(it);
  return jobs;
}

PlanInputs ExecutionReconciler::Inputs(const PipelineExecution& ex,
                                       const std::vector<ObjectPtr>& jobs,
                                       Pipeline* pipeline_storage, JobRecordMemo* memo) const {
  PlanInputs in;
  in.execution = &ex;
  in.now = clock_.Now();
  in.options = options_.plan;
  if (!ex.status.pipeline_snapshot.is_object()) {
    in.pipeline = FindPipeline(ex, pipeline_storage);
    if (in.pipeline != nullptr && options_.validate) {
      in.pipeline_invalid_message = options_.validate(*in.pipeline);
    }
  }
  for (const ObjectPtr& j : jobs) {
    ObservedJob o;
    o.job = j.get();
    std::vector<ObjectPtr> related = caches_.pods->ListByOwner(k8s::UidOf(*j));
    for (const ObjectPtr& pod : related) o.pods.push_back(pod.get());
    if (caches_.job_events != nullptr) {
      for (ObjectPtr& e : caches_.job_events->ListByOwner(k8s::UidOf(*j))) {
        o.events.push_back(e.get());
        related.push_back(std::move(e));
      }
    }
    in.jobs.push_back(std::move(o));
    // The memo keeps the pods and events alive for the Plan, as it keeps their record.
    memo->Attach(&in.jobs.back(), j, std::move(related));
  }
  return in;
}

ExecutionReconciler::CreateOutcome ExecutionReconciler::CreateJob(
    const std::string& key, const Action& action, std::optional<k8s::MonoTime> since) {
  const std::string& ns = k8s::NamespaceOf(action.job);
  k8s::WriteOptions opts;
  opts.field_manager = options_.field_manager;
  k8s::Result<Object> created = writer_.Create(k8s::resources::kJobs, ns, action.job, opts);
  CreateOutcome out;
  if (created.ok()) {
    Remember(key, k8s::NameOf(*created), std::make_shared<const Object>(*created));
    out.created = true;
    if (options_.dispatch != nullptr && since) options_.dispatch->JobCreated(key, *since);
    return out;
  }
  if (created.status().IsAlreadyExists()) return out;  // done before a restart
  if (IsQuotaRefusal(created.status())) {
    out.quota_refusal = created.status().message();
    return out;
  }
  out.status = created.status();
  return out;
}

// The plan's Job creates, in slow-start batches (slow_start.h): a fan-out's children are
// created many at a time, not one round trip after another. A batch with a failed create ends
// them; the rest are created by the retry.
k8s::Status ExecutionReconciler::CreateJobs(const std::string& key,
                                            const std::vector<const Action*>& creates,
                                            PlanResult& result, Dispatch* dispatch) {
  std::vector<CreateOutcome> outcomes(creates.size());
  CallInSlowStartBatches(creates.size(), kMaxCreatesInFlight, [&](size_t i) {
    outcomes[i] = CreateJob(key, *creates[i], dispatch->since);
    return outcomes[i].status.ok();
  });
  k8s::Status first_error;
  for (size_t i = 0; i < creates.size(); ++i) {
    const CreateOutcome& o = outcomes[i];
    if (o.created) ++dispatch->created;
    if (o.quota_refusal) RecordQuotaRefusal(&result, *creates[i], *o.quota_refusal, clock_.Now());
    if (o.status.ok()) continue;
    Log()->warn("action failed key={} job={} error={}", key, k8s::NameOf(creates[i]->job),
                o.status.ToString());
    if (first_error.ok()) first_error = o.status;
  }
  return first_error;
}

k8s::Status ExecutionReconciler::PatchOrDeleteJob(const std::string& ns, const Action& a) {
  k8s::Status s;
  if (a.kind == Action::Kind::kDeleteJob) {
    k8s::DeleteOptions opts;
    opts.propagation_policy = "Background";
    s = writer_.Delete(k8s::resources::kJobs, ns, a.job_name, opts);
  } else {
    s = writer_.Patch(k8s::resources::kJobs, ns, a.job_name, k8s::PatchType::kMerge, a.patch.dump())
            .status();
  }
  return s.IsNotFound() ? k8s::Status::Ok() : s;  // gone already
}

// In the plan's order: deletes and patches, creates, then events.
k8s::Status ExecutionReconciler::ApplyActions(const std::string& key, const Object& execution,
                                              PlanResult& result, Dispatch* dispatch) {
  k8s::Status first_error;
  const std::string& ns = k8s::NamespaceOf(execution);
  const std::vector<Action> actions = result.actions;  // creates may add quota waits to result
  std::vector<const Action*> creates;
  for (const Action& a : actions) {
    if (a.kind == Action::Kind::kCreateJob) creates.push_back(&a);
    if (a.kind != Action::Kind::kDeleteJob && a.kind != Action::Kind::kPatchJob) continue;
    k8s::Status s = PatchOrDeleteJob(ns, a);
    if (s.ok()) continue;
    Log()->warn("action failed key={} job={} error={}", key, a.job_name, s.ToString());
    if (first_error.ok()) first_error = s;
  }
  k8s::Status created = CreateJobs(key, creates, result, dispatch);
  if (first_error.ok()) first_error = created;
  for (const Action& a : actions) {
    if (a.kind != Action::Kind::kEvent) continue;
    if (!options_.routine_step_events && IsRoutineStepEvent(a.reason)) continue;
    events_.Record(execution, a.event_type, a.reason, a.message);
  }
  return first_error;
}

k8s::Status ExecutionReconciler::WriteStatus(const std::string& key, const Object& cached,
                                             const PipelineExecutionStatus& status) {
  Object updated = cached;
  updated["status"] = ToJson(status);
  k8s::WriteOptions opts;
  opts.field_manager = options_.field_manager;
  k8s::Result<Object> written = writer_.UpdateStatus(k8s::resources::kPipelineExecutions,
                                                     k8s::NamespaceOf(cached), updated, opts);
  if (!written.ok()) return written.status();  // a conflict: retried on fresh state
  // A finished execution is remembered as the cache will hold it (cache_trim.h).
  TrimExecution(*written);
  const k8s::MonoTime now = clock_.MonotonicNow();
  std::lock_guard lock(mu_);
  written_status_[key] = {k8s::ResourceVersionOf(cached),
                          std::make_shared<const Object>(std::move(written).value()), now};
  last_write_[key] = now;
  SweepWritesLocked(now);
  return k8s::Status::Ok();
}

void ExecutionReconciler::SweepWritesLocked(k8s::MonoTime now) {
  constexpr auto kEvery = std::chrono::seconds(30);
  if (now - last_sweep_ < kEvery) return;
  last_sweep_ = now;
  for (auto it = written_status_.begin(); it != written_status_.end();) {
    it = now - it->second.at > kCreatedJobMemory ? written_status_.erase(it) : std::next(it);
  }
  for (auto it = last_write_.begin(); it != last_write_.end();) {
    it = now - it->second > options_.transient_status_delay ? last_write_.erase(it) : std::next(it);
  }
}

namespace {

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

}  // namespace

std::optional<std::chrono::milliseconds> ExecutionReconciler::HoldBack(
    const std::string& key, const PipelineExecutionStatus& old_status, const PlanResult& result) {
  const auto delay = options_.transient_status_delay;
  if (delay.count() <= 0 || !IsTransient(old_status, result)) return std::nullopt;
  std::lock_guard lock(mu_);
  auto last = last_write_.find(key);
  if (last == last_write_.end()) return std::nullopt;  // not written by this replica yet
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(last->second + delay - clock_.MonotonicNow());
  if (left.count() <= 0) return std::nullopt;  // the last write is old enough: write it
  return left;
}

k8s::Status ExecutionReconciler::SettleStatus(const std::string& key, const Object& current,
                                              const PipelineExecutionStatus& old_status,
                                              const PlanResult& result,
                                              std::optional<std::chrono::milliseconds>* wake) {
  if (ToJson(result.status) == ToJson(old_status)) return k8s::Status::Ok();
  if (auto hold = HoldBack(key, old_status, result)) {
    *wake = *wake ? std::min(**wake, *hold) : *hold;
    return k8s::Status::Ok();
  }
  return WriteStatus(key, current, result.status);
}

void ExecutionReconciler::Forget(const std::string& key) {
  if (options_.dispatch != nullptr) options_.dispatch->Forget(key);
  std::lock_guard lock(mu_);
  written_status_.erase(key);
  created_jobs_.erase(key);
  last_write_.erase(key);
  records_.erase(key);
}

JobRecordMemo* ExecutionReconciler::Memo(const std::string& key) {
  std::lock_guard lock(mu_);
  auto& memo = records_[key];
  if (!memo) memo = std::make_unique<JobRecordMemo>(options_.plan.scheduling_timeout);
  return memo.get();
}

void ExecutionReconciler::ForgetRecords(const std::string& key) {
  std::lock_guard lock(mu_);
  records_.erase(key);
}

ReconcileOutcome ExecutionReconciler::Reconcile(const std::string& key) {
  auto [ns, name] = SplitKey(key);
  ObjectPtr cached = caches_.executions->Get(ns, name);
  if (!cached) {
    Forget(key);
    return ReconcileOutcome::Done();  // deleted: its Jobs go with it (owner references)
  }
  ObjectPtr current = Fresh(key, cached);
  if (!Child(Child(*current, "metadata"), "deletionTimestamp").is_null()) {
    ForgetRecords(key);
    return ReconcileOutcome::Done();
  }
  k8s::Result<PipelineExecution> ex = ParsePipelineExecution(*current);
  if (!ex.ok()) return ReconcileOutcome::Drop(ex.status());  // the schema should prevent it
  Dispatch dispatch;  // asked before the caches are read: a finish seen later stays pending
  if (options_.dispatch != nullptr) dispatch.since = options_.dispatch->PendingFinish(key);
  std::vector<ObjectPtr> jobs = OwnedJobs(key, *ex);
  Pipeline pipeline;
  JobRecordMemo* memo = Memo(key);
  PlanResult result = Plan(Inputs(*ex, jobs, &pipeline, memo));
  if (IsFinished(result.status)) {
    ForgetRecords(key);  // not reconciled again but to delete leftovers: nothing to keep
  } else {
    memo->Sweep();
  }
  k8s::Status applied = ApplyActions(key, *current, result, &dispatch);
  if (options_.dispatch != nullptr && dispatch.since && dispatch.created > 0) {
    options_.dispatch->Dispatched(key, *dispatch.since);
  }
  std::optional<std::chrono::milliseconds> wake = result.requeue_after;
  k8s::Status written = SettleStatus(key, *current, ex->status, result, &wake);
  if (!written.ok()) return ReconcileOutcome::Retry(written);
  if (!applied.ok()) return ReconcileOutcome::Retry(applied);
  if (wake) return ReconcileOutcome::After(*wake);
  return ReconcileOutcome::Done();
}

}  // namespace stepline::reconcilers
