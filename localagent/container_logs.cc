#include "localagent/container_logs.h"

namespace stepline::localagent {

bool ParseContainerLogsPath(const std::string& path, ContainerLogTarget* out) {
  static constexpr std::string_view kPrefix = "/containerLogs/";
  if (path.rfind(kPrefix, 0) != 0) return false;
  std::string parts[3];
  size_t begin = kPrefix.size();
  for (int i = 0; i < 3; ++i) {
    const size_t slash = path.find('/', begin);
    if ((i < 2) == (slash == std::string::npos)) return false;
    parts[i] = path.substr(begin, slash == std::string::npos ? std::string::npos : slash - begin);
    if (parts[i].empty() || parts[i] == "." || parts[i] == "..") return false;
    begin = slash + 1;
  }
  *out = {parts[0], parts[1], parts[2]};
  return true;
}

std::string ContainerLogPath(const std::string& work_dir, const std::string& ns,
                             const std::string& pod, const std::string& uid,
                             const std::string& container) {
  return work_dir + "/logs/" + ns + "_" + pod + "_" + uid + "/" + container + "/0.log";
}

size_t TailOffset(std::string_view text, int64_t lines) {
  if (lines <= 0) return text.size();
  size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') --end;  // the last line's own newline
  while (end > 0) {
    const size_t nl = text.rfind('\n', end - 1);
    if (nl == std::string_view::npos) return 0;
    if (--lines == 0) return nl + 1;
    end = nl;
  }
  return 0;
}

k8s::Object NodeObject(const NodeSpec& node, const std::string& address, int kubelet_port,
                       k8s::WallTime now) {
  k8s::Object capacity = k8s::Object::object();
  for (const auto& [name, quantity] : node.capacity) capacity[name] = quantity.ToString();
  k8s::Object labels = k8s::Object::object();
  for (const auto& [key, value] : node.labels) labels[key] = value;
  labels[kAgentNodeLabel] = "true";
  const std::string time = k8s::FormatRfc3339(now);
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", node.name}, {"labels", labels}}},
          {"spec", k8s::Object::object()},
          {"status",
           {{"capacity", capacity},
            {"allocatable", capacity},
            {"addresses",
             {{{"type", "InternalIP"}, {"address", address}},
              {{"type", "Hostname"}, {"address", node.name}}}},
            {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", kubelet_port}}}}},
            {"nodeInfo", {{"kubeletVersion", "stepline-local-agent"}}},
            {"conditions",
             {{{"type", "Ready"},
               {"status", "True"},
               {"reason", "KubeletReady"},
               {"message", "stepline-local-agent is posting ready status"},
               {"lastHeartbeatTime", time},
               {"lastTransitionTime", time}}}}}}};
}

}  // namespace stepline::localagent
