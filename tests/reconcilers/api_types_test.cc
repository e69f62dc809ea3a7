// The typed API's JSON conversion: round trips of every field of both kinds, unknown fields
// kept, stepDefaults merge, and condition transition times.
#include "reconcilers/api_types.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "api_fixtures.h"

namespace stepline::reconcilers {
namespace {

using std::chrono::seconds;

using fixtures::FullExecution;
using fixtures::FullPipeline;

TEST(ApiTypesTest, PipelineRoundTripKeepsEveryField) {
  Json in = FullPipeline();
  auto parsed = ParsePipeline(in);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(ToJson(*parsed), in) << ToJson(*parsed).dump(2);
  auto again = ParsePipeline(ToJson(*parsed));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(ToJson(*again), in);
}

TEST(ApiTypesTest, PipelineFieldsLandInTheirMembers) {
  auto p = ParsePipeline(FullPipeline());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->metadata.namespace_, "ml");
  EXPECT_EQ(p->metadata.generation, 4);
  EXPECT_EQ(p->spec.role_arn, "arn:aws:iam::1:role/x");
  ASSERT_EQ(p->spec.parameters.size(), 5u);
  EXPECT_EQ(p->spec.parameters[1].type, ParameterType::kList);
  EXPECT_FALSE(p->spec.parameters[2].default_value.has_value());
  EXPECT_EQ(p->spec.parallelism_configuration->max_parallel_execution_steps, 4);
  EXPECT_EQ(p->spec.step_defaults->cache->enabled, false);
  EXPECT_EQ(p->spec.step_defaults->cache->expire_after, "P30D");
  const Step& train = p->spec.steps[0];
  EXPECT_EQ(train.env[1].value_from->secret_key_ref->optional, true);
  EXPECT_EQ(train.resources->requests.at("nvidia.com/gpu"), "1");
  EXPECT_DOUBLE_EQ(*train.retry_policy->backoff_rate, 2.5);
  EXPECT_EQ(train.retry_policy->expire_after_minutes, 240);
  EXPECT_EQ(train.on_failure, OnFailure::kContinue);
  EXPECT_EQ(train.max_parallel, 2);
  EXPECT_EQ(p->spec.steps[1].type, StepType::kApproval);
  EXPECT_EQ(p->spec.steps[2].message, "accuracy too low");
  EXPECT_EQ(p->status.step_count, 3);
  EXPECT_EQ(p->status.conditions[0].reason, "InvalidDefinition");
}

TEST(ApiTypesTest, ExecutionRoundTripKeepsEveryField) {
  Json in = FullExecution();
  auto parsed = ParsePipelineExecution(in);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(ToJson(*parsed), in) << ToJson(*parsed).dump(2);
}

TEST(ApiTypesTest, ExecutionFieldsLandInTheirMembers) {
  auto e = ParsePipelineExecution(FullExecution());
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->spec.stop, false);
  EXPECT_EQ(e->spec.signals[0].outcome, SignalOutcome::kSucceeded);
  EXPECT_EQ(e->spec.signals[0].outputs.at("ticket"), "T-1");
  EXPECT_EQ(e->spec.selective_execution_config->selected_steps[0].step_name, "train");
  EXPECT_EQ(e->status.pipeline_execution_status, ExecutionStatus::kExecuting);
  EXPECT_EQ(e->status.pipeline_generation, 4);
  const StepStatus& train = e->status.steps[0];
  EXPECT_EQ(train.phase, StepPhase::kRunning);
  EXPECT_EQ(train.attempts, 2);
  EXPECT_EQ(k8s::FormatRfc3339(*train.next_attempt_time), "2026-01-01T00:10:00Z");
  EXPECT_EQ(train.children->failed, 1);
  EXPECT_EQ(train.failed_children[0].index, 2);
  ASSERT_EQ(train.stored_outputs.size(), 1u);
  EXPECT_EQ(train.stored_outputs[0].bytes, 2030001);
  EXPECT_EQ(train.stored_outputs[0].items, 10000);
  EXPECT_EQ(train.stored_outputs[0].config_maps[1], "r-train-outputs-score-01");
  EXPECT_EQ(train.stored_artifacts[0].name, "m");
  EXPECT_EQ(e->status.steps[1].phase, StepPhase::kWaiting);
  EXPECT_EQ(e->status.conditions[0].observed_generation, 2);
}

