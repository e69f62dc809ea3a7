#include "reconcilers/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "reconcilers/pod_policy.h"

namespace stepline::reconcilers {
namespace {

const PodPolicy kAllowTrainer{{"ml/trainer"}, {}};

// The design's forecast Pipeline (DESIGN.md section 1), with evaluate's outputs declared.
Json Forecast() {
  return Json::parse(R"json({
  "apiVersion": "stepline.dev/v1alpha1", "kind": "Pipeline",
  "metadata": {"name": "forecast", "namespace": "ml", "generation": 1},
  "spec": {
    "pipelineDisplayName": "Forecast training",
    "parameters": [
      {"name": "horizon", "type": "String", "default": "1d", "enum": ["1d", "1w", "1m"]},
      {"name": "countries", "type": "List", "default": "[\"fr\",\"de\",\"us\"]"},
      {"name": "minAccuracy", "type": "Float", "default": "0.8"}
    ],
    "parallelismConfiguration": {"maxParallelExecutionSteps": 4},
    "serviceAccountName": "trainer",
    "tags": [{"key": "team", "value": "forecasting"}],
    "stepDefaults": {
      "image": "registry.example/ml:1.4",
      "resources": {"requests": {"cpu": "1", "memory": "2Gi"}},
      "retryPolicy": {"maxAttempts": 3, "intervalSeconds": 30, "backoffRate": 2}
    },
    "steps": [
      {"name": "prepare", "timeoutSeconds": 1800,
       "command": ["python", "prepare.py", "--horizon", "{{parameters.horizon}}"]},
      {"name": "train", "dependsOn": ["prepare"], "forEach": "{{parameters.countries}}",
       "maxParallel": 2, "command": ["python", "train.py", "--country", "{{item}}"],
       "resources": {"requests": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"}},
       "retryPolicy": {"maxAttempts": 5, "intervalSeconds": 30, "backoffRate": 2.0,
                       "maxIntervalSeconds": 600, "expireAfterMinutes": 240,
                       "retryOn": ["Error", "OOMKilled", "Disrupted", "DeadlineExceeded"]},
       "onFailure": "Continue"},
      {"name": "evaluate", "dependsOn": ["train"], "command": ["python", "evaluate.py"],
       "outputs": ["accuracy"]},
      {"name": "approve", "type": "Approval", "dependsOn": ["evaluate"],
       "when": "{{steps.evaluate.outputs.accuracy}} >= {{parameters.minAccuracy}}"},
      {"name": "register", "dependsOn": ["approve"],
       "command": ["python", "register.py", "--accuracy",
                   "{{steps.evaluate.outputs.accuracy}}"]}
    ]
  }
})json");
}

Pipeline ParseOrDie(const Json& json) {
  k8s::Result<Pipeline> p = ParsePipeline(json);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(p).value() : Pipeline{};
}

std::vector<std::string> ProblemsOf(const std::function<void(Json& spec)>& mutate) {
  Json json = Forecast();
  mutate(json["spec"]);
  return PipelineProblems(ParseOrDie(json));
}

struct Malformed {
  std::string name;
  std::function<void(Json& spec)> mutate;
  std::vector<std::string> want;  // every problem, in order
};

Json Step(const std::string& name, Json fields = Json::object()) {
  fields["name"] = name;
  return fields;
}

// Each case breaks the valid forecast Pipeline in one way. Steps: prepare[0], train[1]
// (forEach), evaluate[2] (outputs: accuracy), approve[3] (Approval), register[4].
std::vector<Malformed> MalformedPipelines() {
  return {
      // ---- spec ----
      {"a SageMaker pipelineDefinition without steps",
       [](Json& s) {
         s.erase("steps");
         s["pipelineDefinition"] = R"({"Version": "2020-12-01", "Steps": []})";
       },
       {"spec.pipelineDefinition: Steps: must be a non-empty list of steps"}},
      {"a SageMaker pipelineDefinition is checked as the steps it compiles to",
       [](Json& s) {
         s.erase("steps");
         s["pipelineDefinition"] = R"({"Version": "2020-12-01", "Steps": [
             {"Name": "Prep", "Type": "Processing", "DependsOn": ["Nope"],
              "Arguments": {"AppSpecification": {"ImageUri": "img"}}}]})";
       },
       {"spec.pipelineDefinition: Steps[0] (Prep).DependsOn[0]: unknown step \"Nope\""}},
      {"steps and pipelineDefinition together",
       [](Json& s) {
         s["pipelineDefinition"] = Json::object({{"Version", "2020-12-01"}});
       },
       {"spec: steps and pipelineDefinition are exclusive"}},
      {"no steps",
       [](Json& s) { s["steps"] = Json::array(); },
       {"spec.steps: at least one step is required"}},
      {"maxParallelExecutionSteps 0",
       [](Json& s) { s["parallelismConfiguration"]["maxParallelExecutionSteps"] = 0; },
       {"spec.parallelismConfiguration.maxParallelExecutionSteps: must be positive (got 0)"}},
      {"a tag key that is no label key",
       [](Json& s) {
         s["tags"].push_back({{"key", "cost center"}, {"value", "ml"}});
       },
       {"spec.tags[1] (cost center).key: \"cost center\" is not a valid label key, so it cannot "
        "become a Job label"}},
      {"a tag value that is no label value",
       [](Json& s) { s["tags"][0]["value"] = "demand forecasting"; },
       {"spec.tags[0] (team).value: \"demand forecasting\" is not a valid label value (at most 63 "
        "letters, digits, '-', '_' or '.', starting and ending with a letter or digit), so it "
        "cannot become a Job label"}},
      // ---- parameters ----
      {"a duplicate parameter",
       [](Json& s) {
         s["parameters"].push_back({{"name", "horizon"}, {"default", "1w"}});
       },
       {"spec.parameters[3] (horizon).name: duplicate parameter name"}},
      {"a default outside its enum",
       [](Json& s) { s["parameters"][0]["default"] = "2d"; },
       {"spec.parameters[0] (horizon).default: \"2d\" is not one of the enum values (1d, 1w, "
        "1m)"}},
      {"a Float default that is no number",
       [](Json& s) { s["parameters"][2]["default"] = "high"; },
       {"spec.parameters[2] (minAccuracy).default: must be a finite number (got \"high\")"}},
      {"an Integer default that is a fraction",
       [](Json& s) {
         s["parameters"].push_back({{"name", "epochs"}, {"type", "Integer"}, {"default", "3.5"}});
       },
       {"spec.parameters[3] (epochs).default: must be an integer (got \"3.5\")"}},
      {"a Boolean default that is not true or false",
       [](Json& s) {
         s["parameters"].push_back({{"name", "dry"}, {"type", "Boolean"}, {"default", "yes"}});
       },
       {"spec.parameters[3] (dry).default: must be true or false (got \"yes\")"}},
      {"a List default that is no JSON list",
       [](Json& s) { s["parameters"][1]["default"] = "fr,de"; },
       {"spec.parameters[1] (countries).default: must be a JSON list (got \"fr,de\")"}},
      {"an enum value of the wrong type",
       [](Json& s) {
         s["parameters"].push_back(
             {{"name", "k"}, {"type", "Integer"}, {"enum", {"1", "two"}}, {"default", "1"}});
       },
       {"spec.parameters[3] (k).enum[1]: must be an integer (got \"two\")"}},
      // ---- names and dependencies ----
      {"an unknown dependency",
       [](Json& s) { s["steps"][1]["dependsOn"] = {"prep"}; },
       {"spec.steps[1] (train).dependsOn: unknown step \"prep\""}},
      {"a step depending on itself",
       [](Json& s) { s["steps"][0]["dependsOn"] = {"prepare"}; },
       {"spec.steps[0] (prepare).dependsOn: a step cannot depend on itself"}},
      {"a duplicate step name",
       [](Json& s) { s["steps"][4]["name"] = "evaluate"; },
       {"spec.steps[4] (evaluate).name: duplicate step name (also spec.steps[2])"}},
      {"a step name that ends in '_'",
       [](Json& s) {
         s["steps"].push_back(Step("report_", {{"command", {"r"}}}));
       },
       {"spec.steps[5] (report_).name: must be letters, digits, '-' and '_', starting and ending "
        "with a letter or digit, at most 40 characters"}},
      {"a step name too long",
       [](Json& s) {
         s["steps"].push_back(Step(std::string(41, 'a'), {{"command", {"r"}}}));
       },
       {"spec.steps[5] (" + std::string(41, 'a') +
        ").name: must be letters, digits, '-' and '_', starting and ending with a letter or "
        "digit, at most 40 characters"}},
      {"two step names that give the same Job names",
       [](Json& s) {
         s["steps"].push_back(Step("Abalone_Train", {{"command", {"r"}}}));
         s["steps"].push_back(Step("abalone-train", {{"command", {"r"}}}));
       },
       {"spec.steps[6] (abalone-train).name: its Jobs would be named like those of step "
        "\"Abalone_Train\" (spec.steps[5]): Job names use step names lower-cased with '_' as "
        "'-', so step names must differ in more than that"}},
      {"a dependency cycle",
       [](Json& s) { s["steps"][0]["dependsOn"] = {"train"}; },
       {"spec.steps: dependency cycle: prepare -> train -> prepare"}},
      {"a longer cycle, named from its first declared step",
       [](Json& s) {
         s["steps"][1]["dependsOn"] = {"prepare", "register"};
       },
       {"spec.steps: dependency cycle: train -> register -> approve -> evaluate -> train"}},
      // ---- templates ----
      {"an unknown parameter in command",
       [](Json& s) { s["steps"][1]["command"][2] = "{{parameters.horizn}}"; },
       {"spec.steps[1] (train).command[2]: unknown parameter \"horizn\" in "
        "{{parameters.horizn}}"}},
      {"an unterminated template",
       [](Json& s) { s["steps"][0]["command"][3] = "--h={{parameters.horizon"; },
       {"spec.steps[0] (prepare).command[3]: unterminated \"{{\" at column 5"}},
      {"a reference of no known form",
       [](Json& s) { s["steps"][0]["args"] = {"{{horizon}}"}; },
       {"spec.steps[0] (prepare).args[0]: invalid reference \"{{horizon}}\" at column 1: "
        "expected parameters.NAME, item, item.KEY, steps.STEP.outputs.NAME, steps.STEP.phase, "
        "steps.STEP.artifacts.NAME.uri, steps.STEP.jobName, execution.name, "
        "execution.namespace or execution.startTime"}},
      {"an unknown step in args",
       [](Json& s) { s["steps"][4]["args"] = {"{{steps.evalute.outputs.accuracy}}"}; },
       {"spec.steps[4] (register).args[0]: unknown step \"evalute\" in "
        "{{steps.evalute.outputs.accuracy}}"}},
      {"a step that is not upstream",
       [](Json& s) { s["steps"][0]["command"][3] = "{{steps.evaluate.outputs.accuracy}}"; },
       {"spec.steps[0] (prepare).command[3]: step \"evaluate\" is not upstream of this step (add "
        "it to dependsOn) in {{steps.evaluate.outputs.accuracy}}"}},
      {"the job name of an Approval step",
       [](Json& s) { s["steps"][4]["args"] = {"{{steps.approve.jobName}}"}; },
       {"spec.steps[4] (register).args[0]: step \"approve\" is an Approval step, which runs no "
        "Job in {{steps.approve.jobName}}"}},
      {"values on a Container step",
       [](Json& s) {
         s["steps"][2]["values"] = {{"a", "b"}};
       },
       {"spec.steps[2] (evaluate).values: only Record steps take values"}},
      {"a Record step: container fields, declared outputs, a bad name, an undeclared output read",
       [](Json& s) {
         s["steps"][2] = {
             {"name", "evaluate"},      {"type", "Record"},
             {"dependsOn", {"train"}},  {"image", "x:1"},
             {"outputs", {"accuracy"}}, {"values", {{"a b", "1"}, {"accuracy", "{{item}}"}}}};
         s["steps"][4]["args"] = {"{{steps.evaluate.outputs.acc}}", "{{steps.evaluate.jobName}}"};
       },
       {"spec.steps[2] (evaluate).image: ignored by a Record step",
        "spec.steps[2] (evaluate).outputs: a Record step's outputs are the names of its values",
        "spec.steps[2] (evaluate).values: \"a b\" is not a name of letters, digits, '_' and '-'",
        "spec.steps[2] (evaluate).values.accuracy: {{item}} is not defined in values",
        "spec.steps[4] (register).args[0]: step \"evaluate\" declares no output \"acc\" "
        "(outputs: a b, accuracy) in {{steps.evaluate.outputs.acc}}",
        "spec.steps[4] (register).args[1]: step \"evaluate\" is a Record step, which runs no Job "
        "in {{steps.evaluate.jobName}}"}},
      {"the job name of a forEach step",
       [](Json& s) { s["steps"][2]["args"] = {"{{steps.train.jobName}}"}; },
       {"spec.steps[2] (evaluate).args[0]: step \"train\" runs one Job per forEach item, so it "
        "has no single Job name in {{steps.train.jobName}}"}},
      {"a step referring to itself",
       [](Json& s) { s["steps"][2]["args"] = {"{{steps.evaluate.phase}}"}; },
       {"spec.steps[2] (evaluate).args[0]: a step cannot refer to itself in "
        "{{steps.evaluate.phase}}"}},
      {"an output the step does not declare",
       [](Json& s) { s["steps"][4]["command"][3] = "{{steps.evaluate.outputs.acc}}"; },
       {"spec.steps[4] (register).command[3]: step \"evaluate\" declares no output \"acc\" "
        "(outputs: accuracy) in {{steps.evaluate.outputs.acc}}"}},
      {"{{item}} outside a forEach step",
       [](Json& s) { s["steps"][0]["command"][3] = "{{item}}"; },
       {"spec.steps[0] (prepare).command[3]: {{item}} outside a forEach step"}},
      {"{{item.KEY}} in the when of a forEach step",
       [](Json& s) { s["steps"][1]["when"] = "{{item.country}} != us"; },
       {"spec.steps[1] (train).when: {{item.country}} is not defined in when (only in command, "
        "args and env)"}},
      {"an unknown parameter in an env value",
       [](Json& s) {
         s["steps"][0]["env"] = {{{"name", "H"}, {"value", "{{parameters.h}}"}}};
       },
       {"spec.steps[0] (prepare).env[0].value: unknown parameter \"h\" in {{parameters.h}}"}},
      {"a when that does not parse",
       [](Json& s) { s["steps"][3]["when"] = "{{steps.evaluate.outputs.accuracy}} >="; },
       {"spec.steps[3] (approve).when: expected a value at column 39"}},
      {"an unknown step in when",
       [](Json& s) { s["steps"][3]["when"] = "{{steps.evaluation.phase}} == Succeeded"; },
       {"spec.steps[3] (approve).when: unknown step \"evaluation\" in "
        "{{steps.evaluation.phase}}"}},
      {"an unknown parameter in a Fail message",
       [](Json& s) {
         s["steps"].push_back(Step("stop", {{"type", "Fail"},
                                            {"dependsOn", {"evaluate"}},
                                            {"message", "below {{parameters.min}}"}}));
       },
       {"spec.steps[5] (stop).message: unknown parameter \"min\" in {{parameters.min}}"}},
      {"{{item}} in stepDefaults inherited by a step without forEach",
       [](Json& s) {
         s["stepDefaults"]["args"] = {"--item", "{{item}}"};
       },
       {"spec.stepDefaults.args[1]: {{item}} outside a forEach step (step \"prepare\" inherits "
        "it)"}},
      {"a step reference in stepDefaults",
       [](Json& s) {
         s["stepDefaults"]["env"] = {{{"name", "P"}, {"value", "{{steps.prepare.phase}}"}}};
       },
       {"spec.stepDefaults.env[0].value: stepDefaults cannot refer to steps in "
        "{{steps.prepare.phase}}"}},
      // ---- forEach ----
      {"a forEach that is no list",
       [](Json& s) { s["steps"][1]["forEach"] = "fr,de,us"; },
       {"spec.steps[1] (train).forEach: must be a JSON list, or one {{parameters.NAME}} "
        "reference to a List parameter or one {{steps.STEP.outputs.NAME}} reference"}},
      {"a forEach over a String parameter",
       [](Json& s) { s["steps"][1]["forEach"] = "{{parameters.horizon}}"; },
       {"spec.steps[1] (train).forEach: parameter \"horizon\" is a String, not a List"}},
      {"a forEach over an unknown parameter",
       [](Json& s) { s["steps"][1]["forEach"] = "{{parameters.cuntries}}"; },
       {"spec.steps[1] (train).forEach: unknown parameter \"cuntries\" in "
        "{{parameters.cuntries}}"}},
      {"a forEach over {{item}}",
       [](Json& s) { s["steps"][1]["forEach"] = "{{item}}"; },
       {"spec.steps[1] (train).forEach: {{item}} is not defined in forEach (only in command, "
        "args and env)",
        "spec.steps[1] (train).forEach: must be a JSON list, or one {{parameters.NAME}} "
        "reference to a List parameter or one {{steps.STEP.outputs.NAME}} reference"}},
      // ---- resources ----
      {"a quantity that does not parse",
       [](Json& s) { s["steps"][1]["resources"]["requests"]["cpu"] = "lots"; },
       {"spec.steps[1] (train).resources.requests.cpu: quantity \"lots\": expected a number"}},
      {"a negative limit",
       [](Json& s) {
         s["steps"][1]["resources"]["limits"] = {{"memory", "-1Gi"}};
       },
       {"spec.steps[1] (train).resources.limits.memory: must not be negative (got -1Gi)"}},
      {"a request above its limit",
       [](Json& s) {
         s["steps"][1]["resources"]["limits"] = {{"memory", "8Gi"}};
       },
       {"spec.steps[1] (train).resources.requests.memory: request 16Gi exceeds the limit 8Gi"}},
      {"a step's limit below the defaults' request",
       [](Json& s) {
         s["steps"][0]["resources"] = {{"limits", {{"cpu", "500m"}}}};
       },
       {"spec.steps[0] (prepare).resources.requests.cpu: request 1 exceeds the limit 500m"}},
      {"a bad quantity in stepDefaults",
       [](Json& s) { s["stepDefaults"]["resources"]["requests"]["memory"] = "2GB"; },
       {"spec.stepDefaults.resources.requests.memory: quantity \"2GB\": unknown suffix \"GB\""}},
      // ---- step types ----
      {"Container steps without an image",
       [](Json& s) { s["stepDefaults"].erase("image"); },
       {"spec.steps[0] (prepare).image: required (on the step or in spec.stepDefaults)",
        "spec.steps[1] (train).image: required (on the step or in spec.stepDefaults)",
        "spec.steps[2] (evaluate).image: required (on the step or in spec.stepDefaults)",
        "spec.steps[4] (register).image: required (on the step or in spec.stepDefaults)"}},
      {"an Approval step with container fields",
       [](Json& s) {
         s["steps"][3]["command"] = {"approve.sh"};
         s["steps"][3]["timeoutSeconds"] = 60;
       },
       {"spec.steps[3] (approve).command: ignored by an Approval step",
        "spec.steps[3] (approve).timeoutSeconds: ignored by an Approval step"}},
      {"a Fail step without a message",
       [](Json& s) {
         s["steps"].push_back(Step("stop", {{"type", "Fail"}, {"dependsOn", {"evaluate"}}}));
       },
       {"spec.steps[5] (stop).message: required for a Fail step"}},
      {"a Fail step with a forEach",
       [](Json& s) {
         s["steps"].push_back(
             Step("stop", {{"type", "Fail"}, {"message", "no"}, {"forEach", "[1, 2]"}}));
       },
       {"spec.steps[5] (stop).forEach: ignored by a Fail step"}},
      {"a message on a Container step",
       [](Json& s) { s["steps"][0]["message"] = "done"; },
       {"spec.steps[0] (prepare).message: only Fail steps take a message"}},
      // ---- numbers ----
      {"timeoutSeconds 0",
       [](Json& s) { s["steps"][0]["timeoutSeconds"] = 0; },
       {"spec.steps[0] (prepare).timeoutSeconds: must be positive (got 0)"}},
      {"a negative timeout in stepDefaults",
       [](Json& s) { s["stepDefaults"]["timeoutSeconds"] = -5; },
       {"spec.stepDefaults.timeoutSeconds: must be positive (got -5)"}},
      {"maxParallel 0",
       [](Json& s) { s["steps"][1]["maxParallel"] = 0; },
       {"spec.steps[1] (train).maxParallel: must be positive (got 0)"}},
      {"maxParallel without forEach",
       [](Json& s) { s["steps"][2]["maxParallel"] = 2; },
       {"spec.steps[2] (evaluate).maxParallel: needs forEach"}},
      {"maxAttempts 0",
       [](Json& s) { s["steps"][1]["retryPolicy"]["maxAttempts"] = 0; },
       {"spec.steps[1] (train).retryPolicy.maxAttempts: must be positive (got 0)"}},
      {"backoffRate below 1",
       [](Json& s) { s["stepDefaults"]["retryPolicy"]["backoffRate"] = 0.5; },
       {"spec.stepDefaults.retryPolicy.backoffRate: must be at least 1 (got 0.5)"}},
      {"a negative intervalSeconds",
       [](Json& s) { s["steps"][1]["retryPolicy"]["intervalSeconds"] = -1; },
       {"spec.steps[1] (train).retryPolicy.intervalSeconds: must not be negative (got -1)"}},
      {"expireAfterMinutes 0",
       [](Json& s) { s["steps"][1]["retryPolicy"]["expireAfterMinutes"] = 0; },
       {"spec.steps[1] (train).retryPolicy.expireAfterMinutes: must be positive (got 0)"}},
      {"an unknown failure class in retryOn",
       [](Json& s) { s["steps"][1]["retryPolicy"]["retryOn"][1] = "OOM"; },
       {"spec.steps[1] (train).retryPolicy.retryOn[1]: unknown failure class \"OOM\" (known: "
        "Error, OOMKilled, DeadlineExceeded, Disrupted, ImagePull, Unschedulable, "
        "ArtifactError)"}},
      // ---- env ----
      {"an env name that is no C identifier",
       [](Json& s) {
         s["steps"][0]["env"] = {{{"name", "A"}, {"value", "1"}}, {{"name", "MY-VAR"}}};
       },
       {"spec.steps[0] (prepare).env[1].name: \"MY-VAR\" is not a valid environment variable "
        "name (letters, digits and '_', not starting with a digit)"}},
  };
}

