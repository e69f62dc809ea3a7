// RunView: what the plugin shows of one PipelineExecution, read from the object as the API server
// returns it (status.steps, status.pipelineSnapshot for the graph), with the steps in DAG order.
// Pure functions over JSON: no I/O, no clock (times are strings; callers pass `now`).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "k8sclient/resource.h"

namespace stepline::cli {

struct ChildView {  // one fan-out child from status.steps[].failedChildren / runningChildren
  int64_t index = 0;
  std::string item;  // the item: a string item unquoted, anything else as JSON
  std::string phase, reason, message, job_name;
  int64_t attempts = 0;
};

struct ChildCounts {
  int64_t total = 0, succeeded = 0, failed = 0, running = 0, pending = 0;
};

struct StepView {
  std::string name;
  std::string type = "Container";  // Container, Notebook, Approval, Fail
  std::vector<std::string> depends_on;
  std::string phase = "Pending";  // the status phase; Pending when the step has no status yet
  std::string reason, message, job_name;
  std::string reused_from;  // a re-run's reused step: the run whose Job produced its result
  std::string start_time, completion_time, next_attempt_time;  // RFC 3339 or ""
  int64_t attempts = 0;
  bool fan_out = false;
  ChildCounts children;
  std::vector<ChildView> failed_children, running_children;
  std::vector<std::pair<std::string, std::string>> outputs;  // in name order
  std::string parent;  // the tree parent: the dependency latest in DAG order ("" for roots)
  int depth = 0;       // 0 for roots; 1 + the tree parent's depth

  // Container and Notebook steps run Jobs (attempts, logs); Approval and Fail steps do not.
  bool RunsJobs() const { return type == "Container" || type == "Notebook"; }
};

struct RunView {
  std::string ns, name, pipeline, status, progress, failure_reason;
  std::string creation_time, start_time, completion_time;  // RFC 3339 or ""
  std::vector<StepView> steps;                             // DAG order (see OrderSteps)
  bool Finished() const {
    return status == "Succeeded" || status == "Failed" || status == "Stopped";
  }
  const StepView* Find(const std::string& step) const;
};

// The view of a PipelineExecution object (missing fields read as empty).
RunView RunViewFromObject(const k8s::Object& execution);
// Steps of a Pipeline object's spec.steps (phases all Pending), in DAG order. A pipeline given
// as a SageMaker pipelineDefinition yields no steps (its graph is known once a run compiled it).
std::vector<StepView> StepsFromPipeline(const k8s::Object& pipeline);
// Tree order: each step's tree parent is its dependency latest in topological order (ties kept in
// declaration order), and steps come depth-first below their parents, children in topological
// order; sets parent and depth. Every step comes after its parent (not always after its other
// dependencies: StepDetails names those). Unknown dependencies are ignored; steps on a cycle
// come last, as roots.
std::vector<StepView> OrderSteps(std::vector<StepView> steps);
// The controller clears a step's reason when a retry succeeds; its StepRetrying Events keep the
// failure class ("step \"x\": attempt 1 of 4 failed (Error); ..."). Fills the reason of steps
// that have none from the latest such event.
void ApplyRetryEvents(const std::vector<k8s::Object>& events, RunView* run);
// A JSON item as a user reads it: "fr" -> fr, {"a":1} -> {"a":1}.
std::string ItemText(const k8s::Object& item);

}  // namespace stepline::cli
