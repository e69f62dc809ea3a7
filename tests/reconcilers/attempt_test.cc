#include "reconcilers/attempt.h"

#include <gtest/gtest.h>

namespace stepline::reconcilers {
namespace {

using k8s::Object;

const k8s::WallTime kNow = [] {
  k8s::WallTime t;
  k8s::ParseRfc3339("2026-11-22T12:00:00Z", &t);
  return t;
}();

Object JobWith(const char* type, const char* reason, const char* message = "") {
  return {{"metadata", {{"name", "run-a-1"}}},
          {"status",
           {{"conditions",
             {{{"type", type},
               {"status", "True"},
               {"reason", reason},
               {"message", message},
               {"lastTransitionTime", "2026-11-22T11:59:00Z"}}}}}}};
}

Object RunningJob() { return {{"metadata", {{"name", "run-a-1"}}}, {"status", {{"active", 1}}}}; }
// A Job whose pod the server refused: the Job controller counts no pod active.
Object RefusedJob() { return {{"metadata", {{"name", "run-a-1"}}}, {"status", {{"active", 0}}}}; }

Object PodTerminated(int code, const char* reason, const char* message = "") {
  return {{"metadata", {{"name", "p"}, {"creationTimestamp", "2026-11-22T11:50:00Z"}}},
          {"status",
           {{"phase", code == 0 ? "Succeeded" : "Failed"},
            {"containerStatuses",
             {{{"name", "step"},
               {"state",
                {{"terminated",
                  {{"exitCode", code},
                   {"reason", reason},
                   {"message", message},
                   {"startedAt", "2026-11-22T11:51:00Z"},
                   {"finishedAt", "2026-11-22T11:58:00Z"}}}}}}}}}}};
}

Object PodPending(const char* sched_status, const char* sched_reason, const char* msg,
                  const char* since) {
  return {{"metadata", {{"name", "p"}, {"creationTimestamp", since}}},
          {"status",
           {{"phase", "Pending"},
            {"conditions",
             {{{"type", "PodScheduled"},
               {"status", sched_status},
               {"reason", sched_reason},
               {"message", msg},
               {"lastTransitionTime", since}}}}}}};
}

Object PodWaiting(const char* reason, const char* since) {
  Object pod = PodPending("True", "", "", since);
  pod["status"]["containerStatuses"] = {
      {{"name", "step"}, {"state", {{"waiting", {{"reason", reason}, {"message", "m"}}}}}}};
  return pod;
}

Object Event(const char* reason, const char* message) {
  return {{"reason", reason}, {"message", message}, {"lastTimestamp", "2026-11-22T11:59:30Z"}};
}

struct Case {
  std::string name;
  Object job;
  std::vector<Object> pods;
  std::vector<Object> events;
  AttemptPhase want_phase;
  FailureClass want_failure;
  std::string want_message_part;
};

TEST(ObserveAttemptTest, ClassifiesEveryOutcome) {
  Object disrupted = PodTerminated(137, "Error");
  disrupted["status"]["conditions"] = {{{"type", "DisruptionTarget"},
                                        {"status", "True"},
                                        {"reason", "EvictionByEvictionAPI"},
                                        {"message", "Eviction API: evicting"}}};
  Object evicted = PodTerminated(137, "Error");
  evicted["status"]["reason"] = "Evicted";
  evicted["status"]["message"] = "The node was low on resource: memory.";
  const char* quota_msg =
      "pods \"run-a-1-x\" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, "
      "limited: pods=1";
  std::vector<Case> cases = {
      {"complete",
       JobWith("Complete", ""),
       {PodTerminated(0, "Completed", R"({"a":"1"})")},
       {},
       AttemptPhase::kSucceeded,
       FailureClass::kNone,
       ""},
      {"exit 3",
       JobWith("Failed", "BackoffLimitExceeded"),
       {PodTerminated(3, "Error", "boom")},
       {},
       AttemptPhase::kFailed,
       FailureClass::kError,
       "exit code 3: boom"},
      {"failure target counts as failed",
       JobWith("FailureTarget", "BackoffLimitExceeded"),
       {PodTerminated(1, "Error")},
       {},
       AttemptPhase::kFailed,
       FailureClass::kError,
       "exit code 1"},
      {"oom",
       JobWith("Failed", "BackoffLimitExceeded"),
       {PodTerminated(137, "OOMKilled")},
       {},
       AttemptPhase::kFailed,
       FailureClass::kOOMKilled,
       "OOMKilled"},
      {"deadline",
       JobWith("Failed", "DeadlineExceeded", "Job was active longer than specified"),
       {PodTerminated(143, "Error")},
       {},
       AttemptPhase::kFailed,
       FailureClass::kDeadlineExceeded,
       "active longer"},
      {"disruption target",
       JobWith("Failed", "BackoffLimitExceeded"),
       {disrupted},
       {},
       AttemptPhase::kFailed,
       FailureClass::kDisrupted,
       "EvictionByEvictionAPI"},
      {"kubelet eviction",
       JobWith("Failed", "BackoffLimitExceeded"),
       {evicted},
       {},
       AttemptPhase::kFailed,
       FailureClass::kDisrupted,
       "low on resource"},
      {"no pod yet", RunningJob(), {}, {}, AttemptPhase::kPending, FailureClass::kNone, ""},
      {"a refusal older than the pod the Job counts active (not yet in our cache)",
       RunningJob(),
       {},
       {Event("FailedCreate", quota_msg)},
       AttemptPhase::kPending,
       FailureClass::kNone,
       ""},
      {"quota",
       RefusedJob(),
       {},
       {Event("FailedCreate", quota_msg)},
       AttemptPhase::kPending,
       FailureClass::kQuotaExceeded,
       "exceeded quota: q"},
      {"any other FailedCreate ends the attempt, message verbatim",
       RefusedJob(),
       {},
       {Event("FailedCreate", "Error creating: pods is forbidden: serviceaccount missing")},
       AttemptPhase::kFailed,
       FailureClass::kPodRejected,
       "Error creating: pods is forbidden: serviceaccount missing"},
      {"a Pod Security refusal",
       RefusedJob(),
       {},
       {Event("FailedCreate",
              "Error creating: pods \"run-a-1-x\" is forbidden: violates PodSecurity "
              "\"restricted:latest\": runAsNonRoot != true (pod or container \"main\" must set "
              "securityContext.runAsNonRoot=true)")},
       AttemptPhase::kFailed,
       FailureClass::kPodRejected,
       "violates PodSecurity \"restricted:latest\": runAsNonRoot != true"},
      {"unschedulable, waiting",
       RunningJob(),
       {PodPending("False", "Unschedulable", "0/2 nodes are available: 2 Insufficient memory.",
                   "2026-11-22T11:55:00Z")},
       {},
       AttemptPhase::kPending,
       FailureClass::kUnschedulable,
       "2 Insufficient memory"},
      {"unschedulable past the timeout",
       RunningJob(),
       {PodPending("False", "Unschedulable", "0/1 nodes are available: 1 Insufficient cpu.",
                   "2026-11-22T11:40:00Z")},
       {},
       AttemptPhase::kFailed,
       FailureClass::kUnschedulable,
       "Insufficient cpu"},
      {"image pull backoff, waiting",
       RunningJob(),
       {PodWaiting("ImagePullBackOff", "2026-11-22T11:59:00Z")},
       {},
       AttemptPhase::kPending,
       FailureClass::kImagePull,
       "ImagePullBackOff"},
      {"invalid image name fails at once",
       RunningJob(),
       {PodWaiting("InvalidImageName", "2026-11-22T11:59:00Z")},
       {},
       AttemptPhase::kFailed,
       FailureClass::kImagePull,
       "InvalidImageName"},
      {"config error past the timeout is an error",
       RunningJob(),
       {PodWaiting("CreateContainerConfigError", "2026-11-22T11:00:00Z")},
       {},
       AttemptPhase::kFailed,
       FailureClass::kError,
       "CreateContainerConfigError"},
      {"running",
       RunningJob(),
       {PodTerminated(0, "Completed")},
       {},
       AttemptPhase::kRunning,
       FailureClass::kNone,
       ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    AttemptInputs in;
    in.job = &c.job;
    for (const auto& p : c.pods) in.pods.push_back(&p);
    for (const auto& e : c.events) in.events.push_back(&e);
    in.now = kNow;
    in.scheduling_timeout = std::chrono::minutes(10);
    AttemptObservation got = ObserveAttempt(in);
    EXPECT_EQ(got.phase, c.want_phase);
    EXPECT_EQ(got.failure, c.want_failure);
    EXPECT_NE(got.message.find(c.want_message_part), std::string::npos) << got.message;
  }
}

TEST(ObserveAttemptTest, SucceededAttemptCarriesOutputsAndTimes) {
  Object job = JobWith("Complete", "");
  Object pod = PodTerminated(0, "Completed", R"({"accuracy":"0.91"})");
  AttemptObservation got = ObserveAttempt({&job, {&pod}, {}, kNow});
  EXPECT_EQ(got.termination_message, R"({"accuracy":"0.91"})");
  ASSERT_TRUE(got.start_time.has_value());
  EXPECT_EQ(k8s::FormatRfc3339(*got.start_time), "2026-11-22T11:51:00Z");
  ASSERT_TRUE(got.completion_time.has_value());
  EXPECT_EQ(k8s::FormatRfc3339(*got.completion_time), "2026-11-22T11:59:00Z");
}

TEST(ObserveAttemptTest, ExitCodeIsRecorded) {
  Object job = JobWith("Failed", "BackoffLimitExceeded");
  Object pod = PodTerminated(3, "Error");
  AttemptObservation got = ObserveAttempt({&job, {&pod}, {}, kNow});
  ASSERT_TRUE(got.exit_code.has_value());
  EXPECT_EQ(*got.exit_code, 3);
}

TEST(FailureClassTest, NamesRoundTrip) {
  for (auto c : {FailureClass::kError, FailureClass::kOOMKilled, FailureClass::kDeadlineExceeded,
                 FailureClass::kDisrupted, FailureClass::kImagePull, FailureClass::kUnschedulable,
                 FailureClass::kQuotaExceeded}) {
    auto parsed = ParseFailureClass(FailureClassName(c));
    ASSERT_TRUE(parsed.has_value()) << FailureClassName(c);
    EXPECT_EQ(*parsed, c);
  }
  EXPECT_FALSE(ParseFailureClass("Flaky").has_value());
}

}  // namespace
}  // namespace stepline::reconcilers