TEST(ValidationTest, MalformedPipelinesNameTheStepAndField) {
  std::vector<Malformed> cases = MalformedPipelines();
  EXPECT_GE(cases.size(), 30u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::string> got = ProblemsOf(c.mutate);
    EXPECT_EQ(got, c.want);
    Json json = Forecast();
    c.mutate(json["spec"]);
    k8s::Status status = ValidatePipeline(ParseOrDie(json), kAllowTrainer);
    EXPECT_TRUE(status.IsInvalid());
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(status.message().rfind(got.front(), 0), 0u) << status.message();
  }
}

TEST(ValidationTest, TheStatusListsEveryProblem) {
  Json json = Forecast();
  json["spec"]["steps"][0]["timeoutSeconds"] = 0;
  json["spec"]["steps"][1]["dependsOn"] = {"prep"};
  json["spec"]["steps"][2]["command"][1] = "{{parameters.x}}";
  Pipeline p = ParseOrDie(json);
  EXPECT_EQ(PipelineProblems(p).size(), 3u);
  k8s::Status status = ValidatePipeline(p, kAllowTrainer);
  EXPECT_TRUE(status.IsInvalid());
  EXPECT_EQ(status.message(),
            "spec.steps[0] (prepare).timeoutSeconds: must be positive (got 0); "
            "spec.steps[1] (train).dependsOn: unknown step \"prep\"; "
            "spec.steps[2] (evaluate).command[1]: unknown parameter \"x\" in {{parameters.x}}");
}

