// The execution reconciler's shell around the planner: which writes it makes (status writes
// coalesced, transient changes held back) and what it tells the dispatch observer.
#include "reconcilers/execution_reconciler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/fakes/fake_cache.h"
#include "tests/fakes/fake_reader.h"
#include "tests/fakes/recording_events.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using k8s::ObjectPtr;
using std::chrono::milliseconds;

using fakes::FakeCache;
using fakes::FakeReader;
using fakes::RecordingEvents;

// Answers creates and status writes as the API server would (uid, resourceVersion).
class FakeWriter : public k8s::ObjectWriter {
 public:
  // Safe to call concurrently (a reconcile's creates run at once). Each create takes
  // create_latency, as a request to the server does.
  k8s::Result<Object> Create(const k8s::Resource& res, const std::string&, const Object& obj,
                             const k8s::WriteOptions&) override {
    if (res.resource == "configmaps") {
      std::lock_guard lock(mu_);
      calls.push_back("configmap " + k8s::NameOf(obj));
      if (!config_map_error.ok()) return config_map_error;
      config_maps.push_back(obj);
      return obj;
    }
    EXPECT_EQ(res.resource, "jobs");
    {
      std::lock_guard lock(mu_);
      ++create_calls;
      ++in_flight_;
    }
    std::this_thread::sleep_for(create_latency);
    std::lock_guard lock(mu_);
    peak_in_flight = std::max(peak_in_flight, in_flight_);
    --in_flight_;
    if (!create_error.ok()) return create_error;
    calls.push_back("job " + k8s::NameOf(obj));
    Object stored = obj;
    stored["metadata"]["uid"] = "job-uid-" + k8s::NameOf(obj);
    stored["metadata"]["resourceVersion"] = std::to_string(++version_);
    created.push_back(stored);
    return stored;
  }
  k8s::Result<Object> UpdateStatus(const k8s::Resource&, const std::string&, const Object& obj,
                                   const k8s::WriteOptions&) override {
    if (refuse_status && refuse_status(obj)) {
      refused.push_back(obj);
      return k8s::Status::Internal("etcdserver: request is too large");
    }
    Object stored = obj;
    stored["metadata"]["resourceVersion"] = std::to_string(++version_);
    status_writes.push_back(stored);
    return stored;
  }
  k8s::Result<Object> Update(const k8s::Resource&, const std::string&, const Object&,
                             const k8s::WriteOptions&) override {
    return k8s::Status::Internal("unexpected update");
  }
  k8s::Result<Object> Patch(const k8s::Resource&, const std::string&, const std::string&,
                            k8s::PatchType, const std::string&, const k8s::WriteOptions&,
                            const std::string&) override {
    return k8s::Status::Internal("unexpected patch");
  }
  k8s::Status Delete(const k8s::Resource&, const std::string&, const std::string&,
                     const k8s::DeleteOptions&) override {
    return k8s::Status::Internal("unexpected delete");
  }

  std::vector<Object> created;
  std::vector<Object> config_maps;
  std::vector<std::string> calls;  // "job NAME" / "configmap NAME", in order, answered or not
  k8s::Status config_map_error;    // not ok: every ConfigMap create fails with it
  std::vector<Object> status_writes;
  std::chrono::milliseconds create_latency{0};
  k8s::Status create_error;                          // not ok: every create fails with it
  std::function<bool(const Object&)> refuse_status;  // true: the write is refused as too large
  std::vector<Object> refused;
  int create_calls = 0;
  int peak_in_flight = 0;

 private:
  std::mutex mu_;
  int in_flight_ = 0;
  int version_ = 100;
};

// Answers PendingFinish with what the test set; records what the reconciler reports.
class FakeDispatch : public DispatchObserver {
 public:
  std::optional<k8s::MonoTime> PendingFinish(const std::string&) override { return pending; }
  void JobRequestSending(const std::string& key, k8s::MonoTime since) override {
    sending.push_back({key, since});
  }
  void JobCreated(const std::string& key, k8s::MonoTime since) override {
    created.push_back({key, since});
  }
  void Dispatched(const std::string& key, k8s::MonoTime since) override {
    dispatched.push_back({key, since});
  }
  void Forget(const std::string& key) override { forgotten.push_back(key); }

