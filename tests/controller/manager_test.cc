#include "controller/manager.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <thread>

#include "controller/event_mapping.h"
#include "tests/controller/fake_informer.h"
#include "tests/controller/fake_lease_lock.h"

namespace stepline::controller {
namespace {

using reconcilers::ReconcileOutcome;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FakeInformerFactory;

// Records the keys it sees; answers with a programmable outcome.
class RecordingReconciler final : public reconcilers::Reconciler {
 public:
  explicit RecordingReconciler(std::string name) : name_(std::move(name)) {}
  const std::string& Name() const override { return name_; }
  ReconcileOutcome Reconcile(const std::string& key) override {
    std::lock_guard lock(mu_);
    keys_.insert(key);
    ++calls_;
    cond_.notify_all();
    return outcome_;
  }
  void SetOutcome(ReconcileOutcome o) {
    std::lock_guard lock(mu_);
    outcome_ = std::move(o);
  }
  bool WaitFor(const std::string& key) {
    std::unique_lock lock(mu_);
    return cond_.wait_for(lock, seconds(10), [&] { return keys_.count(key) > 0; });
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  const std::string name_;
  std::mutex mu_;
  std::condition_variable cond_;
  std::set<std::string> keys_;  // guarded by mu_
  int calls_ = 0;               // guarded by mu_
  ReconcileOutcome outcome_;    // guarded by mu_
};

// The value of one series in the registry's text ("name{labels}"), or -1 when absent.
double Series(const metrics::Registry& registry, const std::string& series) {
  const std::string text = registry.Render();
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

k8s::Object Obj(const std::string& ns, const std::string& name, k8s::Object extra = {}) {
  k8s::Object o = {{"metadata", {{"namespace", ns}, {"name", name}, {"uid", "u-" + name}}}};
  if (extra.is_object()) o.merge_patch(extra);
  return o;
}

k8s::Object OwnedJob(const std::string& name, const std::string& owner_kind,
                     const std::string& owner) {
  return Obj("ml", name,
             {{"metadata",
               {{"ownerReferences",
                 {{{"apiVersion", "stepline.dev/v1alpha1"},
                   {"kind", owner_kind},
                   {"name", owner},
                   {"uid", "u-" + owner},
                   {"controller", true}}}}}}});
}

TEST(EventMappingTest, KeysFromJobsPodsAndPipelines) {
  EXPECT_EQ(
      ControllerOwnerKey(OwnedJob("run-1-a-1", "PipelineExecution", "run-1"), "PipelineExecution"),
      "ml/run-1");
  EXPECT_EQ(ControllerOwnerKey(OwnedJob("x", "CronJob", "c"), "PipelineExecution"), std::nullopt);
  EXPECT_EQ(ControllerOwnerKey(Obj("ml", "bare"), "PipelineExecution"), std::nullopt);
  EXPECT_EQ(ExecutionLabelKey(Obj(
                "ml", "p", {{"metadata", {{"labels", {{"stepline.dev/execution", "run-1"}}}}}})),
            "ml/run-1");
  EXPECT_EQ(ExecutionLabelKey(Obj("ml", "p")), std::nullopt);

  testing::FakeInformer executions;
  executions.Upsert(Obj("ml", "run-1", {{"spec", {{"pipelineName", "forecast"}}}}));
  executions.Upsert(Obj("ml", "run-2", {{"spec", {{"pipelineName", "fc-alias"}}}}));
  executions.Upsert(Obj("ml", "run-3", {{"spec", {{"pipelineName", "other"}}}}));
  executions.Upsert(Obj("prod", "run-4", {{"spec", {{"pipelineName", "forecast"}}}}));
  auto keys = ExecutionsReferencing(
      Obj("ml", "forecast", {{"spec", {{"pipelineName", "fc-alias"}}}}), executions);
  EXPECT_EQ(keys, (std::vector<std::string>{"ml/run-1", "ml/run-2"}));
}

TEST(EventMappingTest, OnlyStatusChangedIgnoresStatusAndVersionOnly) {
  const k8s::Object base = Obj("ml", "run-1",
                               {{"metadata", {{"resourceVersion", "1"}, {"generation", 1}}},
                                {"spec", {{"pipelineName", "p"}}},
                                {"status", {{"progress", "0/2"}}}});
  struct Case {
    std::string name;
    std::function<void(k8s::Object&)> change;
    bool want;
  };
  const std::vector<Case> cases = {
      {"nothing", [](k8s::Object&) {}, true},
      {"status and resourceVersion",
       [](k8s::Object& o) {
         o["status"]["progress"] = "1/2";
         o["metadata"]["resourceVersion"] = "2";
         o["metadata"]["managedFields"] = k8s::Object::array({{{"manager", "x"}}});
       },
       true},
      {"status appears", [](k8s::Object& o) { o.erase("status"); }, true},
      {"spec", [](k8s::Object& o) { o["spec"]["stop"] = true; }, false},
      {"generation", [](k8s::Object& o) { o["metadata"]["generation"] = 2; }, false},
      {"label",
       [](k8s::Object& o) {
         o["metadata"]["labels"] = {{"a", "b"}};
       },
       false},
      {"deletion", [](k8s::Object& o) { o["metadata"]["deletionTimestamp"] = "2026-01-01"; },
       false},
      {"metadata removed", [](k8s::Object& o) { o["metadata"].erase("generation"); }, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    k8s::Object changed = base;
    c.change(changed);
    EXPECT_EQ(OnlyStatusChanged(base, changed), c.want);
    EXPECT_EQ(OnlyStatusChanged(changed, base), c.want);
  }
}

TEST(EventMappingTest, JobChangeMattersOnlyForWhatThePlannerReads) {
  const k8s::Object base = OwnedJob("run-1-a-1", "PipelineExecution", "run-1");
  struct Case {
    std::string name;
    std::function<void(k8s::Object&)> change;
    bool want;
  };
  const std::vector<Case> cases = {
      {"nothing", [](k8s::Object&) {}, false},
      {"counters",
       [](k8s::Object& o) {
         o["status"]["active"] = 1;
         o["status"]["ready"] = 1;
         o["status"]["startTime"] = "2026-01-01T00:00:00Z";
         o["status"]["uncountedTerminatedPods"] = {{"succeeded", {"uid"}}};
         o["metadata"]["resourceVersion"] = "7";
         o["metadata"]["finalizers"] = {"x"};
       },
       false},
      {"condition",
       [](k8s::Object& o) {
         o["status"]["conditions"] = {{{"type", "Complete"}, {"status", "True"}}};
       },
       true},
      // Every condition the planner reads through k8s::ClassifyJob, and no other.
      {"success criteria met",
       [](k8s::Object& o) {
         o["status"]["conditions"] = {{{"type", "SuccessCriteriaMet"}, {"status", "True"}}};
       },
       true},
      {"failure target",
       [](k8s::Object& o) {
         o["status"]["conditions"] = {{{"type", "FailureTarget"}, {"status", "True"}}};
       },
       true},
      {"suspended condition",
       [](k8s::Object& o) {
         o["status"]["conditions"] = {{{"type", "Suspended"}, {"status", "True"}}};
       },
       false},
      {"completionTime", [](k8s::Object& o) { o["status"]["completionTime"] = "t"; }, true},
      {"spec", [](k8s::Object& o) { o["spec"]["suspend"] = false; }, true},
      {"annotation",
       [](k8s::Object& o) {
         o["metadata"]["annotations"] = {{"a", "b"}};
       },
       true},
      {"owner", [](k8s::Object& o) { o["metadata"].erase("ownerReferences"); }, true},
      {"deletion", [](k8s::Object& o) { o["metadata"]["deletionTimestamp"] = "t"; }, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    k8s::Object changed = base;
    c.change(changed);
    EXPECT_EQ(JobChangeMatters(base, changed), c.want);
  }
}

TEST(EventMappingTest, PodChangeMattersOnlyForWhatThePlannerReads) {
  const k8s::Object base = Obj("ml", "run-1-a-1-x",
                               {{"metadata", {{"labels", {{"stepline.dev/execution", "run-1"}}}}},
                                {"status", {{"phase", "Pending"}}}});
  struct Case {
    std::string name;
    std::function<void(k8s::Object&)> change;
    bool want;
  };
  const std::vector<Case> cases = {
      {"bound, ready, versions",
       [](k8s::Object& o) {
         o["spec"]["nodeName"] = "n1";
         o["status"]["conditions"] = {{{"type", "PodScheduled"}, {"status", "True"}}};
         o["status"]["podIP"] = "10.0.0.1";
         o["metadata"]["resourceVersion"] = "9";
         o["metadata"]["finalizers"] = k8s::Object::array();
       },
       false},
      {"running", [](k8s::Object& o) { o["status"]["phase"] = "Running"; }, true},
      {"unschedulable",
       [](k8s::Object& o) {
         o["status"]["conditions"] = {
             {{"type", "PodScheduled"}, {"status", "False"}, {"reason", "Unschedulable"}}};
       },
       true},
      {"image pull",
       [](k8s::Object& o) {
         o["status"]["containerStatuses"] = {
             {{"state", {{"waiting", {{"reason", "ErrImagePull"}}}}}}};
       },
       true},
      {"disrupted",
       [](k8s::Object& o) {
         o["status"]["conditions"] = {{{"type", "DisruptionTarget"}, {"status", "True"}}};
       },
       true},
      {"deleted", [](k8s::Object& o) { o["metadata"]["deletionTimestamp"] = "t"; }, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    k8s::Object changed = base;
    c.change(changed);
    EXPECT_EQ(PodChangeMatters(base, changed), c.want);
  }
}

TEST(ManagerTest, APodThatSucceedsBeforeItsJobFinishesWaitsForTheJob) {
  FakeInformerFactory factory;
  k8s::FakeClock clock;
  metrics::Registry registry;
  Manager manager(factory, clock, registry, {""});
  RecordingReconciler executions{"pipelineexecution"};
  manager.Register(executions, {k8s::resources::kPipelineExecutions, 1, {Watch::kExecutionPods}});
  auto adds = [&] {
    return registry.Counter("stepline_workqueue_adds_total", "", {"name"})
        .Value({"pipelineexecution"});
  };
  // One execution per case: a key already queued would hide a second add.
  auto pod_of = [&](const std::string& run, bool job_finished) {
    k8s::Object job = OwnedJob(run + "-a-1", "PipelineExecution", run);
    if (job_finished) job["status"]["conditions"] = {{{"type", "Complete"}, {"status", "True"}}};
    factory.informers[k8s::resources::kJobs.resource]->Put(job);
    return Obj(
        "ml", run + "-a-1-x",
        {{"metadata",
          {{"labels", {{"stepline.dev/execution", run}}},
           {"ownerReferences", {{{"kind", "Job"}, {"name", run + "-a-1"}, {"controller", true}}}}}},
         {"status", {{"phase", "Pending"}}}});
  };
  auto& pods = *factory.informers[k8s::resources::kPods.resource];
  k8s::Object p1 = pod_of("run-1", false);
  pods.Upsert(p1);
  EXPECT_EQ(adds(), 0) << "a new Pending pod says nothing";
  p1["status"]["phase"] = "Succeeded";
  pods.Upsert(p1);
  EXPECT_EQ(adds(), 0) << "its Job's Complete update will bring the reconcile";
  k8s::Object p2 = pod_of("run-2", true);
  pods.Upsert(p2);
  p2["status"]["phase"] = "Succeeded";
  pods.Upsert(p2);
  EXPECT_EQ(adds(), 1) << "the Job finished first: the pod's own update is awaited";
  k8s::Object p3 = pod_of("run-3", false);
  pods.Upsert(p3);
  p3["status"]["phase"] = "Running";
  pods.Upsert(p3);
  EXPECT_EQ(adds(), 2);
}

TEST(EventMappingTest, APodThatOnlyStartedIsToldApartFromOneThatNeedsJudging) {
  const k8s::Object pending = Obj(
      "ml", "run-1-a-1-x",
      {{"metadata", {{"labels", {{"stepline.dev/execution", "run-1"}}}}},
       {"status",
        {{"phase", "Pending"},
         {"conditions",
          {{{"type", "PodScheduled"}, {"status", "True"}},
           {{"type", "Ready"}, {"status", "False"}, {"reason", "ContainersNotReady"}}}},
         {"containerStatuses", {{{"state", {{"waiting", {{"reason", "ContainerCreating"}}}}}}}}}}});
  k8s::Object running = pending;
  running["status"]["phase"] = "Running";
  running["status"]["conditions"][1] = {{"type", "Ready"}, {"status", "True"}};
  running["status"]["containerStatuses"][0]["state"] = {{"running", {{"startedAt", "t"}}}};
  EXPECT_EQ(ClassifyPodChange(pending, pending), PodChange::kNone);
  EXPECT_EQ(ClassifyPodChange(pending, running), PodChange::kStarted);
  k8s::Object created = pending;  // no container statuses yet, as the kubelet first reports
  created["status"].erase("containerStatuses");
  created["status"].erase("conditions");
  EXPECT_EQ(ClassifyPodChange(created, running), PodChange::kStarted);

  k8s::Object pull_error = pending;
  pull_error["status"]["containerStatuses"][0]["state"] = {
      {"waiting", {{"reason", "ImagePullBackOff"}}}};
  EXPECT_EQ(ClassifyPodChange(pending, pull_error), PodChange::kJudged);
  k8s::Object unschedulable = pending;
  unschedulable["status"]["conditions"][0] = {
      {"type", "PodScheduled"}, {"status", "False"}, {"reason", "Unschedulable"}};
  EXPECT_EQ(ClassifyPodChange(pending, unschedulable), PodChange::kJudged);
  k8s::Object failed = running;
  failed["status"]["phase"] = "Failed";
  failed["status"]["containerStatuses"][0]["state"] = {
      {"terminated", {{"exitCode", 137}, {"reason", "OOMKilled"}}}};
  EXPECT_EQ(ClassifyPodChange(running, failed), PodChange::kJudged);
  k8s::Object disrupted = running;
  disrupted["status"]["conditions"].push_back({{"type", "DisruptionTarget"}, {"status", "True"}});
  EXPECT_EQ(ClassifyPodChange(running, disrupted), PodChange::kJudged);
  k8s::Object deleted = running;
  deleted["metadata"]["deletionTimestamp"] = "t";
  EXPECT_EQ(ClassifyPodChange(running, deleted), PodChange::kJudged);
}

TEST(ManagerTest, APodThatOnlyStartedEnqueuesItsExecutionAfterTheDelay) {
  FakeInformerFactory factory;
  k8s::FakeClock clock;
  metrics::Registry registry;
  Manager manager(factory, clock, registry, {.ns = "", .started_pod_delay = milliseconds(1000)});
  RecordingReconciler executions{"pipelineexecution"};
  manager.Register(executions, {k8s::resources::kPipelineExecutions, 1, {Watch::kExecutionPods}});
  auto adds = [&] {
    return registry.Counter("stepline_workqueue_adds_total", "", {"name"})
        .Value({"pipelineexecution"});
  };
  auto enqueues = [&] {
    return registry.Counter("stepline_enqueues_total", "", {"controller", "source"})
        .Value({"pipelineexecution", "pods"});
  };
  auto pod = [](const std::string& run) {
    return Obj("ml", run + "-a-1-x",
               {{"metadata", {{"labels", {{"stepline.dev/execution", run}}}}},
                {"status", {{"phase", "Pending"}}}});
  };
  auto& pods = *factory.informers[k8s::resources::kPods.resource];
  k8s::Object started = pod("run-1");
  pods.Upsert(started);
  started["status"]["phase"] = "Running";
  pods.Upsert(started);
  EXPECT_EQ(enqueues(), 1);
  EXPECT_EQ(adds(), 0) << "parked until the delay has passed";
  k8s::Object stuck = pod("run-2");
  pods.Upsert(stuck);
  stuck["status"]["conditions"] = {
      {{"type", "PodScheduled"}, {"status", "False"}, {"reason", "Unschedulable"}}};
  pods.Upsert(stuck);
  EXPECT_EQ(enqueues(), 2);
  EXPECT_EQ(adds(), 1) << "an unschedulable pod is judged at once";
  k8s::Object moved = pod("run-3");
  pods.Upsert(moved);
  moved["status"]["reason"] = "Evicted";
  pods.Upsert(moved);
  EXPECT_EQ(enqueues(), 3) << "old and new object name the same execution: one enqueue";
}

// A controller's ChangeHook sees every change (additions, updates, deletions) of every
// watched resource before the predicates, and the keys it answers are enqueued.
TEST(ManagerTest, ChangeHooksSeeEveryChangeAndEnqueueTheirKeys) {
  FakeInformerFactory factory;
  k8s::FakeClock clock;
  metrics::Registry registry;
  Manager manager(factory, clock, registry, {""});
  RecordingReconciler executions{"pipelineexecution"};
  std::vector<std::string> seen;
  ChangeHook hook = [&seen](const k8s::Resource& res, const k8s::Object* old_obj,
                            const k8s::Object* new_obj) -> std::vector<std::string> {
    seen.push_back(res.resource + (old_obj ? "+old" : "") + (new_obj ? "+new" : ""));
    if (res == k8s::resources::kResourceQuotas && new_obj != nullptr) return {"ml/run-9"};
    return {};
  };
  manager.Register(executions, {k8s::resources::kPipelineExecutions, 1, {}, hook});
  auto enqueues = [&] {
    return registry.Counter("stepline_enqueues_total", "", {"controller", "source"})
        .Value({"pipelineexecution", "resourcequotas"});
  };
  auto& quotas = *factory.informers[k8s::resources::kResourceQuotas.resource];
  k8s::Object q = Obj("ml", "q", {{"spec", {{"hard", {{"pods", "1"}}}}}});
  quotas.Upsert(q);
  q["status"]["used"]["pods"] = "0";
  quotas.Upsert(q);
  EXPECT_EQ(enqueues(), 2);
  factory.informers[k8s::resources::kPods.resource]->Upsert(Obj("ml", "pending-pod"));
  const std::vector<std::string> want = {"resourcequotas+new", "resourcequotas+old+new",
                                         "pods+new"};
  EXPECT_EQ(seen, want) << "a new Pending pod reaches the hook, though no reconcile needs it";
}

TEST(ManagerTest, InformersWatchTheRightObjects) {
  FakeInformerFactory factory;
  k8s::FakeClock clock;
  metrics::Registry registry;
  Manager manager(factory, clock, registry, {"ml"});
  ASSERT_EQ(factory.options.size(), 8u);
  EXPECT_EQ(factory.options.count("resourcequotas"), 1u) << "quota room (QuotaQueue)";
  EXPECT_EQ(factory.options.count("pipelineschedules"), 1u);
  EXPECT_EQ(factory.options["events"].field_selector, "reason=FailedCreate");
  // Only the artifact repositories: the controller may read no other ConfigMap (RBAC).
  EXPECT_EQ(factory.options["configmaps"].field_selector,
            "metadata.name=stepline-artifact-repository");
  k8s::Object event = {{"metadata", {{"name", "e1"}}},
                       {"involvedObject", {{"kind", "Job"}, {"name", "j"}, {"uid", "job-uid"}}}};
  factory.options["events"].transform(event);
  EXPECT_EQ(event["metadata"]["ownerReferences"][0]["uid"], "job-uid");
  EXPECT_EQ(factory.options["jobs"].label_selector, "app.kubernetes.io/managed-by=stepline");
  EXPECT_EQ(factory.options["pods"].label_selector, "stepline.dev/execution");
  EXPECT_EQ(factory.options["pipelines"].label_selector, "");
  for (const auto& [res, opts] : factory.options) EXPECT_EQ(opts.ns, "ml") << res;
}

// The cluster's SageMaker instance types: one ConfigMap, by name, in the controller's own
// namespace (not the watched one); its changes reach the ChangeHooks.
TEST(ManagerTest, TheInstanceTypesConfigMapIsWatchedInTheControllersNamespace) {
  FakeInformerFactory factory;
  k8s::FakeClock clock;
  metrics::Registry registry;
  Manager manager(factory, clock, registry,
                  {.ns = "ml", .controller_namespace = "stepline-system"});
  ASSERT_EQ(factory.created.size(), 9u);
  const auto& [resource, opts] = factory.created.back();
  EXPECT_EQ(resource, "configmaps");
  EXPECT_EQ(opts.ns, "stepline-system");
  EXPECT_EQ(opts.field_selector, "metadata.name=stepline-instance-types");
  std::vector<std::string> seen;
  RecordingReconciler pipelines{"pipeline"};
  manager.Register(pipelines, {k8s::resources::kPipelines,
                               1,
                               {},
                               [&seen](const k8s::Resource& res, const k8s::Object*,
                                       const k8s::Object* new_obj) -> std::vector<std::string> {
                                 if (res == k8s::resources::kConfigMaps && new_obj != nullptr) {
                                   seen.push_back(k8s::KeyOf(*new_obj));
                                 }
                                 return {};
                               }});
  factory.informers["configmaps"]->Upsert(Obj("stepline-system", "stepline-instance-types"));
  EXPECT_EQ(seen, std::vector<std::string>{"stepline-system/stepline-instance-types"});
}

struct RunningManager {
  explicit RunningManager(LeaderElector* elector = nullptr)
      : manager(factory, clock, registry, {""}) {
    manager.Register(executions, {k8s::resources::kPipelineExecutions,
                                  2,
                                  {Watch::kOwnedJobs, Watch::kExecutionPods,
                                   Watch::kReferencedPipelines, Watch::kJobEvents}});
    manager.Register(pipelines, {k8s::resources::kPipelines, 1, {}});
    thread = std::thread([this, elector] { result = manager.Run(stop, elector); });
  }
  ~RunningManager() {
    stop = true;
    manager.RequestStop();
    if (thread.joinable()) thread.join();
  }
  testing::FakeInformer& informer(const k8s::Resource& r) { return *factory.informers[r.resource]; }

  FakeInformerFactory factory;
  k8s::RealClock clock;
  metrics::Registry registry;
  RecordingReconciler executions{"pipelineexecution"};
  RecordingReconciler pipelines{"pipeline"};
  Manager manager;
  std::atomic<bool> stop{false};
  Manager::RunResult result{};
  std::thread thread;
};

TEST(ManagerTest, RoutesEventsToTheOwningExecution) {
  RunningManager m;
  m.informer(k8s::resources::kPipelineExecutions)
      .Upsert(Obj("ml", "run-1", {{"spec", {{"pipelineName", "forecast"}}}}));
  EXPECT_TRUE(m.executions.WaitFor("ml/run-1"));
  k8s::Object job = OwnedJob("run-2-a-1", "PipelineExecution", "run-2");
  m.informer(k8s::resources::kJobs).Upsert(job);  // a new Job: the controller created it
  job["status"]["conditions"] = {{{"type", "Complete"}, {"status", "True"}}};
  m.informer(k8s::resources::kJobs).Upsert(job);
  EXPECT_TRUE(m.executions.WaitFor("ml/run-2"));
  m.informer(k8s::resources::kPods)
      .Upsert(Obj("ml", "pod-x",
                  {{"metadata", {{"labels", {{"stepline.dev/execution", "run-3"}}}}},
                   {"status", {{"phase", "Running"}}}}));
  EXPECT_TRUE(m.executions.WaitFor("ml/run-3"));
  m.informer(k8s::resources::kJobs).Put(OwnedJob("run-4-a-1", "PipelineExecution", "run-4"));
  m.informer(k8s::resources::kEvents)
      .Upsert(
          Obj("ml", "run-4-a-1.17f",
              {{"reason", "FailedCreate"},
               {"involvedObject", {{"kind", "Job"}, {"name", "run-4-a-1"}, {"namespace", "ml"}}}}));
  EXPECT_TRUE(m.executions.WaitFor("ml/run-4"));
  m.informer(k8s::resources::kPipelines).Upsert(Obj("ml", "forecast"));
  EXPECT_TRUE(m.pipelines.WaitFor("ml/forecast"));
  EXPECT_TRUE(m.executions.WaitFor("ml/run-1"));
  EXPECT_TRUE(m.manager.CachesSynced());
  EXPECT_TRUE(m.manager.IsLeader());
  m.stop = true;  // joining the workers makes the last outcome's metrics visible
  m.manager.RequestStop();
  m.thread.join();
  const std::string text = m.registry.Render();
  EXPECT_NE(text.find("stepline_reconcile_total{controller=\"pipeline\",result=\"success\"}"),
            std::string::npos);
  EXPECT_NE(text.find("stepline_workqueue_adds_total{name=\"pipelineexecution\"}"),
            std::string::npos);
}

TEST(ManagerTest, AJobTurningFinishedStartsTheDispatchClockOfItsExecution) {
  RunningManager m;
  k8s::Object job = OwnedJob("run-5-a-1", "PipelineExecution", "run-5");
  m.informer(k8s::resources::kJobs).Upsert(job);
  job["status"]["active"] = 1;
  m.informer(k8s::resources::kJobs).Upsert(job);
  EXPECT_FALSE(m.manager.dispatch_latency().PendingFinish("ml/run-5"));
  job["status"]["conditions"] = {{{"type", "Complete"}, {"status", "True"}}};
  m.informer(k8s::resources::kJobs).Upsert(job);
  EXPECT_TRUE(m.manager.dispatch_latency().PendingFinish("ml/run-5"));
  EXPECT_FALSE(m.manager.dispatch_latency().PendingFinish("ml/run-4"));
}

TEST(ManagerTest, WorkersRunOnlyWhileLeadingAndTheLeaseIsReleasedOnStop) {
  testing::FakeLeaseStore store;
  k8s::RealClock clock;
  // Another replica holds a live lease: this one stays standby.
  LeaseRecord other{"other", 15, clock.Now(), clock.Now(), 0, ""};
  ASSERT_TRUE(store.Create(other).ok());
  testing::FakeLeaseLock lock(store);
  LeaderElector elector(lock, clock,
                        {"me", milliseconds(2000), milliseconds(1500), milliseconds(20)});
  RunningManager m(&elector);
  // Standby: the event is queued (handlers run inside Upsert) and stays queued.
  m.informer(k8s::resources::kPipelines).Upsert(Obj("ml", "forecast"));
  EXPECT_EQ(Series(m.registry, "stepline_workqueue_depth{name=\"pipeline\"}"), 1);
  EXPECT_EQ(m.pipelines.calls(), 0);
  EXPECT_FALSE(m.manager.IsLeader());
  EXPECT_TRUE(m.manager.CachesSynced()) << "a standby replica is ready too";
  // The other replica releases the lease; this one takes over and reconciles what was queued.
  LeaseRecord released = *store.Get();
  released.holder_identity.clear();
  ASSERT_TRUE(store.Update(released).ok());
  EXPECT_TRUE(m.pipelines.WaitFor("ml/forecast"));
  EXPECT_EQ(store.lease()->holder_identity, "me");
  m.stop = true;
  m.manager.RequestStop();
  m.thread.join();
  EXPECT_EQ(m.result, Manager::RunResult::kStopped);
  EXPECT_EQ(store.lease()->holder_identity, "") << "released on graceful stop";
}

TEST(ManagerTest, LosingTheLeaseStopsReconcilingAndReportsIt) {
  testing::FakeLeaseStore store;
  k8s::RealClock clock;
  testing::FakeLeaseLock lock(store);
  LeaderElector elector(lock, clock,
                        {"me", milliseconds(2000), milliseconds(1500), milliseconds(20)});
  RunningManager m(&elector);
  m.informer(k8s::resources::kPipelines).Upsert(Obj("ml", "forecast"));
  ASSERT_TRUE(m.pipelines.WaitFor("ml/forecast"));
  store.SetUnreachable(k8s::Status::Unavailable("connection refused"));
  m.thread.join();  // returns by itself once renewals failed for the renew deadline
  EXPECT_EQ(m.result, Manager::RunResult::kLeadershipLost);
  EXPECT_FALSE(m.manager.IsLeader());
  EXPECT_EQ(Series(m.registry, "stepline_leader"), 0) << m.registry.Render();
}

TEST(ManagerTest, StatusOnlyUpdatesOfExecutionsEnqueueNothing) {
  RunningManager m;
  auto& informer = m.informer(k8s::resources::kPipelineExecutions);
  k8s::Object ex = Obj("ml", "run-1", {{"spec", {{"pipelineName", "p"}}}});
  informer.Upsert(ex);
  ASSERT_TRUE(m.executions.WaitFor("ml/run-1"));
  const std::string adds = "stepline_workqueue_adds_total{name=\"pipelineexecution\"}";
  const double added = Series(m.registry, adds);
  ASSERT_GE(added, 1);
  ex["status"]["progress"] = "1/2";
  informer.Upsert(ex);  // the echo of a status write: the handlers ran, nothing was queued
  EXPECT_EQ(Series(m.registry, adds), added);
  ex["spec"]["stop"] = true;
  informer.Upsert(ex);  // a spec change is queued
  EXPECT_EQ(Series(m.registry, adds), added + 1);
}

}  // namespace
}  // namespace stepline::controller
