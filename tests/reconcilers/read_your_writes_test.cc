// ReadYourWritesCache: a reconcile that runs before the informer shows this process's writes
// sees them anyway, and only for as long as the cache lags.
#include "reconcilers/read_your_writes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/fakes/fake_cache.h"

namespace stepline::reconcilers {
namespace {

using fakes::FakeCache;
using k8s::Object;
using k8s::ObjectPtr;
using std::chrono::milliseconds;
using std::chrono::seconds;

Object Obj(const std::string& ns, const std::string& name, const std::string& rv,
           const std::string& owner_uid = "") {
  Object o = {{"metadata", {{"namespace", ns}, {"name", name}, {"resourceVersion", rv}}}};
  if (!owner_uid.empty()) {
    o["metadata"]["ownerReferences"] = {{{"uid", owner_uid}, {"controller", true}}};
  }
  return o;
}

ObjectPtr Ptr(Object o) { return std::make_shared<const Object>(std::move(o)); }

std::vector<std::string> Names(const std::vector<ObjectPtr>& objects) {
  std::vector<std::string> names;
  for (const ObjectPtr& o : objects)
    names.push_back(k8s::NameOf(*o) + "@" + k8s::ResourceVersionOf(*o));
  std::sort(names.begin(), names.end());
  return names;
}

class ReadYourWritesTest : public ::testing::Test {
 protected:
  // The cache holds ns/run at version 1, and a write replaced it with version 2.
  void WriteRun() {
    const Object before = Obj("ns", "run", "1");
    cache.Put(before);
    ryw.Replaced(before, Ptr(Obj("ns", "run", "2")));
  }
  std::string VersionRead() { return k8s::ResourceVersionOf(*ryw.Get("ns", "run")); }