  std::optional<k8s::MonoTime> pending;
  std::vector<std::pair<std::string, k8s::MonoTime>> sending, created, dispatched;
  std::vector<std::string> forgotten;
};

Object Meta(const std::string& name) {
  return {{"name", name}, {"namespace", "ml"}, {"uid", "uid-" + name}, {"generation", 1}};
}

Object ChainPipeline() {
  return {{"apiVersion", "stepline.dev/v1alpha1"},
          {"kind", "Pipeline"},
          {"metadata", Meta("chain")},
          {"spec",
           {{"stepDefaults", {{"image", "ml:1"}}},
            {"steps", Object::parse(R"([{"name": "a", "command": ["true"]},
                                        {"name": "b", "dependsOn": ["a"], "command": ["true"]}])")}}}};
}

class ExecutionReconcilerTest : public ::testing::Test {
 protected:
  ExecutionReconcilerTest() {
    pipelines.Put(ChainPipeline());
    Object ex = {{"apiVersion", "stepline.dev/v1alpha1"},
                 {"kind", "PipelineExecution"},
                 {"metadata", Meta("run-1")},
                 {"spec", {{"pipelineName", "chain"}}}};
    ex["metadata"]["resourceVersion"] = "1";
    executions.Put(ex);
  }

  ExecutionReconciler& reconciler() {
    if (!reconciler_) {
      ExecutionReconcilerOptions options;
      options.dispatch = &dispatch;
      options.transient_status_delay = milliseconds(1000);
      options.routine_step_events = routine_step_events;
      options.reader = reader;
      reconciler_.emplace(ExecutionCaches{&executions, &pipelines, &jobs, &pods, nullptr}, writer,
                          events, clock, options);
    }
    return *reconciler_;
  }

  // The cache catches up: the execution as last written, the Jobs as created.
  void CacheShowsWrites() {
    if (!writer.status_writes.empty()) executions.Put(writer.status_writes.back());
    for (const Object& j : writer.created) {
      if (!jobs.Get("ml", k8s::NameOf(j))) jobs.Put(j);
    }
  }

  // The Job's pod in `phase`; the Job Complete when the pod Succeeded (with this termination
  // message: the step's outputs).
  void JobProgress(const std::string& job_name, const std::string& phase,
                   const std::string& message = "") {
    Object job = *jobs.Get("ml", job_name);
    Object pod = {{"metadata",
                   {{"name", job_name + "-pod"},
                    {"namespace", "ml"},
                    {"creationTimestamp", "2023-11-14T22:13:20Z"},
                    {"ownerReferences",
                     {{{"kind", "Job"}, {"uid", k8s::UidOf(job)}, {"controller", true}}}}}},
                  {"status", {{"phase", phase}}}};
    Object& state = pod["status"]["containerStatuses"][0]["state"];
    if (phase == "Running") state["running"] = {{"startedAt", "2023-11-14T22:13:20Z"}};
    if (phase == "Succeeded") {
      state["terminated"] = {{"exitCode", 0},
                             {"reason", "Completed"},
                             {"startedAt", "2023-11-14T22:13:20Z"},
                             {"finishedAt", "2023-11-14T22:13:21Z"}};
      if (!message.empty()) state["terminated"]["message"] = message;
      job["status"]["conditions"] = {{{"type", "Complete"},
                                      {"status", "True"},
                                      {"lastTransitionTime", "2023-11-14T22:13:21Z"}}};
    }
    pods.Put(pod);
    jobs.Put(job);
  }

  FakeCache executions, pipelines, jobs, pods;
  FakeWriter writer;
  RecordingEvents events;
  bool routine_step_events = false;
  k8s::ObjectReader* reader = nullptr;  // options.reader
  FakeDispatch dispatch;
  k8s::FakeClock clock;
  std::optional<ExecutionReconciler> reconciler_;
};

TEST_F(ExecutionReconcilerTest, TellsTheDispatchObserverOfCreatesThatFollowAFinish) {
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  ASSERT_EQ(writer.created.size(), 1u);
  EXPECT_TRUE(dispatch.created.empty()) << "the first step follows no finish";
  EXPECT_TRUE(dispatch.sending.empty());
  CacheShowsWrites();
  JobProgress(k8s::NameOf(writer.created[0]), "Succeeded");
  dispatch.pending = clock.MonotonicNow();
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  ASSERT_EQ(writer.created.size(), 2u) << "step b dispatched";
  ASSERT_EQ(dispatch.sending.size(), 1u) << "the controller's part ends as the request leaves";
  EXPECT_EQ(dispatch.sending[0].second, *dispatch.pending);
  ASSERT_EQ(dispatch.created.size(), 1u);
  EXPECT_EQ(dispatch.created[0].first, "ml/run-1");
  EXPECT_EQ(dispatch.created[0].second, *dispatch.pending);
  ASSERT_EQ(dispatch.dispatched.size(), 1u);
  EXPECT_EQ(dispatch.dispatched[0].second, *dispatch.pending);
}

TEST_F(ExecutionReconcilerTest, AFinishThatDispatchesNothingStaysPending) {
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  CacheShowsWrites();
  dispatch.pending = clock.MonotonicNow();  // e.g. a Job seen finishing, its pod not yet
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  EXPECT_EQ(writer.created.size(), 1u);
  EXPECT_TRUE(dispatch.dispatched.empty());
}

// A fan-out of 200 children with 400-byte outputs, and a step after it: the fan-in (~81 KB) is
// too large for the status.
class ReconcilerFanInStoreTest : public ExecutionReconcilerTest {
 protected:
  ReconcilerFanInStoreTest() {
    Object wide = ChainPipeline();
    wide["spec"]["steps"] = Object::parse(R"([
        {"name": "f", "forEach": "{{parameters.items}}", "command": ["true"], "outputs": {"parameters": ["v"]}},
        {"name": "g", "dependsOn": ["f"], "command": ["true"]}])");
    wide["spec"]["parameters"] = {{{"name", "items"}, {"type", "List"}}};
    Object items = Object::array();
    for (int i = 0; i < 200; ++i) items.push_back(i);
    pipelines.Put(wide);
    Object ex = *executions.Get("ml", "run-1");
    ex["spec"]["pipelineParameters"] = {{{"name", "items"}, {"value", items.dump()}}};
    executions.Put(ex);
  }

  // Reconciles until the 200 children are created, then finishes them with their outputs.
  void ChildrenSucceed() {
    for (int i = 0; i < 5 && writer.created.size() < 200; ++i) {
      ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
      CacheShowsWrites();
    }
    ASSERT_EQ(writer.created.size(), 200u);
    for (const Object& j : writer.created) {
      JobProgress(k8s::NameOf(j), "Succeeded", R"({"v": ")" + std::string(400, 'v') + R"("})");
    }
  }

  const Object* StepF() {
    for (const Object& s : writer.status_writes.back()["status"]["steps"]) {
      if (s["name"] == "f") return &s;
    }
    return nullptr;
  }
};

TEST_F(ReconcilerFanInStoreTest, TheConfigMapsAreCreatedBeforeAnythingElseOfThePlanAndOnlyOnce) {
  ChildrenSucceed();
  writer.calls.clear();
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  EXPECT_THAT(writer.calls,
              ::testing::ElementsAre("configmap run-1-f-outputs-v-00", "job run-1-g-1"));
  ASSERT_NE(StepF(), nullptr);
  EXPECT_EQ((*StepF())["storedOutputs"][0]["configMaps"][0], "run-1-f-outputs-v-00");
  EXPECT_EQ((*StepF())["storedOutputs"][0]["items"], 200);
  EXPECT_FALSE((*StepF())["outputs"].contains("v"));
  CacheShowsWrites();
  writer.calls.clear();
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  EXPECT_TRUE(writer.calls.empty()) << "the status names the ConfigMap: not made again";
}

TEST_F(ReconcilerFanInStoreTest, APlanWhoseConfigMapsFailedIsNotActedOn) {
  ChildrenSucceed();
  const size_t writes = writer.status_writes.size();
  writer.calls.clear();
  writer.config_map_error = k8s::Status::Unavailable("etcd timed out");
  EXPECT_FALSE(reconciler().Reconcile("ml/run-1").status.ok()) << "retried";
  EXPECT_THAT(writer.calls, ::testing::ElementsAre("configmap run-1-f-outputs-v-00"));
  EXPECT_EQ(writer.status_writes.size(), writes) << "no status naming a ConfigMap not made";
  writer.config_map_error = k8s::Status::Ok();
  writer.calls.clear();
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  EXPECT_THAT(writer.calls,
              ::testing::ElementsAre("configmap run-1-f-outputs-v-00", "job run-1-g-1"));
}

TEST_F(ReconcilerFanInStoreTest, ARefusedStoreIsNotTriedAgainAndTheStepSaysWhy) {
  ChildrenSucceed();
  writer.config_map_error = k8s::Status::Forbidden(
      "configmaps \"run-1-f-outputs-v-00\" is forbidden: exceeded quota: cm, requested: "
      "count/configmaps=1, used: count/configmaps=10, limited: count/configmaps=10");
  EXPECT_FALSE(reconciler().Reconcile("ml/run-1").status.ok());
  writer.calls.clear();
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  EXPECT_THAT(writer.calls, ::testing::ElementsAre("job run-1-g-1")) << "the run goes on";
  ASSERT_NE(StepF(), nullptr);
  EXPECT_FALSE(StepF()->contains("storedOutputs"));
  EXPECT_THAT((*StepF())["message"].get<std::string>(),
              ::testing::HasSubstr("storing it in ConfigMaps was refused (ConfigMap "
                                   "run-1-f-outputs-v-00: configmaps \"run-1-f-outputs-v-00\" is "
                                   "forbidden: exceeded quota"));
}

TEST_F(ExecutionReconcilerTest, AStepThatStartsAndFinishesWithinTheDelayCostsOneStatusWrite) {
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  ASSERT_EQ(writer.status_writes.size(), 1u);  // the snapshot and step a dispatched
  CacheShowsWrites();
  const std::string job_a = k8s::NameOf(writer.created[0]);
  JobProgress(job_a, "Running");
  ReconcileOutcome held = reconciler().Reconcile("ml/run-1");
  ASSERT_TRUE(held.status.ok());
  EXPECT_EQ(writer.status_writes.size(), 1u) << "\"a is running\" is held back";
  EXPECT_GT(held.requeue_after.count(), 0);
  EXPECT_LE(held.requeue_after, milliseconds(1000));
  clock.Advance(milliseconds(300));
  JobProgress(job_a, "Succeeded");
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  ASSERT_EQ(writer.status_writes.size(), 2u) << "a finished and b dispatched: one write";
  EXPECT_EQ(writer.created.size(), 2u);
  EXPECT_EQ(writer.status_writes.back()["status"]["progress"], "1/2");
}

TEST_F(ExecutionReconcilerTest, AHeldBackChangeIsWrittenOnceTheDelayHasPassed) {
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  CacheShowsWrites();
  JobProgress(k8s::NameOf(writer.created[0]), "Running");
  ReconcileOutcome held = reconciler().Reconcile("ml/run-1");
  ASSERT_EQ(writer.status_writes.size(), 1u);
  clock.Advance(held.requeue_after);
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  ASSERT_EQ(writer.status_writes.size(), 2u) << "kubectl shows the step Running, late by 1 s";
  EXPECT_EQ(writer.status_writes.back()["status"]["steps"][0]["phase"], "Running");
}

TEST_F(ExecutionReconcilerTest, ATransientChangeLongAfterTheLastWriteIsWrittenAtOnce) {
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  CacheShowsWrites();
  clock.Advance(milliseconds(1500));  // the pod's start was reported after the delay
  JobProgress(k8s::NameOf(writer.created[0]), "Running");
  ReconcileOutcome outcome = reconciler().Reconcile("ml/run-1");
  ASSERT_TRUE(outcome.status.ok());
  ASSERT_EQ(writer.status_writes.size(), 2u) << "no second wait: one reconcile, one write";
  EXPECT_EQ(writer.status_writes.back()["status"]["steps"][0]["phase"], "Running");
  EXPECT_EQ(outcome.requeue_after, std::chrono::minutes(5)) << "no hold-back: the idle re-check";
}

TEST_F(ExecutionReconcilerTest, RoutineStepEventsAreRecordedOnlyWhenAskedFor) {
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  CacheShowsWrites();
  JobProgress(k8s::NameOf(writer.created[0]), "Succeeded");
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  EXPECT_TRUE(events.events.empty()) << "a started and succeeded, b started: routine";
  EXPECT_EQ(writer.created.size(), 2u);
}

TEST_F(ExecutionReconcilerTest, RoutineStepEventsCanBeAskedFor) {
  routine_step_events = true;
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  CacheShowsWrites();
  JobProgress(k8s::NameOf(writer.created[0]), "Succeeded");
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  EXPECT_EQ(events.Reasons(),
            (std::vector<std::string>{"StepStarted", "StepSucceeded", "StepStarted"}));
}

TEST_F(ExecutionReconcilerTest, AfterTheLastWriteARunAheadOfTheCacheDoesNothingMore) {
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  CacheShowsWrites();
  JobProgress(k8s::NameOf(writer.created[0]), "Succeeded");
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  CacheShowsWrites();
  JobProgress(k8s::NameOf(writer.created[1]), "Succeeded");
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  ASSERT_EQ(writer.status_writes.back()["status"]["pipelineExecutionStatus"], "Succeeded");
  const size_t writes = writer.status_writes.size();
  // The cache still shows the run executing; the reconciler goes by its own (trimmed) write.
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  EXPECT_EQ(writer.status_writes.size(), writes);
  EXPECT_EQ(writer.created.size(), 2u);
}

TEST_F(ExecutionReconcilerTest, ADeletedExecutionIsForgotten) {
  ASSERT_TRUE(reconciler().Reconcile("ml/run-2").status.ok());
  EXPECT_EQ(dispatch.forgotten, std::vector<std::string>{"ml/run-2"});
}

// A run of a 20-child fan-out: its first reconcile creates every child.
void PutFanOutRun(FakeCache& pipelines, FakeCache& executions) {
  Object pl = ChainPipeline();
  pl["metadata"] = Meta("fan");
  pl["spec"]["steps"] = Object::parse(
      R"([{"name": "f", "forEach": "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]",
           "command": ["echo", "{{item}}"]}])");
  pipelines.Put(pl);
  Object ex = {{"apiVersion", "stepline.dev/v1alpha1"},
               {"kind", "PipelineExecution"},
               {"metadata", Meta("fan-1")},
               {"spec", {{"pipelineName", "fan"}}}};
  ex["metadata"]["resourceVersion"] = "1";
  executions.Put(ex);
}

