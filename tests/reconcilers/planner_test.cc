#include "reconcilers/planner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "planner_test_util.h"
#include "reconcilers/job_builder.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using std::chrono::seconds;
using testing::Condition;
using testing::Created;
using testing::Deleted;
using ::testing::ElementsAre;
using testing::EventReasons;
using testing::FakeRun;
using ::testing::HasSubstr;
using testing::Phase;
using testing::S;
using testing::StatusOf;
using testing::Steps;

TEST(PlannerStartTest, PipelineNotFoundWaits) {
  FakeRun run(Steps({S("a")}));
  run.RemovePipeline();
  PlanResult r = run.Plan();
  EXPECT_EQ(StatusOf(run), "Pending");
  EXPECT_EQ(Condition(r.status, kConditionSucceeded), "Unknown/PipelineNotFound");
  EXPECT_EQ(Condition(r.status, kConditionReady), "Unknown/PipelineNotFound");
  EXPECT_TRUE(Created(r).empty());
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_EQ(*r.requeue_after, seconds(60));
}

TEST(PlannerStartTest, InvalidPipelineFails) {
  FakeRun run(Steps({S("a")}));
  run.invalid_message = "dependency cycle: a -> a";
  PlanResult r = run.Plan();
  EXPECT_EQ(StatusOf(run), "Failed");
  EXPECT_EQ(Condition(r.status, kConditionSucceeded), "False/InvalidPipeline");
  EXPECT_THAT(r.status.failure_reason, HasSubstr("dependency cycle: a -> a"));
  EXPECT_THAT(EventReasons(r), ElementsAre("ExecutionFailed"));
}

