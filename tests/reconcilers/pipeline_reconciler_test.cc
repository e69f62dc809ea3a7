#include "reconcilers/pipeline_reconciler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/fakes/fake_cache.h"
#include "tests/fakes/recording_events.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using k8s::ObjectPtr;

using fakes::FakeCache;
using fakes::RecordingEvents;

// Records status writes and answers them as the API server would (a new resourceVersion), or
// with `fail_next` once. Any other write is a test failure.
class FakeWriter : public k8s::ObjectWriter {
 public:
  k8s::Result<Object> UpdateStatus(const k8s::Resource& res, const std::string& ns,
                                   const Object& obj, const k8s::WriteOptions&) override {
    EXPECT_EQ(res.resource, "pipelines");
    EXPECT_EQ(ns, k8s::NamespaceOf(obj));
    if (fail_next) {
      k8s::Status s = *fail_next;
      fail_next.reset();
      return s;
    }
    Object stored = obj;
    stored["metadata"]["resourceVersion"] = std::to_string(++version_);
    status_writes.push_back(stored);
    return stored;
  }
  k8s::Result<Object> Create(const k8s::Resource&, const std::string&, const Object&,
                             const k8s::WriteOptions&) override {
    return Unexpected();
  }
  k8s::Result<Object> Update(const k8s::Resource&, const std::string&, const Object&,
                             const k8s::WriteOptions&) override {
    return Unexpected();
  }
  k8s::Result<Object> Patch(const k8s::Resource&, const std::string&, const std::string&,
                            k8s::PatchType, const std::string&, const k8s::WriteOptions&,
                            const std::string&) override {
    return Unexpected();
  }
  k8s::Status Delete(const k8s::Resource&, const std::string&, const std::string&,
                     const k8s::DeleteOptions&) override {
    return Unexpected();
  }

  std::vector<Object> status_writes;
  std::optional<k8s::Status> fail_next;

 private:
  k8s::Status Unexpected() {
    ADD_FAILURE() << "the Pipeline reconciler writes only status";
    return k8s::Status::Internal("unexpected");
  }
  int version_ = 100;
};

Object PipelineObject(int64_t generation, const std::string& resource_version, Json steps) {
  return {{"apiVersion", "stepline.dev/v1alpha1"},
          {"kind", "Pipeline"},
          {"metadata",
           {{"name", "forecast"},
            {"namespace", "ml"},
            {"uid", "u-1"},
            {"generation", generation},
            {"resourceVersion", resource_version}}},
          {"spec", {{"stepDefaults", {{"image", "ml:1"}}}, {"steps", std::move(steps)}}}};
}

Json ValidSteps() {
  return Json::parse(R"([
    {"name": "prepare", "command": ["prepare"]},
    {"name": "train", "dependsOn": ["prepare"], "command": ["train"]},
    {"name": "evaluate", "dependsOn": ["train"], "command": ["evaluate"]}
  ])");
}

Json CycleSteps() {
  Json steps = ValidSteps();
  steps[0]["dependsOn"] = {"evaluate"};
  return steps;
}

constexpr const char* kCycleMessage =
    "spec.steps: dependency cycle: prepare -> evaluate -> train -> prepare";

class PipelineReconcilerTest : public ::testing::Test {
 protected:
  // The Ready condition of the last status written.
  Json LastReady() const {
    for (const Json& c : writer_.status_writes.back()["status"]["conditions"]) {
      if (c["type"] == "Ready") return c;
    }
    return nullptr;
  }
  // Reconciles, then lets the cache catch up with what was written.
  ReconcileOutcome ReconcileAndSync() {
    size_t before = writer_.status_writes.size();
    ReconcileOutcome outcome = reconciler_.Reconcile("ml/forecast");
    if (writer_.status_writes.size() > before) cache_.Put(writer_.status_writes.back());
    return outcome;
  }

  FakeCache cache_;
  FakeWriter writer_;
  RecordingEvents events_;
  k8s::FakeClock clock_;
  PipelineReconciler reconciler_{cache_, writer_, events_, clock_};
};

TEST_F(PipelineReconcilerTest, AValidPipelineBecomesReadyWithItsStepCount) {
  cache_.Put(PipelineObject(1, "10", ValidSteps()));
  ReconcileOutcome outcome = ReconcileAndSync();
  EXPECT_TRUE(outcome.status.ok());
  EXPECT_EQ(outcome.requeue_after.count(), 0);
  ASSERT_EQ(writer_.status_writes.size(), 1u);
  const Json& status = writer_.status_writes[0]["status"];
  EXPECT_EQ(status["stepCount"], 3);
  EXPECT_EQ(status["observedGeneration"], 1);
  EXPECT_EQ(LastReady(), Json::parse(R"({"type": "Ready", "status": "True", "reason": "Valid",
      "message": "valid: 3 steps", "observedGeneration": 1,
      "lastTransitionTime": ")" + k8s::FormatRfc3339(clock_.Now()) +
                                     R"("})"));
  EXPECT_TRUE(events_.events.empty());  // nothing to tell about a Pipeline valid from the start
}