TEST(ValidationTest, TheListIsBoundedAndCountsTheRest) {
  Json json = Forecast();
  for (int i = 0; i < 30; ++i) {
    json["spec"]["parameters"].push_back(
        {{"name", "p" + std::to_string(i)}, {"type", "Integer"}, {"default", "x"}});
  }
  k8s::Status status = ValidatePipeline(ParseOrDie(json), kAllowTrainer);
  EXPECT_LE(status.message().size(), kMaxProblemsBytes + 32);
  EXPECT_NE(status.message().find("; "), std::string::npos);
  EXPECT_NE(status.message().find(" (and 20 more)"), std::string::npos) << status.message();
}

TEST(ValidationTest, ParametersThatBecomeTheSameVariableAreRefused) {
  Json json = Forecast();
  json["spec"]["parameters"].push_back({{"name", "my-p"}, {"default", "a"}});
  json["spec"]["parameters"].push_back({{"name", "my_p"}, {"default", "b"}});
  std::vector<std::string> got = PipelineProblems(ParseOrDie(json));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_NE(got[0].find("parameters \"my-p\" and \"my_p\" would both be the environment "
                        "variable STEPLINE_PARAM_MY_P"),
            std::string::npos)
      << got[0];
}

TEST(ValidationTest, SecretKeyRefNamesAreChecked) {
  Json json = Forecast();
  json["spec"]["steps"][0]["env"] = {
      {{"name", "A"}, {"valueFrom", {{"secretKeyRef", {{"name", "Bad_Name"}, {"key", "k/1"}}}}}}};
  std::vector<std::string> got = PipelineProblems(ParseOrDie(json));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].rfind("spec.steps[0] (prepare).env[0].valueFrom.secretKeyRef.name: "
                         "\"Bad_Name\" is not a valid object name",
                         0),
            0u)
      << got[0];
  EXPECT_EQ(got[1].rfind("spec.steps[0] (prepare).env[0].valueFrom.secretKeyRef.key:", 0), 0u);
}

