// What a PipelineSchedule does next (issue #19), decided from its spec, its stored status, its
// runs and the time: the pure core of the schedule reconciler (no I/O, time from the input).
//
// - The times considered are those after max(lastScheduleTime, lastSkippedTime, creation): of
//   them only the latest that has come runs (as a CronJob: after an outage or a suspension at
//   most one catch-up run; a MissedSchedules event says earlier times were dropped).
// - That time is skipped (lastSkippedTime, a Warning event) when the controller comes to it
//   more than startingDeadlineSeconds late, or when concurrencyPolicy is Forbid and a run of
//   the schedule has not finished. Replace stops the unfinished runs (spec.stop, as a user
//   does) and starts the new one; Allow starts it regardless.
// - History: of the finished runs, the newest successfulHistoryLimit Succeeded and
//   failedHistoryLimit Failed or Stopped are kept, the older ones deleted.
// - An invalid schedule, time zone or template sets Ready False (InvalidSchedule) naming the
//   field, and starts nothing; history is still kept in bounds.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "k8sclient/clock.h"
#include "reconcilers/reconciler.h"
#include "reconcilers/schedule_api.h"
#include "reconcilers/time_zone.h"

namespace stepline::reconcilers {

inline constexpr const char* kReasonInvalidSchedule = "InvalidSchedule";
inline constexpr const char* kReasonScheduleSkipped = "ScheduleSkipped";
inline constexpr const char* kReasonMissedSchedules = "MissedSchedules";
inline constexpr const char* kReasonScheduledRun = "ScheduledRun";
inline constexpr const char* kReasonReplaced = "ReplacedRun";
inline constexpr const char* kReasonHistoryDeleted = "HistoryDeleted";

// A run of the schedule (a PipelineExecution it owns) as the plan reads it.
struct ScheduledRun {
  std::string name;
  std::optional<k8s::WallTime> scheduled_time;  // its annotation
  std::optional<ExecutionStatus> phase;         // nullopt: not started yet
  std::optional<k8s::WallTime> completion_time;
};

struct ScheduleInput {
  std::string name;
  std::optional<int64_t> generation;
  k8s::WallTime created;
  k8s::Result<PipelineScheduleSpec> spec;  // parsed, or why not
  PipelineScheduleStatus status;           // as stored
  std::vector<ScheduledRun> runs;
  k8s::WallTime now;
  std::string zone_dir = kZoneInfoDir;
};

struct ScheduleEvent {
  EventType type;
  std::string reason;
  std::string message;
};

struct SchedulePlan {
  PipelineScheduleStatus status;       // to write when it differs from the stored one
  std::optional<k8s::WallTime> start;  // start the run of this scheduled time
  std::string start_date;              // its date in the time zone (YYYY-MM-DD)
  std::vector<std::string> stop;       // runs to stop (Replace)
  std::vector<std::string> remove;     // finished runs beyond the history limits
  std::vector<ScheduleEvent> events;
  std::chrono::milliseconds requeue_after{0};  // 0: no wake-up (suspended, invalid, never)
};

SchedulePlan PlanSchedule(const ScheduleInput& in);

}  // namespace stepline::reconcilers
