#include "reconcilers/execution_reconciler.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "reconcilers/cache_trim.h"
#include "reconcilers/cleanup.h"
#include "reconcilers/job_builder.h"
#include "reconcilers/object_fields.h"
#include "reconcilers/rerun.h"
#include "reconcilers/slow_start.h"
#include "reconcilers/status_bounds.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using k8s::ObjectPtr;

// How long a created Job the cache does not show yet is believed to exist: a hint until the
// informer shows it (then the cache is the truth), short-lived so that a Job deleted before
// the cache showed it is recreated soon; a re-create of a Job that does exist answers
// AlreadyExists (names are deterministic), never a duplicate.
constexpr auto kCreatedJobMemory = std::chrono::seconds(30);
// An unfinished execution is looked at again at least this often, even with no event and no
// timer: a lost event or a hint that hid a deletion cannot leave it stuck.
constexpr auto kIdleRecheck = std::chrono::minutes(5);
// The shortest wait before a finished execution's cleanup is looked at (cleanup.h).
constexpr std::chrono::milliseconds kSoonest{100};
// At most this many Job creates of one reconcile are in flight at once.
constexpr size_t kMaxCreatesInFlight = 16;

// The planner's Events that say a step started or succeeded (see
// ExecutionReconcilerOptions::routine_step_events).
bool IsRoutineStepEvent(const std::string& reason) {
  return reason == "StepStarted" || reason == "StepSucceeded";
}

bool IsQuotaRefusal(const k8s::Status& s) {
  return s.IsForbidden() && s.message().find("exceeded quota") != std::string::npos;
}

bool IsFinished(const PipelineExecutionStatus& s) {
  return IsFinishedPhase(s.pipeline_execution_status);
}

bool Controls(const Object& job, const std::string& uid) {
  const Object* owner = k8s::ControllerOf(job);
  return owner != nullptr && owner->value("uid", "") == uid;
}

