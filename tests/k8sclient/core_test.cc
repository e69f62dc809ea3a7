#include <gtest/gtest.h>

#include "k8sclient/clock.h"
#include "k8sclient/job_state.h"
#include "k8sclient/resource.h"
#include "k8sclient/status.h"

namespace stepline::k8s {
namespace {

TEST(ResourceTest, PathsForCoreGroupedAndClusterScoped) {
  struct Case {
    std::string name;
    Resource res;
    std::string ns;
    std::string want;
  };
  std::vector<Case> cases = {
      {"core namespaced", resources::kPods, "ml", "/api/v1/namespaces/ml/pods"},
      {"core all namespaces", resources::kPods, "", "/api/v1/pods"},
      {"grouped", resources::kJobs, "ml", "/apis/batch/v1/namespaces/ml/jobs"},
      {"cluster scoped ignores ns", resources::kNamespaces, "ml", "/api/v1/namespaces"},
      {"crd", resources::kPipelines, "ml", "/apis/stepline.dev/v1alpha1/namespaces/ml/pipelines"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.res.CollectionPath(c.ns), c.want);
  }
  EXPECT_EQ(resources::kJobs.ApiVersion(), "batch/v1");
  EXPECT_EQ(resources::kPods.ApiVersion(), "v1");
  EXPECT_EQ(resources::kJobs.GroupResource(), "jobs.batch");
}

TEST(ResourceTest, MetadataAccessorsToleratePartialObjects) {
  Object job = {{"metadata",
                 {{"name", "run-1-a-1"},
                  {"namespace", "ml"},
                  {"ownerReferences",
                   {{{"uid", "u1"}, {"controller", false}},
                    {{"uid", "u2"}, {"kind", "PipelineExecution"}, {"controller", true}}}}}}};
  EXPECT_EQ(KeyOf(job), "ml/run-1-a-1");
  ASSERT_NE(ControllerOf(job), nullptr);
  EXPECT_EQ((*ControllerOf(job))["uid"], "u2");
  EXPECT_EQ(NameOf(Object::object()), "");
  EXPECT_EQ(ControllerOf(Object{{"metadata", 3}}), nullptr);
}

TEST(ResourceTest, SplitKeyUndoesKeyOf) {
  using Pair = std::pair<std::string, std::string>;
  EXPECT_EQ(SplitKey("ml/run-1"), (Pair{"ml", "run-1"}));
  EXPECT_EQ(SplitKey("node-a"), (Pair{"", "node-a"}));  // cluster-scoped
  EXPECT_EQ(SplitKey("ml/"), (Pair{"ml", ""}));
  Object pod = {{"metadata", {{"name", "p"}, {"namespace", "ns"}}}};
  EXPECT_EQ(SplitKey(KeyOf(pod)), (Pair{"ns", "p"}));
}

TEST(JobStateTest, ClassifiesByTrueOutcomeConditions) {
  auto job = [](std::vector<std::pair<const char*, const char*>> conditions) {
    Object j = {{"status", {{"conditions", Object::array()}}}};
    for (const auto& [type, status] : conditions) {
      j["status"]["conditions"].push_back({{"type", type}, {"status", status}});
    }
    return j;
  };
  struct Case {
    const char* name;
    Object job;
    JobState want;
  };
  const std::vector<Case> cases = {
      {"no status", Object::object(), JobState::kActive},
      {"suspended only", job({{"Suspended", "True"}}), JobState::kActive},
      {"complete false", job({{"Complete", "False"}}), JobState::kActive},
      {"criteria met, pods terminating", job({{"SuccessCriteriaMet", "True"}}),
       JobState::kSucceeding},
      {"complete", job({{"SuccessCriteriaMet", "True"}, {"Complete", "True"}}),
       JobState::kSucceeded},
      {"failure target", job({{"FailureTarget", "True"}}), JobState::kFailing},
      {"failed", job({{"FailureTarget", "True"}, {"Failed", "True"}}), JobState::kFailed},
      {"failed wins over complete", job({{"Complete", "True"}, {"Failed", "True"}}),
       JobState::kFailed},
      {"malformed conditions", Object{{"status", {{"conditions", 3}}}}, JobState::kActive},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const JobState got = ClassifyJob(c.job);
    EXPECT_EQ(got, c.want);
    EXPECT_EQ(OutcomeDecided(got), c.want != JobState::kActive);
    EXPECT_EQ(HasEnded(got), c.want == JobState::kSucceeded || c.want == JobState::kFailed);
  }
  for (const char* type : {"Complete", "Failed", "SuccessCriteriaMet", "FailureTarget"}) {
    EXPECT_TRUE(IsJobOutcomeCondition(type)) << type;
  }
  EXPECT_FALSE(IsJobOutcomeCondition("Suspended"));
}

TEST(StatusTest, RetriableClasses) {
  EXPECT_TRUE(Status(StatusCode::kTooManyRequests, "slow down", 429).IsRetriable());
  EXPECT_TRUE(Status::Unavailable("x").IsRetriable());
  EXPECT_TRUE(Status::Internal("x").IsRetriable());
  EXPECT_FALSE(Status(StatusCode::kInternal, "not implemented", 501).IsRetriable());
  EXPECT_FALSE(Status::Conflict("x").IsRetriable());
  EXPECT_FALSE(Status::NotFound("x").IsRetriable());
  EXPECT_EQ(Status::NotFound("jobs.batch \"a\" not found").ToString(),
            "NotFound (404): jobs.batch \"a\" not found");
}

TEST(ClockTest, Rfc3339RoundTripAndOffsets) {
  WallTime t;
  ASSERT_TRUE(ParseRfc3339("2026-11-22T14:20:55Z", &t));
  EXPECT_EQ(FormatRfc3339(t), "2026-11-22T14:20:55Z");
  WallTime with_offset;
  ASSERT_TRUE(ParseRfc3339("2026-11-22T16:20:55.250+02:00", &with_offset));
  EXPECT_EQ(FormatRfc3339(with_offset), "2026-11-22T14:20:55Z");
  EXPECT_FALSE(ParseRfc3339("yesterday", &t));
  EXPECT_FALSE(ParseRfc3339("2026-11-22T14:20:55", &t));  // no zone
}

TEST(ClockTest, FakeClockMovesOnlyWhenTold) {
  FakeClock clock;
  auto wall = clock.Now();
  auto mono = clock.MonotonicNow();
  clock.Advance(std::chrono::seconds(30));
  EXPECT_EQ(clock.Now() - wall, std::chrono::seconds(30));
  EXPECT_EQ(clock.MonotonicNow() - mono, std::chrono::seconds(30));
}

}  // namespace
}  // namespace stepline::k8s
