// NodeRegistry: the simulated nodes. Those given on the command line, plus those listed in
// the ConfigMap <namespace>/stepline-local-agent under "nodes" (one spec per line), which the
// agent watches so that nodes can be added while it runs (stepline-local-agent --add-node).
//
// Thread-safety: all methods may be called from any thread; the ConfigMap's nodes are
// GUARDED_BY mu_.
#pragma once

#include <string>
#include <vector>

#include "k8sclient/client.h"
#include "k8sclient/thread_annotations.h"
#include "localagent/node_spec.h"

namespace stepline::localagent {

inline constexpr const char* kAgentConfigMap = "stepline-local-agent";
inline constexpr const char* kNodesKey = "nodes";

class NodeRegistry {
 public:
  explicit NodeRegistry(std::vector<NodeSpec> static_nodes);
  std::vector<NodeSpec> Nodes() const EXCLUDES(mu_);
  bool Has(const std::string& name) const EXCLUDES(mu_);
  // Replaces the nodes that came from the ConfigMap. True when the set of nodes changed.
  bool SetDynamic(std::vector<NodeSpec> nodes) EXCLUDES(mu_);

 private:
  mutable k8s::Mutex mu_;
  const std::vector<NodeSpec> static_;  // constant after construction
  std::vector<NodeSpec> dynamic_ GUARDED_BY(mu_);
};

// One-shot edits of the node ConfigMap (create it when missing; retried on conflicts).
// add: replaces a line with the same name. Returns what the API said.
k8s::Status AddNodeToConfigMap(k8s::Client& client, const std::string& ns, const NodeSpec& node);
k8s::Status RemoveNodeFromConfigMap(k8s::Client& client, const std::string& ns,
                                    const std::string& name);

}  // namespace stepline::localagent
