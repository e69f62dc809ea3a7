// Artifact staging in the step pods the planner creates, and what their end means: URIs recorded
// in status, passed to later steps, and ArtifactError when a download or upload failed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "planner_test_util.h"
#include "reconcilers/artifact_staging.h"

namespace stepline::reconcilers::testing {
namespace {

using ::testing::HasSubstr;

// a writes model (a file) into the repository and report (a directory, as one .tar.gz) to a URI
// of its own;
// b reads model with from and a dataset from s3, and gets a's URI in its args.
Object TwoSteps() {
  return Steps(
      {S("a", {{"outputs",
                {{"artifacts",
                  {{{"name", "model"}, {"path", "/out/model.bin"}},
                   {{"name", "report"},
                    {"path", "/report/"},
                    {"s3", "s3://reports/{{execution.name}}"},
                    {"archive", "tgz"}}}}}}}),
       S("b", {{"dependsOn", {"a"}},
               {"command", {"use", "{{steps.a.artifacts.model.uri}}"}},
               {"inputs",
                {{"artifacts",
                  {{{"name", "model"},
                    {"path", "/in/model.bin"},
                    {"from", "{{steps.a.artifacts.model}}"}},
                   {{"name", "data"}, {"path", "/in/data/"}, {"s3", "s3://data/$(HOME)/x"}}}}}}})});
}

const Object& PodSpec(FakeRun& run, const std::string& job) {
  return run.Job(job)->at("spec")["template"]["spec"];
}

const std::string kModelUri = "s3://arts/runs/ml/run/a/attempt-1/model";
const std::vector<std::string> kStorage = {
    "--error-file", "/dev/termination-log", "--endpoint",           "http://127.0.0.1:4568",
    "--path-style", "--credentials-dir",    "/stepline/credentials"};

std::vector<std::string> Command(std::vector<std::string> head) {
  head.insert(head.end(), kStorage.begin(), kStorage.end());
  return head;
}

TEST(ArtifactStagingTest, OutputsUploadedBySidecarsAndRecordedOnSuccess) {
  FakeRun run(TwoSteps());
  run.artifact_repository = TestArtifactRepository();
  run.Plan();
  const Object& spec = PodSpec(run, "run-a-1");
  ASSERT_EQ(spec["initContainers"].size(), 2u);
  const Object& up = spec["initContainers"][0];
  EXPECT_EQ(up["name"], "artifact-out-0");
  EXPECT_EQ(up["restartPolicy"], "Always");
  EXPECT_EQ(up["image"], ArtifactStagingOptions{}.image);
  EXPECT_EQ(up["command"].get<std::vector<std::string>>(),
            Command({"stepline-artifacts", "upload", "/stepline/artifacts/out/0/model.bin",
                     kModelUri, "--wait-for-term"}));
  EXPECT_EQ(spec["initContainers"][1]["command"][2], "/stepline/artifacts/out/1");
  EXPECT_EQ(spec["initContainers"][1]["command"][3], "s3://reports/run");
  EXPECT_EQ(spec["initContainers"][1]["command"][5], "--tar-gz");  // archive: tgz
  EXPECT_EQ(spec["initContainers"][0]["command"][5], "--error-file");
  EXPECT_EQ(
      spec["containers"][0]["volumeMounts"],
      Object::parse(R"([{"name": "stepline-artifacts", "mountPath": "/out", "subPath": "out/0"},
                {"name": "stepline-artifacts", "mountPath": "/report", "subPath": "out/1"}])"));
  EXPECT_EQ(spec["volumes"], Object::parse(R"([{"name": "stepline-artifacts", "emptyDir": {}},
      {"name": "stepline-artifact-credentials", "secret": {"secretName": "s3-creds"}}])"));
  EXPECT_EQ(spec["terminationGracePeriodSeconds"], ArtifactStagingOptions{}.upload_grace_seconds);

  run.Succeed("run-a-1");
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Succeeded");
  EXPECT_EQ(run.StepOf("a")->artifacts,
            (StringMap{{"model", kModelUri}, {"report", "s3://reports/run"}}));
  const Object& b = PodSpec(run, "run-b-1");
  EXPECT_EQ(b["containers"][0]["command"], Object({"use", kModelUri}));
  ASSERT_EQ(b["initContainers"].size(), 2u);
  EXPECT_EQ(b["initContainers"][0]["name"], "artifact-in-0");
  EXPECT_FALSE(b["initContainers"][0].contains("restartPolicy"));
  EXPECT_EQ(b["initContainers"][0]["command"].get<std::vector<std::string>>(),
            Command({"stepline-artifacts", "download", kModelUri, "/stepline/artifacts/in/0"}));
  // A value is never expanded by Kubernetes as $(VAR).
  EXPECT_EQ(b["initContainers"][1]["command"][2], "s3://data/$$(HOME)/x");
  // A directory input (its path ends in '/'): one object lands in it under its own name.
  EXPECT_EQ(b["initContainers"][1]["command"][3], "/stepline/artifacts/in/1/");
  EXPECT_EQ(b["containers"][0]["volumeMounts"],
            Object::parse(
                R"([{"name": "stepline-artifacts", "mountPath": "/in/model.bin", "subPath": "in/0"},
                {"name": "stepline-artifacts", "mountPath": "/in/data", "subPath": "in/1"}])"));
  EXPECT_FALSE(b.contains("terminationGracePeriodSeconds"));
}

TEST(ArtifactStagingTest, AFailedDownloadIsAnArtifactError) {
  FakeRun run(TwoSteps());
  run.artifact_repository = TestArtifactRepository();
  run.Plan();
  run.Succeed("run-a-1");
  run.Plan();
  const std::string storage =
      "GET s3://data/$(HOME)/x: NoSuchKey: The specified key does not exist. (HTTP 404 from "
      "http://127.0.0.1:4568)\n";
  run.FailArtifact("run-b-1", "artifact-in-1", -1, storage);
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("b")), "Failed");
  EXPECT_EQ(run.StepOf("b")->reason, "ArtifactError");
  EXPECT_THAT(run.StepOf("b")->message,
              HasSubstr("ArtifactError: GET s3://data/$(HOME)/x: NoSuchKey: The specified key "
                        "does not exist. (HTTP 404 from http://127.0.0.1:4568)"));
  EXPECT_TRUE(run.StepOf("b")->artifacts.empty());
}

