// StatusWriter: status through /status only when it changed, transient changes coalesced, a
// refused status reduced.
#include "reconcilers/status_writer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/fakes/fake_cache.h"
#include "tests/fakes/scripted_writer.h"

namespace stepline::reconcilers {
namespace {

using fakes::FakeCache;
using fakes::ScriptedWriter;
using k8s::Object;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Change = StatusWriter::Change;

Object RunObject(const std::string& rv, const Object& status) {
  return {{"metadata", {{"namespace", "ml"}, {"name", "run-1"}, {"resourceVersion", rv}}},
          {"spec", {{"pipelineName", "p"}}},
          {"status", status}};
}

const Object kOld = {{"phase", "Executing"}, {"message", "one"}};
const Object kNew = {{"phase", "Executing"}, {"message", "two"}};
const Object kNewer = {{"phase", "Executing"}, {"message", "three"}};

class StatusWriterTest : public ::testing::Test {
 protected:
  StatusWriterTest() { cache.Put(RunObject("1", kOld)); }

  StatusWriter MakeWriter(milliseconds coalesce = milliseconds(0),
                          std::function<void(Object&)> as_cached = {}) {
    return StatusWriter(k8s::resources::kPipelineExecutions, writer, ryw, clock,
                        {"test-manager", coalesce, std::move(as_cached)});
  }
  // The object as the next reconcile reads it.
  Object Current() { return *ryw.Get("ml", "run-1"); }

  ScriptedWriter writer;
  FakeCache cache;
  k8s::FakeClock clock;
  ReadYourWritesCache ryw{cache, clock, seconds(30)};
};

TEST_F(StatusWriterTest, AnUnchangedStatusIsNotWritten) {
  StatusWriter statuses = MakeWriter();
  StatusWriter::Settled s = statuses.Settle(Current(), kOld, kOld, Change::kProgress);
  EXPECT_TRUE(s.status.ok());
  EXPECT_FALSE(s.written);
  EXPECT_TRUE(writer.Calls().empty());
}

TEST_F(StatusWriterTest, AChangedStatusIsWrittenThroughStatusAndReadBack) {
  StatusWriter statuses = MakeWriter();
  StatusWriter::Settled s = statuses.Settle(Current(), kOld, kNew, Change::kProgress);
  EXPECT_TRUE(s.written);
  const std::vector<ScriptedWriter::Call> calls = writer.Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].verb, "status");
  EXPECT_EQ(calls[0].resource, "pipelineexecutions");
  EXPECT_EQ(calls[0].body["status"], kNew);
  EXPECT_EQ(calls[0].body["spec"]["pipelineName"], "p");  // the rest as read
  // The cache still shows version 1: the next reconcile reads what was written, and writes
  // nothing more.
  EXPECT_EQ(Current()["status"], kNew);
  EXPECT_FALSE(statuses.Settle(Current(), Current()["status"], kNew, Change::kProgress).written);
  EXPECT_EQ(writer.Calls().size(), 1u);
}

TEST_F(StatusWriterTest, ATransientChangeRightAfterAWriteWaitsForTheDelay) {
  StatusWriter statuses = MakeWriter(seconds(10));
  ASSERT_TRUE(statuses.Settle(Current(), kOld, kNew, Change::kProgress).written);
  clock.Advance(seconds(3));
  StatusWriter::Settled held = statuses.Settle(Current(), kNew, kNewer, Change::kTransient);
  EXPECT_TRUE(held.status.ok());
  EXPECT_FALSE(held.written);
  EXPECT_EQ(held.held_back, milliseconds(7000));
  EXPECT_EQ(writer.Calls().size(), 1u);
  clock.Advance(seconds(7));
  StatusWriter::Settled due = statuses.Settle(Current(), kNew, kNewer, Change::kTransient);
  EXPECT_TRUE(due.written);
  EXPECT_EQ(due.held_back, std::nullopt);
  EXPECT_EQ(writer.Calls().size(), 2u);
}

