// CompileSageMakerDefinition: the example manifests' definitions, every supported step type, each
// Get form, Std:Join, conditions as `when` (parsed and evaluated), step names, retry policies,
// unsupported input with exact errors, and the wiring into CompileSnapshot.
#include "reconcilers/sagemaker_definition.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "reconcilers/expression.h"
#include "reconcilers/snapshot.h"
#include "reconcilers/validation.h"
#include "tests/reconcilers/yaml_test_util.h"

#ifndef STEPLINE_SOURCE_DIR
#error "STEPLINE_SOURCE_DIR must name the source tree"
#endif

namespace stepline::reconcilers {
namespace {

Json LoadExample(const std::string& file) {
  auto path = std::filesystem::path(STEPLINE_SOURCE_DIR) / "manifests" / "examples" / file;
  return YamlToJson(YAML::LoadFile(path.string()));
}

Json Definition(const Json& steps, const Json& parameters = Json::array()) {
  return {{"Version", "2020-12-01"}, {"Parameters", parameters}, {"Steps", steps}};
}

// A compiled step without the configuration files SageMaker writes (its raw input artifacts
// "sagemaker-*", which sagemaker_config_test.cc checks), so these tests read what they test.
Json StepJson(Step s) {
  std::erase_if(s.input_artifacts,
                [](const Artifact& a) { return a.raw && a.name.starts_with("sagemaker-"); });
  return ToJson(s);
}

Json StepsJson(const CompiledDefinition& d) {
  Json out = Json::array();
  for (const Step& s : d.steps) out.push_back(StepJson(s));
  return out;
}

Json ParametersJson(const CompiledDefinition& d) {
  PipelineSpec spec;
  spec.parameters = d.parameters;
  return ToJson(spec).value("parameters", Json::array());
}

// What Pipeline validation finds when the compiled definition is given as spec.steps: the
// compiled steps must be valid native steps.
std::vector<std::string> NativeProblems(const CompiledDefinition& d) {
  Pipeline p;
  p.metadata.name = "p";
  p.spec.parameters = d.parameters;
  p.spec.steps = d.steps;
  p.spec.step_defaults = Step{};
  p.spec.step_defaults->image = "registry.example/default:1";
  return PipelineProblems(p);
}

const Json kParameters = Json::parse(R"([
  {"Name": "Rows", "Type": "Integer", "DefaultValue": 1000},
  {"Name": "Mode", "DefaultValue": "full"},
  {"Name": "Threshold", "Type": "Float", "DefaultValue": 0.8},
  {"Name": "Flag", "Type": "Boolean", "DefaultValue": true},
  {"Name": "Bucket", "Type": "String"}])");

Json Processing(const std::string& name, const Json& app = Json::object()) {
  return {{"Name", name}, {"Type", "Processing"}, {"Arguments", {{"AppSpecification", app}}}};
}

TEST(SageMakerDefinitionTest, ExampleManifestsCompileToTheExpectedSteps) {
  struct Case {
    std::string file;
    Json parameters, steps;
    std::vector<std::string> warnings;
  };
  const std::string cluster = ": not used by Stepline: VolumeSizeInGB 30";
  std::vector<Case> cases = {
      {"ack-pipeline.yaml",
       Json::parse(R"([{"name": "InputRows", "type": "Integer", "default": "1000"},
                       {"name": "Objective", "type": "String", "default": "reg:squarederror"}])"),
       Json::parse(R"([
         {"name": "abalone-process", "image": "registry.example/sklearn:1.2",
          "command": ["sh", "-c", "echo preprocessing $0 rows; sleep 1"],
          "args": ["{{parameters.InputRows}}"], "timeoutSeconds": 3600,
          "resources": {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"memory": "4Gi"}}},
         {"name": "abalone-train", "dependsOn": ["abalone-process"],
          "image": "registry.example/xgboost:1.7",
          "command": ["sh", "-c", "echo training with objective $0; sleep 2"],
          "args": ["{{parameters.Objective}}"], "env": [{"name": "OMP_NUM_THREADS", "value": "1"}],
          "timeoutSeconds": 86400,
          "resources": {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"memory": "4Gi"}},
          "retryPolicy": {"maxAttempts": 4, "intervalSeconds": 5, "backoffRate": 2.0,
                          "retryOn": ["Disrupted", "Unschedulable"]}}])"),
       {"Steps[0] (AbaloneProcess): runs as step \"abalone-process\"",
        "Steps[1] (AbaloneTrain): runs as step \"abalone-train\"",
        "Steps[0] (AbaloneProcess).Arguments.ProcessingResources.ClusterConfig" + cluster,
        "Steps[1] (AbaloneTrain).Arguments.ProcessingResources.ClusterConfig" + cluster}},
      {"sagemaker-definition-object.yaml",
       Json::parse(R"([{"name": "Threshold", "type": "Float", "default": "0.5"}])"),
       Json::parse(R"([
         {"name": "check", "image": "registry.example/tools:1.0",
          "command": ["sh", "-c", "echo checking against threshold $0"],
          "args": ["{{parameters.Threshold}}"],
          "resources": {"requests": {"cpu": "2", "memory": "4Gi"}, "limits": {"memory": "4Gi"}}},
         {"name": "give-up", "type": "Fail", "dependsOn": ["check"],
          "message": "the smoke check always ends here"}])"),
       {"Steps[0] (Check): runs as step \"check\"", "Steps[1] (GiveUp): runs as step \"give-up\"",
        "Steps[0] (Check).Arguments.ProcessingResources.ClusterConfig: not used by Stepline: "
        "VolumeSizeInGB 1"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    Json doc = LoadExample(c.file);
    auto got = CompileSageMakerDefinition(doc["spec"]["pipelineDefinition"]);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(ParametersJson(*got), c.parameters);
    EXPECT_EQ(StepsJson(*got), c.steps);
    EXPECT_EQ(got->warnings, c.warnings);
    EXPECT_EQ(NativeProblems(*got), std::vector<std::string>{});
  }
}

TEST(SageMakerDefinitionTest, AStringAndAnObjectCompileTheSame) {
  std::vector<Json> definitions = {
      LoadExample("ack-pipeline.yaml")["spec"]["pipelineDefinition"],
      LoadExample("sagemaker-definition-object.yaml")["spec"]["pipelineDefinition"],
      Definition(Json::parse(R"([{"Name": "A", "Type": "Processing"},
          {"Name": "C", "Type": "Condition", "Arguments": {
            "Conditions": [{"Type": "Equals", "LeftValue": {"Get": "Parameters.Mode"},
                            "RightValue": "full"}],
            "IfSteps": [{"Name": "B", "Type": "Processing"}]}}])"),
                 kParameters),
  };
  for (size_t i = 0; i < definitions.size(); ++i) {
    SCOPED_TRACE(i);
    Json object = definitions[i].is_string() ? Json::parse(definitions[i].get<std::string>())
                                             : definitions[i];
    auto from_object = CompileSageMakerDefinition(object);
    auto from_string = CompileSageMakerDefinition(object.dump(2));
    ASSERT_TRUE(from_object.ok()) << from_object.status().ToString();
    ASSERT_TRUE(from_string.ok()) << from_string.status().ToString();
    EXPECT_EQ(StepsJson(*from_string), StepsJson(*from_object));
    EXPECT_EQ(ParametersJson(*from_string), ParametersJson(*from_object));
    EXPECT_EQ(from_string->warnings, from_object->warnings);
  }
}