TEST(ValidationTest, ARepeatedReferenceIsOneProblem) {
  Json json = Forecast();
  json["spec"]["steps"][0]["command"][3] = "{{parameters.h}}-{{parameters.h}}";
  EXPECT_EQ(PipelineProblems(ParseOrDie(json)),
            std::vector<std::string>{
                "spec.steps[0] (prepare).command[3]: unknown parameter \"h\" in {{parameters.h}}"});
}

TEST(ValidationTest, ALongChainIsValidatedQuickly) {
  Json json = Forecast();
  Json steps = Json::array();
  for (int i = 0; i < 500; ++i) {
    Json step = {{"name", "s" + std::to_string(i)}, {"command", {"run"}}};
    if (i > 0) {
      step["dependsOn"] = {"s" + std::to_string(i - 1)};
      step["args"] = {"{{steps.s0.phase}}"};
    }
    steps.push_back(step);
  }
  json["spec"]["steps"] = steps;
  EXPECT_EQ(PipelineProblems(ParseOrDie(json)), std::vector<std::string>{});
}

TEST(ValidationTest, TheDesignsForecastPipelineIsValid) {
  Pipeline p = ParseOrDie(Forecast());
  EXPECT_EQ(PipelineProblems(p), std::vector<std::string>{});
  EXPECT_TRUE(ValidatePipeline(p, kAllowTrainer).ok());
  EXPECT_THAT(ValidatePipeline(p).message(),
              ::testing::HasSubstr("spec.serviceAccountName: \"trainer\" is not allowed in "
                                   "namespace \"ml\""))
      << "no service account is allowed by default";
}

