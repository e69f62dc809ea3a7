// SageMaker Lambda steps: compiled from a definition into a step whose FunctionSpec and args drive
// `stepline-artifacts invoke` (sagemaker_lambda.cc), the pod built for it (function_job.h), the
// errors that name the step, the JSON path and what to do, and validation of native steps.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "reconcilers/function_job.h"
#include "reconcilers/job_builder.h"
#include "reconcilers/sagemaker_definition.h"
#include "reconcilers/validation.h"

namespace stepline::reconcilers {
namespace {

Json Definition(const Json& steps) {
  return {{"Version", "2020-12-01"},
          {"Parameters", Json::parse(R"([{"Name": "Endpoint", "DefaultValue": "ep"},
                                         {"Name": "Count", "Type": "Integer", "DefaultValue": 2},
                                         {"Name": "Fast", "Type": "Boolean"}])")},
          {"Steps", steps}};
}

// Deploy (Lambda) -> Notify (Lambda, reading Deploy's output), as the SDK writes them.
Json Steps(const Json& deploy_args, const std::string& arn) {
  Json steps = Json::array();
  steps.push_back({{"Name", "Deploy"},
                   {"Type", "Lambda"},
                   {"Arguments", deploy_args},
                   {"FunctionArn", arn},
                   {"OutputParameters", Json::parse(R"([{"OutputName": "statusCode",
                      "OutputType": "String"}, {"OutputName": "body", "OutputType": "String"}])")}});
  steps.push_back(Json::parse(R"({"Name": "Notify", "Type": "Lambda",
    "Arguments": {"status": {"Get": "Steps.Deploy.OutputParameters['statusCode']"}},
    "FunctionArn": "notify"})"));
  return steps;
}

const std::string kArn = "arn:aws:lambda:us-west-2:000000000000:function:deploy-endpoint";

Json Args() {
  return Json::parse(R"({
    "endpoint_name": {"Get": "Parameters.Endpoint"},
    "label": {"Std:Join": {"On": "-", "Values": ["run", {"Get": "Execution.PipelineExecutionId"}]}},
    "count": {"Get": "Parameters.Count"},
    "fast": {"Get": "Parameters.Fast"},
    "literal": "cost $(HOME) 5%",
    "config": {"sizes": [1, 2], "on": true},
    "threshold": 0.5})");
}

TEST(SageMakerLambdaTest, ArgumentsBecomeTheEventAndOutputParametersTheOutputs) {
  auto got = CompileSageMakerDefinition(Definition(Steps(Args(), kArn)));
  ASSERT_TRUE(got.ok()) << got.status().message();
  ASSERT_EQ(got->steps.size(), 2u);
  EXPECT_EQ(ToJson(got->steps[0]), Json::parse(R"({
    "name": "deploy",
    "args": ["--function", "deploy-endpoint",
             "--json-arg", "config={\"on\":true,\"sizes\":[1,2]}",
             "--json-arg", "count={{parameters.Count}}",
             "--arg", "endpoint_name={{parameters.Endpoint}}",
             "--json-arg", "fast={{parameters.Fast}}",
             "--arg", "label=run-{{execution.name}}",
             "--arg", "literal=cost $$(HOME) 5%",
             "--json-arg", "threshold=0.5",
             "--output", "statusCode", "--output", "body"],
    "outputs": ["statusCode", "body"],
    "function": {"name": "deploy-endpoint",
                 "arn": "arn:aws:lambda:us-west-2:000000000000:function:deploy-endpoint"}})"))
      << ToJson(got->steps[0]).dump(2);
  EXPECT_EQ(ToJson(got->steps[1]), Json::parse(R"({
    "name": "notify", "dependsOn": ["deploy"],
    "args": ["--function", "notify", "--arg", "status={{steps.deploy.outputs.statusCode}}"],
    "function": {"name": "notify", "arn": "notify"}})"))
      << ToJson(got->steps[1]).dump(2);
  bool said = false;
  for (const std::string& w : got->warnings) {
    said = said || w == "Steps[0] (Deploy): a Lambda step calls function \"deploy-endpoint\" over "
                        "HTTP: POST to the URL under the key \"deploy-endpoint\" of ConfigMap "
                        "stepline-functions in the execution's namespace (the step fails saying "
                        "so when none is set)";
  }
  EXPECT_TRUE(said);
  // The compiled steps are a valid Pipeline (no image needed), and the JSON form reads back.
  Pipeline p;
  p.metadata.name = "p";
  p.spec.pipeline_definition = Definition(Steps(Args(), kArn));
  EXPECT_EQ(PipelineProblems(p), std::vector<std::string>{});
  auto back = ParseStep(ToJson(got->steps[0]), "step");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(ToJson(*back), ToJson(got->steps[0]));
}

TEST(SageMakerLambdaTest, ThePodRunsInvokeWithTheUrlFromTheConfigMap) {
  auto got = CompileSageMakerDefinition(Definition(Steps(Json::object(), kArn)));
  ASSERT_TRUE(got.ok()) << got.status().message();
  Snapshot snapshot;
  StagedArtifacts staged;
  staged.options.image = "stepline/controller:test";
  JobInput in;
  in.execution_name = "run";
  in.execution_namespace = "ml";
  in.snapshot = &snapshot;
  in.step = &got->steps[0];
  in.artifacts = &staged;
  const Json job = BuildStepJob(in);
  const Json& spec = job["spec"]["template"]["spec"];
  ASSERT_EQ(spec["containers"].size(), 1u);
  EXPECT_FALSE(spec.contains("initContainers"));
  const Json& c = spec["containers"][0];
  EXPECT_EQ(c["name"], "step");
  EXPECT_EQ(c["image"], "stepline/controller:test");
  EXPECT_EQ(c["command"], Json::parse(R"(["stepline-artifacts", "invoke", "--url-source",
    "the key \"deploy-endpoint\" of ConfigMap stepline-functions in namespace ml",
    "--outputs-file", "/dev/termination-log", "--error-file", "/dev/termination-log"])"));
  EXPECT_EQ(c["args"], Json::parse(R"(["--function", "deploy-endpoint", "--output",
                                      "statusCode", "--output", "body"])"));
  EXPECT_EQ(c["terminationMessagePolicy"], "FallbackToLogsOnError");
  EXPECT_EQ(c["env"].back(), Json::parse(R"({"name": "STEPLINE_FUNCTION_URL", "valueFrom":
    {"configMapKeyRef": {"name": "stepline-functions", "key": "deploy-endpoint",
                         "optional": true}}})"));
  // The step's env (stepDefaults merged) stays, but its PATH would hide the staging image's.
  Step with_env = got->steps[0];
  with_env.env = {{"PATH", std::string("/opt/tools")},
                  {"HTTPS_PROXY", std::string("http://p:3128")}};
  in.step = &with_env;
  std::vector<std::string> names;
  const Json job_with_env = BuildStepJob(in);
  for (const Json& e : job_with_env["spec"]["template"]["spec"]["containers"][0]["env"]) {
    names.push_back(e["name"]);
  }
  EXPECT_EQ(std::count(names.begin(), names.end(), "PATH"), 0);
  EXPECT_EQ(names.front(), "HTTPS_PROXY");
  EXPECT_EQ(names.back(), "STEPLINE_FUNCTION_URL");
}

TEST(SageMakerLambdaTest, AVersionOrAliasIsAWarningAndABareNameIsTheKey) {
  auto got = CompileSageMakerDefinition(Definition(Steps(Json::object(), kArn + ":prod")));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->steps[0].function->name, "deploy-endpoint");
  EXPECT_EQ(got->steps[0].function->arn, kArn + ":prod");
  bool said = false;
  for (const std::string& w : got->warnings) {
    said = said || w == "Steps[0] (Deploy).FunctionArn: the version or alias \"prod\" is not used "
                        "by Stepline: the ConfigMap's URL is called";
  }
  EXPECT_TRUE(said);
}

TEST(SageMakerLambdaTest, ErrorsNameTheStepTheFieldAndWhatToDo) {
  struct Case {
    Json args;
    Json arn;
    std::string message;
  };
  const std::vector<Case> cases = {
      {Json::object(), nullptr,
       "Steps[0] (Deploy).FunctionArn: required: the function the step calls"},
      {Json::object(), Json::parse(R"({"Get": "Parameters.Endpoint"})"),
       "Steps[0] (Deploy).FunctionArn: an object is not supported by Stepline: give the "
       "function's ARN as a string (its name is the key of its URL in ConfigMap "
       "stepline-functions)"},
      {Json::object(), "arn:aws:s3:::bucket",
       "Steps[0] (Deploy).FunctionArn: \"arn:aws:s3:::bucket\" is not a Lambda function ARN "
       "(arn:aws:lambda:REGION:ACCOUNT:function:NAME)"},
      {Json::object(), "arn:aws:lambda:r:1:function:bad.name",
       "Steps[0] (Deploy).FunctionArn: \"arn:aws:lambda:r:1:function:bad.name\": the function "
       "name \"bad.name\" must be 1 to 64 letters, digits, '-' and '_'"},
      {Json::parse(R"({"nested": {"a": {"Get": "Parameters.Endpoint"}}})"), kArn,
       "Steps[0] (Deploy).Arguments.nested: a Get, Std:Join or Std:JsonGet inside a list or "
       "object is not supported by Stepline: give the computed value as an Argument of its own"},
      {Json::parse(R"({"a=b": "x"})"), kArn,
       "Steps[0] (Deploy).Arguments.a=b: a member name must be non-empty and without '=' in "
       "Stepline"},
      {Json::parse(R"({"x": {"Get": "Parameters.Nope"}})"), kArn,
       "Steps[0] (Deploy).Arguments.x: {\"Get\": \"Parameters.Nope\"}: unknown parameter "
       "\"Nope\""},
  };
  for (const Case& c : cases) {
    Json steps = Steps(c.args, "x");
    if (c.arn.is_null()) {
      steps[0].erase("FunctionArn");
    } else {
      steps[0]["FunctionArn"] = c.arn;
    }
    auto got = CompileSageMakerDefinition(Definition(steps));
    ASSERT_FALSE(got.ok()) << c.message;
    EXPECT_EQ(got.status().message(), c.message);
  }
}

TEST(SageMakerLambdaTest, ANativeStepCannotSetFunction) {
  Pipeline p;
  p.metadata.name = "p";
  Step s;
  s.name = "call";
  s.image = "x:1";
  s.function.emplace();
  p.spec.steps = {s};
  EXPECT_EQ(PipelineProblems(p),
            std::vector<std::string>{
                "spec.steps[0] (call).function: set only by a SageMaker definition's Lambda "
                "step (spec.pipelineDefinition)"});
}

}  // namespace
}  // namespace stepline::reconcilers
