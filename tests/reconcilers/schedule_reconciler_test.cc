// The schedule reconciler against a fake writer and caches, with a FakeClock: what it creates,
// stops and deletes, and when it asks to be woken.
#include "reconcilers/schedule_reconciler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "tests/fakes/fake_cache.h"
#include "tests/fakes/recording_events.h"

namespace stepline::reconcilers {
namespace {

using fakes::FakeCache;
using fakes::RecordingEvents;
using k8s::Object;
using std::chrono::milliseconds;

k8s::WallTime At(const char* text) {
  k8s::WallTime t;
  EXPECT_TRUE(k8s::ParseRfc3339(text, &t)) << text;
  return t;
}

// Records every write; creates answer AlreadyExists when the name is in `existing`.
class RecordingWriter : public k8s::ObjectWriter {
 public:
  k8s::Result<Object> Create(const k8s::Resource& res, const std::string&, const Object& obj,
                             const k8s::WriteOptions&) override {
    EXPECT_EQ(res.resource, "pipelineexecutions");
    created.push_back(k8s::NameOf(obj));
    if (existing.count(k8s::NameOf(obj)) > 0) return k8s::Status::AlreadyExists("exists");
    last_created = obj;
    return obj;
  }
  k8s::Result<Object> Update(const k8s::Resource&, const std::string&, const Object&,
                             const k8s::WriteOptions&) override {
    ADD_FAILURE() << "no Update expected";
    return k8s::Status::Internal("unexpected");
  }
  k8s::Result<Object> UpdateStatus(const k8s::Resource& res, const std::string&, const Object& obj,
                                   const k8s::WriteOptions&) override {
    EXPECT_EQ(res.resource, "pipelineschedules");
    statuses.push_back(obj["status"]);
    return obj;
  }
  k8s::Result<Object> Patch(const k8s::Resource&, const std::string&, const std::string& name,
                            k8s::PatchType, const std::string& body, const k8s::WriteOptions&,
                            const std::string&) override {
    patched.push_back(name + " " + body);
    return Object::object();
  }
  k8s::Status Delete(const k8s::Resource&, const std::string&, const std::string& name,
                     const k8s::DeleteOptions&) override {
    deleted.push_back(name);
    return k8s::Status::Ok();
  }

  std::set<std::string> existing;
  std::vector<std::string> created, patched, deleted;
  std::vector<Object> statuses;
  Object last_created;
};

Object Schedule(const char* policy) {
  return {{"metadata",
           {{"name", "nightly"},
            {"namespace", "ml"},
            {"uid", "s-1"},
            {"generation", 1},
            {"creationTimestamp", "2026-12-06T10:00:30Z"}}},
          {"spec",
           {{"schedule", "* * * * *"},
            {"concurrencyPolicy", policy},
            {"executionTemplate", {{"spec", {{"pipelineName", "p"}}}}}}}};
}

Object RunObject(const std::string& name, const char* scheduled, const char* phase) {
  return {{"metadata",
           {{"name", name},
            {"namespace", "ml"},
            {"annotations", {{kScheduledTimeAnnotation, scheduled}}},
            {"ownerReferences",
             {{{"kind", "PipelineSchedule"},
               {"name", "nightly"},
               {"uid", "s-1"},
               {"controller", true}}}}}},
          {"status", {{"pipelineExecutionStatus", phase}}}};
}

struct Fixture {
  FakeCache schedules, executions;
  RecordingWriter writer;
  RecordingEvents events;
  k8s::FakeClock clock{At("2026-12-06T10:00:59.500Z")};
  ScheduleReconciler reconciler{schedules, executions, writer, events, clock};
};

TEST(ScheduleReconcilerTest, WaitsForTheTimeThenStartsItsRun) {
  Fixture f;
  f.schedules.Put(Schedule("Allow"));
  ReconcileOutcome out = f.reconciler.Reconcile("ml/nightly");
  ASSERT_TRUE(out.status.ok());
  EXPECT_TRUE(f.writer.created.empty());
  EXPECT_EQ(out.requeue_after, milliseconds(700));  // 10:01 + 200 ms
  f.clock.Advance(milliseconds(700));
  out = f.reconciler.Reconcile("ml/nightly");
  ASSERT_TRUE(out.status.ok());
  EXPECT_EQ(f.writer.created, (std::vector<std::string>{"nightly-29942521"}));
  EXPECT_EQ(f.writer.last_created["metadata"]["ownerReferences"][0]["uid"], "s-1");
  EXPECT_EQ(out.requeue_after, milliseconds(60'000));
  ASSERT_FALSE(f.writer.statuses.empty());
  const Object& st = f.writer.statuses.back();
  EXPECT_EQ(st["lastScheduleTime"], "2026-12-06T10:01:00Z");
  EXPECT_EQ(st["active"][0]["name"], "nightly-29942521");
  EXPECT_EQ(st["activeCount"], 1);
  EXPECT_EQ(st["nextScheduleTime"], "2026-12-06T10:02:00Z");
  EXPECT_EQ(f.events.events.back().reason, kReasonScheduledRun);
}

TEST(ScheduleReconcilerTest, ASecondReplicaFindsTheRunMadeAndStartsNoOther) {
  Fixture f;
  f.schedules.Put(Schedule("Allow"));
  f.clock.Advance(milliseconds(700));
  f.writer.existing = {"nightly-29942521"};  // the other replica created it a moment ago
  ReconcileOutcome out = f.reconciler.Reconcile("ml/nightly");
  ASSERT_TRUE(out.status.ok()) << out.status.ToString();
  EXPECT_EQ(f.writer.created.size(), 1u);
  EXPECT_THAT(f.events.Reasons(), ::testing::Not(::testing::Contains(kReasonScheduledRun)));
  EXPECT_EQ(f.writer.statuses.back()["lastScheduleTime"], "2026-12-06T10:01:00Z");
}

TEST(ScheduleReconcilerTest, ReplaceStopsTheRunningOneAndForbidSkips) {
  for (const char* policy : {"Replace", "Forbid"}) {
    SCOPED_TRACE(policy);
    Fixture f;
    Object s = Schedule(policy);
    s["status"] = {{"lastScheduleTime", "2026-12-06T10:01:00Z"}};
    f.schedules.Put(s);
    f.executions.Put(RunObject("nightly-29942521", "2026-12-06T10:01:00Z", "Executing"));
    f.clock.Advance(std::chrono::seconds(61));  // 10:02:00.5
    ASSERT_TRUE(f.reconciler.Reconcile("ml/nightly").status.ok());
    if (std::string(policy) == "Replace") {
      EXPECT_EQ(f.writer.patched,
                (std::vector<std::string>{R"(nightly-29942521 {"spec":{"stop":true}})"}));
      EXPECT_EQ(f.writer.created, (std::vector<std::string>{"nightly-29942522"}));
    } else {
      EXPECT_TRUE(f.writer.patched.empty());
      EXPECT_TRUE(f.writer.created.empty());
      EXPECT_EQ(f.writer.statuses.back()["lastSkippedTime"], "2026-12-06T10:02:00Z");
      EXPECT_EQ(f.events.events.back().reason, kReasonScheduleSkipped);
    }
  }
}

}  // namespace
}  // namespace stepline::reconcilers