TEST(PlannerStartTest, BadParametersFailWithTheParameterNamed) {
  Object params = Object::array({{{"name", "horizon"}, {"default", "1d"}, {"enum", {"1d", "1w"}}},
                                 {{"name", "n"}, {"type", "Integer"}, {"default", "3"}},
                                 {{"name", "required"}}});
  struct Case {
    std::string name;
    Object given;
    std::string want;
  };
  std::vector<Case> cases = {
      {"unknown",
       {{{"name", "colour"}, {"value", "x"}}, {{"name", "required"}, {"value", "y"}}},
       "parameter \"colour\": is not declared by the pipeline (it declares horizon, n, "
       "required): remove it from spec.pipelineParameters, or declare it in the Pipeline"},
      {"missing required", Object::array(),
       "parameter \"required\": is required and has no default"},
      {"outside enum",
       {{{"name", "horizon"}, {"value", "1y"}}, {{"name", "required"}, {"value", "y"}}},
       "parameter \"horizon\": \"1y\" is not one of the allowed values (1d, 1w)"},
      {"wrong type",
       {{{"name", "n"}, {"value", "three"}}, {{"name", "required"}, {"value", "y"}}},
       "parameter \"n\": must be an integer (got \"three\")"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FakeRun run(Steps({S("a")}, {{"parameters", params}}), {{"pipelineParameters", c.given}});
    PlanResult r = run.Plan();
    EXPECT_EQ(StatusOf(run), "Failed");
    EXPECT_EQ(Condition(r.status, kConditionSucceeded), "False/InvalidParameters");
    EXPECT_EQ(r.status.failure_reason, "InvalidParameters: " + c.want);
    EXPECT_TRUE(Created(r).empty());
  }
}

TEST(PlannerDagTest, DiamondRunsInDependencyOrder) {
  FakeRun run(Steps({S("a"), S("b", {{"dependsOn", {"a"}}}), S("c", {{"dependsOn", {"a"}}}),
                     S("d", {{"dependsOn", {"b", "c"}}}), S("e", {{"dependsOn", {"d"}}})}));
  PlanResult r = run.Plan();
  EXPECT_THAT(Created(r), ElementsAre("run-a-1"));
  EXPECT_EQ(StatusOf(run), "Executing");
  EXPECT_EQ(r.status.progress, "0/5");
  EXPECT_EQ(r.status.pipeline_generation, 3);
  EXPECT_THAT(EventReasons(r), ElementsAre("StepStarted"));
  EXPECT_TRUE(Created(run.Plan()).empty()) << "no duplicate while a runs";
  run.Succeed("run-a-1");
  EXPECT_THAT(Created(run.Plan()), ElementsAre("run-b-1", "run-c-1"));
  run.Succeed("run-b-1");
  EXPECT_TRUE(Created(run.Plan()).empty()) << "d waits for c";
  EXPECT_EQ(run.StepOf("d")->message, "waiting for c");
  run.Succeed("run-c-1");
  EXPECT_THAT(Created(run.Plan()), ElementsAre("run-d-1"));
  run.Succeed("run-d-1");
  EXPECT_THAT(Created(run.Plan()), ElementsAre("run-e-1"));
  run.Succeed("run-e-1");
  r = run.Plan();
  EXPECT_EQ(StatusOf(run), "Succeeded");
  EXPECT_EQ(r.status.progress, "5/5");
  EXPECT_EQ(Condition(r.status, kConditionSucceeded), "True/Succeeded");
  EXPECT_EQ(Condition(r.status, kConditionReady), "True/Succeeded");
  EXPECT_THAT(EventReasons(r), ElementsAre("StepSucceeded", "ExecutionSucceeded"));
  EXPECT_TRUE(run.Plan().actions.empty()) << "a finished execution does nothing";
}

TEST(PlannerDagTest, ExecutionParallelismLimitKeepsDeclarationOrder) {
  FakeRun run(Steps({S("x"), S("y"), S("z")},
                    {{"parallelismConfiguration", {{"maxParallelExecutionSteps", 2}}}}));
  EXPECT_THAT(Created(run.Plan()), ElementsAre("run-x-1", "run-y-1"));
  run.Succeed("run-y-1");
  EXPECT_THAT(Created(run.Plan()), ElementsAre("run-z-1"));
}

TEST(PlannerDagTest, ExecutionOverridesPipelineParallelism) {
  FakeRun run(Steps({S("x"), S("y"), S("z")},
                    {{"parallelismConfiguration", {{"maxParallelExecutionSteps", 2}}}}),
              {{"parallelismConfiguration", {{"maxParallelExecutionSteps", 1}}}});
  EXPECT_THAT(Created(run.Plan()), ElementsAre("run-x-1"));
}

TEST(PlannerJobTest, JobCarriesTheDesignsFields) {
  FakeRun run(
      Steps(
          {S("train", {{"command", {"python", "train.py", "--h", "{{parameters.horizon}}"}},
                       {"timeoutSeconds", 1800},
                       {"env", {{{"name", "RUN"}, {"value", "{{execution.name}}"}}}},
                       {"resources", {{"requests", {{"cpu", "4"}, {"nvidia.com/gpu", "1"}}}}}})},
          {{"parameters", {{{"name", "horizon"}, {"default", "1d"}}}},
           {"tags", {{{"key", "team"}, {"value", "ml"}}, {{"key", "bad key!"}, {"value", "x"}}}}}),
      {{"pipelineParameters", {{{"name", "horizon"}, {"value", "1w"}}}}});
  PlanResult r = run.Plan();
  ASSERT_EQ(Created(r).size(), 1u);
  const Object& job = r.actions.front().job;
  EXPECT_EQ(job["metadata"]["labels"][kLabelExecution], "run");
  EXPECT_EQ(job["metadata"]["labels"][kLabelStep], "train");
  EXPECT_EQ(job["metadata"]["labels"][kLabelAttempt], "1");
  EXPECT_EQ(job["metadata"]["labels"][kLabelManagedBy], "stepline");
  EXPECT_EQ(job["metadata"]["labels"]["team"], "ml");
  EXPECT_FALSE(job["metadata"]["labels"].contains("bad key!"));
  const Object& owner = job["metadata"]["ownerReferences"][0];
  EXPECT_EQ(owner["uid"], "run-uid");
  EXPECT_EQ(owner["controller"], true);
  EXPECT_EQ(owner["blockOwnerDeletion"], true);
  EXPECT_EQ(job["spec"]["backoffLimit"], 0);
  EXPECT_EQ(job["spec"]["activeDeadlineSeconds"], 1800);
  const Object& pod = job["spec"]["template"]["spec"];
  EXPECT_EQ(pod["restartPolicy"], "Never");
  EXPECT_EQ(pod["automountServiceAccountToken"], false);
  EXPECT_EQ(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
  const Object& c = pod["containers"][0];
  EXPECT_EQ(c["command"], Object({"python", "train.py", "--h", "1w"}));
  EXPECT_EQ(c["terminationMessagePolicy"], "FallbackToLogsOnError");
  EXPECT_EQ(c["securityContext"]["allowPrivilegeEscalation"], false);
  EXPECT_EQ(c["securityContext"]["capabilities"]["drop"], Object({"ALL"}));
  EXPECT_EQ(c["resources"]["requests"]["nvidia.com/gpu"], "1");
  std::map<std::string, std::string> env;
  for (const auto& e : c["env"]) env[e["name"]] = e.value("value", "");
  EXPECT_EQ(env["RUN"], "run");
  EXPECT_EQ(env["STEPLINE_EXECUTION"], "run");
  EXPECT_EQ(env["STEPLINE_STEP"], "train");
  EXPECT_EQ(env["STEPLINE_ATTEMPT"], "1");
  EXPECT_EQ(env["STEPLINE_PARAM_HORIZON"], "1w");
  EXPECT_EQ(pod["containers"].size(), 1u);
  EXPECT_FALSE(pod.contains("hostNetwork"));
}

TEST(PlannerJobTest, SecurityContextMergesUnderTheStepAndNeverWidens) {
  Object spec = Steps({S("train", {{"securityContext", {{"runAsUser", 2000}}}}), S("eval")});
  spec["stepDefaults"]["securityContext"] = {{"runAsNonRoot", true},
                                             {"runAsUser", 1000},
                                             {"fsGroup", 3000},
                                             {"supplementalGroups", {4000, 4001}}};
  FakeRun run(spec);
  PlanResult r = run.Plan();
  ASSERT_EQ(Created(r).size(), 2u);
  std::map<std::string, Object> pods;
  for (const auto& a : r.actions) {
    if (a.job.is_object()) pods[a.job["metadata"]["name"]] = a.job["spec"]["template"]["spec"];
  }
  const Object& train = pods["run-train-1"]["securityContext"];
  EXPECT_EQ(train["runAsUser"], 2000) << "the step's field wins";
  EXPECT_EQ(train["runAsNonRoot"], true);
  EXPECT_EQ(train["fsGroup"], 3000);
  EXPECT_EQ(train["supplementalGroups"], Object({4000, 4001}));
  EXPECT_EQ(train["seccompProfile"]["type"], "RuntimeDefault");
  EXPECT_FALSE(train.contains("runAsGroup"));
  EXPECT_EQ(pods["run-eval-1"]["securityContext"]["runAsUser"], 1000);
  for (const auto& [name, pod] : pods) {
    SCOPED_TRACE(name);
    const Object& c = pod["containers"][0]["securityContext"];
    EXPECT_EQ(c["allowPrivilegeEscalation"], false);
    EXPECT_EQ(c["capabilities"]["drop"], Object({"ALL"}));
    EXPECT_FALSE(c.contains("privileged"));
  }
}

Object Retrying(int max_attempts, int interval, Object retry_on = nullptr) {
  Object p = {{"maxAttempts", max_attempts},
              {"intervalSeconds", interval},
              {"backoffRate", 2},
              {"maxIntervalSeconds", 100}};
  if (!retry_on.is_null()) p["retryOn"] = retry_on;
  return p;
}

TEST(PlannerRetryTest, BackoffSequenceWithNewJobPerAttempt) {
  FakeRun run(Steps({S("a", {{"retryPolicy", Retrying(5, 30)}})}));
  run.Plan();
  std::vector<int> waits = {30, 60, 100, 100};
  for (size_t i = 0; i < waits.size(); ++i) {
    SCOPED_TRACE(i);
    std::string job = run.LatestJob("a");
    EXPECT_EQ(job, "run-a-" + std::to_string(i + 1));
    run.Fail(job, 1);
    PlanResult r = run.Plan();
    EXPECT_EQ(Phase(run.StepOf("a")), "Retrying");
    EXPECT_THAT(EventReasons(r), ElementsAre("StepRetrying"));
    ASSERT_TRUE(r.requeue_after.has_value());
    EXPECT_EQ(*r.requeue_after, seconds(waits[i]));
    EXPECT_EQ(*run.StepOf("a")->next_attempt_time, run.now() + seconds(waits[i]));
    run.Advance(seconds(waits[i] - 1));
    EXPECT_TRUE(Created(run.Plan()).empty()) << "not before the wait";
    run.Advance(seconds(1));
    EXPECT_THAT(Created(run.Plan()), ElementsAre("run-a-" + std::to_string(i + 2)));
    EXPECT_EQ(run.StepOf("a")->attempts, static_cast<int64_t>(i + 2));
    EXPECT_EQ(run.StepOf("a")->reason, "Error") << "the last failure stays visible";
  }
  run.Fail("run-a-5", 1);
  PlanResult r = run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Failed");
  EXPECT_EQ(run.StepOf("a")->message,
            "attempt 5 of 5 failed (Error); no attempts left: exit code 1");
  EXPECT_EQ(StatusOf(run), "Failed");
  EXPECT_EQ(run.JobNames().size(), 5u) << "every attempt's Job is kept";
}

TEST(PlannerRetryTest, FailureClassesAndRetryOn) {
  struct Case {
    std::string name;
    Object retry_on;
    std::function<void(FakeRun&, const std::string&)> fail;
    std::string want_phase, want_reason;
  };
  std::vector<Case> cases = {
      {"error retried by default", nullptr, [](FakeRun& r, const std::string& j) { r.Fail(j, 2); },
       "Retrying", "Error"},
      {"oom retried when listed", Object({"OOMKilled"}),
       [](FakeRun& r, const std::string& j) { r.Fail(j, 137, "OOMKilled"); }, "Retrying",
       "OOMKilled"},
      {"oom not retried when not listed", Object({"Error"}),
       [](FakeRun& r, const std::string& j) { r.Fail(j, 137, "OOMKilled"); }, "Failed",
       "OOMKilled"},
      {"deadline", nullptr,
       [](FakeRun& r, const std::string& j) { r.FailJobCondition(j, "DeadlineExceeded"); },
       "Retrying", "DeadlineExceeded"},
      {"disruption retried even when not listed", Object({"Error"}),
       [](FakeRun& r, const std::string& j) { r.Disrupt(j); }, "Pending", "Disrupted"},  // at once
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FakeRun run(Steps({S("a", {{"retryPolicy", Retrying(3, 1, c.retry_on)}})}));
    run.Plan();
    c.fail(run, "run-a-1");
    run.Plan();
    EXPECT_EQ(Phase(run.StepOf("a")), c.want_phase);
    EXPECT_EQ(run.StepOf("a")->reason, c.want_reason);
  }
}

TEST(PlannerRetryTest, FailureTargetAloneIsAFailureNotAnAbandonment) {
  // Kubernetes 1.31+ sets FailureTarget before Failed; an attempt seen in between has failed.
  FakeRun run(Steps({S("a", {{"retryPolicy", Retrying(2, 5)}})}));
  run.Plan();
  run.Fail("run-a-1", 1);
  Object& conds = run.Job("run-a-1")->at("status")["conditions"];
  conds.erase(conds.size() - 1);  // only FailureTarget remains
  PlanResult r = run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Retrying");
  EXPECT_FALSE(run.Job("run-a-1")->at("metadata").contains("annotations")) << "not abandoned";
  EXPECT_EQ(*r.requeue_after, seconds(5));
  run.Advance(seconds(3));
  EXPECT_EQ(*run.Plan().requeue_after, seconds(2)) << "the retry time does not move";
  run.Advance(seconds(2));
  EXPECT_THAT(Created(run.Plan()), ElementsAre("run-a-2"));
}

TEST(PlannerRetryTest, DisruptionRetriedThreeTimesWithoutPolicy) {
  FakeRun run(Steps({S("a")}));
  run.Plan();
  for (int i = 1; i <= 3; ++i) {
    run.Disrupt(run.LatestJob("a"));
    EXPECT_THAT(Created(run.Plan()), ElementsAre("run-a-" + std::to_string(i + 1)));
  }
  run.Disrupt("run-a-4");
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Failed");
  EXPECT_EQ(run.StepOf("a")->reason, "Disrupted");
}

TEST(PlannerRetryTest, ExpiryStopsRetries) {
  Object policy = Retrying(10, 60);
  policy["expireAfterMinutes"] = 2;
  FakeRun run(Steps({S("a", {{"retryPolicy", policy}})}));
  run.Plan();
  run.Advance(seconds(30));
  run.Fail("run-a-1", 1);
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Retrying");
  run.Advance(seconds(60));
  run.Plan();
  run.Fail("run-a-2", 1);  // the next wait (120 s) would start attempt 3 after the window
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Failed");
  EXPECT_THAT(run.StepOf("a")->message, HasSubstr("the retry window of 2m has expired"));
}

TEST(PlannerCatchTest, ContinueLetsTheRunGoOnAndFailSkipsDependents) {
  for (bool cont : {true, false}) {
    SCOPED_TRACE(cont ? "Continue" : "Fail");
    Object a = S("a");
    if (cont) a["onFailure"] = "Continue";
    FakeRun run(Steps({a, S("b", {{"dependsOn", {"a"}}}),
                       S("c", {{"dependsOn", {"b"}}, {"when", "{{steps.a.phase}} == Failed"}})}));
    run.Plan();
    run.Fail("run-a-1", 3);
    PlanResult r = run.Plan();
    if (!cont) {
      EXPECT_TRUE(Created(r).empty());
      EXPECT_EQ(Phase(run.StepOf("b")), "Skipped");
      EXPECT_EQ(run.StepOf("b")->message, "not run: step \"a\" failed");
      EXPECT_EQ(StatusOf(run), "Failed");
      EXPECT_EQ(
          r.status.failure_reason,
          "StepFailed: step \"a\" failed: attempt 1 failed (Error); no attempts left: exit code 3");
      EXPECT_EQ(Condition(r.status, kConditionSucceeded), "False/StepFailed");
      continue;
    }
    EXPECT_THAT(Created(r), ElementsAre("run-b-1"));
    run.Succeed("run-b-1");
    EXPECT_THAT(Created(run.Plan()), ElementsAre("run-c-1")) << "c sees a's phase";
    run.Succeed("run-c-1");
    run.Plan();
    EXPECT_EQ(StatusOf(run), "Succeeded");
    EXPECT_EQ(Phase(run.StepOf("a")), "Failed");
  }
}

TEST(PlannerWhenTest, SkipRunAndError) {
  struct Case {
    std::string name, when, want_phase, want_message;
  };
  std::vector<Case> cases = {
      {"true runs", "{{steps.eval.outputs.accuracy}} >= {{parameters.min}}", "Pending", ""},
      {"false skips", "{{steps.eval.outputs.accuracy}} >= 0.95", "Skipped",
       "when was false: {{steps.eval.outputs.accuracy}} >= 0.95"},
      {"unresolved fails the step", "{{steps.eval.outputs.recall}} > 1", "Failed",
       "when: {{steps.eval.outputs.recall}}: step \"eval\" has no output \"recall\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    FakeRun run(
        Steps({S("eval"), S("gate", {{"dependsOn", {"eval"}}, {"when", c.when}}),
               S("after", {{"dependsOn", {"gate"}}})},
              {{"parameters", {{{"name", "min"}, {"type", "Float"}, {"default", "0.8"}}}}}));
    run.Plan();
    run.Succeed("run-eval-1", R"({"accuracy": "0.91"})");
    PlanResult r = run.Plan();
    EXPECT_EQ(run.StepOf("eval")->outputs.at("accuracy"), "0.91");
    EXPECT_EQ(Phase(run.StepOf("gate")), c.want_phase);
    if (!c.want_message.empty()) {
      EXPECT_EQ(run.StepOf("gate")->message, c.want_message);
    }
    if (c.want_phase == "Skipped") {
      EXPECT_THAT(Created(r), ElementsAre("run-after-1")) << "a skipped step lets dependents run";
    }
  }
}

// Issue #16: a container that exits 0 and writes plain text to /dev/termination-log succeeded.
TEST(PlannerOutputsTest, NonJsonTerminationMessageSucceedsWithoutOutputs) {
  FakeRun run(Steps({S("a")}));
  run.Plan();
  run.Succeed("run-a-1", "accuracy=0.9");
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Succeeded");
  EXPECT_EQ(run.StepOf("a")->reason, "NoOutputs");
  EXPECT_TRUE(run.StepOf("a")->outputs.empty());
  EXPECT_THAT(run.StepOf("a")->message,
              HasSubstr("succeeded without outputs: outputs: the termination message is not a "
                        "JSON object of strings: accuracy=0.9"));
  EXPECT_EQ(StatusOf(run), "Succeeded");
}

TEST(PlannerOutputsTest, OutputsSurviveTheirPodsGoing) {
  FakeRun run(Steps(
      {S("a"), S("b", {{"dependsOn", {"a"}}, {"command", {"echo", "{{steps.a.outputs.x}}"}}})}));
  run.Plan();
  run.Succeed("run-a-1", R"({"x": "7"})");
  run.Plan();
  run.DropPods("run-a-1");
  run.Plan();
  EXPECT_EQ(run.StepOf("a")->outputs.at("x"), "7");
  EXPECT_EQ(run.Job("run-b-1")->at("spec")["template"]["spec"]["containers"][0]["command"],
            Object({"echo", "7"}));
}

TEST(PlannerFanOutTest, MaxParallelAndFanIn) {
  FakeRun run(Steps(
      {S("train", {{"forEach", "{{parameters.countries}}"},
                   {"maxParallel", 3},
                   {"command", {"train", "{{item}}"}}}),
       S("eval", {{"dependsOn", {"train"}}, {"command", {"eval", "{{steps.train.outputs.acc}}"}}})},
      {{"parameters",
        {{{"name", "countries"},
          {"type", "List"},
          {"default",
           R"(["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q","r","s","t"])"}}}}}));
  PlanResult r = run.Plan();
  EXPECT_THAT(Created(r), ElementsAre("run-train-0-1", "run-train-1-1", "run-train-2-1"));
  EXPECT_EQ(r.status.progress, "0/21");
  for (int done = 0; done < 20; ++done) {
    std::string job = run.LatestJob("train", done);
    ASSERT_FALSE(job.empty()) << done;
    int running = 0;
    for (const auto& name : run.JobNames())
      running += run.Job(name)->at("status").contains("conditions") ? 0 : 1;
    EXPECT_LE(running, 3);
    if (done == 4) {
      run.Fail(job, 1);  // no retry policy: the child fails
    } else {
      run.Succeed(job, done == 7 ? "" : R"({"acc":")" + std::to_string(done) + R"("})");
    }
    run.Plan();
  }
  const StepStatus* train = run.StepOf("train");
  EXPECT_EQ(Phase(train), "Failed");
  ASSERT_TRUE(train->children.has_value());
  EXPECT_EQ(train->children->total, 20);
  EXPECT_EQ(train->children->succeeded, 19);
  EXPECT_EQ(train->children->failed, 1);
  ASSERT_EQ(train->failed_children.size(), 1u);
  EXPECT_EQ(train->failed_children[0].index, 4);
  EXPECT_EQ(train->failed_children[0].item, "\"e\"");
  EXPECT_EQ(Object::parse(train->outputs.at("acc"))[4], nullptr);
  EXPECT_EQ(Object::parse(train->outputs.at("acc"))[7], nullptr);
  EXPECT_EQ(Object::parse(train->outputs.at("acc"))[19], "19");
  EXPECT_EQ(StatusOf(run), "Failed");
}

TEST(PlannerFanOutTest, ZeroOneAndObjectItems) {
  FakeRun zero(Steps({S("f", {{"forEach", "[]"}}), S("g", {{"dependsOn", {"f"}}})}));
  EXPECT_THAT(Created(zero.Plan()), ElementsAre("run-g-1"));
  EXPECT_EQ(Phase(zero.StepOf("f")), "Succeeded");
  FakeRun one(Steps({S("f", {{"forEach", R"([{"country":"fr","n":2}])"},
                             {"command", {"x", "{{item.country}}", "{{item}}"}}})}));
  PlanResult r = one.Plan();
  ASSERT_THAT(Created(r), ElementsAre("run-f-0-1"));
  const Object& c = r.actions.front().job["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["command"], Object({"x", "fr", R"({"country":"fr","n":2})"}));
  bool has_item = false;
  for (const auto& e : c["env"])
    has_item =
        has_item || (e["name"] == "STEPLINE_ITEM" && e["value"] == R"({"country":"fr","n":2})");
  EXPECT_TRUE(has_item);
  EXPECT_EQ(r.actions.front().job["metadata"]["labels"][kLabelIndex], "0");
}

TEST(PlannerFanOutTest, TenThousandChildrenKeepStatusSmall) {
  Object items = Object::array();
  for (int i = 0; i < 10000; ++i) items.push_back("item-" + std::to_string(i));
  FakeRun run(Steps({S("f", {{"forEach", items.dump()}})}));
  PlanResult r = run.Plan();
  EXPECT_EQ(Created(r).size(), 10000u) << "no limit: every child starts";
  for (int i = 0; i < 10000; ++i) {
    std::string job = "run-f-" + std::to_string(i) + "-1";
    if (i % 100 == 0) {
      run.Fail(job, 1, "Error", std::string(2000, 'x'));
    } else if (i % 2 == 0) {
      run.Succeed(job, R"({"v":"1"})");
    } else {
      run.Run(job);
    }
  }
  r = run.Plan();
  const StepStatus* f = run.StepOf("f");
  EXPECT_EQ(f->children->running, 5000);
  EXPECT_EQ(f->children->failed, 100);
  size_t bytes = ToJson(r.status).dump().size();
  EXPECT_LT(bytes, 200u * 1024) << "status must stay far below etcd's 1.5 MiB";
}

TEST(PlannerTemplateTest, UnresolvableReferenceFailsTheStep) {
  FakeRun run(Steps({S("a", {{"command", {"echo", "{{steps.zzz.outputs.x}}"}}})}));
  PlanResult r = run.Plan();
  EXPECT_TRUE(Created(r).empty());
  EXPECT_EQ(Phase(run.StepOf("a")), "Failed");
  EXPECT_EQ(run.StepOf("a")->reason, "TemplateError");
  EXPECT_THAT(run.StepOf("a")->message, HasSubstr("{{steps.zzz.outputs.x}}"));
  EXPECT_EQ(StatusOf(run), "Failed");
}

TEST(PlannerApprovalTest, WaitsForTheSignal) {
  FakeRun run(
      Steps({S("approve", {{"type", "Approval"}}), S("after", {{"dependsOn", {"approve"}}})}));
  PlanResult r = run.Plan();
  EXPECT_TRUE(Created(r).empty());
  EXPECT_EQ(Phase(run.StepOf("approve")), "Waiting");
  EXPECT_EQ(Condition(r.status, kConditionSucceeded), "Unknown/WaitingForApproval");
  run.execution().spec.signals.push_back(Signal{
      "approve", SignalOutcome::kSucceeded, "ok by alice", {{"ticket", "42"}}, Object::object()});
  EXPECT_THAT(Created(run.Plan()), ElementsAre("run-after-1"));
  EXPECT_EQ(Phase(run.StepOf("approve")), "Succeeded");
  EXPECT_EQ(run.StepOf("approve")->outputs.at("ticket"), "42");

  FakeRun rejected(Steps({S("approve", {{"type", "Approval"}})}));
  rejected.Plan();
  rejected.execution().spec.signals.push_back(
      Signal{"approve", SignalOutcome::kFailed, "no", {}, Object::object()});
  rejected.Plan();
  EXPECT_EQ(Phase(rejected.StepOf("approve")), "Failed");
  EXPECT_EQ(StatusOf(rejected), "Failed");
}

TEST(PlannerFailStepTest, EndsTheExecutionWithItsMessage) {
  FakeRun run(Steps(
      {S("stop", {{"type", "Fail"}, {"message", "accuracy too low for {{execution.name}}"}})}));
  PlanResult r = run.Plan();
  EXPECT_EQ(StatusOf(run), "Failed");
  EXPECT_EQ(r.status.failure_reason, "FailStep: step \"stop\" failed: accuracy too low for run");
}

// A Record step runs no Job: once its dependencies are done it succeeds with its values
// rendered as outputs, which later steps read; {{steps.S.jobName}} is the Job that succeeded.
TEST(PlannerRecordStepTest, SucceedsAtOnceWithItsValuesAsOutputs) {
  FakeRun run(Steps(
      {S("train"),
       S("model",
         {{"type", "Record"},
          {"dependsOn", {"train"}},
          {"values",
           {{"trainedBy", "{{steps.train.jobName}}"}, {"acc", "{{steps.train.outputs.acc}}"}}}}),
       S("use", {{"dependsOn", {"model"}}, {"args", {"{{steps.model.outputs.trainedBy}}"}}})}));
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("model")), "Pending");
  run.Succeed("run-train-1", R"({"acc": "0.9"})");
  PlanResult r = run.Plan();
  EXPECT_THAT(Created(r), ElementsAre("run-use-1")) << "the Record step itself creates no Job";
  const StepStatus* model = run.StepOf("model");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(Phase(model), "Succeeded");
  EXPECT_EQ(model->outputs, (StringMap{{"acc", "0.9"}, {"trainedBy", "run-train-1"}}));
  EXPECT_TRUE(model->job_name.empty());
}

TEST(PlannerRecordStepTest, AValueThatCannotBeRenderedFailsTheStep) {
  FakeRun run(
      Steps({S("train"), S("model", {{"type", "Record"},
                                     {"dependsOn", {"train"}},
                                     {"values", {{"acc", "{{steps.train.outputs.acc}}"}}}})}));
  run.Plan();
  run.Succeed("run-train-1");
  run.Plan();
  const StepStatus* model = run.StepOf("model");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(Phase(model), "Failed");
  EXPECT_EQ(model->reason, "TemplateError");
  EXPECT_EQ(model->message,
            "values.acc: {{steps.train.outputs.acc}}: step \"train\" has no output \"acc\"");
  EXPECT_EQ(StatusOf(run), "Failed");
}

TEST(PlannerStopTest, StopDeletesRunningJobsThenStopped) {
  FakeRun run(Steps({S("a"), S("b"), S("c", {{"dependsOn", {"a"}}})}));
  run.Plan();
  run.Succeed("run-b-1");
  run.Plan();
  run.execution().spec.stop = true;
  PlanResult r = run.Plan();
  EXPECT_THAT(Deleted(r), ElementsAre("run-a-1")) << "finished Jobs are kept";
  r = run.Plan();
  EXPECT_EQ(StatusOf(run), "Stopped");
  EXPECT_EQ(Condition(r.status, kConditionSucceeded), "False/Stopped");
  EXPECT_EQ(Phase(run.StepOf("a")), "Stopped");
  EXPECT_EQ(Phase(run.StepOf("b")), "Succeeded");
  EXPECT_THAT(EventReasons(r), ElementsAre("ExecutionStopped"));
  EXPECT_TRUE(Created(run.Plan()).empty());
}

TEST(PlannerTimeoutTest, ExecutionTimeoutDeletesAndFails) {
  FakeRun run(Steps({S("a")}), {{"timeoutSeconds", 600}});
  PlanResult r = run.Plan();
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_EQ(*r.requeue_after, seconds(600));
  run.Advance(seconds(600));
  r = run.Plan();
  EXPECT_THAT(Deleted(r), ElementsAre("run-a-1"));
  EXPECT_EQ(StatusOf(run), "Failed");
  EXPECT_EQ(Condition(r.status, kConditionSucceeded), "False/TimedOut");
  EXPECT_EQ(r.status.failure_reason, "TimedOut: the execution exceeded its timeout of 600s");
}

TEST(PlannerQuotaTest, QuotaIsAWaitWithBackoffAndSuspension) {
  FakeRun run(Steps({S("a", {{"timeoutSeconds", 60}})}));
  run.Plan();
  const char* msg = "Error creating: pods \"run-a-1-x\" is forbidden: exceeded quota: q";
  run.QuotaRefused("run-a-1", msg);
  PlanResult r = run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "WaitingForQuota");
  EXPECT_EQ(run.StepOf("a")->message, msg);
  EXPECT_EQ(Condition(r.status, kConditionSucceeded), "Unknown/WaitingForQuota");
  EXPECT_THAT(EventReasons(r), ElementsAre("WaitingForQuota"));
  EXPECT_EQ(run.Job("run-a-1")->at("spec")["suspend"], true) << "its deadline does not run";
  EXPECT_EQ(*r.requeue_after, seconds(10));
  run.Advance(seconds(10));
  run.Plan();
  EXPECT_EQ(run.Job("run-a-1")->at("spec")["suspend"], false) << "resumed after 10 s";
  run.QuotaRefused("run-a-1", msg);
  r = run.Plan();
  EXPECT_EQ(*r.requeue_after, seconds(20)) << "then 20 s";
  EXPECT_TRUE(EventReasons(r).empty()) << "still waiting: no new event";
  run.Advance(seconds(20));
  run.Plan();
  run.Run("run-a-1");
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Running");
  run.Succeed("run-a-1");
  run.Plan();
  EXPECT_EQ(StatusOf(run), "Succeeded");
  EXPECT_EQ(run.StepOf("a")->attempts, 1) << "a quota wait is not an attempt";
}

