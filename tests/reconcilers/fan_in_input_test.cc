// Issue #22: a step reads an upstream value, and a fan-out's whole fan-in, as a file: an input
// artifact with `from: "{{steps.STEP.outputs.NAME}}"` (or `.artifacts.NAME.uri`). A value the
// status keeps is written by `stepline-artifacts write`; a fan-in too large for the status,
// stored in ConfigMaps (fan_in_store.h), is joined back into one list by `stepline-artifacts
// join` from configMap volumes; one kept nowhere fails the reading step saying why.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "planner_test_util.h"
#include "reconcilers/artifact_staging.h"
#include "reconcilers/planner.h"
#include "reconcilers/rerun.h"
#include "reconcilers/step_cache.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using testing::ChildJob;
using testing::FakeRun;
using ::testing::HasSubstr;
using testing::Items;
using testing::Phase;
using testing::S;
using testing::Steps;

Object Input(const std::string& name, const std::string& path, const std::string& from) {
  return {{"name", name}, {"path", path}, {"from", from}};
}

// f fans out over n items with output v; r reads f's fan-in as the file /in/v.json; and the
// steps given.
Object FanOutAndReader(int n, std::vector<Object> more = {}) {
  std::vector<Object> steps = {
      S("f", {{"forEach", Items(n).dump()}, {"outputs", {"v"}}}),
      S("r", {{"dependsOn", {"f"}},
              {"inputs", {{"artifacts", {Input("v", "/in/v.json", "{{steps.f.outputs.v}}")}}}}})};
  for (Object& s : more) steps.push_back(std::move(s));
  return Steps(steps);
}

// Runs f's n children to success, child i answering v = i and 400 x's.
void SucceedChildren(FakeRun& run, int n) {
  run.Plan();
  for (int i = 0; i < n; ++i) {
    run.Succeed(ChildJob("f", i), "{\"v\":\"" + std::to_string(i) + std::string(400, 'x') + "\"}");
  }
}

const Object& PodSpec(FakeRun& run, const std::string& job) {
  return run.Job(job)->at("spec")["template"]["spec"];
}

std::string Env(const Object& container, const std::string& name) {
  for (const Object& e : container.value("env", Object::array())) {
    if (e["name"] == name) return e["value"];
  }
  return "<none>";
}

TEST(FanInInputTest, ValuesTheStatusKeepsAreWrittenAsFiles) {
  Object a_outputs = {{"parameters", {"x"}},
                      {"artifacts", {{{"name", "m"}, {"path", "/out/m.bin"}}}}};
  FakeRun run(
      Steps({S("a", {{"outputs", a_outputs}}), S("f", {{"forEach", "[1,2,3]"}, {"outputs", {"n"}}}),
             S("r", {{"dependsOn", {"a", "f"}},
                     {"inputs",
                      {{"artifacts",
                        {Input("n", "/in/n.json", "{{steps.f.outputs.n}}"),
                         Input("x", "/in/x.txt", "{{ steps.a.outputs.x }}"),
                         Input("m", "/in/m-uri", "{{steps.a.artifacts.m.uri}}")}}}}})}));
  run.artifact_repository = testing::TestArtifactRepository();
  run.Plan();
  run.Succeed("run-a-1", R"({"x": "$(HOME) 42"})");
  for (int i = 0; i < 3; ++i)
    run.Succeed(ChildJob("f", i), "{\"n\": \"" + std::to_string(i) + "\"}");
  run.Plan();
  ASSERT_NE(run.Job("run-r-1"), nullptr) << run.StepOf("r")->message;
  const Object& spec = PodSpec(run, "run-r-1");
  ASSERT_EQ(spec["initContainers"].size(), 3u);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"artifact-in-0", R"(["0","1","2"])"},  // the fan-in, as the status keeps it
      {"artifact-in-1", "$$(HOME) 42"},       // kept from Kubernetes' $(VAR) expansion
      {"artifact-in-2", "s3://arts/runs/ml/run/a/attempt-1/m"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    const Object& c = spec["initContainers"][i];
    EXPECT_EQ(c["name"], expected[i].first);
    EXPECT_EQ(c["command"][1], "write");
    EXPECT_EQ(c["command"][2], "/stepline/artifacts/in/" + std::to_string(i));
    EXPECT_EQ(Env(c, kRawArtifactDataEnv), expected[i].second);
  }
  EXPECT_EQ(spec["containers"][0]["volumeMounts"][0],
            Object::parse(R"({"name": "stepline-artifacts", "mountPath": "/in/n.json",
                              "subPath": "in/0"})"));
}