TEST(SageMakerDefinitionTest, EverySupportedStepType) {
  struct Case {
    std::string name;
    std::string steps;  // the definition's Steps
    std::string want;   // the compiled steps
  };
  std::vector<Case> cases = {
      {"processing",
       R"([{"Name": "prep", "Type": "Processing", "Arguments": {
            "AppSpecification": {"ImageUri": "img:1", "ContainerEntrypoint": ["python", "p.py"],
                                 "ContainerArguments": ["--rows", {"Get": "Parameters.Rows"}]},
            "Environment": {"MODE": {"Get": "Parameters.Mode"}, "A": "1"},
            "StoppingCondition": {"MaxRuntimeInSeconds": 600}, "RoleArn": "arn:x"}}])",
       R"([{"name": "prep", "image": "img:1", "command": ["python", "p.py"],
            "args": ["--rows", "{{parameters.Rows}}"], "timeoutSeconds": 600,
            "env": [{"name": "A", "value": "1"}, {"name": "MODE", "value": "{{parameters.Mode}}"}]}])"},
      {"processing without arguments", R"([{"Name": "bare", "Type": "Processing"}])",
       R"([{"name": "bare"}])"},
      {"training",
       R"([{"Name": "train", "Type": "Training", "Arguments": {
            "AlgorithmSpecification": {"TrainingImage": "xgb:1", "TrainingInputMode": "File"},
            "HyperParameters": {"max_depth": "5", "eta": {"Get": "Parameters.Threshold"}},
            "Environment": {"SEED": "7"}, "StoppingCondition": {"MaxRuntimeInSeconds": 86400}}}])",
       R"([{"name": "train", "image": "xgb:1", "timeoutSeconds": 86400, "args": ["train"],
            "env": [{"name": "SEED", "value": "7"},
                    {"name": "SM_HP_ETA", "value": "{{parameters.Threshold}}"},
                    {"name": "SM_HP_MAX_DEPTH", "value": "5"},
                    {"name": "SM_HPS",
                     "value": "{\"eta\":\"{{parameters.Threshold}}\",\"max_depth\":\"5\"}"}]}])"},
      {"training with an entrypoint gets no train argument",
       R"([{"Name": "train", "Type": "Training", "Arguments": {"AlgorithmSpecification":
            {"TrainingImage": "xgb:1", "ContainerEntrypoint": ["python", "fit.py"]}}}])",
       R"([{"name": "train", "image": "xgb:1", "command": ["python", "fit.py"]}])"},
      {"fail with a joined message",
       R"([{"Name": "stop", "Type": "Fail", "Arguments": {"ErrorMessage": {"Std:Join": {
            "On": " ", "Values": ["run", {"Get": "Execution.PipelineExecutionId"}, "failed"]}}}}])",
       R"([{"name": "stop", "type": "Fail", "message": "run {{execution.name}} failed"}])"},
      {"fail without a message", R"([{"Name": "stop", "Type": "Fail"}])",
       R"([{"name": "stop", "type": "Fail", "message": "step \"stop\" failed the execution"}])"},
      {"callback",
       R"([{"Name": "ask", "Type": "Callback", "SqsQueueUrl": "https://sqs/q",
            "OutputParameters": [{"OutputName": "answer", "OutputType": "String"}],
            "Arguments": {"x": 1}}])",
       R"([{"name": "ask", "type": "Approval", "outputs": ["answer"]}])"},
      {"DependsOn and a Get in a field Stepline does not map both order the steps",
       R"([{"Name": "a", "Type": "Processing"}, {"Name": "b", "Type": "Processing"},
           {"Name": "c", "Type": "Processing", "DependsOn": ["b"], "Arguments": {
             "NetworkConfig": {"Note": {"Get":
               "Steps.a.Properties.ProcessingOutputConfig.Outputs['x'].S3Output.S3Uri"}}}}])",
       R"([{"name": "a"}, {"name": "b"}, {"name": "c", "dependsOn": ["b", "a"]}])"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = CompileSageMakerDefinition(Definition(Json::parse(c.steps), kParameters));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(StepsJson(*got), Json::parse(c.want));
    EXPECT_EQ(NativeProblems(*got), std::vector<std::string>{});
  }
}

TEST(SageMakerDefinitionTest, DataChannelsBecomeArtifacts) {
  Json steps = Json::parse(R"([
    {"Name": "Prep", "Type": "Processing", "Arguments": {
      "ProcessingInputs": [
        {"InputName": "input-1", "AppManaged": false, "S3Input": {
          "S3Uri": {"Get": "Parameters.Bucket"}, "LocalPath": "/opt/ml/processing/input",
          "S3DataType": "S3Prefix", "S3InputMode": "File",
          "S3DataDistributionType": "FullyReplicated", "S3CompressionType": "None"}},
        {"InputName": "code", "S3Input": {"S3Uri": "s3://data/code/prep.py",
          "LocalPath": "/opt/ml/processing/input/code/", "S3InputMode": "Pipe"}}],
      "ProcessingOutputConfig": {"Outputs": [
        {"OutputName": "train", "AppManaged": false, "S3Output": {
          "S3Uri": {"Std:Join": {"On": "/", "Values": ["s3://data/out",
                                  {"Get": "Execution.PipelineExecutionId"}, "train"]}},
          "LocalPath": "/opt/ml/processing/train", "S3UploadMode": "EndOfJob"}}]}}},
    {"Name": "Train", "Type": "Training", "Arguments": {
      "AlgorithmSpecification": {"TrainingImage": "xgb:1"},
      "OutputDataConfig": {"S3OutputPath": "s3://data/models/", "KmsKeyId": "k1"},
      "InputDataConfig": [
        {"ChannelName": "train", "ContentType": "text/csv", "DataSource": {"S3DataSource": {
          "S3DataType": "S3Prefix", "S3DataDistributionType": "FullyReplicated", "S3Uri": {"Get":
          "Steps.Prep.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"}}}},
        {"ChannelName": "extra", "DataSource": {"S3DataSource": {
          "S3DataType": "S3Prefix", "S3Uri": "s3://data/extra/"}}}]}}])");
  auto got = CompileSageMakerDefinition(Definition(steps, kParameters));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  Json prep = StepJson(got->steps[0]);
  EXPECT_EQ(prep["inputs"], Json::parse(R"({"artifacts": [
    {"name": "input-1", "path": "/opt/ml/processing/input/", "s3": "{{parameters.Bucket}}"},
    {"name": "code", "path": "/opt/ml/processing/input/code/", "s3": "s3://data/code/prep.py"}]})"));
  EXPECT_EQ(prep["outputs"]["artifacts"], Json::parse(R"([{"name": "train",
    "path": "/opt/ml/processing/train/", "s3": "s3://data/out/{{execution.name}}/train"}])"));
  Json train = StepJson(got->steps[1]);
  EXPECT_EQ(train["inputs"], Json::parse(R"({"artifacts": [
    {"name": "train", "path": "/opt/ml/input/data/train/", "from": "{{steps.prep.artifacts.train}}"},
    {"name": "extra", "path": "/opt/ml/input/data/extra/", "s3": "s3://data/extra/"}]})"));
  EXPECT_EQ(train["dependsOn"], Json::parse(R"(["prep"])"));
  EXPECT_EQ(train["outputs"]["artifacts"], Json::parse(R"([{"name": "model",
    "path": "/opt/ml/model/", "archive": "tgz",
    "s3": "s3://data/models/{{execution.name}}-train/output/model.tar.gz"}])"));
  EXPECT_EQ(
      got->warnings,
      (std::vector<std::string>{
          "Steps[0] (Prep): runs as step \"prep\"", "Steps[1] (Train): runs as step \"train\"",
          "Steps[0] (Prep).Arguments.ProcessingInputs[1].S3Input: not used by Stepline (data "
          "is staged as S3Prefix, File, FullyReplicated, uploaded at the end): S3InputMode "
          "\"Pipe\"",
          "Steps[1] (Train).Arguments.OutputDataConfig: not used by Stepline: KmsKeyId \"k1\""}));
  EXPECT_EQ(NativeProblems(*got), std::vector<std::string>{});
}