// Who controls a Job that is not the execution's, for the JobNameTaken message.
std::string WhoControls(const Object& job) {
  const Object* owner = k8s::ControllerOf(job);
  return owner == nullptr ? "it has no controller"
                          : "its controller is " + owner->value("kind", std::string()) + " " +
                                owner->value("name", std::string()) + " with uid " +
                                owner->value("uid", std::string());
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
    : caches_(caches),
      writer_(writer),
      events_(events),
      clock_(clock),
      options_(options),
      quota_(clock) {}

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

const Pipeline* ExecutionReconciler::FindPipeline(const PipelineExecution& ex, Pipeline* storage,
                                                  std::string* problem) const {
  const std::string& ns = ex.metadata.namespace_;
  const std::string& want = ex.spec.pipeline_name;
  ObjectPtr found = caches_.pipelines->Get(ns, want);
  if (!found) {  // spec.pipelineName is also an alias (ACK); it must name one Pipeline only
    std::vector<std::string> named;
    for (const ObjectPtr& p : caches_.pipelines->List(ns)) {
      if (StringField(Child(*p, "spec"), "pipelineName") != want) continue;
      found = p;
      named.push_back(k8s::NameOf(*p));
    }
    if (named.size() > 1) {
      std::sort(named.begin(), named.end());
      std::string list;
      for (const auto& n : named) list += (list.empty() ? "" : ", ") + n;
      *problem = "pipelineName \"" + want + "\" is the spec.pipelineName of " +
                 std::to_string(named.size()) + " Pipelines (" + list +
                 "); name one of them by metadata.name";
      return nullptr;
    }
  }
  if (!found) return nullptr;
  k8s::Result<Pipeline> parsed = ParsePipeline(*found);
  if (!parsed.ok()) return nullptr;
  *storage = std::move(parsed).value();
  return storage;
}

const PipelineExecution* ExecutionReconciler::FindRerunSource(const PipelineExecution& ex,
                                                              Lookups* storage) const {
  k8s::Result<std::optional<RerunRequest>> request = RerunRequestOf(ex.spec);
  if (!request.ok() || !*request) return nullptr;
  const std::string& ns = ex.metadata.namespace_;
  ObjectPtr found = caches_.executions->Get(ns, (*request)->source);
  if (!found) return nullptr;
  if (IsFinishedExecution(*found) && options_.reader != nullptr) {  // trimmed in the cache
    k8s::Result<Object> whole =
        options_.reader->Get(k8s::resources::kPipelineExecutions, ns, (*request)->source);
    if (!whole.ok()) {
      if (!whole.status().IsNotFound()) storage->error = whole.status();
      return nullptr;
    }
    found = std::make_shared<const Object>(std::move(whole).value());
  }
  k8s::Result<PipelineExecution> parsed = ParsePipelineExecution(*found);
  if (!parsed.ok()) return nullptr;
  storage->rerun_source = std::move(parsed).value();
  return &storage->rerun_source;
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
    bool old = clock_.Now() - c->second.first >= kCreatedJobMemory;
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

bool ExecutionReconciler::Collided(const std::string& key) {
  std::lock_guard lock(mu_);
  return collided_.count(key) > 0;
}

void ExecutionReconciler::ReadArtifactRepository(const std::string& ns, PlanInputs* in) const {
  if (caches_.artifact_repositories == nullptr) return;
  ObjectPtr found = caches_.artifact_repositories->Get(ns, kArtifactRepositoryConfigMap);
  if (!found) return;
  k8s::Result<ArtifactRepository> repo = ParseArtifactRepository(*found);
  if (repo.ok()) {
    in->artifact_repository = std::move(repo).value();
  } else {
    in->artifact_repository_problem = repo.status().message();
  }
}

PlanInputs ExecutionReconciler::Inputs(const std::string& key, const PipelineExecution& ex,
                                       const std::vector<ObjectPtr>& jobs, Lookups* storage,
                                       JobRecordMemo* memo) {
  PlanInputs in;
  in.execution = &ex;
  in.now = clock_.Now();
  in.options = options_.plan;
  ReadArtifactRepository(ex.metadata.namespace_, &in);
  if (!ex.status.pipeline_snapshot.is_object()) {
    in.rerun_source = FindRerunSource(ex, storage);
    in.pipeline = FindPipeline(ex, &storage->pipeline, &in.pipeline_lookup_problem);
    if (in.pipeline != nullptr && options_.validate) {
      in.pipeline_invalid_message = options_.validate(*in.pipeline);
    }
  }
  // Only after a create answered AlreadyExists: listing the namespace's Jobs costs.
  for (const ObjectPtr& j :
       Collided(key) ? caches_.jobs->List(ex.metadata.namespace_) : std::vector<ObjectPtr>{}) {
    if (Controls(*j, ex.metadata.uid)) continue;
    if (StringField(Child(Child(*j, "metadata"), "labels"), kLabelExecution) != ex.metadata.name) {
      continue;
    }
    in.foreign_jobs[k8s::NameOf(*j)] = WhoControls(*j);
  }
  TakeUnlistedForeignJobs(key, &in.foreign_jobs);
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
  if (created.status().IsAlreadyExists()) {  // done before a restart, or a foreign Job
    NoteUnlistedForeignJob(key, action.job);
    std::lock_guard lock(mu_);
    collided_.insert(key);
    out.already_exists = true;
    return out;
  }
  if (IsQuotaRefusal(created.status())) {
    out.quota_refusal = created.status().message();
    return out;
  }
  out.status = created.status();
  return out;
}

void ExecutionReconciler::NoteUnlistedForeignJob(const std::string& key, const Object& wanted) {
  const Object* ours = k8s::ControllerOf(wanted);
  if (options_.reader == nullptr || ours == nullptr) return;
  k8s::Result<Object> holder =
      options_.reader->Get(k8s::resources::kJobs, k8s::NamespaceOf(wanted), k8s::NameOf(wanted));
  if (!holder.ok()) return;  // gone again, or unreadable: the next create tells
  if (Controls(*holder, ours->value("uid", std::string()))) return;
  std::lock_guard lock(mu_);
  unlisted_foreign_[key][k8s::NameOf(wanted)] = WhoControls(*holder);
}

void ExecutionReconciler::TakeUnlistedForeignJobs(const std::string& key,
                                                  std::map<std::string, std::string>* into) {
  std::lock_guard lock(mu_);
  auto found = unlisted_foreign_.find(key);
  if (found == unlisted_foreign_.end()) return;
  into->insert(found->second.begin(), found->second.end());
  unlisted_foreign_.erase(found);
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
    if (o.already_exists) {  // look again soon: the cache shows whose Job holds the name
      constexpr std::chrono::milliseconds kSoon{2000};
      result.requeue_after = result.requeue_after ? std::min(*result.requeue_after, kSoon) : kSoon;
    }
    if (o.quota_refusal) {
      RecordQuotaRefusal(&result, *creates[i], *o.quota_refusal, clock_.Now());
      ++dispatch->quota_refused;
    }
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

namespace {

// True when the server refused a status for what it holds (schema, size), not for a conflict
// or an outage: writing the same status again can never succeed.
bool IsRefusedStatus(const k8s::Status& s) {
  if (s.IsInvalid() || s.http_code() == 413) return true;
  return s.message().find("request is too large") != std::string::npos ||
         s.message().find("Request entity too large") != std::string::npos;
}

}  // namespace

k8s::Status ExecutionReconciler::WriteStatus(const std::string& key, const Object& cached,
                                             const PipelineExecutionStatus& status) {
  k8s::Result<Object> written = UpdateStatus(cached, status);
  // A refused status would be refused again on every retry and wedge the run: write the
  // reduced status instead, which ends the run and says why (status_bounds.h).
  for (int level = 1; !written.ok() && IsRefusedStatus(written.status()) && level <= 2; ++level) {
    Log()->warn("status refused key={} level={} error={}", key, level, written.status().ToString());
    PipelineExecutionStatus reduced =
        ReduceRefusedStatus(status, written.status().message(), clock_.Now());
    if (level == 2) {  // the smallest status that still says how the run ended and why
      reduced.steps.clear();
      reduced.pipeline_snapshot = nullptr;
    }
    events_.Record(cached, EventType::kWarning, "StatusTooLarge",
                   BoundText("the API server refused the status: " + written.status().message(),
                             kMaxMessageBytes));
    written = UpdateStatus(cached, reduced);
  }
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

k8s::Result<Object> ExecutionReconciler::UpdateStatus(const Object& cached,
                                                      const PipelineExecutionStatus& status) {
  Object updated = cached;
  updated["status"] = ToJson(status);
  k8s::WriteOptions opts;
  opts.field_manager = options_.field_manager;
  return writer_.UpdateStatus(k8s::resources::kPipelineExecutions, k8s::NamespaceOf(cached),
                              updated, opts);
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

// When the oldest created-Job hint of key expires (then the execution is looked at again).
std::optional<std::chrono::milliseconds> ExecutionReconciler::HintExpiry(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = created_jobs_.find(key);
  if (it == created_jobs_.end() || it->second.empty()) return std::nullopt;
  k8s::WallTime oldest = it->second.begin()->second.first;
  for (const auto& [name, entry] : it->second) oldest = std::min(oldest, entry.first);
  auto left =
      std::chrono::ceil<std::chrono::milliseconds>(oldest + kCreatedJobMemory - clock_.Now());
  return std::max(left, std::chrono::milliseconds(100));
}

void ExecutionReconciler::Forget(const std::string& key) {
  if (options_.dispatch != nullptr) options_.dispatch->Forget(key);
  quota_.Forget(key);
  std::lock_guard lock(mu_);
  written_status_.erase(key);
  created_jobs_.erase(key);
  collided_.erase(key);
  unlisted_foreign_.erase(key);
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

// Tells the namespace's QuotaQueue what the plan left waiting for quota.
void ExecutionReconciler::ReportQuotaWaits(const std::string& key, const PlanInputs& in,
                                           const PlanResult& result, const Dispatch& dispatch) {
  if (IsFinished(result.status)) return quota_.Forget(key);
  for (int i = 0; i < dispatch.quota_refused; ++i) quota_.Refused(key);
  std::optional<k8s::WallTime> since = result.quota_waiting_since;
  if (dispatch.quota_refused > 0 && (!since || in.now < *since)) since = in.now;
  quota_.Report(key, in.quota_grants - result.quota_grants_used,
                result.quota_waiting + dispatch.quota_refused, since);
}

ReconcileOutcome ExecutionReconciler::Reconcile(const std::string& key) {
  auto [ns, name] = k8s::SplitKey(key);
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
  Lookups lookups;
  JobRecordMemo* memo = Memo(key);
  PlanInputs inputs = Inputs(key, *ex, jobs, &lookups, memo);
  if (!lookups.error.ok()) return ReconcileOutcome::Retry(lookups.error);
  inputs.quota_grants = quota_.TakeGrants(key);
  PlanResult result = Plan(inputs);
  StepCacheIndex step_cache;
  if (result.step_cache_needed) {  // a cached step is ready: plan again with the index
    step_cache = ReadStepCacheOf(*current);
    inputs.step_cache = &step_cache;
    result = Plan(inputs);
  }
  if (IsFinished(result.status)) {
    ForgetRecords(key);  // not reconciled again but to delete leftovers: nothing to keep
  } else {
    memo->Sweep();
  }
  k8s::Status applied = ApplyActions(key, *current, result, &dispatch);
  WriteStepCacheEntries(*current, result);
  ReportQuotaWaits(key, inputs, result, dispatch);
  if (options_.dispatch != nullptr && dispatch.since && dispatch.created > 0) {
    options_.dispatch->Dispatched(key, *dispatch.since);
  }
  std::optional<std::chrono::milliseconds> wake = result.requeue_after;
  if (!IsFinished(result.status)) {
    auto recheck = std::chrono::duration_cast<std::chrono::milliseconds>(kIdleRecheck);
    if (auto hint = HintExpiry(key)) recheck = std::min(recheck, *hint);
    wake = wake ? std::min(*wake, recheck) : recheck;
  }
  k8s::Status written = SettleStatus(key, *current, ex->status, result, &wake);
  if (!written.ok()) return ReconcileOutcome::Retry(written);
  if (!applied.ok()) return ReconcileOutcome::Retry(applied);
  if (wake) return ReconcileOutcome::After(*wake);
  if (IsFinished(result.status) && IsFinished(ex->status)) return CleanUpFinished(key, *ex);
  if (IsFinished(result.status) && ex->spec.ttl_seconds_after_finished) {  // finished just now
    auto ttl = std::chrono::seconds(std::max<int64_t>(0, *ex->spec.ttl_seconds_after_finished));
    return ReconcileOutcome::After(std::max<std::chrono::milliseconds>(ttl, kSoonest));
  }
  return ReconcileOutcome::Done();
}

}  // namespace stepline::reconcilers
