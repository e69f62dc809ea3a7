// The kubelet's log endpoint, the pure parts: the request path, the file a container's log is in,
// the last N lines, and the Node object that publishes the endpoint. No I/O; safe from any thread.
#pragma once

#include <string>
#include <string_view>

#include "k8sclient/clock.h"
#include "k8sclient/resource.h"
#include "localagent/node_spec.h"

namespace stepline::localagent {

struct ContainerLogTarget {
  std::string ns, pod, container;
};

// "/containerLogs/NS/POD/CONTAINER" (the kubelet's path); false for anything else.
bool ParseContainerLogsPath(const std::string& path, ContainerLogTarget* out);
// <work_dir>/logs/<ns>_<pod>_<uid>/<container>/0.log: where the kubelet part writes the log.
std::string ContainerLogPath(const std::string& work_dir, const std::string& ns,
                             const std::string& pod, const std::string& uid,
                             const std::string& container);
// The offset in text where its last `lines` lines start (a final line without '\n' counts).
size_t TailOffset(std::string_view text, int64_t lines);
// The Node a simulated node is published as: capacity/allocatable, labels, Ready, and the kubelet
// endpoint (status.addresses InternalIP/Hostname, status.daemonEndpoints.kubeletEndpoint.Port).
k8s::Object NodeObject(const NodeSpec& node, const std::string& address, int kubelet_port,
                       k8s::WallTime now);

// The label on the Node objects the agent publishes (so it removes only its own).
inline constexpr const char* kAgentNodeLabel = "stepline.dev/local-agent";

}  // namespace stepline::localagent
