#include "reconcilers/cache_trim.h"

#include <gtest/gtest.h>

#include <functional>

#include "reconcilers/attempt.h"
#include "reconcilers/planner.h"
#include "reconcilers/planner_internal.h"
#include "tests/fakes/fake_cache.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using Ptr = Object::json_pointer;
using k8s::Annotation;

// A Job as `kubectl get job -o json` shows one of Stepline's (managedFields already stripped).
Object FullJob() {
  return Object::parse(R"({
  "apiVersion": "batch/v1", "kind": "Job",
  "metadata": {"name": "run-1-train-1", "namespace": "ml", "uid": "job-uid",
    "resourceVersion": "42", "generation": 1, "creationTimestamp": "2026-11-22T11:00:00Z",
    "labels": {"app.kubernetes.io/managed-by": "stepline", "stepline.dev/execution": "run-1",
      "stepline.dev/step": "train", "stepline.dev/attempt": "1",
      "kueue.x-k8s.io/queue-name": "team-a"},
    "annotations": {"stepline.dev/quota-waits": "2", "batch.kubernetes.io/job-tracking": ""},
    "ownerReferences": [{"apiVersion": "stepline.dev/v1alpha1", "kind": "PipelineExecution",
      "name": "run-1", "uid": "ex-uid", "controller": true, "blockOwnerDeletion": true}]},
  "spec": {"backoffLimit": 0, "completions": 1, "parallelism": 1, "suspend": false,
    "activeDeadlineSeconds": 1800, "completionMode": "NonIndexed", "manualSelector": false,
    "podReplacementPolicy": "TerminatingOrFailed",
    "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "job-uid"}},
    "template": {"metadata": {"labels": {"stepline.dev/execution": "run-1"}},
      "spec": {"restartPolicy": "Never", "serviceAccountName": "trainer",
        "containers": [{"name": "step", "image": "registry.example/ml:1.4",
          "command": ["python", "train.py", "--horizon", "1w"],
          "env": [{"name": "STEPLINE_EXECUTION", "value": "run-1"},
                  {"name": "STEPLINE_STEP", "value": "train"}],
          "resources": {"requests": {"cpu": "4", "memory": "16Gi"}},
          "terminationMessagePolicy": "FallbackToLogsOnError",
          "securityContext": {"allowPrivilegeEscalation": false,
            "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": true}}]}}},
  "status": {"startTime": "2026-11-22T11:00:01Z", "completionTime": "2026-11-22T11:10:00Z",
    "succeeded": 1, "ready": 0, "terminating": 0, "uncountedTerminatedPods": {},
    "conditions": [
      {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached",
       "message": "Reached expected number of succeeded pods",
       "lastProbeTime": "2026-11-22T11:10:00Z", "lastTransitionTime": "2026-11-22T11:10:00Z"},
      {"type": "Complete", "status": "True", "reason": "CompletionsReached",
       "message": "Reached expected number of succeeded pods",
       "lastProbeTime": "2026-11-22T11:10:00Z", "lastTransitionTime": "2026-11-22T11:10:00Z"}]}
})");
}

