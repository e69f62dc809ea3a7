// JobApplier: a plan's Job actions carried out idempotently, creates in slow-start batches.
#include "reconcilers/job_applier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "tests/fakes/fake_cache.h"
#include "tests/fakes/fake_reader.h"
#include "tests/fakes/scripted_writer.h"

namespace stepline::reconcilers {
namespace {

using fakes::FakeCache;
using fakes::FakeReader;
using fakes::ScriptedWriter;
using k8s::Object;
using std::chrono::seconds;

const Object kOwner = {{"metadata", {{"namespace", "ml"}, {"name", "run-1"}, {"uid", "run-uid"}}}};

Object JobOwnedBy(const std::string& name, const std::string& owner_uid) {
  return {{"metadata",
           {{"namespace", "ml"},
            {"name", name},
            {"ownerReferences",
             {{{"kind", "PipelineExecution"},
               {"name", "run-1"},
               {"uid", owner_uid},
               {"controller", true}}}}}}};
}

Action Create(const std::string& name) {
  Action a;
  a.kind = Action::Kind::kCreateJob;
  a.job = JobOwnedBy(name, "run-uid");
  return a;
}

// A delete of the Job `name`, or with a patch, a merge patch of it.
Action OnJob(const std::string& name, const Object& patch = nullptr) {
  Action a;
  a.kind = patch.is_null() ? Action::Kind::kDeleteJob : Action::Kind::kPatchJob;
  a.job_name = name;
  a.patch = patch;
  return a;
}

Action Delete(const std::string& name) { return OnJob(name); }
Action Suspend(const std::string& name) { return OnJob(name, {{"spec", {{"suspend", true}}}}); }

Action Event(const std::string& reason) {
  Action a;
  a.kind = Action::Kind::kEvent;
  a.reason = reason;
  return a;
}

std::vector<std::string> NamesOf(const std::vector<ScriptedWriter::Call>& calls) {
  std::vector<std::string> names;
  for (const auto& c : calls) names.push_back(c.name);
  return names;
}

class JobApplierTest : public ::testing::Test {
 protected:
  JobApplier MakeApplier(k8s::ObjectReader* reader = nullptr) {
    return JobApplier(writer, jobs, {"test-manager", 16, reader});
  }

  ScriptedWriter writer;
  FakeCache cache;
  k8s::FakeClock clock;
  ReadYourWritesCache jobs{cache, clock, seconds(30)};
};

TEST_F(JobApplierTest, DeletesAndPatchesComeFirstInOrderThenCreatesAndEventsAreLeftAlone) {
  JobApplier applier = MakeApplier();
  JobApplyReport report =
      applier.Apply(kOwner, {Event("StepStarted"), Create("c"), Delete("d"), Suspend("s")});
  EXPECT_TRUE(report.error.ok()) << report.error.ToString();
  const std::vector<ScriptedWriter::Call> calls = writer.Calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].verb, "delete");
  EXPECT_EQ(calls[0].ns, "ml");
  EXPECT_EQ(calls[0].body["propagation"], "Background");  // the pods go with the Job
  EXPECT_EQ(calls[1].verb, "patch");
  EXPECT_EQ(calls[1].body["patch"], R"({"spec":{"suspend":true}})");
  EXPECT_EQ(calls[2].verb, "create");
  EXPECT_EQ(report.created, 1);
}

TEST_F(JobApplierTest, AJobThatIsGoneAlreadyIsDone) {
  writer.Script("d", k8s::Status::NotFound("jobs \"d\" not found"));
  writer.Script("s", k8s::Status::NotFound("jobs \"s\" not found"));
  JobApplyReport report = MakeApplier().Apply(kOwner, {Delete("d"), Suspend("s")});
  EXPECT_TRUE(report.error.ok()) << report.error.ToString();
}

TEST_F(JobApplierTest, AFailedDeleteIsReportedAndTheRestIsStillDone) {
  writer.Script("d", k8s::Status::Unavailable("etcd is down"));
  JobApplyReport report = MakeApplier().Apply(kOwner, {Delete("d"), Delete("e"), Create("c")});
  EXPECT_EQ(report.error.code(), k8s::StatusCode::kUnavailable);
  EXPECT_EQ(NamesOf(writer.Calls()), (std::vector<std::string>{"d", "e", "c"}));
}

TEST_F(JobApplierTest, CreatedJobsAreReadBackBeforeTheInformerShowsThem) {
  std::atomic<int> told{0};
  CreateHooks hooks;
  hooks.created = [&] { ++told; };
  JobApplyReport report = MakeApplier().Apply(kOwner, {Create("a"), Create("b")}, hooks);
  EXPECT_EQ(report.created, 2);
  EXPECT_EQ(told.load(), 2);
  std::vector<std::string> listed;
  for (const k8s::ObjectPtr& j : jobs.ListByOwner("run-uid")) listed.push_back(k8s::NameOf(*j));
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(k8s::UidOf(*jobs.ListByOwner("run-uid")[0]).substr(0, 4), "uid-");  // the answer
}

