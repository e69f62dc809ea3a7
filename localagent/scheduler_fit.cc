#include "localagent/scheduler_fit.h"

#include <algorithm>

namespace stepline::localagent {

namespace {

constexpr const char* kSelectorMismatch = "node(s) didn't match Pod's node affinity/selector";
constexpr const char* kNoVictims = "No preemption victims found for incoming pod";
constexpr const char* kPreemptionNotHelpful = "Preemption is not helpful for scheduling";

// "3 Insufficient cpu, 1 Too many pods": counts per reason, sorted as strings (as the
// scheduler's FitError does, count included).
std::string Histogram(const std::map<std::string, int>& counts) {
  std::vector<std::string> parts;
  parts.reserve(counts.size());
  for (const auto& [reason, count] : counts) parts.push_back(std::to_string(count) + " " + reason);
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : ", ") + part;
  return out;
}

double FreeFraction(const NodeUsage& usage, const ResourceList& requests, const char* name) {
  auto cap = usage.node.capacity.find(name);
  if (cap == usage.node.capacity.end() || cap->second.MilliValue() <= 0) return 0;
  int64_t used = 0;
  if (auto it = usage.requested.find(name); it != usage.requested.end()) {
    used = it->second.MilliValue();
  }
  if (auto it = requests.find(name); it != requests.end()) used += it->second.MilliValue();
  const double total = static_cast<double>(cap->second.MilliValue());
  return (total - static_cast<double>(used)) / total;
}

std::string FailureMessage(const std::vector<NodeUsage>& nodes,
                           const std::vector<std::vector<std::string>>& failures) {
  std::map<std::string, int> reasons;
  std::map<std::string, int> preemption;
  for (const auto& node_failures : failures) {
    bool unresolvable = false;
    for (const auto& reason : node_failures) {
      ++reasons[reason];
      unresolvable = unresolvable || reason == kSelectorMismatch;
    }
    ++preemption[unresolvable ? kPreemptionNotHelpful : kNoVictims];
  }
  const std::string total = std::to_string(nodes.size());
  return "0/" + total + " nodes are available: " + Histogram(reasons) + ". preemption: 0/" + total +
         " nodes are available: " + Histogram(preemption) + ".";
}

}  // namespace

std::vector<std::string> NodeFitFailures(const ResourceList& requests,
                                         const std::map<std::string, std::string>& node_selector,
                                         const NodeUsage& usage) {
  for (const auto& [key, value] : node_selector) {
    auto it = usage.node.labels.find(key);
    if (it == usage.node.labels.end() || it->second != value) return {kSelectorMismatch};
  }
  std::vector<std::string> failures;
  auto max_pods = usage.node.capacity.find("pods");
  if (max_pods != usage.node.capacity.end() && usage.pod_count + 1 > max_pods->second.Value()) {
    failures.push_back("Too many pods");
  }
  for (const auto& [name, quantity] : requests) {
    if (quantity.IsZero() || name == "pods") continue;
    auto cap = usage.node.capacity.find(name);
    const int64_t capacity = cap == usage.node.capacity.end() ? 0 : cap->second.MilliValue();
    auto used = usage.requested.find(name);
    const int64_t in_use = used == usage.requested.end() ? 0 : used->second.MilliValue();
    if (in_use + quantity.MilliValue() > capacity) failures.push_back("Insufficient " + name);
  }
  return failures;
}

ScheduleResult SchedulePod(const ResourceList& requests,
                           const std::map<std::string, std::string>& node_selector,
                           const std::vector<NodeUsage>& nodes) {
  if (nodes.empty()) return {"", "no nodes available to schedule pods"};
  std::vector<std::vector<std::string>> failures;
  const NodeUsage* best = nullptr;
  double best_score = -1;
  for (const auto& usage : nodes) {
    auto node_failures = NodeFitFailures(requests, node_selector, usage);
    if (!node_failures.empty()) {
      failures.push_back(std::move(node_failures));
      continue;
    }
    const double score =
        (FreeFraction(usage, requests, "cpu") + FreeFraction(usage, requests, "memory")) / 2;
    if (best == nullptr || score > best_score ||
        (score == best_score && usage.node.name < best->node.name)) {
      best = &usage;
      best_score = score;
    }
  }
  if (best != nullptr) return {best->node.name, ""};
  return {"", FailureMessage(nodes, failures)};
}

}  // namespace stepline::localagent
