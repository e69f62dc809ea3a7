// Simulated nodes: "name=n1,cpu=4,memory=8Gi,nvidia.com/gpu=1" (the --node flag and the lines
// of the agent's node ConfigMap). Pure functions; no shared state.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "k8sclient/status.h"
#include "localagent/resources.h"

namespace stepline::localagent {

struct NodeSpec {
  std::string name;
  ResourceList capacity;                      // always has "pods" (110 unless given)
  std::map<std::string, std::string> labels;  // kubernetes.io/hostname, os, arch

  bool operator==(const NodeSpec& o) const {
    return name == o.name && capacity == o.capacity && labels == o.labels;
  }
};

// Every key except "name" is a resource; "name" is required.
k8s::Result<NodeSpec> ParseNodeSpec(const std::string& text);
// One spec per non-empty line; '#' starts a comment. Errors name the line.
k8s::Result<std::vector<NodeSpec>> ParseNodeSpecLines(const std::string& text);
// Back to "name=n1,cpu=4,memory=8Gi,pods=110".
std::string FormatNodeSpec(const NodeSpec& node);
// A node sized like this machine: cpu = online CPUs, memory = MemTotal.
NodeSpec LocalMachineNode(const std::string& name);

}  // namespace stepline::localagent
