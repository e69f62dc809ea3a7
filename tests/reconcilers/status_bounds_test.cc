// The one rule for status strings and the whole status's size (status_bounds.h), and the
// planner cases of issue #16 that wedged a run because its status could not be written.
#include "reconcilers/status_bounds.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "planner_test_util.h"
#include "reconcilers/planner.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using testing::FakeRun;
using ::testing::HasSubstr;
using testing::Phase;
using testing::S;
using testing::StatusOf;
using testing::Steps;

// Every string of a status the CRD bounds (in characters; bytes bound characters).
void ExpectWithinSchema(const PipelineExecutionStatus& s) {
  EXPECT_LE(s.failure_reason.size(), 4096u);
  for (const auto& c : s.conditions) EXPECT_LE(c.message.size(), 32768u);
  for (const auto& st : s.steps) {
    EXPECT_LE(st.message.size(), 4096u) << st.name;
    for (const auto& c : st.failed_children) EXPECT_LE(c.message.size(), 4096u);
  }
  EXPECT_LT(StatusBytes(s), kMaxStatusBytes);
  EXPECT_NO_THROW((void)ToJson(s).dump());  // valid UTF-8 throughout
}

TEST(BoundTextTest, ShortTextIsKept) { EXPECT_EQ(BoundText("hello", 10), "hello"); }

TEST(BoundTextTest, LongTextIsCutWithAMarkerThatCountsTheCut) {
  std::string got = BoundText(std::string(5000, 'x'), 100);
  EXPECT_LE(got.size(), 100u);
  const std::string marker =
      "\u2026 [" + std::to_string(5000 - got.find("\u2026")) + " more bytes cut]";
  EXPECT_EQ(got.substr(got.find("\u2026")), marker);
  EXPECT_THAT(got, HasSubstr("more bytes cut]"));
}

TEST(BoundTextTest, NeverCutsACharacterInHalf) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "\xC3\xA9";  // é
  for (size_t max = 30; max < 60; ++max) {
    std::string got = BoundText(text, max);
    EXPECT_LE(got.size(), max);
    EXPECT_EQ(ValidUtf8(got), got) << max;
  }
}

