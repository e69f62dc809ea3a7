#include "reconcilers/quota_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace stepline::reconcilers {
namespace {

using k8s::Object;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

Object Quota(const Object& hard, const Object& used, const std::string& name = "q") {
  return {{"metadata", {{"name", name}, {"namespace", "ns"}}},
          {"spec", {{"hard", hard}}},
          {"status", {{"hard", hard}, {"used", used}}}};
}

std::vector<k8s::ObjectPtr> List(std::initializer_list<Object> quotas) {
  std::vector<k8s::ObjectPtr> out;
  for (const Object& q : quotas) out.push_back(std::make_shared<const Object>(q));
  return out;
}

TEST(QuotaQueueTest, PodRoom) {
  struct Case {
    const char* name;
    std::vector<k8s::ObjectPtr> quotas;
    std::optional<int64_t> want;
  };
  const std::vector<Case> cases = {
      {"no quota", {}, std::nullopt},
      {"cpu only", List({Quota({{"cpu", "2"}}, {{"cpu", "1"}})}), std::nullopt},
      {"pods", List({Quota({{"pods", "3"}}, {{"pods", "1"}})}), 2},
      {"count/pods, used unset", List({Quota({{"count/pods", "2"}}, Object::object())}), 2},
      {"the least of two",
       List({Quota({{"pods", "5"}}, {{"pods", "1"}}, "a"),
             Quota({{"pods", "2"}}, {{"pods", "1"}}, "b")}),
       1},
      {"over the limit is none", List({Quota({{"pods", "1"}}, {{"pods", "3"}})}), 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(PodRoom(c.quotas), c.want);
  }
}

TEST(QuotaQueueTest, QuotaFreedRoom) {
  const Object q = Quota({{"cpu", "2"}, {"pods", "2"}}, {{"cpu", "1500m"}, {"pods", "1"}});
  struct Case {
    const char* name;
    const Object* old;
    std::optional<Object> now;
    bool want;
  };
  const std::vector<Case> cases = {
      {"added", nullptr, q, false},
      {"deleted", &q, std::nullopt, true},
      {"unchanged", &q, q, false},
      {"cpu used fell", &q, Quota({{"cpu", "2"}, {"pods", "2"}}, {{"cpu", "1"}, {"pods", "1"}}),
       true},
      {"pods used rose", &q,
       Quota({{"cpu", "2"}, {"pods", "2"}}, {{"cpu", "1500m"}, {"pods", "2"}}), false},
      {"hard rose", &q, Quota({{"cpu", "4"}, {"pods", "2"}}, {{"cpu", "1500m"}, {"pods", "1"}}),
       true},
      {"a limit went away", &q, Quota({{"pods", "2"}}, {{"pods", "1"}}), true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(QuotaFreedRoom(c.old, c.now ? &*c.now : nullptr), c.want);
  }
}

// Room for one pod goes to the oldest wait of the namespace, whichever execution it is in, and
// to one only: the events that follow (the quota's other updates) grant nothing more until the
// grant is resolved.
TEST(QuotaQueueTest, OldestWaitFirstAndNoHerd) {
  k8s::FakeClock clock;
  QuotaQueue queue(clock);
  const k8s::WallTime t0 = clock.Now();
  queue.Report("ns/late", 0, 1, t0 + seconds(5));
  queue.Report("ns/first", 0, 2, t0);
  queue.Report("ns/middle", 0, 1, t0 + seconds(2));
  queue.Report("other/x", 0, 1, t0 - seconds(60));
  const Object full = Quota({{"pods", "1"}}, {{"pods", "1"}});
  const Object freed = Quota({{"pods", "1"}}, {{"pods", "0"}});
  EXPECT_THAT(queue.QuotaChanged(nullptr, &full, List({full})), IsEmpty()) << "no room";
  EXPECT_THAT(queue.QuotaChanged(&full, &freed, List({freed})), ElementsAre("ns/first"));
  EXPECT_THAT(queue.QuotaChanged(&freed, &freed, List({freed})), IsEmpty()) << "one at a time";
  EXPECT_EQ(queue.TakeGrants("ns/first"), 1);
  EXPECT_EQ(queue.TakeGrants("ns/first"), 0) << "taken once";
  queue.Report("ns/first", 0, 1, t0);
  queue.PodCreated("ns/first");  // admitted: the grant is resolved
  EXPECT_THAT(queue.QuotaChanged(&full, &freed, List({freed})), ElementsAre("ns/first"))
      << "still the oldest";
  EXPECT_EQ(queue.TakeGrants("ns/first"), 1);
  queue.Refused("ns/first");  // refused again: resolved, and it keeps its place
  const Object more = Quota({{"pods", "3"}}, {{"pods", "0"}});
  EXPECT_THAT(queue.QuotaChanged(&freed, &more, List({more})),
              ElementsAre("ns/first", "ns/middle", "ns/late"))
      << "room for three: the three oldest waits";
}

TEST(QuotaQueueTest, UnusedAndExpiredGrantsFreeTheirRoom) {
  k8s::FakeClock clock;
  QuotaQueue queue(clock);
  queue.Report("ns/a", 0, 1, clock.Now());
  queue.Report("ns/b", 0, 1, clock.Now() + seconds(1));
  const Object freed = Quota({{"pods", "1"}}, {{"pods", "0"}});
  EXPECT_THAT(queue.QuotaChanged(&freed, &freed, List({freed})), ElementsAre("ns/a"));
  EXPECT_EQ(queue.TakeGrants("ns/a"), 1);
  queue.Report("ns/a", 1, 0, std::nullopt);  // its wait had ended: unused
  EXPECT_THAT(queue.QuotaChanged(&freed, &freed, List({freed})), ElementsAre("ns/b"));
  EXPECT_THAT(queue.QuotaChanged(&freed, &freed, List({freed})), IsEmpty());
  clock.Advance(QuotaQueue::kGrantTimeout);
  EXPECT_THAT(queue.QuotaChanged(&freed, &freed, List({freed})), ElementsAre("ns/b"))
      << "a grant nobody resolved expires";
  queue.Forget("ns/b");
  EXPECT_THAT(queue.QuotaChanged(&freed, &freed, List({freed})), IsEmpty());
}

// A quota that limits no pod count (cpu, memory): one grant per change that freed something.
TEST(QuotaQueueTest, OtherQuotasGrantOnePerFreeingChange) {
  k8s::FakeClock clock;
  QuotaQueue queue(clock);
  queue.Report("ns/a", 0, 3, clock.Now());
  const Object busy = Quota({{"cpu", "2"}}, {{"cpu", "2"}});
  const Object freed = Quota({{"cpu", "2"}}, {{"cpu", "1"}});
  EXPECT_THAT(queue.QuotaChanged(&busy, &busy, List({busy})), IsEmpty());
  EXPECT_THAT(queue.QuotaChanged(&busy, &freed, List({freed})), ElementsAre("ns/a"));
  EXPECT_EQ(queue.TakeGrants("ns/a"), 1);
  EXPECT_THAT(queue.QuotaChanged(&busy, &freed, List({freed})), ElementsAre("ns/a"));
  EXPECT_EQ(queue.TakeGrants("ns/a"), 1);
}

// A refused Job create is kept for the execution's next plan, once, and resolves a taken grant
// as any refusal does; an execution that waits for nothing keeps its refusals until it takes
// them.
TEST(QuotaQueueTest, RefusedCreatesAreKeptForTheNextPlanOnce) {
  k8s::FakeClock clock;
  QuotaQueue queue(clock);
  const k8s::WallTime t0 = clock.Now();
  EXPECT_TRUE(queue.TakeRefusals("ns/run").empty());
  queue.Refused("ns/run", {"train", -1, 1, t0, "exceeded quota: q"});
  queue.Refused("ns/run", {"fan", 2, 1, t0, "exceeded quota: q"});
  clock.Advance(std::chrono::minutes(5));  // nothing expires them
  std::vector<QuotaRefusal> taken = queue.TakeRefusals("ns/run");
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0].step, "train");
  EXPECT_EQ(taken[0].attempt, 1);
  EXPECT_EQ(taken[1].index, 2);
  EXPECT_EQ(taken[1].message, "exceeded quota: q");
  EXPECT_TRUE(queue.TakeRefusals("ns/run").empty()) << "taken once";
  queue.Refused("ns/gone", {"train", -1, 1, t0, "exceeded quota"});
  queue.Forget("ns/gone");
  EXPECT_TRUE(queue.TakeRefusals("ns/gone").empty()) << "forgotten with the execution";
}

}  // namespace
}  // namespace stepline::reconcilers
