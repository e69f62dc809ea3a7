#include "controller/manager.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <thread>

#include "controller/handlers.h"
#include "k8sclient/thread_annotations.h"
#include "tests/fakes/fake_informer.h"
#include "tests/fakes/fake_lease_lock.h"

namespace stepline::controller {
namespace {

using fakes::FakeInformerFactory;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Records the keys it sees; answers with a programmable outcome.
class RecordingReconciler final : public Reconciler {
 public:
  explicit RecordingReconciler(std::string name) : name_(std::move(name)) {}
  const std::string& Name() const override { return name_; }
  ReconcileOutcome Reconcile(const std::string& key) override EXCLUDES(mu_) {
    k8s::MutexLock lock(mu_);
    keys_.insert(key);
    ++calls_;
    cond_.SignalAll();
    return outcome_;
  }
  void SetOutcome(ReconcileOutcome o) EXCLUDES(mu_) {
    k8s::MutexLock lock(mu_);
    outcome_ = std::move(o);
  }
  // True once key was reconciled; false when it was not within 10 seconds.
  bool WaitFor(const std::string& key) EXCLUDES(mu_) {
    const auto deadline = std::chrono::steady_clock::now() + seconds(10);
    k8s::MutexLock lock(mu_);
    while (keys_.count(key) == 0) {
      if (!cond_.WaitUntil(mu_, deadline)) return keys_.count(key) > 0;
    }
    return true;
  }
  int calls() EXCLUDES(mu_) {
    k8s::MutexLock lock(mu_);
    return calls_;
  }

