// SageMaker Transform steps: compiled from a definition into a step whose container is the Model
// step's model server and whose TransformSpec drives `stepline-artifacts transform`
// (sagemaker_transform.cc), the pod built for it (transform_job.h), the errors that name the
// step, the JSON path and what to do, and validation of the compiled and of native steps.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reconcilers/job_builder.h"
#include "reconcilers/sagemaker_definition.h"
#include "reconcilers/transform_job.h"
#include "reconcilers/validation.h"

namespace stepline::reconcilers {
namespace {

Json Definition(const Json& steps) {
  return {
      {"Version", "2020-12-01"},
      {"Parameters", Json::parse(R"([{"Name": "BatchData", "DefaultValue": "s3://bkt/batch"}])")},
      {"Steps", steps}};
}

// Train -> Model -> Transform, as the SDK writes them (abalone's batch transform example).
Json Steps(const Json& transform_args) {
  Json steps = Json::parse(R"([
    {"Name": "Train", "Type": "Training", "Arguments": {
      "AlgorithmSpecification": {"TrainingImage": "xgb:1"},
      "OutputDataConfig": {"S3OutputPath": "s3://bkt/models"}}},
    {"Name": "Make-CreateModel", "Type": "Model", "Arguments": {
      "ExecutionRoleArn": "arn:role",
      "PrimaryContainer": {"Image": "xgb-serve:1",
        "Environment": {"SAGEMAKER_PROGRAM": "inference.py", "LEVEL": "model"},
        "ModelDataUrl": {"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}}}}])");
  steps.push_back({{"Name", "Score"}, {"Type", "Transform"}, {"Arguments", transform_args}});
  return steps;
}

Json Args(const std::string& extra = "") {
  return Json::parse(R"({
    "ModelName": {"Get": "Steps.Make-CreateModel.ModelName"},
    "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                         "S3Uri": {"Get": "Parameters.BatchData"}}},
                       "ContentType": "text/csv", "SplitType": "Line"},
    "TransformOutput": {"S3OutputPath": "s3://bkt/scores/", "Accept": "text/csv",
                        "AssembleWith": "Line"},
    "TransformResources": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge"})" +
                     extra + "}");
}

const Step& Last(const CompiledDefinition& d) { return d.steps.back(); }

TEST(SageMakerTransformTest, ModelThenTransformCompilesToAModelServerAndTheClientsSpec) {
  auto got = CompileSageMakerDefinition(Definition(Steps(Args(R"(,
    "BatchStrategy": "MultiRecord", "MaxPayloadInMB": 2,
    "ModelClientConfig": {"InvocationsTimeoutInSeconds": 30, "InvocationsMaxRetries": 1},
    "Environment": {"LEVEL": "job"})"))));
  ASSERT_TRUE(got.ok()) << got.status().message();
  Json step = ToJson(Last(*got));  // LEVEL: the Model's value replaced by the Transform's
  step.erase("resources");         // the instance table's, sagemaker_instances_test
  EXPECT_EQ(step, Json::parse(R"({
    "name": "score",
    "dependsOn": ["make-create-model"],
    "image": "xgb-serve:1",
    "args": ["serve"],
    "env": [{"name": "LEVEL", "value": "job"},
            {"name": "SAGEMAKER_PROGRAM", "value": "inference.py"}],
    "inputs": {"artifacts": [
      {"name": "model", "path": "/opt/ml/model/",
       "s3": "{{steps.make-create-model.outputs.modelDataUrl}}", "archive": "tgz"},
      {"name": "input", "path": "/opt/ml/transform/input/", "s3": "{{parameters.BatchData}}"}]},
    "outputs": {"artifacts": [
      {"name": "output", "path": "/opt/ml/transform/output/", "s3": "s3://bkt/scores"}]},
    "transform": {"contentType": "text/csv", "splitType": "Line",
                  "batchStrategy": "MultiRecord", "maxPayloadInMB": 2, "accept": "text/csv",
                  "assembleWith": "Line", "invocationsTimeoutInSeconds": 30,
                  "invocationsMaxRetries": 1}})"))
      << step.dump(2);
  EXPECT_EQ(Last(*got).resources->requests.at("cpu"), "4");  // ml.m5.xlarge
  for (const std::string& w : got->warnings) {  // the Model's Environment is the server's
    EXPECT_EQ(w.find("Environment"), std::string::npos) << w;
  }
  // The compiled steps are a valid Pipeline, and the JSON form reads back the same.
  Pipeline p;
  p.metadata.name = "p";
  p.spec.pipeline_definition = Definition(Steps(Args()));
  EXPECT_EQ(PipelineProblems(p), std::vector<std::string>{});
  auto back = ParseStep(ToJson(Last(*got)), "step");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(ToJson(*back), ToJson(Last(*got)));
}

TEST(SageMakerTransformTest, ThePodRunsTheModelServerAsASidecarBesideTheClient) {
  auto got = CompileSageMakerDefinition(Definition(Steps(Args())));
  ASSERT_TRUE(got.ok()) << got.status().message();
  Snapshot snapshot;
  StagedArtifacts staged;
  staged.inputs = {
      {"model", "/opt/ml/model/", "s3://bkt/models/run-train/output/model.tar.gz", "tgz"},
      {"input", "/opt/ml/transform/input/", "s3://bkt/batch"}};
  staged.outputs = {{"output", "/opt/ml/transform/output/", "s3://bkt/scores"}};
  staged.options.image = "stepline/controller:test";
  JobInput in;
  in.execution_name = "run";
  in.execution_namespace = "ml";
  in.snapshot = &snapshot;
  in.step = &Last(*got);
  in.artifacts = &staged;
  const Json job = BuildStepJob(in);
  const Json& spec = job["spec"]["template"]["spec"];
  ASSERT_EQ(spec["initContainers"].size(), 4u) << spec.dump(2);
  const Json& model = spec["initContainers"][0];
  EXPECT_EQ(model["name"], "artifact-in-0");
  EXPECT_EQ(model["command"][3], "/stepline/artifacts/in/0/");
  EXPECT_EQ(model["command"][4], "--tar-gz");  // model.tar.gz unpacked into /opt/ml/model
  EXPECT_EQ(spec["initContainers"][2]["name"], "artifact-out-0");
  const Json& server = spec["initContainers"][3];
  EXPECT_EQ(server["name"], kModelServerContainer);
  EXPECT_EQ(server["restartPolicy"], "Always");
  EXPECT_EQ(server["image"], "xgb-serve:1");
  EXPECT_EQ(server["args"], Json::parse(R"(["serve"])"));
  EXPECT_FALSE(server.contains("command"));  // the image's entrypoint, as SageMaker runs it
  EXPECT_EQ(server["ports"], Json::parse(R"([{"name": "http", "containerPort": 8080}])"));
  EXPECT_EQ(server["resources"]["requests"]["cpu"], "4");
  ASSERT_EQ(spec["containers"].size(), 1u);
  const Json& client = spec["containers"][0];
  EXPECT_EQ(client["name"], "step");
  EXPECT_EQ(client["image"], "stepline/controller:test");
  EXPECT_EQ(client["command"],
            Json(std::vector<std::string>{
                "stepline-artifacts", "transform", "--input", "/opt/ml/transform/input/",
                "--output", "/opt/ml/transform/output/", "--server", "http://127.0.0.1:8080",
                "--content-type", "text/csv", "--accept", "text/csv", "--split-type", "Line",
                "--assemble-with", "Line", "--error-file", "/dev/termination-log"}));
  EXPECT_EQ(client["volumeMounts"], server["volumeMounts"]);
  std::vector<std::string> mounts;
  for (const Json& m : client["volumeMounts"]) mounts.push_back(m["mountPath"]);
  EXPECT_EQ(mounts, (std::vector<std::string>{"/opt/ml/model", "/opt/ml/transform/input",
                                              "/opt/ml/transform/output"}));
}

TEST(SageMakerTransformTest, BindToPortMovesTheServerAndMaxConcurrencyIsAWarning) {
  Json steps = Steps(Args(R"(, "MaxConcurrentTransforms": 4, "DataCaptureConfig": {},
    "DataProcessing": {"InputFilter": "$", "JoinSource": "None"})"));
  steps[1]["Arguments"]["PrimaryContainer"]["Environment"]["SAGEMAKER_BIND_TO_PORT"] = "18080";
  auto got = CompileSageMakerDefinition(Definition(steps));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(Last(*got).transform->port, 18080);
  EXPECT_EQ(TransformCommand(Last(*got))[7], "http://127.0.0.1:18080");
  std::vector<std::string> mine;
  for (const std::string& w : got->warnings) {
    if (w.starts_with("Steps[2] (Score).Arguments")) mine.push_back(w);
  }
  EXPECT_EQ(mine, (std::vector<std::string>{
                      "Steps[2] (Score).Arguments.MaxConcurrentTransforms: Stepline sends one "
                      "request at a time (as MaxConcurrentTransforms 1)",
                      "Steps[2] (Score).Arguments: not used by Stepline: DataCaptureConfig"}));
}

TEST(SageMakerTransformTest, ALaterStepReadsTheOutputPath) {
  Json steps = Steps(Args());
  steps.push_back(Json::parse(R"({"Name": "Report", "Type": "Processing", "Arguments": {
    "AppSpecification": {"ImageUri": "r:1",
      "ContainerArguments": [{"Get": "Steps.Score.TransformOutput.S3OutputPath"}]}}})"));
  auto got = CompileSageMakerDefinition(Definition(steps));
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(Last(*got).args, std::vector<std::string>{"{{steps.score.artifacts.output.uri}}"});
  EXPECT_EQ(Last(*got).depends_on, std::vector<std::string>{"score"});
}

TEST(SageMakerTransformTest, ErrorsNameTheStepTheFieldAndWhatToDo) {
  const std::string at = "Steps[2] (Score).Arguments.";
  const std::string advice =
      "a Transform step runs the model of a Model step of the same definition: give {\"Get\": "
      "\"Steps.MODEL.ModelName\"}, MODEL a Model step with PrimaryContainer.Image and "
      "ModelDataUrl";
  struct Case {
    std::string edit;  // a JSON merge patch of the Transform's Arguments
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"({"ModelName": "my-registered-model"})",
       at +
           "ModelName: \"my-registered-model\" is a model that no step of this definition "
           "creates, which Stepline cannot find (it reads no SageMaker model registry): " +
           advice},
      {R"({"ModelName": {"Get": "Steps.Train.ModelName"}})",
       at + "ModelName: reads step \"Train\", a Training step, not a Model step: " + advice},
      {R"({"ModelName": {"Get": "Parameters.BatchData"}})",
       at + "ModelName: an object is not a Model step's ModelName: " + advice},
      {R"({"ModelName": null})", at + "ModelName: required: " + advice},
      {R"({"TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "ManifestFile"}}}})",
       at + "TransformInput.DataSource.S3DataSource.S3DataType: only S3Prefix is supported by "
            "Stepline (a manifest of objects is not): list the objects under one prefix"},
      {R"({"TransformInput": {"SplitType": "Paragraph"}})",
       at + "TransformInput.SplitType: \"Paragraph\" is not supported by Stepline (None, Line, "
            "RecordIO, TFRecord)"},
      {R"({"TransformInput": {"CompressionType": "Gzip"}})",
       at + "TransformInput.CompressionType: compressed input is not supported by Stepline: "
            "store it uncompressed"},
      {R"({"TransformOutput": {"S3OutputPath": null}})",
       at + "TransformOutput.S3OutputPath: required"},
      {R"({"DataProcessing": {"InputFilter": "$[1:]"}})",
       at + "DataProcessing.InputFilter: \"$[1:]\" is not supported by Stepline (input and "
            "output filters and joins are not applied): filter or join the data in a "
            "Processing step"},
      {R"({"MaxPayloadInMB": 0})",
       at + "MaxPayloadInMB: 0 (no limit) needs TransformInput.SplitType None: records are "
            "batched up to the limit"},
      {R"({"MaxPayloadInMB": 101})", at + "MaxPayloadInMB: 101 must be an integer from 0 to 100"},
      {R"({"TransformResources": {"InstanceCount": 2}})",
       at + "TransformResources.InstanceCount: 2 is not 1: Stepline runs a step as one pod "
            "(SageMaker's processing and training across several instances is not supported; "
            "use 1)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.edit);
    Json args = Args();
    args.merge_patch(Json::parse(c.edit));
    auto got = CompileSageMakerDefinition(Definition(Steps(args)));
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().message(), c.message);
  }
  Json no_image = Steps(Args());
  no_image[1]["Arguments"]["PrimaryContainer"].erase("Image");
  auto got = CompileSageMakerDefinition(Definition(no_image));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(),
            "Steps[1] (Make-CreateModel).Arguments.PrimaryContainer.Image: required: the "
            "Transform step \"Score\" runs this image");
}

TEST(SageMakerTransformTest, ANativeStepCannotSetTransform) {
  Pipeline p;
  p.metadata.name = "p";
  Step s;
  s.name = "score";
  s.image = "x:1";
  s.transform.emplace();
  p.spec.steps = {s};
  EXPECT_EQ(PipelineProblems(p),
            std::vector<std::string>{
                "spec.steps[0] (score).transform: set only by a SageMaker definition's Transform "
                "step (spec.pipelineDefinition)"});
}

}  // namespace
}  // namespace stepline::reconcilers