TEST(ApiTypesTest, PipelineDefinitionKeptAsStringOrObject) {
  for (Json def : {Json("{\"Version\":\"2020-12-01\",\"Steps\":[]}"),
                   Json::parse(R"({"Version": "2020-12-01", "Steps": [{"Name": "a"}]})")}) {
    Json in = {{"apiVersion", kApiVersion},
               {"kind", kPipelineKind},
               {"metadata", {{"name", "p"}}},
               {"spec", {{"pipelineDefinition", def}}}};
    auto p = ParsePipeline(in);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(p->spec.pipeline_definition, def);
    EXPECT_EQ(ToJson(*p), in);
  }
}

TEST(ApiTypesTest, UnknownFieldsAreKeptAtEveryLevel) {
  Json in = FullExecution();
  in["extraTop"] = 1;
  in["metadata"]["ownerReferences"] = Json::array({{{"uid", "x"}}});
  in["spec"]["futureField"] = {{"a", true}};
  in["spec"]["signals"][0]["signedBy"] = "alice";
  in["status"]["steps"][0]["children"]["skipped"] = 0;
  in["status"]["steps"][0]["failedChildren"][0]["exitCode"] = 1;
  in["status"]["conditions"][0]["severity"] = "Info";
  auto parsed = ParsePipelineExecution(in);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->spec.extra, Json({{"futureField", {{"a", true}}}}));
  EXPECT_EQ(ToJson(*parsed), in);

  Json pl = FullPipeline();
  pl["spec"]["steps"][0]["sidecars"] = Json::array({"x"});
  pl["spec"]["steps"][0]["retryPolicy"]["jitter"] = 0.1;
  pl["spec"]["steps"][0]["env"][1]["valueFrom"]["fieldRef"] = {{"fieldPath", "x"}};
  pl["spec"]["stepDefaults"]["priorityClassName"] = "high";
  auto p = ParsePipeline(pl);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(ToJson(*p), pl);
}

TEST(ApiTypesTest, BuiltObjectsSerializeCanonically) {
  PipelineExecution e;
  e.metadata.name = "run-1";
  e.spec.pipeline_name = "forecast";
  Json out = ToJson(e);
  EXPECT_EQ(out, Json::parse(R"({"apiVersion": "stepline.dev/v1alpha1",
    "kind": "PipelineExecution", "metadata": {"name": "run-1"},
    "spec": {"pipelineName": "forecast"}})"));
  StepStatus s;
  s.name = "train";
  s.phase = StepPhase::kPending;
  e.status.steps.push_back(s);
  EXPECT_EQ(ToJson(e)["status"], Json::parse(R"({"steps": [{"name": "train",
    "phase": "Pending"}]})"));
}

TEST(ApiTypesTest, ChildDetailsAreBoundedWhenSerialized) {
  PipelineExecutionStatus status;
  StepStatus step;
  step.name = "train";
  step.phase = StepPhase::kRunning;
  for (int i = 0; i < 10'000; ++i) {
    ChildStatus child;
    child.index = i;
    child.phase = StepPhase::kFailed;
    child.message = "exit code 1";
    step.failed_children.push_back(child);
  }
  status.steps.push_back(step);
  Json out = ToJson(status);
  EXPECT_EQ(out["steps"][0]["failedChildren"].size(), kMaxChildDetails);
  EXPECT_LT(out.dump().size(), 10'000u);
}

TEST(ApiTypesTest, ResourceQuantitiesMayBeNumbers) {
  auto s = ParseStep(Json::parse(R"({"name": "a", "resources": {"requests": {"cpu": 2,
                                     "memory": "1Gi"}, "limits": {"cpu": 0.5}}})"),
                     "spec.steps[0]");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->resources->requests.at("cpu"), "2");
  EXPECT_EQ(s->resources->limits.at("cpu"), "0.5");
}

TEST(ApiTypesTest, NullFieldsAreAbsent) {
  auto s = ParseStep(Json::parse(R"({"name": "a", "image": null, "retryPolicy": null})"), "s");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->image, "");
  EXPECT_FALSE(s->retry_policy.has_value());
}

}  // namespace
}  // namespace stepline::reconcilers
