// Every file in crds/ and manifests/examples/ parses as YAML; every example parses with the typed
// API and uses only known fields (a typo such as `dependOn` would otherwise be pruned silently by
// the server); the CRDs agree with the C++ bounds and show the printer columns of the design.
// Whether the CRDs' schemas accept the examples is checked against a real API server by
// tests/e2e/crd_admission_test.sh.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "reconcilers/api_types.h"
#include "reconcilers/schedule_api.h"
#include "tests/reconcilers/yaml_test_util.h"

#ifndef STEPLINE_SOURCE_DIR
#error "STEPLINE_SOURCE_DIR must name the source tree"
#endif

namespace stepline::reconcilers {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> YamlFiles(const std::string& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fs::path(STEPLINE_SOURCE_DIR) / dir)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ApiManifestsTest, YamlScalarsResolveLikeTheCoreSchema) {
  YAML::Node n = YAML::Load(R"({a: 1, b: "1", c: 2.5, d: true, e: "true", f: ~, g: 1d, h: 100m})");
  EXPECT_EQ(YamlToJson(n), Json::parse(R"({"a": 1, "b": "1", "c": 2.5, "d": true, "e": "true",
                                           "f": null, "g": "1d", "h": "100m"})"));
}

TEST(ApiManifestsTest, ExamplesParseWithTheTypedApiAndUseOnlyKnownFields) {
  std::vector<fs::path> files = YamlFiles("manifests/examples");
  ASSERT_GE(files.size(), 5u);
  int pipelines = 0, executions = 0;
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    std::vector<Json> docs = LoadYamlDocuments(file);
    ASSERT_FALSE(docs.empty());
    for (const Json& doc : docs) {
      // Examples also carry the objects they need: a Namespace, a ResourceQuota, RBAC.
      if (doc.value("apiVersion", "") != kApiVersion) continue;
      if (doc.value("kind", "") == kPipelineKind) {
        auto p = ParsePipeline(doc);
        ASSERT_TRUE(p.ok()) << p.status().ToString();
        EXPECT_EQ(p->spec.extra, Json::object());
        for (const Step& s : p->spec.steps) EXPECT_EQ(s.extra, Json::object()) << s.name;
        if (p->spec.step_defaults) {
          EXPECT_EQ(p->spec.step_defaults->extra, Json::object());
        }
        EXPECT_EQ(ToJson(*p), doc);
        ++pipelines;
      } else if (doc.value("kind", "") == "PipelineSchedule") {
        auto spec = ParsePipelineScheduleSpec(doc["spec"], "spec");
        ASSERT_TRUE(spec.ok()) << spec.status().ToString();
        EXPECT_EQ(TemplateProblem(*spec), "");
      } else {
        ASSERT_EQ(doc.value("kind", ""), kPipelineExecutionKind);
        auto e = ParsePipelineExecution(doc);
        ASSERT_TRUE(e.ok()) << e.status().ToString();
        EXPECT_EQ(e->spec.extra, Json::object());
        EXPECT_EQ(ToJson(*e), doc);
        ++executions;
      }
    }
  }
  EXPECT_GE(pipelines, 8);
  EXPECT_GE(executions, 10);
}

TEST(ApiManifestsTest, StringPipelineDefinitionsAreJson) {
  for (const auto& file : YamlFiles("manifests/examples")) {
    for (const Json& doc : LoadYamlDocuments(file)) {
      if (doc.value("kind", "") != kPipelineKind) continue;
      const Json def = doc["spec"].value("pipelineDefinition", Json());
      if (!def.is_string()) continue;
      SCOPED_TRACE(file.filename().string());
      Json parsed = Json::parse(def.get<std::string>(), nullptr, /*allow_exceptions=*/false);
      ASSERT_FALSE(parsed.is_discarded());
      EXPECT_EQ(parsed.value("Version", ""), "2020-12-01");
    }
  }
}

// The schema of spec (or status) of the CRD's v1alpha1 version.
Json VersionOf(const Json& crd) { return crd["spec"]["versions"][0]; }

Json CrdNamed(const std::string& file) {
  std::vector<Json> docs = LoadYamlDocuments(fs::path(STEPLINE_SOURCE_DIR) / "crds" / file);
  EXPECT_EQ(docs.size(), 1u);
  return docs.empty() ? Json::object() : docs[0];
}

std::vector<std::string> ColumnNames(const Json& version) {
  std::vector<std::string> names;
  for (const auto& c : version["additionalPrinterColumns"]) names.push_back(c["name"]);
  return names;
}

// The kinds of the documents in crds/, in file order.
std::vector<std::string> KindsInCrds() {
  std::vector<std::string> kinds;
  for (const auto& file : YamlFiles("crds")) {
    for (const Json& doc : LoadYamlDocuments(file)) kinds.push_back(doc.value("kind", ""));
  }
  return kinds;
}

