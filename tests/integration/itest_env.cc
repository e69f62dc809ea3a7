#include "itest_env.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "k8sclient/crd.h"

namespace stepline::k8s::itest {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

const Resource kWidgets = WidgetResource("widgets", "Widget");

TestEnv ReadTestEnv() {
  return TestEnv{Env("KUBECONFIG"),
                 Env("STEPLINE_TESTENV_SERVER"),
                 Env("STEPLINE_TESTENV_CA"),
                 Env("STEPLINE_TESTENV_CLIENT_CERT"),
                 Env("STEPLINE_TESTENV_CLIENT_KEY"),
                 Env("STEPLINE_TESTENV_TOKEN"),
                 Env("STEPLINE_TESTENV_NOBODY_TOKEN"),
                 Env("STEPLINE_TESTENV_ETCD"),
                 Env("STEPLINE_TESTENV_ETCDCTL")};
}

Resource WidgetResource(const std::string& plural, const std::string& kind) {
  return Resource{"itest.stepline.dev", "v1", plural, kind, true};
}

Object WidgetCrd(const std::string& plural, const std::string& kind) {
  Object open = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  Object schema = {{"type", "object"}, {"properties", {{"spec", open}, {"status", open}}}};
  Object version = {{"name", "v1"},
                    {"served", true},
                    {"storage", true},
                    {"subresources", {{"status", Object::object()}}},
                    {"schema", {{"openAPIV3Schema", schema}}}};
  return Object{{"apiVersion", "apiextensions.k8s.io/v1"},
                {"kind", "CustomResourceDefinition"},
                {"metadata", {{"name", plural + ".itest.stepline.dev"}}},
                {"spec",
                 {{"group", "itest.stepline.dev"},
                  {"scope", "Namespaced"},
                  {"names", {{"plural", plural}, {"kind", kind}}},
                  {"versions", Object::array({version})}}}};
}

std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  static const unsigned seed = std::random_device{}();
  char suffix[16];
  std::snprintf(suffix, sizeof(suffix), "%04x", (seed + counter * 7919u) & 0xFFFF);
  return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" + suffix;
}

Object NewWidget(const std::string& ns, const std::string& name, int size) {
  return Object{{"apiVersion", kWidgets.ApiVersion()},
                {"kind", kWidgets.kind},
                {"metadata", {{"name", name}, {"namespace", ns}}},
                {"spec", {{"size", size}}}};
}

std::string ReadPem(const std::string& path) {
  Result<std::string> pem = ReadWholeFile(path);
  EXPECT_TRUE(pem.ok()) << pem.status().ToString();
  return pem.ok() ? *pem : std::string();
}

RestConfig TokenConfig(const TestEnv& env, const std::string& token) {
  RestConfig config;
  config.server = env.server;
  config.ca_pem = ReadPem(env.ca);
  config.bearer_token = token;
  config.qps = 0;
  return config;
}

std::string RunCommand(const std::string& command, int* exit_code) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *exit_code = -1;
    return out;
  }
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof(buf), pipe)) out.append(buf, n);
  int status = pclose(pipe);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

void IntegrationTest::SetUp() {
  env_ = ReadTestEnv();
  if (env_.kubeconfig.empty()) {
    GTEST_FAIL() << "KUBECONFIG is not set: start the test API server first with\n"
                    "  eval \"$(testenv/up.sh)\"\n(or run scripts/test.sh, which does it)";
  }
  Result<RestConfig> config = LoadKubeconfig(env_.kubeconfig);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  config_ = *config;
  config_.qps = 0;  // tests measure the server, not the client-side limiter
  client_ = ApiServerClient::New(config_, clock_);
  ClockSleeper sleeper(clock_);
  Status crd = EnsureCrdEstablished(*client_, WidgetCrd("widgets", "Widget"), clock_, sleeper);
  ASSERT_TRUE(crd.ok()) << crd.ToString();
  ns_ = UniqueName("itest");
  Object ns = {{"metadata", {{"name", ns_}}}};
  Result<Object> created = client_->Create(resources::kNamespaces, "", ns);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
}

void IntegrationTest::TearDown() {
  if (client_ && !ns_.empty()) {
    Status s = client_->Delete(resources::kNamespaces, "", ns_);
    EXPECT_TRUE(s.ok() || s.IsNotFound()) << s.ToString();
  }
}

}  // namespace stepline::k8s::itest
