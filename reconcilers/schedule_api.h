// The PipelineSchedule kind (stepline.dev/v1alpha1, issue #19): its spec and status as values,
// their JSON, and the PipelineExecution a scheduled time starts. docs/api.md describes the
// fields; crds/stepline.dev_pipelineschedules.yaml is the schema.
//
// Pure; plain values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "k8sclient/clock.h"
#include "k8sclient/resource.h"
#include "reconcilers/api_json.h"
#include "reconcilers/api_types.h"

namespace stepline::reconcilers {

// Labels and annotations of a scheduled run: the schedule's name and the scheduled time
// (RFC 3339, UTC).
inline constexpr const char* kScheduleLabel = "stepline.dev/schedule";
inline constexpr const char* kScheduledTimeAnnotation = "stepline.dev/scheduled-time";

enum class ConcurrencyPolicy { kAllow, kForbid, kReplace };
inline constexpr std::array<EnumName<ConcurrencyPolicy>, 3> kConcurrencyPolicyNames{{
    {ConcurrencyPolicy::kAllow, "Allow"},
    {ConcurrencyPolicy::kForbid, "Forbid"},
    {ConcurrencyPolicy::kReplace, "Replace"},
}};

inline constexpr int64_t kDefaultSuccessfulHistoryLimit = 3;
inline constexpr int64_t kDefaultFailedHistoryLimit = 1;

struct PipelineScheduleSpec {
  std::string schedule;
  std::string time_zone;
  std::optional<ConcurrencyPolicy> concurrency_policy;
  std::optional<int64_t> starting_deadline_seconds;
  std::optional<bool> suspend;
  std::optional<int64_t> successful_history_limit;
  std::optional<int64_t> failed_history_limit;
  StringMap template_labels;
  StringMap template_annotations;
  Json template_spec = Json::object();  // a PipelineExecution spec, before substitution
};

struct ActiveRun {
  std::string name;
  std::optional<k8s::WallTime> scheduled_time;
};

struct PipelineScheduleStatus {
  std::optional<int64_t> observed_generation;
  std::optional<k8s::WallTime> last_schedule_time;
  std::optional<k8s::WallTime> last_skipped_time;
  std::optional<k8s::WallTime> next_schedule_time;
  std::optional<k8s::WallTime> last_successful_time;
  int64_t active_count = 0;
  std::vector<ActiveRun> active;  // at most kMaxActiveListed serialized
  std::vector<Condition> conditions;
  Json extra = Json::object();
};
inline constexpr size_t kMaxActiveListed = 100;

// Invalid naming the field ("spec.concurrencyPolicy: must be one of ...").
k8s::Result<PipelineScheduleSpec> ParsePipelineScheduleSpec(const Json& json,
                                                            const std::string& path);
// A stored status that cannot be read counts as empty.
PipelineScheduleStatus ParsePipelineScheduleStatus(const Json& json);
Json ToJson(const PipelineScheduleStatus& status);

// The run of `schedule` (the object) for scheduled time t: named <schedule>-<minutes since
// 1970>, owned by the schedule (controller), labelled and annotated as above, its spec the
// template's with {{schedule.time}}, {{schedule.date}} (local_date) and {{schedule.name}}
// replaced in every string.
std::string ScheduledRunName(const std::string& schedule, k8s::WallTime t);
k8s::Object ScheduledExecution(const k8s::Object& schedule, const PipelineScheduleSpec& spec,
                               k8s::WallTime t, const std::string& local_date);

// The template's spec checked as a PipelineExecution spec, after a trial substitution: "" when
// usable, else the problem naming the field (spec.executionTemplate.spec.pipelineParameters[0]
// .value: unknown {{schedule.when}}; ...). Fields the execution does not know, and stop,
// signals, rerunOf and selectiveExecutionConfig, are refused.
std::string TemplateProblem(const PipelineScheduleSpec& spec);

}  // namespace stepline::reconcilers
