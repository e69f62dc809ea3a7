// Issue #22: a fan-out's fan-in (its children's outputs and output artifact URIs, as JSON lists)
// grows with the number of children; the execution's status must not. A fan-in value larger
// than a status keeps is not written there nor passed on in templates: it is stored in
// ConfigMaps of the execution (fan_in_store.h; up to 8 MiB), which the status names, and the
// step and a later step that reads it say where the values are. The status stays below 256 KiB
// at every write of a 100,000-child run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "lean_fan_out_test_util.h"
#include "planner_test_util.h"
#include "reconcilers/artifact_staging.h"
#include "reconcilers/fan_in_store.h"
#include "reconcilers/job_builder.h"
#include "reconcilers/labels.h"
#include "reconcilers/planner.h"
#include "reconcilers/status_bounds.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using testing::ChildJob;
using testing::FakeRun;
using ::testing::HasSubstr;
using testing::Items;
using testing::LeanFanOut;
using testing::Phase;
using testing::S;
using testing::StatusOf;
using testing::Steps;

TEST(FanInSizeTest, ALaterStepReadingAFanInNotKeptFailsSayingWhereTheValuesAre) {
  FakeRun run(
      Steps({S("f", {{"forEach", Items(400).dump()}, {"outputs", {"blob", "n"}}}),
             S("g", {{"dependsOn", {"f"}}, {"command", {"echo", "{{steps.f.outputs.n}}"}}}),
             S("h", {{"dependsOn", {"f"}}, {"command", {"echo", "{{steps.f.outputs.blob}}"}}})}));
  run.Plan();
  const std::string out = "{\"blob\":\"" + std::string(4000, 'b') + "\",\"n\":\"1\"}";
  for (int i = 0; i < 400; ++i) run.Succeed(ChildJob("f", i), out);
  PlanResult r = run.Plan();
  EXPECT_EQ(Phase(run.StepOf("f")), "Succeeded");
  EXPECT_EQ(run.StepOf("f")->outputs.count("blob"), 0u);
  EXPECT_THAT(testing::Created(r), ::testing::ElementsAre("run-g-1"))
      << "the output that fits is passed on; the one that does not is not";
  EXPECT_EQ(Phase(run.StepOf("h")), "Failed");
  EXPECT_EQ(run.StepOf("h")->reason, "TemplateError");
  EXPECT_THAT(run.StepOf("h")->message,
              HasSubstr("{{steps.f.outputs.blob}}: output \"blob\" (1601201 bytes) not kept in "
                        "status: larger than 64 KiB (the fan-in of 400 children); stored in 3 "
                        "ConfigMaps, run-f-outputs-blob-00 to run-f-outputs-blob-02: kubectl get "
                        "configmap -n ml -l stepline.dev/execution=run,stepline.dev/step=f,"
                        "stepline.dev/fan-in=outputs.blob -o jsonpath="));
  EXPECT_THAT(run.StepOf("h")->message, HasSubstr("cannot be passed in a pod's spec either"));
  EXPECT_LT(StatusBytes(r.status), kMaxStatusBytes);
}

TEST(FanInSizeTest, ChildrenArtifactURIsPastTheLimitAreNotKeptAndTheStepSaysWhere) {
  Object outputs = {{"artifacts", {{{"name", "m"}, {"path", "/out/m"}}}}};
  FakeRun run(Steps(
      {S("f", {{"forEach", Items(2000).dump()}, {"outputs", outputs}}),
       S("g", {{"dependsOn", {"f"}}, {"command", {"echo", "{{steps.f.artifacts.m.uri}}"}}})}));
  run.artifact_repository = testing::TestArtifactRepository();
  run.Plan();
  for (int i = 0; i < 2000; ++i) run.Succeed(ChildJob("f", i));
  PlanResult r = run.Plan();
  const StepStatus* f = run.StepOf("f");
  EXPECT_EQ(Phase(f), "Succeeded");
  EXPECT_EQ(f->artifacts.count("m"), 0u) << "2000 URIs of ~40 bytes: more than 64 KiB";
  EXPECT_THAT(f->message, HasSubstr("the URIs of output artifact \"m\" ("));
  EXPECT_THAT(f->message, HasSubstr("stored in ConfigMap run-f-artifacts-m-00: kubectl get "
                                    "configmap -n ml -l stepline.dev/execution=run,"
                                    "stepline.dev/step=f,stepline.dev/fan-in=artifacts.m"));
  ASSERT_EQ(f->stored_artifacts.size(), 1u);
  EXPECT_EQ(f->stored_artifacts[0].items, 2000);
  EXPECT_EQ(run.StepOf("g")->reason, "TemplateError");
  EXPECT_THAT(run.StepOf("g")->message, HasSubstr("{{steps.f.artifacts.m.uri}}: the URIs of"));
  EXPECT_LT(StatusBytes(r.status), kMaxStatusBytes);
}

