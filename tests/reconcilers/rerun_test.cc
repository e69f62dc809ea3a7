// Re-runs (rerun.h) through the planner, in the simulator style of planner_test.cc: a source
// run is driven to its end, then a second execution re-runs it.
#include "reconcilers/rerun.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "planner_test_util.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using testing::Condition;
using testing::Created;
using ::testing::ElementsAre;
using testing::EventReasons;
using testing::FakeRun;
using ::testing::HasSubstr;
using testing::Phase;
using testing::S;
using testing::StatusOf;
using testing::Steps;

Object Chain() {
  return Steps({S("a"), S("b", {{"dependsOn", {"a"}}}), S("c", {{"dependsOn", {"b"}}})});
}

// Drives run through: a succeeds with an output, b fails (no retry): the run Failed.
void FailAtB(FakeRun& run) {
  run.Plan();
  run.Succeed("run-a-1", R"({"rows": "42"})");
  run.Plan();
  run.Fail("run-b-1", 3);
  run.Plan();
  ASSERT_EQ(StatusOf(run), "Failed");
}

FakeRun Rerun(const Object& pipeline, Object rerun_spec, const PipelineExecution& source) {
  FakeRun rerun(pipeline, std::move(rerun_spec));
  rerun.execution().metadata.name = "rerun";
  rerun.rerun_source = &source;
  return rerun;
}

TEST(RerunTest, ReusesWhatSucceededAndRunsTheRest) {
  FakeRun source(Chain());
  FailAtB(source);
  FakeRun rerun = Rerun(Chain(), {{"rerunOf", {{"execution", "run"}}}}, source.execution());
  PlanResult r = rerun.Plan();
  EXPECT_THAT(Created(r), ElementsAre("rerun-b-1")) << "a is reused, b runs again";
  EXPECT_THAT(EventReasons(r), ElementsAre("Rerun", "StepStarted"));
  auto event = std::find_if(r.actions.begin(), r.actions.end(),
                            [](const Action& a) { return a.reason == "Rerun"; });
  EXPECT_EQ(event->message, "re-running b, c of \"run\"; reusing a");
  const StepStatus* a = rerun.StepOf("a");
  EXPECT_EQ(Phase(a), "Succeeded");
  EXPECT_EQ(a->extra.value(kReusedFromField, ""), "run");
  EXPECT_EQ(a->outputs.at("rows"), "42") << "its outputs are the source's";
  EXPECT_EQ(rerun.execution().status.pipeline_snapshot,
            source.execution().status.pipeline_snapshot);
  rerun.Succeed("rerun-b-1");
  EXPECT_THAT(Created(rerun.Plan()), ElementsAre("rerun-c-1"));
  rerun.Succeed("rerun-c-1");
  rerun.Plan();
  EXPECT_EQ(StatusOf(rerun), "Succeeded");
  EXPECT_THAT(rerun.JobNames(), ElementsAre("rerun-b-1", "rerun-c-1")) << "2 Jobs, none for a";
  EXPECT_EQ(rerun.StepOf("a")->extra.value(kReusedFromField, ""), "run") << "stays reused";
  EXPECT_EQ(rerun.execution().status.progress, "3/3");
}

// The ACK form: the selected step and everything downstream run; upstream is reused. A re-run of
// a re-run names the execution whose Job produced a reused result.
TEST(RerunTest, SelectedStepsAndDownstreamRunAgain) {
  FakeRun source(Chain());
  FailAtB(source);
  FakeRun first = Rerun(Chain(), {{"rerunOf", {{"execution", "run"}}}}, source.execution());
  first.Plan();
  first.Succeed("rerun-b-1");
  first.Plan();
  first.Succeed("rerun-c-1");
  first.Plan();
  ASSERT_EQ(StatusOf(first), "Succeeded");
  PipelineExecution first_done = first.execution();
  Object spec = Object::parse(R"({"selectiveExecutionConfig": {
      "sourcePipelineExecutionName": "rerun", "selectedSteps": [{"stepName": "c"}]}})");
  FakeRun second = Rerun(Chain(), spec, first_done);
  second.execution().metadata.name = "again";
  EXPECT_THAT(Created(second.Plan()), ElementsAre("again-c-1"));
  EXPECT_EQ(second.StepOf("a")->extra.value(kReusedFromField, ""), "run") << "a ran in run";
  EXPECT_EQ(second.StepOf("b")->extra.value(kReusedFromField, ""), "rerun");
}

