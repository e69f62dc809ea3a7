// The PipelineSchedule reconciler (issue #19): reads the schedule and the executions it owns
// from the caches, asks PlanSchedule (schedule_plan.h) what to do, and does it: stops runs
// (spec.stop, for Replace), creates the run of the time that has come (its name is
// deterministic per scheduled time, so AlreadyExists means done: two replicas or a restart
// never start two runs for one time), deletes runs beyond the history limits, records the
// plan's events, writes status through /status when it changed, and asks to be woken at the
// next scheduled time.
//
// The executions cache keeps, of finished executions, what this reads (cache_trim.h).
//
// Thread-safety: Reconcile may run on several workers at once, never for the same key; it
// keeps no state of its own.
#pragma once

#include <string>
#include <vector>

#include "k8sclient/cache.h"
#include "k8sclient/client.h"
#include "k8sclient/clock.h"
#include "reconcilers/reconciler.h"
#include "reconcilers/schedule_plan.h"

namespace stepline::reconcilers {

class ScheduleReconciler : public Reconciler {
 public:
  // Everything must outlive the reconciler. zone_dir: the tz database.
  ScheduleReconciler(const k8s::CacheReader& schedules, const k8s::CacheReader& executions,
                     k8s::ObjectWriter& writer, EventRecorder& events, const k8s::Clock& clock,
                     std::string zone_dir = kZoneInfoDir);

  const std::string& Name() const override { return name_; }
  ReconcileOutcome Reconcile(const std::string& key) override;

 private:
  std::vector<ScheduledRun> RunsOf(const k8s::Object& schedule) const;
  // Stops, creates and deletes as planned; the created run joins plan->status.active.
  k8s::Status Act(const k8s::Object& schedule, const PipelineScheduleSpec& spec,
                  SchedulePlan* plan);
  k8s::Status WriteStatus(const k8s::Object& schedule, const PipelineScheduleStatus& status);

  const std::string name_ = "pipelineschedule";
  const k8s::CacheReader& schedules_;
  const k8s::CacheReader& executions_;
  k8s::ObjectWriter& writer_;
  EventRecorder& events_;
  const k8s::Clock& clock_;
  const std::string zone_dir_;
};

// The ScheduledRun of an execution object (its annotation, phase, completion time).
ScheduledRun ScheduledRunOf(const k8s::Object& execution);

}  // namespace stepline::reconcilers
