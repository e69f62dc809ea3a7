// Informers against the real server: the cache converges on a fresh list after random writes,
// and a watch that resumes too late (410 Expired) makes the informer relist.
#include "k8sclient/informer.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "itest_env.h"
#include "k8sclient/crd.h"

namespace stepline::k8s::itest {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class InformerTest : public IntegrationTest {};

std::map<std::string, std::string> VersionsOf(const std::vector<ObjectPtr>& objects) {
  std::map<std::string, std::string> out;
  for (const auto& o : objects) out[KeyOf(*o)] = ResourceVersionOf(*o);
  return out;
}

std::map<std::string, std::string> VersionsOf(const std::vector<Object>& objects) {
  std::map<std::string, std::string> out;
  for (const auto& o : objects) out[KeyOf(o)] = ResourceVersionOf(o);
  return out;
}

// Waits until the informer's cache holds exactly what a fresh list returns.
::testing::AssertionResult CacheMatchesFreshList(Informer& informer, Client& client,
                                                 const Resource& res, const std::string& ns) {
  std::map<std::string, std::string> cached, listed;
  for (int i = 0; i < 600; ++i) {
    Result<ObjectList> list = ListAll(client, res, ns, {}, 200);
    if (!list.ok()) return ::testing::AssertionFailure() << list.status().ToString();
    listed = VersionsOf(list->items);
    cached = VersionsOf(informer.List(ns));
    if (cached == listed) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(milliseconds(100));
  }
  return ::testing::AssertionFailure()
         << "cache has " << cached.size() << " objects, the list " << listed.size();
}

struct Counts {
  std::atomic<int> adds{0}, updates{0}, deletes{0};
  EventHandlers Handlers() {
    return {[this](const ObjectPtr&) { ++adds; },
            [this](const ObjectPtr&, const ObjectPtr&) { ++updates; },
            [this](const ObjectPtr&) { ++deletes; }};
  }
};

TEST_F(InformerTest, CacheMatchesAFreshListAfter500RandomWrites) {
  Informer informer(*client_, *client_, kWidgets, {.ns = ns_, .page_size = 50}, clock_);
  Counts counts;
  informer.AddEventHandlers(counts.Handlers());
  for (int i = 0; i < 30; ++i) {  // something to list first
    ASSERT_TRUE(client_->Create(kWidgets, ns_, NewWidget(ns_, "r-" + std::to_string(i))).ok());
  }
  informer.Start();
  for (int i = 0; i < 100 && !informer.HasSynced(); ++i)
    std::this_thread::sleep_for(milliseconds(50));
  ASSERT_TRUE(informer.HasSynced());
  EXPECT_EQ(informer.List(ns_).size(), 30u);

  std::atomic<int> ops{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      std::mt19937 random(1234 + t);
      while (ops++ < 500) {
        std::string name = "r-" + std::to_string(random() % 60);
        // Any of these may be refused (the name exists, or is gone): what is checked is that
        // the cache agrees with the server afterwards.
        switch (random() % 3) {
          case 0:
            (void)client_->Create(kWidgets, ns_, NewWidget(ns_, name, t));
            break;
          case 1:
            (void)client_->Patch(kWidgets, ns_, name, PatchType::kMerge,
                                 R"({"spec":{"size":)" + std::to_string(random() % 100) + "}}");
            break;
          default:
            (void)client_->Delete(kWidgets, ns_, name);
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_TRUE(CacheMatchesFreshList(informer, *client_, kWidgets, ns_));
  EXPECT_EQ(counts.adds - counts.deletes, static_cast<int>(informer.List(ns_).size()));
  EXPECT_GT(counts.updates.load(), 0);
  for (const auto& obj : informer.List(ns_)) {
    EXPECT_FALSE(obj->at("metadata").contains("managedFields"));
  }
  informer.Stop();
}

// Delegates to a real Watcher; the test can cut the current watch and hold new ones back.
// Thread-safe.
class GatedWatcher final : public Watcher {
 public:
  explicit GatedWatcher(Watcher& real) : real_(real) {}
  std::atomic<bool> open{true};
  std::atomic<int> started{0};  // watches that reached the server

  void Cut() { cut_ = true; }
  std::vector<Status> results() {
    std::lock_guard lock(mu_);
    return results_;
  }
  Status Watch(const Resource& res, const std::string& ns, const WatchOptions& opts,
               const std::function<bool(WatchEvent&&)>& on_event,
               const std::atomic<bool>* stop) override {
    while (!open.load()) {
      if (stop->load()) return Status::Cancelled("stopped");
      std::this_thread::sleep_for(milliseconds(20));
    }
    cut_ = false;
    ++started;
    std::atomic<bool> local_stop{false}, done{false};
    std::thread relay([&] {
      while (!done.load()) {
        if (stop->load() || cut_.load()) local_stop = true;
        std::this_thread::sleep_for(milliseconds(20));
      }
    });
    Status s = real_.Watch(res, ns, opts, on_event, &local_stop);
    done = true;
    relay.join();
    {
      std::lock_guard lock(mu_);
      results_.push_back(s);
    }
    return cut_.load() ? Status::Transport("connection cut by the test") : s;
  }

 private:
  Watcher& real_;
  std::atomic<bool> cut_{false};
  std::mutex mu_;
  std::vector<Status> results_;
};

Status CreateMany(Client& client, const Resource& res, const std::string& ns,
                  const std::string& prefix, int n) {
  std::atomic<int> next{0};
  std::mutex mu;
  Status first_error;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        Object obj = NewWidget(ns, prefix + std::to_string(i));
        obj["apiVersion"] = res.ApiVersion();
        obj["kind"] = res.kind;
        Result<Object> r = client.Create(res, ns, obj);
        std::lock_guard lock(mu);
        if (!r.ok() && first_error.ok()) first_error = r.status();
      }
    });
  }
  for (auto& t : threads) t.join();
  return first_error;
}