TEST_F(ExecutionReconcilerTest, AFanOutsChildrenAreCreatedManyAtOnce) {
  PutFanOutRun(pipelines, executions);
  writer.create_latency = milliseconds(50);
  ASSERT_TRUE(reconciler().Reconcile("ml/fan-1").status.ok());
  ASSERT_EQ(writer.created.size(), 20u);
  std::set<std::string> names;
  for (const Object& j : writer.created) names.insert(k8s::NameOf(j));
  EXPECT_EQ(names.size(), 20u) << "each child once";
  // Batches of 1, 2, 4, 8, then the 5 left (slow_start_test pins the batches): the 8 of the
  // fourth overlap, unless the machine stalls each thread's start by 50 ms.
  EXPECT_GE(writer.peak_in_flight, 4);
  EXPECT_LE(writer.peak_in_flight, 8);
  ASSERT_EQ(writer.status_writes.size(), 1u);
  EXPECT_EQ(writer.status_writes[0]["status"]["steps"][0]["children"]["total"], 20);
}

TEST_F(ExecutionReconcilerTest, AFailingCreateStopsTheFanOutsCreatesAndIsRetried) {
  PutFanOutRun(pipelines, executions);
  writer.create_error = k8s::Status::Internal("etcd is down");
  ReconcileOutcome out = reconciler().Reconcile("ml/fan-1");
  EXPECT_FALSE(out.status.ok()) << "retried with backoff";
  EXPECT_EQ(writer.create_calls, 1) << "the first batch failed: no more creates";
  writer.create_error = k8s::Status::Ok();
  ASSERT_TRUE(reconciler().Reconcile("ml/fan-1").status.ok());
  EXPECT_EQ(writer.created.size(), 20u);
}

