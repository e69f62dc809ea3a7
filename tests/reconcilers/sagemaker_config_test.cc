// The configuration files SageMaker writes into a job's container (hyperparameters.json,
// resourceconfig.json, inputdataconfig.json; processingjobconfig.json) as raw input artifacts,
// and raw artifacts themselves: parsed, validated, rendered per execution and written by an init
// container of the step's Job.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "planner_test_util.h"
#include "reconcilers/artifact_staging.h"
#include "reconcilers/validation.h"

namespace stepline::reconcilers::testing {
namespace {

using ::testing::HasSubstr;

// A Pipeline spec of one SageMaker step, with these parameters.
Object DefinitionSpec(const Json& step, const Json& parameters) {
  return {{"pipelineDefinition",
           {{"Version", "2020-12-01"}, {"Parameters", parameters}, {"Steps", {step}}}},
          {"stepDefaults", {{"image", "busybox"}}}};
}

// What Kubernetes gives the process for an env value: "$$" is "$".
std::string Unescaped(const std::string& value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    out += value[i];
    if (value[i] == '$' && i + 1 < value.size() && value[i + 1] == '$') ++i;
  }
  return out;
}

// The files the Job's init containers write, by the path the step's container mounts them at.
std::map<std::string, std::string> WrittenFiles(const Object& job) {
  const Object& spec = job["spec"]["template"]["spec"];
  std::map<std::string, std::string> by_sub_path;  // in/<i> -> text
  for (const Object& c : spec["initContainers"]) {
    const auto& command = c["command"];
    if (command.size() < 3 || command[1] != "write") continue;
    const std::string dest = command[2].get<std::string>();
    by_sub_path[dest.substr(std::string(kArtifactMountPath).size() + 1)] =
        Unescaped(c["env"][0]["value"].get<std::string>());
    EXPECT_EQ(c["env"][0]["name"], kRawArtifactDataEnv);
    EXPECT_EQ(c["image"], ArtifactStagingOptions{}.image);
  }
  std::map<std::string, std::string> out;
  for (const Object& m : spec["containers"][0].value("volumeMounts", Object::array())) {
    auto it = by_sub_path.find(m.value("subPath", ""));
    if (it != by_sub_path.end()) out[m["mountPath"].get<std::string>()] = it->second;
  }
  return out;
}

const Json kTraining = Json::parse(R"({"Name": "Train", "Type": "Training", "Arguments": {
  "AlgorithmSpecification": {"TrainingImage": "xgb:1", "TrainingInputMode": "File"},
  "HyperParameters": {"max_depth": {"Get": "Parameters.Depth"}, "num_round": 10,
                      "objective": "reg:squarederror"},
  "ResourceConfig": {"InstanceType": {"Get": "Parameters.Type"}, "InstanceCount": 1},
  "InputDataConfig": [
    {"ChannelName": "train", "ContentType": "text/csv", "DataSource": {"S3DataSource": {
      "S3DataType": "S3Prefix", "S3Uri": "s3://data/train/"}}},
    {"ChannelName": "validation", "RecordWrapperType": "RecordIO", "DataSource": {
      "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://data/validation/",
                       "S3DataDistributionType": "ShardedByS3Key"}}}]}})");

const Json kTrainingParameters = Json::parse(R"([
  {"Name": "Depth", "Type": "String", "DefaultValue": "5"},
  {"Name": "Type", "Type": "String", "DefaultValue": "ml.m5.xlarge"}])");

