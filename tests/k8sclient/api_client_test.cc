#include "k8sclient/api_client.h"

#include <gtest/gtest.h>

#include "test_util.h"
#include "tests/fakes/fake_transport.h"
#include "tests/fakes/recording_sleeper.h"

namespace stepline::k8s {
namespace {

using fakes::FakeTransport;
using fakes::HeaderOf;
using fakes::RecordingSleeper;
using std::chrono::milliseconds;

const Resource kWidgets{"example.dev", "v1", "widgets", "Widget", true};

struct Fixture {
  FakeClock clock;
  RecordingSleeper sleeper{clock};
  FakeTransport transport;
  CountingRequestMetrics metrics;
  testing::TempDir dir;
  std::unique_ptr<ApiServerClient> client;

  explicit Fixture(RestConfig config = {}) {
    config.server = "https://api:6443";
    config.qps = 0;
    if (config.bearer_token.empty() && config.token_file.empty()) config.bearer_token = "tok";
    ApiClientOptions options;
    options.metrics = &metrics;
    options.sleeper = &sleeper;
    client = std::make_unique<ApiServerClient>(config, transport, clock, options);
  }
};

// name: the object a NotFound/AlreadyExists/Conflict names in details, as the server sets it.
std::string StatusBody(int code, const std::string& reason, const std::string& message,
                       const std::string& name = "") {
  Object status{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
                {"reason", reason}, {"message", message}, {"code", code}};
  if (!name.empty()) status["details"] = {{"name", name}, {"kind", "widgets"}};
  return status.dump();
}

TEST(ApiClientTest, RequestsHaveTheRightShape) {
  struct Case {
    std::string name;
    std::function<Status(Client&)> call;
    std::string method, url, content_type, body_contains;
  };
  Object w = {{"metadata", {{"name", "w1"}, {"namespace", "ml"}, {"resourceVersion", "7"}}}};
  std::vector<Case> cases = {
      {"get", [](Client& c) { return c.Get(kWidgets, "ml", "w1").status(); }, "GET",
       "https://api:6443/apis/example.dev/v1/namespaces/ml/widgets/w1", "", ""},
      {"list with selectors and paging",
       [](Client& c) {
         return c.List(kWidgets, "", {"app in (a,b)", "metadata.name=x", 50, "tok/en=", ""})
             .status();
       },
       "GET",
       "https://api:6443/apis/example.dev/v1/widgets?labelSelector=app%20in%20%28a%2Cb%29&"
       "fieldSelector=metadata.name%3Dx&limit=50&continue=tok%2Fen%3D",
       "", ""},
      {"create fills apiVersion and kind",
       [&](Client& c) { return c.Create(kWidgets, "", w).status(); }, "POST",
       "https://api:6443/apis/example.dev/v1/namespaces/ml/widgets?fieldManager=stepline",
       "application/json", R"("apiVersion":"example.dev/v1")"},
      {"update", [&](Client& c) { return c.Update(kWidgets, "ml", w, {"mgr"}).status(); }, "PUT",
       "https://api:6443/apis/example.dev/v1/namespaces/ml/widgets/w1?fieldManager=mgr",
       "application/json", R"("resourceVersion":"7")"},
      {"status", [&](Client& c) { return c.UpdateStatus(kWidgets, "ml", w).status(); }, "PUT",
       "https://api:6443/apis/example.dev/v1/namespaces/ml/widgets/w1/status?fieldManager=stepline",
       "application/json", R"("kind":"Widget")"},
      {"merge patch of status",
       [](Client& c) {
         return c.Patch(kWidgets, "ml", "w1", PatchType::kMerge, "{}", {}, "status").status();
       },
       "PATCH",
       "https://api:6443/apis/example.dev/v1/namespaces/ml/widgets/w1/status?fieldManager=stepline",
       "application/merge-patch+json", "{}"},
      {"json patch",
       [](Client& c) { return c.Patch(kWidgets, "ml", "w1", PatchType::kJson, "[]").status(); },
       "PATCH",
       "https://api:6443/apis/example.dev/v1/namespaces/ml/widgets/w1?fieldManager=stepline",
       "application/json-patch+json", "[]"},
      {"server-side apply with force",
       [](Client& c) {
         return c.Patch(kWidgets, "ml", "w1", PatchType::kApply, "a: b", {"ctl", true, true})
             .status();
       },
       "PATCH",
       "https://api:6443/apis/example.dev/v1/namespaces/ml/widgets/w1?fieldManager=ctl&force=true&"
       "dryRun=All",
       "application/apply-patch+yaml", "a: b"},
      {"delete with options",
       [](Client& c) {
         return c.Delete(kWidgets, "ml", "w1", {"Foreground", 0, "u-1", "9"});
       },
       "DELETE", "https://api:6443/apis/example.dev/v1/namespaces/ml/widgets/w1",
       "application/json",
       R"j({"apiVersion":"v1","gracePeriodSeconds":0,"kind":"DeleteOptions","preconditions":{"resourceVersion":"9","uid":"u-1"},"propagationPolicy":"Foreground"})j"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Fixture f;
    f.transport.Push(200, R"j({"kind":"Widget","metadata":{"name":"w1"}})j");
    EXPECT_TRUE(c.call(*f.client).ok());
    std::vector<HttpRequest> requests = f.transport.requests();
    ASSERT_EQ(requests.size(), 1u);
    const HttpRequest& r = requests[0];
    EXPECT_EQ(r.method, c.method);
    EXPECT_EQ(r.url, c.url);
    EXPECT_EQ(HeaderOf(r, "Content-Type"), c.content_type);
    EXPECT_EQ(HeaderOf(r, "Authorization"), "Bearer tok");
    EXPECT_NE(r.body.find(c.body_contains), std::string::npos) << r.body;
  }
}

TEST(ApiClientTest, ListFillsTypeMetaAndPagingFields) {
  Fixture f;
  f.transport.Push(200,
                   R"j({"kind":"WidgetList","metadata":{"resourceVersion":"42","continue":"c2"},
    "items":[{"metadata":{"name":"a"}},{"apiVersion":"x/v9","kind":"Other","metadata":{"name":"b"}}]})j");
  f.transport.Push(200,
                   R"j({"kind":"WidgetList","metadata":{"resourceVersion":"43"},"items":null})j");
  Result<ObjectList> page = f.client->List(kWidgets, "ml", {});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->resource_version, "42");
  EXPECT_EQ(page->continue_token, "c2");
  ASSERT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->items[0]["apiVersion"], "example.dev/v1");
  EXPECT_EQ(page->items[0]["kind"], "Widget");
  EXPECT_EQ(page->items[1]["kind"], "Other");
  Result<ObjectList> empty = f.client->List(kWidgets, "ml", {});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->items.empty());
}