TEST(ArtifactStagingTest, AFailedUploadFailsAStepWhoseContainerSucceeded) {
  FakeRun run(TwoSteps());
  run.artifact_repository = TestArtifactRepository();
  run.Plan();
  run.FailArtifact("run-a-1", "artifact-out-0", 0,
                   "PUT " + kModelUri +
                       ": SignatureDoesNotMatch: The request signature we "
                       "calculated does not match the signature you provided.");
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Failed");
  EXPECT_EQ(run.StepOf("a")->reason, "ArtifactError");
  EXPECT_THAT(run.StepOf("a")->message, HasSubstr("SignatureDoesNotMatch"));
  EXPECT_TRUE(run.StepOf("a")->artifacts.empty());
  EXPECT_EQ(Phase(run.StepOf("b")), "Skipped");
}

// The Job's success can reach the controller before the pod's last status (two watches): a pod
// whose upload sidecar still runs says nothing yet about the upload, so the step waits for it.
TEST(ArtifactStagingTest, AStepWaitsForItsUploadsEndBeforeSucceeding) {
  FakeRun run(TwoSteps());
  run.artifact_repository = TestArtifactRepository();
  run.Plan();
  run.UploadRunning("run-a-1", "artifact-out-0");
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Running");
  EXPECT_EQ(Created(run.Plan()), std::vector<std::string>{});
  run.FailArtifact("run-a-1", "artifact-out-0", 0, "PUT " + kModelUri + ": NoSuchBucket");
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Failed");
  EXPECT_EQ(run.StepOf("a")->reason, "ArtifactError");
}

TEST(ArtifactStagingTest, TheStepsOwnFailureComesFirst) {
  FakeRun run(TwoSteps());
  run.artifact_repository = TestArtifactRepository();
  run.Plan();
  // The upload found no file because the step failed before writing it.
  run.FailArtifact("run-a-1", "artifact-out-0", 3, "stat /stepline/artifacts/out/0/model.bin");
  run.Plan();
  EXPECT_EQ(run.StepOf("a")->reason, "Error");
  EXPECT_THAT(run.StepOf("a")->message, HasSubstr("exit code 3"));
}

TEST(ArtifactStagingTest, NoRepositoryFailsTheStepNamingTheConfigMap) {
  FakeRun run(TwoSteps());
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Failed");
  EXPECT_EQ(run.StepOf("a")->reason, "ArtifactError");
  EXPECT_EQ(run.StepOf("a")->message,
            "output artifact \"model\" gives no s3 and namespace ml has no ConfigMap "
            "stepline-artifact-repository (data: bucket, prefix, endpoint, region, "
            "credentialsSecret, pathStyle); create it or give the artifact an s3 URI");
  EXPECT_TRUE(run.JobNames().empty());
}

TEST(ArtifactStagingTest, APrefixEndingInASlashJoinsAsSageMakerJoinsIt) {
  // "{{parameters.base}}/x" with base "s3://arts/models/" (SageMaker's S3OutputPath written with
  // its trailing '/'): the key's "//" is read as "/", not refused as an empty segment.
  Object spec = Steps({S("a", {{"outputs",
                                {{"artifacts",
                                  {{{"name", "model"},
                                    {"path", "/out/model.bin"},
                                    {"s3", "{{parameters.base}}/run-1//model.bin"}}}}}}})});
  spec["parameters"] = Object::parse(R"([{"name": "base", "default": "s3://arts/models/"}])");
  FakeRun run(spec);
  run.artifact_repository = TestArtifactRepository();
  run.Plan();
  ASSERT_EQ(run.JobNames().size(), 1u) << run.StepOf("a")->message;
  const Object& up = PodSpec(run, "run-a-1")["initContainers"][0];
  EXPECT_EQ(up["command"][3], "s3://arts/models/run-1/model.bin") << up.dump();
}

TEST(ArtifactStagingTest, StepsWithoutArtifactsAreUnchanged) {
  FakeRun run(Steps({S("a")}));
  run.Plan();
  const Object& spec = PodSpec(run, "run-a-1");
  EXPECT_FALSE(spec.contains("initContainers"));
  EXPECT_FALSE(spec.contains("volumes"));
  EXPECT_FALSE(run.Job("run-a-1")->at("metadata").contains("annotations"));
}

}  // namespace
}  // namespace stepline::reconcilers::testing