TEST(SageMakerConfigFilesTest, TrainingFilesAreWrittenWithThisRunsValues) {
  // A value with a quote and a $(VAR): still one JSON string, never expanded by Kubernetes.
  FakeRun run(DefinitionSpec(kTraining, kTrainingParameters),
              {{"pipelineParameters",
                {{{"name", "Depth"}, {"value", "7\"$(HOME)"}},
                 {{"name", "Type"}, {"value", "ml.c5.xlarge"}}}}});
  run.Plan();
  ASSERT_EQ(run.JobNames(), std::vector<std::string>{"run-train-1"});
  auto files = WrittenFiles(*run.Job("run-train-1"));
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(Json::parse(files["/opt/ml/input/config/hyperparameters.json"]),
            Json::parse(R"js({"max_depth": "7\"$(HOME)", "num_round": "10",
                              "objective": "reg:squarederror"})js"));
  EXPECT_EQ(Json::parse(files["/opt/ml/input/config/resourceconfig.json"]),
            Json::parse(R"({"current_host": "algo-1", "hosts": ["algo-1"],
              "network_interface_name": "eth0", "current_group_name": "homogeneousCluster",
              "current_instance_type": "ml.c5.xlarge", "instance_groups": [
                {"instance_group_name": "homogeneousCluster", "instance_type": "ml.c5.xlarge",
                 "hosts": ["algo-1"]}]})"));
  // The data is staged as files, fully: File and FullyReplicated whatever was asked.
  EXPECT_EQ(Json::parse(files["/opt/ml/input/config/inputdataconfig.json"]), Json::parse(R"({
    "train": {"ContentType": "text/csv", "TrainingInputMode": "File",
              "S3DistributionType": "FullyReplicated", "RecordWrapperType": "None"},
    "validation": {"TrainingInputMode": "File", "S3DistributionType": "FullyReplicated",
                   "RecordWrapperType": "RecordIO"}})"));
  // The channels are still downloaded beside them.
  const Object& spec = (*run.Job("run-train-1"))["spec"]["template"]["spec"];
  EXPECT_EQ(spec["initContainers"].size(), 5u);
  EXPECT_EQ(spec["initContainers"][0]["command"][1], "download");
}

TEST(SageMakerConfigFilesTest, TheDefaultsOfTheParametersFillThemWhenTheRunGivesNone) {
  FakeRun run(DefinitionSpec(kTraining, kTrainingParameters));
  run.Plan();
  auto files = WrittenFiles(*run.Job("run-train-1"));
  EXPECT_EQ(Json::parse(files["/opt/ml/input/config/hyperparameters.json"])["max_depth"], "5");
  EXPECT_EQ(Json::parse(files["/opt/ml/input/config/resourceconfig.json"])["current_instance_type"],
            "ml.m5.xlarge");
}

TEST(SageMakerConfigFilesTest, ProcessingGetsItsJobConfigAndResourceConfig) {
  Json step = Json::parse(R"({"Name": "Prep", "Type": "Processing", "Arguments": {
    "AppSpecification": {"ImageUri": "img:1", "ContainerEntrypoint": ["python", "p.py"]},
    "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large",
                                              "InstanceCount": 1, "VolumeSizeInGB": 30}},
    "Environment": {"MODE": {"Get": "Parameters.Mode"}},
    "StoppingCondition": {"MaxRuntimeInSeconds": 60, "Note": "{{x}}"},
    "ProcessingInputs": [{"InputName": "code", "S3Input": {"S3Uri": "s3://data/code/p.py",
      "LocalPath": "/opt/ml/processing/input/code"}}],
    "NetworkConfig": {"EnableNetworkIsolation": true},
    "RoleArn": "arn:aws:iam::1:role/r"}})");
  FakeRun run(DefinitionSpec(step, Json::parse(R"([{"Name": "Mode", "DefaultValue": "full"}])")),
              {{"pipelineParameters", {{{"name", "Mode"}, {"value", "quick"}}}}});
  run.Plan();
  auto files = WrittenFiles(*run.Job("run-prep-1"));
  ASSERT_EQ(files.size(), 2u);
  Json job = Json::parse(files["/opt/ml/config/processingjobconfig.json"]);
  EXPECT_EQ(job["ProcessingJobName"], "run-prep");
  EXPECT_EQ(job["Environment"], Json::parse(R"({"MODE": "quick"})"));
  EXPECT_EQ(job["ProcessingResources"]["ClusterConfig"]["VolumeSizeInGB"], 30);
  EXPECT_EQ(job["ProcessingInputs"][0]["S3Input"]["S3Uri"], "s3://data/code/p.py");
  EXPECT_EQ(job["RoleArn"], "arn:aws:iam::1:role/r");
  // Stepline's template syntax in a literal is left out rather than read as a reference.
  EXPECT_EQ(job["StoppingCondition"], Json::parse(R"({"MaxRuntimeInSeconds": 60, "Note": null})"));
  EXPECT_FALSE(job.contains("NetworkConfig"));  // not compiled: only a warning says so
  EXPECT_EQ(Json::parse(files["/opt/ml/config/resourceconfig.json"])["current_instance_type"],
            "ml.m5.large");
}

// A native step with raw inputs: JSON rendered string by string, other text as it is.
Object RawStep(Object inputs) {
  return Steps({S("a", {{"inputs", {{"artifacts", std::move(inputs)}}}})},
               {{"parameters", {{{"name", "who"}, {"default", "a \"b\" $(c)"}}}}});
}