// A SageMaker definition of n Processing steps, each with a field Stepline does not use.
Object DefinitionPipeline(int n) {
  Json steps = Json::array();
  for (int i = 0; i < n; ++i) {
    steps.push_back({{"Name", "p" + std::to_string(i)},
                     {"Type", "Processing"},
                     {"Arguments", {{"NetworkConfig", Json::object()}}}});
  }
  Object pipeline = PipelineObject(1, "10", Json::array());
  pipeline["spec"].erase("steps");
  pipeline["spec"]["pipelineDefinition"] = {{"Version", "2020-12-01"}, {"Steps", steps}};
  return pipeline;
}

TEST_F(PipelineReconcilerTest, ADefinitionWithWarningsIsReadyAndListsThemWithAWarningEvent) {
  cache_.Put(DefinitionPipeline(2));
  EXPECT_TRUE(ReconcileAndSync().status.ok());
  Json ready = LastReady();
  EXPECT_EQ(ready["status"], "True");
  EXPECT_EQ(ready["reason"], "Valid");
  const std::string want =
      "valid: 2 steps; 2 warnings: Steps[0] (p0).Arguments: not used by Stepline: NetworkConfig; "
      "Steps[1] (p1).Arguments: not used by Stepline: NetworkConfig";
  EXPECT_EQ(ready["message"], want);
  ASSERT_EQ(events_.events.size(), 1u);
  EXPECT_EQ(events_.events[0].type, EventType::kWarning);
  EXPECT_EQ(events_.events[0].reason, "DefinitionWarnings");
  EXPECT_EQ(events_.events[0].message, want);
  EXPECT_TRUE(ReconcileAndSync().status.ok());  // the same warnings again: no second event
  EXPECT_EQ(events_.events.size(), 1u);
}

TEST_F(PipelineReconcilerTest, ManyWarningsAreBounded) {
  cache_.Put(DefinitionPipeline(40));
  EXPECT_TRUE(ReconcileAndSync().status.ok());
  const std::string message = LastReady()["message"];
  EXPECT_EQ(message.rfind("valid: 40 steps; 40 warnings: Steps[0] (p0)", 0), 0u) << message;
  EXPECT_NE(message.find(" (and 30 more)"), std::string::npos) << message;
  EXPECT_LE(message.size(), 1600u);
}

TEST_F(PipelineReconcilerTest, AnInvalidPipelineIsNotReadyWithOneEvent) {
  cache_.Put(PipelineObject(1, "10", CycleSteps()));
  EXPECT_TRUE(ReconcileAndSync().status.ok());
  ASSERT_EQ(writer_.status_writes.size(), 1u);
  Json ready = LastReady();
  EXPECT_EQ(ready["status"], "False");
  EXPECT_EQ(ready["reason"], "InvalidDefinition");
  EXPECT_EQ(ready["message"], kCycleMessage);
  EXPECT_EQ(writer_.status_writes[0]["status"]["stepCount"], 3);
  ASSERT_EQ(events_.events.size(), 1u);
  EXPECT_EQ(events_.events[0].object, "forecast");
  EXPECT_EQ(events_.events[0].type, EventType::kWarning);
  EXPECT_EQ(events_.events[0].reason, "InvalidDefinition");
  EXPECT_EQ(events_.events[0].message, kCycleMessage);
}

TEST_F(PipelineReconcilerTest, TheSameInputAgainWritesNothingAndRecordsNothing) {
  cache_.Put(PipelineObject(1, "10", CycleSteps()));
  ReconcileAndSync();
  clock_.Advance(std::chrono::minutes(1));
  EXPECT_TRUE(ReconcileAndSync().status.ok());
  EXPECT_TRUE(reconciler_.Reconcile("ml/forecast").status.ok());
  EXPECT_EQ(writer_.status_writes.size(), 1u);
  EXPECT_EQ(events_.events.size(), 1u);
}

TEST_F(PipelineReconcilerTest, ACacheThatLagsItsOwnWriteCausesNoSecondWrite) {
  cache_.Put(PipelineObject(1, "10", CycleSteps()));
  reconciler_.Reconcile("ml/forecast");  // the cache still shows version 10 without status
  reconciler_.Reconcile("ml/forecast");
  EXPECT_EQ(writer_.status_writes.size(), 1u);
  EXPECT_EQ(events_.events.size(), 1u);
}