 private:
  const std::string name_;
  k8s::Mutex mu_;
  k8s::CondVar cond_;
  std::set<std::string> keys_ GUARDED_BY(mu_);
  int calls_ GUARDED_BY(mu_) = 0;
  ReconcileOutcome outcome_ GUARDED_BY(mu_);
};

// The value of one series in the registry's text ("name{labels}"), or -1 when absent.
double Series(const metrics::Registry& registry, const std::string& series) {
  const std::string text = registry.Render();
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

k8s::Object Obj(const std::string& ns, const std::string& name, k8s::Object extra = {}) {
  k8s::Object o = {{"metadata", {{"namespace", ns}, {"name", name}, {"uid", "u-" + name}}}};
  if (extra.is_object()) o.merge_patch(extra);
  return o;
}

k8s::Object OwnedJob(const std::string& name, const std::string& owner_kind,
                     const std::string& owner) {
  return Obj("ml", name,
             {{"metadata",
               {{"ownerReferences",
                 {{{"apiVersion", "stepline.dev/v1alpha1"},
                   {"kind", owner_kind},
                   {"name", owner},
                   {"uid", "u-" + owner},
                   {"controller", true}}}}}}});
}

const k8s::Resource& kWidgets = k8s::resources::kPipelines;  // any two kinds will do
const k8s::Resource& kParts = k8s::resources::kJobs;

// A part owned by a widget (its controller ownerReference).
k8s::Object Part(const std::string& name, const std::string& widget) {
  return OwnedJob(name, kWidgets.kind, widget);
}

// Widgets watch their own kind and their parts (controller-runtime's For and Owns).
std::vector<Watch> WidgetWatches() {
  return {ForObjects(kWidgets),
          {kParts, [](const Change& c) { return OwnerRequests(c, kWidgets); }}};
}

double Enqueues(metrics::Registry& registry, const std::string& controller,
                const std::string& source) {
  return registry.Counter("stepline_enqueues_total", "", {"controller", "source"})
      .Value({controller, source});
}

double Adds(metrics::Registry& registry, const std::string& controller) {
  return registry.Counter("stepline_workqueue_adds_total", "", {"name"}).Value({controller});
}

TEST(HandlersTest, ControllerOwnerKeyMatchesKindAndGroup) {
  const k8s::Resource& owner = k8s::resources::kPipelineExecutions;
  EXPECT_EQ(ControllerOwnerKey(OwnedJob("run-1-a-1", "PipelineExecution", "run-1"), owner),
            "ml/run-1");
  EXPECT_EQ(ControllerOwnerKey(OwnedJob("x", "CronJob", "c"), owner), std::nullopt);
  k8s::Object other_group = OwnedJob("x", "PipelineExecution", "run-1");
  other_group["metadata"]["ownerReferences"][0]["apiVersion"] = "example.com/v1";
  EXPECT_EQ(ControllerOwnerKey(other_group, owner), std::nullopt);
  EXPECT_EQ(ControllerOwnerKey(Obj("ml", "bare"), owner), std::nullopt);
}

TEST(HandlersTest, OnlyStatusChangedIgnoresStatusAndVersionOnly) {
  const k8s::Object base = Obj("ml", "run-1",
                               {{"metadata", {{"resourceVersion", "1"}, {"generation", 1}}},
                                {"spec", {{"pipelineName", "p"}}},
                                {"status", {{"progress", "0/2"}}}});
  struct Case {
    std::string name;
    std::function<void(k8s::Object&)> change;
    bool want;
  };
  const std::vector<Case> cases = {
      {"nothing", [](k8s::Object&) {}, true},
      {"status and resourceVersion",
       [](k8s::Object& o) {
         o["status"]["progress"] = "1/2";
         o["metadata"]["resourceVersion"] = "2";
         o["metadata"]["managedFields"] = k8s::Object::array({{{"manager", "x"}}});
       },
       true},
      {"status appears", [](k8s::Object& o) { o.erase("status"); }, true},
      {"spec", [](k8s::Object& o) { o["spec"]["stop"] = true; }, false},
      {"generation", [](k8s::Object& o) { o["metadata"]["generation"] = 2; }, false},
      {"label",
       [](k8s::Object& o) {
         o["metadata"]["labels"] = {{"a", "b"}};
       },
       false},
      {"deletion", [](k8s::Object& o) { o["metadata"]["deletionTimestamp"] = "2026-01-01"; },
       false},
      {"metadata removed", [](k8s::Object& o) { o["metadata"].erase("generation"); }, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    k8s::Object changed = base;
    c.change(changed);
    EXPECT_EQ(OnlyStatusChanged(base, changed), c.want);
    EXPECT_EQ(OnlyStatusChanged(changed, base), c.want);
  }
}

TEST(ManagerTest, EachChangeGoesThroughTheWatchesOfItsResourceOnly) {
  FakeInformerFactory factory;
  k8s::FakeClock clock;
  metrics::Registry registry;
  Manager manager(factory, clock, registry, {""});
  manager.AddInformer({kWidgets, {}, true});
  manager.AddInformer({kParts, {}, false});
  RecordingReconciler widgets{"widget"};
  manager.Register(widgets, {1, WidgetWatches()});
  auto& parts = *factory.informers[kParts.resource];
  k8s::Object part = Part("p1", "w1");
  parts.Upsert(part);
  EXPECT_EQ(Enqueues(registry, "widget", kParts.resource), 1);
  part["metadata"]["ownerReferences"][0]["name"] = "w2";  // moved: both owners look again
  parts.Upsert(part);
  EXPECT_EQ(Enqueues(registry, "widget", kParts.resource), 3);
  parts.Upsert(Obj("ml", "orphan"));
  EXPECT_EQ(Enqueues(registry, "widget", kParts.resource), 3) << "no owner, no key";
  factory.informers[kWidgets.resource]->Upsert(Obj("ml", "w3"));
  EXPECT_EQ(Enqueues(registry, "widget", kWidgets.resource), 1);
}

TEST(ManagerTest, AKeyAnsweredTwiceForOneChangeIsEnqueuedOnceWithItsShortestDelay) {
  FakeInformerFactory factory;
  k8s::FakeClock clock;
  metrics::Registry registry;
  Manager manager(factory, clock, registry, {""});
  manager.AddInformer({kParts, {}, false});
  RecordingReconciler widgets{"widget"};
  std::vector<std::string> seen;
  const auto answer = [](std::chrono::milliseconds after) {
    return Watch{kParts, [after](const Change&) -> std::vector<Request> {
                   return {{"ml/w1", after}};
                 }};
  };
  const Watch recorder{kParts, [&seen](const Change& c) -> std::vector<Request> {
                         seen.push_back(std::string(c.added() ? "added" : "") +
                                        (c.deleted() ? "deleted" : "") +
                                        (!c.added() && !c.deleted() ? "updated" : ""));
                         return {};
                       }};
  manager.Register(widgets, {1, {answer(milliseconds(1000)), answer(milliseconds(0)), recorder}});
  auto& parts = *factory.informers[kParts.resource];
  parts.Upsert(Obj("ml", "p1"));
  EXPECT_EQ(Enqueues(registry, "widget", kParts.resource), 1);
  EXPECT_EQ(Adds(registry, "widget"), 1) << "the shortest delay, none, won";
  parts.Upsert(Obj("ml", "p1", {{"spec", {{"x", 1}}}}));
  parts.Remove("ml/p1");
  EXPECT_EQ(seen, (std::vector<std::string>{"added", "updated", "deleted"}));
}

TEST(ManagerTest, ADelayedRequestWaitsInTheQueue) {
  FakeInformerFactory factory;
  k8s::FakeClock clock;
  metrics::Registry registry;
  Manager manager(factory, clock, registry, {""});
  manager.AddInformer({kParts, {}, false});
  RecordingReconciler widgets{"widget"};
  manager.Register(widgets, {1, {{kParts, [](const Change&) -> std::vector<Request> {
                                    return {{"ml/w1", milliseconds(1000)}};
                                  }}}});
  factory.informers[kParts.resource]->Upsert(Obj("ml", "p1"));
  EXPECT_EQ(Enqueues(registry, "widget", kParts.resource), 1);
  EXPECT_EQ(Adds(registry, "widget"), 0) << "parked until the delay has passed";
}

TEST(ManagerTest, InformersRunInTheManagersNamespaceOncePerResource) {
  FakeInformerFactory factory;
  k8s::FakeClock clock;
  metrics::Registry registry;
  Manager manager(factory, clock, registry, {"ml"});
  k8s::InformerOptions opts;
  opts.label_selector = "app=x";
  opts.ns = "elsewhere";
  manager.AddInformer({kParts, opts, false});
  EXPECT_EQ(factory.options[kParts.resource].ns, "ml");
  EXPECT_EQ(factory.options[kParts.resource].label_selector, "app=x");
  EXPECT_THROW(manager.AddInformer({kParts, {}, false}), std::logic_error);
  RecordingReconciler widgets{"widget"};
  EXPECT_THROW(manager.Register(widgets, {1, WidgetWatches()}), std::logic_error)
      << "widgets have no informer";
}

TEST(ManagerTest, OwnersAreListedBeforeWhatTheyOwn) {
  FakeInformerFactory factory;
  k8s::RealClock clock;
  metrics::Registry registry;
  Manager manager(factory, clock, registry, {""});
  manager.AddInformer({kWidgets, {}, true});
  manager.AddInformer({kParts, {}, false});
  auto& owners = *factory.informers[kWidgets.resource];
  auto& owned = *factory.informers[kParts.resource];
  owners.SetSynced(false);
  std::atomic<bool> stop{false};
  std::thread run([&] { manager.Run(stop, nullptr); });
  for (int i = 0; i < 200 && !owners.started(); ++i) std::this_thread::sleep_for(milliseconds(5));
  ASSERT_TRUE(owners.started());
  EXPECT_FALSE(owned.started()) << "not before the owners' cache synced";
  owners.SetSynced(true);
  for (int i = 0; i < 200 && !owned.started(); ++i) std::this_thread::sleep_for(milliseconds(5));
  EXPECT_TRUE(owned.started());
  stop = true;
  manager.RequestStop();
  run.join();
}

// A second informer of a resource (the instance-types ConfigMap, in the controller's own
// namespace, beside the artifact repositories): a name of its own, its own namespace, and its
// changes go through the resource's watches like the first one's.
TEST(ManagerTest, ASecondInformerOfAResourceHasItsOwnNameAndNamespace) {
  FakeInformerFactory factory;
  k8s::FakeClock clock;
  metrics::Registry registry;
  Manager manager(factory, clock, registry, {"ml"});
  manager.AddInformer({kParts, {}, false});
  InformerSpec second{kParts, {}, false};
  second.name = "parts-elsewhere";
  second.ns = "stepline-system";
  EXPECT_THROW(manager.AddInformer({kParts, {}, false}), std::logic_error);
  manager.AddInformer(second);
  ASSERT_EQ(factory.created.size(), 2u);
  EXPECT_EQ(factory.created[0].second.ns, "ml");
  EXPECT_EQ(factory.created[1].second.ns, "stepline-system");
  std::vector<std::string> seen;
  RecordingReconciler widgets{"widget"};
  manager.Register(widgets, {1, {{kParts, [&seen](const Change& c) -> std::vector<Request> {
                                    seen.push_back(k8s::KeyOf(c.object()));
                                    return {};
                                  }}}});
  factory.informers[kParts.resource]->Upsert(Obj("stepline-system", "p9"));
  EXPECT_EQ(seen, std::vector<std::string>{"stepline-system/p9"});
}

struct RunningManager {
  explicit RunningManager(LeaderElector* elector = nullptr)
      : manager(factory, clock, registry, {""}) {
    manager.AddInformer({kWidgets, {}, true});
    manager.AddInformer({kParts, {}, false});
    manager.Register(widgets, {2, WidgetWatches()});
    thread = std::thread([this, elector] { result = manager.Run(stop, elector); });
  }
  ~RunningManager() {
    stop = true;
    manager.RequestStop();
    if (thread.joinable()) thread.join();
  }
  fakes::FakeInformer& informer(const k8s::Resource& r) { return *factory.informers[r.resource]; }

  FakeInformerFactory factory;
  k8s::RealClock clock;
  metrics::Registry registry;
  RecordingReconciler widgets{"widget"};
  Manager manager;
  std::atomic<bool> stop{false};
  Manager::RunResult result{};
  std::thread thread;
};

TEST(ManagerTest, RoutesChangesToTheWorkersOfTheOwner) {
  RunningManager m;
  m.informer(kWidgets).Upsert(Obj("ml", "w1"));
  EXPECT_TRUE(m.widgets.WaitFor("ml/w1"));
  m.informer(kParts).Upsert(Part("p2", "w2"));
  EXPECT_TRUE(m.widgets.WaitFor("ml/w2"));
  EXPECT_TRUE(m.manager.CachesSynced());
  EXPECT_TRUE(m.manager.IsLeader());
  m.stop = true;  // joining the workers makes the last outcome's metrics visible
  m.manager.RequestStop();
  m.thread.join();
  const std::string text = m.registry.Render();
  EXPECT_NE(text.find("stepline_reconcile_total{controller=\"widget\",result=\"success\"}"),
            std::string::npos);
  EXPECT_NE(text.find("stepline_workqueue_adds_total{name=\"widget\"}"), std::string::npos);
}

TEST(ManagerTest, WorkersRunOnlyWhileLeadingAndTheLeaseIsReleasedOnStop) {
  fakes::FakeLeaseStore store;
  k8s::RealClock clock;
  // Another replica holds a live lease: this one stays standby.
  LeaseRecord other{"other", 15, clock.Now(), clock.Now(), 0, ""};
  ASSERT_TRUE(store.Create(other).ok());
  fakes::FakeLeaseLock lock(store);
  LeaderElector elector(lock, clock,
                        {"me", milliseconds(2000), milliseconds(1500), milliseconds(20)});
  RunningManager m(&elector);
  // Standby: the event is queued (handlers run inside Upsert) and stays queued.
  m.informer(kWidgets).Upsert(Obj("ml", "forecast"));
  EXPECT_EQ(Series(m.registry, "stepline_workqueue_depth{name=\"widget\"}"), 1);
  EXPECT_EQ(m.widgets.calls(), 0);
  EXPECT_FALSE(m.manager.IsLeader());
  EXPECT_TRUE(m.manager.CachesSynced()) << "a standby replica is ready too";
  // The other replica releases the lease; this one takes over and reconciles what was queued.
  LeaseRecord released = *store.Get();
  released.holder_identity.clear();
  ASSERT_TRUE(store.Update(released).ok());
  EXPECT_TRUE(m.widgets.WaitFor("ml/forecast"));
  EXPECT_EQ(store.lease()->holder_identity, "me");
  m.stop = true;
  m.manager.RequestStop();
  m.thread.join();
  EXPECT_EQ(m.result, Manager::RunResult::kStopped);
  EXPECT_EQ(store.lease()->holder_identity, "") << "released on graceful stop";
}

TEST(ManagerTest, LosingTheLeaseStopsReconcilingAndReportsIt) {
  fakes::FakeLeaseStore store;
  k8s::RealClock clock;
  fakes::FakeLeaseLock lock(store);
  LeaderElector elector(lock, clock,
                        {"me", milliseconds(2000), milliseconds(1500), milliseconds(20)});
  RunningManager m(&elector);
  m.informer(kWidgets).Upsert(Obj("ml", "forecast"));
  ASSERT_TRUE(m.widgets.WaitFor("ml/forecast"));
  store.SetUnreachable(k8s::Status::Unavailable("connection refused"));
  m.thread.join();  // returns by itself once renewals failed for the renew deadline
  EXPECT_EQ(m.result, Manager::RunResult::kLeadershipLost);
  EXPECT_FALSE(m.manager.IsLeader());
  EXPECT_EQ(Series(m.registry, "stepline_leader"), 0) << m.registry.Render();
}

TEST(ManagerTest, StatusOnlyUpdatesOfTheOwnKindEnqueueNothing) {
  RunningManager m;
  auto& informer = m.informer(kWidgets);
  k8s::Object w = Obj("ml", "w1", {{"spec", {{"size", 1}}}});
  informer.Upsert(w);
  ASSERT_TRUE(m.widgets.WaitFor("ml/w1"));
  const std::string adds = "stepline_workqueue_adds_total{name=\"widget\"}";
  const double added = Series(m.registry, adds);
  ASSERT_GE(added, 1);
  w["status"]["progress"] = "1/2";
  informer.Upsert(w);  // the echo of a status write: the handlers ran, nothing was queued
  EXPECT_EQ(Series(m.registry, adds), added);
  w["spec"]["size"] = 2;
  informer.Upsert(w);  // a spec change is queued
  EXPECT_EQ(Series(m.registry, adds), added + 1);
}

}  // namespace
}  // namespace stepline::controller