// The demo's race (CI, session 17): the Job controller retried and created the pod after the
// refusal our events show, and counted it active; our pod cache has not seen it. Suspending now
// would delete that pod, and the Job would count it as a failed attempt.
TEST(PlannerQuotaTest, ARefusalTheJobsActiveCountContradictsIsNotAQuotaWait) {
  FakeRun run(Steps({S("a")}));
  run.Plan();
  run.QuotaRefused("run-a-1", "Error creating: pods is forbidden: exceeded quota: q");
  (*run.Job("run-a-1"))["status"]["active"] = 1;
  PlanResult r = run.Plan();
  EXPECT_NE(Phase(run.StepOf("a")), "WaitingForQuota");
  EXPECT_TRUE(r.actions.empty()) << "no suspension";
  EXPECT_FALSE(run.Job("run-a-1")->at("spec").value("suspend", false));
}

// The suspension names the Job's resourceVersion: a Job the Job controller wrote since (a pod
// created after all) makes the API server refuse the patch (409) instead of deleting the pod.
TEST(PlannerQuotaTest, TheQuotaSuspensionIsConditionalOnTheJobAsObserved) {
  FakeRun run(Steps({S("a")}));
  run.Plan();
  (*run.Job("run-a-1"))["metadata"]["resourceVersion"] = "4711";
  run.QuotaRefused("run-a-1", "Error creating: pods is forbidden: exceeded quota: q");
  PlanResult r = run.Plan();
  ASSERT_EQ(r.actions.size(), 2u);  // the patch, the WaitingForQuota event
  EXPECT_EQ(r.actions[0].patch["metadata"]["resourceVersion"], "4711");
  EXPECT_EQ(r.actions[0].patch["spec"]["suspend"], true);
}