// Batches of 1, 2, 4, ...: a create that fails in the second batch ends them, so 3 of 8 are
// tried; the retry makes the rest.
TEST_F(JobApplierTest, AFailedCreateEndsTheSlowStartBatches) {
  writer.Script("c1", k8s::Status::Internal("webhook refused"));
  std::vector<Action> creates;
  for (int i = 0; i < 8; ++i) creates.push_back(Create("c" + std::to_string(i)));
  JobApplyReport report = MakeApplier().Apply(kOwner, creates);
  EXPECT_EQ(report.error.message(), "webhook refused");
  EXPECT_EQ(writer.CallsOf("create").size(), 3u);
  EXPECT_EQ(report.created, 2);
}

TEST_F(JobApplierTest, ACreateAQuotaRefusedIsAWaitNotAFailure) {
  writer.Script("b", k8s::Status::Forbidden(
                         "jobs \"b\" is forbidden: exceeded quota: gpu, requested: 1, limited: 0"));
  JobApplyReport report = MakeApplier().Apply(kOwner, {Delete("x"), Create("a"), Create("b")});
  EXPECT_TRUE(report.error.ok()) << report.error.ToString();
  ASSERT_EQ(report.quota_refusals.size(), 1u);
  EXPECT_EQ(report.quota_refusals[0].first, 2u);  // the index of the action
  EXPECT_NE(report.quota_refusals[0].second.find("exceeded quota"), std::string::npos);
}

// The controller's part of a dispatch ends as each request leaves, whatever the answer.
TEST_F(JobApplierTest, EachCreateRequestIsToldBeforeItIsSentAndOnlySuccessesAfter) {
  writer.Script("b", k8s::Status::Unavailable("etcd timed out"));
  std::mutex mu;
  std::vector<size_t> calls_when_sending;
  std::atomic<int> created{0};
  CreateHooks hooks;
  hooks.sending = [&] {
    std::lock_guard<std::mutex> lock(mu);
    calls_when_sending.push_back(writer.Calls().size());
  };
  hooks.created = [&] { ++created; };
  JobApplier applier(writer, jobs, {"test-manager", 1, nullptr});  // one create at a time
  JobApplyReport report = applier.Apply(kOwner, {Create("a"), Create("b")}, hooks);
  EXPECT_EQ(report.error.code(), k8s::StatusCode::kUnavailable);
  EXPECT_EQ(calls_when_sending, (std::vector<size_t>{0, 1})) << "told before each request";
  EXPECT_EQ(created.load(), 1) << "only a's create succeeded";
}

TEST_F(JobApplierTest, AnotherForbiddenCreateIsAFailure) {
  writer.Script("a", k8s::Status::Forbidden("jobs is forbidden: User cannot create"));
  JobApplyReport report = MakeApplier().Apply(kOwner, {Create("a")});
  EXPECT_EQ(report.error.code(), k8s::StatusCode::kForbidden);
  EXPECT_TRUE(report.quota_refusals.empty());
}

TEST_F(JobApplierTest, ATakenNameIsDoneAndRememberedForTheOwner) {
  writer.Script("a", k8s::Status::AlreadyExists("jobs \"a\" already exists"));
  JobApplier applier = MakeApplier();
  EXPECT_FALSE(applier.NameTaken("ml/run-1"));
  JobApplyReport report = applier.Apply(kOwner, {Create("a")});
  EXPECT_TRUE(report.error.ok()) << report.error.ToString();
  EXPECT_TRUE(report.name_taken);
  EXPECT_EQ(report.created, 0);
  EXPECT_TRUE(applier.NameTaken("ml/run-1"));
  EXPECT_FALSE(applier.NameTaken("ml/run-2"));
  EXPECT_TRUE(applier.TakeForeignHolders("ml/run-1").empty());  // no reader: none read
  applier.Forget("ml/run-1");
  EXPECT_FALSE(applier.NameTaken("ml/run-1"));
}

TEST_F(JobApplierTest, TheForeignHolderOfATakenNameIsReadAndHandedOverOnce) {
  FakeReader reader;
  reader.objects["a"] = JobOwnedBy("a", "someone-else");
  reader.objects["b"] = JobOwnedBy("b", "run-uid");  // the owner's own Job, created before
  writer.Script("a", k8s::Status::AlreadyExists("taken"));
  writer.Script("b", k8s::Status::AlreadyExists("taken"));
  JobApplier applier = MakeApplier(&reader);
  applier.Apply(kOwner, {Create("a"), Create("b")});
  std::map<std::string, std::string> holders = applier.TakeForeignHolders("ml/run-1");
  EXPECT_EQ(holders,
            (std::map<std::string, std::string>{
                {"a", "its controller is PipelineExecution run-1 with uid someone-else"}}));
  EXPECT_TRUE(applier.TakeForeignHolders("ml/run-1").empty());
}

TEST(WhoControlsTest, NamesTheControllerOrItsAbsence) {
  EXPECT_EQ(WhoControls(JobOwnedBy("a", "u1")),
            "its controller is PipelineExecution run-1 with uid u1");
  EXPECT_EQ(WhoControls(Object{{"metadata", {{"name", "a"}}}}), "it has no controller");
  EXPECT_TRUE(ControlledBy(JobOwnedBy("a", "u1"), "u1"));
  EXPECT_FALSE(ControlledBy(JobOwnedBy("a", "u1"), "u2"));
}

}  // namespace
}  // namespace stepline::reconcilers