// After a failure, a step that never ran (skipped because the run failed) is not a result: it
// runs again, though it is not downstream of the failed step.
TEST(RerunTest, StepsSkippedByTheFailureRunAgain) {
  Object pipeline = Steps({S("a"), S("b", {{"dependsOn", {"a"}}}),
                           S("c", {{"dependsOn", {"a"}}, {"command", {"sleep", "9"}}}),
                           S("d", {{"dependsOn", {"c"}}})});
  FakeRun source(pipeline);
  source.Plan();
  source.Succeed("run-a-1");
  source.Plan();
  source.Fail("run-b-1", 1);
  source.Succeed("run-c-1");
  source.Plan();
  ASSERT_EQ(StatusOf(source), "Failed");
  ASSERT_EQ(Phase(source.StepOf("d")), "Skipped");
  FakeRun rerun = Rerun(pipeline, {{"rerunOf", {{"execution", "run"}}}}, source.execution());
  EXPECT_THAT(Created(rerun.Plan()), ElementsAre("rerun-b-1", "rerun-d-1"));
  EXPECT_EQ(rerun.StepOf("c")->extra.value(kReusedFromField, ""), "run");
}

// Each refusal fails the re-run at once, with reason InvalidRerun and a message that names the
// field; nothing is created.
TEST(RerunTest, RefusalsNameTheField) {
  FakeRun source(Chain());
  FailAtB(source);
  PipelineExecution running = source.execution();
  running.status.pipeline_execution_status = ExecutionStatus::kExecuting;
  PipelineExecution done = source.execution();
  struct Case {
    const char* name;
    Object spec;
    const PipelineExecution* source;
    int64_t pipeline_generation;  // the Pipeline's now (the source ran generation 3)
    std::string want;
  };
  const Object by_name = {{"rerunOf", {{"execution", "run"}}}};
  const std::vector<Case> cases = {
      {"missing",
       {{"rerunOf", {{"execution", "gone"}}}},
       nullptr,
       3,
       "spec.rerunOf.execution: execution \"gone\" not found in this namespace"},
      {"still running", by_name, &running, 3,
       "spec.rerunOf.execution: execution \"run\" has not finished (Executing)"},
      {"unknown step (ACK)", Object::parse(R"({"selectiveExecutionConfig": {
          "sourcePipelineExecutionARN": "arn:aws:sagemaker:r:1:pipeline/pl/execution/run",
          "selectedSteps": [{"stepName": "b"}, {"stepName": "zz"}]}})"),
       &done, 3, "spec.selectiveExecutionConfig.selectedSteps[1]: \"zz\" is not a step"},
      {"pipeline changed", by_name, &done, 4,
       "Pipeline \"pl\" changed since \"run\" ran (generation 3, now 4)"},
      {"both forms", Object::parse(R"({"rerunOf": {"execution": "run"},
          "selectiveExecutionConfig": {"sourcePipelineExecutionName": "run",
                                       "selectedSteps": [{"stepName": "b"}]}})"),
       &done, 3, "spec.rerunOf and spec.selectiveExecutionConfig: give one of them"},
      {"other parameters", Object::parse(R"({"rerunOf": {"execution": "run"},
          "pipelineParameters": [{"name": "x", "value": "1"}]})"),
       &done, 3, "spec.pipelineParameters: a re-run runs with the parameters of \"run\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FakeRun rerun = Rerun(Chain(), c.spec, done);
    rerun.rerun_source = c.source;
    rerun.pipeline()->metadata.generation = c.pipeline_generation;
    PlanResult r = rerun.Plan();
    EXPECT_TRUE(Created(r).empty());
    EXPECT_EQ(StatusOf(rerun), "Failed");
    EXPECT_EQ(Condition(r.status, kConditionSucceeded), "False/InvalidRerun");
    EXPECT_THAT(r.status.failure_reason, HasSubstr(c.want));
    EXPECT_THAT(EventReasons(r), ElementsAre("ExecutionFailed"));
  }
}

TEST(RerunTest, AChangedPipelineIsReRunWhenAllowedAndNothingToRerunIsRefused) {
  FakeRun source(Chain());
  FailAtB(source);
  FakeRun allowed =
      Rerun(Chain(), {{"rerunOf", {{"execution", "run"}, {"allowPipelineChange", true}}}},
            source.execution());
  allowed.pipeline()->metadata.generation = 9;
  EXPECT_THAT(Created(allowed.Plan()), ElementsAre("rerun-b-1"));
  EXPECT_EQ(allowed.execution().status.pipeline_generation, 3) << "the source's snapshot";
  FakeRun done(Chain());
  done.Plan();
  for (const char* job : {"run-a-1", "run-b-1", "run-c-1"}) {
    done.Succeed(job);
    done.Plan();
  }
  ASSERT_EQ(StatusOf(done), "Succeeded");
  FakeRun nothing = Rerun(Chain(), {{"rerunOf", {{"execution", "run"}}}}, done.execution());
  nothing.Plan();
  EXPECT_THAT(nothing.execution().status.failure_reason,
              HasSubstr("nothing to re-run: every step of \"run\" succeeded"));
}

}  // namespace
}  // namespace stepline::reconcilers