TEST(PlannerQuotaTest, RefusedJobCreateWaits) {
  FakeRun run(Steps({S("a")}));
  PlanInputs in;
  PlanResult r = run.Plan();
  ASSERT_EQ(Created(r).size(), 1u);
  // The reconciler was told Forbidden for the create: the Job does not exist (the fake made it,
  // so the plans below are given no Jobs), and the next plan reads the refusal.
  EXPECT_EQ(r.actions.front().attempt, 1);
  in.execution = &run.execution();
  in.now = run.now();
  in.quota_refusals = {{"a", r.actions.front().index, r.actions.front().attempt, run.now(),
                        "jobs.batch \"run-a-1\" is forbidden: exceeded quota"}};
  r = Plan(in);
  EXPECT_TRUE(Created(r).empty()) << "the refused create is not made again at once";
  run.execution().status = r.status;
  EXPECT_EQ(Phase(run.StepOf("a")), "WaitingForQuota");
  EXPECT_EQ(run.StepOf("a")->reason, "QuotaExceeded");
  EXPECT_EQ(run.StepOf("a")->extra.value("quotaWaits", 0), 1);
  EXPECT_EQ(run.StepOf("a")->next_attempt_time, run.now() + seconds(10));
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_EQ(*r.requeue_after, seconds(10));
  // The backoff holds, and a grant ends the wait.
  in.quota_refusals.clear();
  in.now = run.now() + seconds(1);
  r = Plan(in);
  EXPECT_TRUE(Created(r).empty()) << "backoff: 10 s";
  EXPECT_EQ(r.quota_waiting, 1);
  in.quota_grants = 1;
  r = Plan(in);
  EXPECT_THAT(Created(r), ElementsAre("run-a-1")) << "the grant ends the wait";
  EXPECT_EQ(r.quota_grants_used, 1);
  EXPECT_EQ(r.quota_waiting, 0);
}