TEST(SageMakerDefinitionTest, DataChannelErrorsNameTheField) {
  struct Case {
    std::string name;
    std::string step;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"manifest file",
       R"({"Name": "P", "Type": "Processing", "Arguments": {"ProcessingInputs": [{"InputName": "m",
           "S3Input": {"S3Uri": "s3://bkt/m.json", "LocalPath": "/in", "S3DataType": "ManifestFile"}}]}})",
       "Steps[0] (P).Arguments.ProcessingInputs[0].S3Input.S3DataType: \"ManifestFile\" is not "
       "supported by Stepline (it stages S3Prefix data)"},
      {"a placeholder bucket",
       R"({"Name": "T", "Type": "Training", "Arguments": {"InputDataConfig": [{"ChannelName": "train",
           "DataSource": {"S3DataSource": {"S3Uri": "s3://<YOUR_BUCKET_NAME>/train/"}}}]}})",
       "Steps[0] (T).Arguments.InputDataConfig[0].DataSource.S3DataSource.S3Uri: "
       "\"s3://<YOUR_BUCKET_NAME>/train/\": "},
      {"no LocalPath",
       R"({"Name": "P", "Type": "Processing", "Arguments": {"ProcessingOutputConfig": {"Outputs":
           [{"OutputName": "o", "S3Output": {"S3Uri": "s3://bkt/o"}}]}}})",
       "Steps[0] (P).Arguments.ProcessingOutputConfig.Outputs[0].S3Output.LocalPath: "},
      {"a data set definition",
       R"({"Name": "P", "Type": "Processing", "Arguments": {"ProcessingInputs": [{"InputName": "d",
           "DatasetDefinition": {}}]}})",
       "Steps[0] (P).Arguments.ProcessingInputs[0]: only S3Input is supported by Stepline "
       "(DatasetDefinition is not): export the data set to S3 and give its S3Uri"},
      {"a serverless job, which has no container",
       R"({"Name": "T", "Type": "Training", "Arguments": {"ServerlessJobConfig": {
           "JobType": "Evaluation"}}})",
       "Steps[0] (T).Arguments.ServerlessJobConfig: SageMaker's serverless jobs (a hub model run "
       "by SageMaker) are not supported by Stepline: give AlgorithmSpecification.TrainingImage, a "
       "container that runs the job"},
      {"a channel name Stepline cannot use",
       R"({"Name": "T", "Type": "Training", "Arguments": {"InputDataConfig": [{"ChannelName": "a b",
           "DataSource": {"S3DataSource": {"S3Uri": "s3://bkt/k"}}}]}})",
       "Steps[0] (T).Arguments.InputDataConfig[0].ChannelName: "},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = CompileSageMakerDefinition(Definition(Json::array({Json::parse(c.step)})));
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().message().substr(0, c.want.size()), c.want) << got.status().message();
  }
}