TEST(ValidationTest, OtherValidPipelines) {
  struct Case {
    std::string name;
    std::function<void(Json&)> mutate;
  };
  std::vector<Case> cases = {
      {"a Record step whose values read upstream outputs, read by a later step",
       [](Json& s) {
         s["steps"][3] = {{"name", "approve"},
                          {"type", "Record"},
                          {"dependsOn", {"evaluate"}},
                          {"values", {{"acc", "{{steps.evaluate.outputs.accuracy}}"}}}};
         s["steps"][4]["args"] = {"{{steps.approve.outputs.acc}}"};
       }},
      {"the job name of an upstream container step, in args and when",
       [](Json& s) {
         s["steps"][4]["args"] = {"--trained-by={{steps.evaluate.jobName}}"};
         s["steps"][4]["when"] = "{{steps.evaluate.jobName}} != ''";
       }},
      {"forEach over an upstream step's output, with {{item.KEY}} and env",
       [](Json& s) {
         s["steps"][2]["forEach"] = "{{steps.train.outputs.model}}";
         s["steps"][2]["env"] = {{{"name", "MODEL"}, {"value", "{{item.path}}"}}};
       }},
      {"forEach over a literal list of objects",
       [](Json& s) { s["steps"][1]["forEach"] = R"([{"c": "fr"}, {"c": "de"}])"; }},
      {"a forEach reference surrounded by whitespace",
       [](Json& s) { s["steps"][1]["forEach"] = " {{parameters.countries}} "; }},
      {"a step without outputs may output anything, referred to transitively",
       [](Json& s) { s["steps"][4]["args"] = {"{{steps.prepare.outputs.rows}}"}; }},
      {"phases and execution references, a Fail step with a templated message",
       [](Json& s) {
         s["steps"].push_back({{"name", "give-up"},
                               {"type", "Fail"},
                               {"dependsOn", {"train"}},
                               {"when", "{{steps.train.phase}} == Failed"},
                               {"message", "{{execution.name}}: training failed"}});
       }},
      {"no stepDefaults when every step names its image",
       [](Json& s) {
         s.erase("stepDefaults");
         for (const int i : {0, 1, 2, 4}) s["steps"][i]["image"] = "ml:1";
       }},
      {"requests within limits, quantities in other spellings",
       [](Json& s) {
         s["steps"][1]["resources"]["limits"] = {{"cpu", "4000m"}, {"memory", "0.5e11"}};
       }},
      {"{{item}} in stepDefaults when only forEach steps inherit it",
       [](Json& s) {
         s["stepDefaults"]["env"] = {{{"name", "ITEM"}, {"value", "{{item}}"}}};
         for (const int i : {0, 2, 4}) s["steps"][i]["env"] = {{{"name", "ITEM"}, {"value", "-"}}};
       }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ProblemsOf(c.mutate), std::vector<std::string>{});
  }
}

TEST(ValidationTest, SageMakerStyleStepNamesAreValid) {
  Pipeline p;
  p.metadata.name = "p";
  p.spec.step_defaults = reconcilers::Step{};
  p.spec.step_defaults->image = "ml:1";
  for (const char* name : {"AbaloneTrain", "Report_1", "a"}) {
    reconcilers::Step step;
    step.name = name;
    p.spec.steps.push_back(step);
  }
  p.spec.steps[1].depends_on = {"AbaloneTrain"};
  EXPECT_EQ(PipelineProblems(p), std::vector<std::string>{});
}

}  // namespace
}  // namespace stepline::reconcilers