TEST(SageMakerConfigFilesTest, RawArtifactsAreRenderedAndWrittenBeforeTheStepStarts) {
  FakeRun run(RawStep({{{"name", "cfg"},
                        {"path", "/etc/app/cfg.json"},
                        {"raw", {{"data", R"({"who": "{{parameters.who}}", "n": [1]})"}}}},
                       {{"name", "txt"},
                        {"path", "/etc/app/hello.txt"},
                        {"raw", {{"data", "hello {{parameters.who}}\n"}}}}}));
  run.Plan();
  auto files = WrittenFiles(*run.Job("run-a-1"));
  EXPECT_EQ(files["/etc/app/cfg.json"], R"js({"n":[1],"who":"a \"b\" $(c)"})js");
  EXPECT_EQ(files["/etc/app/hello.txt"], "hello a \"b\" $(c)\n");
}

// A Pipeline "p" of this one step, parsed.
k8s::Result<Pipeline> PipelineOf(const Object& step) {
  return ParsePipeline({{"apiVersion", kApiVersion},
                        {"kind", "Pipeline"},
                        {"metadata", {{"name", "p"}}},
                        {"spec", Steps({step})}});
}

TEST(SageMakerConfigFilesTest, RawArtifactsAreCheckedNamingTheField) {
  struct Case {
    std::string name;
    Object step;
    std::string want;
  };
  std::vector<Case> cases = {
      {"raw and s3",
       S("a", {{"inputs",
                {{"artifacts",
                  {{{"name", "x"},
                    {"path", "/in/x"},
                    {"s3", "s3://b/k"},
                    {"raw", {{"data", "t"}}}}}}}}}),
       "spec.steps[0] (a).inputs.artifacts[0]: give exactly one of s3"},
      {"a directory",
       S("a", {{"inputs",
                {{"artifacts", {{{"name", "x"}, {"path", "/in/"}, {"raw", {{"data", "t"}}}}}}}}}),
       "spec.steps[0] (a).inputs.artifacts[0].path: a raw artifact is a file"},
      {"an unknown reference",
       S("a",
         {{"inputs",
           {{"artifacts",
             {{{"name", "x"}, {"path", "/in/x"}, {"raw", {{"data", "{{parameters.nope}}"}}}}}}}}}),
       "spec.steps[0] (a).inputs.artifacts[0].raw.data: "},
      {"too long",
       S("a", {{"inputs",
                {{"artifacts",
                  {{{"name", "x"},
                    {"path", "/in/x"},
                    {"raw", {{"data", std::string(65537, 'x')}}}}}}}}}),
       "spec.steps[0] (a).inputs.artifacts[0].raw.data: longer than 65536 bytes"},
      {"an output",
       S("a", {{"outputs",
                {{"artifacts", {{{"name", "x"}, {"path", "/out/x"}, {"raw", {{"data", "t"}}}}}}}}}),
       "spec.steps[0] (a).outputs.artifacts[0].raw: only input artifacts take raw"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto pipeline = PipelineOf(c.step);
    ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
    std::vector<std::string> problems = PipelineProblems(*pipeline);
    ASSERT_EQ(problems.size(), 1u) << ::testing::PrintToString(problems);
    EXPECT_THAT(problems[0], HasSubstr(c.want));
  }
}

TEST(SageMakerConfigFilesTest, RawKeepsItsFormThroughTheApiJson) {
  auto pipeline = PipelineOf(
      S("a", {{"inputs",
               {{"artifacts", {{{"name", "x"}, {"path", "/in/x"}, {"raw", {{"data", ""}}}}}}}}}));
  ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
  ASSERT_EQ(pipeline->spec.steps[0].input_artifacts.size(), 1u);
  EXPECT_EQ(pipeline->spec.steps[0].input_artifacts[0].raw, std::optional<std::string>(""));
  EXPECT_EQ(ToJson(pipeline->spec.steps[0])["inputs"]["artifacts"][0]["raw"],
            Json::parse(R"({"data": ""})"));
  auto bad = PipelineOf(
      S("a", {{"inputs",
               {{"artifacts", {{{"name", "x"}, {"path", "/in/x"}, {"raw", {{"text", "t"}}}}}}}}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("raw"));
}

}  // namespace
}  // namespace stepline::reconcilers::testing