// A refused create of one fan-out child holds every child that has no Job yet, as a step that
// waits for quota does.
TEST(PlannerQuotaTest, RefusedChildCreateHoldsTheUnstartedChildren) {
  FakeRun run(Steps({S("a", {{"forEach", "[1,2,3]"}})}));
  PlanResult r = run.Plan();
  ASSERT_EQ(Created(r).size(), 3u);
  EXPECT_EQ(r.actions.front().index, 0);
  // Planned without the fake's Jobs, as if the three creates had not been made yet.
  PlanInputs in;
  in.execution = &run.execution();
  in.now = run.now();
  in.quota_refusals = {{"a", 0, 1, run.now(), "exceeded quota: q"}};
  r = Plan(in);
  EXPECT_TRUE(Created(r).empty()) << "no child starts while the step waits for quota";
  EXPECT_EQ(r.quota_waiting, 3);
  ASSERT_EQ(r.status.steps.size(), 1u);
  EXPECT_EQ(Phase(&r.status.steps[0]), "WaitingForQuota");
  EXPECT_EQ(r.status.steps[0].extra.value("quotaWaits", 0), 1);
}

// Issue #19: a grant (room appeared in the namespace's quota) ends that many waits now, in
// planning order; without one the backoff holds.
TEST(PlannerQuotaTest, GrantEndsOneWaitNowBackoffOtherwise) {
  FakeRun run(Steps({S("a", {{"forEach", "[1,2,3]"}})}));
  run.Plan();
  const char* msg = "Error creating: pods is forbidden: exceeded quota: q";
  for (int i = 0; i < 3; ++i) run.QuotaRefused(run.LatestJob("a", i), msg);
  PlanResult r = run.Plan();
  EXPECT_EQ(r.quota_waiting, 3);
  ASSERT_TRUE(r.quota_waiting_since.has_value());
  EXPECT_EQ(*r.quota_waiting_since, testing::T0()) << "since the Jobs were created";
  run.Advance(seconds(1));
  r = run.Plan();
  EXPECT_TRUE(r.actions.empty()) << "no grant: the backoff holds";
  EXPECT_EQ(r.quota_waiting, 3);
  run.quota_grants = 1;
  r = run.Plan();
  EXPECT_EQ(r.quota_grants_used, 1);
  EXPECT_EQ(r.quota_waiting, 2);
  EXPECT_EQ(run.Job(run.LatestJob("a", 0))->at("spec")["suspend"], false) << "the first resumed";
  EXPECT_EQ(run.Job(run.LatestJob("a", 1))->at("spec")["suspend"], true);
  EXPECT_EQ(run.Job(run.LatestJob("a", 2))->at("spec")["suspend"], true);
  run.quota_grants = 5;
  r = run.Plan();
  EXPECT_EQ(r.quota_grants_used, 2) << "only as many as wait";
  EXPECT_EQ(r.quota_waiting, 0);
  run.quota_grants = 1;
  EXPECT_EQ(run.Plan().quota_grants_used, 0) << "nothing waits: the grant is unused";
}

