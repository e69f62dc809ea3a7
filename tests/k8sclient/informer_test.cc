#include "k8sclient/informer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <thread>

namespace stepline::k8s {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const Resource kWidgets{"example.dev", "v1", "widgets", "Widget", true};

Object Widget(const std::string& ns, const std::string& name, const std::string& rv,
              const std::string& owner = "") {
  Object obj = {{"metadata",
                 {{"name", name},
                  {"namespace", ns},
                  {"resourceVersion", rv},
                  {"managedFields", Object::array({{{"manager", "kubectl"}}})}}},
                {"spec", {{"size", 1}, {"big", "drop me"}}}};
  if (!owner.empty()) obj["metadata"]["ownerReferences"] = {{{"uid", owner}, {"controller", true}}};
  return obj;
}

// A fake API: List serves `state` in pages; each Watch call plays the next scripted session
// (events, then the session's final status), or blocks until stopped when none is scripted.
// Thread-safe (mu_).
class FakeApi final : public ObjectReader, public Watcher {
 public:
  struct Session {
    std::vector<WatchEvent> events;
    Status end;
  };
  std::vector<Object> state;  // set before Start or under lock via SetState
  std::string list_rv = "100";

  void SetState(std::vector<Object> objects, std::string rv) {
    std::lock_guard lock(mu_);
    state = std::move(objects);
    list_rv = std::move(rv);
  }
  void Script(Session s) {
    std::lock_guard lock(mu_);
    sessions_.push_back(std::move(s));
    cv_.notify_all();
  }
  std::vector<std::string> watch_rvs() const {
    std::lock_guard lock(mu_);
    return watch_rvs_;
  }
  int lists() const {
    std::lock_guard lock(mu_);
    return lists_;
  }

