#include "reconcilers/watches.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "k8sclient/job_state.h"
#include "reconcilers/attempt.h"
#include "tests/fakes/fake_cache.h"
#include "tests/fakes/fake_informer.h"

namespace stepline::reconcilers {
namespace {

using controller::Change;
using controller::Request;
using controller::Watch;
using fakes::FakeCache;
using std::chrono::milliseconds;

k8s::Object Obj(const std::string& ns, const std::string& name, k8s::Object extra = {}) {
  k8s::Object o = {{"metadata", {{"namespace", ns}, {"name", name}, {"uid", "u-" + name}}}};
  if (extra.is_object()) o.merge_patch(extra);
  return o;
}

k8s::Object OwnedJob(const std::string& name, const std::string& owner) {
  return Obj("ml", name,
             {{"metadata",
               {{"ownerReferences",
                 {{{"apiVersion", "stepline.dev/v1alpha1"},
                   {"kind", "PipelineExecution"},
                   {"name", owner},
                   {"uid", "u-" + owner},
                   {"controller", true}}}}}}});
}

k8s::Object PodOf(const std::string& run, const std::string& phase = "Pending") {
  return Obj(
      "ml", run + "-a-1-x",
      {{"metadata",
        {{"labels", {{"stepline.dev/execution", run}}},
         {"ownerReferences", {{{"kind", "Job"}, {"name", run + "-a-1"}, {"controller", true}}}}}},
       {"status", {{"phase", phase}}}});
}

// The execution reconciler's watches over fake caches, and what they answer per change.
struct ExecutionWatchesUnderTest {
  explicit ExecutionWatchesUnderTest(milliseconds started_pod_delay = milliseconds(0))
      : quota(clock), dispatch(clock, nullptr) {
    ExecutionWatchDeps deps;
    deps.executions = &executions;
    deps.jobs = &jobs;
    deps.quotas = &quotas;
    deps.quota = &quota;
    deps.dispatch = &dispatch;
    deps.started_pod_delay = started_pod_delay;
    for (Watch& w : ExecutionWatches(deps)) watches[w.resource.resource].push_back(std::move(w));
  }
  // What the watches of resource answer for a change (old/new null: added/deleted).
  std::vector<Request> Map(const k8s::Resource& resource, const k8s::Object* old_obj,
                           const k8s::Object* new_obj) {
    std::vector<Request> out;
    for (const Watch& w : watches[resource.resource]) {
      for (Request& r : w.map(Change{old_obj, new_obj})) out.push_back(std::move(r));
    }
    return out;
  }
  std::vector<std::string> Keys(const k8s::Resource& resource, const k8s::Object* old_obj,
                                const k8s::Object* new_obj) {
    std::vector<std::string> keys;
    for (Request& r : Map(resource, old_obj, new_obj)) keys.push_back(std::move(r.key));
    return keys;
  }