TEST(SageMakerDefinitionTest, ValuesAndEachGetForm) {
  const std::string at = "Steps[3] (Use).Arguments.AppSpecification.ContainerArguments[0]: ";
  struct Case {
    std::string name;
    std::string value;
    std::string want;  // the rendered argument, or the error
    bool ok = true;
  };
  std::vector<Case> cases = {
      {"string", R"("--x")", "--x"},
      {"integer", "3", "3"},
      {"float", "0.5", "0.5"},
      {"boolean", "true", "true"},
      {"parameter", R"({"Get": "Parameters.Rows"})", "{{parameters.Rows}}"},
      {"execution id", R"({"Get": "Execution.PipelineExecutionId"})", "{{execution.name}}"},
      {"execution arn", R"({"Get": "Execution.PipelineExecutionArn"})", "{{execution.name}}"},
      {"processing output",
       R"({"Get": "Steps.Prep.Properties.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"})",
       "{{steps.prep.artifacts.train.uri}}"},
      {"processing output, double quotes",
       R"({"Get": "Steps.Prep.Properties.ProcessingOutputConfig.Outputs[\"test\"].S3Output.S3Uri"})",
       "{{steps.prep.artifacts.test.uri}}"},
      {"training metric", R"({"Get": "Steps.Train.Properties.FinalMetricDataList['auc'].Value"})",
       "{{steps.train.outputs.auc}}"},
      {"model artifacts", R"({"Get": "Steps.Train.Properties.ModelArtifacts.S3ModelArtifacts"})",
       "{{steps.train.artifacts.model.uri}}"},
      {"callback output", R"({"Get": "Steps.Ask.OutputParameters['answer']"})",
       "{{steps.ask.outputs.answer}}"},
      {"join", R"({"Std:Join": {"On": "/", "Values": ["s3:/", {"Get": "Parameters.Bucket"},
                  {"Get": "Execution.PipelineExecutionId"}, 3]}})",
       "s3://{{parameters.Bucket}}/{{execution.name}}/3"},
      {"nested join without On", R"({"Std:Join": {"Values": ["a", {"Std:Join": {"On": "-",
                  "Values": ["b", {"Get": "Parameters.Mode"}]}}]}})",
       "ab-{{parameters.Mode}}"},
      {"unknown parameter", R"({"Get": "Parameters.Nope"})",
       at + R"({"Get": "Parameters.Nope"}: unknown parameter "Nope")", false},
      {"start time", R"({"Get": "Execution.StartDateTime"})", "{{execution.startTime}}"},
      {"model artifacts, the SDK's form",
       R"({"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"})",
       "{{steps.train.artifacts.model.uri}}"},
      {"processing output, the SDK's form",
       R"({"Get": "Steps.Prep.ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri"})",
       "{{steps.prep.artifacts.train.uri}}"},
      {"other execution variable", R"({"Get": "Execution.PipelineName"})",
       at + R"({"Get": "Execution.PipelineName"}: execution variable "PipelineName" is not )"
            "supported by Stepline (it provides PipelineExecutionId, PipelineExecutionArn and "
            "StartDateTime)",
       false},
      {"processing job name", R"({"Get": "Steps.Prep.Properties.ProcessingJobName"})",
       "{{steps.prep.jobName}}"},
      {"training job name, the SDK's form", R"({"Get": "Steps.Train.TrainingJobName"})",
       "{{steps.train.jobName}}"},
      {"job name of the other step type", R"({"Get": "Steps.Prep.Properties.TrainingJobName"})",
       at + R"({"Get": "Steps.Prep.Properties.TrainingJobName"}: Stepline cannot provide this )"
            "property of a Processing step (it provides "
            "ProcessingOutputConfig.Outputs['NAME'].S3Output.S3Uri, ProcessingJobName, "
            "FinalMetricDataList['NAME'].Value, ModelArtifacts.S3ModelArtifacts, TrainingJobName "
            "and OutputParameters['NAME'], each with or without \"Properties.\" before it)",
       false},
      {"unknown step", R"({"Get": "Steps.Nope.Properties.X"})",
       R"(Steps[3] (Use).Arguments: a Get names unknown step "Nope")", false},
      {"output name Stepline cannot reference", R"({"Get": "Steps.Ask.OutputParameters['a b']"})",
       at + R"({"Get": "Steps.Ask.OutputParameters['a b']"}: output name "a b" must be made of )"
            "letters, digits, '_' and '-'",
       false},
      {"unknown reference", R"({"Get": "Pipeline.Name"})",
       at + R"({"Get": "Pipeline.Name"}: unknown reference (Stepline reads Parameters.NAME, )"
            "Execution.PipelineExecutionId, Execution.PipelineExecutionArn, "
            "Execution.StartDateTime and Steps.STEP...)",
       false},
      {"JsonGet", R"({"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Prep.PropertyFiles.R"},
                    "Path": "mse"}})",
       "Steps[3] (Use).Arguments.AppSpecification.ContainerArguments[0].Std:JsonGet."
       R"(PropertyFile: {"Get": "Steps.Prep.PropertyFiles.R"}: no step "Prep" )"
       R"(with a property file "R")",
       false},
      {"literal braces", R"("a{{b}}")",
       at + R"("a{{b}}" contains "{{", which Stepline would read as a reference)", false},
      {"other object", R"({"Foo": 1})",
       at + R"(must be a string, a number, a boolean, {"Get": ...} or {"Std:Join": ...})", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Json use = Processing("Use", {{"ContainerArguments", {Json::parse(c.value)}}});
    Json steps = {Processing("Prep"),
                  {{"Name", "Train"}, {"Type", "Training"}},
                  {{"Name", "Ask"}, {"Type", "Callback"}},
                  use};
    auto got = CompileSageMakerDefinition(Definition(steps, kParameters));
    if (!c.ok) {
      ASSERT_FALSE(got.ok());
      EXPECT_EQ(got.status().message(), c.want);
      EXPECT_TRUE(got.status().IsInvalid());
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->steps[3].args, std::vector<std::string>{c.want});
  }
}

TEST(SageMakerDefinitionTest, ConditionsBecomeWhenExpressionsThatEvaluateAsSageMakerWould) {
  struct World {
    std::string mode, accuracy;
    bool want;  // the IfSteps run
  };
  struct Case {
    std::string name;
    std::string conditions;
    std::string want;
    std::vector<World> worlds;
  };
  const std::string acc = R"({"Get": "Steps.Eval.Properties.FinalMetricDataList['acc'].Value"})";
  const std::string mode = R"({"Get": "Parameters.Mode"})";
  std::vector<Case> cases = {
      {"equals",
       R"([{"Type": "Equals", "LeftValue": )" + mode + R"(, "RightValue": "full"}])",
       "{{parameters.Mode}} == 'full'",
       {{"full", "0", true}, {"fast", "0", false}}},
      {"greater than or equal to a parameter",
       R"([{"Type": "GreaterThanOrEqualTo", "LeftValue": )" + acc +
           R"(, "RightValue": {"Get": "Parameters.Threshold"}}])",
       "{{steps.eval.outputs.acc}} >= {{parameters.Threshold}}",
       {{"", "0.8", true}, {"", "0.91", true}, {"", "0.79", false}}},
      {"greater than",
       R"([{"Type": "GreaterThan", "LeftValue": )" + acc + R"(, "RightValue": 0.9}])",
       "{{steps.eval.outputs.acc}} > 0.9",
       {{"", "0.91", true}, {"", "0.9", false}}},
      {"less than",
       R"([{"Type": "LessThan", "LeftValue": )" + acc + R"(, "RightValue": 1}])",
       "{{steps.eval.outputs.acc}} < 1",
       {{"", "0.5", true}, {"", "1.0", false}}},
      {"less than or equal to",
       R"([{"Type": "LessThanOrEqualTo", "LeftValue": 0.5, "RightValue": )" + acc + "}]",
       "0.5 <= {{steps.eval.outputs.acc}}",
       {{"", "0.5", true}, {"", "0.4", false}}},
      {"in",
       R"([{"Type": "In", "QueryValue": )" + mode + R"(, "Values": ["full", "fast"]}])",
       "{{parameters.Mode}} in ['full', 'fast']",
       {{"fast", "", true}, {"slow", "", false}}},
      {"not",
       R"([{"Type": "Not", "Expression": {"Type": "Equals", "LeftValue": )" + mode +
           R"(, "RightValue": "full"}}])",
       "!({{parameters.Mode}} == 'full')",
       {{"full", "", false}, {"fast", "", true}}},
      {"not, the negated condition as Condition (as some SDK versions write it)",
       R"([{"Type": "Not", "Condition": {"Type": "Equals", "LeftValue": )" + mode +
           R"(, "RightValue": "full"}}])",
       "!({{parameters.Mode}} == 'full')",
       {{"full", "", false}, {"fast", "", true}}},
      {"or and a second condition",
       R"([{"Type": "Or", "Conditions": [
             {"Type": "Equals", "LeftValue": )" +
           mode + R"(, "RightValue": "full"},
             {"Type": "GreaterThan", "LeftValue": )" +
           acc + R"(, "RightValue": 0.95}]},
           {"Type": "GreaterThan", "LeftValue": )" +
           acc + R"(, "RightValue": 0.5}])",
       "({{parameters.Mode}} == 'full' || {{steps.eval.outputs.acc}} > 0.95) && "
       "{{steps.eval.outputs.acc}} > 0.5",
       {{"full", "0.6", true},
        {"fast", "0.97", true},
        {"fast", "0.6", false},
        {"full", "0.4", false}}},
      {"quotes in a literal",
       R"([{"Type": "Equals", "LeftValue": )" + mode + R"(, "RightValue": "it's \\ ok"}])",
       R"({{parameters.Mode}} == 'it\'s \\ ok')",
       {{"it's \\ ok", "", true}, {"it", "", false}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Json steps = Json::parse(R"([{"Name": "Eval", "Type": "Processing"},
        {"Name": "Check", "Type": "Condition", "Arguments": {"Conditions": )" +
                             c.conditions + R"(, "IfSteps": [{"Name": "Go", "Type": "Processing"}],
         "ElseSteps": [{"Name": "Stop", "Type": "Fail"}]}}])");
    auto got = CompileSageMakerDefinition(Definition(steps, kParameters));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_EQ(got->steps.size(), 3u);
    const Step& go = got->steps[1];
    const Step& stop = got->steps[2];
    EXPECT_EQ(go.when, c.want);
    EXPECT_EQ(stop.when, "!(" + c.want + ")");
    bool reads_eval = c.want.find("steps.eval") != std::string::npos;
    auto deps = reads_eval ? std::vector<std::string>{"eval"} : std::vector<std::string>{};
    EXPECT_EQ(go.depends_on, deps);
    EXPECT_EQ(stop.depends_on, deps);
    EXPECT_EQ(NativeProblems(*got), std::vector<std::string>{});
    auto if_expr = ParseExpression(go.when);
    auto else_expr = ParseExpression(stop.when);
    ASSERT_TRUE(if_expr.ok()) << if_expr.status().ToString();
    ASSERT_TRUE(else_expr.ok()) << else_expr.status().ToString();
    for (const World& w : c.worlds) {
      SCOPED_TRACE(w.mode + " " + w.accuracy);
      TemplateValues values;
      values.parameters = {{"Mode", w.mode}, {"Threshold", "0.8"}};
      values.steps["eval"] = {"Succeeded", {{"acc", w.accuracy}}};
      auto go_runs = Evaluate(*if_expr, values);
      auto stop_runs = Evaluate(*else_expr, values);
      ASSERT_TRUE(go_runs.ok()) << go_runs.status().ToString();
      ASSERT_TRUE(stop_runs.ok()) << stop_runs.status().ToString();
      EXPECT_EQ(*go_runs, w.want);
      EXPECT_EQ(*stop_runs, !w.want);
    }
  }
}

TEST(SageMakerDefinitionTest, NestedConditionsAndNamedBranchesCombineWhenAndDependencies) {
  auto equals = [](const std::string& value) {
    return Json::parse(R"([{"Type": "Equals", "LeftValue": {"Get": "Parameters.Mode"},
                            "RightValue": ")" +
                       value + R"("}])");
  };
  Json inner = {{"Name", "Inner"},
                {"Type", "Condition"},
                {"Arguments",
                 {{"Conditions", equals("b")},
                  {"IfSteps", {Processing("A")}},
                  {"ElseSteps", {Processing("D")}}}}};
  Json outer = {{"Name", "Outer"},
                {"Type", "Condition"},
                {"DependsOn", {"Prep"}},
                {"Arguments",
                 {{"Conditions", equals("a")},
                  {"IfSteps", {inner, "Named"}},
                  {"ElseSteps", {Processing("C")}}}}};
  Json after = Processing("After");
  after["DependsOn"] = {"Outer"};
  auto got = CompileSageMakerDefinition(
      Definition({Processing("Prep"), outer, Processing("Named"), after}, kParameters));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const std::string a = "{{parameters.Mode}} == 'a'";
  const std::string b = "{{parameters.Mode}} == 'b'";
  Json want = Json::array({
      {{"name", "prep"}},
      {{"name", "a"}, {"dependsOn", {"prep"}}, {"when", a + " && " + b}},
      {{"name", "d"}, {"dependsOn", {"prep"}}, {"when", a + " && !(" + b + ")"}},
      {{"name", "c"}, {"dependsOn", {"prep"}}, {"when", "!(" + a + ")"}},
      {{"name", "named"}, {"dependsOn", {"prep"}}, {"when", a}},
      {{"name", "after"}, {"dependsOn", {"prep"}}},
  });
  EXPECT_EQ(StepsJson(*got), want);
  EXPECT_EQ(NativeProblems(*got), std::vector<std::string>{});
  for (const Step& s : got->steps) {
    SCOPED_TRACE(s.name);
    if (!s.when.empty()) {
      EXPECT_TRUE(ParseExpression(s.when).ok());
    }
  }
}

TEST(SageMakerDefinitionTest, StepNamesBecomeUniqueDnsLabelsAndReferencesFollow) {
  struct Case {
    std::string original, want;
  };
  std::vector<Case> cases = {
      {"AbaloneProcess", "abalone-process"},
      {"prepare", "prepare"},
      {"Train_Model_v2", "train-model-v2"},
      {"XMLParser", "xml-parser"},
      {"Step1Train", "step1-train"},
      {"__x__", "x"},
      {"___", "step"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.original);
    auto got = CompileSageMakerDefinition(Definition(Json::array({Processing(c.original)})));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->steps[0].name, c.want);
    std::vector<std::string> warnings;
    if (c.want != c.original)
      warnings = {"Steps[0] (" + c.original + "): runs as step \"" + c.want + "\""};
    EXPECT_EQ(got->warnings, warnings);
  }
  // Too long, or shared: a prefix and a hash of the SageMaker name; references use the new names.
  const std::string long_name = "Preprocess_" + std::string(240, 'x') + "_Data";
  Json use = Processing(
      "Use", {{"ContainerArguments", {{{"Get", "Steps.train-model.OutputParameters['n']"}}}}});
  use["DependsOn"] = {"Train_Model", long_name};
  auto got = CompileSageMakerDefinition(Definition(
      {Processing(long_name), Processing("Train_Model"), Processing("train-model"), use}));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  const std::regex hashed("[a-z0-9-]{1,29}-[0-9a-z]{10}");
  std::vector<std::string> names;
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    names.push_back(got->steps[i].name);
    EXPECT_LE(names[i].size(), kMaxStepNameLength);
    EXPECT_TRUE(std::regex_match(names[i], hashed)) << names[i];
  }
  EXPECT_EQ(names[0].substr(0, 15), "preprocess-xxxx");
  EXPECT_EQ(names[1].substr(0, 12), "train-model-");
  EXPECT_EQ(names[2].substr(0, 12), "train-model-");
  EXPECT_NE(names[1], names[2]);
  EXPECT_EQ(got->steps[3].depends_on, (std::vector<std::string>{names[1], names[0], names[2]}));
  EXPECT_EQ(got->steps[3].args[0], "{{steps." + names[2] + ".outputs.n}}");
  auto again = CompileSageMakerDefinition(Definition(
      {Processing(long_name), Processing("Train_Model"), Processing("train-model"), use}));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(StepsJson(*again), StepsJson(*got));  // deterministic
}

