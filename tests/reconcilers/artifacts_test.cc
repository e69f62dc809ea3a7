// Step artifacts: the API (inputs.artifacts, outputs.artifacts, status artifacts), their
// validation, {{steps.X.artifacts.N.uri}} and the artifact repository ConfigMap.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "reconcilers/artifact_repository.h"
#include "reconcilers/template.h"
#include "reconcilers/validation.h"

namespace stepline::reconcilers {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// a writes the artifact model; b reads it with from and a dataset from s3.
Json TwoSteps() {
  return Json::parse(R"json({
  "apiVersion": "stepline.dev/v1alpha1", "kind": "Pipeline",
  "metadata": {"name": "p", "namespace": "ml"},
  "spec": {
    "parameters": [{"name": "day", "default": "2026-12-06"}],
    "stepDefaults": {"image": "busybox"},
    "steps": [
      {"name": "a", "command": ["train"],
       "outputs": {"parameters": ["accuracy"],
                   "artifacts": [{"name": "model", "path": "/out/model.bin"},
                                 {"name": "report", "path": "/report/",
                                  "s3": "s3://reports/{{execution.name}}/report"}]}},
      {"name": "b", "dependsOn": ["a"],
       "args": ["{{steps.a.artifacts.model.uri}}", "{{steps.a.outputs.accuracy}}"],
       "inputs": {"artifacts": [
         {"name": "model", "path": "/in/model.bin", "from": "{{steps.a.artifacts.model}}"},
         {"name": "data", "path": "/in/data", "s3": "s3://data/{{parameters.day}}/"}]}}
    ]
  }
})json");
}

TEST(ArtifactsApi, ParsesAndSerializesBothForms) {
  Json json = TwoSteps();
  k8s::Result<Pipeline> p = ParsePipeline(json);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const Step& a = p->spec.steps[0];
  EXPECT_THAT(a.outputs, ElementsAre("accuracy"));
  ASSERT_EQ(a.output_artifacts.size(), 2u);
  EXPECT_EQ(a.output_artifacts[1].s3, "s3://reports/{{execution.name}}/report");
  const Step& b = p->spec.steps[1];
  ASSERT_EQ(b.input_artifacts.size(), 2u);
  EXPECT_EQ(b.input_artifacts[0].from, "{{steps.a.artifacts.model}}");
  EXPECT_EQ(ToJson(*p)["spec"], json["spec"]);

  // Without output artifacts, outputs stays the list of names it always was.
  Json listed = Json::parse(R"({"name": "c", "outputs": {"parameters": ["x"]}})");
  k8s::Result<Step> c = ParseStep(listed, "spec.steps[2]");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(ToJson(*c)["outputs"], Json::parse(R"(["x"])"));
}

TEST(ArtifactsApi, ParseErrorsNameTheField) {
  struct Case {
    std::string name;
    std::string step;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"outputs of another type", R"({"name": "a", "outputs": "x"})",
       "spec.steps[0].outputs: must be a list of output names or an object {parameters, "
       "artifacts}"},
      {"misspelt outputs key", R"({"name": "a", "outputs": {"artifact": []}})",
       "spec.steps[0].outputs.artifact: unknown field (expected parameters, artifacts)"},
      {"misspelt artifact key",
       R"({"name": "a", "outputs": {"artifacts": [{"name": "m", "path": "/o/m", "s3uri": "x"}]}})",
       "spec.steps[0].outputs.artifacts[0].s3uri: unknown field (expected name, path, s3, from, "
       "raw, archive)"},
      {"artifact without path", R"({"name": "a", "inputs": {"artifacts": [{"name": "m"}]}})",
       "spec.steps[0].inputs.artifacts[0].path: is required"},
      {"inputs not an object", R"({"name": "a", "inputs": []})",
       "spec.steps[0].inputs: must be an object"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    k8s::Result<Step> s = ParseStep(Json::parse(c.step), "spec.steps[0]");
    ASSERT_FALSE(s.ok());
    EXPECT_THAT(s.status().message(), ::testing::HasSubstr(c.want));
  }
}

