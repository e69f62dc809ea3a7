#include "reconcilers/schedule_plan.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reconcilers/cache_trim.h"
#include "reconcilers/schedule_reconciler.h"

namespace stepline::reconcilers {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

k8s::WallTime At(const char* text) {
  k8s::WallTime t;
  EXPECT_TRUE(k8s::ParseRfc3339(text, &t)) << text;
  return t;
}

std::string Str(const std::optional<k8s::WallTime>& t) {
  return t ? k8s::FormatRfc3339(*t) : "unset";
}

Json SpecJson(const char* cron, Json extra = Json::object()) {
  Json spec = {{"schedule", cron},
               {"executionTemplate",
                {{"metadata", {{"labels", {{"team", "ml"}}}}},
                 {"spec",
                  {{"pipelineName", "nightly"},
                   {"pipelineParameters",
                    Json::array({{{"name", "day"}, {"value", "{{schedule.date}}"}}})}}}}}};
  spec.update(extra);
  return spec;
}

ScheduleInput Input(const Json& spec, const char* created, const char* now) {
  ScheduleInput in{"nightly", 1,  At(created), ParsePipelineScheduleSpec(spec, "spec"),
                   {},        {}, At(now)};
  EXPECT_TRUE(in.spec.ok()) << in.spec.status().message();
  return in;
}

ScheduledRun MakeRun(const char* name, const char* scheduled, std::optional<ExecutionStatus> phase,
                     const char* done = nullptr) {
  ScheduledRun r{name, At(scheduled), phase, std::nullopt};
  if (done != nullptr) r.completion_time = At(done);
  return r;
}

bool HasEvent(const SchedulePlan& plan, const std::string& reason, const std::string& part) {
  for (const auto& e : plan.events) {
    if (e.reason == reason && e.message.find(part) != std::string::npos) return true;
  }
  return false;
}

TEST(SchedulePlanTest, StartsTheTimeThatHasComeAndWakesAtTheNext) {
  ScheduleInput in = Input(SpecJson("* * * * *"), "2026-12-06T10:00:30Z", "2026-12-06T10:00:40Z");
  SchedulePlan plan = PlanSchedule(in);
  EXPECT_FALSE(plan.start.has_value());  // 10:00 came before the schedule existed
  EXPECT_EQ(Str(plan.status.next_schedule_time), "2026-12-06T10:01:00Z");
  EXPECT_EQ(plan.requeue_after, milliseconds(20'200));

  in.now = At("2026-12-06T10:01:00Z") + milliseconds(200);
  plan = PlanSchedule(in);
  EXPECT_EQ(Str(plan.start), "2026-12-06T10:01:00Z");
  EXPECT_EQ(plan.start_date, "2026-12-06");
  EXPECT_EQ(Str(plan.status.last_schedule_time), "2026-12-06T10:01:00Z");
  EXPECT_EQ(Str(plan.status.next_schedule_time), "2026-12-06T10:02:00Z");
  EXPECT_EQ(plan.requeue_after, milliseconds(60'000));
  const Condition* ready = FindCondition(plan.status.conditions, kConditionReady);
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->status, kConditionTrue);

  // The same reconcile again (a restart, a second replica): the time is done.
  in.status = plan.status;
  plan = PlanSchedule(in);
  EXPECT_FALSE(plan.start.has_value());
}

TEST(SchedulePlanTest, AfterAnOutageAtMostOneCatchUpRun) {
  ScheduleInput in = Input(SpecJson("*/5 * * * *"), "2026-12-01T00:00:00Z", "2026-12-06T13:31:10Z");
  in.status.last_schedule_time = At("2026-12-06T10:00:00Z");
  SchedulePlan plan = PlanSchedule(in);
  EXPECT_EQ(Str(plan.start), "2026-12-06T13:30:00Z");
  EXPECT_TRUE(HasEvent(plan, kReasonMissedSchedules, "between 2026-12-06T10:00:00Z"));
  EXPECT_EQ(Str(plan.status.next_schedule_time), "2026-12-06T13:35:00Z");
}

TEST(SchedulePlanTest, StartingDeadlineSkipsALateTimeOnce) {
  ScheduleInput in = Input(SpecJson("0 * * * *", {{"startingDeadlineSeconds", 60}}),
                           "2026-12-01T00:00:00Z", "2026-12-06T13:05:00Z");
  in.status.last_schedule_time = At("2026-12-06T10:00:00Z");
  SchedulePlan plan = PlanSchedule(in);
  EXPECT_FALSE(plan.start.has_value());
  EXPECT_EQ(Str(plan.status.last_skipped_time), "2026-12-06T13:00:00Z");
  EXPECT_TRUE(HasEvent(plan, kReasonScheduleSkipped, "300s late, more than startingDeadline"));
  in.status = plan.status;
  in.now = At("2026-12-06T13:06:00Z");
  plan = PlanSchedule(in);
  EXPECT_FALSE(plan.start.has_value());
  EXPECT_TRUE(plan.events.empty());
  // Within the deadline it runs.
  in.now = At("2026-12-06T14:00:30Z");
  EXPECT_EQ(Str(PlanSchedule(in).start), "2026-12-06T14:00:00Z");
}

TEST(SchedulePlanTest, ConcurrencyPolicies) {
  struct Case {
    const char* policy;
    bool start;
    std::vector<std::string> stop;
    const char* event;
  };
  const std::vector<Case> cases = {
      {"Allow", true, {}, nullptr},
      {"Forbid", false, {}, "concurrencyPolicy is Forbid and nightly-1 has not finished"},
      {"Replace", true, {"nightly-1"}, nullptr},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.policy);
    ScheduleInput in = Input(SpecJson("* * * * *", {{"concurrencyPolicy", c.policy}}),
                             "2026-12-06T10:00:00Z", "2026-12-06T10:02:01Z");
    in.status.last_schedule_time = At("2026-12-06T10:01:00Z");
    in.runs = {MakeRun("nightly-1", "2026-12-06T10:01:00Z", ExecutionStatus::kExecuting),
               MakeRun("nightly-0", "2026-12-06T10:00:00Z", ExecutionStatus::kSucceeded,
                       "2026-12-06T10:00:30Z")};
    SchedulePlan plan = PlanSchedule(in);
    EXPECT_EQ(plan.start.has_value(), c.start);
    EXPECT_EQ(plan.stop, c.stop);
    ASSERT_EQ(plan.status.active.size(), 1u);
    EXPECT_EQ(plan.status.active[0].name, "nightly-1");
    EXPECT_EQ(plan.status.active_count, 1);
    EXPECT_EQ(Str(plan.status.last_successful_time), "2026-12-06T10:00:30Z");
    if (c.event != nullptr) {
      EXPECT_TRUE(HasEvent(plan, kReasonScheduleSkipped, c.event));
      EXPECT_EQ(Str(plan.status.last_skipped_time), "2026-12-06T10:02:00Z");
      EXPECT_EQ(Str(plan.status.last_schedule_time), "2026-12-06T10:01:00Z");
    }
  }
}

TEST(SchedulePlanTest, AStaleStatusDoesNotReplaceOrSkipTheRunItStarted) {
  for (const char* policy : {"Replace", "Forbid", "Allow"}) {
    SCOPED_TRACE(policy);
    ScheduleInput in = Input(SpecJson("* * * * *", {{"concurrencyPolicy", policy}}),
                             "2026-12-06T10:00:30Z", "2026-12-06T10:01:00.300Z");
    // The run of 10:01 is in the cache, the status that says so not yet.
    in.runs = {MakeRun("nightly-29942521", "2026-12-06T10:01:00Z", std::nullopt)};
    SchedulePlan plan = PlanSchedule(in);
    EXPECT_FALSE(plan.start.has_value());
    EXPECT_TRUE(plan.stop.empty());
    EXPECT_TRUE(plan.events.empty());
    EXPECT_EQ(Str(plan.status.last_schedule_time), "2026-12-06T10:01:00Z");
    EXPECT_FALSE(plan.status.last_skipped_time.has_value());
  }
}

TEST(SchedulePlanTest, SuspendStartsNothing) {
  ScheduleInput in = Input(SpecJson("* * * * *", {{"suspend", true}}), "2026-12-06T10:00:00Z",
                           "2026-12-06T10:05:01Z");
  SchedulePlan plan = PlanSchedule(in);
  EXPECT_FALSE(plan.start.has_value());
  EXPECT_FALSE(plan.status.next_schedule_time.has_value());
  EXPECT_EQ(plan.requeue_after, milliseconds(0));
}

TEST(SchedulePlanTest, HistoryLimitsDeleteTheOldestFinishedRuns) {
  ScheduleInput in = Input(SpecJson("* * * * *", {{"successfulHistoryLimit", 2}}),
                           "2026-12-06T10:00:00Z", "2026-12-06T10:09:30Z");
  in.status.last_schedule_time = At("2026-12-06T10:09:00Z");
  const auto ok = ExecutionStatus::kSucceeded;
  in.runs = {MakeRun("r3", "2026-12-06T10:03:00Z", ok),
             MakeRun("r1", "2026-12-06T10:01:00Z", ok),
             MakeRun("r5", "2026-12-06T10:05:00Z", ok),
             MakeRun("r4", "2026-12-06T10:04:00Z", ok),
             MakeRun("f2", "2026-12-06T10:02:00Z", ExecutionStatus::kFailed),
             MakeRun("f6", "2026-12-06T10:06:00Z", ExecutionStatus::kStopped),
             MakeRun("f7", "2026-12-06T10:07:00Z", ExecutionStatus::kFailed),
             MakeRun("x9", "2026-12-06T10:09:00Z", ExecutionStatus::kExecuting)};
  SchedulePlan plan = PlanSchedule(in);
  // Keep r5, r4 (limit 2) and f7 (default 1); the running x9 is never history.
  EXPECT_EQ(plan.remove, (std::vector<std::string>{"r3", "r1", "f6", "f2"}));
  in = Input(SpecJson("* * * * *", {{"failedHistoryLimit", 0}}), "2026-12-06T10:00:00Z",
             "2026-12-06T10:09:30Z");
  in.runs = {MakeRun("f2", "2026-12-06T10:02:00Z", ExecutionStatus::kFailed)};
  EXPECT_EQ(PlanSchedule(in).remove, (std::vector<std::string>{"f2"}));
}

TEST(SchedulePlanTest, InvalidScheduleNamesTheField) {
  struct Case {
    Json extra;
    const char* want;
  };
  const std::vector<Case> cases = {
      {{{"schedule", "61 * * * *"}}, "spec.schedule: field 1 (minute): 61 is out of range 0-59"},
      {{{"schedule", "0 0 30 2 *"}}, "spec.schedule: \"0 0 30 2 *\" never comes"},
      {{{"timeZone", "Mars/Olympus_Mons"}},
       "spec.timeZone: unknown time zone \"Mars/Olympus_Mons\""},
      {{{"executionTemplate",
         {{"spec",
           {{"pipelineName", "p"}, {"pipelineExecutionDescription", "{{schedule.when}}"}}}}}},
       "spec.executionTemplate.spec.pipelineExecutionDescription: unknown {{schedule.when}}"},
      {{{"executionTemplate", {{"spec", {{"pipelineName", "p"}, {"stop", true}}}}}},
       "spec.executionTemplate.spec.stop: not allowed in a schedule's template"},
      {{{"executionTemplate", {{"spec", {{"pipelineName", "p"}, {"paramters", 1}}}}}},
       "spec.executionTemplate.spec.paramters: not a field of a PipelineExecution spec"},
      {{{"executionTemplate", {{"spec", {{"pipelineName", "p"}, {"timeoutSeconds", "x"}}}}}},
       "spec.executionTemplate.spec.timeoutSeconds: must be an integer"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.want);
    ScheduleInput in =
        Input(SpecJson("* * * * *", c.extra), "2026-12-06T10:00:00Z", "2026-12-06T10:05:01Z");
    SchedulePlan plan = PlanSchedule(in);
    EXPECT_FALSE(plan.start.has_value());
    EXPECT_EQ(plan.requeue_after, milliseconds(0));
    const Condition* ready = FindCondition(plan.status.conditions, kConditionReady);
    ASSERT_NE(ready, nullptr);
    EXPECT_EQ(ready->status, kConditionFalse);
    EXPECT_EQ(ready->reason, kReasonInvalidSchedule);
    EXPECT_NE(ready->message.find(c.want), std::string::npos) << ready->message;
    EXPECT_TRUE(HasEvent(plan, kReasonInvalidSchedule, c.want));
    // The same problem again: no second event.
    in.status = plan.status;
    EXPECT_TRUE(PlanSchedule(in).events.empty());
  }
}

TEST(SchedulePlanTest, TheScheduledExecution) {
  auto spec = ParsePipelineScheduleSpec(SpecJson("* * * * *"), "spec");
  ASSERT_TRUE(spec.ok());
  k8s::Object schedule = {{"metadata", {{"name", "nightly"}, {"namespace", "ml"}, {"uid", "u1"}}}};
  const k8s::WallTime t = At("2026-12-06T10:01:00Z");
  k8s::Object ex = ScheduledExecution(schedule, *spec, t, "2026-12-06");
  EXPECT_EQ(k8s::NameOf(ex), "nightly-29942521");
  EXPECT_EQ(ex["metadata"]["labels"]["team"], "ml");
  EXPECT_EQ(ex["metadata"]["labels"][kScheduleLabel], "nightly");
  EXPECT_EQ(ex["metadata"]["annotations"][kScheduledTimeAnnotation], "2026-12-06T10:01:00Z");
  EXPECT_EQ(ex["metadata"]["ownerReferences"][0]["uid"], "u1");
  EXPECT_EQ(ex["metadata"]["ownerReferences"][0]["controller"], true);
  EXPECT_EQ(ex["spec"]["pipelineParameters"][0]["value"], "2026-12-06");
  ScheduledRun run = ScheduledRunOf(ex);
  EXPECT_EQ(Str(run.scheduled_time), "2026-12-06T10:01:00Z");
  EXPECT_FALSE(run.phase.has_value());
  // Finished, the controller's cache trims it but keeps what the schedule reads.
  ex["metadata"]["ownerReferences"][0]["kind"] = "PipelineSchedule";
  ex["status"] = {{"pipelineExecutionStatus", "Succeeded"},
                  {"completionTime", "2026-12-06T10:01:30Z"},
                  {"progress", "1/1"}};
  TrimExecution(ex);
  run = ScheduledRunOf(ex);
  EXPECT_EQ(Str(run.scheduled_time), "2026-12-06T10:01:00Z");
  EXPECT_EQ(Str(run.completion_time), "2026-12-06T10:01:30Z");
  EXPECT_EQ(run.phase, ExecutionStatus::kSucceeded);
  EXPECT_FALSE(ex["metadata"].contains("labels"));
}

}  // namespace
}  // namespace stepline::reconcilers