  k8s::FakeClock clock;
  FakeCache executions, jobs, quotas;
  QuotaQueue quota;
  DispatchLatency dispatch;
  std::map<std::string, std::vector<Watch>> watches;
};

using Keys = std::vector<std::string>;

TEST(WatchesTest, KeysFromPodsEventsAndPipelines) {
  EXPECT_EQ(ExecutionLabelKey(PodOf("run-1")), "ml/run-1");
  EXPECT_EQ(ExecutionLabelKey(Obj("ml", "p")), std::nullopt);

  FakeCache executions;
  executions.Put(Obj("ml", "run-1", {{"spec", {{"pipelineName", "forecast"}}}}));
  executions.Put(Obj("ml", "run-2", {{"spec", {{"pipelineName", "fc-alias"}}}}));
  executions.Put(Obj("ml", "run-3", {{"spec", {{"pipelineName", "other"}}}}));
  executions.Put(Obj("prod", "run-4", {{"spec", {{"pipelineName", "forecast"}}}}));
  auto keys = ExecutionsReferencing(
      Obj("ml", "forecast", {{"spec", {{"pipelineName", "fc-alias"}}}}), executions);
  EXPECT_EQ(keys, (Keys{"ml/run-1", "ml/run-2"}));

  FakeCache jobs;
  jobs.Put(OwnedJob("run-4-a-1", "run-4"));
  const k8s::Object event =
      Obj("ml", "run-4-a-1.17f",
          {{"reason", "FailedCreate"},
           {"involvedObject", {{"kind", "Job"}, {"name", "run-4-a-1"}, {"namespace", "ml"}}}});
  EXPECT_EQ(JobEventExecutionKey(event, jobs), "ml/run-4");
  k8s::Object about_pod = event;
  about_pod["involvedObject"]["kind"] = "Pod";
  EXPECT_EQ(JobEventExecutionKey(about_pod, jobs), std::nullopt);
}

TEST(WatchesTest, ExecutionsHearOfTheirOwnChangesJobsEventsAndPipelines) {
  ExecutionWatchesUnderTest w;
  const auto& kExec = k8s::resources::kPipelineExecutions;
  k8s::Object ex = Obj("ml", "run-1", {{"spec", {{"pipelineName", "forecast"}}}});
  EXPECT_EQ(w.Keys(kExec, nullptr, &ex), Keys{"ml/run-1"});
  k8s::Object status_only = ex;
  status_only["status"]["progress"] = "1/2";
  EXPECT_EQ(w.Keys(kExec, &ex, &status_only), Keys{}) << "the echo of a status write";
  k8s::Object stopped = ex;
  stopped["spec"]["stop"] = true;
  EXPECT_EQ(w.Keys(kExec, &ex, &stopped), Keys{"ml/run-1"});
  EXPECT_EQ(w.Keys(kExec, &ex, nullptr), Keys{"ml/run-1"});

  k8s::Object job = OwnedJob("run-2-a-1", "run-2");
  EXPECT_EQ(w.Keys(k8s::resources::kJobs, nullptr, &job), Keys{})
      << "a new Job is one the reconciler created";
  k8s::Object done = job;
  done["status"]["conditions"] = {{{"type", "Complete"}, {"status", "True"}}};
  EXPECT_EQ(w.Keys(k8s::resources::kJobs, &job, &done), (Keys{"ml/run-2", "ml/run-2"}));
  EXPECT_EQ(w.Keys(k8s::resources::kJobs, &done, nullptr), Keys{"ml/run-2"});

  w.jobs.Put(OwnedJob("run-4-a-1", "run-4"));
  const k8s::Object event =
      Obj("ml", "run-4-a-1.17f",
          {{"reason", "FailedCreate"},
           {"involvedObject", {{"kind", "Job"}, {"name", "run-4-a-1"}, {"namespace", "ml"}}}});
  EXPECT_EQ(w.Keys(k8s::resources::kEvents, nullptr, &event), Keys{"ml/run-4"});

  w.executions.Put(ex);
  const k8s::Object pipeline = Obj("ml", "forecast", {{"spec", {{"steps", 1}}}});
  EXPECT_EQ(w.Keys(k8s::resources::kPipelines, nullptr, &pipeline), Keys{"ml/run-1"});
  k8s::Object validated = pipeline;
  validated["status"]["conditions"] = k8s::Object::array();
  EXPECT_EQ(w.Keys(k8s::resources::kPipelines, &pipeline, &validated), Keys{})
      << "a Pipeline's status write";
}

TEST(WatchesTest, APodThatSucceedsBeforeItsJobFinishesWaitsForTheJob) {
  ExecutionWatchesUnderTest w;
  const auto& kPods = k8s::resources::kPods;
  auto succeeded = [&](const std::string& run, bool job_finished) {
    k8s::Object job = OwnedJob(run + "-a-1", run);
    if (job_finished) job["status"]["conditions"] = {{{"type", "Complete"}, {"status", "True"}}};
    w.jobs.Put(job);
    const k8s::Object running = PodOf(run, "Running");
    const k8s::Object done = PodOf(run, "Succeeded");
    return w.Keys(kPods, &running, &done);
  };
  const k8s::Object pending = PodOf("run-1");
  EXPECT_EQ(w.Keys(kPods, nullptr, &pending), Keys{}) << "a new Pending pod says nothing";
  EXPECT_EQ(succeeded("run-1", false), Keys{}) << "its Job's Complete update will bring it";
  EXPECT_EQ(succeeded("run-2", true), (Keys{"ml/run-2", "ml/run-2"}))
      << "the Job finished first: the pod's own update is awaited";
  const k8s::Object pending3 = PodOf("run-3");
  const k8s::Object running = PodOf("run-3", "Running");
  EXPECT_EQ(w.Keys(kPods, &pending3, &running), (Keys{"ml/run-3", "ml/run-3"}));
  EXPECT_EQ(w.Keys(kPods, &running, nullptr), Keys{"ml/run-3"});
}

TEST(WatchesTest, APodThatOnlyStartedEnqueuesItsExecutionAfterTheDelay) {
  ExecutionWatchesUnderTest w(milliseconds(1000));
  const auto& kPods = k8s::resources::kPods;
  const k8s::Object pending = PodOf("run-1");
  const k8s::Object running = PodOf("run-1", "Running");
  for (const Request& r : w.Map(kPods, &pending, &running)) {
    EXPECT_EQ(r.key, "ml/run-1");
    EXPECT_EQ(r.after, milliseconds(1000));
  }
  k8s::Object stuck = pending;
  stuck["status"]["conditions"] = {
      {{"type", "PodScheduled"}, {"status", "False"}, {"reason", "Unschedulable"}}};
  const std::vector<Request> judged = w.Map(kPods, &pending, &stuck);
  ASSERT_FALSE(judged.empty());
  for (const Request& r : judged) EXPECT_EQ(r.after, milliseconds(0)) << "judged at once";
}

TEST(WatchesTest, QuotaRoomReachesTheWaitingExecution) {
  ExecutionWatchesUnderTest w;
  auto quota = [](const std::string& used) {
    return Obj("ml", "q",
               {{"spec", {{"hard", {{"pods", "2"}}}}},
                {"status", {{"hard", {{"pods", "2"}}}, {"used", {{"pods", used}}}}}});
  };
  w.quota.Report("ml/run-9", 0, 1, w.clock.Now());  // run-9 waits for quota
  const k8s::Object full = quota("2");
  const k8s::Object freed = quota("1");
  w.quotas.Put(freed);
  EXPECT_EQ(w.Keys(k8s::resources::kResourceQuotas, &full, &freed), Keys{"ml/run-9"});
  EXPECT_EQ(w.quota.TakeGrants("ml/run-9"), 1);
  const k8s::Object pod = PodOf("run-9");
  w.Keys(k8s::resources::kPods, nullptr, &pod);  // the granted pod was admitted
  w.quota.Report("ml/run-9", 0, 0, std::nullopt);
  EXPECT_EQ(w.quota.TakeGrants("ml/run-9"), 0);
}

TEST(WatchesTest, AJobTurningFinishedStartsTheDispatchClockOfItsExecution) {
  ExecutionWatchesUnderTest w;
  k8s::Object job = OwnedJob("run-5-a-1", "run-5");
  k8s::Object active = job;
  active["spec"]["suspend"] = false;
  w.Keys(k8s::resources::kJobs, &job, &active);
  EXPECT_FALSE(w.dispatch.PendingFinish("ml/run-5"));
  k8s::Object done = active;
  done["status"]["conditions"] = {{{"type", "Complete"}, {"status", "True"}}};
  w.Keys(k8s::resources::kJobs, &active, &done);
  EXPECT_TRUE(w.dispatch.PendingFinish("ml/run-5"));
  EXPECT_FALSE(w.dispatch.PendingFinish("ml/run-4"));
}

TEST(WatchesTest, InformersWatchTheRightObjects) {
  std::map<std::string, controller::InformerSpec> specs;
  std::vector<std::string> order;
  std::map<std::string, std::unique_ptr<fakes::FakeInformer>> informers;
  AddInformers(
      [&](controller::InformerSpec spec) -> controller::InformerHandle& {
        const std::string name = spec.name.empty() ? spec.resource.resource : spec.name;
        order.push_back(name);
        informers[name] = std::make_unique<fakes::FakeInformer>(spec.options);
        specs[name] = std::move(spec);
        return *informers[name];
      },
      "stepline-system");
  ASSERT_EQ(specs.size(), 9u);
  // The cluster's instance types: one ConfigMap by name, in the controller's own namespace.
  const controller::InformerSpec& types = specs["stepline-instance-types"];
  EXPECT_EQ(types.resource.resource, "configmaps");
  EXPECT_EQ(types.ns, "stepline-system");
  EXPECT_EQ(types.options.field_selector, "metadata.name=stepline-instance-types");
  EXPECT_EQ(specs["configmaps"].ns, "") << "the artifact repositories: the watched namespace";
  EXPECT_TRUE(specs["pipelineexecutions"].owner);
  EXPECT_TRUE(specs["pipelines"].owner);
  EXPECT_FALSE(specs["jobs"].owner);
  EXPECT_EQ(order[0], "pipelineexecutions") << "the Job and pod caches ask its cache";
  EXPECT_EQ(specs.count("resourcequotas"), 1u) << "quota room (QuotaQueue)";
  EXPECT_EQ(specs.count("pipelineschedules"), 1u);
  EXPECT_EQ(specs["events"].options.field_selector, "reason=FailedCreate");
  // Only the artifact repositories: the controller may read no other ConfigMap (RBAC).
  EXPECT_EQ(specs["configmaps"].options.field_selector,
            "metadata.name=stepline-artifact-repository");
  k8s::Object event = {{"metadata", {{"name", "e1"}}},
                       {"involvedObject", {{"kind", "Job"}, {"name", "j"}, {"uid", "job-uid"}}}};
  specs["events"].options.transform(event);
  EXPECT_EQ(event["metadata"]["ownerReferences"][0]["uid"], "job-uid");
  EXPECT_EQ(specs["jobs"].options.label_selector, "app.kubernetes.io/managed-by=stepline");
  EXPECT_EQ(specs["pods"].options.label_selector, "stepline.dev/execution");
  EXPECT_EQ(specs["pipelines"].options.label_selector, "");
  EXPECT_TRUE(specs["jobs"].options.transform) << "trimmed (cache_trim.h)";
  EXPECT_TRUE(specs["pods"].options.keep);

  // An execution turning finished: its ended Jobs and pods leave their caches.
  auto& executions = *informers["pipelineexecutions"];
  auto& jobs = *informers["jobs"];
  auto& pods = *informers["pods"];
  k8s::Object ex = Obj("ml", "run-1", {{"status", {{"pipelineExecutionStatus", "Executing"}}}});
  executions.Upsert(ex);
  k8s::Object job = OwnedJob("run-1-a-1", "run-1");
  job["kind"] = "Job";
  job["metadata"]["labels"]["stepline.dev/execution"] = "run-1";
  job["status"]["conditions"] = {{{"type", "Complete"}, {"status", "True"}}};
  jobs.Put(job);
  k8s::Object pod = PodOf("run-1", "Succeeded");
  pod["kind"] = "Pod";
  pod["metadata"]["ownerReferences"][0]["uid"] = "u-run-1-a-1";
  pods.Put(pod);
  k8s::Object running_pod = PodOf("run-2", "Running");  // of an execution still running
  running_pod["kind"] = "Pod";
  pods.Put(running_pod);
  ex["status"]["pipelineExecutionStatus"] = "Succeeded";
  executions.Upsert(ex);
  EXPECT_EQ(jobs.Get("ml", "run-1-a-1"), nullptr);
  EXPECT_EQ(pods.Get("ml", "run-1-a-1-x"), nullptr);
  EXPECT_NE(pods.Get("ml", "run-2-a-1-x"), nullptr);
}

TEST(WatchesTest, JobChangeMattersOnlyForWhatThePlannerReads) {
  const k8s::Object base = OwnedJob("run-1-a-1", "run-1");
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

TEST(WatchesTest, PodChangeMattersOnlyForWhatThePlannerReads) {
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

TEST(WatchesTest, APodThatOnlyStartedIsToldApartFromOneThatNeedsJudging) {
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

// The watches' predicates drop only changes the planner cannot see: for each change of a Job or
// its pod below, when ObserveAttempt (what the planner reads of an attempt) answers differently
// before and after, the change must enqueue the execution. The one change dropped by design is
// a pod succeeding while its Job has not finished: the Job's own update follows and enqueues.
TEST(WatchesTest, NoChangeThePlannerSeesIsDropped) {
  const k8s::Object job = [] {
    k8s::Object j = OwnedJob("run-1-a-1", "run-1");
    j["status"]["startTime"] = "2026-12-07T00:00:00Z";
    return j;
  }();
  const k8s::Object pod = [] {
    k8s::Object p = PodOf("run-1");
    p["metadata"]["ownerReferences"][0]["uid"] = "u-run-1-a-1";
    return p;
  }();
  using Edit = std::function<void(k8s::Object&)>;
  const std::map<std::string, Edit> pod_edits = {
      {"running", [](k8s::Object& p) { p["status"]["phase"] = "Running"; }},
      {"succeeded",
       [](k8s::Object& p) {
         p["status"]["phase"] = "Succeeded";
         p["status"]["containerStatuses"] = {
             {{"name", "step"},
              {"state", {{"terminated", {{"exitCode", 0}, {"message", "{\"a\":1}"}}}}}}};
       }},
      {"failed",
       [](k8s::Object& p) {
         p["status"]["phase"] = "Failed";
         p["status"]["containerStatuses"] = {
             {{"name", "step"}, {"state", {{"terminated", {{"exitCode", 3}}}}}}};
       }},
      {"oom",
       [](k8s::Object& p) {
         p["status"]["containerStatuses"] = {
             {{"name", "step"},
              {"state", {{"terminated", {{"exitCode", 137}, {"reason", "OOMKilled"}}}}}}};
       }},
      {"unschedulable",
       [](k8s::Object& p) {
         p["status"]["conditions"] = {{{"type", "PodScheduled"},
                                       {"status", "False"},
                                       {"reason", "Unschedulable"},
                                       {"message", "0/3 nodes"}}};
       }},
      {"image pull",
       [](k8s::Object& p) {
         p["status"]["containerStatuses"] = {
             {{"name", "step"}, {"state", {{"waiting", {{"reason", "ErrImagePull"}}}}}}};
       }},
      {"evicted",
       [](k8s::Object& p) {
         p["status"]["phase"] = "Failed";
         p["status"]["reason"] = "Evicted";
       }},
      {"disrupted",
       [](k8s::Object& p) {
         p["status"]["conditions"] = {{{"type", "DisruptionTarget"}, {"status", "True"}}};
       }},
      {"ip and node (nothing judged)",
       [](k8s::Object& p) {
         p["spec"]["nodeName"] = "n1";
         p["status"]["podIP"] = "10.0.0.1";
       }},
  };
  const std::map<std::string, Edit> job_edits = {
      {"complete",
       [](k8s::Object& j) {
         j["status"]["conditions"] = {{{"type", "Complete"}, {"status", "True"}}};
         j["status"]["completionTime"] = "2026-12-07T00:01:00Z";
       }},
      {"failed",
       [](k8s::Object& j) {
         j["status"]["conditions"] = {
             {{"type", "Failed"}, {"status", "True"}, {"reason", "DeadlineExceeded"}}};
       }},
      {"success criteria met",
       [](k8s::Object& j) {
         j["status"]["conditions"] = {{{"type", "SuccessCriteriaMet"}, {"status", "True"}}};
       }},
      {"failure target",
       [](k8s::Object& j) {
         j["status"]["conditions"] = {
             {{"type", "FailureTarget"}, {"status", "True"}, {"reason", "BackoffLimitExceeded"}}};
       }},
      {"suspended", [](k8s::Object& j) { j["spec"]["suspend"] = true; }},
      {"counters (nothing judged)",
       [](k8s::Object& j) {
         j["status"]["active"] = 1;
         j["status"]["ready"] = 1;
       }},
  };
  const k8s::WallTime now = k8s::FakeClock().Now();
  auto observe = [&](const k8s::Object& j, const k8s::Object& p) {
    AttemptInputs in;
    in.job = &j;
    in.pods = {&p};
    in.now = now;
    AttemptObservation o = ObserveAttempt(in);
    return std::make_tuple(static_cast<int>(o.phase), static_cast<int>(o.failure), o.exit_code,
                           o.message, o.termination_message, o.settle_by.has_value());
  };
  ExecutionWatchesUnderTest w;
  w.jobs.Put(job);
  int seen = 0;
  for (const auto& [name, edit] : pod_edits) {
    SCOPED_TRACE("pod: " + name);
    k8s::Object after = pod;
    edit(after);
    if (observe(job, pod) == observe(job, after)) continue;
    ++seen;
    if (w.Keys(k8s::resources::kPods, &pod, &after).empty()) {
      EXPECT_EQ(after["status"]["phase"], "Succeeded") << "dropped";
      EXPECT_FALSE(k8s::OutcomeDecided(k8s::ClassifyJob(job))) << "dropped";
    }
  }
  for (const auto& [name, edit] : job_edits) {
    SCOPED_TRACE("job: " + name);
    k8s::Object after = job;
    edit(after);
    if (observe(job, pod) == observe(after, pod)) continue;
    ++seen;
    EXPECT_FALSE(w.Keys(k8s::resources::kJobs, &job, &after).empty());
  }
  EXPECT_GE(seen, 10) << "most edits change what the planner sees; the test would be vacuous";
}

}  // namespace
}  // namespace stepline::reconcilers