TEST(FanInInputTest, AStoredFanInIsJoinedFromItsConfigMaps) {
  FakeRun run(FanOutAndReader(3000));
  SucceedChildren(run, 3000);
  PlanResult r = run.Plan();
  const StepStatus* f = run.StepOf("f");
  ASSERT_EQ(f->stored_outputs.size(), 1u);
  const std::vector<std::string>& cms = f->stored_outputs[0].config_maps;
  ASSERT_EQ(cms, (std::vector<std::string>{"run-f-outputs-v-00", "run-f-outputs-v-01"}));
  ASSERT_EQ(r.config_maps.size(), 2u) << "stored by the plan that creates the reader's Job";
  ASSERT_NE(run.Job("run-r-1"), nullptr) << run.StepOf("r")->message;

  const Object& spec = PodSpec(run, "run-r-1");
  ASSERT_EQ(spec["initContainers"].size(), 1u);
  const Object& join = spec["initContainers"][0];
  EXPECT_EQ(join["name"], "artifact-in-0");
  EXPECT_EQ(
      join["command"].get<std::vector<std::string>>(),
      (std::vector<std::string>{"stepline-artifacts", "join", "/stepline/artifacts/in/0", "--items",
                                "3000", "/stepline/fan-in/0/run-f-outputs-v-00/values.json",
                                "/stepline/fan-in/0/run-f-outputs-v-01/values.json", "--error-file",
                                "/dev/termination-log"}));
  EXPECT_EQ(join["volumeMounts"], Object::parse(R"([
      {"name": "stepline-artifacts", "mountPath": "/stepline/artifacts"},
      {"name": "stepline-fan-in-0-0", "mountPath": "/stepline/fan-in/0/run-f-outputs-v-00",
       "readOnly": true},
      {"name": "stepline-fan-in-0-1", "mountPath": "/stepline/fan-in/0/run-f-outputs-v-01",
       "readOnly": true}])"));
  EXPECT_EQ(spec["volumes"], Object::parse(R"([
      {"name": "stepline-artifacts", "emptyDir": {}},
      {"name": "stepline-fan-in-0-0", "configMap": {"name": "run-f-outputs-v-00",
       "optional": true, "items": [{"key": "values.json", "path": "values.json"}]}},
      {"name": "stepline-fan-in-0-1", "configMap": {"name": "run-f-outputs-v-01",
       "optional": true, "items": [{"key": "values.json", "path": "values.json"}]}}])"));
  EXPECT_EQ(spec["containers"][0]["volumeMounts"],
            Object::parse(R"([{"name": "stepline-artifacts", "mountPath": "/in/v.json",
                               "subPath": "in/0"}])"))
      << "the step's container sees the joined file only";
  EXPECT_EQ(r.config_maps[0].object["metadata"]["name"], cms[0]);
  EXPECT_EQ(r.config_maps[1].object["metadata"]["name"], cms[1]);
}

TEST(FanInInputTest, ATemplateReadingAStoredFanInIsToldToUseAnInput) {
  FakeRun run(Steps({S("f", {{"forEach", Items(3000).dump()}, {"outputs", {"v"}}}),
                     S("t", {{"dependsOn", {"f"}}, {"args", {"{{steps.f.outputs.v}}"}}})}));
  SucceedChildren(run, 3000);
  run.Plan();
  EXPECT_EQ(run.StepOf("t")->reason, "TemplateError");
  EXPECT_THAT(run.StepOf("t")->message,
              HasSubstr("cannot be passed in a pod's spec either: an input artifact reads it as a "
                        "file (from: \"{{steps.f.outputs.v}}\")"));
}

TEST(FanInInputTest, AFanInKeptNowhereFailsTheReaderSayingWhy) {
  FakeRun run(FanOutAndReader(200));
  run.fan_in_store_refusals["f/outputs.v"] = "ConfigMap run-f-outputs-v-00: forbidden";
  SucceedChildren(run, 200);
  run.Plan();
  EXPECT_EQ(run.Job("run-r-1"), nullptr);
  const StepStatus* r = run.StepOf("r");
  EXPECT_EQ(Phase(r), "Failed");
  EXPECT_EQ(r->reason, "ArtifactError");
  EXPECT_THAT(
      r->message,
      HasSubstr("input artifact \"v\": {{steps.f.outputs.v}} has no value: output \"v\" ("));
  EXPECT_THAT(r->message, HasSubstr("storing it in ConfigMaps was refused (ConfigMap "
                                    "run-f-outputs-v-00: forbidden); each child's value stays in "
                                    "its pod's termination message"));
}

