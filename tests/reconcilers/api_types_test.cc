// The typed API's JSON conversion: round trips of every field of both kinds, unknown fields
// kept, stepDefaults merge, and condition transition times.
#include "reconcilers/api_types.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace stepline::reconcilers {
namespace {

using std::chrono::seconds;

// Every field of a Pipeline, in canonical form (unset fields omitted).
Json FullPipeline() {
  return Json::parse(R"({
    "apiVersion": "stepline.dev/v1alpha1", "kind": "Pipeline",
    "metadata": {"name": "forecast", "namespace": "ml", "uid": "u-1", "generation": 4,
                 "resourceVersion": "812", "labels": {"team": "fc"},
                 "annotations": {"a": "b"}, "creationTimestamp": "2026-01-01T00:00:00Z"},
    "spec": {
      "pipelineName": "forecast-ack", "pipelineDisplayName": "Forecast training",
      "pipelineDescription": "One model per horizon", "roleARN": "arn:aws:iam::1:role/x",
      "tags": [{"key": "cost-center", "value": "42"}],
      "parameters": [
        {"name": "horizon", "type": "String", "default": "1d", "enum": ["1d", "1w"],
         "description": "how far ahead"},
        {"name": "countries", "type": "List", "default": "[\"fr\",\"de\"]"},
        {"name": "epochs", "type": "Integer"},
        {"name": "minAccuracy", "type": "Float", "default": "0.8"},
        {"name": "dryRun", "type": "Boolean", "default": "false"}],
      "parallelismConfiguration": {"maxParallelExecutionSteps": 4},
      "serviceAccountName": "trainer",
      "stepDefaults": {"image": "registry.example/ml:1.4",
                       "resources": {"requests": {"cpu": "1", "memory": "2Gi"}},
                       "retryPolicy": {"maxAttempts": 3, "intervalSeconds": 30, "backoffRate": 2}},
      "steps": [
        {"name": "train", "type": "Container", "dependsOn": ["prepare"], "image": "img:2",
         "command": ["sh", "-c"], "args": ["echo {{item}}"],
         "env": [{"name": "A", "value": "1"},
                 {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k",
                                                              "optional": true}}},
                 {"name": "C", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}],
         "workingDir": "/work",
         "resources": {"requests": {"cpu": "4", "nvidia.com/gpu": "1"},
                       "limits": {"memory": "16Gi"}},
         "nodeSelector": {"pool": "gpu"},
         "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
         "timeoutSeconds": 1800,
         "retryPolicy": {"maxAttempts": 5, "intervalSeconds": 30, "backoffRate": 2.5,
                         "maxIntervalSeconds": 600, "expireAfterMinutes": 240,
                         "retryOn": ["Error", "OOMKilled"]},
         "onFailure": "Continue", "when": "{{parameters.horizon}} == 1d",
         "forEach": "{{parameters.countries}}", "maxParallel": 2, "outputs": ["accuracy"]},
        {"name": "approve", "type": "Approval", "dependsOn": ["train"]},
        {"name": "stop", "type": "Fail", "message": "accuracy too low", "onFailure": "Fail"}]
    },
    "status": {"observedGeneration": 4, "stepCount": 3,
               "conditions": [{"type": "Ready", "status": "False", "reason": "InvalidDefinition",
                               "message": "spec.steps[1]: cycle",
                               "lastTransitionTime": "2026-01-02T03:04:05Z",
                               "observedGeneration": 4}]}
  })");
}

Json FullExecution() {
  return Json::parse(R"({
    "apiVersion": "stepline.dev/v1alpha1", "kind": "PipelineExecution",
    "metadata": {"name": "forecast-weekly-42", "namespace": "ml", "uid": "u-2", "generation": 2,
                 "resourceVersion": "900", "labels": {"pl": "forecast"},
                 "finalizers": ["x/y"]},
    "spec": {
      "pipelineName": "forecast", "pipelineExecutionDisplayName": "weekly",
      "pipelineExecutionDescription": "Weekly retrain",
      "pipelineParameters": [{"name": "horizon", "value": "1w"}],
      "parallelismConfiguration": {"maxParallelExecutionSteps": 2},
      "timeoutSeconds": 86400, "stop": false,
      "signals": [{"step": "approve", "outcome": "Succeeded", "message": "ok by alice",
                   "outputs": {"ticket": "T-1"}},
                  {"step": "gate", "outcome": "Failed"}],
      "selectiveExecutionConfig": {"sourcePipelineExecutionName": "forecast-weekly-41",
                                   "sourcePipelineExecutionARN": "arn:x",
                                   "selectedSteps": [{"stepName": "train"}]}
    },
    "status": {
      "observedGeneration": 2, "pipelineExecutionStatus": "Executing", "failureReason": "none",
      "progress": "3/7", "startTime": "2026-01-01T00:00:00Z",
      "completionTime": "2026-01-01T02:00:00Z", "lastModifiedTime": "2026-01-01T01:00:00Z",
      "pipelineGeneration": 4, "pipelineSnapshot": {"steps": [{"name": "train"}], "x": [1, 2]},
      "steps": [
        {"name": "train", "phase": "Running", "attempts": 2,
         "jobName": "forecast-weekly-42-train-0-2", "reason": "OOMKilled",
         "message": "attempt 1 OOMKilled; retrying in 60s",
         "nextAttemptTime": "2026-01-01T00:10:00Z", "startTime": "2026-01-01T00:01:00Z",
         "completionTime": "2026-01-01T00:20:00Z", "outputs": {"accuracy": "0.91"},
         "children": {"total": 3, "succeeded": 1, "failed": 1, "running": 1, "pending": 0},
         "failedChildren": [{"index": 2, "item": "\"us\"", "phase": "Failed", "attempts": 3,
                             "jobName": "j-2", "reason": "Error", "message": "exit 1",
                             "nextAttemptTime": "2026-01-01T00:11:00Z"}],
         "runningChildren": [{"index": 0, "phase": "Running", "attempts": 1}]},
        {"name": "approve", "phase": "Waiting"}],
      "conditions": [
        {"type": "Succeeded", "status": "Unknown", "reason": "Running",
         "message": "2 steps running", "lastTransitionTime": "2026-01-01T00:00:00Z",
         "observedGeneration": 2},
        {"type": "Ready", "status": "Unknown", "reason": "Running"}]
    }
  })");
}

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