// The stored fan-in: ConfigMaps whose lists, joined in the order the status names them, are the
// fan-in; made by one plan only, the plans after it keep the reference.
TEST(FanInSizeTest, AFanInPastTheLimitIsStoredInConfigMapsOnceAndTheStatusNamesThem) {
  FakeRun run(Steps({S("f", {{"forEach", Items(3000).dump()}, {"outputs", {"v"}}}),
                     S("g", {{"dependsOn", {"f"}}})}));
  run.Plan();
  for (int i = 0; i < 3000; ++i) {
    run.Succeed(ChildJob("f", i), "{\"v\":\"" + std::to_string(i) + std::string(400, 'x') + "\"}");
  }
  PlanResult r = run.Plan();
  const StepStatus* f = run.StepOf("f");
  ASSERT_EQ(f->stored_outputs.size(), 1u);
  const StoredFanIn& stored = f->stored_outputs[0];
  EXPECT_EQ(stored.name, "v");
  EXPECT_EQ(stored.items, 3000);
  ASSERT_EQ(stored.config_maps.size(), 2u) << "1.2 MB in lists of at most 768 KiB";
  ASSERT_EQ(r.config_maps.size(), 2u);
  nlohmann::json joined = nlohmann::json::array();
  for (size_t k = 0; k < r.config_maps.size(); ++k) {
    const Object& cm = r.config_maps[k].object;
    EXPECT_EQ(r.config_maps[k].key, "f/outputs.v");
    EXPECT_EQ(cm["metadata"]["name"], stored.config_maps[k]);
    EXPECT_EQ(cm["metadata"]["namespace"], "ml");
    EXPECT_EQ(cm["metadata"]["labels"][kLabelExecution], "run");
    EXPECT_EQ(cm["metadata"]["labels"][kLabelStep], "f");
    EXPECT_EQ(cm["metadata"]["labels"][kLabelFanIn], "outputs.v");
    EXPECT_EQ(cm["metadata"]["ownerReferences"][0]["uid"], "run-uid") << "deleted with the run";
    const std::string list = cm["data"]["values.json"];
    EXPECT_LE(list.size(), kFanInChunkBytes);
    for (const auto& v : nlohmann::json::parse(list)) joined.push_back(v);
  }
  ASSERT_EQ(joined.size(), 3000u);
  EXPECT_EQ(joined[0], "0" + std::string(400, 'x'));
  EXPECT_EQ(joined[2999], "2999" + std::string(400, 'x'));
  EXPECT_EQ(static_cast<int64_t>(joined.dump().size()), stored.bytes);
  EXPECT_EQ(testing::Created(r), std::vector<std::string>{"run-g-1"});

  run.Advance(std::chrono::seconds(5));
  PlanResult again = run.Plan();
  EXPECT_TRUE(again.config_maps.empty()) << "stored once";
  ASSERT_EQ(run.StepOf("f")->stored_outputs.size(), 1u);
  EXPECT_EQ(run.StepOf("f")->stored_outputs[0].config_maps, stored.config_maps);
}

TEST(FanInSizeTest, AFanInStoreTheServerRefusedIsNotMadeAgainAndTheStepSaysWhy) {
  FakeRun run(Steps({S("f", {{"forEach", Items(200).dump()}, {"outputs", {"v"}}})}));
  run.fan_in_store_refusals["f/outputs.v"] =
      "ConfigMap run-f-outputs-v-00: configmaps \"run-f-outputs-v-00\" is forbidden: exceeded "
      "quota: cm, requested: count/configmaps=1, used: count/configmaps=10, limited: "
      "count/configmaps=10";
  run.Plan();
  for (int i = 0; i < 200; ++i)
    run.Succeed(ChildJob("f", i), "{\"v\":\"" + std::string(400, 'v') + "\"}");
  PlanResult r = run.Plan();
  EXPECT_TRUE(r.config_maps.empty());
  const StepStatus* f = run.StepOf("f");
  EXPECT_TRUE(f->stored_outputs.empty());
  EXPECT_THAT(f->message, HasSubstr("storing it in ConfigMaps was refused (ConfigMap "
                                    "run-f-outputs-v-00: configmaps \"run-f-outputs-v-00\" is "
                                    "forbidden: exceeded quota"));
  EXPECT_THAT(f->message, HasSubstr("each child's value stays in its pod's termination message"));
  EXPECT_EQ(Phase(f), "Succeeded");
}

TEST(FanInSizeTest, BoundStatusDropsAnArtifactListPastTheLimitToo) {
  PipelineExecutionStatus s;
  StepStatus st;
  st.name = "f";
  st.artifacts["m"] = std::string(70 * 1024, 'u');
  st.artifacts["small"] = "s3://b/k";
  s.steps.push_back(st);
  EXPECT_TRUE(BoundStatus(&s));
  EXPECT_EQ(s.steps[0].artifacts.count("m"), 0u);
  EXPECT_EQ(s.steps[0].artifacts.count("small"), 1u);
  EXPECT_THAT(s.steps[0].message,
              HasSubstr("the URIs of output artifact \"m\" (71680 bytes) not kept in status: "
                        "larger than 64 KiB; each attempt's URIs stay on its Job (annotation "
                        "stepline.dev/artifacts)"));
}

