// 429 Too Many Requests, for real: a second test server started with
// STEPLINE_TESTENV_MAX_INFLIGHT=1 is hammered by 16 concurrent requests; the client retries
// them (honouring Retry-After) until every one succeeds.
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "itest_env.h"
#include "k8sclient/request_metrics.h"

namespace stepline::k8s::itest {
namespace {

// Parses `export NAME=VALUE` lines.
std::map<std::string, std::string> ParseExports(const std::string& text) {
  std::map<std::string, std::string> vars;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("export ", 0) != 0) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') {
      value = value.substr(1, value.size() - 2);
    }
    vars[line.substr(7, eq - 7)] = value;
  }
  return vars;
}

class ThrottledServer {
 public:
  ThrottledServer() : dir_("/tmp/" + UniqueName("k8sclient-throttled")) {
    int rc = 0;
    std::string out =
        RunCommand("STEPLINE_TESTENV_MAX_INFLIGHT=1 " STEPLINE_SOURCE_DIR "/testenv/up.sh --dir " +
                       dir_ + " 2>" + dir_ + ".log",
                   &rc);
    started_ = rc == 0;
    vars_ = ParseExports(out);
  }
  ~ThrottledServer() {
    int rc = 0;
    RunCommand(STEPLINE_SOURCE_DIR "/testenv/down.sh " + dir_ + " >/dev/null 2>&1; rm -rf " + dir_ +
                   " " + dir_ + ".log",
               &rc);
  }
  bool started() const { return started_; }
  std::string var(const std::string& name) const {
    auto it = vars_.find(name);
    return it == vars_.end() ? std::string() : it->second;
  }
  std::string log() const {
    int rc = 0;
    return RunCommand("tail -n 20 " + dir_ + ".log", &rc);
  }

 private:
  std::string dir_;
  bool started_ = false;
  std::map<std::string, std::string> vars_;
};

class ThrottleTest : public IntegrationTest {};

TEST_F(ThrottleTest, TooManyRequestsAreRetriedUntilTheyPass) {
  ThrottledServer server;
  ASSERT_TRUE(server.started()) << "testenv/up.sh failed:\n" << server.log();
  TestEnv env;
  env.server = server.var("STEPLINE_TESTENV_SERVER");
  env.ca = server.var("STEPLINE_TESTENV_CA");
  CountingRequestMetrics metrics;
  ApiClientOptions options;
  options.metrics = &metrics;
  options.retry.max_attempts = 50;  // 16 callers share one slot: some wait many rounds
  auto client =
      ApiServerClient::New(TokenConfig(env, server.var("STEPLINE_TESTENV_TOKEN")), clock_, options);
  constexpr int kThreads = 16, kEach = 10;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        Result<ObjectList> list = client->List(resources::kNamespaces, "", {});
        if (!list.ok()) {
          ADD_FAILURE() << list.status().ToString();
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(metrics.Count("list", "namespaces", 200), static_cast<uint64_t>(kThreads * kEach));
  EXPECT_GT(metrics.Count("list", "namespaces", 429), 0u) << "the server never said 429";
}

}  // namespace
}  // namespace stepline::k8s::itest