  FakeCache cache;
  k8s::FakeClock clock;
  ReadYourWritesCache ryw{cache, clock, seconds(30)};
};

TEST_F(ReadYourWritesTest, AWriteIsReadBackWhileTheCacheHoldsTheVersionItReplaced) {
  WriteRun();
  EXPECT_EQ(VersionRead(), "2");
  clock.Advance(seconds(29));
  EXPECT_EQ(VersionRead(), "2");
}

TEST_F(ReadYourWritesTest, OnceTheCacheShowsAnotherVersionTheCacheIsTheTruth) {
  WriteRun();
  cache.Put(Obj("ns", "run", "7"));  // someone else wrote after us
  EXPECT_EQ(VersionRead(), "7");
  cache.Put(
      Obj("ns", "run", "1"));  // the memory is gone: even the old version is not overlaid again
  EXPECT_EQ(VersionRead(), "1");
}

TEST_F(ReadYourWritesTest, AWriteTheCacheNeverShowsIsForgottenAfterTheMemory) {
  WriteRun();
  clock.Advance(seconds(30));
  EXPECT_EQ(VersionRead(), "1");
}

TEST_F(ReadYourWritesTest, ADeletedObjectIsNotBroughtBackByItsWrite) {
  WriteRun();
  cache.Remove("ns", "run");
  EXPECT_EQ(ryw.Get("ns", "run"), nullptr);
}

TEST_F(ReadYourWritesTest, ForgetDropsTheWrite) {
  WriteRun();
  ryw.Forget("ns", "run");
  EXPECT_EQ(VersionRead(), "1");
}

TEST_F(ReadYourWritesTest, ACreatedObjectIsListedByItsOwnerUntilTheCacheListsIt) {
  cache.Put(Obj("ns", "job-a", "1", "owner-1"));
  ryw.Created(Ptr(Obj("ns", "job-b", "5", "owner-1")));
  ryw.Created(Ptr(Obj("ns", "job-c", "6", "owner-2")));
  EXPECT_EQ(Names(ryw.ListByOwner("owner-1")), (std::vector<std::string>{"job-a@1", "job-b@5"}));
  cache.Put(Obj("ns", "job-b", "8", "owner-1"));  // the informer caught up
  EXPECT_EQ(Names(ryw.ListByOwner("owner-1")), (std::vector<std::string>{"job-a@1", "job-b@8"}));
  cache.Remove("ns", "job-b");  // deleted after the cache showed it: not brought back
  EXPECT_EQ(Names(ryw.ListByOwner("owner-1")), (std::vector<std::string>{"job-a@1"}));
  EXPECT_EQ(Names(ryw.ListByOwner("owner-2")), (std::vector<std::string>{"job-c@6"}));
}

TEST_F(ReadYourWritesTest, ListAnswersTheCreationsOfItsNamespaceOnly) {
  ryw.Created(Ptr(Obj("ns", "job-a", "5", "owner-1")));
  ryw.Created(Ptr(Obj("other", "job-b", "6", "owner-1")));
  EXPECT_EQ(Names(ryw.List("ns")), (std::vector<std::string>{"job-a@5"}));
  EXPECT_EQ(Names(ryw.List("")), (std::vector<std::string>{"job-a@5", "job-b@6"}));
}

TEST_F(ReadYourWritesTest, ACreationTheCacheNeverShowsExpiresAndSaysWhen) {
  EXPECT_EQ(ryw.CreatedExpiry("owner-1"), std::nullopt);
  ryw.Created(Ptr(Obj("ns", "job-a", "5", "owner-1")));
  clock.Advance(seconds(10));
  ryw.Created(Ptr(Obj("ns", "job-b", "6", "owner-1")));
  EXPECT_EQ(ryw.CreatedExpiry("owner-1"), milliseconds(20'000));  // the oldest one's
  EXPECT_EQ(ryw.CreatedExpiry("owner-2"), std::nullopt);
  clock.Advance(seconds(20));
  EXPECT_EQ(Names(ryw.ListByOwner("owner-1")), (std::vector<std::string>{"job-b@6"}));
  EXPECT_EQ(ryw.CreatedExpiry("owner-1"), milliseconds(10'000));
}

TEST_F(ReadYourWritesTest, TheWritesOfAnOwnerThatIsGoneAreSweptAway) {
  ryw.Created(Ptr(Obj("ns", "job-a", "5", "gone")));
  clock.Advance(seconds(31));
  ryw.Created(Ptr(Obj("ns", "job-b", "6", "owner-1")));  // a later write sweeps
  EXPECT_EQ(ryw.CreatedExpiry("gone"), std::nullopt);
}

// The creations are indexed by owner (a reconcile reads its own, not every owner's): an object
// with two owners is listed by both and forgotten by both at once, and a create of the same name
// again answers for its new owner only.
TEST_F(ReadYourWritesTest, ACreationIsListedByEachOfItsOwnersAndForgottenByAll) {
  Object shared = Obj("ns", "job-a", "5", "owner-1");
  shared["metadata"]["ownerReferences"].push_back({{"uid", "owner-2"}});
  ryw.Created(Ptr(shared));
  EXPECT_EQ(Names(ryw.ListByOwner("owner-1")), (std::vector<std::string>{"job-a@5"}));
  EXPECT_EQ(Names(ryw.ListByOwner("owner-2")), (std::vector<std::string>{"job-a@5"}));
  cache.Put(Obj("ns", "job-a", "7", "owner-1"));  // the informer shows it, with owner-1 only
  EXPECT_EQ(Names(ryw.ListByOwner("owner-1")), (std::vector<std::string>{"job-a@7"}));
  EXPECT_EQ(ryw.CreatedExpiry("owner-2"), std::nullopt) << "forgotten for both owners";
  EXPECT_TRUE(ryw.ListByOwner("owner-2").empty());

  ryw.Created(Ptr(Obj("ns", "job-b", "8", "owner-1")));
  ryw.Created(Ptr(Obj("ns", "job-b", "9", "owner-3")));  // deleted, made again by another
  EXPECT_EQ(Names(ryw.ListByOwner("owner-1")), (std::vector<std::string>{"job-a@7"}));
  EXPECT_EQ(Names(ryw.ListByOwner("owner-3")), (std::vector<std::string>{"job-b@9"}));
  EXPECT_EQ(ryw.CreatedExpiry("owner-1"), std::nullopt);
  EXPECT_EQ(ryw.CreatedExpiry("owner-3"), milliseconds(30'000));
}

}  // namespace
}  // namespace stepline::reconcilers