// Its Pod, as the kubelet reports a container that exited 0 with a termination message.
Object FullPod() {
  return Object::parse(R"({
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": "run-1-train-1-x7k2p", "namespace": "ml", "uid": "pod-uid",
    "resourceVersion": "41", "creationTimestamp": "2026-11-22T11:00:01Z",
    "labels": {"stepline.dev/execution": "run-1", "stepline.dev/step": "train",
      "batch.kubernetes.io/controller-uid": "job-uid", "job-name": "run-1-train-1",
      "controller-uid": "job-uid", "batch.kubernetes.io/job-name": "run-1-train-1"},
    "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "run-1-train-1",
      "uid": "job-uid", "controller": true, "blockOwnerDeletion": true}]},
  "spec": {"nodeName": "node-1", "restartPolicy": "Never", "dnsPolicy": "ClusterFirst",
    "containers": [{"name": "step", "image": "registry.example/ml:1.4",
      "command": ["python", "train.py"], "resources": {"requests": {"cpu": "4"}},
      "terminationMessagePath": "/dev/termination-log"}]},
  "status": {"phase": "Succeeded", "hostIP": "10.0.0.11", "podIP": "10.1.0.7",
    "podIPs": [{"ip": "10.1.0.7"}], "qosClass": "Burstable", "startTime": "2026-11-22T11:00:01Z",
    "conditions": [
      {"type": "PodReadyToStartContainers", "status": "False", "lastProbeTime": null,
       "lastTransitionTime": "2026-11-22T11:10:00Z"},
      {"type": "Initialized", "status": "True", "reason": "PodCompleted", "lastProbeTime": null,
       "lastTransitionTime": "2026-11-22T11:00:01Z"},
      {"type": "Ready", "status": "False", "reason": "PodCompleted", "lastProbeTime": null,
       "lastTransitionTime": "2026-11-22T11:10:00Z"},
      {"type": "PodScheduled", "status": "True", "lastProbeTime": null,
       "lastTransitionTime": "2026-11-22T11:00:01Z"}],
    "containerStatuses": [{"name": "step", "image": "registry.example/ml:1.4",
      "imageID": "registry.example/ml@sha256:abc", "containerID": "containerd://c1",
      "ready": false, "restartCount": 0, "started": false, "lastState": {},
      "state": {"terminated": {"exitCode": 0, "reason": "Completed",
        "message": "{\"accuracy\": \"0.91\"}", "containerID": "containerd://c1",
        "startedAt": "2026-11-22T11:00:03Z", "finishedAt": "2026-11-22T11:09:58Z"}}}]}
})");
}

k8s::WallTime At(const char* text) {
  k8s::WallTime t;
  k8s::ParseRfc3339(text, &t);
  return t;
}

void SetJobCondition(Object& job, const char* type, const char* reason, const char* message) {
  job["status"]["conditions"] = {{{"type", type},
                                  {"status", "True"},
                                  {"reason", reason},
                                  {"message", message},
                                  {"lastProbeTime", "2026-11-22T11:10:00Z"},
                                  {"lastTransitionTime", "2026-11-22T11:10:00Z"}}};
}

void SetPodFailed(Object& pod, int code, const char* reason) {
  pod["status"]["phase"] = "Failed";
  auto& term = pod["status"]["containerStatuses"][0]["state"]["terminated"];
  term["exitCode"] = code;
  term["reason"] = reason;
  term["message"] = "Traceback: boom";
}

void SetPodPending(Object& pod, Object scheduled, Object waiting) {
  pod["status"]["phase"] = "Pending";
  pod["status"]["conditions"][3] = std::move(scheduled);
  auto& state = pod["status"]["containerStatuses"][0]["state"];
  state = Object::object();
  if (!waiting.is_null()) state["waiting"] = std::move(waiting);
}

// Statuses of a user's init container and two staging containers; the one at `failed` ended 1.
Object StagingStatuses(int failed) {
  Object list = Object::array();
  for (const char* name : {"setup", "artifact-in-0", "artifact-out-0"}) {
    Object t = {{"exitCode", 0}, {"reason", "Completed"}, {"finishedAt", "2026-11-22T11:10:00Z"}};
    if (list.size() == static_cast<size_t>(failed) + 1) {
      t = {{"exitCode", 1},
           {"reason", "Error"},
           {"message", "GET s3://b/k: NoSuchKey: The specified key does not exist."},
           {"finishedAt", "2026-11-22T11:10:00Z"}};
    }
    list.push_back(
        {{"name", name}, {"image", "img"}, {"ready", false}, {"state", {{"terminated", t}}}});
  }
  return list;
}

struct AttemptCase {
  std::string name;
  std::function<void(Object& job, Object& pod)> edit;
  bool with_pod = true;
  std::vector<Object> events;
};