TEST_F(StatusWriterTest, ProgressIsWrittenAtOnceEvenRightAfterAWrite) {
  StatusWriter statuses = MakeWriter(seconds(10));
  ASSERT_TRUE(statuses.Settle(Current(), kOld, kNew, Change::kProgress).written);
  EXPECT_TRUE(statuses.Settle(Current(), kNew, kNewer, Change::kProgress).written);
}

TEST_F(StatusWriterTest, ATransientChangeOfAnObjectNotWrittenYetIsWrittenAtOnce) {
  StatusWriter statuses = MakeWriter(seconds(10));
  EXPECT_TRUE(statuses.Settle(Current(), kOld, kNew, Change::kTransient).written);
}

TEST_F(StatusWriterTest, AForgottenObjectsNextTransientChangeIsWrittenAtOnce) {
  StatusWriter statuses = MakeWriter(seconds(10));
  ASSERT_TRUE(statuses.Settle(Current(), kOld, kNew, Change::kProgress).written);
  statuses.Forget("ml/run-1");
  EXPECT_TRUE(statuses.Settle(Current(), kNew, kNewer, Change::kTransient).written);
}

TEST_F(StatusWriterTest, ARefusedStatusIsReducedUntilTheReducerGivesUp) {
  writer.Script("run-1", k8s::Status::Internal("etcdserver: request is too large"));
  writer.Script("run-1", k8s::Status::Invalid("status.steps: Too many"));
  StatusWriter statuses = MakeWriter();
  std::vector<int> attempts;
  auto reduce = [&](const k8s::Status&, int attempt) -> std::optional<Object> {
    attempts.push_back(attempt);
    return Object{{"phase", "Failed"}, {"level", attempt}};
  };
  StatusWriter::Settled s = statuses.Settle(Current(), kOld, kNew, Change::kProgress, reduce);
  EXPECT_TRUE(s.written);
  EXPECT_EQ(attempts, (std::vector<int>{1, 2}));
  EXPECT_EQ(Current()["status"]["level"], 2);

  writer.Script("run-1", k8s::Status::Invalid("no"));
  auto give_up = [](const k8s::Status&, int) -> std::optional<Object> { return std::nullopt; };
  s = statuses.Settle(Current(), Current()["status"], kNewer, Change::kProgress, give_up);
  EXPECT_EQ(s.status.code(), k8s::StatusCode::kInvalid);
  EXPECT_FALSE(s.written);
}

TEST_F(StatusWriterTest, AConflictIsNotReducedButReturnedForARetry) {
  writer.Script("run-1", k8s::Status::Conflict("the object has been modified"));
  StatusWriter statuses = MakeWriter();
  bool reduced = false;
  auto reduce = [&](const k8s::Status&, int) -> std::optional<Object> {
    reduced = true;
    return Object::object();
  };
  StatusWriter::Settled s = statuses.Settle(Current(), kOld, kNew, Change::kProgress, reduce);
  EXPECT_EQ(s.status.code(), k8s::StatusCode::kConflict);
  EXPECT_FALSE(reduced);
  EXPECT_EQ(Current()["status"], kOld);  // nothing remembered
}

TEST_F(StatusWriterTest, TheWrittenObjectIsRememberedAsTheCacheWillHoldIt) {
  StatusWriter statuses =
      MakeWriter(milliseconds(0), [](Object& o) { o["status"].erase("message"); });
  ASSERT_TRUE(statuses.Settle(Current(), kOld, kNew, Change::kProgress).written);
  EXPECT_EQ(Current()["status"], (Object{{"phase", "Executing"}}));
}

TEST(IsRefusedStatusTest, SchemaAndSizeRefusalsOnly) {
  EXPECT_TRUE(IsRefusedStatus(k8s::Status::Invalid("status.x: Invalid value")));
  EXPECT_TRUE(IsRefusedStatus(k8s::Status(k8s::StatusCode::kInternal, "too big", 413)));
  EXPECT_TRUE(IsRefusedStatus(k8s::Status::Internal("etcdserver: request is too large")));
  EXPECT_FALSE(IsRefusedStatus(k8s::Status::Conflict("modified")));
  EXPECT_FALSE(IsRefusedStatus(k8s::Status::Unavailable("etcd is down")));
}

}  // namespace
}  // namespace stepline::reconcilers