TEST(PlannerSchedulingTest, UnschedulableShowsTheSchedulersMessageThenFails) {
  FakeRun run(Steps({S("a")}));
  run.Plan();
  run.Unschedulable("run-a-1", "0/2 nodes are available: 2 Insufficient memory.");
  PlanResult r = run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Pending");
  EXPECT_EQ(run.StepOf("a")->message, "0/2 nodes are available: 2 Insufficient memory.");
  EXPECT_THAT(EventReasons(r), ElementsAre("Unschedulable"));
  EXPECT_TRUE(EventReasons(run.Plan()).empty()) << "once";
  run.Advance(seconds(600));
  r = run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Failed");
  EXPECT_EQ(run.StepOf("a")->reason, "Unschedulable");
  EXPECT_EQ(run.Job("run-a-1")->at("spec")["suspend"], true) << "its pod never starts later";
}

TEST(PlannerRestartTest, StatusIsRebuiltFromTheJobs) {
  FakeRun run(Steps({S("a", {{"retryPolicy", Retrying(3, 1)}}), S("b", {{"dependsOn", {"a"}}})}));
  run.Plan();
  run.Fail("run-a-1", 1);
  run.Plan();
  run.Advance(seconds(1));
  run.Plan();
  run.Run("run-a-2");
  // The controller restarts and the status write of the last reconciles was lost.
  PipelineExecutionStatus lost = run.execution().status;
  lost.steps.clear();
  run.execution().status = lost;
  PlanResult r = run.Plan();
  EXPECT_TRUE(Created(r).empty()) << "no duplicate Job";
  EXPECT_EQ(Phase(run.StepOf("a")), "Running");
  EXPECT_EQ(run.StepOf("a")->attempts, 2);
  EXPECT_EQ(run.StepOf("a")->job_name, "run-a-2");
}