TEST(SageMakerDefinitionTest, RetryPoliciesMapToOneStepPolicy) {
  struct Case {
    std::string name;
    std::string policies;
    std::string want;  // the retryPolicy, "null" for none
    std::vector<std::string> warnings;
  };
  const std::string at = "Steps[0] (p).RetryPolicies: ";
  std::vector<Case> cases = {
      {"defaults",
       R"([{"ExceptionType": ["Step.SERVICE_FAULT"]}])",
       R"({"maxAttempts": 6, "intervalSeconds": 1, "backoffRate": 2.0, "retryOn": ["Disrupted"]})",
       {}},
      {"MaxAttempts counts retries",
       R"([{"ExceptionType": ["SageMaker.CAPACITY_ERROR"], "MaxAttempts": 2, "IntervalSeconds": 10,
            "BackoffRate": 1.5}])",
       R"({"maxAttempts": 3, "intervalSeconds": 10, "backoffRate": 1.5,
           "retryOn": ["Unschedulable"]})",
       {}},
      {"MaxAttempts 0 never retries",
       R"([{"ExceptionType": ["SageMaker.JOB_INTERNAL_ERROR"], "MaxAttempts": 0}])",
       R"({"maxAttempts": 1, "intervalSeconds": 1, "backoffRate": 2.0, "retryOn": ["Disrupted"]})",
       {}},
      {"ExpireAfterMin",
       R"([{"FailureType": ["SageMaker.CAPACITY_ERROR"], "ExpireAfterMin": 30}])",
       R"({"maxAttempts": 21, "expireAfterMinutes": 30, "intervalSeconds": 1, "backoffRate": 2.0,
           "retryOn": ["Unschedulable"]})",
       {}},
      {"throttling and quota need no policy",
       R"([{"ExceptionType": ["Step.THROTTLING", "SageMaker.RESOURCE_LIMIT"]}])",
       "null",
       {at + "no retry policy needed (the controller retries throttled API calls itself, and "
             "waits out quota)"}},
      {"several policies",
       R"([{"ExceptionType": ["Step.THROTTLING"], "MaxAttempts": 9},
           {"ExceptionType": ["SageMaker.CAPACITY_ERROR"], "MaxAttempts": 3},
           {"ExceptionType": ["Step.SERVICE_FAULT"], "MaxAttempts": 1}])",
       R"({"maxAttempts": 4, "intervalSeconds": 1, "backoffRate": 2.0,
           "retryOn": ["Unschedulable", "Disrupted"]})",
       {at + "Stepline keeps one retry policy per step: the numbers of the first apply to all "
             "its failure classes (Unschedulable, Disrupted)"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Json step = Processing("p");
    step["RetryPolicies"] = Json::parse(c.policies);
    auto got = CompileSageMakerDefinition(Definition(Json::array({step})));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    Json policy = ToJson(got->steps[0]).value("retryPolicy", Json());
    EXPECT_EQ(policy, Json::parse(c.want));
    EXPECT_EQ(got->warnings, c.warnings);
  }
}

// CacheConfig {Enabled, ExpireAfter} becomes the step's cache, as SageMaker writes it.
TEST(SageMakerDefinitionTest, CacheConfigBecomesTheStepsCache) {
  struct Case {
    std::string name;
    std::string config;
    std::string want;  // the step's cache, or the error
  };
  const std::string at = "Steps[0] (p).CacheConfig";
  const std::vector<Case> cases = {
      {"enabled with expiry", R"({"Enabled": true, "ExpireAfter": "P30D"})",
       R"({"enabled": true, "expireAfter": "P30D"})"},
      {"enabled, no expiry", R"({"Enabled": true})", R"({"enabled": true})"},
      {"disabled", R"({"Enabled": false, "ExpireAfter": "PT1H"})",
       R"({"enabled": false, "expireAfter": "PT1H"})"},
      {"SageMaker's short form", R"({"Enabled": true, "ExpireAfter": "T12H"})",
       R"({"enabled": true, "expireAfter": "T12H"})"},
      {"a bad duration", R"({"Enabled": true, "ExpireAfter": "30 days"})",
       at + ".ExpireAfter: \"30 days\" must be an ISO-8601 duration such as P30D or PT12H " +
           "(SageMaker's 30d and T12H too)"},
      {"Enabled not a boolean", R"({"Enabled": "yes"})", at + ".Enabled: must be true or false"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Json step = Processing("p");
    step["CacheConfig"] = Json::parse(c.config);
    auto got = CompileSageMakerDefinition(Definition(Json::array({step})));
    if (c.want.front() != '{') {
      ASSERT_FALSE(got.ok());
      EXPECT_EQ(got.status().message(), c.want);
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(ToJson(got->steps[0]).value("cache", Json()), Json::parse(c.want));
    EXPECT_TRUE(got->warnings.empty());
  }
}

TEST(SageMakerDefinitionTest, UnsupportedStepTypesAreNamed) {
  for (const std::string type :
       {"Tuning", "EMR", "ClarifyCheck", "QualityCheck", "AutoML", "Notebook"}) {
    SCOPED_TRACE(type);
    Json nested = {{"Name", "Check"},
                   {"Type", "Condition"},
                   {"Arguments",
                    {{"Conditions", Json::parse(R"([{"Type": "Equals", "LeftValue": 1,
                                                     "RightValue": 1}])")},
                     {"IfSteps", {{{"Name", "Deploy"}, {"Type", type}}}}}}};
    auto got = CompileSageMakerDefinition(Definition({Processing("Prep"), nested}));
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().message().rfind(
                  "Steps[1] (Check).Arguments.IfSteps[0] (Deploy).Type: step type \"" + type +
                      "\" is not supported by Stepline (supported: Processing, Training, "
                      "Condition, Fail, Callback, Model, RegisterModel, Lineage, Transform, "
                      "Lambda): ",
                  0),
              0u)
        << got.status().message();
  }
  auto got = CompileSageMakerDefinition(Definition({{{"Name", "X"}, {"Type", "Teleport"}}}));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(),
            "Steps[0] (X).Type: step type \"Teleport\" is not supported by Stepline (supported: "
            "Processing, Training, Condition, Fail, Callback, Model, RegisterModel, Lineage, "
            "Transform, Lambda)");
}

