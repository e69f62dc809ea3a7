#include "reconcilers/cleanup.h"

#include <gtest/gtest.h>

#include "reconcilers/cache_trim.h"

namespace stepline::reconcilers {
namespace {

using std::chrono::seconds;

k8s::WallTime At(const char* text) {
  k8s::WallTime t;
  k8s::ParseRfc3339(text, &t);
  return t;
}

TEST(CleanupTest, ExecutionDeletionDue) {
  const k8s::WallTime done = At("2026-11-22T12:00:00Z");
  struct Case {
    const char* name;
    std::optional<int64_t> ttl;
    std::optional<ExecutionStatus> phase;
    std::optional<k8s::WallTime> want;
  };
  const std::vector<Case> cases = {
      {"no ttl", std::nullopt, ExecutionStatus::kSucceeded, std::nullopt},
      {"still running", 60, ExecutionStatus::kExecuting, std::nullopt},
      {"succeeded", 60, ExecutionStatus::kSucceeded, done + seconds(60)},
      {"failed, ttl 0", 0, ExecutionStatus::kFailed, done},
      {"stopped", 5, ExecutionStatus::kStopped, done + seconds(5)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    PipelineExecution ex;
    ex.spec.ttl_seconds_after_finished = c.ttl;
    ex.status.pipeline_execution_status = c.phase;
    ex.status.completion_time = done;
    EXPECT_EQ(ExecutionDeletionDue(ex), c.want);
  }
}

// The cache trims finished executions; what the cleanup reads must survive the trim.
TEST(CleanupTest, TheTrimKeepsWhatTheCleanupReads) {
  k8s::Object ex = {
      {"metadata", {{"name", "run-1"}, {"namespace", "ml"}, {"uid", "u"}, {"generation", 1}}},
      {"spec", {{"pipelineName", "p"}, {"ttlSecondsAfterFinished", 30}}},
      {"status",
       {{"pipelineExecutionStatus", "Succeeded"},
        {"completionTime", "2026-11-22T12:00:00Z"},
        {"steps", {{{"name", "a"}, {"phase", "Succeeded"}}}}}}};
  TrimExecution(ex);
  auto parsed = ParsePipelineExecution(ex);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(ExecutionDeletionDue(*parsed), At("2026-11-22T12:00:30Z"));
  EXPECT_EQ(parsed->spec.pipeline_name, "") << "the rest of spec still goes";
  EXPECT_TRUE(parsed->status.steps.empty());
}

CleanupRun Finished(const char* name, ExecutionStatus phase, const char* done, bool own_ttl = false,
                    bool jobs_deleted = false) {
  return {name, phase, At(done), At(done), own_ttl, jobs_deleted};
}

TEST(CleanupTest, PipelineHistoryLimitsDeleteTheOldestFinishedRuns) {
  PipelineCleanupPolicy policy;
  policy.successful_history_limit = 2;
  policy.failed_history_limit = 0;
  const auto ok = ExecutionStatus::kSucceeded;
  std::vector<CleanupRun> runs = {
      Finished("s1", ok, "2026-11-22T12:01:00Z"),
      Finished("s3", ok, "2026-11-22T12:03:00Z"),
      Finished("s2", ok, "2026-11-22T12:02:00Z"),
      Finished("f1", ExecutionStatus::kFailed, "2026-11-22T12:00:00Z"),
      Finished("x1", ExecutionStatus::kStopped, "2026-11-22T12:04:00Z"),
      {"running", ExecutionStatus::kExecuting, std::nullopt, std::nullopt, false, false},
      {"pending", std::nullopt, std::nullopt, std::nullopt, false, false},
  };
  PipelineCleanupPlan plan = PlanPipelineCleanup(policy, runs, At("2026-11-22T13:00:00Z"));
  EXPECT_EQ(plan.delete_runs, (std::vector<std::string>{"s1", "f1", "x1"}));
  EXPECT_TRUE(plan.delete_jobs.empty());
  EXPECT_EQ(plan.requeue_after.count(), 0);
  EXPECT_TRUE(PlanPipelineCleanup({}, runs, At("2026-11-22T13:00:00Z")).delete_runs.empty())
      << "no limit: nothing deleted";
}

TEST(CleanupTest, PipelineTtlDefaultDeletesRunsWithoutTheirOwn) {
  PipelineCleanupPolicy policy;
  policy.ttl_seconds_after_finished = 60;
  const auto ok = ExecutionStatus::kSucceeded;
  std::vector<CleanupRun> runs = {
      Finished("due", ok, "2026-11-22T12:00:00Z"),
      Finished("own-ttl", ok, "2026-11-22T12:00:00Z", true),
      Finished("jobs-deleted-already", ok, "2026-11-22T12:00:00Z", false, true),
      Finished("later", ExecutionStatus::kFailed, "2026-11-22T12:00:30Z"),
      Finished("latest", ok, "2026-11-22T12:00:50Z"),
      {"running", ExecutionStatus::kExecuting, std::nullopt, std::nullopt, false, false},
  };
  PipelineCleanupPlan plan = PlanPipelineCleanup(policy, runs, At("2026-11-22T12:01:10Z"));
  EXPECT_EQ(plan.expired_runs, (std::vector<std::string>{"due", "jobs-deleted-already"}));
  EXPECT_TRUE(plan.delete_runs.empty());
  EXPECT_TRUE(plan.delete_jobs.empty()) << "no jobsTTLSecondsAfterFinished";
  EXPECT_EQ(plan.requeue_after, std::chrono::milliseconds(20'000)) << "'later' is due next";
}

TEST(CleanupTest, PipelineJobsTtlDeletesJobsAndKeepsTheRecord) {
  PipelineCleanupPolicy policy;
  policy.jobs_ttl_seconds_after_finished = 10;
  policy.ttl_seconds_after_finished = 3600;
  policy.successful_history_limit = 2;
  const auto ok = ExecutionStatus::kSucceeded;
  std::vector<CleanupRun> runs = {
      Finished("old", ok, "2026-11-22T11:00:00Z"),  // beyond the history limit: deleted whole
      Finished("expired", ok, "2026-11-22T11:00:01Z", false, true),  // the run's TTL came
      Finished("due", ok, "2026-11-22T12:00:00Z", true),             // own TTL: Jobs still go
      Finished("done-already", ExecutionStatus::kFailed, "2026-11-22T12:00:00Z", false, true),
      Finished("soon", ExecutionStatus::kFailed, "2026-11-22T12:00:15Z"),
  };
  PipelineCleanupPlan plan = PlanPipelineCleanup(policy, runs, At("2026-11-22T12:00:20Z"));
  EXPECT_EQ(plan.delete_runs, (std::vector<std::string>{"old"}));
  EXPECT_EQ(plan.expired_runs, (std::vector<std::string>{"expired"}));
  EXPECT_EQ(plan.delete_jobs, (std::vector<std::string>{"due"}));
  EXPECT_EQ(plan.requeue_after, std::chrono::milliseconds(5'000)) << "'soon' is due next";
}

TEST(CleanupTest, PipelineCleanupPolicyFromTheSpec) {
  auto p = ParsePipelineCleanupPolicy(
      {{"executionDefaults", {{"ttlSecondsAfterFinished", 30}, {"jobsTTLSecondsAfterFinished", 5}}},
       {"failedHistoryLimit", 2}});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->ttl_seconds_after_finished, 30);
  EXPECT_EQ(p->jobs_ttl_seconds_after_finished, 5);
  EXPECT_EQ(p->failed_history_limit, 2);
  EXPECT_FALSE(p->successful_history_limit.has_value());
  EXPECT_TRUE(p->Any());
  EXPECT_FALSE(ParsePipelineCleanupPolicy({{"steps", Json::array()}})->Any());
  auto bad = ParsePipelineCleanupPolicy({{"successfulHistoryLimit", "x"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("spec.successfulHistoryLimit"), std::string::npos);
  k8s::Object ex = {{"metadata", {{"name", "r"}, {"creationTimestamp", "2026-11-22T11:00:00Z"}}},
                    {"spec", {{"ttlSecondsAfterFinished", 5}}},
                    {"status",
                     {{"pipelineExecutionStatus", "Failed"},
                      {"completionTime", "2026-11-22T12:00:00Z"},
                      {"jobsDeletedTime", "2026-11-22T12:00:05Z"}}}};
  CleanupRun run = CleanupRunOf(ex);
  EXPECT_EQ(run.phase, ExecutionStatus::kFailed);
  EXPECT_EQ(run.completion_time, At("2026-11-22T12:00:00Z"));
  EXPECT_TRUE(run.own_ttl);
  EXPECT_TRUE(run.jobs_deleted);
}

}  // namespace
}  // namespace stepline::reconcilers
