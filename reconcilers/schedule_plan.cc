#include "reconcilers/schedule_plan.h"

#include <algorithm>
#include <utility>

#include "reconcilers/cron.h"

namespace stepline::reconcilers {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

struct Parsed {
  CronSchedule cron;
  TimeZone zone;
};

// The schedule's cron and zone, or the problem naming the field.
k8s::Result<Parsed> Validate(const ScheduleInput& in) {
  if (!in.spec.ok()) return in.spec.status();
  k8s::Result<CronSchedule> cron = ParseCron(in.spec->schedule);
  if (!cron.ok()) return FieldError("spec.schedule", cron.status().message());
  k8s::Result<TimeZone> zone = LoadTimeZone(in.spec->time_zone, in.zone_dir);
  if (!zone.ok()) return FieldError("spec.timeZone", zone.status().message());
  if (std::string problem = TemplateProblem(*in.spec); !problem.empty()) {
    return k8s::Status::Invalid(problem);
  }
  if (!NextCronTime(*cron, *zone, in.now)) {
    return FieldError("spec.schedule", "\"" + in.spec->schedule + "\" never comes");
  }
  return Parsed{std::move(cron).value(), std::move(zone).value()};
}

bool Newer(const ScheduledRun& a, const ScheduledRun& b) {
  if (a.scheduled_time != b.scheduled_time) return a.scheduled_time > b.scheduled_time;
  return a.name > b.name;
}

// Beyond the limit, the oldest finished runs of one kind go.
void Prune(std::vector<const ScheduledRun*> runs, int64_t limit, SchedulePlan* plan) {
  std::sort(runs.begin(), runs.end(), [](auto* a, auto* b) { return Newer(*a, *b); });
  for (size_t i = static_cast<size_t>(std::max<int64_t>(0, limit)); i < runs.size(); ++i) {
    plan->remove.push_back(runs[i]->name);
  }
}

// status.active, activeCount, lastSuccessfulTime, and the history to delete.
void TrackRuns(const ScheduleInput& in, SchedulePlan* plan) {
  std::vector<const ScheduledRun*> succeeded, failed;
  PipelineScheduleStatus& st = plan->status;
  st.active.clear();
  for (const ScheduledRun& run : in.runs) {
    if (!IsFinishedPhase(run.phase)) {
      st.active.push_back({run.name, run.scheduled_time});
    } else if (run.phase == ExecutionStatus::kSucceeded) {
      succeeded.push_back(&run);
      if (run.completion_time &&
          (!st.last_successful_time || *run.completion_time > *st.last_successful_time)) {
        st.last_successful_time = run.completion_time;
      }
    } else {
      failed.push_back(&run);
    }
  }
  std::sort(st.active.begin(), st.active.end(), [](const ActiveRun& a, const ActiveRun& b) {
    return std::tie(a.scheduled_time, a.name) < std::tie(b.scheduled_time, b.name);
  });
  st.active_count = static_cast<int64_t>(st.active.size());
  if (!in.spec.ok()) return;
  Prune(succeeded, in.spec->successful_history_limit.value_or(kDefaultSuccessfulHistoryLimit),
        plan);
  Prune(failed, in.spec->failed_history_limit.value_or(kDefaultFailedHistoryLimit), plan);
}

void SetReady(const ScheduleInput& in, const std::string& status, const std::string& reason,
              const std::string& message, SchedulePlan* plan) {
  Condition ready{kConditionReady, status, reason, message, std::nullopt, in.generation, {}};
  const Condition* before = FindCondition(in.status.conditions, kConditionReady);
  if (status == kConditionFalse && (before == nullptr || before->message != message)) {
    plan->events.push_back({EventType::kWarning, reason, message});
  }
  SetKstatusConditions(&plan->status.conditions, status, reason, message, in.generation, in.now);
  SetCondition(&plan->status.conditions, std::move(ready), in.now);
}

std::string Names(const std::vector<ActiveRun>& runs) {
  std::string out;
  for (size_t i = 0; i < runs.size() && i < 3; ++i) out += (i ? ", " : "") + runs[i].name;
  if (runs.size() > 3) out += " and " + std::to_string(runs.size() - 3) + " more";
  return out;
}

// Whether the time t that has come starts a run; if not, why (the skip event's message).
std::string SkipReason(const ScheduleInput& in, k8s::WallTime t, const SchedulePlan& plan) {
  const std::string when = k8s::FormatRfc3339(t);
  const auto& deadline = in.spec->starting_deadline_seconds;
  if (deadline && in.now - t > std::chrono::seconds(*deadline)) {
    return "the run for " + when + " was not started: " +
           std::to_string(duration_cast<std::chrono::seconds>(in.now - t).count()) +
           "s late, more than startingDeadlineSeconds (" + std::to_string(*deadline) + ")";
  }
  if (in.spec->concurrency_policy == ConcurrencyPolicy::kForbid && !plan.status.active.empty()) {
    return "the run for " + when + " was skipped: concurrencyPolicy is Forbid and " +
           Names(plan.status.active) + " has not finished";
  }
  return "";
}

// The time that has come since the last one acted on, if any: start it, or skip it.
void Decide(const ScheduleInput& in, const Parsed& p, SchedulePlan* plan) {
  PipelineScheduleStatus& st = plan->status;
  k8s::WallTime cursor = in.created;
  for (const auto& t : {st.last_schedule_time, st.last_skipped_time}) {
    if (t && *t > cursor) cursor = *t;
  }
  MissedTimes missed = LatestCronTime(p.cron, p.zone, cursor, in.now);
  if (!missed.latest) return;
  const k8s::WallTime t = *missed.latest;
  // Its run exists already: the status read was older than the create (a stale cache).
  for (const ScheduledRun& run : in.runs) {
    if (run.scheduled_time == t) {
      st.last_schedule_time = t;
      return;
    }
  }
  if (missed.earlier_too) {
    plan->events.push_back({EventType::kWarning, kReasonMissedSchedules,
                            "scheduled times between " + k8s::FormatRfc3339(cursor) + " and " +
                                k8s::FormatRfc3339(t) +
                                " were missed (controller down or schedule suspended); only the "
                                "latest is considered"});
  }
  if (std::string skip = SkipReason(in, t, *plan); !skip.empty()) {
    st.last_skipped_time = t;
    plan->events.push_back({EventType::kWarning, kReasonScheduleSkipped, skip});
    return;
  }
  if (in.spec->concurrency_policy == ConcurrencyPolicy::kReplace) {
    for (const ActiveRun& a : st.active) plan->stop.push_back(a.name);
  }
  plan->start = t;
  plan->start_date = LocalDate(p.zone, t);
  st.last_schedule_time = t;
}

}  // namespace

SchedulePlan PlanSchedule(const ScheduleInput& in) {
  SchedulePlan plan;
  plan.status = in.status;
  plan.status.observed_generation = in.generation;
  plan.status.next_schedule_time.reset();
  TrackRuns(in, &plan);
  k8s::Result<Parsed> parsed = Validate(in);
  if (!parsed.ok()) {
    SetReady(in, kConditionFalse, kReasonInvalidSchedule, parsed.status().message(), &plan);
    return plan;
  }
  SetReady(in, kConditionTrue, "Valid", "the schedule is valid", &plan);
  if (in.spec->suspend.value_or(false)) return plan;
  Decide(in, *parsed, &plan);
  std::optional<k8s::WallTime> next = NextCronTime(parsed->cron, parsed->zone, in.now);
  plan.status.next_schedule_time = next;
  if (next) {
    // A little after the time, so that the reconcile then finds it has come.
    plan.requeue_after = duration_cast<milliseconds>(*next - in.now) + milliseconds(200);
  }
  return plan;
}

}  // namespace stepline::reconcilers