TEST(ArtifactsApi, StatusArtifactsRoundTrip) {
  Json status = Json::parse(R"({"steps": [{"name": "a", "phase": "Succeeded",
      "artifacts": {"model": "s3://b/ml/run/a/attempt-1/model"}}]})");
  k8s::Result<PipelineExecutionStatus> s = ParsePipelineExecutionStatus(status, "status");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->steps[0].artifacts.at("model"), "s3://b/ml/run/a/attempt-1/model");
  EXPECT_EQ(ToJson(*s), status);
}

std::vector<std::string> ProblemsOf(const std::function<void(Json& steps)>& mutate) {
  Json json = TwoSteps();
  mutate(json["spec"]["steps"]);
  k8s::Result<Pipeline> p = ParsePipeline(json);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? PipelineProblems(*p) : std::vector<std::string>{"unparsed"};
}

TEST(ArtifactsValidation, TheTwoStepPipelineIsValid) {
  EXPECT_THAT(ProblemsOf([](Json&) {}), IsEmpty());
}

TEST(ArtifactsValidation, ProblemsNameTheStepAndField) {
  struct Case {
    std::string name;
    std::function<void(Json& steps)> mutate;
    std::vector<std::string> want;
  };
  const std::string in0 = "spec.steps[1] (b).inputs.artifacts[0]";
  const std::string out0 = "spec.steps[0] (a).outputs.artifacts[0]";
  const std::vector<Case> cases = {
      {"both s3 and from",
       [](Json& s) { s[1]["inputs"]["artifacts"][0]["s3"] = "s3://b/k"; },
       {in0 + ": give exactly one of s3 (an s3:// URI), from ({{steps.STEP.artifacts.NAME}}, "
              "or a value such as {{steps.STEP.outputs.NAME}}) and raw ({data: the file's "
              "text})"}},
      {"none of s3, from and raw",
       [](Json& s) { s[1]["inputs"]["artifacts"][0].erase("from"); },
       {in0 + ": give exactly one of s3 (an s3:// URI), from ({{steps.STEP.artifacts.NAME}}, "
              "or a value such as {{steps.STEP.outputs.NAME}}) and raw ({data: the file's "
              "text})"}},
      {"from not a reference",
       [](Json& s) { s[1]["inputs"]["artifacts"][0]["from"] = "{{steps.a.model}}"; },
       {in0 + ".from: \"{{steps.a.model}}\" is not a {{steps.STEP.artifacts.NAME}}, "
              "{{steps.STEP.outputs.NAME}} or {{steps.STEP.artifacts.NAME.uri}} reference"}},
      {"from a value with a JSON path",
       [](Json& s) { s[1]["inputs"]["artifacts"][0]["from"] = "{{steps.a.outputs.accuracy.k}}"; },
       {in0 + ".from: \"{{steps.a.outputs.accuracy.k}}\" is not a {{steps.STEP.artifacts.NAME}}, "
              "{{steps.STEP.outputs.NAME}} or {{steps.STEP.artifacts.NAME.uri}} reference"}},
      {"from an undeclared output",
       [](Json& s) { s[1]["inputs"]["artifacts"][0]["from"] = "{{steps.a.outputs.loss}}"; },
       {in0 + ".from: step \"a\" declares no output \"loss\" (outputs: accuracy) in "
              "{{steps.a.outputs.loss}}"}},
      {"a value into a directory",
       [](Json& s) {
         s[1]["inputs"]["artifacts"][0]["from"] = "{{steps.a.outputs.accuracy}}";
         s[1]["inputs"]["artifacts"][0]["path"] = "/in/accuracy/";
       },
       {in0 + ".path: a value is written as a file: its path cannot end in '/'"}},
      {"a forEach step's values, as files",
       [](Json& s) {
         s[0]["forEach"] = "[1,2]";
         s[1]["inputs"]["artifacts"][0]["from"] = "{{steps.a.artifacts.model.uri}}";
         s[1]["inputs"]["artifacts"].push_back(
             {{"name", "acc"}, {"path", "/in/acc.json"}, {"from", "{{steps.a.outputs.accuracy}}"}});
       },
       {}},
      {"a value of a step not upstream",
       [](Json& s) {
         s[1].erase("dependsOn");
         s[1].erase("args");
         s[1]["inputs"]["artifacts"][0]["from"] = "{{steps.a.outputs.accuracy}}";
       },
       {in0 + ".from: step \"a\" is not upstream of this step (add it to dependsOn) in "
              "{{steps.a.outputs.accuracy}}"}},
      {"from an undeclared artifact",
       [](Json& s) { s[1]["inputs"]["artifacts"][0]["from"] = "{{steps.a.artifacts.weights}}"; },
       {in0 + ".from: step \"a\" declares no output artifact \"weights\" (outputs.artifacts: "
              "model, report) in {{steps.a.artifacts.weights}}"}},
      {"from a step not upstream",
       [](Json& s) { s[1].erase("dependsOn"); },
       {"spec.steps[1] (b).args[0]: step \"a\" is not upstream of this step (add it to "
        "dependsOn) in {{steps.a.artifacts.model.uri}}",
        "spec.steps[1] (b).args[1]: step \"a\" is not upstream of this step (add it to "
        "dependsOn) in {{steps.a.outputs.accuracy}}",
        in0 + ".from: step \"a\" is not upstream of this step (add it to dependsOn) in "
              "{{steps.a.artifacts.model.uri}}"}},
      {"from a forEach step",
       [](Json& s) { s[0]["forEach"] = "[1,2]"; },
       {in0 + ".from: step \"a\" is a forEach step: its artifact is a list of URIs, one per "
              "item (from: {{steps.a.artifacts.model.uri}} writes that list as a file) in "
              "{{steps.a.artifacts.model}}"}},
      {"uri of an undeclared artifact",
       [](Json& s) { s[1]["args"][0] = "{{steps.a.artifacts.x.uri}}"; },
       {"spec.steps[1] (b).args[0]: step \"a\" declares no output artifact \"x\" "
        "(outputs.artifacts: model, report) in {{steps.a.artifacts.x.uri}}"}},
      {"not an s3 URI",
       [](Json& s) { s[1]["inputs"]["artifacts"][1]["s3"] = "gs://data/x"; },
       {"spec.steps[1] (b).inputs.artifacts[1].s3: \"gs://data/x\" is not an s3:// URI "
        "(s3://BUCKET/KEY)"}},
      {"bad bucket",
       [](Json& s) { s[1]["inputs"]["artifacts"][1]["s3"] = "s3://My_Data/k"; },
       {"spec.steps[1] (b).inputs.artifacts[1].s3: \"s3://My_Data/k\": \"My_Data\" is not a "
        "valid bucket name (3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a "
        "letter or digit)"}},
      {"literal URI without key",
       [](Json& s) { s[1]["inputs"]["artifacts"][1]["s3"] = "s3://data"; },
       {"spec.steps[1] (b).inputs.artifacts[1].s3: \"s3://data\" names no key"}},
      {"unknown parameter in s3",
       [](Json& s) { s[1]["inputs"]["artifacts"][1]["s3"] = "s3://data/{{parameters.dy}}"; },
       {"spec.steps[1] (b).inputs.artifacts[1].s3: unknown parameter \"dy\" in "
        "{{parameters.dy}}"}},
      {"relative path",
       [](Json& s) { s[0]["outputs"]["artifacts"][0]["path"] = "out/m"; },
       {out0 + ".path: \"out/m\" is not an absolute path"}},
      {"dotdot path",
       [](Json& s) { s[0]["outputs"]["artifacts"][0]["path"] = "/out/../m"; },
       {out0 + ".path: \"/out/../m\" has an empty, \".\" or \"..\" segment"}},
      {"reserved path",
       [](Json& s) { s[1]["inputs"]["artifacts"][1]["path"] = "/dev/x"; },
       {"spec.steps[1] (b).inputs.artifacts[1].path: \"/dev/x\" is under /dev, which the pod "
        "reserves"}},
      {"output file at the root",
       [](Json& s) { s[0]["outputs"]["artifacts"][0]["path"] = "/m"; },
       {out0 + ".path: its directory is mounted, and \"/\" cannot be: use a directory of its "
               "own such as /outputs/m"}},
      {"duplicate names",
       [](Json& s) { s[0]["outputs"]["artifacts"][1]["name"] = "model"; },
       {"spec.steps[0] (a).outputs.artifacts[1].name: duplicate artifact name \"model\""}},
      {"bad name",
       [](Json& s) { s[0]["outputs"]["artifacts"][0]["name"] = "my.model"; },
       {out0 + ".name: \"my.model\" may only contain letters, digits, '-' and '_'",
        "spec.steps[1] (b).args[0]: step \"a\" declares no output artifact \"model\" "
        "(outputs.artifacts: my.model, report) in {{steps.a.artifacts.model.uri}}",
        in0 + ".from: step \"a\" declares no output artifact \"model\" (outputs.artifacts: "
              "my.model, report) in {{steps.a.artifacts.model}}"}},
      {"same input path twice",
       [](Json& s) { s[1]["inputs"]["artifacts"][1]["path"] = "/in/model.bin"; },
       {"spec.steps[1] (b).inputs.artifacts[1].path: \"/in/model.bin\" is the path of another "
        "input artifact"}},
      {"output directory is an input",
       [](Json& s) {
         s[1]["outputs"] = Json::parse(R"({"artifacts": [{"name": "o", "path": "/in/data/x"}]})");
       },
       {"spec.steps[1] (b).outputs.artifacts[0].path: its directory \"/in/data\" is the path of "
        "an input artifact"}},
      {"from on an output",
       [](Json& s) { s[0]["outputs"]["artifacts"][0]["from"] = "x"; },
       {out0 + ".from: only input artifacts take from"}},
      {"archive tgz on an input whose path is no directory",
       [](Json& s) { s[1]["inputs"]["artifacts"][1]["archive"] = "tgz"; },
       {"spec.steps[1] (b).inputs.artifacts[1].archive: an input's archive must be tgz, on an s3 "
        "or from input whose path is a directory (ends in '/'): the .tar.gz object is unpacked "
        "into it"}},
      {"archive none on an input",
       [](Json& s) {
         s[1]["inputs"]["artifacts"][1]["archive"] = "none";
         s[1]["inputs"]["artifacts"][1]["path"] = "/in/data/";
       },
       {"spec.steps[1] (b).inputs.artifacts[1].archive: an input's archive must be tgz, on an s3 "
        "or from input whose path is a directory (ends in '/'): the .tar.gz object is unpacked "
        "into it"}},
      {"archive tgz on a directory input is valid",
       [](Json& s) {
         s[1]["inputs"]["artifacts"][1]["archive"] = "tgz";
         s[1]["inputs"]["artifacts"][1]["path"] = "/in/data/";
       },
       {}},
      {"unknown archive",
       [](Json& s) { s[0]["outputs"]["artifacts"][0]["archive"] = "zip"; },
       {out0 + ".archive: must be tgz (one .tar.gz object) or none (got \"zip\")"}},
      {"artifacts on an Approval step",
       [](Json& s) {
         s.push_back(Json::parse(R"({"name": "ok", "type": "Approval",
             "inputs": {"artifacts": [{"name": "m", "path": "/m", "s3": "s3://bkt/k"}]}})"));
       },
       {"spec.steps[2] (ok).inputs: ignored by an Approval step"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ProblemsOf(c.mutate), c.want);
  }
}

TEST(ArtifactsTemplate, ArtifactUriReference) {
  TemplateValues values;
  values.steps["a"].artifacts["model"] = "s3://b/k/model";
  k8s::Result<std::string> got =
      RenderTemplate("--model={{ steps.a.artifacts.model.uri }}", values);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "--model=s3://b/k/model");
  got = RenderTemplate("{{steps.a.artifacts.data.uri}}", values);
  EXPECT_EQ(got.status().message(),
            "{{steps.a.artifacts.data.uri}}: step \"a\" has no output artifact \"data\" (it has "
            "not succeeded)");
  // Without .uri it is no template reference (only an input's from takes that form).
  EXPECT_FALSE(ParseTemplate("{{steps.a.artifacts.model}}").ok());
}

