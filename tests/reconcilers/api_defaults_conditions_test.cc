// stepDefaults merged under a step (EffectiveStep) and Kubernetes condition semantics
// (SetCondition).
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "reconcilers/api_types.h"

namespace stepline::reconcilers {
namespace {

using std::chrono::seconds;

Step MustParseStep(const char* text) {
  auto s = ParseStep(Json::parse(text), "step");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : Step{};
}

// The design's stepDefaults (DESIGN.md section 1) plus env, nodeSelector and tolerations.
Step Defaults() {
  return MustParseStep(R"({"name": "defaults", "image": "registry.example/ml:1.4",
    "command": ["python"], "args": ["main.py"], "workingDir": "/app",
    "env": [{"name": "LOG", "value": "info"}, {"name": "MODE", "value": "batch"}],
    "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "4Gi"}},
    "nodeSelector": {"pool": "cpu", "zone": "a"},
    "tolerations": [{"key": "spot", "operator": "Exists"}],
    "timeoutSeconds": 600, "onFailure": "Continue",
    "retryPolicy": {"maxAttempts": 3, "intervalSeconds": 30, "backoffRate": 2,
                    "retryOn": ["Error"]}})");
}

TEST(EffectiveStepTest, EmptyStepTakesEveryDefault) {
  Step s = EffectiveStep(Defaults(), MustParseStep(R"({"name": "prepare"})"));
  EXPECT_EQ(s.name, "prepare");
  EXPECT_EQ(s.image, "registry.example/ml:1.4");
  EXPECT_EQ(s.command, std::vector<std::string>{"python"});
  EXPECT_EQ(s.args, std::vector<std::string>{"main.py"});
  EXPECT_EQ(s.working_dir, "/app");
  EXPECT_EQ(s.env.size(), 2u);
  EXPECT_EQ(s.resources->requests.at("memory"), "2Gi");
  EXPECT_EQ(s.node_selector.at("zone"), "a");
  EXPECT_EQ(s.tolerations.size(), 1u);
  EXPECT_EQ(s.timeout_seconds, 600);
  EXPECT_EQ(s.retry_policy->max_attempts, 3);
  EXPECT_EQ(s.on_failure, OnFailure::kContinue);
  EXPECT_EQ(s.type, StepType::kContainer);
}

TEST(EffectiveStepTest, StepFieldsWinAndMapsMergeKeyByKey) {
  Step s = EffectiveStep(Defaults(), MustParseStep(R"({"name": "train", "type": "Container",
    "dependsOn": ["prepare"], "image": "gpu:2", "command": ["sh", "-c"],
    "env": [{"name": "MODE", "value": "train"}, {"name": "COUNTRY", "value": "{{item}}"}],
    "resources": {"requests": {"cpu": "4", "nvidia.com/gpu": "1"}},
    "nodeSelector": {"pool": "gpu"}, "tolerations": [{"key": "gpu", "operator": "Exists"}],
    "timeoutSeconds": 1800, "onFailure": "Fail",
    "retryPolicy": {"maxAttempts": 5, "maxIntervalSeconds": 600}})"));
  EXPECT_EQ(s.image, "gpu:2");
  EXPECT_EQ(s.command, (std::vector<std::string>{"sh", "-c"}));
  EXPECT_EQ(s.args, std::vector<std::string>{"main.py"});  // not given by the step
  EXPECT_EQ(s.depends_on, std::vector<std::string>{"prepare"});
  ASSERT_EQ(s.env.size(), 3u);
  EXPECT_EQ(s.env[0].name, "LOG");
  EXPECT_EQ(s.env[1].name, "MODE");  // replaced in place
  EXPECT_EQ(s.env[1].value, "train");
  EXPECT_EQ(s.env[2].name, "COUNTRY");
  EXPECT_EQ(s.resources->requests,
            (StringMap{{"cpu", "4"}, {"memory", "2Gi"}, {"nvidia.com/gpu", "1"}}));
  EXPECT_EQ(s.resources->limits, (StringMap{{"memory", "4Gi"}}));
  EXPECT_EQ(s.node_selector, (StringMap{{"pool", "gpu"}, {"zone", "a"}}));
  EXPECT_EQ(s.tolerations[0]["key"], "gpu");
  EXPECT_EQ(s.timeout_seconds, 1800);
  EXPECT_EQ(s.on_failure, OnFailure::kFail);
  const RetryPolicy& p = *s.retry_policy;
  EXPECT_EQ(p.max_attempts, 5);
  EXPECT_EQ(p.interval_seconds, 30);
  EXPECT_EQ(p.backoff_rate, 2.0);
  EXPECT_EQ(p.max_interval_seconds, 600);
  EXPECT_EQ(p.retry_on, std::vector<std::string>{"Error"});
}

TEST(EffectiveStepTest, GraphFieldsNeverComeFromDefaults) {
  Step defaults = Defaults();
  defaults.depends_on = {"x"};
  defaults.when = "false";
  defaults.for_each = "[1]";
  defaults.max_parallel = 3;
  defaults.outputs = {"o"};
  defaults.message = "m";
  defaults.type = StepType::kFail;
  Step s = EffectiveStep(defaults, MustParseStep(R"({"name": "a"})"));
  EXPECT_TRUE(s.depends_on.empty());
  EXPECT_EQ(s.when, "");
  EXPECT_EQ(s.for_each, "");
  EXPECT_FALSE(s.max_parallel.has_value());
  EXPECT_TRUE(s.outputs.empty());
  EXPECT_EQ(s.message, "");
  EXPECT_EQ(s.type, StepType::kContainer);
}

TEST(EffectiveStepTest, NoDefaultsGivesDesignDefaults) {
  Step s = EffectiveStep(Step{}, MustParseStep(R"({"name": "a", "type": "Approval"})"));
  EXPECT_EQ(s.type, StepType::kApproval);
  EXPECT_EQ(s.on_failure, OnFailure::kFail);
  EXPECT_FALSE(s.retry_policy.has_value());
  EXPECT_FALSE(s.resources.has_value());
}

TEST(EffectiveStepTest, PipelineStepDefaultsParseUnderTheirPath) {
  auto p = ParsePipelineSpec(Json::parse(R"({"stepDefaults": {"image": "i",
    "timeoutSeconds": 60}, "steps": [{"name": "a"}]})"),
                             "spec");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  Step s = EffectiveStep(*p->step_defaults, p->steps[0]);
  EXPECT_EQ(s.image, "i");
  EXPECT_EQ(s.timeout_seconds, 60);
}

