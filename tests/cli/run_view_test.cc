#include "cli/run_view.h"

#include <gtest/gtest.h>

#include "fixtures.h"

namespace stepline::cli {
namespace {

StepView Step(const std::string& name, std::vector<std::string> deps) {
  StepView s;
  s.name = name;
  s.depends_on = std::move(deps);
  return s;
}

TEST(OrderStepsTest, Table) {
  struct Case {
    std::string name;
    std::vector<StepView> in;
    std::vector<std::string> want_order;
    std::vector<std::string> want_parent;
    std::vector<int> want_depth;
  };
  const std::vector<Case> cases = {
      {"chain declared backwards",
       {Step("c", {"b"}), Step("b", {"a"}), Step("a", {})},
       {"a", "b", "c"},
       {"", "a", "b"},
       {0, 1, 2}},
      {"diamond: the join's parent is the later dependency",
       {Step("a", {}), Step("b", {"a"}), Step("c", {"a"}), Step("d", {"c", "b"})},
       {"a", "b", "c", "d"},
       {"", "a", "a", "c"},
       {0, 1, 1, 2}},
      {"two roots keep declaration order",
       {Step("x", {}), Step("y", {})},
       {"x", "y"},
       {"", ""},
       {0, 0}},
      {"depth first: a child right below its parent",
       {Step("x", {}), Step("y", {"x"}), Step("z", {"x"}), Step("w", {"y"})},
       {"x", "y", "w", "z"},
       {"", "x", "y", "x"},
       {0, 1, 2, 1}},
      {"unknown dependency ignored", {Step("a", {"ghost"})}, {"a"}, {""}, {0}},
      {"a cycle goes last, unparented",
       {Step("a", {"b"}), Step("b", {"a"}), Step("c", {})},
       {"c", "a", "b"},
       {"", "", ""},
       {0, 0, 0}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto out = OrderSteps(c.in);
    ASSERT_EQ(out.size(), c.want_order.size());
    for (size_t i = 0; i < out.size(); ++i) {
      EXPECT_EQ(out[i].name, c.want_order[i]);
      EXPECT_EQ(out[i].parent, c.want_parent[i]);
      EXPECT_EQ(out[i].depth, c.want_depth[i]);
    }
  }
}

TEST(RunViewTest, ReadsStatusAndSnapshot) {
  RunView v = RunViewFromObject(testing::ForecastRun());
  EXPECT_EQ(v.name, "forecast-1");
  EXPECT_EQ(v.ns, "ml");
  EXPECT_EQ(v.pipeline, "forecast");
  EXPECT_EQ(v.status, "Executing");
  EXPECT_FALSE(v.Finished());
  ASSERT_EQ(v.steps.size(), 6u);
  EXPECT_EQ(v.steps[0].name, "prepare");
  EXPECT_EQ(v.steps[0].attempts, 2);
  ASSERT_EQ(v.steps[0].outputs.size(), 1u);
  EXPECT_EQ(v.steps[0].outputs[0].second, "1200");
  const StepView* train = v.Find("train");
  ASSERT_NE(train, nullptr);
  EXPECT_TRUE(train->fan_out);
  EXPECT_EQ(train->children.total, 4);
  ASSERT_EQ(train->failed_children.size(), 1u);
  EXPECT_EQ(train->failed_children[0].item, "ch");
  EXPECT_EQ(v.Find("approve")->type, "Approval");
  EXPECT_EQ(v.Find("evaluate")->parent, "quota-hog");
  EXPECT_EQ(v.Find("register")->depth, 4);
  EXPECT_EQ(v.Find("nope"), nullptr);
}

TEST(RunViewTest, EmptyObjectIsPending) {
  RunView v = RunViewFromObject(k8s::Object::object());
  EXPECT_EQ(v.status, "Pending");
  EXPECT_TRUE(v.steps.empty());
}

TEST(ApplyRetryEventsTest, LatestFailureClassPerStep) {
  RunView v = RunViewFromObject(testing::ForecastRun());
  v.Find("prepare");
  for (auto& s : v.steps) s.reason = "";
  auto event = [](const std::string& message) {
    return k8s::Object{{"reason", "StepRetrying"}, {"message", message}};
  };
  ApplyRetryEvents({event("step \"prepare\": attempt 1 of 3 failed (Error); retrying in 2s"),
                    event("step \"prepare\": attempt 2 of 3 failed (OOMKilled); retrying in 4s"),
                    event("step \"quota-hog\": malformed"),
                    k8s::Object{{"reason", "StepFailed"}, {"message", "step \"evaluate\": x"}}},
                   &v);
  EXPECT_EQ(v.Find("prepare")->reason, "OOMKilled");
  EXPECT_EQ(v.Find("quota-hog")->reason, "");
  EXPECT_EQ(v.Find("evaluate")->reason, "");
}

TEST(ItemTextTest, Table) {
  const std::vector<std::pair<k8s::Object, std::string>> cases = {
      {"fr", "fr"},
      {"\"ch\"", "ch"},
      {"{\"region\":\"us\"}", "{\"region\":\"us\"}"},
      {k8s::Object::parse(R"({"a":1})"), R"({"a":1})"},
      {3, "3"},
      {nullptr, ""}};
  for (const auto& [in, want] : cases) {
    SCOPED_TRACE(want);
    EXPECT_EQ(ItemText(in), want);
  }
}

TEST(StepsFromPipelineTest, SpecStepsInDagOrder) {
  auto p = k8s::Object::parse(R"({"spec": {"steps": [
      {"name": "b", "dependsOn": ["a"]}, {"name": "a"}, {"name": "gate", "type": "Approval",
       "dependsOn": ["b"]}]}})");
  auto steps = StepsFromPipeline(p);
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].name, "a");
  EXPECT_EQ(steps[2].type, "Approval");
  EXPECT_TRUE(
      StepsFromPipeline(k8s::Object::parse(R"({"spec":{"pipelineDefinition":"{}"}})")).empty());
}

}  // namespace
}  // namespace stepline::cli
