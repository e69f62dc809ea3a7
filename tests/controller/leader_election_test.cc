#include "controller/leader_election.h"

#include <gtest/gtest.h>

#include "tests/fakes/fake_lease_lock.h"

namespace stepline::controller {
namespace {

using State = LeaderElector::State;
using fakes::FakeLeaseLock;
using fakes::FakeLeaseStore;
using std::chrono::seconds;

LeaderElectionConfig Config(const std::string& id) {
  return {id, seconds(15), seconds(10), seconds(2)};
}

struct Replica {
  Replica(FakeLeaseStore& store, const k8s::Clock& clock, const std::string& id)
      : lock(store), elector(lock, clock, Config(id)) {}
  FakeLeaseLock lock;
  LeaderElector elector;
};

TEST(LeaderElectionTest, AcquiresAFreshLeaseAndRenewsIt) {
  k8s::FakeClock clock;
  FakeLeaseStore store;
  Replica a(store, clock, "a");
  EXPECT_EQ(a.elector.Tick(), State::kLeader);
  auto lease = store.lease();
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->holder_identity, "a");
  EXPECT_EQ(lease->lease_duration_seconds, 15);
  EXPECT_EQ(lease->lease_transitions, 0);
  const k8s::WallTime acquired = lease->acquire_time;
  clock.Advance(seconds(2));
  EXPECT_EQ(a.elector.Tick(), State::kLeader);
  lease = store.lease();
  EXPECT_EQ(lease->acquire_time, acquired) << "renewal keeps acquireTime";
  EXPECT_EQ(lease->renew_time, clock.Now());
  EXPECT_EQ(lease->lease_transitions, 0);
}

TEST(LeaderElectionTest, NeverTakesALiveLease) {
  k8s::FakeClock clock;
  FakeLeaseStore store;
  Replica a(store, clock, "a"), b(store, clock, "b");
  ASSERT_EQ(a.elector.Tick(), State::kLeader);
  for (int i = 0; i < 30; ++i) {  // a minute of both ticking every 2s
    EXPECT_EQ(b.elector.Tick(), State::kCandidate);
    EXPECT_EQ(a.elector.Tick(), State::kLeader);
    clock.Advance(seconds(2));
  }
  EXPECT_EQ(store.lease()->holder_identity, "a");
}

TEST(LeaderElectionTest, TakesOverALeaseNotRenewedForItsDuration) {
  k8s::FakeClock clock;
  FakeLeaseStore store;
  Replica a(store, clock, "a"), b(store, clock, "b");
  ASSERT_EQ(a.elector.Tick(), State::kLeader);
  EXPECT_EQ(b.elector.Tick(), State::kCandidate);  // b first sees the record now
  clock.Advance(seconds(14));
  EXPECT_EQ(b.elector.Tick(), State::kCandidate) << "14s after b saw it: still live";
  clock.Advance(seconds(1));
  EXPECT_EQ(b.elector.Tick(), State::kLeader);
  auto lease = store.lease();
  EXPECT_EQ(lease->holder_identity, "b");
  EXPECT_EQ(lease->lease_transitions, 1);
  EXPECT_EQ(lease->acquire_time, clock.Now());
}

TEST(LeaderElectionTest, LeaseDurationCountsFromWhenTheCandidateSawTheRecordChange) {
  k8s::FakeClock clock;
  FakeLeaseStore store;
  Replica a(store, clock, "a");
  ASSERT_EQ(a.elector.Tick(), State::kLeader);
  clock.Advance(seconds(60));  // a died long ago, but b has only just started watching
  Replica b(store, clock, "b");
  EXPECT_EQ(b.elector.Tick(), State::kCandidate);
  clock.Advance(seconds(15));
  EXPECT_EQ(b.elector.Tick(), State::kLeader);
}

TEST(LeaderElectionTest, LosesLeadershipWhenRenewalsFailForTheRenewDeadline) {
  k8s::FakeClock clock;
  FakeLeaseStore store;
  Replica a(store, clock, "a");
  ASSERT_EQ(a.elector.Tick(), State::kLeader);
  std::vector<State> changes;
  a.elector.OnStateChange([&](State s) { changes.push_back(s); });
  store.SetUnreachable(k8s::Status::Unavailable("connection refused"));
  for (int i = 0; i < 4; ++i) {
    clock.Advance(seconds(2));
    EXPECT_EQ(a.elector.Tick(), State::kLeader) << "within the renew deadline at " << 2 * (i + 1);
  }
  clock.Advance(seconds(2));  // 10s since the last renewal
  EXPECT_EQ(a.elector.Tick(), State::kLost);
  store.SetUnreachable(k8s::Status::Ok());
  clock.Advance(seconds(2));
  EXPECT_EQ(a.elector.Tick(), State::kLost) << "lost is final";
  EXPECT_EQ(changes, std::vector<State>{State::kLost});
}

TEST(LeaderElectionTest, RenewalOverdueIsVisibleWhileARenewalHangs) {
  k8s::FakeClock clock;
  FakeLeaseStore store;
  Replica a(store, clock, "a");
  EXPECT_FALSE(a.elector.RenewalOverdue()) << "not leading yet";
  ASSERT_EQ(a.elector.Tick(), State::kLeader);
  clock.Advance(seconds(9));
  EXPECT_FALSE(a.elector.RenewalOverdue());
  clock.Advance(seconds(1));  // no Tick returned in 10s: e.g. a request hanging
  EXPECT_TRUE(a.elector.RenewalOverdue());
  ASSERT_EQ(a.elector.Tick(), State::kLeader);
  EXPECT_FALSE(a.elector.RenewalOverdue());
}

TEST(LeaderElectionTest, OfTwoRacingCandidatesOnlyOneWins) {
  k8s::FakeClock clock;
  FakeLeaseStore store;
  Replica a(store, clock, "a"), b(store, clock, "b"), c(store, clock, "c");
  ASSERT_EQ(a.elector.Tick(), State::kLeader);
  b.elector.Tick();
  c.elector.Tick();
  clock.Advance(seconds(16));
  // b and c both read the expired record; b writes first, c's write carries a stale version.
  auto seen_by_c = store.Get();
  ASSERT_EQ(b.elector.Tick(), State::kLeader);
  LeaseRecord stale = *seen_by_c;
  stale.holder_identity = "c";
  EXPECT_TRUE(c.lock.Update(stale).status().IsConflict());
  EXPECT_EQ(c.elector.Tick(), State::kCandidate) << "b's fresh renewal is live for c";
  EXPECT_EQ(store.lease()->holder_identity, "b");
}

TEST(LeaderElectionTest, ReleaseLetsASuccessorTakeOverAtOnce) {
  k8s::FakeClock clock;
  FakeLeaseStore store;
  Replica a(store, clock, "a"), b(store, clock, "b");
  ASSERT_EQ(a.elector.Tick(), State::kLeader);
  EXPECT_EQ(b.elector.Tick(), State::kCandidate);
  ASSERT_TRUE(a.elector.Release().ok());
  EXPECT_EQ(a.elector.state(), State::kReleased);
  auto lease = store.lease();
  EXPECT_EQ(lease->holder_identity, "");
  EXPECT_EQ(lease->lease_duration_seconds, 1);
  clock.Advance(seconds(2));
  EXPECT_EQ(b.elector.Tick(), State::kLeader);
  EXPECT_EQ(store.lease()->lease_transitions, 1);
}

TEST(LeaderElectionTest, ConfigValidation) {
  struct Case {
    std::string name;
    LeaderElectionConfig config;
    bool ok;
  };
  std::vector<Case> cases = {
      {"defaults", Config("a"), true},
      {"lease not above renew", {"a", seconds(10), seconds(10), seconds(2)}, false},
      {"renew too close to retry", {"a", seconds(15), seconds(2), seconds(2)}, false},
      {"zero retry", {"a", seconds(15), seconds(10), seconds(0)}, false},
      {"no identity", {"", seconds(15), seconds(10), seconds(2)}, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ValidateLeaderElectionConfig(c.config).ok(), c.ok);
  }
}

TEST(LeaseRecordTest, RoundTripsMicroTimes) {
  k8s::WallTime t{};
  ASSERT_TRUE(k8s::ParseRfc3339("2026-03-04T05:06:07.123456Z", &t));
  EXPECT_EQ(FormatMicroTime(t), "2026-03-04T05:06:07.123456Z");
  k8s::Object lease = {{"metadata", {{"resourceVersion", "42"}}},
                       {"spec",
                        {{"holderIdentity", "a"},
                         {"leaseDurationSeconds", 15},
                         {"renewTime", "2026-03-04T05:06:07.123456Z"},
                         {"leaseTransitions", 3}}}};
  LeaseRecord r = LeaseRecordFromObject(lease);
  EXPECT_EQ(r.holder_identity, "a");
  EXPECT_EQ(r.lease_duration_seconds, 15);
  EXPECT_EQ(r.lease_transitions, 3);
  EXPECT_EQ(r.renew_time, t);
  EXPECT_EQ(r.resource_version, "42");
}

}  // namespace
}  // namespace stepline::controller