TEST(PlannerEventsTest, EachTransitionOnce) {
  FakeRun run(Steps({S("a")}));
  EXPECT_THAT(EventReasons(run.Plan()), ElementsAre("StepStarted"));
  EXPECT_TRUE(EventReasons(run.Plan()).empty());
  run.Succeed("run-a-1");
  EXPECT_THAT(EventReasons(run.Plan()), ElementsAre("StepSucceeded", "ExecutionSucceeded"));
  EXPECT_TRUE(EventReasons(run.Plan()).empty());
}

TEST(PlannerStatusTest, UnchangedStatusKeepsItsModifiedTime) {
  FakeRun run(Steps({S("a")}));
  run.Plan();
  auto first = run.execution().status.last_modified_time;
  run.Advance(seconds(5));
  run.Plan();
  EXPECT_EQ(run.execution().status.last_modified_time, first);
  EXPECT_EQ(run.execution().status.observed_generation, 1);
}

}  // namespace
}  // namespace stepline::reconcilers

namespace stepline::reconcilers {
namespace {

TEST(PlannerRaceTest, FinishedJobWaitsForItsPodsFinalStatus) {
  // Jobs and Pods are watched on separate streams: the Job's end can arrive first.
  testing::FakeRun run(Steps({S("a", {{"retryPolicy", Retrying(2, 1, Object({"OOMKilled"}))}})}));
  run.Plan();
  run.Fail("run-a-1", 137, "OOMKilled");
  Object pod_final = run.Job("run-a-1")->at("status");  // keep the Job's failure...
  run.DropPods("run-a-1");                              // ...but the pod is not seen yet
  PlanResult r = run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Running") << "not judged without its pod";
  ASSERT_TRUE(r.requeue_after.has_value());
  EXPECT_EQ(*r.requeue_after, seconds(30));
  run.Fail("run-a-1", 137, "OOMKilled");  // the pod's status arrives
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Retrying");
  EXPECT_EQ(run.StepOf("a")->reason, "OOMKilled");
}

TEST(PlannerRaceTest, WithoutAPodTheAttemptIsJudgedAfterTheGrace) {
  testing::FakeRun run(Steps({S("a")}));
  run.Plan();
  run.Fail("run-a-1", 1);
  run.DropPods("run-a-1");
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Running");
  run.Advance(seconds(30));
  run.Plan();
  EXPECT_EQ(Phase(run.StepOf("a")), "Failed");
}

}  // namespace
}  // namespace stepline::reconcilers

namespace stepline::reconcilers {
namespace {

TEST(PlannerEventsTest, FanOutStartsOnceNotPerChild) {
  testing::FakeRun run(Steps({S("f", {{"forEach", "[1,2,3,4]"}, {"maxParallel", 2}})}));
  PlanResult r = run.Plan();
  ASSERT_THAT(EventReasons(r), ElementsAre("StepStarted"));
  EXPECT_EQ(r.actions.back().message, "step \"f\": fan-out over 4 items, first 2 started");
  run.Succeed("run-f-0-1");
  r = run.Plan();
  EXPECT_THAT(Created(r), ElementsAre("run-f-2-1"));
  EXPECT_TRUE(EventReasons(r).empty()) << "no event per child";
}

}  // namespace
}  // namespace stepline::reconcilers
