// CurlTransport against the real server: HTTP/2 multiplexing on one connection, the HTTP/1.1
// mode with a bounded connection pool, and the response size limit.
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>

#include "itest_env.h"
#include "k8sclient/curl_transport.h"

namespace stepline::k8s::itest {
namespace {

class TransportTest : public IntegrationTest {
 protected:
  // Sends `requests` GETs of the widget collection from 16 threads; returns the protocols seen.
  std::set<std::string> Hammer(CurlTransport& transport, int requests) {
    std::set<std::string> protocols;
    std::mutex mu;
    std::atomic<int> next{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t) {
      threads.emplace_back([&] {
        for (int i = next++; i < requests; i = next++) {
          HttpRequest req;
          req.url = config_.server + kWidgets.CollectionPath(ns_);
          req.timeout = std::chrono::seconds(30);
          Result<HttpResponse> r = transport.Do(req);
          std::lock_guard lock(mu);
          EXPECT_TRUE(r.ok()) << r.status().ToString();
          if (r.ok()) {
            EXPECT_EQ(r->status, 200) << r->body;
            protocols.insert(r->protocol);
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    return protocols;
  }
};

TEST_F(TransportTest, Http2MultiplexesOnOneConnection) {
  CurlTransport transport(CurlTransportOptions::FromRestConfig(config_));
  EXPECT_EQ(Hammer(transport, 200), std::set<std::string>{"HTTP/2"});
  EXPECT_EQ(transport.connections_opened(), 1u);
}

TEST_F(TransportTest, Http11KeepsAtMostNConnections) {
  CurlTransportOptions options = CurlTransportOptions::FromRestConfig(config_);
  options.http_version = CurlTransportOptions::HttpVersion::kHttp11;
  options.max_connections = 4;
  CurlTransport transport(options);
  EXPECT_EQ(Hammer(transport, 200), std::set<std::string>{"HTTP/1.1"});
  EXPECT_GE(transport.connections_opened(), 1u);
  EXPECT_LE(transport.connections_opened(), 4u) << "connections are reused";
}

TEST_F(TransportTest, ResponsesLargerThanTheLimitFail) {
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client_->Create(kWidgets, ns_, NewWidget(ns_, "big-" + std::to_string(i))).ok());
  }
  CurlTransportOptions options = CurlTransportOptions::FromRestConfig(config_);
  options.max_response_bytes = 4096;
  CurlTransport transport(options);
  ApiServerClient client(config_, transport, clock_);
  Result<ObjectList> list = client.List(kWidgets, ns_, {});
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().code(), StatusCode::kTransport);
  EXPECT_NE(list.status().message().find("response larger than 4096 bytes"), std::string::npos)
      << list.status().message();
  EXPECT_TRUE(client.List(kWidgets, ns_, {.limit = 2}).ok()) << "small answers still pass";
}

TEST_F(TransportTest, CancellingAnInFlightRequestReturnsPromptly) {
  CurlTransport transport(CurlTransportOptions::FromRestConfig(config_));
  std::atomic<bool> cancel{false};
  HttpRequest watch;
  watch.url = config_.server + kWidgets.CollectionPath(ns_) + "?watch=true&timeoutSeconds=60";
  watch.on_body = [](std::string_view) { return true; };
  watch.cancel = &cancel;
  Result<HttpResponse> result = HttpResponse{};
  std::thread caller([&] { result = transport.Do(watch); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto cancelled_at = std::chrono::steady_clock::now();
  cancel = true;
  caller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, std::chrono::seconds(1));
  EXPECT_EQ(result.status().code(), StatusCode::kCancelled) << result.status().ToString();
}

}  // namespace
}  // namespace stepline::k8s::itest