// Model, RegisterModel and Lineage create nothing in SageMaker here: Record steps that run no
// Job and record what the step describes as outputs, each with a warning that says so.
TEST(SageMakerDefinitionTest, ModelRegisterModelAndLineageBecomeRecordSteps) {
  Json steps = Json::parse(R"([
    {"Name": "Train", "Type": "Training", "Arguments": {
      "AlgorithmSpecification": {"TrainingImage": "xgb:1"},
      "OutputDataConfig": {"S3OutputPath": "s3://bkt/models"}}},
    {"Name": "Make-CreateModel", "Type": "Model", "Arguments": {
      "ExecutionRoleArn": "arn:role",
      "PrimaryContainer": {"Image": "xgb:1", "Environment": {},
        "ModelDataUrl": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}}}},
    {"Name": "Reg", "Type": "RegisterModel", "RetryPolicies": [], "Arguments": {
      "ModelPackageGroupName": "Abalone", "ModelMetrics": {},
      "InferenceSpecification": {"Containers": [{"Image": "xgb:1",
        "ModelDataUrl": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}}, {"Image": "b"}],
        "SupportedContentTypes": ["text/csv"]}}},
    {"Name": "Lin", "Type": "Lineage", "Arguments": {"Artifacts": [{"Source": {"SourceUri":
      {"Get": "Steps.Reg.ModelApprovalStatus"}}}]}},
    {"Name": "Use", "Type": "Processing", "Arguments": {"AppSpecification": {"ImageUri": "u:1",
      "ContainerArguments": [{"Get": "Steps.Make-CreateModel.PrimaryContainer.ModelDataUrl"},
        {"Get": "Steps.Reg.Properties.ModelApprovalStatus"},
        {"Get": "Steps.Reg.InferenceSpecification.Containers[0].Image"}]}}}])");
  auto got = CompileSageMakerDefinition(Definition(steps));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  Json want = Json::parse(R"([
    {"name": "make-create-model", "type": "Record", "dependsOn": ["train"],
     "values": {"image": "xgb:1", "modelDataUrl": "{{steps.train.artifacts.model.uri}}",
                "modelName": "{{execution.name}}-make-create-model"}},
    {"name": "reg", "type": "Record", "dependsOn": ["train"],
     "values": {"image": "xgb:1", "modelDataUrl": "{{steps.train.artifacts.model.uri}}",
                "modelApprovalStatus": "PendingManualApproval",
                "modelPackageGroupName": "Abalone"}},
    {"name": "lin", "type": "Record", "dependsOn": ["reg"]}])");
  Json compiled = StepsJson(*got);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(compiled[i + 1], want[i]) << i;
  EXPECT_EQ(got->steps[4].args,
            (std::vector<std::string>{"{{steps.make-create-model.outputs.modelDataUrl}}",
                                      "{{steps.reg.outputs.modelApprovalStatus}}",
                                      "{{steps.reg.outputs.image}}"}));
  EXPECT_EQ(NativeProblems(*got), std::vector<std::string>{});
  std::vector<std::string> expected = {
      "Steps[1] (Make-CreateModel).Arguments.PrimaryContainer: not used by Stepline: Environment",
      "Steps[1] (Make-CreateModel).Arguments: not used by Stepline: ExecutionRoleArn",
      "Steps[1] (Make-CreateModel): a Model step creates no SageMaker model: Stepline runs no Job "
      "for it and records the container as its outputs image, modelDataUrl, modelName; serve the "
      "model from them with your serving platform (e.g. KServe)",
      "Steps[2] (Reg).Arguments.InferenceSpecification.Containers: only the first of 2 "
      "containers is recorded",
      "Steps[2] (Reg).Arguments.InferenceSpecification: not used by Stepline: "
      "SupportedContentTypes",
      "Steps[2] (Reg).Arguments: not used by Stepline: ModelMetrics",
      "Steps[2] (Reg): a RegisterModel step registers nothing: Stepline runs no Job for it and "
      "records its outputs image, modelApprovalStatus, modelDataUrl, modelPackageGroupName; to "
      "keep a model registry, run your registry's client (e.g. MLflow) in a Processing step",
      "Steps[2] (Reg).RetryPolicies: ignored (a RegisterModel step is not retried)",
      "Steps[3] (Lin): SageMaker lineage is not tracked: Stepline runs no Job for this step, which "
      "succeeds at once; its Arguments have no effect"};
  for (const std::string& w : expected) {
    EXPECT_NE(std::find(got->warnings.begin(), got->warnings.end(), w), got->warnings.end()) << w;
  }
}

TEST(SageMakerDefinitionTest, PropertiesOfStepsThatRunNoJobAreRefusedByName) {
  struct Case {
    std::string type;
    std::string get;
    std::string want;
  };
  std::vector<Case> cases = {
      {"Model", "Steps.M.Properties.ModelArn",
       "Steps[1] (Use).Arguments.AppSpecification.ContainerArguments[0]: {\"Get\": "
       "\"Steps.M.Properties.ModelArn\"}: Stepline cannot provide this property of a Model step "
       "(it provides PrimaryContainer.Image, PrimaryContainer.ModelDataUrl, ModelName, with or "
       "without \"Properties.\" before it: a Model step creates nothing in SageMaker, so it has no "
       "ARN or other SageMaker property)"},
      {"Model", "Steps.M.ModelName", ""},  // EXECUTION-m, the record's name
      {"RegisterModel", "Steps.M.Properties.ModelPackageArn",
       "Steps[1] (Use).Arguments.AppSpecification.ContainerArguments[0]: {\"Get\": "
       "\"Steps.M.Properties.ModelPackageArn\"}: Stepline cannot provide this property of a "
       "RegisterModel step (it provides ModelPackageGroupName, ModelApprovalStatus, "
       "InferenceSpecification.Containers[0].Image, "
       "InferenceSpecification.Containers[0].ModelDataUrl, with or without \"Properties.\" before "
       "it: a RegisterModel step creates nothing in SageMaker, so it has no ARN or other "
       "SageMaker property)"},
      {"Model", "Steps.M.PrimaryContainer.Image", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.get);
    Json steps = {
        {{"Name", "M"},
         {"Type", c.type},
         {"Arguments", {{"PrimaryContainer", {{"Image", "i:1"}}}}}},
        Processing("Use", {{"ImageUri", "u:1"}, {"ContainerArguments", {{{"Get", c.get}}}}})};
    auto got = CompileSageMakerDefinition(Definition(steps));
    if (c.want.empty()) {
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      continue;
    }
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().message(), c.want);
  }
  auto got = CompileSageMakerDefinition(Definition(
      {{{"Name", "M"}, {"Type", "Model"}, {"Arguments", {{"Containers", Json::array()}}}}}));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(),
            "Steps[0] (M).Arguments.PrimaryContainer: required: Stepline records one container of "
            "a Model step (a model of several Containers is not supported: give the one to serve "
            "as PrimaryContainer)");
}