TEST(FanInSizeTest, AListParameterPastTheEnvBoundIsNotCopiedIntoEachChildsEnv) {
  Object params = {{{"name", "items"}, {"type", "List"}}, {{"name", "small"}}};
  const std::string big = Items(8000).dump();  // 38,891 bytes
  ASSERT_GT(big.size(), kMaxParameterEnvBytes);
  Object given =
      Object::array({{{"name", "items"}, {"value", big}}, {{"name", "small"}, {"value", "x"}}});
  FakeRun run(Steps({S("f", {{"forEach", "{{parameters.items}}"}})}, {{"parameters", params}}),
              {{"pipelineParameters", given}});
  PlanResult r = run.Plan();
  ASSERT_EQ(testing::Created(r).size(), 8000u);
  bool small = false, items = false;
  for (const auto& e : r.actions.front().job["spec"]["template"]["spec"]["containers"][0]["env"]) {
    small = small || e["name"] == "STEPLINE_PARAM_SMALL";
    items = items || e["name"] == "STEPLINE_PARAM_ITEMS";
  }
  EXPECT_TRUE(small);
  EXPECT_FALSE(items) << "the list once per child: 8000 copies";
}

// Issue #22's target: 100,000 children, each with an output and an output artifact, some
// failing (caught), and a step after them that reads the fan-in. Every status the run writes
// (the first plan, children starting, half done, all done) stays below 256 KiB; the fan-in that
// does not fit is not written and the step after it fails saying where the values are.
TEST(FanInSizeTest, AHundredThousandChildrenKeepEveryStatusBelow256KiB) {
  constexpr size_t kChildren = 100'000;
  Object outputs = {{"parameters", {"v"}}, {"artifacts", {{{"name", "m"}, {"path", "/out/m"}}}}};
  LeanFanOut run(
      kChildren,
      {{"command", {"true", "{{item}}"}}, {"outputs", outputs}, {"onFailure", "Continue"}});
  size_t largest = 0;
  auto plan = [&](const char* stage) {
    size_t bytes = StatusBytes(run.Plan().status);
    largest = std::max(largest, bytes);
    EXPECT_LT(bytes, kMaxStatusBytes) << stage;
    return bytes;
  };
  plan("start: the snapshot, and every child's Job created");
  ASSERT_EQ(run.jobs(), kChildren);
  for (size_t i = 0; i < kChildren; ++i) run.Run(i);
  plan("every child running");
  ASSERT_EQ(run.StepOf("f")->children->running, static_cast<int64_t>(kChildren));
  const std::string value = "{\"v\":\"" + std::string(200, 'v') + "\"}";
  run.Finish(0, kChildren / 2, value);
  plan("half done, 1% of them failed");
  for (size_t i = kChildren / 2; i < kChildren; ++i) run.Succeed(i, value);
  plan("all done, and the step after it decided");
  const StepStatus* f = run.StepOf("f");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(Phase(f), "Failed");
  EXPECT_EQ(f->children->failed, 500);
  EXPECT_EQ(f->children->succeeded, static_cast<int64_t>(kChildren) - 500);
  EXPECT_EQ(f->outputs.count("v"), 0u);
  EXPECT_EQ(f->artifacts.count("m"), 0u);
  EXPECT_THAT(f->message, HasSubstr("output \"v\" ("));
  EXPECT_THAT(f->message, HasSubstr("too large to store (over 8 MiB); each child's value stays"))
      << "100,000 values of 200 bytes: 21 MB";
  EXPECT_TRUE(f->stored_outputs.empty());
  EXPECT_THAT(f->message, HasSubstr("the URIs of output artifact \"m\" ("));
  ASSERT_EQ(f->stored_artifacts.size(), 1u) << "100,000 URIs of ~60 bytes: stored";
  EXPECT_EQ(f->stored_artifacts[0].items, static_cast<int64_t>(kChildren));
  EXPECT_GT(f->stored_artifacts[0].config_maps.size(), 1u);
  const StepStatus* g = run.StepOf("g");
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(g->reason, "TemplateError");
  EXPECT_THAT(g->message, HasSubstr("not kept in status: larger than 64 KiB (the fan-in of "
                                    "100000 children)"));
  EXPECT_EQ(run.execution().status.pipeline_execution_status, ExecutionStatus::kFailed);
  ::testing::Test::RecordProperty("largest_status_bytes", static_cast<int>(largest));
}

}  // namespace
}  // namespace stepline::reconcilers