TEST(ApiManifestsTest, CrdsAreTheDesignsKinds) {
  std::vector<std::string> kinds = KindsInCrds();
  ASSERT_EQ(std::count(kinds.begin(), kinds.end(), "CustomResourceDefinition"), 3);
  Json pl = CrdNamed("stepline.dev_pipelines.yaml");
  Json plx = CrdNamed("stepline.dev_pipelineexecutions.yaml");
  Json pls = CrdNamed("stepline.dev_pipelineschedules.yaml");
  EXPECT_EQ(pl["spec"]["names"]["shortNames"], Json::array({"pl"}));
  EXPECT_EQ(plx["spec"]["names"]["shortNames"], Json::array({"plx"}));
  EXPECT_EQ(pls["spec"]["names"]["shortNames"], Json::array({"pls"}));
  for (const Json& crd : {pl, plx, pls}) {
    EXPECT_EQ(crd["spec"]["group"], kApiGroup);
    EXPECT_EQ(crd["spec"]["scope"], "Namespaced");
    EXPECT_EQ(crd["spec"]["names"]["categories"], Json::array({"stepline"}));
    EXPECT_EQ(VersionOf(crd)["name"], "v1alpha1");
    EXPECT_EQ(VersionOf(crd)["subresources"], Json::parse(R"({"status": {}})"));
  }
  EXPECT_EQ(ColumnNames(VersionOf(pl)), (std::vector<std::string>{"STEPS", "READY", "AGE"}));
  EXPECT_EQ(ColumnNames(VersionOf(plx)),
            (std::vector<std::string>{"PIPELINE", "STATUS", "PROGRESS", "AGE", "FAILURE-REASON"}));
  EXPECT_EQ(VersionOf(plx)["additionalPrinterColumns"][4]["priority"], 1);
  EXPECT_EQ(ColumnNames(VersionOf(pls)),
            (std::vector<std::string>{"SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE",
                                      "NEXT", "READY", "AGE"}));
  Json limits = VersionOf(pls)["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"];
  EXPECT_EQ(limits["active"]["maxItems"], kMaxActiveListed);
}

// Issue #16: "exactly one of steps and pipelineDefinition" is a ValidatingAdmissionPolicy (a
// CRD's oneOf answers with a message that names neither field), bound with Deny.
TEST(ApiManifestsTest, ThePipelineSpecPolicyIsBoundAndTheCrdHasNoOneOf) {
  std::vector<Json> docs = LoadYamlDocuments(fs::path(STEPLINE_SOURCE_DIR) / "crds" /
                                             "stepline.dev_pipelines-admission.yaml");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0]["kind"], "ValidatingAdmissionPolicy");
  EXPECT_EQ(docs[1]["kind"], "ValidatingAdmissionPolicyBinding");
  EXPECT_EQ(docs[1]["spec"]["policyName"], docs[0]["metadata"]["name"]);
  EXPECT_EQ(docs[1]["spec"]["validationActions"], Json::array({"Deny"}));
  EXPECT_EQ(docs[0]["spec"]["matchConstraints"]["resourceRules"][0]["resources"],
            Json::array({"pipelines"}));
  Json spec = VersionOf(
      CrdNamed("stepline.dev_pipelines.yaml"))["schema"]["openAPIV3Schema"]["properties"]["spec"];
  EXPECT_FALSE(spec.contains("oneOf"));
}

TEST(ApiManifestsTest, CrdBoundsMatchTheCode) {
  Json pl = VersionOf(CrdNamed("stepline.dev_pipelines.yaml"))["schema"]["openAPIV3Schema"];
  Json steps = pl["properties"]["spec"]["properties"]["steps"];
  EXPECT_EQ(steps["maxItems"], kMaxSteps);
  EXPECT_EQ(steps["items"]["properties"]["name"]["maxLength"], kMaxStepNameLength);
  EXPECT_EQ(steps["items"]["properties"]["type"]["default"], "Container");
  EXPECT_EQ(steps["items"]["properties"]["onFailure"]["default"], "Fail");
  Json plx = VersionOf(CrdNamed("stepline.dev_pipelineexecutions.yaml"))["schema"];
  Json step_status =
      plx["openAPIV3Schema"]["properties"]["status"]["properties"]["steps"]["items"]["properties"];
  EXPECT_EQ(step_status["failedChildren"]["maxItems"], kMaxChildDetails);
  EXPECT_EQ(step_status["runningChildren"]["maxItems"], kMaxChildDetails);
  std::vector<std::string> phases;
  for (const auto& n : kStepPhaseNames) phases.push_back(n.name);
  EXPECT_EQ(step_status["phase"]["enum"], phases);
}

}  // namespace
}  // namespace stepline::reconcilers