TEST(SageMakerDefinitionTest, DefinitionErrorsNameThePathAndTheProblem) {
  struct Case {
    std::string name;
    Json definition;
    std::string want;
  };
  auto with = [](const std::string& key, const Json& value) {
    Json d = Definition(Json::array({Processing("p")}));
    d[key] = value;
    return d;
  };
  auto step = [](const std::string& json) { return Definition(Json::parse(json), kParameters); };
  Json deep = Definition(Json::array({Processing("p")}));
  deep["Steps"][0]["Arguments"]["ProcessingInputs"] =
      Json::parse(std::string(5000, '[') + std::string(5000, ']'));
  std::vector<Case> cases = {
      {"hostile nesting", deep, "Steps[0] (p).Arguments: nested too deeply"},
      {"not JSON", "{x",
       "is not valid JSON: parse error at line 1, column 2: syntax error while "
       "parsing object key - invalid literal; last read: '{x'; expected string "
       "literal"},
      {"a string holding a list", "[1]", "must be a JSON object (got array)"},
      {"a number", 3, "must be a JSON object or a string holding one"},
      {"no version", Json{{"Steps", Json::array()}}, "Version: required (\"2020-12-01\")"},
      {"another version", with("Version", "2019-01-01"),
       "Version: \"2019-01-01\" is not supported: Stepline reads format version 2020-12-01"},
      {"no steps", with("Steps", Json::array()), "Steps: must be a non-empty list of steps"},
      {"a parameter type", with("Parameters", Json::parse(R"([{"Name": "p", "Type": "List"}])")),
       "Parameters[0] (p).Type: \"List\" is not a SageMaker parameter type (String, Integer, "
       "Float, Boolean)"},
      {"duplicate parameters", with("Parameters", Json::parse(R"([{"Name": "p"}, {"Name": "p"}])")),
       "Parameters[1] (p).Name: duplicate parameter name"},
      {"duplicate steps", step(R"([{"Name": "a", "Type": "Fail"}, {"Name": "a", "Type": "Fail"}])"),
       "Steps[1] (a).Name: duplicate step name (also Steps[0] (a))"},
      {"unknown DependsOn", step(R"([{"Name": "a", "Type": "Fail", "DependsOn": ["b"]}])"),
       "Steps[0] (a).DependsOn[0]: unknown step \"b\""},
      {"unknown condition type",
       step(R"([{"Name": "c", "Type": "Condition", "Arguments": {"Conditions": [
              {"Type": "Matches", "LeftValue": 1, "RightValue": 1}]}}])"),
       "Steps[0] (c).Arguments.Conditions[0].Type: \"Matches\" is not a condition type Stepline "
       "knows (Equals, GreaterThan, GreaterThanOrEqualTo, LessThan, LessThanOrEqualTo, In, Not, "
       "Or)"},
      {"a condition operand of text and a reference",
       step(R"([{"Name": "c", "Type": "Condition", "Arguments": {"Conditions": [
              {"Type": "Equals", "RightValue": 1, "LeftValue": {"Std:Join": {"Values": ["x",
               {"Get": "Parameters.Mode"}]}}}]}}])"),
       "Steps[0] (c).Arguments.Conditions[0].LeftValue: a condition compares single values, not "
       "text joined with a reference (x{{parameters.Mode}})"},
      {"a timeout from a Get that is no parameter",
       step(R"([{"Name": "p", "Type": "Processing", "Arguments": {"StoppingCondition":
              {"MaxRuntimeInSeconds": {"Get": "Execution.PipelineExecutionId"}}}}])"),
       "Steps[0] (p).Arguments.StoppingCondition.MaxRuntimeInSeconds: only a run parameter "
       "({\"Get\": \"Parameters.NAME\"}) can give this"},
      {"a timeout that is no positive integer",
       step(R"([{"Name": "p", "Type": "Processing", "Arguments": {"StoppingCondition":
              {"MaxRuntimeInSeconds": "3600"}}}])"),
       "Steps[0] (p).Arguments.StoppingCondition.MaxRuntimeInSeconds: must be a positive integer "
       "or {\"Get\": \"Parameters.NAME\"}"},
      {"an unknown exception type", step(R"([{"Name": "p", "Type": "Processing", "RetryPolicies": [
              {"ExceptionType": ["Step.OOPS"]}]}])"),
       "Steps[0] (p).RetryPolicies[0].ExceptionType[0]: \"Step.OOPS\" is not a SageMaker "
       "exception type (Step.SERVICE_FAULT, Step.THROTTLING, SageMaker.JOB_INTERNAL_ERROR, "
       "SageMaker.CAPACITY_ERROR, SageMaker.RESOURCE_LIMIT)"},
      {"MaxAttempts and ExpireAfterMin",
       step(R"([{"Name": "p", "Type": "Processing", "RetryPolicies": [{"ExceptionType":
              ["Step.SERVICE_FAULT"], "MaxAttempts": 1, "ExpireAfterMin": 1}]}])"),
       "Steps[0] (p).RetryPolicies[0]: only one of MaxAttempts and ExpireAfterMin may be given"},
      {"a Condition's Outcome",
       step(R"([{"Name": "c", "Type": "Condition", "Arguments": {"Conditions": [
              {"Type": "Equals", "LeftValue": 1, "RightValue": 1}]}},
              {"Name": "p", "Type": "Fail", "Arguments": {"ErrorMessage":
               {"Get": "Steps.c.Outcome"}}}])"),
       "Steps[1] (p).Arguments.ErrorMessage: {\"Get\": \"Steps.c.Outcome\"}: step \"c\" is a "
       "Condition step, which has no properties in Stepline"},
      {"a cycle through Condition steps", step(R"([{"Name": "c", "Type": "Condition", "Arguments": {
              "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}],
              "IfSteps": ["c", "p"]}}, {"Name": "p", "Type": "Fail"}])"),
       "Steps[0] (c): Condition steps form a cycle"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto got = CompileSageMakerDefinition(c.definition);
    ASSERT_FALSE(got.ok());
    EXPECT_TRUE(got.status().IsInvalid()) << got.status().ToString();
    EXPECT_EQ(got.status().message(), c.want);
  }
}

TEST(SageMakerDefinitionTest, CompileSnapshotRunsADefinitionAsItsSteps) {
  auto pipeline = ParsePipeline(LoadExample("ack-pipeline.yaml"));
  ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
  pipeline->spec.step_defaults = Step{};
  pipeline->spec.step_defaults->node_selector = {{"pool", "ml"}};
  PipelineExecutionSpec run;
  run.pipeline_parameters = {{"Objective", "reg:absoluteerror"}};
  auto snapshot = CompileSnapshot(*pipeline, run);
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  ASSERT_EQ(snapshot->parameters.size(), 2u);
  EXPECT_EQ(snapshot->parameters[0].value, "1000");
  EXPECT_EQ(snapshot->parameters[0].type, ParameterType::kInteger);
  EXPECT_EQ(snapshot->parameters[1].value, "reg:absoluteerror");
  ASSERT_EQ(snapshot->steps.size(), 2u);
  EXPECT_EQ(snapshot->steps[1].name, "abalone-train");
  EXPECT_EQ(snapshot->steps[1].type, StepType::kContainer);
  EXPECT_EQ(snapshot->steps[1].node_selector, (StringMap{{"pool", "ml"}}));
  EXPECT_EQ(snapshot->max_parallel_execution_steps, 2);

  pipeline->spec.pipeline_definition = Definition(Json::parse(R"([{"Name": "X", "Type": "EMR"}])"));
  auto invalid = CompileSnapshot(*pipeline, run);
  ASSERT_FALSE(invalid.ok());
  EXPECT_TRUE(invalid.status().IsInvalid());
  EXPECT_EQ(invalid.status().message(),
            "spec.pipelineDefinition: Steps[0] (X).Type: step type \"EMR\" is not supported "
            "by Stepline (supported: Processing, Training, Condition, Fail, Callback, Model, "
            "RegisterModel, Lineage, Transform, Lambda): submit the job to your Spark cluster "
            "from a Processing step (spark-submit)");
}

TEST(SageMakerDefinitionTest, ATimeoutFromAParameterIsAppliedPerExecution) {
  Pipeline p;
  p.metadata.name = "p";
  p.spec.step_defaults = Step{};
  p.spec.step_defaults->image = "registry.example/default:1";
  p.spec.pipeline_definition = Definition(Json::parse(R"([{"Name": "Train", "Type": "Training",
      "Arguments": {"StoppingCondition": {"MaxRuntimeInSeconds": {"Get": "Parameters.Rows"}}}}])"),
                                          kParameters);
  EXPECT_TRUE(ValidatePipeline(p, PodPolicy{}).ok());
  struct Case {
    std::string name;
    std::vector<PipelineParameter> given;
    std::optional<int64_t> want;  // nullopt: refused
  };
  std::vector<Case> cases = {
      {"the default", {{"Bucket", "b"}}, 1000},
      {"the execution's value", {{"Bucket", "b"}, {"Rows", "30"}}, 30},
      {"zero", {{"Bucket", "b"}, {"Rows", "0"}}, std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    PipelineExecutionSpec run;
    run.pipeline_parameters = c.given;
    auto snapshot = CompileSnapshot(p, run);
    if (!c.want) {
      ASSERT_FALSE(snapshot.ok());
      EXPECT_EQ(snapshot.status().code(), k8s::StatusCode::kInvalidArgument);
      EXPECT_EQ(snapshot.status().message(),
                "parameter \"Rows\": \"0\" is not a positive number of seconds (it is Steps[0] "
                "(Train).Arguments.StoppingCondition.MaxRuntimeInSeconds)");
      continue;
    }
    ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
    EXPECT_EQ(snapshot->steps.at(0).timeout_seconds, c.want);
  }
}

TEST(SageMakerDefinitionTest, OnlyConditionStepsCompileToAnExecutionWithNothingToRun) {
  Pipeline p;
  p.metadata.name = "p";
  p.spec.pipeline_definition = Definition(Json::parse(R"([{"Name": "c", "Type": "Condition",
      "Arguments": {"Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}],
      "IfSteps": [], "ElseSteps": []}}])"));
  auto compiled = CompileSageMakerDefinition(p.spec.pipeline_definition);
  ASSERT_TRUE(compiled.ok()) << compiled.status().ToString();
  EXPECT_TRUE(compiled->steps.empty());
  EXPECT_EQ(compiled->warnings,
            std::vector<std::string>{"Steps: only Condition steps, whose branches hold no step: an "
                                     "execution has nothing to run and succeeds at once (as in "
                                     "SageMaker)"});
  k8s::Status valid = ValidatePipeline(p, PodPolicy{});
  EXPECT_TRUE(valid.ok()) << valid.ToString();
  auto snapshot = CompileSnapshot(p, PipelineExecutionSpec{});
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  EXPECT_TRUE(snapshot->steps.empty());
  p.spec.pipeline_definition = nullptr;  // native steps still need one
  EXPECT_EQ(ValidatePipeline(p, PodPolicy{}).message(),
            "spec.steps: at least one step is required");
}

