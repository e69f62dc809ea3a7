// The step graph: which step waits for which (DESIGN.md sections 1 and 2, `dependsOn`).
//
// BuildGraph checks the rules a Pipeline must follow (unique names, known dependencies, no step
// depending on itself, no cycles) and indexes the graph; ReadySteps and BlockedSteps answer the
// planner's questions from each step's state. Steps are identified by their declaration index.
// Everything is linear or O((steps + edges) log steps) and iterative, so a 10,000-step chain is
// no problem. A Graph is immutable after BuildGraph and safe to share between threads.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "k8sclient/status.h"

namespace stepline::reconcilers {

struct StepDependencies {
  std::string name;
  std::vector<std::string> depends_on;
};

class Graph {
 public:
  size_t size() const { return names_.size(); }
  const std::string& Name(size_t step) const { return names_[step]; }
  std::optional<size_t> IndexOf(std::string_view name) const;
  // The steps `step` waits for, in its dependsOn order (a repeated name counts once).
  const std::vector<size_t>& Dependencies(size_t step) const { return dependencies_[step]; }
  // The steps that wait for `step`, in declaration order.
  const std::vector<size_t>& Dependents(size_t step) const { return dependents_[step]; }
  // Every step after its dependencies; among the steps free to go, the first declared first.
  const std::vector<size_t>& TopologicalOrder() const { return order_; }

 private:
  friend k8s::Result<Graph> BuildGraph(const std::vector<StepDependencies>& steps);

  std::vector<std::string> names_;
  std::unordered_map<std::string, size_t> index_;
  std::vector<std::vector<size_t>> dependencies_;
  std::vector<std::vector<size_t>> dependents_;
  std::vector<size_t> order_;
};

// Errors (Invalid), the first found in declaration order:
//   duplicate step name "train"
//   step "train" depends on itself
//   step "train" depends on unknown step "prep"
//   dependency cycle: a -> b -> c -> a      ("x -> y": x depends on y; starts at the first
//                                             declared step of the cycle)
k8s::Result<Graph> BuildGraph(const std::vector<StepDependencies>& steps);

// What the planner knows about a step. A dependent may run once each dependency is
// kDonePassable (Succeeded, Skipped, or Failed with onFailure: Continue); kDoneBlocking (Failed,
// Stopped) means it never will.
enum class StepState { kNotStarted, kRunning, kDonePassable, kDoneBlocking };

using StepStateFn = std::function<StepState(size_t step)>;

// The kNotStarted steps whose dependencies are all kDonePassable, in declaration order.
std::vector<size_t> ReadySteps(const Graph& graph, const StepStateFn& state_of);

// The kNotStarted steps that can never run because a dependency, direct or transitive, is
// kDoneBlocking, in declaration order.
std::vector<size_t> BlockedSteps(const Graph& graph, const StepStateFn& state_of);

}  // namespace stepline::reconcilers