// What really yields 410 on this server: a watch resuming from a resourceVersion that has left
// the API server's watch cache. (Compacting etcd does not: watches, continue tokens and exact
// reads are served from the cache.) The cache of a new resource holds 100 events and grows
// only while its oldest event is younger than 75 s; so: disconnect, write, wait 80 s, write
// more than the cache holds, then let the informer resume.
TEST_F(InformerTest, RelistsAfterTheWatchExpires) {
  // A resource of its own, so that its watch cache starts empty at the smallest size.
  const std::string suffix =
      std::to_string(getpid()) + std::to_string(clock_.Now().time_since_epoch().count() % 100000);
  const Resource res = WidgetResource("expiries" + suffix, "Expiry" + suffix);
  ClockSleeper sleeper(clock_);
  ASSERT_TRUE(
      EnsureCrdEstablished(*client_, WidgetCrd(res.resource, res.kind), clock_, sleeper).ok());
  GatedWatcher gated(*client_);
  Informer informer(gated, *client_, res, {.ns = ns_}, clock_);
  Counts counts;
  informer.AddEventHandlers(counts.Handlers());
  ASSERT_TRUE(CreateMany(*client_, res, ns_, "before-", 5).ok());
  informer.Start();
  ASSERT_TRUE(CacheMatchesFreshList(informer, *client_, res, ns_));
  for (int i = 0; i < 200 && gated.started == 0; ++i) std::this_thread::sleep_for(milliseconds(20));
  ASSERT_EQ(gated.started.load(), 1);

  gated.open = false;
  gated.Cut();
  for (int i = 0; i < 200 && gated.results().empty(); ++i)
    std::this_thread::sleep_for(milliseconds(20));
  ASSERT_EQ(gated.results().size(), 1u);
  ASSERT_TRUE(CreateMany(*client_, res, ns_, "during-", 20).ok());
  ASSERT_TRUE(client_->Delete(res, ns_, "before-0").ok());
  std::this_thread::sleep_for(seconds(80));
  ASSERT_TRUE(CreateMany(*client_, res, ns_, "late-", 150).ok());
  gated.open = true;

  EXPECT_TRUE(CacheMatchesFreshList(informer, *client_, res, ns_));
  std::vector<Status> results = gated.results();
  ASSERT_GE(results.size(), 2u);
  EXPECT_TRUE(results[1].IsGone()) << "the resumed watch should expire: " << results[1].ToString();
  EXPECT_EQ(informer.List(ns_).size(), 4u + 20u + 150u);
  EXPECT_EQ(counts.deletes.load(), 1) << "before-0, deleted while away, delivered after the relist";
  EXPECT_EQ(counts.adds.load(), 5 + 20 + 150);
  informer.Stop();
  // Cleanup only: whether it succeeds does not change what the test found.
  (void)client_->Delete(resources::kCustomResourceDefinitions, "", res.resource + "." + res.group);
}

}  // namespace
}  // namespace stepline::k8s::itest
