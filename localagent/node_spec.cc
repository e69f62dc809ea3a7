#include "localagent/node_spec.h"

#include <unistd.h>

#include <sstream>

#include "localagent/file_util.h"

namespace stepline::localagent {

namespace {

constexpr int64_t kDefaultMaxPods = 110;

std::string Trim(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return {};
  const size_t end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

void AddDefaults(NodeSpec* node) {
  node->capacity.emplace("pods", k8s::Quantity::FromValue(kDefaultMaxPods));
  node->labels["kubernetes.io/hostname"] = node->name;
  node->labels["kubernetes.io/os"] = "linux";
  node->labels["kubernetes.io/arch"] = "amd64";
}

}  // namespace

k8s::Result<NodeSpec> ParseNodeSpec(const std::string& text) {
  NodeSpec node;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    item = Trim(item);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return k8s::Status::InvalidArgument("node \"" + text + "\": \"" + item +
                                          "\" is not key=value");
    }
    const std::string key = item.substr(0, eq);
    const std::string value = item.substr(eq + 1);
    if (key == "name") {
      node.name = value;
      continue;
    }
    auto quantity = k8s::Quantity::Parse(value);
    if (!quantity.ok()) {
      return k8s::Status::InvalidArgument("node \"" + text + "\": " + key + ": " +
                                          quantity.status().message());
    }
    node.capacity[key] = *quantity;
  }
  if (node.name.empty()) {
    return k8s::Status::InvalidArgument("node \"" + text + "\": name=... is required");
  }
  AddDefaults(&node);
  return node;
}

k8s::Result<std::vector<NodeSpec>> ParseNodeSpecLines(const std::string& text) {
  std::vector<NodeSpec> nodes;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    line = Trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    auto node = ParseNodeSpec(line);
    if (!node.ok()) {
      return k8s::Status::InvalidArgument("line " + std::to_string(number) + ": " +
                                          node.status().message());
    }
    nodes.push_back(*node);
  }
  return nodes;
}

std::string FormatNodeSpec(const NodeSpec& node) {
  std::string out = "name=" + node.name;
  for (const auto& [name, quantity] : node.capacity) out += "," + name + "=" + quantity.ToString();
  return out;
}

NodeSpec LocalMachineNode(const std::string& name) {
  NodeSpec node;
  node.name = name;
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  node.capacity["cpu"] = k8s::Quantity::FromValue(cpus > 0 ? cpus : 1);
  int64_t mem_kib = 0;
  std::istringstream meminfo(ReadWholeFile("/proc/meminfo").value_or(""));
  std::string key;
  while (meminfo >> key) {
    if (key == "MemTotal:") {
      meminfo >> mem_kib;
      break;
    }
  }
  node.capacity["memory"] =
      k8s::Quantity::FromValue(mem_kib * 1024, k8s::Quantity::Format::kBinarySI);
  AddDefaults(&node);
  return node;
}

}  // namespace stepline::localagent