// A Job create a ResourceQuota refused is not edited into the plan that made it: the next plan,
// soon, reads the refusal and the step waits for quota, 10 s, without trying the create again.
TEST_F(ExecutionReconcilerTest, ARefusedCreateIsTheNextPlansInputAndTheStepWaitsForQuota) {
  writer.create_error =
      k8s::Status::Forbidden("jobs.batch \"run-1-a-1\" is forbidden: exceeded quota: jobs");
  ReconcileOutcome out = reconciler().Reconcile("ml/run-1");
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(writer.create_calls, 1);
  EXPECT_LE(out.requeue_after, milliseconds(100)) << "soon, so the status shows the wait";
  CacheShowsWrites();
  out = reconciler().Reconcile("ml/run-1");
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(writer.create_calls, 1) << "the refused create waits out its backoff";
  EXPECT_EQ(out.requeue_after, milliseconds(10'000));
  ASSERT_FALSE(writer.status_writes.empty());
  const Object& step = writer.status_writes.back()["status"]["steps"][0];
  EXPECT_EQ(step.value("phase", ""), "WaitingForQuota");
  EXPECT_EQ(step.value("reason", ""), "QuotaExceeded");
  EXPECT_EQ(step.value("quotaWaits", 0), 1);
  EXPECT_EQ(step.value("message", ""),
            "jobs.batch \"run-1-a-1\" is forbidden: exceeded quota: jobs");
  CacheShowsWrites();
  clock.Advance(std::chrono::seconds(10));
  writer.create_error = k8s::Status::Ok();
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  EXPECT_EQ(writer.created.size(), 1u) << "created once the backoff is over";
}

}  // namespace
}  // namespace stepline::reconcilers