TEST(BoundTextTest, InvalidBytesBecomeReplacementCharacters) {
  EXPECT_EQ(ValidUtf8("a\xFF"
                      "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(ValidUtf8("\xC3"), "\xEF\xBF\xBD");  // truncated sequence
  EXPECT_EQ(ValidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(ValidUtf8("\xF0\x9F\x98\x80"), "\xF0\x9F\x98\x80");                  // an emoji is fine
}

// Issue #16: a Fail step's 4096-character message made every status write fail with 422.
TEST(StatusBoundsTest, AFailStepMessageOf4096CharactersIsCut) {
  FakeRun run(Steps({S("stop", {{"type", "Fail"}, {"message", std::string(4096, 'm')}})}));
  PlanResult r = run.Plan();
  EXPECT_EQ(StatusOf(run), "Failed");
  EXPECT_THAT(r.status.failure_reason, HasSubstr("more bytes cut]"));
  EXPECT_THAT(run.StepOf("stop")->message, HasSubstr("more bytes cut]"));
  ExpectWithinSchema(r.status);
}

// Issue #16: a false `when` of about 4080 characters ("when was false: " + the condition).
TEST(StatusBoundsTest, ALongFalseWhenIsCut) {
  std::string when = "'a' == 'b'";
  while (when.size() < 4080) when += " && 'a' == 'b'";
  FakeRun run(Steps({S("a", {{"when", when}}), S("b")}));
  PlanResult r = run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Skipped");
  EXPECT_THAT(run.StepOf("a")->message, HasSubstr("more bytes cut]"));
  ExpectWithinSchema(r.status);
}

// Issue #16: a step that writes a 4 KiB termination message and exits non-zero.
TEST(StatusBoundsTest, A4KiBTerminationMessageOfAFailedStepIsCut) {
  FakeRun run(Steps({S("a")}));
  run.Plan();
  run.Fail("run-a-1", 1, "Error", std::string(4096, 'e') + "\xC3\xA9");
  PlanResult r = run.Plan();
  EXPECT_EQ(StatusOf(run), "Failed");
  ExpectWithinSchema(r.status);
  EXPECT_THAT(r.status.failure_reason, HasSubstr("more bytes cut]"));
}

// Issue #16: 200 parameters of 4000 characters were copied into the snapshot (800 KB).
TEST(StatusBoundsTest, LongParameterValuesStayInTheSpecNotTheSnapshot) {
  Object params = Object::array(), given = Object::array();
  for (int i = 0; i < 200; ++i) {
    params.push_back({{"name", "p" + std::to_string(i)}});
    given.push_back(
        {{"name", "p" + std::to_string(i)}, {"value", std::string(4000, 'a' + i % 26)}});
  }
  FakeRun run(
      Steps({S("a", {{"command", {"echo", "{{parameters.p7}}"}}})}, {{"parameters", params}}),
      {{"pipelineParameters", given}});
  PlanResult r = run.Plan();
  ExpectWithinSchema(r.status);
  EXPECT_LT(r.status.pipeline_snapshot.dump().size(), 64u * 1024);
  const Object& p7 = r.status.pipeline_snapshot["parameters"][7];
  EXPECT_EQ(p7["valueFrom"], "spec.pipelineParameters");
  EXPECT_FALSE(p7.contains("value"));
  const Object* job = run.Job("run-a-1");
  ASSERT_NE(job, nullptr);
  const Object& c = (*job)["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["command"][1], std::string(4000, 'a' + 7));  // the run reads the spec's value
}

TEST(StatusBoundsTest, AParameterChangedInTheSpecAfterTheStartFailsTheRunClearly) {
  Object params = {{{"name", "big"}}};
  FakeRun run(Steps({S("a"), S("b", {{"dependsOn", {"a"}}})}, {{"parameters", params}}),
              {{"pipelineParameters", {{{"name", "big"}, {"value", std::string(1000, 'x')}}}}});
  run.Plan();
  run.execution().spec.pipeline_parameters[0].value = std::string(1000, 'y');
  PlanResult r = run.Plan();
  EXPECT_EQ(StatusOf(run), "Failed");
  EXPECT_THAT(r.status.failure_reason,
              HasSubstr("parameter \"big\": its value in spec.pipelineParameters was changed"));
}

// Issue #16: 400 children with 4 KB outputs made the fan-in 1.6 MB: "request is too large".
TEST(StatusBoundsTest, AHugeFanInIsNotKeptAndTheStepSaysWhere) {
  Object items = Object::array();
  for (int i = 0; i < 400; ++i) items.push_back(i);
  FakeRun run(Steps({S("f", {{"forEach", items.dump()}})}));
  run.Plan();
  const std::string out = "{\"blob\":\"" + std::string(4000, 'b') + "\",\"n\":\"1\"}";
  for (int i = 0; i < 400; ++i) run.Succeed("run-f-" + std::to_string(i) + "-1", out);
  PlanResult r = run.Plan();
  EXPECT_EQ(StatusOf(run), "Succeeded");
  ExpectWithinSchema(r.status);
  const StepStatus* f = run.StepOf("f");
  EXPECT_EQ(f->outputs.count("blob"), 0u);
  EXPECT_EQ(f->outputs.count("n"), 1u);  // the small output is kept
  EXPECT_THAT(f->message, HasSubstr("output \"blob\" (1601201 bytes) not kept in status: larger "
                                    "than 64 KiB (the fan-in of 400 children)"));
  EXPECT_THAT(f->message, HasSubstr("stored in 3 ConfigMaps, run-f-outputs-blob-00 to "
                                    "run-f-outputs-blob-02: kubectl get configmap -n ml -l "
                                    "stepline.dev/execution=run,stepline.dev/step=f,"
                                    "stepline.dev/fan-in=outputs.blob"));
  EXPECT_EQ(r.config_maps.size(), 3u);
}

TEST(StatusBoundsTest, ARefusedStatusEndsTheRunAndSaysWhy) {
  PipelineExecutionStatus s;
  s.pipeline_execution_status = ExecutionStatus::kExecuting;
  StepStatus st;
  st.name = "a";
  st.outputs["x"] = std::string(10000, 'x');
  s.steps.push_back(st);
  PipelineExecutionStatus got =
      ReduceRefusedStatus(s, "etcdserver: request is too large", k8s::WallTime{});
  EXPECT_EQ(got.pipeline_execution_status, ExecutionStatus::kFailed);
  EXPECT_EQ(got.failure_reason,
            "StatusTooLarge: the API server refused the execution's status: etcdserver: request "
            "is too large");
  EXPECT_TRUE(got.steps[0].outputs.empty());
  EXPECT_EQ(FindCondition(got.conditions, kConditionSucceeded)->reason, "StatusTooLarge");
}

}  // namespace
}  // namespace stepline::reconcilers