TEST(ApiClientTest, TypedErrorsAndRetries) {
  Fixture f;
  f.transport.Push(429, StatusBody(429, "TooManyRequests", "storage is (re)initializing"),
                   {{"retry-after", "1"}});
  f.transport.Push(503, StatusBody(503, "ServiceUnavailable", "busy"));
  f.transport.Push(404, StatusBody(404, "NotFound", "widgets.example.dev \"w1\" not found", "w1"));
  Result<Object> got = f.client->Get(kWidgets, "ml", "w1");
  EXPECT_TRUE(got.status().IsNotFound());
  EXPECT_EQ(got.status().message(), "widgets.example.dev \"w1\" not found");
  EXPECT_EQ(f.sleeper.waits(), (std::vector<milliseconds>{milliseconds(1000), milliseconds(500)}));
  EXPECT_EQ(f.metrics.Count("get", "widgets.example.dev", 429), 1u);
  EXPECT_EQ(f.metrics.Count("get", "widgets.example.dev", 503), 1u);
  EXPECT_EQ(f.metrics.Count("get", "widgets.example.dev", 404), 1u);
}

// A starting API server answers "404 page not found" for custom resources until their CRDs are
// loaded (seen on the test server after a restart): that is retried, not taken for a deletion.
TEST(ApiClientTest, A404ThatNamesNoObjectIsAnOutageNotADeletion) {
  Fixture f;
  f.transport.Push(404, "404 page not found\n");
  f.transport.Push(404,
                   StatusBody(404, "NotFound", "the server could not find the requested resource"));
  f.transport.Push(200, Object{{"kind", "Widget"}, {"metadata", {{"name", "w1"}}}}.dump());
  Result<Object> got = f.client->Get(kWidgets, "ml", "w1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(f.metrics.Count("get", "widgets.example.dev", 404), 2u);
}

TEST(ApiClientTest, RetriesAreBoundedAndCreatesAreNotReplayedAfter500) {
  Fixture f;
  for (int i = 0; i < 6; ++i) {
    f.transport.Push(429, StatusBody(429, "TooManyRequests", "slow"), {{"retry-after", "2"}});
  }
  EXPECT_TRUE(f.client->Get(kWidgets, "ml", "w1").status().IsTooManyRequests());
  EXPECT_EQ(f.transport.requests().size(), 5u);
  EXPECT_EQ(f.sleeper.waits(), std::vector<milliseconds>(4, milliseconds(2000)));

  Fixture g;
  g.transport.Push(500, StatusBody(500, "InternalError", "boom"));
  EXPECT_EQ(g.client->Create(kWidgets, "ml", Object::object()).status().code(),
            StatusCode::kInternal);
  EXPECT_EQ(g.transport.requests().size(), 1u);
}

TEST(ApiClientTest, A401RereadsTheTokenFileAndRetriesOnce) {
  testing::TempDir dir;
  std::string token_file = dir.Write("token", "old");
  RestConfig config;
  config.token_file = token_file;
  Fixture f(config);
  f.transport.Push(401, StatusBody(401, "Unauthorized", "Unauthorized"));
  EXPECT_EQ(f.client->Get(kWidgets, "ml", "w1").status().code(), StatusCode::kUnauthorized)
      << "same token: no second try";
  dir.Write("token", "new");
  f.transport.Push(401, StatusBody(401, "Unauthorized", "Unauthorized"));
  f.transport.Push(200, R"j({"metadata":{"name":"w1"}})j");
  EXPECT_TRUE(f.client->Get(kWidgets, "ml", "w1").ok());
  auto requests = f.transport.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(HeaderOf(requests[0], "Authorization"), "Bearer old");
  EXPECT_EQ(HeaderOf(requests[1], "Authorization"), "Bearer old");
  EXPECT_EQ(HeaderOf(requests[2], "Authorization"), "Bearer new");
}

TEST(ApiClientTest, WatchStreamsEventsAndMapsErrors) {
  Fixture f;
  const std::string added =
      R"j({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}})j";
  const std::string bookmark =
      R"j({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}})j";
  const std::string expired =
      R"j({"type":"ERROR","object":{"kind":"Status","status":"Failure","message":"too old resource version: 1 (9)","reason":"Expired","code":410}})j";
  f.transport.PushStream({added.substr(0, 10), added.substr(10) + "\n" + bookmark + "\n"});
  f.transport.PushStream({added + "\n" + expired + "\n"});
  f.transport.Push(410, StatusBody(410, "Expired", "too old"));
  std::vector<WatchEvent::Type> seen;
  auto on_event = [&](WatchEvent&& e) {
    seen.push_back(e.type);
    return true;
  };
  WatchOptions opts{.resource_version = "4", .timeout_seconds = 30};
  EXPECT_TRUE(f.client->Watch(kWidgets, "ml", opts, on_event, nullptr).ok());
  EXPECT_EQ(seen, (std::vector{WatchEvent::Type::kAdded, WatchEvent::Type::kBookmark}));
  EXPECT_EQ(f.transport.requests()[0].url,
            "https://api:6443/apis/example.dev/v1/namespaces/ml/widgets?watch=true&"
            "resourceVersion=4&allowWatchBookmarks=true&timeoutSeconds=30");
  Status gone = f.client->Watch(kWidgets, "ml", opts, on_event, nullptr);
  EXPECT_TRUE(gone.IsGone()) << gone.ToString();
  EXPECT_TRUE(f.client->Watch(kWidgets, "ml", opts, on_event, nullptr).IsGone());
  EXPECT_EQ(f.transport.requests().size(), 3u) << "watches are not retried by the client";
}

}  // namespace
}  // namespace stepline::k8s
