#include "k8sclient/config.h"

#include <gtest/gtest.h>

#include <map>

#include "k8sclient/base64.h"

#include "test_util.h"

namespace stepline::k8s {
namespace {

using testing::TempDir;

const char kCaPem[] = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
const char kCertPem[] = "-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n";
const char kKeyPem[] = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";

std::string Base64(const std::string& in) {
  static const char* kTable = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kTable[(v >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += {kTable[(v >> 18) & 63], kTable[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {kTable[(v >> 18) & 63], kTable[(v >> 12) & 63], kTable[(v >> 6) & 63], '='};
  }
  return out;
}

// A kubeconfig with one context "ctx" whose cluster and user bodies are given.
std::string Kubeconfig(const std::string& cluster, const std::string& user,
                       const std::string& current = "ctx") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: " + current +
         "\nclusters:\n- name: c\n  cluster:\n" + cluster + "users:\n- name: u\n  user:\n" + user +
         "contexts:\n- name: ctx\n  context: {cluster: c, user: u, namespace: ml}\n"
         "- name: other\n  context: {cluster: c, user: u}\n";
}

EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Base64Test, DecodesStandardAndRejectsMalformed) {
  struct Case {
    std::string name, input;
    std::optional<std::string> want;
  };
  std::vector<Case> cases = {
      {"empty", "", ""},
      {"one pad", "YWI=", "ab"},
      {"two pads", "YQ==", "a"},
      {"no pad", "YWJj", "abc"},
      {"wrapped lines", "YW\nJj\n", "abc"},
      {"bad symbol", "YW*j", std::nullopt},
      {"short", "YWJ", std::nullopt},
      {"data after pad", "YQ=a", std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(DecodeBase64(c.input), c.want);
  }
}

TEST(KubeconfigTest, EveryCredentialForm) {
  TempDir dir;
  dir.Write("pki/ca.crt", kCaPem);
  dir.Write("pki/client.crt", kCertPem);
  dir.Write("pki/client.key", kKeyPem);
  dir.Write("token", "file-token\n");
  struct Case {
    std::string name, cluster, user;
    RestConfig want;
  };
  const std::string server = "    server: https://127.0.0.1:6443/\n";
  std::vector<Case> cases = {
      {"ca file + cert files (relative to the kubeconfig)",
       server + "    certificate-authority: pki/ca.crt\n",
       "    client-certificate: pki/client.crt\n    client-key: " + dir.path() +
           "/pki/client.key\n",
       {.ca_pem = kCaPem, .client_cert_pem = kCertPem, .client_key_pem = kKeyPem}},
      {"inline data forms",
       server + "    certificate-authority-data: " + Base64(kCaPem) + "\n",
       "    client-certificate-data: " + Base64(kCertPem) +
           "\n    client-key-data: " + Base64(kKeyPem) + "\n",
       {.ca_pem = kCaPem, .client_cert_pem = kCertPem, .client_key_pem = kKeyPem}},
      {"static token", server, "    token: abc.def\n", {.bearer_token = "abc.def"}},
      {"token file (relative)",
       server,
       "    tokenFile: token\n",
       {.token_file = dir.path() + "/token"}},
      {"no credentials", server, "    {}\n", {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::string path = dir.Write("config", Kubeconfig(c.cluster, c.user));
    Result<RestConfig> got = LoadKubeconfig(path);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->server, "https://127.0.0.1:6443");
    EXPECT_EQ(got->ca_pem, c.want.ca_pem);
    EXPECT_EQ(got->client_cert_pem, c.want.client_cert_pem);
    EXPECT_EQ(got->client_key_pem, c.want.client_key_pem);
    EXPECT_EQ(got->bearer_token, c.want.bearer_token);
    EXPECT_EQ(got->token_file, c.want.token_file);
    EXPECT_FALSE(got->insecure_skip_tls_verify);
    EXPECT_EQ(got->default_namespace, "ml");
  }
}

TEST(KubeconfigTest, MalformedFilesNameTheFileAndField) {
  TempDir dir;
  const std::string p = dir.path() + "/config";
  const std::string server = "    server: https://h:6443\n";
  struct Case {
    std::string name, contents, want;
  };
  std::vector<Case> cases = {
      {"not yaml", "clusters: [\n",
       "kubeconfig " + p + ": not valid YAML: line 2: end of sequence flow not found"},
      {"not a mapping", "- a\n- b\n", "kubeconfig " + p + ": (document): must be a mapping"},
      {"clusters not a list", "current-context: ctx\nclusters: {a: 1}\n",
       "kubeconfig " + p + ": clusters: must be a list"},
      {"entry without name", "clusters:\n- cluster: {server: https://h}\n",
       "kubeconfig " + p + ": clusters[0].name: must be a non-empty string"},
      {"bad base64", Kubeconfig(server + "    certificate-authority-data: '@@@@'\n", "    {}\n"),
       "kubeconfig " + p + ": clusters[0].cluster.certificate-authority-data: not valid base64"},
      {"ca file missing", Kubeconfig(server + "    certificate-authority: nope.crt\n", "    {}\n"),
       "kubeconfig " + p + ": clusters[0].cluster.certificate-authority: cannot read " +
           dir.path() + "/nope.crt: No such file or directory"},
      {"ca not pem",
       Kubeconfig(server + "    certificate-authority-data: " + Base64("junk") + "\n", "    {}\n"),
       "kubeconfig " + p + ": clusters[0].cluster.certificate-authority: does not hold PEM data"},
      {"both ca forms",
       Kubeconfig(server + "    certificate-authority: a\n    certificate-authority-data: b\n",
                  "    {}\n"),
       "kubeconfig " + p +
           ": clusters[0].cluster.certificate-authority: both certificate-authority and "
           "certificate-authority-data are set; use one"},
      {"no server", Kubeconfig("    {}\n", "    {}\n"),
       "kubeconfig " + p + ": clusters[0].cluster.server: is required"},
      {"plain http", Kubeconfig("    server: http://h:8080\n", "    {}\n"),
       "kubeconfig " + p +
           ": clusters[0].cluster.server: must be an https:// URL (got \"http://h:8080\")"},
      {"insecure refused", Kubeconfig(server + "    insecure-skip-tls-verify: true\n", "    {}\n"),
       "kubeconfig " + p +
           ": clusters[0].cluster.insecure-skip-tls-verify: true is refused: Stepline always "
           "verifies the server's certificate (set certificate-authority instead, or pass "
           "allow_insecure)"},
      {"insecure not bool",
       Kubeconfig(server + "    insecure-skip-tls-verify: maybe\n", "    {}\n"),
       "kubeconfig " + p + ": clusters[0].cluster.insecure-skip-tls-verify: must be true or false"},
      {"cert without key",
       Kubeconfig(server, "    client-certificate-data: " + Base64(kCertPem) + "\n"),
       "kubeconfig " + p +
           ": users[0].user: client-certificate and client-key must be set together"},
      {"token not a string", Kubeconfig(server, "    token: [a]\n"),
       "kubeconfig " + p + ": users[0].user.token: must be a string"},
      {"token file missing", Kubeconfig(server, "    tokenFile: /nonexistent/t\n"),
       "kubeconfig " + p +
           ": users[0].user.tokenFile: cannot read /nonexistent/t: No such file or directory"},
      {"exec plugin", Kubeconfig(server, "    exec: {command: aws}\n"),
       "kubeconfig " + p +
           ": users[0].user.exec: is not supported (use a token, tokenFile or a client "
           "certificate)"},
      {"unknown current context", Kubeconfig(server, "    {}\n", "missing"),
       "kubeconfig " + p + ": contexts: no context named \"missing\""},
      {"no current context", "clusters: []\n",
       "kubeconfig " + p + ": current-context: is not set and no context was given"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    dir.Write("config", c.contents);
    Result<RestConfig> got = LoadKubeconfig(p);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(got.status().message(), c.want);
  }
}

TEST(KubeconfigTest, MissingFileAndContextChoiceAndInsecureOptIn) {
  TempDir dir;
  Result<RestConfig> missing = LoadKubeconfig(dir.path() + "/none");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(),
            "kubeconfig: cannot read " + dir.path() + "/none: No such file or directory");

  std::string path = dir.Write(
      "config", Kubeconfig("    server: https://h:6443\n    insecure-skip-tls-verify: true\n",
                           "    token: t\n"));
  Result<RestConfig> allowed = LoadKubeconfig(path, "other", /*allow_insecure=*/true);
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  EXPECT_TRUE(allowed->insecure_skip_tls_verify);
  EXPECT_EQ(allowed->default_namespace, "");  // "other" has no namespace
}

TEST(KubeconfigTest, MergesFilesFirstDefinitionWins) {
  TempDir dir;
  std::string a =
      dir.Write("a", "current-context: ctx\nusers:\n- name: u\n  user: {token: first}\n");
  std::string b =
      dir.Write("b", Kubeconfig("    server: https://b:6443\n", "    token: second\n", "other"));
  Result<RestConfig> got = LoadKubeconfigFiles({a, b});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->server, "https://b:6443");
  EXPECT_EQ(got->bearer_token, "first");
  EXPECT_EQ(got->default_namespace, "ml");  // current-context "ctx" from a
}

TEST(InClusterTest, ReadsServiceAccountAndEnvironment) {
  TempDir dir;
  InClusterPaths paths{dir.Write("token", "sa-token\n"), dir.Write("ca.crt", kCaPem),
                       dir.Write("namespace", "ml")};
  struct Case {
    std::string name, host, want_server;
  };
  std::vector<Case> cases = {
      {"ipv4", "10.0.0.1", "https://10.0.0.1:443"},
      {"ipv6 is bracketed", "fd00::1", "https://[fd00::1]:443"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto env = MapEnv({{"KUBERNETES_SERVICE_HOST", c.host}, {"KUBERNETES_SERVICE_PORT", "443"}});
    Result<RestConfig> got = LoadInClusterConfig(paths, env);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->server, c.want_server);
    EXPECT_EQ(got->ca_pem, kCaPem);
    EXPECT_EQ(got->bearer_token, "sa-token");
    EXPECT_EQ(got->token_file, paths.token);
    EXPECT_EQ(got->default_namespace, "ml");
  }
}

TEST(InClusterTest, Errors) {
  TempDir dir;
  InClusterPaths good{dir.Write("token", "t"), dir.Write("ca.crt", kCaPem), dir.path() + "/ns"};
  auto env = MapEnv({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  struct Case {
    std::string name;
    InClusterPaths paths;
    EnvLookup env;
    std::string want;
  };
  std::vector<Case> cases = {
      {"no env", good, MapEnv({}),
       "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set (not "
       "running in a pod?)"},
      {"no token",
       {dir.path() + "/missing", good.ca, good.ns},
       env,
       "in-cluster config: token: cannot read " + dir.path() +
           "/missing: No such file or directory"},
      {"empty token",
       {dir.Write("empty", "\n"), good.ca, good.ns},
       env,
       "in-cluster config: token: " + dir.path() + "/empty is empty"},
      {"ca not pem",
       {good.token, dir.Write("bad.crt", "junk"), good.ns},
       env,
       "in-cluster config: ca.crt: " + dir.path() + "/bad.crt holds no PEM certificate"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Result<RestConfig> got = LoadInClusterConfig(c.paths, c.env);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().message(), c.want);
  }
}

TEST(LoadDefaultTest, OrderFlagEnvInClusterHome) {
  TempDir dir;
  auto config_for = [&](const std::string& sub, const std::string& host) {
    return dir.Write(sub + "/config",
                     Kubeconfig("    server: https://" + host + ":6443\n", "    {}\n"));
  };
  std::string flag = config_for("flag", "flag"), envfile = config_for("env", "env");
  config_for("home/.kube", "home");
  InClusterPaths pod{dir.Write("sa/token", "t"), dir.Write("sa/ca.crt", kCaPem), ""};
  struct Case {
    std::string name, flag;
    std::map<std::string, std::string> env;
    std::string want_server;
  };
  const std::string home = dir.path() + "/home";
  std::map<std::string, std::string> all = {{"KUBECONFIG", dir.path() + "/none:" + envfile},
                                            {"KUBERNETES_SERVICE_HOST", "pod"},
                                            {"KUBERNETES_SERVICE_PORT", "443"},
                                            {"HOME", home}};
  std::vector<Case> cases = {
      {"flag first", flag, all, "https://flag:6443"},
      {"then $KUBECONFIG (missing entries skipped)", "", all, "https://env:6443"},
      {"then in-cluster", "", all, "https://pod:443"},
      {"then ~/.kube/config", "", {{"HOME", home}}, "https://home:6443"},
  };
  cases[2].env.erase("KUBECONFIG");
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    LoadDefaultOptions options;
    options.in_cluster = pod;
    options.env = MapEnv(c.env);
    Result<RestConfig> got = LoadDefault(c.flag, options);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->server, c.want_server);
  }
  // $STEPLINE_SERVICEACCOUNT_DIR moves the pod's files (the namespace file included).
  dir.Write("moved/token", "moved-token\n");
  dir.Write("moved/ca.crt", kCaPem);
  dir.Write("moved/namespace", "stepline-system");
  LoadDefaultOptions moved;
  moved.in_cluster = pod;
  moved.env = MapEnv({{"KUBERNETES_SERVICE_HOST", "127.0.0.1"},
                      {"KUBERNETES_SERVICE_PORT", "6443"},
                      {"STEPLINE_SERVICEACCOUNT_DIR", dir.path() + "/moved"}});
  Result<RestConfig> got = LoadDefault("", moved);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->server, "https://127.0.0.1:6443");
  EXPECT_EQ(got->bearer_token, "moved-token");
  EXPECT_EQ(got->token_file, dir.path() + "/moved/token");
  EXPECT_EQ(got->default_namespace, "stepline-system");

  LoadDefaultOptions none;
  none.env = MapEnv({});
  EXPECT_EQ(LoadDefault("", none).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace stepline::k8s
