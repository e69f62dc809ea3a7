#include "localagent/agent_nodes.h"

#include <sstream>

#include "k8sclient/object_fields.h"

namespace stepline::localagent {

using k8s::ObjectField;
using k8s::StringField;

NodeRegistry::NodeRegistry(std::vector<NodeSpec> static_nodes) : static_(std::move(static_nodes)) {}

std::vector<NodeSpec> NodeRegistry::Nodes() const {
  k8s::MutexLock lock(mu_);
  std::vector<NodeSpec> all = static_;
  for (const auto& node : dynamic_) {
    bool shadowed = false;
    for (const auto& s : static_) shadowed = shadowed || s.name == node.name;
    if (!shadowed) all.push_back(node);
  }
  return all;
}

bool NodeRegistry::Has(const std::string& name) const {
  for (const auto& node : Nodes()) {
    if (node.name == name) return true;
  }
  return false;
}

bool NodeRegistry::SetDynamic(std::vector<NodeSpec> nodes) {
  k8s::MutexLock lock(mu_);
  if (nodes == dynamic_) return false;
  dynamic_ = std::move(nodes);
  return true;
}

namespace {

// The lines of "nodes" without the one named `name`.
std::string WithoutNode(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    auto parsed = ParseNodeSpec(line.substr(0, line.find('#')));
    if (parsed.ok() && parsed->name == name) continue;
    if (!line.empty()) out += line + "\n";
  }
  return out;
}

k8s::Status EditNodes(k8s::Client& client, const std::string& ns, const std::string& name,
                      const std::string& add_line) {
  for (int attempt = 0; attempt < 10; ++attempt) {
    auto cm = client.Get(k8s::resources::kConfigMaps, ns, kAgentConfigMap);
    if (!cm.ok() && !cm.status().IsNotFound()) return cm.status();
    if (!cm.ok()) {
      k8s::Object fresh = {{"apiVersion", "v1"},
                           {"kind", "ConfigMap"},
                           {"metadata", {{"name", kAgentConfigMap}, {"namespace", ns}}},
                           {"data", {{kNodesKey, add_line}}}};
      auto created = client.Create(k8s::resources::kConfigMaps, ns, fresh);
      if (created.ok() || !created.status().IsAlreadyExists()) return created.status();
      continue;
    }
    k8s::Object obj = *cm;
    const std::string current = StringField(ObjectField(obj, "data"), kNodesKey);
    obj["data"][kNodesKey] = WithoutNode(current, name) + add_line;
    auto updated = client.Update(k8s::resources::kConfigMaps, ns, obj);
    if (updated.ok() || !updated.status().IsConflict()) return updated.status();
  }
  return k8s::Status::Conflict("the node ConfigMap kept changing; try again");
}

}  // namespace

k8s::Status AddNodeToConfigMap(k8s::Client& client, const std::string& ns, const NodeSpec& node) {
  return EditNodes(client, ns, node.name, FormatNodeSpec(node) + "\n");
}

k8s::Status RemoveNodeFromConfigMap(k8s::Client& client, const std::string& ns,
                                    const std::string& name) {
  return EditNodes(client, ns, name, "");
}

}  // namespace stepline::localagent