TEST(SageMakerDefinitionTest, InstanceTypesBecomeResourceRequestsAndLimits) {
  struct Case {
    std::string name;
    std::string config;  // the Training step's ResourceConfig
    std::string want;    // the step's resources, or the error
    bool ok = true;
  };
  const std::string at = "Steps[0] (Train).Arguments.ResourceConfig.";
  std::vector<Case> cases = {
      {"a GPU type", R"({"InstanceType": "ml.p3.2xlarge", "InstanceCount": 1})",
       R"({"requests": {"cpu": "8", "memory": "61Gi", "nvidia.com/gpu": "1"},
           "limits": {"memory": "61Gi", "nvidia.com/gpu": "1"}})"},
      {"four GPUs", R"({"InstanceType": "ml.g5.12xlarge"})",
       R"({"requests": {"cpu": "48", "memory": "192Gi", "nvidia.com/gpu": "4"},
           "limits": {"memory": "192Gi", "nvidia.com/gpu": "4"}})"},
      {"memory that is no whole GiB", R"({"InstanceType": "ml.c4.xlarge"})",
       R"({"requests": {"cpu": "4", "memory": "7680Mi"}, "limits": {"memory": "7680Mi"}})"},
      {"an unknown type", R"({"InstanceType": "ml.z9.huge"})",
       at + "InstanceType: \"ml.z9.huge\" is not an instance type Stepline knows (the families",
       false},
      {"several instances", R"({"InstanceType": "ml.m5.large", "InstanceCount": 2})",
       at + "InstanceCount: 2 is not 1: Stepline runs a step as one pod", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Json steps = Json::array({{{"Name", "Train"},
                               {"Type", "Training"},
                               {"Arguments", {{"ResourceConfig", Json::parse(c.config)}}}}});
    auto got = CompileSageMakerDefinition(Definition(steps));
    if (!c.ok) {
      ASSERT_FALSE(got.ok());
      EXPECT_EQ(got.status().message().rfind(c.want, 0), 0u) << got.status().message();
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(ToJson(got->steps.at(0))["resources"], Json::parse(c.want));
  }
}

TEST(SageMakerDefinitionTest, AnInstanceTypeFromAParameterIsCheckedWhenAppliedAndAtEachRun) {
  Pipeline p;
  p.metadata.name = "p";
  p.spec.step_defaults = Step{};
  p.spec.step_defaults->image = "registry.example/default:1";
  Json parameters = Json::parse(R"([{"Name": "Type", "DefaultValue": "ml.g4dn.xlarge"},
                                    {"Name": "Count", "Type": "Integer", "DefaultValue": 1}])");
  Json steps = Json::parse(R"([{"Name": "Prep", "Type": "Processing", "Arguments": {
      "ProcessingResources": {"ClusterConfig": {"InstanceType": {"Get": "Parameters.Type"},
                                                "InstanceCount": {"Get": "Parameters.Count"}}}}}])");
  p.spec.pipeline_definition = Definition(steps, parameters);
  EXPECT_TRUE(ValidatePipeline(p, PodPolicy{}).ok());
  auto run = [&](std::vector<PipelineParameter> given) {
    PipelineExecutionSpec spec;
    spec.pipeline_parameters = std::move(given);
    return CompileSnapshot(p, spec);
  };
  auto defaults = run({});
  ASSERT_TRUE(defaults.ok()) << defaults.status().ToString();
  EXPECT_EQ(defaults->steps.at(0).resources->requests.at("nvidia.com/gpu"), "1");
  auto small = run({{"Type", "ml.m5.large"}});
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ(small->steps.at(0).resources->requests, (StringMap{{"cpu", "2"}, {"memory", "8Gi"}}));
  auto unknown = run({{"Type", "ml.nope"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), k8s::StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.status().message().rfind("parameter \"Type\": \"ml.nope\" is not an instance "
                                             "type Stepline knows",
                                             0),
            0u)
      << unknown.status().message();
  auto several = run({{"Count", "3"}});
  ASSERT_FALSE(several.ok());
  EXPECT_NE(several.status().message().find("\"3\" is not 1"), std::string::npos);

  p.spec.pipeline_definition["Parameters"][0]["DefaultValue"] = "ml.nope";
  k8s::Status valid = ValidatePipeline(p, PodPolicy{});
  ASSERT_FALSE(valid.ok());
  EXPECT_EQ(valid.message().rfind("spec.pipelineDefinition: the default of parameter \"Type\": "
                                  "\"ml.nope\" is not an instance type",
                                  0),
            0u)
      << valid.message();
}

TEST(SageMakerDefinitionTest, PropertyFilesArePublishedAsOutputsThatJsonGetReads) {
  Json steps = Json::parse(R"([
    {"Name": "Eval", "Type": "Processing", "Arguments": {
      "AppSpecification": {"ImageUri": "sk:1", "ContainerEntrypoint": ["python3", "eval.py"],
                           "ContainerArguments": ["--fast"]},
      "ProcessingOutputConfig": {"Outputs": [{"OutputName": "evaluation",
        "S3Output": {"S3Uri": "s3://bkt/e", "LocalPath": "/opt/ml/processing/evaluation"}}]}},
     "PropertyFiles": [{"PropertyFileName": "EvaluationReport", "OutputName": "evaluation",
                        "FilePath": "evaluation.json"}]},
    {"Name": "Check", "Type": "Condition", "Arguments": {
      "Conditions": [{"Type": "LessThanOrEqualTo", "LeftValue": {"Std:JsonGet": {
          "PropertyFile": {"Get": "Steps.Eval.PropertyFiles.EvaluationReport"},
          "Path": "regression_metrics.mse.value"}}, "RightValue": 6.0}],
      "IfSteps": [{"Name": "Fine", "Type": "Fail", "Arguments": {"ErrorMessage": {"Std:JsonGet": {
          "PropertyFile": {"Get": "Steps.Eval.PropertyFiles.EvaluationReport"},
          "Path": "metrics[0].name"}}}}]}}])");
  auto got = CompileSageMakerDefinition(Definition(steps));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->steps.size(), 2u);
  const Step& eval = got->steps[0];
  EXPECT_EQ(eval.command,
            (std::vector<std::string>{
                "sh", "-c",
                "\"$@\"; rc=$?; if [ $rc -eq 0 ]; then { printf '{'; printf '\"%s\": ' "
                "'EvaluationReport'; if [ -f '/opt/ml/processing/evaluation/evaluation.json' ]; "
                "then cat '/opt/ml/processing/evaluation/evaluation.json'; else printf null; fi; "
                "printf '}'; } >/dev/termination-log; fi; exit $rc",
                "sh", "python3", "eval.py"}));
  EXPECT_EQ(eval.args, std::vector<std::string>{"--fast"});
  const Step& fine = got->steps[1];
  EXPECT_EQ(fine.when,
            "{{steps.eval.outputs.EvaluationReport.regression_metrics.mse.value}} <= 6.0");
  EXPECT_EQ(fine.message, "{{steps.eval.outputs.EvaluationReport.metrics.0.name}}");
  EXPECT_EQ(fine.depends_on, std::vector<std::string>{"eval"});
  EXPECT_EQ(NativeProblems(*got), std::vector<std::string>{});

  // What the planner does with the published file: the reference reads inside it.
  TemplateValues values;
  values.steps["eval"] = {
      "Succeeded",
      {{"EvaluationReport",
        R"({"regression_metrics":{"mse":{"value":4.6}},"metrics":[{"name":"mse"}]})"}}};
  EXPECT_EQ(RenderTemplate(fine.message, values).value(), "mse");
  auto when = ParseExpression(fine.when);
  ASSERT_TRUE(when.ok()) << when.status().ToString();
  EXPECT_TRUE(Evaluate(*when, values).value());

  steps[0]["Arguments"]["AppSpecification"].erase("ContainerEntrypoint");
  got = CompileSageMakerDefinition(Definition(steps));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->steps[0].command.empty());
  EXPECT_NE(std::find(got->warnings.begin(), got->warnings.end(),
                      "Steps[0] (Eval).PropertyFiles: not published without "
                      "AppSpecification.ContainerEntrypoint (Stepline wraps it to publish them); a "
                      "Std:JsonGet of them fails its step"),
            got->warnings.end());
}

}  // namespace
}  // namespace stepline::reconcilers
