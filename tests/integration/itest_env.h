// Shared setup of the k8sclient integration tests: the test server's environment (exported by
// `eval "$(testenv/up.sh)"`), clients for its identities, a test CRD and a namespace per test.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "k8sclient/api_client.h"
#include "k8sclient/clock.h"
#include "k8sclient/config.h"

namespace stepline::k8s::itest {

// What testenv/up.sh exports. Empty strings for unset variables.
struct TestEnv {
  std::string kubeconfig, server, ca, client_cert, client_key, token, nobody_token, etcd, etcdctl;
};
TestEnv ReadTestEnv();

// The test resource: widgets.itest.stepline.dev/v1, namespaced, with a status subresource.
extern const Resource kWidgets;
// A CRD for kind/plural in group itest.stepline.dev (preserve-unknown-fields spec and status).
Object WidgetCrd(const std::string& plural, const std::string& kind);
Resource WidgetResource(const std::string& plural, const std::string& kind);

// A name unique to this process and call: prefix-<pid>-<n>-<random>.
std::string UniqueName(const std::string& prefix);
Object NewWidget(const std::string& ns, const std::string& name, int size = 1);

// Reads a PEM file of the test environment (fails the test when it cannot).
std::string ReadPem(const std::string& path);
// Config that authenticates with a bearer token (no client certificate).
RestConfig TokenConfig(const TestEnv& env, const std::string& token);
// Runs a shell command; returns its stdout, and sets *exit_code.
std::string RunCommand(const std::string& command, int* exit_code);

// Base fixture: fails (never skips) when KUBECONFIG is unset; otherwise an admin client
// (kubeconfig, client certificate), the widgets CRD Established and a fresh namespace.
class IntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  TestEnv env_;
  RealClock clock_;
  RestConfig config_;
  std::unique_ptr<ApiServerClient> client_;
  std::string ns_;
};

}  // namespace stepline::k8s::itest