namespace stepline::reconcilers {
namespace {

// Issue #16: a Job deleted before the cache ever showed it was believed to exist (for 2 minutes,
// and nothing looked again): the hint expires soon and the reconcile comes back for it.
TEST_F(ExecutionReconcilerTest, AJobTheCacheNeverShowsIsCreatedAgainWhenTheHintExpires) {
  ReconcileOutcome first = reconciler().Reconcile("ml/run-1");
  ASSERT_TRUE(first.status.ok());
  ASSERT_EQ(writer.created.size(), 1u);
  EXPECT_GT(first.requeue_after.count(), 0);
  EXPECT_LE(first.requeue_after, std::chrono::seconds(30)) << "looked at again when it expires";
  if (!writer.status_writes.empty()) executions.Put(writer.status_writes.back());
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  EXPECT_EQ(writer.created.size(), 1u) << "within the hint's life: no second create";
  clock.Advance(first.requeue_after);
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  ASSERT_EQ(writer.created.size(), 2u) << "deleted out of band: created again";
  EXPECT_EQ(k8s::NameOf(writer.created[1]), k8s::NameOf(writer.created[0]));
}

TEST_F(ExecutionReconcilerTest, AnUnfinishedExecutionIsLookedAtAgainPeriodically) {
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  CacheShowsWrites();
  clock.Advance(milliseconds(1500));
  JobProgress(k8s::NameOf(writer.created[0]), "Running");
  ReconcileOutcome outcome = reconciler().Reconcile("ml/run-1");
  ASSERT_TRUE(outcome.status.ok());
  EXPECT_EQ(outcome.requeue_after, std::chrono::minutes(5));
}

// Issue #16: a status the server refused ("request is too large") was retried forever.
TEST_F(ExecutionReconcilerTest, ARefusedStatusIsReducedAndEndsTheRunWithAReason) {
  writer.refuse_status = [](const Object& obj) {
    return obj["status"].contains("pipelineSnapshot");
  };
  ReconcileOutcome outcome = reconciler().Reconcile("ml/run-1");
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.ToString();
  ASSERT_EQ(writer.refused.size(), 2u) << "the full status, then the reduced one with its snapshot";
  ASSERT_EQ(writer.status_writes.size(), 1u);
  const Object& st = writer.status_writes.back()["status"];
  EXPECT_EQ(st["pipelineExecutionStatus"], "Failed");
  EXPECT_EQ(st["failureReason"],
            "StatusTooLarge: the API server refused the execution's status: etcdserver: request "
            "is too large");
  EXPECT_THAT(events.Reasons(), ::testing::Contains("StatusTooLarge"));
}

// Issue #16: a Job holding the deterministic name but not owned by the execution.
TEST_F(ExecutionReconcilerTest, AForeignJobWithTheNameFailsTheStepAndSaysWhose) {
  Object foreign = {{"apiVersion", "batch/v1"},
                    {"kind", "Job"},
                    {"metadata",
                     {{"name", "run-1-a-1"},
                      {"namespace", "ml"},
                      {"uid", "old-job"},
                      {"labels", {{"stepline.dev/execution", "run-1"}}},
                      {"ownerReferences",
                       {{{"kind", "PipelineExecution"},
                         {"name", "run-1"},
                         {"uid", "uid-of-an-earlier-run"},
                         {"controller", true}}}}}}};
  jobs.Put(foreign);
  writer.create_error = k8s::Status::AlreadyExists("jobs \"run-1-a-1\" already exists");
  ReconcileOutcome first = reconciler().Reconcile("ml/run-1");
  ASSERT_TRUE(first.status.ok());
  EXPECT_LE(first.requeue_after, milliseconds(2000)) << "looked at again soon";
  CacheShowsWrites();
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  CacheShowsWrites();
  const Object& st = writer.status_writes.back()["status"];
  EXPECT_EQ(st["pipelineExecutionStatus"], "Failed");
  EXPECT_EQ(st["steps"][0]["reason"], "JobNameTaken");
  EXPECT_EQ(
      st["steps"][0]["message"],
      "Job \"run-1-a-1\" exists but is not owned by this execution (its controller is "
      "PipelineExecution run-1 with uid uid-of-an-earlier-run); delete that Job, or run under "
      "another execution name");
}

// Issue #16: a Job without Stepline's labels (so not in the Jobs cache) holds the name.
TEST_F(ExecutionReconcilerTest, AnUnlabelledForeignJobWithTheNameFailsTheStep) {
  FakeReader server;
  server.objects["run-1-a-1"] = {{"apiVersion", "batch/v1"},
                                 {"kind", "Job"},
                                 {"metadata", {{"name", "run-1-a-1"}, {"namespace", "ml"}}}};
  reader = &server;
  writer.create_error = k8s::Status::AlreadyExists("jobs \"run-1-a-1\" already exists");
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  CacheShowsWrites();
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  const Object& st = writer.status_writes.back()["status"];
  EXPECT_EQ(st["pipelineExecutionStatus"], "Failed");
  EXPECT_EQ(st["steps"][0]["reason"], "JobNameTaken");
  EXPECT_EQ(st["steps"][0]["message"],
            "Job \"run-1-a-1\" exists but is not owned by this execution (it has no "
            "controller); delete that Job, or run under another execution name");
}

// The Job holding the name is the execution's own (created before a restart): nothing fails.
TEST_F(ExecutionReconcilerTest, ATakenNameHeldByTheExecutionsOwnJobIsNotForeign) {
  FakeReader server;
  server.objects["run-1-a-1"] = {
      {"metadata",
       {{"name", "run-1-a-1"},
        {"namespace", "ml"},
        {"ownerReferences",
         {{{"kind", "PipelineExecution"}, {"uid", "uid-run-1"}, {"controller", true}}}}}}};
  reader = &server;
  writer.create_error = k8s::Status::AlreadyExists("jobs \"run-1-a-1\" already exists");
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  CacheShowsWrites();
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  for (const Object& w : writer.status_writes) {
    EXPECT_NE(w["status"]["pipelineExecutionStatus"], "Failed") << w.dump();
  }
}

// Issue #16: two Pipelines with the same spec.pipelineName alias; one was run silently.
TEST_F(ExecutionReconcilerTest, AnAmbiguousAliasIsRefusedNamingThePipelines) {
  for (const char* name : {"p1", "p2"}) {
    Object p = ChainPipeline();
    p["metadata"] = Meta(name);
    p["spec"]["pipelineName"] = "shared";
    pipelines.Put(p);
  }
  Object ex = *executions.Get("ml", "run-1");
  ex["spec"]["pipelineName"] = "shared";
  executions.Put(ex);
  ASSERT_TRUE(reconciler().Reconcile("ml/run-1").status.ok());
  EXPECT_TRUE(writer.created.empty());
  const Object& st = writer.status_writes.back()["status"];
  EXPECT_EQ(st["pipelineExecutionStatus"], "Pending");
  EXPECT_EQ(st["conditions"][0]["reason"], "AmbiguousPipelineName");
  EXPECT_EQ(st["conditions"][0]["message"],
            "pipelineName \"shared\" is the spec.pipelineName of 2 Pipelines (p1, p2); name one "
            "of them by metadata.name");
}

}  // namespace
}  // namespace stepline::reconcilers
