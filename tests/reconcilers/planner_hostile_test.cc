// Planner cases of issue #16 (hostile or extreme input) that left a run stuck or wrong.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "planner_test_util.h"
#include "reconcilers/planner.h"
#include "reconcilers/template.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using std::chrono::seconds;
using testing::Condition;
using testing::Created;
using testing::FakeRun;
using ::testing::HasSubstr;
using testing::Phase;
using testing::S;
using testing::StatusOf;
using testing::Steps;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

const Object& Container(FakeRun& run, const std::string& job) {
  return (*run.Job(job))["spec"]["template"]["spec"]["containers"][0];
}

std::string EnvValue(const Object& container, const std::string& name) {
  for (const auto& e : container["env"]) {
    if (e["name"] == name) return e.value("value", "");
  }
  return "<none>";
}

// Issue #16: a caught (onFailure: Continue) step that fails while rendering left its
// dependents "waiting for" it forever.
TEST(PlannerHostileTest, ACaughtRenderFailureDoesNotBlockDependents) {
  struct Case {
    std::string name;
    Object step;
  };
  std::vector<Case> cases = {
      {"missing output", S("b", {{"dependsOn", {"a"}},
                                 {"onFailure", "Continue"},
                                 {"command", {"echo", "{{steps.a.outputs.missing}}"}}})},
      {"item.k on an item that is no object", S("b", {{"dependsOn", {"a"}},
                                                      {"onFailure", "Continue"},
                                                      {"forEach", "[1, 2]"},
                                                      {"command", {"echo", "{{item.k}}"}}})},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FakeRun run(Steps({S("a"), c.step, S("after", {{"dependsOn", {"b"}}})}));
    run.Plan();
    run.Succeed("run-a-1");
    PlanResult r = run.Plan();
    EXPECT_EQ(Phase(run.StepOf("b")), "Failed");
    if (!c.step.contains("forEach")) {
      EXPECT_EQ(run.StepOf("b")->reason, "TemplateError");
    }
    EXPECT_THAT(Created(r), ::testing::ElementsAre("run-after-1")) << run.StepOf("after")->message;
    run.Succeed("run-after-1");
    run.Plan();
    EXPECT_EQ(StatusOf(run), "Succeeded");
  }
}

// Issue #16: a parameter value "$(DB_PASSWORD)" was expanded by Kubernetes into the Secret.
TEST(PlannerHostileTest, SubstitutedValuesAreEscapedAgainstKubernetesExpansion) {
  Object params = {{{"name", "p"}}};
  FakeRun run(Steps({S("a", {{"command", {"echo", "{{parameters.p}}", "$(LITERAL)"}},
                             {"env", {{{"name", "V"}, {"value", "x{{parameters.p}}"}}}}})},
                    {{"parameters", params}}),
              {{"pipelineParameters", {{{"name", "p"}, {"value", "$(DB_PASSWORD) $$("}}}}});
  run.Plan();
  const Object& c = Container(run, "run-a-1");
  EXPECT_EQ(c["command"][1], "$$(DB_PASSWORD) $$$$(");
  EXPECT_EQ(c["command"][2], "$(LITERAL)") << "the pipeline's own text is left alone";
  EXPECT_EQ(EnvValue(c, "V"), "x$$(DB_PASSWORD) $$$$(");
  EXPECT_EQ(EnvValue(c, "STEPLINE_PARAM_P"), "$$(DB_PASSWORD) $$$$(");
}

TEST(PlannerHostileTest, FanOutItemsAreEscapedToo) {
  FakeRun run(Steps({S("f", {{"forEach", R"j(["$(SECRET)"])j"}, {"args", {"{{item}}"}}})}));
  run.Plan();
  const Object& c = Container(run, "run-f-0-1");
  EXPECT_EQ(c["args"][0], "$$(SECRET)");
  EXPECT_EQ(EnvValue(c, "STEPLINE_ITEM"), "$$(SECRET)");
}

TEST(PlannerHostileTest, EscapingDoublesEveryDollar) {
  EXPECT_EQ(EscapeForKubernetesExpansion("a$b$$c$(D)"), "a$$b$$$$c$$(D)");
  EXPECT_EQ(EscapeForKubernetesExpansion("no dollar"), "no dollar");
}

// Issue #16: maxAttempts 2^63-1 gave "attempt 1 of -1"; 4294967297 became 1.
TEST(PlannerHostileTest, HugeMaxAttemptsSaturate) {
  for (int64_t max : {kInt64Max, int64_t{4294967297}}) {
    SCOPED_TRACE(max);
    FakeRun run(Steps({S("a", {{"retryPolicy", {{"maxAttempts", max}, {"intervalSeconds", 5}}}})}));
    run.Plan();
    run.Fail("run-a-1", 1);
    run.Plan();
    EXPECT_EQ(Phase(run.StepOf("a")), "Retrying");
    EXPECT_THAT(run.StepOf("a")->message, HasSubstr("attempt 1 of 1000 failed"));
  }
}

