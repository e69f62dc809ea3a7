#include "localagent/job_sync.h"

#include <gtest/gtest.h>

#include "localagent/conditions.h"
#include "localagent/job_pod.h"
#include "localagent/pod_util.h"

namespace stepline::localagent {
namespace {

using k8s::Object;
using std::chrono::seconds;

const k8s::WallTime kT0{seconds(1'700'000'000)};

std::string At(int offset_seconds) { return k8s::FormatRfc3339(kT0 + seconds(offset_seconds)); }

Object Job(const Object& spec, const Object& status = Object::object()) {
  Object job = {{"apiVersion", "batch/v1"},
                {"kind", "Job"},
                {"metadata", {{"name", "j"}, {"namespace", "ns"}, {"uid", "job-uid"}}},
                {"spec", spec}};
  if (!status.empty()) job["status"] = status;
  return job;
}

struct PodOpts {
  std::string phase = "Running";
  bool tracked = true;
  bool deleting = false;
  bool ready = false;
  int finished_at = 0;  // seconds after kT0, for terminal pods
  std::string node = "n1";
};

k8s::ObjectPtr Pod(const std::string& name, const PodOpts& o) {
  Object pod = {
      {"metadata", {{"name", name}, {"uid", name + "-uid"}, {"creationTimestamp", At(0)}}},
      {"spec", {{"nodeName", o.node}}},
      {"status", {{"phase", o.phase}}}};
  if (o.tracked) pod["metadata"]["finalizers"] = Object::array({kJobTrackingFinalizer});
  if (o.deleting) pod["metadata"]["deletionTimestamp"] = At(o.finished_at);
  if (o.ready) {
    pod["status"]["conditions"] = Object::array({{{"type", "Ready"}, {"status", "True"}}});
  }
  if (o.phase == "Succeeded" || o.phase == "Failed") {
    pod["status"]["containerStatuses"] = Object::array(
        {{{"name", "main"}, {"state", {{"terminated", {{"finishedAt", At(o.finished_at)}}}}}}});
  }
  return std::make_shared<const Object>(std::move(pod));
}

std::string CondReason(const Object& status, const std::string& type) {
  const Object* c = FindCondition(status, type);
  return c == nullptr ? "" : c->value("status", "") + "/" + c->value("reason", "");
}

TEST(SyncJobTest, ANewJobStartsAndCreatesOnePod) {
  auto r = SyncJob(Job({{"template", Object::object()}}), {}, kT0);
  EXPECT_EQ(r.create, 1);
  EXPECT_EQ(r.status["startTime"], At(0));
  EXPECT_EQ(r.status["ready"], 0);
  EXPECT_EQ(r.status["terminating"], 0);
  EXPECT_FALSE(r.status.contains("active"));
  EXPECT_EQ(r.status["uncountedTerminatedPods"], Object::object());
}

TEST(SyncJobTest, SucceededPodIsCountedThroughTheFinalizerThenCompletes) {
  Object job = Job({{"backoffLimit", 0}}, {{"startTime", At(0)}});
  // 1: the finished pod goes into uncountedTerminatedPods and loses its finalizer.
  auto r1 = SyncJob(job, {Pod("p1", {.phase = "Succeeded", .finished_at = 5})}, kT0 + seconds(6));
  EXPECT_EQ(r1.status["uncountedTerminatedPods"]["succeeded"], Object::array({"p1-uid"}));
  EXPECT_EQ(r1.remove_finalizer, std::vector<std::string>{"p1"});
  EXPECT_EQ(CondReason(r1.status, "SuccessCriteriaMet"), "True/CompletionsReached");
  EXPECT_EQ(FindCondition(r1.status, "Complete"), nullptr) << "uncounted pods remain";
  EXPECT_EQ(r1.create, 0);
  // 2: the finalizer is gone: counted, and the Job is Complete.
  job["status"] = r1.status;
  auto r2 = SyncJob(job, {Pod("p1", {.phase = "Succeeded", .tracked = false, .finished_at = 5})},
                    kT0 + seconds(7));
  EXPECT_EQ(r2.status["succeeded"], 1);
  EXPECT_EQ(r2.status["uncountedTerminatedPods"], Object::object());
  EXPECT_EQ(CondReason(r2.status, "Complete"), "True/CompletionsReached");
  EXPECT_EQ(FindCondition(r2.status, "Complete")->value("message", ""),
            "Reached expected number of succeeded pods");
  EXPECT_EQ(r2.status["completionTime"], At(7));
  ASSERT_EQ(r2.events.size(), 1u);
  EXPECT_EQ(r2.events[0].reason, "Completed");
  EXPECT_TRUE(IsJobFinished(Job({}, r2.status)));
}

TEST(SyncJobTest, Table) {
  struct Case {
    std::string name;
    Object spec;
    Object status;
    std::vector<k8s::ObjectPtr> pods;
    int now;
    int want_create;
    std::vector<std::string> want_delete;
    std::string want_failure_target;  // "status/reason" or ""
    std::string want_failed;
    int want_requeue_ms;  // -1: none
  };
  const Object started = {{"startTime", At(0)}};
  const Object failed_once = {{"startTime", At(0)}, {"failed", 1}};
  const Object failed_twice = {{"startTime", At(0)}, {"failed", 2}};
  const std::vector<Case> cases = {
      {"a failure waits 10s before the replacement",
       {{"backoffLimit", 2}},
       failed_once,
       {Pod("p1", {.phase = "Failed", .tracked = false, .finished_at = 5})},
       8,
       0,
       {},
       "",
       "",
       7000},
      {"after the backoff the replacement is created",
       {{"backoffLimit", 2}},
       failed_once,
       {Pod("p1", {.phase = "Failed", .tracked = false, .finished_at = 5})},
       15,
       1,
       {},
       "",
       "",
       -1},
      {"two failures wait 20s",
       {{"backoffLimit", 2}},
       failed_twice,
       {Pod("p1", {.phase = "Failed", .tracked = false, .finished_at = 1}),
        Pod("p2", {.phase = "Failed", .tracked = false, .finished_at = 10})},
       20,
       0,
       {},
       "",
       "",
       10000},
      {"past backoffLimit: FailureTarget then Failed",
       {{"backoffLimit", 2}},
       {{"startTime", At(0)}, {"failed", 3}},
       {Pod("p3", {.phase = "Failed", .tracked = false, .finished_at = 30})},
       31,
       0,
       {},
       "True/BackoffLimitExceeded",
       "True/BackoffLimitExceeded",
       -1},
      {"the deadline deletes the running pod; Failed waits for it",
       {{"activeDeadlineSeconds", 5}},
       started,
       {Pod("p1", {.ready = true})},
       5,
       0,
       {"p1"},
       "True/DeadlineExceeded",
       "",
       -1},
      {"before the deadline: requeue at it",
       {{"activeDeadlineSeconds", 5}},
       started,
       {Pod("p1", {})},
       2,
       0,
       {},
       "",
       "",
       3000},
      {"a terminating pod is failed but blocks the terminal condition",
       {{"backoffLimit", 0}},
       started,
       {Pod("p1", {.deleting = true, .finished_at = 3})},
       4,
       0,
       {},
       "True/BackoffLimitExceeded",
       "",
       -1},
      {"parallelism 2, completions 3, one done",
       {{"parallelism", 2}, {"completions", 3}},
       {{"startTime", At(0)}, {"succeeded", 1}},
       {Pod("p2", {})},
       4,
       1,
       {},
       "",
       "",
       -1},
      {"work queue job: done when one succeeded and none runs",
       {{"parallelism", 2}},
       {{"startTime", At(0)}, {"succeeded", 1}},
       {},
       4,
       0,
       {},
       "",
       "",
       -1},
      {"suspended: active pods go",
       {{"suspend", true}},
       started,
       {Pod("p1", {})},
       4,
       0,
       {"p1"},
       "",
       "",
       -1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = SyncJob(Job(c.spec, c.status), c.pods, kT0 + seconds(c.now));
    EXPECT_EQ(r.create, c.want_create);
    EXPECT_EQ(r.delete_pods, c.want_delete);
    EXPECT_EQ(CondReason(r.status, "FailureTarget"), c.want_failure_target);
    EXPECT_EQ(CondReason(r.status, "Failed"), c.want_failed);
    EXPECT_EQ(r.requeue_after ? static_cast<int>(r.requeue_after->count()) : -1, c.want_requeue_ms);
  }
}

TEST(SyncJobTest, DeadlineFailsOnceThePodHasTerminated) {
  Object status = {{"startTime", At(0)}};
  SetCondition(&status, {"FailureTarget", "True", "DeadlineExceeded", "x"}, kT0 + seconds(5), true);
  auto r = SyncJob(Job({{"activeDeadlineSeconds", 5}}, status),
                   {Pod("p1", {.phase = "Failed", .tracked = false, .finished_at = 6})},
                   kT0 + seconds(7));
  EXPECT_EQ(CondReason(r.status, "Failed"), "True/DeadlineExceeded");
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_TRUE(r.events[0].warning);
  EXPECT_EQ(r.events[0].reason, "DeadlineExceeded");
  EXPECT_FALSE(r.status.contains("completionTime"));
}

TEST(SyncJobTest, UnscheduledDeletedPodLosesItsFinalizerAtOnce) {
  auto r = SyncJob(Job({}, {{"startTime", At(0)}}),
                   {Pod("p1", {.phase = "Pending", .deleting = true, .node = ""})}, kT0);
  EXPECT_EQ(r.remove_finalizer, std::vector<std::string>{"p1"});
  EXPECT_EQ(r.status["uncountedTerminatedPods"]["failed"], Object::array({"p1-uid"}));
}

TEST(PodReplacementBackoffTest, DoublesUpToSixMinutes) {
  EXPECT_EQ(PodReplacementBackoff(1), seconds(10));
  EXPECT_EQ(PodReplacementBackoff(3), seconds(40));
  EXPECT_EQ(PodReplacementBackoff(20), std::chrono::minutes(6));
}

TEST(JobPodTest, BuildsThePodTheJobControllerWould) {
  Object job =
      Job({{"template",
            {{"metadata", {{"labels", {{"app", "x"}}}}},
             {"spec",
              {{"restartPolicy", "Never"},
               {"containers", Object::array({{{"name", "main"}, {"image", "busybox"}}})}}}}}});
  Object pod = BuildJobPod(job, JobPodName("j", NameSuffix(12345)));
  EXPECT_EQ(pod["metadata"]["name"].get<std::string>().size(), 7u);
  EXPECT_EQ(pod["metadata"]["labels"]["job-name"], "j");
  EXPECT_EQ(pod["metadata"]["labels"]["batch.kubernetes.io/controller-uid"], "job-uid");
  EXPECT_EQ(pod["metadata"]["labels"]["app"], "x");
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["uid"], "job-uid");
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["blockOwnerDeletion"], true);
  EXPECT_EQ(pod["metadata"]["finalizers"][0], kJobTrackingFinalizer);
  EXPECT_EQ(pod["spec"]["containers"][0]["terminationMessagePath"], "/dev/termination-log");
  EXPECT_EQ(pod["spec"]["containers"][0]["imagePullPolicy"], "Always");
  EXPECT_EQ(pod["spec"]["terminationGracePeriodSeconds"], 30);
  EXPECT_EQ(JobPodName(std::string(70, 'a'), "bcdfg").size(), 63u);
}

}  // namespace
}  // namespace stepline::localagent
