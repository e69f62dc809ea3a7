// Authentication and TLS against the real server: token, client certificate, the unprivileged
// "nobody" token, a bad token, and a CA that did not sign the server's certificate.
#include <gtest/gtest.h>

#include "itest_env.h"
#include "k8sclient/request_metrics.h"

namespace stepline::k8s::itest {
namespace {

class AuthTest : public IntegrationTest {};

TEST_F(AuthTest, TokenAndClientCertificateBothWork) {
  ASSERT_FALSE(env_.token.empty()) << "STEPLINE_TESTENV_TOKEN is not set";
  auto by_token = ApiServerClient::New(TokenConfig(env_, env_.token), clock_);
  Result<ObjectList> list = by_token->List(kWidgets, ns_, {});
  EXPECT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_TRUE(config_.bearer_token.empty() && !config_.client_cert_pem.empty())
      << "the kubeconfig's identity is the client certificate";
  EXPECT_TRUE(client_->List(kWidgets, ns_, {}).ok());
}

TEST_F(AuthTest, TokenFromAFileIsReadAndRereadAfterA401) {
  const std::string path = "/tmp/" + UniqueName("token");
  int rc = 0;
  RunCommand("umask 077 && printf 'stale-token\\n' > " + path, &rc);
  ASSERT_EQ(rc, 0);
  RestConfig config = TokenConfig(env_, "");
  config.token_file = path;
  auto client = ApiServerClient::New(config, clock_);
  EXPECT_EQ(client->List(kWidgets, ns_, {}).status().code(), StatusCode::kUnauthorized);
  // The token rotates: the next request gets 401, re-reads the file and succeeds on its retry.
  RunCommand("printf '%s\\n' " + env_.token + " > " + path, &rc);
  Result<ObjectList> list = client->List(kWidgets, ns_, {});
  EXPECT_TRUE(list.ok()) << list.status().ToString();
  RunCommand("rm -f " + path, &rc);
}

TEST_F(AuthTest, NobodyIsForbiddenAndABadTokenUnauthorized) {
  struct Case {
    std::string name, token;
    StatusCode want;
    int want_http;
  };
  std::vector<Case> cases = {
      {"nobody", env_.nobody_token, StatusCode::kForbidden, 403},
      {"bad token", "not-a-token", StatusCode::kUnauthorized, 401},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto client = ApiServerClient::New(TokenConfig(env_, c.token), clock_);
    Result<ObjectList> list = client->List(kWidgets, ns_, {});
    EXPECT_EQ(list.status().code(), c.want) << list.status().ToString();
    EXPECT_EQ(list.status().http_code(), c.want_http);
  }
}

TEST_F(AuthTest, WrongCaFailsWithAClearTlsErrorAndIsNotRetried) {
  const std::string dir = "/tmp/" + UniqueName("wrong-ca");
  int rc = 0;
  RunCommand("mkdir -p " + dir +
                 " && openssl req -x509 -newkey ec -pkeyopt "
                 "ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=not-the-test-ca -keyout " +
                 dir + "/ca.key -out " + dir + "/ca.crt 2>&1",
             &rc);
  ASSERT_EQ(rc, 0) << "openssl failed";
  RestConfig config = config_;
  config.ca_pem = ReadPem(dir + "/ca.crt");
  RunCommand("rm -rf " + dir, &rc);
  CountingRequestMetrics metrics;
  ApiClientOptions options;
  options.metrics = &metrics;
  auto client = ApiServerClient::New(config, clock_, options);
  Result<Object> got = client->Get(kWidgets, ns_, "x");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kTransport);
  EXPECT_NE(got.status().message().find("TLS error"), std::string::npos) << got.status().message();
  EXPECT_NE(got.status().message().find("certificate"), std::string::npos)
      << got.status().message();
  EXPECT_EQ(metrics.Count("get", kWidgets.GroupResource(), 0), 1u) << "not retried";
}

}  // namespace
}  // namespace stepline::k8s::itest
