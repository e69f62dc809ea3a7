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

TEST(CleanupTest, JobsDeletionDue) {
  const k8s::WallTime done = At("2026-11-22T12:00:00Z");
  struct Case {
    const char* name;
    std::optional<int64_t> ttl;
    std::optional<ExecutionStatus> phase;
    bool deleted_already;
    std::optional<k8s::WallTime> want;
  };
  const std::vector<Case> cases = {
      {"no ttl", std::nullopt, ExecutionStatus::kSucceeded, false, std::nullopt},
      {"still running", 60, ExecutionStatus::kExecuting, false, std::nullopt},
      {"succeeded", 60, ExecutionStatus::kSucceeded, false, done + seconds(60)},
      {"failed, ttl 0", 0, ExecutionStatus::kFailed, false, done},
      {"stopped", 5, ExecutionStatus::kStopped, false, done + seconds(5)},
      {"done already", 60, ExecutionStatus::kSucceeded, true, std::nullopt},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    PipelineExecution ex;
    ex.spec.ttl_seconds_after_finished = c.ttl;
    ex.status.pipeline_execution_status = c.phase;
    ex.status.completion_time = done;
    if (c.deleted_already) ex.status.extra[kJobsDeletedTimeField] = "2026-11-22T12:01:00Z";
    EXPECT_EQ(JobsDeletionDue(ex), c.want);
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
  EXPECT_EQ(JobsDeletionDue(*parsed), At("2026-11-22T12:00:30Z"));
  EXPECT_EQ(parsed->spec.pipeline_name, "") << "the rest of spec still goes";
  EXPECT_TRUE(parsed->status.steps.empty());
}

}  // namespace
}  // namespace stepline::reconcilers
