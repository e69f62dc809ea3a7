// Where the API server is and how to authenticate to it: kubeconfig files, the in-cluster
// service account, and the usual order of looking for them.
//
// The Load* functions are pure apart from reading files and the environment (through EnvLookup);
// they are safe to call from any thread. RestConfig is a plain value.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "k8sclient/status.h"

namespace stepline::k8s {

struct RestConfig {
  std::string server;           // "https://127.0.0.1:6443", no trailing slash
  std::string ca_pem;           // CA bundle that signs the server's certificate; "" = system CAs
  std::string client_cert_pem;  // client certificate (mutual TLS); "" = none
  std::string client_key_pem;   // its private key
  std::string bearer_token;     // static token; never logged
  std::string token_file;       // re-read periodically and after a 401 (service account tokens)
  // Only ever true when the caller passed allow_insecure: TLS verification is otherwise always on.
  bool insecure_skip_tls_verify = false;
  std::string user_agent = "stepline/0.1.0";
  double qps = 50;  // client-side rate limit; <= 0 disables it
  int burst = 100;
  std::chrono::milliseconds timeout{30'000};  // per request (not watches)
  std::string default_namespace;              // the context's namespace, or the pod's namespace
};

// Looks up an environment variable; the default reads the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnv();

struct KubeconfigOptions {
  std::string context;          // "" = the file's current-context
  bool allow_insecure = false;  // accept insecure-skip-tls-verify: true
};

// Reads a kubeconfig file. Relative file references resolve against the file's directory.
// Errors (kInvalidArgument) name the file and the field: "kubeconfig /x/config:
// users[0].user.client-certificate-data: not valid base64".
Result<RestConfig> LoadKubeconfig(const std::string& path, const std::string& context = "",
                                  bool allow_insecure = false);
// Several files merged as kubectl merges $KUBECONFIG: the first file that sets current-context
// wins, and the first definition of each named cluster, user and context wins.
Result<RestConfig> LoadKubeconfigFiles(const std::vector<std::string>& paths,
                                       const KubeconfigOptions& options = {});

struct InClusterPaths {
  std::string token = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  std::string ns = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

  // The three files (token, ca.crt, namespace) in another directory.
  static InClusterPaths Under(const std::string& dir);
};

// Names a directory that replaces /var/run/secrets/kubernetes.io/serviceaccount for the
// in-cluster configuration (tests run the controller as its pod would, without a pod).
inline constexpr const char* kServiceAccountDirEnv = "STEPLINE_SERVICEACCOUNT_DIR";

// The pod's service account: KUBERNETES_SERVICE_HOST/PORT, the token file (re-read while
// running) and the cluster CA. env defaults to the process environment.
Result<RestConfig> LoadInClusterConfig(const InClusterPaths& paths = {}, EnvLookup env = {});

struct LoadDefaultOptions {
  KubeconfigOptions kubeconfig;
  InClusterPaths in_cluster;
  EnvLookup env;  // default: the process environment
};

// The first that applies: the flag's file, then $KUBECONFIG (a ':'-separated list), then the
// in-cluster service account (when KUBERNETES_SERVICE_HOST is set; its files under
// $STEPLINE_SERVICEACCOUNT_DIR when that is set), then ~/.kube/config.
Result<RestConfig> LoadDefault(const std::string& kubeconfig_flag,
                               const LoadDefaultOptions& options = {});

// Whole file contents, or an error naming the path and the reason.
Result<std::string> ReadWholeFile(const std::string& path);

}  // namespace stepline::k8s