k8s::Object ConfigMap(Json data) {
  return {{"metadata", {{"name", kArtifactRepositoryConfigMap}, {"namespace", "ml"}}},
          {"data", std::move(data)}};
}

TEST(ArtifactRepositoryConfig, ParsesEveryKey) {
  k8s::Result<ArtifactRepository> r =
      ParseArtifactRepository(ConfigMap({{"bucket", "artifacts"},
                                         {"prefix", "/runs/"},
                                         {"endpoint", "http://127.0.0.1:4568"},
                                         {"region", "eu-west-1"},
                                         {"credentialsSecret", "s3-creds"},
                                         {"pathStyle", "true"}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->bucket, "artifacts");
  EXPECT_EQ(r->prefix, "runs");
  EXPECT_EQ(r->endpoint, "http://127.0.0.1:4568");
  EXPECT_EQ(r->region, "eu-west-1");
  EXPECT_EQ(r->credentials_secret, "s3-creds");
  EXPECT_EQ(r->path_style, true);
  EXPECT_EQ(DefaultArtifactUri(*r, "ml", "run-1", "train", 3, 2, "model"),
            "s3://artifacts/runs/ml/run-1/train/3/attempt-2/model");
  r->prefix.clear();
  EXPECT_EQ(DefaultArtifactUri(*r, "ml", "run-1", "a", std::nullopt, 1, "m"),
            "s3://artifacts/ml/run-1/a/attempt-1/m");
}

TEST(ArtifactRepositoryConfig, ErrorsNameTheConfigMapAndKey) {
  const std::string where = "ConfigMap ml/stepline-artifact-repository: ";
  struct Case {
    std::string name;
    Json data;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"no bucket", {{"prefix", "x"}}, where + "data.bucket: is required"},
      {"bad bucket",
       {{"bucket", "A_B"}},
       where + "data.bucket: \"A_B\" is not a valid bucket name (3-63 characters"},
      {"unknown key", {{"bucket", "b"}, {"bucketName", "b"}}, where + "data.bucketName: unknown"},
      {"path style",
       {{"bucket", "bkt"}, {"pathStyle", "yes"}},
       where + "data.pathStyle: must be \"true\" or \"false\" (got \"yes\")"},
      {"endpoint",
       {{"bucket", "bkt"}, {"endpoint", "minio:9000"}},
       where + "data.endpoint: must start with http:// or https:// (got \"minio:9000\")"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    k8s::Result<ArtifactRepository> r = ParseArtifactRepository(ConfigMap(c.data));
    ASSERT_FALSE(r.ok());
    EXPECT_THAT(r.status().message(), ::testing::StartsWith(c.want));
  }
}

TEST(ArtifactPaths, OutputMountDirectory) {
  EXPECT_EQ(OutputMountDirectory("/opt/ml/model/"), "/opt/ml/model");
  EXPECT_EQ(OutputMountDirectory("/tmp/out/model.bin"), "/tmp/out");
  EXPECT_EQ(OutputMountDirectory("/model.bin"), "/");
}

}  // namespace
}  // namespace stepline::reconcilers