// A cached step's key holds the value its input reads (step_cache.h), here from a step that is
// not a direct dependency, whose values the key would not hold otherwise.
TEST(FanInInputTest, ACachedReadersKeyHoldsTheValueItReads) {
  Object pipeline = Steps(
      {S("f", {{"forEach", "[1,2]"}, {"outputs", {"n"}}}), S("mid", {{"dependsOn", {"f"}}}),
       S("r", {{"dependsOn", {"mid"}},
               {"cache", {{"enabled", true}}},
               {"inputs", {{"artifacts", {Input("n", "/in/n.json", "{{steps.f.outputs.n}}")}}}}})});
  StepCacheIndex ns;
  // Runs the pipeline as `name`, f's children answering n = first and second; true when r ran.
  auto run_reader = [&](const std::string& name, const std::string& first,
                        const std::string& second) {
    FakeRun run(pipeline);
    run.execution().metadata.name = name;
    run.step_cache = &ns;
    run.Plan();
    run.Succeed(name + "-f-0-1", "{\"n\": \"" + first + "\"}");
    run.Succeed(name + "-f-1-1", "{\"n\": \"" + second + "\"}");
    run.Plan();
    run.Succeed(name + "-mid-1");
    run.Plan();
    const bool ran = run.Job(name + "-r-1") != nullptr;
    if (ran) run.Succeed(name + "-r-1");
    run.Plan();
    EXPECT_EQ(testing::StatusOf(run), "Succeeded") << name;
    return ran;
  };
  EXPECT_TRUE(run_reader("run-1", "a", "b"));
  EXPECT_FALSE(run_reader("run-2", "a", "b")) << "the same values: taken from the cache";
  EXPECT_TRUE(run_reader("run-3", "a", "c")) << "another value: runs";
  EXPECT_EQ(ns.entries.size(), 2u);
}

// A re-run reuses f; its reader reads the source run's ConfigMaps (a deleted source fails the
// join, saying which ConfigMap: fan_in_join.h), and a template is told where they are.
TEST(FanInInputTest, AReRunsReaderReadsTheSourceRunsStoredFanIn) {
  Object pipeline =
      FanOutAndReader(3000, {S("t", {{"dependsOn", {"f"}}, {"args", {"{{steps.f.outputs.v}}"}}})});
  FakeRun source(pipeline);
  SucceedChildren(source, 3000);
  source.Plan();
  source.Fail("run-r-1", 1);
  source.Plan();
  ASSERT_EQ(testing::StatusOf(source), "Failed");

  FakeRun rerun(pipeline, {{"rerunOf", {{"execution", "run"}}}});
  rerun.execution().metadata.name = "rerun";
  rerun.rerun_source = &source.execution();
  PlanResult r = rerun.Plan();
  EXPECT_TRUE(r.config_maps.empty()) << "the reused step stores nothing";
  ASSERT_NE(rerun.StepOf("r"), nullptr);
  ASSERT_NE(rerun.Job("rerun-r-1"), nullptr) << rerun.StepOf("r")->message;
  const Object& join = PodSpec(rerun, "rerun-r-1")["initContainers"][0];
  EXPECT_EQ(join["command"][5], "/stepline/fan-in/0/run-f-outputs-v-00/values.json");
  EXPECT_EQ(join["command"][6], "/stepline/fan-in/0/run-f-outputs-v-01/values.json");
  ASSERT_NE(rerun.StepOf("t"), nullptr);
  EXPECT_EQ(rerun.StepOf("t")->reason, "TemplateError");
  EXPECT_THAT(rerun.StepOf("t")->message,
              HasSubstr("output \"v\" (1219891 bytes) not kept in status: larger than 64 KiB; "
                        "stored in 2 ConfigMaps, run-f-outputs-v-00 to run-f-outputs-v-01: kubectl "
                        "get configmap run-f-outputs-v-00 run-f-outputs-v-01; a value this large "
                        "cannot be passed in a pod's spec either: an input artifact reads it as a "
                        "file (from: \"{{steps.f.outputs.v}}\")"));
}

}  // namespace
}  // namespace stepline::reconcilers
