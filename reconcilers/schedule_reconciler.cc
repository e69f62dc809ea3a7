#include "reconcilers/schedule_reconciler.h"

#include <utility>

#include "k8sclient/object_fields.h"
#include "reconcilers/log.h"

namespace stepline::reconcilers {
namespace {

using k8s::AnnotationTime;
using k8s::Child;
using k8s::CreationTime;
using k8s::Object;
using k8s::TimeField;

bool Ignorable(const k8s::Status& s, bool already_exists_ok) {
  return s.ok() || s.code() == k8s::StatusCode::kNotFound ||
         (already_exists_ok && s.code() == k8s::StatusCode::kAlreadyExists);
}

}  // namespace

ScheduledRun ScheduledRunOf(const Object& execution) {
  ScheduledRun run;
  run.name = k8s::NameOf(execution);
  run.scheduled_time = AnnotationTime(execution, kScheduledTimeAnnotation);
  run.completion_time = TimeField(Child(execution, "status"), "completionTime");
  const std::string phase = execution.value("/status/pipelineExecutionStatus"_json_pointer, "");
  for (const auto& n : kExecutionStatusNames) {
    if (phase == n.name) run.phase = n.value;
  }
  return run;
}

ScheduleReconciler::ScheduleReconciler(const k8s::CacheReader& schedules,
                                       const k8s::CacheReader& executions,
                                       k8s::ObjectWriter& writer, EventRecorder& events,
                                       const k8s::Clock& clock, std::string zone_dir)
    : schedules_(schedules),
      executions_(executions),
      writer_(writer),
      events_(events),
      clock_(clock),
      zone_dir_(std::move(zone_dir)) {}

std::vector<ScheduledRun> ScheduleReconciler::RunsOf(const Object& schedule) const {
  std::vector<ScheduledRun> runs;
  for (const k8s::ObjectPtr& ex : executions_.ListByOwner(k8s::UidOf(schedule))) {
    const Object* owner = k8s::ControllerOf(*ex);
    if (owner == nullptr || owner->value("uid", "") != k8s::UidOf(schedule)) continue;
    if (ex->contains("/metadata/deletionTimestamp"_json_pointer)) continue;
    runs.push_back(ScheduledRunOf(*ex));
  }
  return runs;
}

k8s::Status ScheduleReconciler::Act(const Object& schedule, const PipelineScheduleSpec& spec,
                                    SchedulePlan* plan) {
  const std::string& ns = k8s::NamespaceOf(schedule);
  const std::string key = k8s::KeyOf(schedule);
  for (const std::string& name : plan->stop) {
    k8s::Result<Object> stopped =
        writer_.Patch(k8s::resources::kPipelineExecutions, ns, name, k8s::PatchType::kMerge,
                      R"({"spec":{"stop":true}})");
    if (!Ignorable(stopped.status(), false)) return stopped.status();
    events_.Record(schedule, EventType::kNormal, kReasonReplaced,
                   "stopped " + name + " (concurrencyPolicy Replace)");
  }
  if (plan->start) {
    Object run = ScheduledExecution(schedule, spec, *plan->start, plan->start_date);
    k8s::Result<Object> created = writer_.Create(k8s::resources::kPipelineExecutions, ns, run);
    if (!Ignorable(created.status(), true)) {
      events_.Record(schedule, EventType::kWarning, "CreateFailed",
                     "creating " + k8s::NameOf(run) + ": " + created.status().message());
      return created.status();
    }
    Log()->info("scheduled run key={} run={}", key, k8s::NameOf(run));
    if (created.ok()) {
      events_.Record(schedule, EventType::kNormal, kReasonScheduledRun,
                     "started " + k8s::NameOf(run) + " for " + k8s::FormatRfc3339(*plan->start));
    }
    plan->status.active.push_back({k8s::NameOf(run), plan->start});
    plan->status.active_count = static_cast<int64_t>(plan->status.active.size());
  }
  for (const std::string& name : plan->remove) {
    k8s::DeleteOptions opts;
    opts.propagation_policy = "Background";
    k8s::Status deleted = writer_.Delete(k8s::resources::kPipelineExecutions, ns, name, opts);
    if (!Ignorable(deleted, false)) return deleted;
    events_.Record(schedule, EventType::kNormal, kReasonHistoryDeleted,
                   "deleted " + name + " (history limit)");
  }
  return k8s::Status::Ok();
}

k8s::Status ScheduleReconciler::WriteStatus(const Object& schedule,
                                            const PipelineScheduleStatus& status) {
  Object updated = schedule;
  updated["status"] = ToJson(status);
  return writer_
      .UpdateStatus(k8s::resources::kPipelineSchedules, k8s::NamespaceOf(schedule), updated)
      .status();
}

ReconcileOutcome ScheduleReconciler::Reconcile(const std::string& key) {
  auto [ns, name] = k8s::SplitKey(key);
  k8s::ObjectPtr schedule = schedules_.Get(ns, name);
  if (!schedule || schedule->contains("/metadata/deletionTimestamp"_json_pointer)) {
    return ReconcileOutcome::Done();
  }
  std::optional<int64_t> generation;
  if (auto g = schedule->find("metadata"); g != schedule->end() && g->contains("generation")) {
    if ((*g)["generation"].is_number_integer()) generation = (*g)["generation"].get<int64_t>();
  }
  ScheduleInput in{name,
                   generation,
                   CreationTime(*schedule).value_or(k8s::WallTime{}),
                   ParsePipelineScheduleSpec(schedule->value("spec", Object::object()), "spec"),
                   ParsePipelineScheduleStatus(schedule->value("status", Object::object())),
                   RunsOf(*schedule),
                   clock_.Now(),
                   zone_dir_};
  SchedulePlan plan = PlanSchedule(in);
  k8s::Status acted = in.spec.ok() ? Act(*schedule, *in.spec, &plan) : k8s::Status::Ok();
  for (const ScheduleEvent& e : plan.events) events_.Record(*schedule, e.type, e.reason, e.message);
  if (!acted.ok()) {
    Log()->warn("schedule action failed key={} error={}", key, acted.ToString());
    return ReconcileOutcome::Retry(acted);
  }
  if (ToJson(plan.status) != schedule->value("status", Object::object())) {
    k8s::Status written = WriteStatus(*schedule, plan.status);
    if (!written.ok()) return ReconcileOutcome::Retry(written);
  }
  if (plan.requeue_after.count() > 0) return ReconcileOutcome::After(plan.requeue_after);
  return ReconcileOutcome::Done();
}

}  // namespace stepline::reconcilers
