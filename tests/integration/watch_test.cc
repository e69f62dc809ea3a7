// Watches against the real server: order of events, resuming after a dropped connection without
// missing anything, and 410 Expired.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "itest_env.h"

namespace stepline::k8s::itest {
namespace {

using std::chrono::seconds;

class WatchTest : public IntegrationTest {};

struct SeenEvent {
  WatchEvent::Type type;
  std::string name, rv;
};

TEST_F(WatchTest, SeesAddedModifiedDeletedInOrder) {
  Result<ObjectList> start = client_->List(kWidgets, ns_, {});
  ASSERT_TRUE(start.ok()) << start.status().ToString();
  std::vector<SeenEvent> seen;
  std::atomic<bool> stop{false};
  Status watch_status;
  std::thread watcher([&] {
    WatchOptions opts{.resource_version = start->resource_version, .timeout_seconds = 60};
    watch_status = client_->Watch(
        kWidgets, ns_, opts,
        [&](WatchEvent&& e) {
          if (e.type != WatchEvent::Type::kBookmark) {
            seen.push_back({e.type, NameOf(e.object), ResourceVersionOf(e.object)});
          }
          return seen.size() < 3;
        },
        &stop);
  });
  Result<Object> created = client_->Create(kWidgets, ns_, NewWidget(ns_, "w"));
  ASSERT_TRUE(created.ok());
  Object changed = *created;
  changed["spec"]["size"] = 5;
  Result<Object> updated = client_->Update(kWidgets, ns_, changed);
  ASSERT_TRUE(updated.ok());
  ASSERT_TRUE(client_->Delete(kWidgets, ns_, "w").ok());
  watcher.join();
  EXPECT_TRUE(watch_status.ok()) << watch_status.ToString();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].type, WatchEvent::Type::kAdded);
  EXPECT_EQ(seen[0].rv, ResourceVersionOf(*created));
  EXPECT_EQ(seen[1].type, WatchEvent::Type::kModified);
  EXPECT_EQ(seen[1].rv, ResourceVersionOf(*updated));
  EXPECT_EQ(seen[2].type, WatchEvent::Type::kDeleted);
}

// A writer creates objects while the watcher keeps dropping its connection: every 7 events it
// hangs up from the client side, and the server ends each watch after timeoutSeconds=1. Each
// time it resumes from the last resourceVersion it saw; no ADDED may be missed or repeated.
TEST_F(WatchTest, ResumesAfterDroppedConnectionsWithoutMissingEvents) {
  constexpr int kObjects = 150;
  Result<ObjectList> start = client_->List(kWidgets, ns_, {});
  ASSERT_TRUE(start.ok());
  std::thread writer([&] {
    for (int i = 0; i < kObjects; ++i) {
      ASSERT_TRUE(client_->Create(kWidgets, ns_, NewWidget(ns_, "d-" + std::to_string(i))).ok());
      if (i % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  std::map<std::string, int> added;
  std::string rv = start->resource_version;
  int connections = 0;
  const auto deadline = std::chrono::steady_clock::now() + seconds(120);
  while (added.size() < kObjects && std::chrono::steady_clock::now() < deadline) {
    ++connections;
    int in_this_connection = 0;
    WatchOptions opts{.resource_version = rv, .timeout_seconds = 1};
    Status s = client_->Watch(
        kWidgets, ns_, opts,
        [&](WatchEvent&& e) {
          rv = ResourceVersionOf(e.object);
          if (e.type == WatchEvent::Type::kAdded) ++added[NameOf(e.object)];
          return ++in_this_connection < 7;  // false: the client closes the stream
        },
        nullptr);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  writer.join();
  EXPECT_EQ(added.size(), static_cast<size_t>(kObjects));
  for (const auto& [name, count] : added) EXPECT_EQ(count, 1) << name;
  EXPECT_GT(connections, kObjects / 7) << "the stream was really dropped many times";
}

TEST_F(WatchTest, TooOldResourceVersionIsGone) {
  WatchOptions opts{.resource_version = "1", .timeout_seconds = 10};
  Status s = client_->Watch(
      kWidgets, ns_, opts, [](WatchEvent&&) { return true; }, nullptr);
  EXPECT_TRUE(s.IsGone()) << s.ToString();
  EXPECT_EQ(s.http_code(), 410);
  EXPECT_EQ(s.reason(), "Expired");
}

TEST_F(WatchTest, StopFlagEndsAnIdleWatchWithinASecond) {
  std::atomic<bool> stop{false};
  Status result;
  std::thread watcher([&] {
    result = client_->Watch(
        kWidgets, ns_, {}, [](WatchEvent&&) { return true; }, &stop);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto stopped_at = std::chrono::steady_clock::now();
  stop = true;
  watcher.join();
  EXPECT_LT(std::chrono::steady_clock::now() - stopped_at, seconds(1));
  EXPECT_EQ(result.code(), StatusCode::kCancelled) << result.ToString();
}

}  // namespace
}  // namespace stepline::k8s::itest
