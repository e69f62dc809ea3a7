// Objects of both kinds with every field set, in canonical form (unset fields omitted): the
// fixtures of the JSON round-trip unit tests and of the status round trip through the real API
// server (tests/e2e/status_schema_test.cc).
#pragma once

#include "reconcilers/api_types.h"

namespace stepline::reconcilers::fixtures {

// Every field of a Pipeline, in canonical form (unset fields omitted).
inline Json FullPipeline() {
  return Json::parse(R"({
    "apiVersion": "stepline.dev/v1alpha1", "kind": "Pipeline",
    "metadata": {"name": "forecast", "namespace": "ml", "uid": "u-1", "generation": 4,
                 "resourceVersion": "812", "labels": {"team": "fc"},
                 "annotations": {"a": "b"}, "creationTimestamp": "2026-01-01T00:00:00Z"},
    "spec": {
      "pipelineName": "forecast-ack", "pipelineDisplayName": "Forecast training",
      "pipelineDescription": "One model per horizon", "roleARN": "arn:aws:iam::1:role/x",
      "tags": [{"key": "cost-center", "value": "42"}],
      "parameters": [
        {"name": "horizon", "type": "String", "default": "1d", "enum": ["1d", "1w"],
         "description": "how far ahead"},
        {"name": "countries", "type": "List", "default": "[\"fr\",\"de\"]"},
        {"name": "epochs", "type": "Integer"},
        {"name": "minAccuracy", "type": "Float", "default": "0.8"},
        {"name": "dryRun", "type": "Boolean", "default": "false"}],
      "parallelismConfiguration": {"maxParallelExecutionSteps": 4},
      "serviceAccountName": "trainer",
      "stepDefaults": {"image": "registry.example/ml:1.4",
                       "resources": {"requests": {"cpu": "1", "memory": "2Gi"}},
                       "retryPolicy": {"maxAttempts": 3, "intervalSeconds": 30, "backoffRate": 2},
                       "cache": {"enabled": false, "expireAfter": "P30D"}},
      "steps": [
        {"name": "train", "type": "Container", "dependsOn": ["prepare"], "image": "img:2",
         "command": ["sh", "-c"], "args": ["echo {{item}}"],
         "env": [{"name": "A", "value": "1"},
                 {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k",
                                                              "optional": true}}},
                 {"name": "C", "valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}],
         "workingDir": "/work",
         "resources": {"requests": {"cpu": "4", "nvidia.com/gpu": "1"},
                       "limits": {"memory": "16Gi"}},
         "nodeSelector": {"pool": "gpu"},
         "tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}],
         "timeoutSeconds": 1800,
         "retryPolicy": {"maxAttempts": 5, "intervalSeconds": 30, "backoffRate": 2.5,
                         "maxIntervalSeconds": 600, "expireAfterMinutes": 240,
                         "retryOn": ["Error", "OOMKilled"]},
         "onFailure": "Continue", "when": "{{parameters.horizon}} == 1d",
         "forEach": "{{parameters.countries}}", "maxParallel": 2,
         "inputs": {"artifacts": [{"name": "data", "path": "/in/data/",
                                   "s3": "s3://datasets/{{item}}/"}]},
         "outputs": {"parameters": ["accuracy"],
                     "artifacts": [{"name": "model", "path": "/out/model.bin"},
                                   {"name": "report", "path": "/report/",
                                    "s3": "s3://reports/{{item}}"}]}},
        {"name": "approve", "type": "Approval", "dependsOn": ["train"]},
        {"name": "stop", "type": "Fail", "message": "accuracy too low", "onFailure": "Fail"}]
    },
    "status": {"observedGeneration": 4, "stepCount": 3,
               "conditions": [{"type": "Ready", "status": "False", "reason": "InvalidDefinition",
                               "message": "spec.steps[1]: cycle",
                               "lastTransitionTime": "2026-01-02T03:04:05Z",
                               "observedGeneration": 4}]}
  })");
}

inline Json FullExecution() {
  return Json::parse(R"({
    "apiVersion": "stepline.dev/v1alpha1", "kind": "PipelineExecution",
    "metadata": {"name": "forecast-weekly-42", "namespace": "ml", "uid": "u-2", "generation": 2,
                 "resourceVersion": "900", "labels": {"pl": "forecast"},
                 "finalizers": ["x/y"]},
    "spec": {
      "pipelineName": "forecast", "pipelineExecutionDisplayName": "weekly",
      "pipelineExecutionDescription": "Weekly retrain",
      "pipelineParameters": [{"name": "horizon", "value": "1w"}],
      "parallelismConfiguration": {"maxParallelExecutionSteps": 2},
      "timeoutSeconds": 86400, "stop": false,
      "signals": [{"step": "approve", "outcome": "Succeeded", "message": "ok by alice",
                   "outputs": {"ticket": "T-1"}},
                  {"step": "gate", "outcome": "Failed"}],
      "selectiveExecutionConfig": {"sourcePipelineExecutionName": "forecast-weekly-41",
                                   "sourcePipelineExecutionARN": "arn:x",
                                   "selectedSteps": [{"stepName": "train"}]}
    },
    "status": {
      "observedGeneration": 2, "pipelineExecutionStatus": "Executing", "failureReason": "none",
      "progress": "3/7", "startTime": "2026-01-01T00:00:00Z",
      "completionTime": "2026-01-01T02:00:00Z", "lastModifiedTime": "2026-01-01T01:00:00Z",
      "pipelineGeneration": 4, "pipelineSnapshot": {"steps": [{"name": "train"}], "x": [1, 2]},
      "steps": [
        {"name": "train", "phase": "Running", "attempts": 2,
         "jobName": "forecast-weekly-42-train-0-2", "reason": "OOMKilled",
         "message": "attempt 1 OOMKilled; retrying in 60s",
         "nextAttemptTime": "2026-01-01T00:10:00Z", "startTime": "2026-01-01T00:01:00Z",
         "completionTime": "2026-01-01T00:20:00Z", "outputs": {"accuracy": "0.91"},
         "artifacts": {"model": "[\"s3://a/ml/r/train/0/attempt-1/model\",null]"},
         "storedOutputs": [{"name": "score", "bytes": 2030001, "items": 10000,
                            "configMaps": ["r-train-outputs-score-00", "r-train-outputs-score-01"]}],
         "storedArtifacts": [{"name": "m", "bytes": 70000, "items": 1500,
                              "configMaps": ["r-train-artifacts-m-00"]}],
         "children": {"total": 3, "succeeded": 1, "failed": 1, "running": 1, "pending": 0},
         "failedChildren": [{"index": 2, "item": "\"us\"", "phase": "Failed", "attempts": 3,
                             "jobName": "j-2", "reason": "Error", "message": "exit 1",
                             "nextAttemptTime": "2026-01-01T00:11:00Z"}],
         "runningChildren": [{"index": 0, "phase": "Running", "attempts": 1}]},
        {"name": "approve", "phase": "Waiting"}],
      "conditions": [
        {"type": "Succeeded", "status": "Unknown", "reason": "Running",
         "message": "2 steps running", "lastTransitionTime": "2026-01-01T00:00:00Z",
         "observedGeneration": 2},
        {"type": "Ready", "status": "Unknown", "reason": "Running"}]
    }
  })");
}

}  // namespace stepline::reconcilers::fixtures