Condition Cond(std::string type, std::string status, std::string reason, std::string message = "") {
  Condition c;
  c.type = std::move(type);
  c.status = std::move(status);
  c.reason = std::move(reason);
  c.message = std::move(message);
  return c;
}

TEST(SetConditionTest, TransitionTimeChangesOnlyWithStatus) {
  const k8s::WallTime t0{seconds(1'700'000'000)};
  const k8s::WallTime t1 = t0 + seconds(60);
  const k8s::WallTime t2 = t0 + seconds(120);
  std::vector<Condition> conds;

  EXPECT_TRUE(SetCondition(&conds, Cond("Succeeded", "Unknown", "Running", "1 running"), t0));
  ASSERT_EQ(conds.size(), 1u);
  EXPECT_EQ(conds[0].last_transition_time, t0);

  // Same status, new reason and message: updated, transition time kept.
  EXPECT_TRUE(SetCondition(&conds, Cond("Succeeded", "Unknown", "WaitingForQuota", "quota"), t1));
  EXPECT_EQ(conds[0].reason, "WaitingForQuota");
  EXPECT_EQ(conds[0].message, "quota");
  EXPECT_EQ(conds[0].last_transition_time, t0);

  // Nothing new: no change reported, so no status write.
  EXPECT_FALSE(SetCondition(&conds, Cond("Succeeded", "Unknown", "WaitingForQuota", "quota"), t2));
  EXPECT_EQ(conds[0].last_transition_time, t0);

  // A caller's own lastTransitionTime does not override the rule.
  Condition same = Cond("Succeeded", "Unknown", "WaitingForQuota", "quota");
  same.last_transition_time = t2;
  EXPECT_FALSE(SetCondition(&conds, same, t2));
  EXPECT_EQ(conds[0].last_transition_time, t0);

  // Status changes: transition time moves.
  EXPECT_TRUE(SetCondition(&conds, Cond("Succeeded", "True", "Succeeded"), t2));
  EXPECT_EQ(conds[0].status, "True");
  EXPECT_EQ(conds[0].last_transition_time, t2);
}

TEST(SetConditionTest, ConditionsAreKeyedByType) {
  const k8s::WallTime t0{seconds(1'700'000'000)};
  std::vector<Condition> conds;
  SetCondition(&conds, Cond(kConditionSucceeded, kConditionUnknown, "Running"), t0);
  Condition ready = Cond(kConditionReady, kConditionUnknown, "Running");
  ready.observed_generation = 3;
  SetCondition(&conds, ready, t0);
  ASSERT_EQ(conds.size(), 2u);
  ASSERT_NE(FindCondition(conds, "Ready"), nullptr);
  EXPECT_EQ(FindCondition(conds, "Ready")->observed_generation, 3);
  EXPECT_EQ(FindCondition(conds, "Missing"), nullptr);

  ready.observed_generation = 4;  // a new generation alone is a change
  EXPECT_TRUE(SetCondition(&conds, ready, t0 + seconds(5)));
  EXPECT_EQ(FindCondition(conds, "Ready")->observed_generation, 4);
  EXPECT_EQ(FindCondition(conds, "Ready")->last_transition_time, t0);
}

TEST(SetConditionTest, ParsedConditionWithoutTimeGetsOne) {
  const k8s::WallTime t0{seconds(1'700'000'000)};
  auto c = ParseCondition(Json::parse(R"({"type": "Ready", "status": "True"})"), "c");
  ASSERT_TRUE(c.ok());
  std::vector<Condition> conds{*c};
  EXPECT_TRUE(SetCondition(&conds, Cond("Ready", "True", ""), t0));
  EXPECT_EQ(conds[0].last_transition_time, t0);
  EXPECT_EQ(ToJson(conds[0])["lastTransitionTime"], "2023-11-14T22:13:20Z");
}

}  // namespace
}  // namespace stepline::reconcilers
