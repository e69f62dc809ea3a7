// A PipelineExecution as the API server returns it mid-run: a chain, a fan-out with a failed and
// a running child, an approval step waiting, a step waiting for quota; shared by the tests.
#pragma once

#include <chrono>

#include "k8sclient/clock.h"
#include "k8sclient/resource.h"

namespace stepline::cli::testing {

inline const k8s::WallTime kNow{std::chrono::seconds(1'790'000'100)};  // 2026-09-21T14:15:00Z

inline k8s::Object ForecastRun() {
  return k8s::Object::parse(R"({
  "apiVersion": "stepline.dev/v1alpha1", "kind": "PipelineExecution",
  "metadata": {"name": "forecast-1", "namespace": "ml", "creationTimestamp": "2026-09-21T14:13:20Z"},
  "spec": {"pipelineName": "forecast"},
  "status": {
    "pipelineExecutionStatus": "Executing", "progress": "4/9",
    "startTime": "2026-09-21T14:13:20Z",
    "pipelineSnapshot": {"steps": [
      {"name": "prepare", "image": "x"},
      {"name": "train", "dependsOn": ["prepare"], "forEach": "[\"fr\",\"ch\",\"de\",\"us\"]"},
      {"name": "quota-hog", "dependsOn": ["prepare"]},
      {"name": "evaluate", "dependsOn": ["train", "quota-hog"]},
      {"name": "approve", "type": "Approval", "dependsOn": ["evaluate"]},
      {"name": "register", "dependsOn": ["approve"]}
    ]},
    "steps": [
      {"name": "prepare", "phase": "Succeeded", "attempts": 2, "reason": "Error",
       "startTime": "2026-09-21T14:13:20Z", "completionTime": "2026-09-21T14:13:32Z",
       "outputs": {"rows": "1200"}},
      {"name": "train", "phase": "Running", "startTime": "2026-09-21T14:13:32Z",
       "children": {"total": 4, "succeeded": 2, "failed": 1, "running": 1, "pending": 0},
       "failedChildren": [{"index": 1, "item": "\"ch\"", "phase": "Failed", "reason": "OOMKilled",
                           "attempts": 1, "jobName": "forecast-1-train-1-1"}],
       "runningChildren": [{"index": 3, "item": "\"us\"", "phase": "Running", "attempts": 1}]},
      {"name": "quota-hog", "phase": "WaitingForQuota",
       "message": "exceeded quota: compute, requested: requests.cpu=4, used: requests.cpu=2, limited: requests.cpu=4"},
      {"name": "evaluate", "phase": "Pending"},
      {"name": "approve", "phase": "Pending"},
      {"name": "register", "phase": "Pending"}
    ]
  }})");
}

}  // namespace stepline::cli::testing
