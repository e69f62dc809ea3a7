// Parse errors name the offending field by its full path, so a user reading a condition message
// knows exactly what to fix.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "reconcilers/api_types.h"

namespace stepline::reconcilers {
namespace {

struct ErrorCase {
  std::string name;
  std::function<void(Json&)> mutate;
  std::string want;  // the whole error message
};

Json ValidPipeline() {
  return Json::parse(R"({"apiVersion": "stepline.dev/v1alpha1", "kind": "Pipeline",
    "metadata": {"name": "p"},
    "spec": {"steps": [
      {"name": "a", "image": "i"}, {"name": "b"},
      {"name": "c", "retryPolicy": {"maxAttempts": 3},
       "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}]}})");
}

Json ValidExecution() {
  return Json::parse(R"({"apiVersion": "stepline.dev/v1alpha1", "kind": "PipelineExecution",
    "metadata": {"name": "e"},
    "spec": {"pipelineName": "p", "signals": [{"step": "a", "outcome": "Succeeded"}]},
    "status": {"steps": [{"name": "a", "phase": "Running",
                          "failedChildren": [{"index": 0}]}]}})");
}

TEST(ApiParseErrorsTest, PipelineErrorsNameTheFieldPath) {
  const std::vector<ErrorCase> cases = {
      {"maxAttempts not an integer",
       [](Json& j) { j["spec"]["steps"][2]["retryPolicy"]["maxAttempts"] = "3"; },
       "spec.steps[2].retryPolicy.maxAttempts: must be an integer"},
      {"maxAttempts a float",
       [](Json& j) { j["spec"]["steps"][2]["retryPolicy"]["maxAttempts"] = 2.5; },
       "spec.steps[2].retryPolicy.maxAttempts: must be an integer"},
      {"backoffRate a string",
       [](Json& j) { j["spec"]["steps"][2]["retryPolicy"]["backoffRate"] = "2"; },
       "spec.steps[2].retryPolicy.backoffRate: must be a number"},
      {"steps not a list",
       [](Json& j) {
         j["spec"]["steps"] = {{"a", 1}};
       },
       "spec.steps: must be a list"},
      {"step not an object", [](Json& j) { j["spec"]["steps"][1] = "b"; },
       "spec.steps[1]: must be an object"},
      {"step without name", [](Json& j) { j["spec"]["steps"][1].erase("name"); },
       "spec.steps[1].name: is required"},
      {"unknown step type", [](Json& j) { j["spec"]["steps"][0]["type"] = "Job"; },
       "spec.steps[0].type: must be one of Container, Approval, Fail, Notebook, Record (got "
       "\"Job\")"},
      {"unknown onFailure", [](Json& j) { j["spec"]["steps"][0]["onFailure"] = "Retry"; },
       "spec.steps[0].onFailure: must be one of Fail, Continue (got \"Retry\")"},
      {"command item not a string",
       [](Json& j) {
         j["spec"]["steps"][0]["command"] = {"sh", 1};
       },
       "spec.steps[0].command[1]: must be a string"},
      {"env key missing",
       [](Json& j) { j["spec"]["steps"][2]["env"][0]["valueFrom"]["secretKeyRef"].erase("key"); },
       "spec.steps[2].env[0].valueFrom.secretKeyRef.key: is required"},
      {"quantity a list",
       [](Json& j) { j["spec"]["steps"][0]["resources"]["limits"]["cpu"] = {1}; },
       "spec.steps[0].resources.limits[cpu]: must be a string or a number"},
      {"securityContext widens privilege",
       [](Json& j) {
         j["spec"]["steps"][0]["securityContext"] = {{"privileged", true}};
       },
       "spec.steps[0].securityContext.privileged: not allowed: a step may set only runAsUser, "
       "runAsGroup, runAsNonRoot, fsGroup and supplementalGroups"},
      {"securityContext root with runAsNonRoot",
       [](Json& j) {
         j["spec"]["steps"][0]["securityContext"] = {{"runAsNonRoot", true}, {"runAsUser", 0}};
       },
       "spec.steps[0].securityContext.runAsUser: is 0 (root) but runAsNonRoot is true"},
      {"securityContext negative group",
       [](Json& j) {
         j["spec"]["steps"][0]["securityContext"] = {{"fsGroup", -1}};
       },
       "spec.steps[0].securityContext.fsGroup: must not be negative"},
      {"stepDefaults supplementalGroups not integers",
       [](Json& j) {
         j["spec"]["stepDefaults"] = {{"securityContext", {{"supplementalGroups", {1, "x"}}}}};
       },
       "spec.stepDefaults.securityContext.supplementalGroups[1]: must be a non-negative integer"},
      {"nodeSelector value a number",
       [](Json& j) { j["spec"]["steps"][0]["nodeSelector"]["n"] = 1; },
       "spec.steps[0].nodeSelector[n]: must be a string"},
      {"tolerations an object",
       [](Json& j) { j["spec"]["steps"][0]["tolerations"] = Json::object(); },
       "spec.steps[0].tolerations: must be a list"},
      {"timeoutSeconds too big",
       [](Json& j) { j["spec"]["steps"][0]["timeoutSeconds"] = 18446744073709551615ULL; },
       "spec.steps[0].timeoutSeconds: must be an integer of at most 64 bits"},
      {"parameter type",
       [](Json& j) {
         j["spec"]["parameters"] = {{{"name", "x"}, {"type", "Str"}}};
       },
       "spec.parameters[0].type: must be one of String, Integer, Float, Boolean, List (got "
       "\"Str\")"},
      {"parameter default a number",
       [](Json& j) {
         j["spec"]["parameters"] = {{{"name", "x"}, {"default", 1}}};
       },
       "spec.parameters[0].default: must be a string"},
      {"parallelism a string",
       [](Json& j) { j["spec"]["parallelismConfiguration"]["maxParallelExecutionSteps"] = "4"; },
       "spec.parallelismConfiguration.maxParallelExecutionSteps: must be an integer"},
      {"stepDefaults retryPolicy",
       [](Json& j) {
         j["spec"]["stepDefaults"] = {{"retryPolicy", {{"retryOn", "Error"}}}};
       },
       "spec.stepDefaults.retryPolicy.retryOn: must be a list of strings"},
      {"pipelineDefinition a number", [](Json& j) { j["spec"]["pipelineDefinition"] = 3; },
       "spec.pipelineDefinition: must be a JSON string or an object"},
      {"metadata labels",
       [](Json& j) {
         j["metadata"]["labels"] = {{"a", true}};
       },
       "metadata.labels[a]: must be a string"},
      {"status condition time",
       [](Json& j) {
         j["status"]["conditions"] = {
             {{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", "yesterday"}}};
       },
       "status.conditions[0].lastTransitionTime: must be an RFC 3339 time (2006-01-02T15:04:05Z)"},
      {"status condition without status",
       [](Json& j) {
         j["status"]["conditions"] = {{{"type", "Ready"}}};
       },
       "status.conditions[0].status: is required"},
      {"spec not an object", [](Json& j) { j["spec"] = Json::array(); }, "spec: must be an object"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Json j = ValidPipeline();
    ASSERT_TRUE(ParsePipeline(j).ok());
    c.mutate(j);
    auto got = ParsePipeline(j);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), k8s::StatusCode::kInvalidArgument);
    EXPECT_EQ(got.status().message(), c.want);
  }
}

TEST(ApiParseErrorsTest, ExecutionErrorsNameTheFieldPath) {
  const std::vector<ErrorCase> cases = {
      {"pipelineName a number", [](Json& j) { j["spec"]["pipelineName"] = 7; },
       "spec.pipelineName: must be a string"},
      {"stop a string", [](Json& j) { j["spec"]["stop"] = "true"; },
       "spec.stop: must be a boolean"},
      {"signal outcome", [](Json& j) { j["spec"]["signals"][0]["outcome"] = "Approved"; },
       "spec.signals[0].outcome: must be one of Succeeded, Failed (got \"Approved\")"},
      {"signal without outcome", [](Json& j) { j["spec"]["signals"][0].erase("outcome"); },
       "spec.signals[0].outcome: is required"},
      {"parameter value a number",
       [](Json& j) {
         j["spec"]["pipelineParameters"] = {{{"name", "h"}, {"value", 1}}};
       },
       "spec.pipelineParameters[0].value: must be a string"},
      {"selected step name",
       [](Json& j) { j["spec"]["selectiveExecutionConfig"]["selectedSteps"] = {Json::object()}; },
       "spec.selectiveExecutionConfig.selectedSteps[0].stepName: is required"},
      {"execution status", [](Json& j) { j["status"]["pipelineExecutionStatus"] = "Running"; },
       "status.pipelineExecutionStatus: must be one of Pending, Executing, Stopping, Stopped, "
       "Failed, Succeeded (got \"Running\")"},
      {"step phase", [](Json& j) { j["status"]["steps"][0]["phase"] = "Done"; },
       "status.steps[0].phase: must be one of Pending, WaitingForQuota, Running, Retrying, "
       "Succeeded, Failed, Skipped, Waiting, Stopped, WaitingForAdmission (got \"Done\")"},
      {"child index", [](Json& j) { j["status"]["steps"][0]["failedChildren"][0]["index"] = "0"; },
       "status.steps[0].failedChildren[0].index: must be an integer"},
      {"children counts",
       [](Json& j) {
         j["status"]["steps"][0]["children"] = {{"total", -1.5}};
       },
       "status.steps[0].children.total: must be an integer"},
      {"startTime", [](Json& j) { j["status"]["startTime"] = 0; },
       "status.startTime: must be an RFC 3339 time (2006-01-02T15:04:05Z)"},
      {"whole object a list", [](Json& j) { j = Json::array(); }, "object: must be an object"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Json j = ValidExecution();
    ASSERT_TRUE(ParsePipelineExecution(j).ok());
    c.mutate(j);
    auto got = ParsePipelineExecution(j);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().message(), c.want);
  }
}

}  // namespace
}  // namespace stepline::reconcilers