TEST_F(PipelineReconcilerTest, AFixedPipelineBecomesReadyAgain) {
  cache_.Put(PipelineObject(1, "10", CycleSteps()));
  ReconcileAndSync();
  clock_.Advance(std::chrono::minutes(5));
  Object fixed = writer_.status_writes.back();
  fixed["metadata"]["generation"] = 2;
  fixed["metadata"]["resourceVersion"] = "200";
  fixed["spec"]["steps"] = ValidSteps();
  cache_.Put(fixed);
  EXPECT_TRUE(ReconcileAndSync().status.ok());
  ASSERT_EQ(writer_.status_writes.size(), 2u);
  Json ready = LastReady();
  EXPECT_EQ(ready["status"], "True");
  EXPECT_EQ(ready["reason"], "Valid");
  EXPECT_EQ(ready["observedGeneration"], 2);
  EXPECT_EQ(ready["lastTransitionTime"], k8s::FormatRfc3339(clock_.Now()));
  EXPECT_EQ(writer_.status_writes.back()["status"]["observedGeneration"], 2);
  ASSERT_EQ(events_.events.size(), 2u);
  EXPECT_EQ(events_.events[1].type, EventType::kNormal);
  EXPECT_EQ(events_.events[1].reason, "Valid");
}

TEST_F(PipelineReconcilerTest, ANewGenerationKeepsTheTransitionTimeWhenReadyDoesNotChange) {
  cache_.Put(PipelineObject(1, "10", ValidSteps()));
  ReconcileAndSync();
  const std::string first = LastReady()["lastTransitionTime"];
  clock_.Advance(std::chrono::minutes(5));
  Object edited = writer_.status_writes.back();
  edited["metadata"]["generation"] = 2;
  edited["spec"]["steps"].push_back({{"name", "report"}, {"command", {"report"}}});
  cache_.Put(edited);
  ReconcileAndSync();
  ASSERT_EQ(writer_.status_writes.size(), 2u);
  EXPECT_EQ(LastReady()["lastTransitionTime"], first);
  EXPECT_EQ(LastReady()["observedGeneration"], 2);
  EXPECT_EQ(writer_.status_writes.back()["status"]["stepCount"], 4);
  EXPECT_TRUE(events_.events.empty());
}

TEST_F(PipelineReconcilerTest, EachDistinctProblemIsOneEvent) {
  cache_.Put(PipelineObject(1, "10", CycleSteps()));
  ReconcileAndSync();
  Object other = writer_.status_writes.back();
  other["metadata"]["generation"] = 2;
  other["spec"]["steps"] = ValidSteps();
  other["spec"]["steps"][1]["dependsOn"] = {"prep"};
  cache_.Put(other);
  ReconcileAndSync();
  ReconcileAndSync();
  ASSERT_EQ(events_.events.size(), 2u);
  EXPECT_EQ(events_.events[1].message, "spec.steps[1] (train).dependsOn: unknown step \"prep\"");
  EXPECT_EQ(LastReady()["message"], events_.events[1].message);
}

TEST_F(PipelineReconcilerTest, AConflictIsRetriedWithoutAnEvent) {
  cache_.Put(PipelineObject(1, "10", CycleSteps()));
  writer_.fail_next = k8s::Status::Conflict("the object has been modified");
  ReconcileOutcome outcome = reconciler_.Reconcile("ml/forecast");
  EXPECT_TRUE(outcome.status.IsConflict());
  EXPECT_FALSE(outcome.terminal);
  EXPECT_TRUE(events_.events.empty());
  EXPECT_TRUE(ReconcileAndSync().status.ok());  // retried on fresh state
  EXPECT_EQ(writer_.status_writes.size(), 1u);
  EXPECT_EQ(events_.events.size(), 1u);
}

TEST_F(PipelineReconcilerTest, AnUnreadablePipelineIsNotReadyInsteadOfACrash) {
  Object odd = PipelineObject(1, "10", ValidSteps());
  odd["spec"]["steps"][0]["timeoutSeconds"] = "soon";
  cache_.Put(odd);
  EXPECT_TRUE(ReconcileAndSync().status.ok());
  ASSERT_EQ(writer_.status_writes.size(), 1u);
  EXPECT_EQ(LastReady()["status"], "False");
  EXPECT_EQ(LastReady()["message"], "spec.steps[0].timeoutSeconds: must be an integer");
}

TEST_F(PipelineReconcilerTest, ADeletedPipelineNeedsNothing) {
  EXPECT_TRUE(reconciler_.Reconcile("ml/forecast").status.ok());
  Object deleting = PipelineObject(1, "10", CycleSteps());
  deleting["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z";
  cache_.Put(deleting);
  EXPECT_TRUE(reconciler_.Reconcile("ml/forecast").status.ok());
  EXPECT_TRUE(writer_.status_writes.empty());
  EXPECT_TRUE(events_.events.empty());
  EXPECT_EQ(reconciler_.Name(), "pipeline");
}

}  // namespace
}  // namespace stepline::reconcilers