// Issue #16: expireAfterMinutes 2^63-1 gave "retry window of -1m has expired".
TEST(PlannerHostileTest, HugeExpireAfterMinutesSaturates) {
  FakeRun run(Steps({S(
      "a", {{"retryPolicy",
             {{"maxAttempts", 3}, {"intervalSeconds", 1}, {"expireAfterMinutes", kInt64Max}}}})}));
  run.Plan();
  run.Fail("run-a-1", 1);
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Retrying");
  EXPECT_THAT(run.StepOf("a")->message, ::testing::Not(HasSubstr("expired")));
}

// Issue #16: timeoutSeconds 2^63-1 timed the execution out at once.
TEST(PlannerHostileTest, HugeTimeoutsSaturate) {
  FakeRun run(Steps({S("a", {{"timeoutSeconds", kInt64Max}})}), {{"timeoutSeconds", kInt64Max}});
  run.Plan();
  run.Advance(seconds(3600));
  run.Plan();
  EXPECT_EQ(StatusOf(run), "Executing");
  EXPECT_EQ((*run.Job("run-a-1"))["spec"]["activeDeadlineSeconds"], kMaxTimeoutSeconds);
}

// Issue #16: Float parameters accepted NaN and 1e999.
TEST(PlannerHostileTest, NonFiniteFloatParametersAreRefused) {
  for (const char* v : {"NaN", "nan", "inf", "-Infinity", "1e999"}) {
    SCOPED_TRACE(v);
    Object params = {{{"name", "f"}, {"type", "Float"}}};
    FakeRun run(Steps({S("a")}, {{"parameters", params}}),
                {{"pipelineParameters", {{{"name", "f"}, {"value", v}}}}});
    PlanResult r = run.Plan();
    EXPECT_EQ(StatusOf(run), "Failed");
    EXPECT_EQ(Condition(r.status, kConditionSucceeded), "False/InvalidParameters");
    EXPECT_THAT(r.status.failure_reason, HasSubstr("must be a finite number"));
  }
}

TEST(PlannerHostileTest, AnAmbiguousPipelineNameWaitsAndSaysWhich) {
  FakeRun run(Steps({S("a")}));
  run.RemovePipeline();
  run.pipeline_lookup_problem = "pipelineName \"x\" is the spec.pipelineName of 2 Pipelines";
  PlanResult r = run.Plan();
  EXPECT_EQ(StatusOf(run), "Pending");
  EXPECT_EQ(Condition(r.status, kConditionSucceeded), "Unknown/AmbiguousPipelineName");
  EXPECT_TRUE(Created(r).empty());
}

// Issue #16: an admin who patched the status to Succeeded mid-run stopped the run.
TEST(PlannerHostileTest, AStatusPatchedToSucceededMidRunIsCorrected) {
  FakeRun run(Steps({S("a"), S("b", {{"dependsOn", {"a"}}})}));
  run.Plan();
  run.execution().status.pipeline_execution_status = ExecutionStatus::kSucceeded;
  PlanResult r = run.Plan();
  EXPECT_EQ(StatusOf(run), "Executing");
  EXPECT_THAT(testing::EventReasons(r), ::testing::Contains("StatusCorrected"));
  run.Succeed("run-a-1");
  r = run.Plan();
  EXPECT_THAT(Created(r), ::testing::ElementsAre("run-b-1"));
  run.Succeed("run-b-1");
  run.Plan();
  EXPECT_EQ(StatusOf(run), "Succeeded");
}

// Issue #16: a pod deleted while it ran showed only "exit code 143".
TEST(PlannerHostileTest, APodDeletedWhileRunningIsADisruptionAndSaysSo) {
  FakeRun run(Steps({S("a", {{"retryPolicy", {{"maxAttempts", 2}, {"intervalSeconds", 10}}}})}));
  run.Plan();
  run.DeletePodWhileRunning("run-a-1");
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Retrying");
  EXPECT_EQ(run.StepOf("a")->reason, "Disrupted");
  EXPECT_THAT(run.StepOf("a")->message,
              HasSubstr("PodDeleted: the pod was deleted while it ran (exit code 143)"));
}

// Issue #16: signals for unknown steps were silently ignored.
TEST(PlannerHostileTest, ASignalForAnUnknownStepIsReported) {
  FakeRun run(Steps({S("a")}), {{"signals", {{{"step", "nope"}, {"outcome", "Succeeded"}}}}});
  PlanResult r = run.Plan();
  ASSERT_THAT(testing::EventReasons(r), ::testing::Contains("UnknownSignal"));
  for (const auto& a : r.actions) {
    if (a.reason == "UnknownSignal") {
      EXPECT_EQ(a.message,
                "spec.signals names step \"nope\", which the pipeline does not have; the signal "
                "is ignored");
    }
  }
  EXPECT_THAT(testing::EventReasons(run.Plan()),
              ::testing::Not(::testing::Contains("UnknownSignal")))
      << "once per spec change";
}

}  // namespace
}  // namespace stepline::reconcilers
