// spec.queueName (issue #19, Kueue): the Jobs carry Kueue's queue label and are created
// suspended; a suspended one waits for admission (Kueue unsuspends it); Stepline never touches
// spec.suspend of such a Job, not even for a quota wait.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "reconcilers/job_builder.h"
#include "tests/reconcilers/planner_test_util.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using ::testing::ElementsAre;
using testing::FakeRun;
using testing::S;
using testing::Steps;

bool AnyPatch(const PlanResult& r) {
  for (const Action& a : r.actions) {
    if (a.kind == Action::Kind::kPatchJob) return true;
  }
  return false;
}

// What Kueue does when it admits a Job.
void Admit(FakeRun& run, const std::string& job) { run.Job(job)->at("spec")["suspend"] = false; }

TEST(KueueTest, JobsCarryTheQueueLabelAndStartSuspended) {
  FakeRun run(Steps({S("a")}), {{"queueName", "team-a"}});
  PlanResult r = run.Plan();
  ASSERT_THAT(testing::Created(r), ElementsAre("run-a-1"));
  const Object& job = *run.Job("run-a-1");
  EXPECT_EQ(job["metadata"]["labels"][kLabelKueueQueueName], "team-a");
  EXPECT_EQ(job["spec"]["suspend"], true);
  EXPECT_FALSE(job["spec"]["template"]["metadata"]["labels"].contains(kLabelKueueQueueName))
      << "on the pods, Kueue's pod integration would manage them a second time";
}

TEST(KueueTest, TheExecutionsQueueOverridesThePipelines) {
  FakeRun from_pipeline(Steps({S("a")}, {{"queueName", "shared"}}));
  from_pipeline.Plan();
  EXPECT_EQ(from_pipeline.Job("run-a-1")->at("metadata")["labels"][kLabelKueueQueueName], "shared");
  FakeRun overridden(Steps({S("a")}, {{"queueName", "shared"}}), {{"queueName", "urgent"}});
  overridden.Plan();
  EXPECT_EQ(overridden.Job("run-a-1")->at("metadata")["labels"][kLabelKueueQueueName], "urgent");
  FakeRun none(Steps({S("a")}));
  none.Plan();
  EXPECT_FALSE(none.Job("run-a-1")->at("metadata")["labels"].contains(kLabelKueueQueueName));
  EXPECT_FALSE(none.Job("run-a-1")->at("spec").contains("suspend"));
}

TEST(KueueTest, ASuspendedJobWaitsForAdmissionThenRuns) {
  FakeRun run(Steps({S("a"), S("b", {{"dependsOn", {"a"}}})}), {{"queueName", "team-a"}});
  PlanResult r = run.Plan();
  EXPECT_EQ(testing::Phase(run.StepOf("a")), "WaitingForAdmission") << "from its creation on";
  EXPECT_EQ(run.StepOf("a")->message,
            "its Job waits for Kueue to admit it (LocalQueue \"team-a\")");
  EXPECT_EQ(testing::Condition(r.status, kConditionSucceeded), "Unknown/WaitingForAdmission");
  EXPECT_THAT(testing::EventReasons(r), ElementsAre("StepStarted", "WaitingForAdmission"));
  r = run.Plan();
  EXPECT_EQ(testing::Phase(run.StepOf("a")), "WaitingForAdmission");
  EXPECT_TRUE(testing::EventReasons(r).empty()) << "still waiting: no new event";
  EXPECT_FALSE(AnyPatch(r)) << "Kueue owns spec.suspend";
  run.Advance(std::chrono::hours(2));
  r = run.Plan();
  EXPECT_EQ(testing::Phase(run.StepOf("a")), "WaitingForAdmission") << "no scheduling timeout";
  EXPECT_FALSE(AnyPatch(r));
  Admit(run, "run-a-1");
  run.Run("run-a-1");
  run.Plan();
  EXPECT_EQ(testing::Phase(run.StepOf("a")), "Running");
  run.Succeed("run-a-1");
  r = run.Plan();
  EXPECT_THAT(testing::Created(r), ElementsAre("run-b-1"));
  EXPECT_EQ(run.Job("run-b-1")->at("spec")["suspend"], true);
  Admit(run, "run-b-1");
  run.Succeed("run-b-1");
  run.Plan();
  EXPECT_EQ(testing::StatusOf(run), "Succeeded");
}

TEST(KueueTest, AQuotaRefusalOfAnAdmittedJobIsWaitedOutWithoutSuspending) {
  FakeRun run(Steps({S("a")}), {{"queueName", "team-a"}});
  run.Plan();
  Admit(run, "run-a-1");
  const char* msg = "Error creating: pods \"run-a-1-x\" is forbidden: exceeded quota: q";
  run.QuotaRefused("run-a-1", msg);
  PlanResult r = run.Plan();
  EXPECT_EQ(testing::Phase(run.StepOf("a")), "WaitingForQuota");
  EXPECT_EQ(run.StepOf("a")->message, msg);
  EXPECT_FALSE(AnyPatch(r)) << "a quota wait must not fight Kueue over spec.suspend";
  EXPECT_EQ(run.Job("run-a-1")->at("spec")["suspend"], false);
}

TEST(KueueTest, AFanOutWaitingForAdmissionSaysSo) {
  FakeRun run(Steps({S("fan", {{"forEach", "[1, 2, 3]"}})}), {{"queueName", "team-a"}});
  run.Plan();
  run.Plan();
  EXPECT_EQ(testing::Phase(run.StepOf("fan")), "WaitingForAdmission");
  Admit(run, run.LatestJob("fan", 0));
  run.Run(run.LatestJob("fan", 0));
  run.Plan();
  EXPECT_EQ(testing::Phase(run.StepOf("fan")), "Running");
}

}  // namespace
}  // namespace stepline::reconcilers
