#include "reconcilers/graph.h"

#include <algorithm>
#include <queue>
#include <utility>

namespace stepline::reconcilers {
namespace {

using k8s::Result;
using k8s::Status;

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

// Resolves every dependsOn name to an index; `last_added[j] == i` marks j as already a
// dependency of i, which drops repeats in linear time.
Status ResolveDependencies(const std::vector<StepDependencies>& steps,
                           const std::unordered_map<std::string, size_t>& index,
                           std::vector<std::vector<size_t>>* dependencies) {
  constexpr size_t kNone = static_cast<size_t>(-1);
  std::vector<size_t> last_added(steps.size(), kNone);
  for (size_t i = 0; i < steps.size(); ++i) {
    for (const std::string& dep : steps[i].depends_on) {
      if (dep == steps[i].name) {
        return Status::Invalid("step " + Quoted(dep) + " depends on itself");
      }
      auto it = index.find(dep);
      if (it == index.end()) {
        return Status::Invalid("step " + Quoted(steps[i].name) + " depends on unknown step " +
                               Quoted(dep));
      }
      if (last_added[it->second] == i) continue;
      last_added[it->second] = i;
      (*dependencies)[i].push_back(it->second);
    }
  }
  return Status::Ok();
}

// Kahn's algorithm with a min-heap: the smallest ready index goes first.
std::vector<size_t> TopologicalOrder(const std::vector<std::vector<size_t>>& dependencies,
                                     const std::vector<std::vector<size_t>>& dependents) {
  std::vector<size_t> waiting(dependencies.size());
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t i = 0; i < dependencies.size(); ++i) {
    waiting[i] = dependencies[i].size();
    if (waiting[i] == 0) ready.push(i);
  }
  std::vector<size_t> order;
  order.reserve(dependencies.size());
  while (!ready.empty()) {
    size_t step = ready.top();
    ready.pop();
    order.push_back(step);
    for (size_t dependent : dependents[step]) {
      if (--waiting[dependent] == 0) ready.push(dependent);
    }
  }
  return order;
}

// Called when `order` misses some steps: each of those waits for another one of them, so
// following such dependencies from the first missing step must come back to a step already
// on the path. Iterative, linear.
Status CycleError(const Graph& graph, const std::vector<std::vector<size_t>>& dependencies,
                  const std::vector<size_t>& order) {
  constexpr size_t kNone = static_cast<size_t>(-1);
  std::vector<bool> ordered(dependencies.size(), false);
  for (size_t step : order) ordered[step] = true;
  std::vector<size_t> position(dependencies.size(), kNone);
  std::vector<size_t> path;
  size_t step =
      static_cast<size_t>(std::find(ordered.begin(), ordered.end(), false) - ordered.begin());
  while (position[step] == kNone) {
    position[step] = path.size();
    path.push_back(step);
    const std::vector<size_t>& deps = dependencies[step];
    step = *std::find_if(deps.begin(), deps.end(), [&](size_t d) { return !ordered[d]; });
  }
  std::vector<size_t> cycle(path.begin() + static_cast<std::ptrdiff_t>(position[step]), path.end());
  std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
  std::string text;
  for (size_t s : cycle) text += graph.Name(s) + " -> ";
  return Status::Invalid("dependency cycle: " + text + graph.Name(cycle.front()));
}

std::vector<StepState> StatesOf(const Graph& graph, const StepStateFn& state_of) {
  std::vector<StepState> states(graph.size());
  for (size_t i = 0; i < graph.size(); ++i) states[i] = state_of(i);
  return states;
}

}  // namespace

std::optional<size_t> Graph::IndexOf(std::string_view name) const {
  auto it = index_.find(std::string(name));
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

Result<Graph> BuildGraph(const std::vector<StepDependencies>& steps) {
  Graph graph;
  graph.names_.reserve(steps.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    if (!graph.index_.emplace(steps[i].name, i).second) {
      return Status::Invalid("duplicate step name " + Quoted(steps[i].name));
    }
    graph.names_.push_back(steps[i].name);
  }
  graph.dependencies_.resize(steps.size());
  Status resolved = ResolveDependencies(steps, graph.index_, &graph.dependencies_);
  if (!resolved.ok()) return resolved;
  graph.dependents_.resize(steps.size());
  for (size_t i = 0; i < steps.size(); ++i) {
    for (size_t dep : graph.dependencies_[i]) graph.dependents_[dep].push_back(i);
  }
  graph.order_ = TopologicalOrder(graph.dependencies_, graph.dependents_);
  if (graph.order_.size() < steps.size()) {
    return CycleError(graph, graph.dependencies_, graph.order_);
  }
  return graph;
}

std::vector<size_t> ReadySteps(const Graph& graph, const StepStateFn& state_of) {
  std::vector<StepState> states = StatesOf(graph, state_of);
  std::vector<size_t> ready;
  for (size_t i = 0; i < graph.size(); ++i) {
    if (states[i] != StepState::kNotStarted) continue;
    const std::vector<size_t>& deps = graph.Dependencies(i);
    if (std::all_of(deps.begin(), deps.end(),
                    [&](size_t d) { return states[d] == StepState::kDonePassable; })) {
      ready.push_back(i);
    }
  }
  return ready;
}

std::vector<size_t> BlockedSteps(const Graph& graph, const StepStateFn& state_of) {
  std::vector<StepState> states = StatesOf(graph, state_of);
  std::vector<bool> blocked(graph.size(), false);
  for (size_t step : graph.TopologicalOrder()) {  // dependencies are decided first
    if (states[step] != StepState::kNotStarted) continue;
    const std::vector<size_t>& deps = graph.Dependencies(step);
    blocked[step] = std::any_of(deps.begin(), deps.end(), [&](size_t d) {
      return states[d] == StepState::kDoneBlocking || blocked[d];
    });
  }
  std::vector<size_t> result;
  for (size_t i = 0; i < graph.size(); ++i) {
    if (blocked[i]) result.push_back(i);
  }
  return result;
}

}  // namespace stepline::reconcilers