  Result<Object> Get(const Resource&, const std::string&, const std::string&) override {
    return Status::NotFound("unused");
  }
  Result<ObjectList> List(const Resource&, const std::string&, const ListOptions& opts) override {
    std::lock_guard lock(mu_);
    if (opts.continue_token.empty()) ++lists_;
    size_t start = opts.continue_token.empty() ? 0 : std::stoul(opts.continue_token);
    size_t end = opts.limit > 0 ? std::min(state.size(), start + opts.limit) : state.size();
    ObjectList page;
    page.items.assign(state.begin() + start, state.begin() + end);
    page.resource_version = list_rv;
    if (end < state.size()) page.continue_token = std::to_string(end);
    return page;
  }
  Status Watch(const Resource&, const std::string&, const WatchOptions& opts,
               const std::function<bool(WatchEvent&&)>& on_event,
               const std::atomic<bool>* stop) override {
    Session session;
    {
      std::unique_lock lock(mu_);
      watch_rvs_.push_back(opts.resource_version);
      while (sessions_.empty()) {
        if (stop->load()) return Status::Cancelled("stopped");
        cv_.wait_for(lock, milliseconds(10));
      }
      session = std::move(sessions_.front());
      sessions_.pop_front();
    }
    for (auto& e : session.events) {
      if (!on_event(std::move(e))) return Status::Ok();
    }
    return session.end;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Session> sessions_;
  std::vector<std::string> watch_rvs_;
  int lists_ = 0;
};

// Records handler calls as "add ns/name@rv" etc. Thread-safe.
struct Recorder {
  std::mutex mu;
  std::vector<std::string> calls;
  EventHandlers Handlers() {
    auto rec = [this](std::string what, const ObjectPtr& o) {
      std::lock_guard lock(mu);
      calls.push_back(what + " " + KeyOf(*o) + "@" + ResourceVersionOf(*o));
    };
    return {[rec](const ObjectPtr& o) { rec("add", o); },
            [rec](const ObjectPtr&, const ObjectPtr& o) { rec("update", o); },
            [rec](const ObjectPtr& o) { rec("delete", o); }};
  }
  size_t size() {
    std::lock_guard lock(mu);
    return calls.size();
  }
  std::vector<std::string> Take() {
    std::lock_guard lock(mu);
    return std::exchange(calls, {});
  }
};

bool Eventually(const std::function<bool()>& condition) {
  for (int i = 0; i < 500; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return false;
}

WatchEvent Event(WatchEvent::Type type, Object obj) { return WatchEvent{type, std::move(obj)}; }

struct InformerFixture {
  FakeClock clock;
  FakeApi api;
  Recorder recorder;
  std::unique_ptr<Informer> informer;

  void Start(InformerOptions options = {}) {
    options.page_size = 2;
    informer = std::make_unique<Informer>(api, api, kWidgets, std::move(options), clock);
    informer->AddEventHandlers(recorder.Handlers());
    informer->Start();
    ASSERT_TRUE(Eventually([&] { return informer->HasSynced(); }));
  }
  // Waits until the informer has opened `n` watches.
  bool WaitForWatches(size_t n) {
    return Eventually([&] { return api.watch_rvs().size() >= n; });
  }
};

TEST(InformerTest, ListsInPagesThenAppliesWatchEventsInOrder) {
  InformerFixture f;
  f.api.SetState({Widget("a", "w1", "10", "owner-1"), Widget("a", "w2", "11"),
                  Widget("b", "w3", "12", "owner-1")},
                 "50");
  InformerOptions options;
  options.transform = [](Object& o) { o["spec"].erase("big"); };
  f.Start(options);
  EXPECT_EQ(f.recorder.Take(),
            (std::vector<std::string>{"add a/w1@10", "add a/w2@11", "add b/w3@12"}));
  ObjectPtr w1 = f.informer->Get("a", "w1");
  ASSERT_NE(w1, nullptr);
  EXPECT_FALSE(w1->at("metadata").contains("managedFields"));
  EXPECT_FALSE(w1->at("spec").contains("big"));
  EXPECT_EQ(w1->at("kind"), "Widget");
  EXPECT_EQ(f.informer->List("a").size(), 2u);
  EXPECT_EQ(f.informer->List("").size(), 3u);
  EXPECT_EQ(f.informer->ListByOwner("owner-1").size(), 2u);

  f.api.Script({{Event(WatchEvent::Type::kAdded, Widget("a", "w4", "51")),
                 Event(WatchEvent::Type::kModified, Widget("a", "w1", "52")),
                 Event(WatchEvent::Type::kDeleted, Widget("b", "w3", "53"))},
                Status::Ok()});
  ASSERT_TRUE(Eventually([&] { return f.informer->Get("a", "w4") != nullptr; }));
  ASSERT_TRUE(Eventually([&] { return f.informer->Get("b", "w3") == nullptr; }));
  EXPECT_EQ(f.api.watch_rvs()[0], "50") << "watch starts at the list's resourceVersion";
  EXPECT_EQ(f.recorder.Take(),
            (std::vector<std::string>{"add a/w4@51", "update a/w1@52", "delete b/w3@53"}));
  EXPECT_TRUE(f.informer->ListByOwner("owner-1").empty()) << "w1 no longer owned, w3 gone";
  EXPECT_EQ(f.informer->Get("b", "w3"), nullptr);
  f.informer->Stop();
}

TEST(InformerTest, ForgetsWhatKeepRefusesWithoutTellingTheHandlers) {
  // keep refuses widgets of size 0, and w2 once `forgotten` is set (what keep reads changed).
  auto ended = [](Object o) {
    o["spec"]["size"] = 0;
    return o;
  };
  InformerFixture f;
  f.api.SetState(
      {Widget("a", "w1", "10"), ended(Widget("a", "done", "11")), Widget("a", "w2", "12")}, "50");
  auto forgotten = std::make_shared<std::atomic<bool>>(false);
  InformerOptions options;
  options.keep = [forgotten](const Object& o) {
    return o["spec"]["size"] != 0 && !(NameOf(o) == "w2" && forgotten->load());
  };
  f.Start(options);
  EXPECT_EQ(f.recorder.Take(), (std::vector<std::string>{"add a/w1@10", "add a/w2@12"}))
      << "a refused object is never stored";
  EXPECT_EQ(f.informer->Get("a", "done"), nullptr);

  forgotten->store(true);
  f.informer->Recheck({f.informer->Get("a", "w1"), f.informer->Get("a", "w2")});
  EXPECT_EQ(f.informer->Get("a", "w2"), nullptr) << "Recheck drops it";
  EXPECT_NE(f.informer->Get("a", "w1"), nullptr);
  EXPECT_TRUE(f.recorder.Take().empty());

  f.api.Script({{Event(WatchEvent::Type::kModified, ended(Widget("a", "done", "52"))),
                 Event(WatchEvent::Type::kDeleted, ended(Widget("a", "done", "53"))),
                 Event(WatchEvent::Type::kModified, ended(Widget("a", "w1", "54"))),
                 Event(WatchEvent::Type::kAdded, Widget("a", "w3", "55"))},
                Status::Ok()});
  ASSERT_TRUE(Eventually([&] { return f.informer->Get("a", "w3") != nullptr; }));
  EXPECT_EQ(f.recorder.Take(), (std::vector<std::string>{"add a/w3@55"}))
      << "\"done\" comes and goes unseen; w1 ended: forgotten, not deleted";
  EXPECT_EQ(f.informer->Get("a", "w1"), nullptr);
  EXPECT_EQ(f.informer->List("a").size(), 1u);
  f.informer->Stop();
}

TEST(InformerTest, ResumesFromTheLastSeenVersionAfterADrop) {
  InformerFixture f;
  f.api.SetState({Widget("a", "w1", "10")}, "20");
  f.Start();
  f.recorder.Take();
  f.api.Script({{Event(WatchEvent::Type::kModified, Widget("a", "w1", "21")),
                 Event(WatchEvent::Type::kBookmark, {{"metadata", {{"resourceVersion", "30"}}}})},
                Status::Transport("connection reset by peer")});
  ASSERT_TRUE(f.WaitForWatches(1));
  // The informer backs off 1 s on the injected clock before resuming.
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(f.api.watch_rvs().size(), 1u);
  f.clock.Advance(seconds(1));
  ASSERT_TRUE(f.WaitForWatches(2));
  EXPECT_EQ(f.api.watch_rvs()[1], "30") << "resumes after the bookmark, no relist";
  EXPECT_EQ(f.api.lists(), 1);
  EXPECT_EQ(f.recorder.Take(), (std::vector<std::string>{"update a/w1@21"}));
  f.informer->Stop();
}

TEST(InformerTest, RelistsAfterGoneAndDeliversTheDifferences) {
  InformerFixture f;
  f.api.SetState(
      {Widget("a", "keep", "10"), Widget("a", "change", "11"), Widget("a", "drop", "12")}, "20");
  f.Start();
  f.recorder.Take();
  f.api.SetState({Widget("a", "keep", "10"), Widget("a", "change", "40"), Widget("a", "new", "41")},
                 "45");
  f.api.Script({{}, Status::Gone("too old resource version: 20 (44)")});
  ASSERT_TRUE(f.WaitForWatches(2));
  EXPECT_EQ(f.api.lists(), 2);
  EXPECT_EQ(f.api.watch_rvs()[1], "45");
  EXPECT_EQ(f.recorder.Take(),
            (std::vector<std::string>{"update a/change@40", "add a/new@41", "delete a/drop@12"}));
  EXPECT_EQ(f.informer->List("").size(), 3u);
  f.informer->Stop();
}

TEST(InformerTest, ResyncRedeliversEveryObjectWhenEnabled) {
  InformerFixture f;
  f.api.SetState({Widget("a", "w1", "10")}, "20");
  InformerOptions options;
  options.resync_period = seconds(60);
  f.Start(options);
  f.recorder.Take();
  f.clock.Advance(seconds(61));
  f.api.Script({{Event(WatchEvent::Type::kBookmark, {{"metadata", {{"resourceVersion", "21"}}}})},
                Status::Ok()});
  ASSERT_TRUE(Eventually([&] { return f.recorder.size() > 0; }));
  EXPECT_EQ(f.recorder.Take(), (std::vector<std::string>{"update a/w1@10"}));
  f.informer->Stop();
}

TEST(InformerTest, StopReturnsPromptly) {
  InformerFixture f;
  f.Start();
  auto start = std::chrono::steady_clock::now();
  f.informer->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(1));
}

TEST(InformerTest, StripManagedFieldsKeepsOtherAnnotations) {
  Object obj = {{"metadata",
                 {{"managedFields", Object::array()},
                  {"annotations",
                   {{"kubectl.kubernetes.io/last-applied-configuration", "{}"}, {"a", "b"}}}}}};
  StripManagedFields(obj);
  EXPECT_EQ(obj, (Object{{"metadata", {{"annotations", {{"a", "b"}}}}}}));
}

}  // namespace
}  // namespace stepline::k8s
