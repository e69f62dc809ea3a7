// End-to-end tests of the controller runtime's writers against a real API server (KUBECONFIG):
// the event recorder's create-then-patch deduplication, and the Lease lock's optimistic
// concurrency as the leader elector relies on it.
#include <gtest/gtest.h>

#include <random>

#include "controller/event_recorder.h"
#include "controller/leader_election.h"
#include "k8sclient/api_client.h"
#include "k8sclient/config.h"

namespace stepline::controller {
namespace {

std::string UniqueName(const std::string& prefix) {
  std::random_device rd;
  return prefix + "-" + std::to_string(rd() % 1'000'000);
}

class ControllerRuntimeE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = k8s::LoadDefault("");
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    client_ = k8s::ApiServerClient::New(*config, clock_);
  }
  std::vector<k8s::Object> EventsAbout(const std::string& name) {
    k8s::ListOptions opts;
    opts.field_selector = "involvedObject.name=" + name;
    auto list = client_->List(k8s::resources::kEvents, "default", opts);
    EXPECT_TRUE(list.ok()) << list.status().ToString();
    return list.ok() ? list->items : std::vector<k8s::Object>{};
  }

  k8s::RealClock clock_;
  std::unique_ptr<k8s::ApiServerClient> client_;
};

TEST_F(ControllerRuntimeE2E, RepeatedEventsArePatchedIntoOneWithACount) {
  const std::string name = UniqueName("run");
  const k8s::Object execution = {
      {"apiVersion", "stepline.dev/v1alpha1"},
      {"kind", "PipelineExecution"},
      {"metadata", {{"name", name}, {"namespace", "default"}, {"uid", "uid-" + name}}}};
  metrics::Registry registry;
  ApiEventRecorder recorder(*client_, clock_, registry, {.instance = "e2e"});
  for (int i = 0; i < 3; ++i) {
    recorder.Record(execution, controller::EventType::kWarning, "StepRetrying", "retrying in 30s");
  }
  recorder.Record(execution, controller::EventType::kNormal, "StepStarted", "step a started");
  EXPECT_EQ(recorder.Drain(), 4u);
  auto events = EventsAbout(name);
  ASSERT_EQ(events.size(), 2u);
  for (const auto& e : events) {
    EXPECT_EQ(e["involvedObject"]["kind"], "PipelineExecution");
    EXPECT_EQ(e["involvedObject"]["uid"], "uid-" + name);
    EXPECT_EQ(e["source"]["component"], "stepline-controller");
    EXPECT_EQ(e["count"], e["reason"] == "StepRetrying" ? 3 : 1) << e.dump();
    EXPECT_EQ(e["type"], e["reason"] == "StepRetrying" ? "Warning" : "Normal");
  }
}

TEST_F(ControllerRuntimeE2E, LeaseWritesUseOptimisticConcurrency) {
  const std::string lease_name = UniqueName("stepline-e2e-lease");
  ApiLeaseLock lock(*client_, "default", lease_name);
  EXPECT_TRUE(lock.Get().status().IsNotFound());
  LeaderElector a(lock, clock_, {"replica-a"});
  ASSERT_EQ(a.Tick(), LeaderElector::State::kLeader);
  auto first = lock.Get();
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->holder_identity, "replica-a");
  EXPECT_EQ(first->lease_duration_seconds, 15);
  ASSERT_EQ(a.Tick(), LeaderElector::State::kLeader);  // renew: a new resourceVersion
  LeaseRecord stale = *first;
  stale.holder_identity = "replica-b";
  EXPECT_TRUE(lock.Update(stale).status().IsConflict());
  LeaderElector b(lock, clock_, {"replica-b"});
  EXPECT_EQ(b.Tick(), LeaderElector::State::kCandidate) << "a's lease is live";
  ASSERT_TRUE(a.Release().ok());
  EXPECT_EQ(b.Tick(), LeaderElector::State::kLeader) << "a released it";
  EXPECT_EQ(lock.Get()->lease_transitions, 1);
  EXPECT_TRUE(client_->Delete(k8s::resources::kLeases, "default", lease_name).ok());
}

}  // namespace
}  // namespace stepline::controller
