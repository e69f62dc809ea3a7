#include "k8sclient/config.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace stepline::k8s {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::string Trim(std::string text) {
  while (!text.empty() && IsSpace(text.back())) text.pop_back();
  size_t start = 0;
  while (start < text.size() && IsSpace(text[start])) ++start;
  return text.substr(start);
}

std::vector<std::string> SplitPathList(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ':')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool FileExists(const std::string& path) { return std::ifstream(path).good(); }

std::string HostForUrl(const std::string& host) {
  if (host.find(':') != std::string::npos && host.front() != '[') return "[" + host + "]";
  return host;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument("cannot read " + path + ": " + std::strerror(errno));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Status::InvalidArgument("cannot read " + path + ": read error");
  return buf.str();
}

InClusterPaths InClusterPaths::Under(const std::string& dir) {
  return {dir + "/token", dir + "/ca.crt", dir + "/namespace"};
}

Result<RestConfig> LoadInClusterConfig(const InClusterPaths& paths, EnvLookup env) {
  if (!env) env = ProcessEnv();
  auto host = env("KUBERNETES_SERVICE_HOST");
  auto port = env("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) {
    return Status::InvalidArgument(
        "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set "
        "(not running in a pod?)");
  }
  Result<std::string> token = ReadWholeFile(paths.token);
  if (!token.ok())
    return Status::InvalidArgument("in-cluster config: token: " + token.status().message());
  if (Trim(*token).empty()) {
    return Status::InvalidArgument("in-cluster config: token: " + paths.token + " is empty");
  }
  Result<std::string> ca = ReadWholeFile(paths.ca);
  if (!ca.ok())
    return Status::InvalidArgument("in-cluster config: ca.crt: " + ca.status().message());
  if (ca->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return Status::InvalidArgument("in-cluster config: ca.crt: " + paths.ca +
                                   " holds no PEM certificate");
  }
  RestConfig config;
  config.server = "https://" + HostForUrl(*host) + ":" + *port;
  config.ca_pem = std::move(*ca);
  config.token_file = paths.token;
  config.bearer_token = Trim(std::move(*token));
  if (Result<std::string> ns = ReadWholeFile(paths.ns); ns.ok()) {
    config.default_namespace = Trim(std::move(*ns));
  }
  return config;
}

Result<RestConfig> LoadDefault(const std::string& kubeconfig_flag,
                               const LoadDefaultOptions& options) {
  EnvLookup env = options.env ? options.env : ProcessEnv();
  if (!kubeconfig_flag.empty()) return LoadKubeconfigFiles({kubeconfig_flag}, options.kubeconfig);
  if (auto list = env("KUBECONFIG"); list && !list->empty()) {
    std::vector<std::string> paths;
    for (const auto& path : SplitPathList(*list)) {
      if (FileExists(path)) paths.push_back(path);
    }
    if (paths.empty()) {
      return Status::InvalidArgument("$KUBECONFIG=" + *list + ": none of its files exists");
    }
    return LoadKubeconfigFiles(paths, options.kubeconfig);
  }
  if (auto host = env("KUBERNETES_SERVICE_HOST"); host && !host->empty()) {
    auto dir = env(kServiceAccountDirEnv);
    if (dir && !dir->empty()) return LoadInClusterConfig(InClusterPaths::Under(*dir), env);
    return LoadInClusterConfig(options.in_cluster, env);
  }
  if (auto home = env("HOME"); home && !home->empty()) {
    std::string path = *home + "/.kube/config";
    if (FileExists(path)) return LoadKubeconfigFiles({path}, options.kubeconfig);
  }
  return Status::InvalidArgument(
      "no API server configuration: no --kubeconfig, $KUBECONFIG unset, not in a cluster "
      "(KUBERNETES_SERVICE_HOST unset), and no ~/.kube/config");
}

}  // namespace stepline::k8s
