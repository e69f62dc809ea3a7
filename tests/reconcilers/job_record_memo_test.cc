#include "reconcilers/job_record_memo.h"

#include <gtest/gtest.h>

#include "reconcilers/job_builder.h"

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using k8s::ObjectPtr;

constexpr std::chrono::seconds kTimeout{600};

ObjectPtr MakeJob(const std::string& name, const Object& status = Object::object()) {
  return std::make_shared<const Object>(
      Object{{"metadata",
              {{"name", name},
               {"labels", {{kLabelStep, "train"}, {kLabelAttempt, "2"}, {kLabelIndex, "7"}}}}},
             {"status", status}});
}

ObjectPtr MakePod(const Object& status) {
  return std::make_shared<const Object>(
      Object{{"metadata", {{"name", "p"}, {"creationTimestamp", "2026-11-22T12:00:00Z"}}},
             {"status", status}});
}

Object RunningPod() {
  return {
      {"phase", "Running"},
      {"containerStatuses", {{{"state", {{"running", {{"startedAt", "2026-11-22T12:00:01Z"}}}}}}}}};
}

// Attaches job with its pods to a fresh ObservedJob, as the reconciler does.
ObservedJob Attach(JobRecordMemo& memo, const ObjectPtr& job, const std::vector<ObjectPtr>& pods) {
  ObservedJob o{job.get(), {}, {}};
  for (const auto& p : pods) o.pods.push_back(p.get());
  memo.Attach(&o, job, pods);
  return o;
}

TEST(JobRecordMemoTest, ARecordHoldsTheLabelsNameAndTheRunningObservation) {
  JobRecordMemo memo(kTimeout);
  ObjectPtr job = MakeJob("run-train-7-2");
  ObservedJob o = Attach(memo, job, {MakePod(RunningPod())});
  ASSERT_NE(o.record, nullptr);
  EXPECT_EQ(o.record->step, "train");
  EXPECT_EQ(o.record->attempt, 2);
  EXPECT_EQ(o.record->index, 7);
  EXPECT_EQ(o.record->name, "run-train-7-2");
  EXPECT_FALSE(o.record->finished);
  ASSERT_TRUE(o.record->observation.has_value());
  EXPECT_EQ(o.record->observation->phase, AttemptPhase::kRunning);
}

TEST(JobRecordMemoTest, TheSameObjectsAreNotReadAgainAndAChangedPodIs) {
  JobRecordMemo memo(kTimeout);
  ObjectPtr job = MakeJob("j");
  ObjectPtr pod = MakePod(RunningPod());
  Attach(memo, job, {pod});
  memo.Sweep();
  ObservedJob again = Attach(memo, job, {pod});
  EXPECT_EQ(memo.reads(), 1u);
  EXPECT_EQ(again.record->observation->phase, AttemptPhase::kRunning);

  Object done = {
      {"phase", "Succeeded"},
      {"containerStatuses", {{{"state", {{"terminated", {{"exitCode", 0}, {"message", "{}"}}}}}}}}};
  ObjectPtr finished = MakeJob(
      "j", {{"conditions", {{{"type", "Complete"}, {"status", "True"}}}}, {"succeeded", 1}});
  memo.Sweep();
  ObservedJob changed = Attach(memo, job, {MakePod(done)});  // same Job, a new pod
  EXPECT_EQ(memo.reads(), 2u);
  EXPECT_EQ(changed.record->observation->phase, AttemptPhase::kRunning);  // Job not Complete
  ObservedJob complete = Attach(memo, finished, {MakePod(done)});
  EXPECT_EQ(memo.reads(), 3u);
  EXPECT_TRUE(complete.record->finished);
  EXPECT_EQ(complete.record->observation->phase, AttemptPhase::kSucceeded);
}

TEST(JobRecordMemoTest, SweepForgetsTheJobsNotAttachedSinceTheLastSweep) {
  JobRecordMemo memo(kTimeout);
  ObjectPtr a = MakeJob("a"), b = MakeJob("b");
  Attach(memo, a, {});
  Attach(memo, b, {});
  memo.Sweep();
  EXPECT_EQ(memo.size(), 2u);
  Attach(memo, a, {});
  memo.Sweep();
  EXPECT_EQ(memo.size(), 1u);  // b is gone (deleted, or no longer owned)
  std::weak_ptr<const Object> weak_b = b;
  b.reset();
  EXPECT_TRUE(weak_b.expired()) << "the memo still holds a forgotten Job";
}

// A pending pod's answer depends on how long it has waited: never kept, so a later Plan with
// the very same objects still sees the scheduling timeout pass.
TEST(JobRecordMemoTest, APendingPodsObservationIsNotKept) {
  JobRecordMemo memo(kTimeout);
  Object pending = {{"phase", "Pending"},
                    {"conditions",
                     {{{"type", "PodScheduled"},
                       {"status", "False"},
                       {"reason", "Unschedulable"},
                       {"message", "0/3 nodes are available"},
                       {"lastTransitionTime", "2026-11-22T12:00:00Z"}}}}};
  ObservedJob o = Attach(memo, MakeJob("j"), {MakePod(pending)});
  EXPECT_FALSE(o.record->observation.has_value());
}

// A Job that says Complete while its pod's final state is not seen yet waits for it (the
// answer depends on the time and on whether it was judged before): not kept either.
TEST(JobRecordMemoTest, AFinishedJobWhosePodHasNotSettledIsNotKept) {
  JobRecordMemo memo(kTimeout);
  ObjectPtr job = MakeJob("j", {{"conditions",
                                 {{{"type", "Complete"},
                                   {"status", "True"},
                                   {"lastTransitionTime", "2026-11-22T12:00:00Z"}}}}});
  ObservedJob o = Attach(memo, job, {MakePod(RunningPod())});
  EXPECT_TRUE(o.record->finished);
  EXPECT_FALSE(o.record->observation.has_value());
}

}  // namespace
}  // namespace stepline::reconcilers