std::vector<AttemptCase> AttemptCases() {
  Object unschedulable = {{"type", "PodScheduled"},
                          {"status", "False"},
                          {"reason", "Unschedulable"},
                          {"message", "0/3 nodes are available: Insufficient nvidia.com/gpu"},
                          {"lastProbeTime", nullptr},
                          {"lastTransitionTime", "2026-11-22T11:00:02Z"}};
  Object scheduled = {{"type", "PodScheduled"}, {"status", "True"}};
  return {
      {"succeeded with outputs", [](Object&, Object&) {}},
      {"succeeded but the upload failed",
       [](Object&, Object& p) { p["status"]["initContainerStatuses"] = StagingStatuses(1); }},
      {"the download failed",
       [](Object& j, Object& p) {
         SetJobCondition(j, "Failed", "BackoffLimitExceeded", "backoff");
         p["status"]["phase"] = "Failed";
         p["status"]["containerStatuses"][0]["state"] = {
             {"waiting", {{"reason", "PodInitializing"}}}};
         p["status"]["initContainerStatuses"] = StagingStatuses(0);
       }},
      {"failed with exit code",
       [](Object& j, Object& p) {
         SetJobCondition(j, "Failed", "BackoffLimitExceeded", "Job has reached the backoff limit");
         SetPodFailed(p, 2, "Error");
       }},
      {"oom killed",
       [](Object& j, Object& p) {
         SetJobCondition(j, "Failed", "BackoffLimitExceeded", "backoff");
         SetPodFailed(p, 137, "OOMKilled");
       }},
      {"deadline exceeded",
       [](Object& j, Object& p) {
         SetJobCondition(j, "FailureTarget", "DeadlineExceeded", "Job was active longer");
         SetPodFailed(p, 143, "Error");
       }},
      {"disrupted",
       [](Object& j, Object& p) {
         SetJobCondition(j, "Failed", "BackoffLimitExceeded", "backoff");
         SetPodFailed(p, 137, "Error");
         p["status"]["conditions"].push_back({{"type", "DisruptionTarget"},
                                              {"status", "True"},
                                              {"reason", "PreemptionByScheduler"},
                                              {"message", "preempted"},
                                              {"lastProbeTime", nullptr}});
       }},
      {"evicted",
       [](Object& j, Object& p) {
         SetJobCondition(j, "Failed", "BackoffLimitExceeded", "backoff");
         SetPodFailed(p, 137, "Error");
         p["status"]["reason"] = "Evicted";
         p["status"]["message"] = "The node was low on resource: memory.";
       }},
      {"unschedulable",
       [unschedulable](Object& j, Object& p) {
         j["status"] = {{"active", 1}, {"startTime", "2026-11-22T11:00:01Z"}};
         SetPodPending(p, unschedulable, nullptr);
       }},
      {"image pull back-off",
       [scheduled](Object& j, Object& p) {
         j["status"] = {{"active", 1}};
         SetPodPending(p, scheduled,
                       {{"reason", "ImagePullBackOff"}, {"message", "Back-off pulling image"}});
       }},
      {"running",
       [](Object& j, Object& p) {
         j["status"] = {{"active", 1}, {"ready", 1}};
         p["status"]["phase"] = "Running";
         p["status"]["containerStatuses"][0]["state"] = {
             {"running", {{"startedAt", "2026-11-22T11:00:03Z"}}}};
       }},
      {"waiting for quota (suspended)",
       [](Object& j, Object&) {
         j["spec"]["suspend"] = true;
         j["status"] = Object::object();
         j["metadata"]["annotations"]["stepline.dev/resume-at"] = "2026-11-22T12:30:00Z";
         j["metadata"]["annotations"]["stepline.dev/quota-message"] = "exceeded quota: gpu";
       },
       false,
       {Object::parse(R"({"metadata": {"name": "e1", "namespace": "ml"}, "reason": "FailedCreate",
          "type": "Warning", "count": 3, "source": {"component": "job-controller"},
          "involvedObject": {"kind": "Job", "namespace": "ml", "name": "run-1-train-1",
            "uid": "job-uid", "apiVersion": "batch/v1", "resourceVersion": "40"},
          "message": "pods \"x\" is forbidden: exceeded quota: gpu",
          "firstTimestamp": "2026-11-22T11:00:00Z", "lastTimestamp": "2026-11-22T11:05:00Z"})")}},
      {"abandoned",
       [](Object& j, Object&) {
         j["spec"]["suspend"] = true;
         j["status"] = Object::object();
         auto& a = j["metadata"]["annotations"];
         a["stepline.dev/abandoned"] = "Unschedulable";
         a["stepline.dev/abandoned-message"] = "no node fits";
         a["stepline.dev/abandoned-at"] = "2026-11-22T11:20:00Z";
       },
       false},
  };
}

std::string Describe(const AttemptObservation& o) {
  auto time = [](const std::optional<k8s::WallTime>& t) {
    return t ? k8s::FormatRfc3339(*t) : std::string("-");
  };
  return std::to_string(static_cast<int>(o.phase)) + "|" + FailureClassName(o.failure) + "|" +
         (o.exit_code ? std::to_string(*o.exit_code) : "-") + "|" + o.message + "|" +
         o.termination_message + "|" + time(o.start_time) + "|" + time(o.completion_time) + "|" +
         time(o.settle_by);
}

// What the planner concludes about one attempt from these objects.
std::string Observe(const Object& job, const Object* pod, const std::vector<Object>& events,
                    bool judged) {
  AttemptInputs in;
  in.job = &job;
  if (pod != nullptr) in.pods.push_back(pod);
  for (const Object& e : events) in.events.push_back(&e);
  in.now = At("2026-11-22T11:40:00Z");
  in.judged = judged;
  return Describe(ObserveAttempt(in)) +
         "|finished=" + std::to_string(planner_internal::JobFinished(job)) +
         "|suspend=" + Annotation(job, kAnnotationResumeAt) +
         Annotation(job, kAnnotationAbandoned) + Annotation(job, kAnnotationQuotaWaits) +
         Annotation(job, kAnnotationQuotaMessage);
}

TEST(CacheTrimTest, AttemptsReadTheSameFromTrimmedJobsPodsAndEvents) {
  for (const AttemptCase& c : AttemptCases()) {
    SCOPED_TRACE(c.name);
    Object job = FullJob(), pod = FullPod();
    c.edit(job, pod);
    Object tjob = job, tpod = pod;
    TrimJob(tjob);
    TrimPod(tpod);
    std::vector<Object> tevents = c.events;
    for (Object& e : tevents) TrimJobEvent(e);
    for (bool judged : {false, true}) {
      EXPECT_EQ(Observe(tjob, c.with_pod ? &tpod : nullptr, tevents, judged),
                Observe(job, c.with_pod ? &pod : nullptr, c.events, judged));
    }
    EXPECT_LT(tjob.dump().size() * 2, job.dump().size()) << tjob.dump();
    EXPECT_LT(tpod.dump().size() * 2, pod.dump().size()) << tpod.dump();
  }
}

struct PathCase {
  std::string name;
  std::function<Object()> object;
  std::function<void(Object&)> trim;
  std::vector<std::string> kept;     // JSON pointers that must survive, with the same value
  std::vector<std::string> dropped;  // JSON pointers that must be gone
};

TEST(CacheTrimTest, KeepsWhatTheReconcilersReadAndDropsTheRest) {
  const std::vector<std::string> identity = {"/metadata/name",
                                             "/metadata/namespace",
                                             "/metadata/uid",
                                             "/metadata/resourceVersion",
                                             "/metadata/creationTimestamp",
                                             "/metadata/ownerReferences/0/uid",
                                             "/metadata/ownerReferences/0/controller",
                                             "/metadata/ownerReferences/0/kind",
                                             "/metadata/ownerReferences/0/name",
                                             "/metadata/ownerReferences/0/apiVersion"};
  auto with = [](std::vector<std::string> a, std::vector<std::string> b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  const std::vector<PathCase> cases = {
      {"job",
       FullJob,
       TrimJob,
       with(identity,
            {"/metadata/labels/stepline.dev~1step", "/metadata/labels/stepline.dev~1attempt",
             "/metadata/labels/kueue.x-k8s.io~1queue-name",
             "/metadata/annotations/stepline.dev~1quota-waits", "/spec/suspend",
             "/status/completionTime", "/status/conditions/1/type", "/status/conditions/1/status",
             "/status/conditions/1/reason", "/status/conditions/1/message",
             "/status/conditions/1/lastTransitionTime"}),
       {"/spec/template", "/spec/selector", "/spec/backoffLimit", "/status/startTime",
        "/status/uncountedTerminatedPods", "/status/conditions/0/lastProbeTime",
        "/metadata/labels/app.kubernetes.io~1managed-by",
        "/metadata/annotations/batch.kubernetes.io~1job-tracking",
        "/metadata/ownerReferences/0/blockOwnerDeletion"}},
      {"pod",
       FullPod,
       TrimPod,
       with(identity, {"/metadata/labels/stepline.dev~1execution", "/status/phase",
                       "/status/containerStatuses/0/name", "/status/containerStatuses/0/state"}),
       {"/spec", "/status/hostIP", "/status/podIPs", "/status/qosClass", "/status/startTime",
        "/status/containerStatuses/0/image", "/status/containerStatuses/0/imageID",
        "/status/containerStatuses/0/lastState", "/metadata/labels/job-name",
        "/metadata/labels/batch.kubernetes.io~1controller-uid"}},
  };
  for (const PathCase& c : cases) {
    SCOPED_TRACE(c.name);
    const Object full = c.object();
    Object trimmed = full;
    c.trim(trimmed);
    for (const std::string& p : c.kept) {
      ASSERT_TRUE(trimmed.contains(Ptr(p))) << p;
      EXPECT_EQ(trimmed.at(Ptr(p)), full.at(Ptr(p))) << p;
    }
    for (const std::string& p : c.dropped) {
      ASSERT_TRUE(full.contains(Ptr(p))) << p;  // the fixture has it
      EXPECT_FALSE(trimmed.contains(Ptr(p))) << p;
    }
  }
}

TEST(CacheTrimTest, PodKeepsOnlyTheConditionsTheAttemptReads) {
  Object pod = FullPod();
  TrimPod(pod);
  ASSERT_EQ(pod["status"]["conditions"].size(), 1u);
  EXPECT_EQ(pod["status"]["conditions"][0],
            Object({{"type", "PodScheduled"},
                    {"status", "True"},
                    {"lastTransitionTime", "2026-11-22T11:00:01Z"}}));
}

// An execution as the controller leaves it, with the snapshot of a 2-step pipeline.
Object Execution(const char* phase, int64_t generation) {
  Object ex = Object::parse(R"({
  "apiVersion": "stepline.dev/v1alpha1", "kind": "PipelineExecution",
  "metadata": {"name": "run-1", "namespace": "ml", "uid": "ex-uid", "resourceVersion": "9",
    "generation": 1, "creationTimestamp": "2026-11-22T11:00:00Z",
    "labels": {"team": "forecast"}, "annotations": {"note": "weekly"}},
  "spec": {"pipelineName": "forecast", "pipelineExecutionDisplayName": "weekly",
    "pipelineParameters": [{"name": "horizon", "value": "1w"}]},
  "status": {"observedGeneration": 1, "pipelineExecutionStatus": "Succeeded",
    "progress": "2/2", "startTime": "2026-11-22T11:00:00Z",
    "completionTime": "2026-11-22T11:20:00Z", "lastModifiedTime": "2026-11-22T11:20:00Z",
    "pipelineGeneration": 1,
    "pipelineSnapshot": {"steps": [
      {"name": "a", "image": "ml:1", "command": ["sh", "-c", "true"]},
      {"name": "b", "image": "ml:1", "dependsOn": ["a"], "command": ["sh", "-c", "true"]}]},
    "steps": [{"name": "a", "phase": "Succeeded", "attempts": 1, "jobName": "run-1-a-1"},
              {"name": "b", "phase": "Succeeded", "attempts": 1, "jobName": "run-1-b-1"}],
    "conditions": [{"type": "Succeeded", "status": "True", "reason": "Succeeded",
      "message": "all 2 steps finished", "lastTransitionTime": "2026-11-22T11:20:00Z"}]}
})");
  ex["status"]["pipelineExecutionStatus"] = phase;
  ex["metadata"]["generation"] = generation;
  return ex;
}

Object RunningJobOf(const char* name) {
  return {{"metadata",
           {{"name", name},
            {"namespace", "ml"},
            {"uid", std::string("uid-") + name},
            {"labels", {{"stepline.dev/step", "b"}, {"stepline.dev/attempt", "1"}}}}},
          {"status", {{"active", 1}}}};
}

TEST(CacheTrimTest, FinishedExecutionsAreRecognisedAndLeftAlone) {
  struct Case {
    std::string name;
    const char* phase;
    int64_t generation;  // 2: the spec was edited after the execution finished
    bool running_job;
    std::vector<std::string> want_deleted;
  };
  const std::vector<Case> cases = {
      {"succeeded", "Succeeded", 1, false, {}},
      {"succeeded, spec edited later", "Succeeded", 2, false, {}},
      {"failed", "Failed", 2, false, {}},
      {"stopped with a Job still running", "Stopped", 1, true, {"run-1-b-1"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Object cached = Execution(c.phase, c.generation);
    const Object full = cached;
    TrimExecution(cached);
    EXPECT_LT(cached.dump().size() * 4, full.dump().size()) << cached.dump();
    k8s::Result<PipelineExecution> ex = ParsePipelineExecution(cached);
    ASSERT_TRUE(ex.ok()) << ex.status().ToString();
    EXPECT_EQ(ex->spec.pipeline_name, "") << "a change to the Pipeline enqueues it no more";
    EXPECT_TRUE(ex->status.pipeline_snapshot.is_object());  // no Pipeline lookup
    Object job = RunningJobOf("run-1-b-1");
    PlanInputs in;
    in.execution = &*ex;
    in.now = At("2026-11-22T12:00:00Z");
    if (c.running_job) in.jobs.push_back({&job, {}, {}});
    PlanResult r = Plan(in);
    EXPECT_EQ(ToJson(r.status), ToJson(ex->status)) << "a trimmed status would be written back";
    std::vector<std::string> deleted;
    for (const Action& a : r.actions) {
      EXPECT_EQ(a.kind, Action::Kind::kDeleteJob);
      deleted.push_back(a.job_name);
    }
    EXPECT_EQ(deleted, c.want_deleted);
  }
}

TEST(CacheTrimTest, ExecutionsThatHaveNotFinishedStayWhole) {
  for (const char* phase : {"Pending", "Executing", "Stopping", ""}) {
    SCOPED_TRACE(phase);
    Object ex = Execution(phase, 1);
    const Object full = ex;
    TrimExecution(ex);
    EXPECT_EQ(ex, full);
  }
  Object no_status = Execution("Executing", 1);
  no_status.erase("status");
  const Object before = no_status;
  TrimExecution(no_status);
  EXPECT_EQ(no_status, before);
}

// Issue #16: an admin who patched the status to Succeeded mid-run made the cache drop the run.
TEST(CacheTrimTest, ASucceededStatusWithUnfinishedStepsStaysWhole) {
  Object ex = Execution("Succeeded", 1);
  ex["status"]["steps"] = {{{"name", "a"}, {"phase", "Running"}}, {{"name", "b"}}};
  const Object full = ex;
  TrimExecution(ex);
  EXPECT_EQ(ex, full);
  EXPECT_FALSE(IsFinishedExecution(ex));
  ex["status"]["steps"] = {{{"name", "a"}, {"phase", "Succeeded"}}};
  EXPECT_TRUE(IsFinishedExecution(ex));
}

TEST(CacheTrimTest, EndedJobsAndPodsOfFinishedExecutionsAreReadNoMore) {
  fakes::FakeCache executions;
  executions.Put(Execution("Executing", 1));  // run-1 in ml
  const Object ended_job = FullJob();         // Complete
  const Object ended_pod = FullPod();         // Succeeded
  Object running_job = ended_job;
  running_job["status"]["conditions"] = Object::array();
  Object running_pod = ended_pod;
  running_pod["status"]["phase"] = "Running";
  Object failed_job = ended_job;
  failed_job["status"]["conditions"] = {{{"type", "Failed"}, {"status", "True"}}};
  Object deciding_job = ended_job;  // decided, pods still being stopped
  deciding_job["status"]["conditions"] = {{{"type", "FailureTarget"}, {"status", "True"}}};
  for (const Object* o :
       std::vector<const Object*>{&ended_job, &ended_pod, &running_job, &failed_job}) {
    EXPECT_FALSE(FinishedWithItsExecution(*o, executions)) << "run-1 still runs";
  }
  executions.Put(Execution("Failed", 1));
  EXPECT_TRUE(FinishedWithItsExecution(ended_job, executions));
  EXPECT_TRUE(FinishedWithItsExecution(ended_pod, executions));
  EXPECT_TRUE(FinishedWithItsExecution(failed_job, executions));
  EXPECT_FALSE(FinishedWithItsExecution(running_job, executions)) << "still being deleted";
  EXPECT_FALSE(FinishedWithItsExecution(running_pod, executions));
  EXPECT_FALSE(FinishedWithItsExecution(deciding_job, executions));
  Object other_run = ended_job;
  other_run["metadata"]["labels"]["stepline.dev/execution"] = "run-2";
  EXPECT_FALSE(FinishedWithItsExecution(other_run, executions)) << "run-2 is not in the cache";
  Object unlabelled = ended_job;
  unlabelled["metadata"].erase("labels");
  EXPECT_FALSE(FinishedWithItsExecution(unlabelled, executions));
  EXPECT_FALSE(FinishedWithItsExecution(Object::array(), executions));
}

TEST(CacheTrimTest, LeavesNonObjectsAlone) {
  for (auto trim : {TrimJob, TrimPod, TrimJobEvent, TrimExecution}) {
    Object v = Object::array({1, 2});
    trim(v);
    EXPECT_EQ(v, Object::array({1, 2}));
    Object s = "text";
    trim(s);
    EXPECT_EQ(s, "text");
  }
}

TEST(CacheTrimTest, EachCachedResourceHasItsTrim) {
  namespace res = k8s::resources;
  struct Case {
    const k8s::Resource* resource;
    std::function<Object()> object;
    bool trimmed;
  };
  const std::vector<Case> cases = {
      {&res::kJobs, FullJob, true},
      {&res::kPods, FullPod, true},
      {&res::kPipelineExecutions, [] { return Execution("Succeeded", 1); }, true},
      {&res::kPipelines, [] { return Execution("Succeeded", 1); }, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.resource->resource);
    auto trim = CacheTrimFor(*c.resource);
    ASSERT_EQ(static_cast<bool>(trim), c.trimmed);
    if (!trim) continue;
    Object obj = c.object();
    trim(obj);
    EXPECT_NE(obj, c.object());
  }
  EXPECT_TRUE(static_cast<bool>(CacheTrimFor(res::kEvents)));
}

}  // namespace
}  // namespace stepline::reconcilers
