#include "reconcilers/cleanup.h"

#include <algorithm>

#include "k8sclient/object_fields.h"
#include "reconcilers/api_json.h"
#include "reconcilers/job_builder.h"

namespace stepline::reconcilers {
namespace {
using k8s::Child;
using k8s::CreationTime;
using k8s::TimeField;

// Newest first: by completion, then creation, then name.
bool Newer(const CleanupRun* a, const CleanupRun* b) {
  return std::tie(a->completion_time, a->creation_time, a->name) >
         std::tie(b->completion_time, b->creation_time, b->name);
}

void Prune(std::vector<const CleanupRun*> runs, const std::optional<int64_t>& limit,
           PipelineCleanupPlan* plan) {
  if (!limit) return;
  std::sort(runs.begin(), runs.end(), Newer);
  for (size_t i = runs.size(); i > static_cast<size_t>(std::max<int64_t>(0, *limit)); --i) {
    plan->delete_runs.push_back(runs[i - 1]->name);
  }
}

// True when the finished run's TTL has come; when it is still to come, keeps the wait in
// plan->requeue_after if it is the shortest.
bool Due(const std::optional<int64_t>& ttl, const CleanupRun& run, k8s::WallTime now,
         PipelineCleanupPlan* plan) {
  if (!ttl) return false;
  const k8s::WallTime due = *run.completion_time + std::chrono::seconds(std::max<int64_t>(0, *ttl));
  if (due <= now) return true;
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(due - now);
  if (plan->requeue_after.count() == 0 || wait < plan->requeue_after) plan->requeue_after = wait;
  return false;
}

}  // namespace

std::optional<k8s::WallTime> ExecutionDeletionDue(const PipelineExecution& ex) {
  const auto& ttl = ex.spec.ttl_seconds_after_finished;
  if (!ttl || !IsFinishedPhase(ex.status.pipeline_execution_status) || !ex.status.completion_time) {
    return std::nullopt;
  }
  return *ex.status.completion_time + std::chrono::seconds(std::max<int64_t>(0, *ttl));
}

k8s::Result<PipelineCleanupPolicy> ParsePipelineCleanupPolicy(const Json& spec) {
  FieldReader r(spec, "spec");
  PipelineCleanupPolicy p;
  r.Int("successfulHistoryLimit", &p.successful_history_limit);
  r.Int("failedHistoryLimit", &p.failed_history_limit);
  Json defaults;
  r.Raw("executionDefaults", &defaults);
  if (!r.ok()) return r.status();
  if (defaults.is_null()) return p;
  FieldReader d(defaults, "spec.executionDefaults");
  d.Int("ttlSecondsAfterFinished", &p.ttl_seconds_after_finished);
  d.Int("jobsTTLSecondsAfterFinished", &p.jobs_ttl_seconds_after_finished);
  if (!d.ok()) return d.status();
  return p;
}

CleanupRun CleanupRunOf(const k8s::Object& ex) {
  CleanupRun run;
  run.name = k8s::NameOf(ex);
  const std::string phase = ex.value("/status/pipelineExecutionStatus"_json_pointer, "");
  for (const auto& n : kExecutionStatusNames) {
    if (phase == n.name) run.phase = n.value;
  }
  run.completion_time = TimeField(Child(ex, "status"), "completionTime");
  run.creation_time = CreationTime(ex);
  run.own_ttl = ex.contains("/spec/ttlSecondsAfterFinished"_json_pointer);
  run.jobs_deleted = ex.contains("/status/jobsDeletedTime"_json_pointer);
  return run;
}

PipelineCleanupPlan PlanPipelineCleanup(const PipelineCleanupPolicy& policy,
                                        const std::vector<CleanupRun>& runs, k8s::WallTime now) {
  PipelineCleanupPlan plan;
  std::vector<const CleanupRun*> succeeded, failed;
  for (const CleanupRun& run : runs) {
    if (!IsFinishedPhase(run.phase)) continue;
    (run.phase == ExecutionStatus::kSucceeded ? succeeded : failed).push_back(&run);
  }
  Prune(succeeded, policy.successful_history_limit, &plan);
  Prune(failed, policy.failed_history_limit, &plan);
  for (const CleanupRun& run : runs) {
    if (!IsFinishedPhase(run.phase) || !run.completion_time) continue;
    if (std::find(plan.delete_runs.begin(), plan.delete_runs.end(), run.name) !=
        plan.delete_runs.end()) {
      continue;
    }
    if (!run.own_ttl && Due(policy.ttl_seconds_after_finished, run, now, &plan)) {
      plan.expired_runs.push_back(run.name);
      continue;
    }
    if (!run.jobs_deleted && Due(policy.jobs_ttl_seconds_after_finished, run, now, &plan)) {
      plan.delete_jobs.push_back(run.name);
    }
  }
  return plan;
}

k8s::Status DeleteJobsOf(k8s::ObjectReader& reader, k8s::ObjectWriter& writer,
                         const std::string& ns, const std::string& name, const std::string& uid) {
  k8s::ListOptions opts;
  opts.label_selector = std::string(kLabelExecution) + "=" + name;
  k8s::Result<k8s::ObjectList> jobs = k8s::ListAll(reader, k8s::resources::kJobs, ns, opts);
  if (!jobs.ok()) return jobs.status();
  k8s::DeleteOptions del;
  del.propagation_policy = "Background";
  for (const k8s::Object& job : jobs->items) {
    const k8s::Object* owner = k8s::ControllerOf(job);
    if (owner == nullptr || owner->value("uid", "") != uid) continue;
    k8s::Status s = writer.Delete(k8s::resources::kJobs, ns, k8s::NameOf(job), del);
    if (!s.ok() && !s.IsNotFound()) return s;
  }
  return k8s::Status::Ok();
}

k8s::Status RecordJobsDeleted(k8s::ObjectReader& reader, k8s::ObjectWriter& writer,
                              EventRecorder& events, const std::string& ns, const std::string& name,
                              k8s::WallTime now, const std::string& field_manager,
                              const std::string& cause) {
  k8s::Result<k8s::Object> whole = reader.Get(k8s::resources::kPipelineExecutions, ns, name);
  if (!whole.ok()) return whole.status().IsNotFound() ? k8s::Status::Ok() : whole.status();
  k8s::Object updated = std::move(whole).value();
  updated["status"][kJobsDeletedTimeField] = k8s::FormatRfc3339(now);
  k8s::WriteOptions opts;
  opts.field_manager = field_manager;
  auto written = writer.UpdateStatus(k8s::resources::kPipelineExecutions, ns, updated, opts);
  if (!written.ok()) return written.status();  // a conflict: the caller tries again
  events.Record(updated, EventType::kNormal, kReasonJobsDeleted,
                "deleted the Jobs and pods of the run, " + cause + " after it finished; its " +
                    "status is kept");
  return k8s::Status::Ok();
}

}  // namespace stepline::reconcilers
