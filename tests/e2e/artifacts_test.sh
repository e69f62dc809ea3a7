#!/usr/bin/env bash
# Step artifacts through the real API server and the controller (issue #18): admission of the
# new fields, the Pipeline's validation, the namespace's artifact repository read from its
# ConfigMap, the staging containers and volumes of the Job, ArtifactError before any Job when no
# repository is usable. Staging through the local agent and a real S3 server:
# artifacts_s3_e2e_test.sh; the S3 client itself: artifacts_s3 (tests/artifacts).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init artifacts
start_controller --artifacts-image=stepline/controller:e2e

k apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: stepline-artifact-repository}
data: {bucket: arts, prefix: runs, endpoint: "http://127.0.0.1:4568", credentialsSecret: s3-creds}
---
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: pass}
spec:
  stepDefaults: {image: busybox}
  steps:
  - name: a
    command: ["true"]
    outputs:
      artifacts: [{name: model, path: /out/model.bin}]
  - name: b
    dependsOn: [a]
    args: ["{{steps.a.artifacts.model.uri}}"]
    inputs:
      artifacts:
      - {name: model, path: /in/model.bin, from: "{{steps.a.artifacts.model}}"}
      - {name: data, path: /in/data/, s3: "s3://datasets/{{execution.name}}/"}
---
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: bad-from}
spec:
  stepDefaults: {image: busybox}
  steps:
  - {name: a, command: ["true"], outputs: {artifacts: [{name: model, path: /out/m}]}}
  - name: b
    dependsOn: [a]
    command: ["true"]
    inputs: {artifacts: [{name: w, path: /in/w, from: "{{steps.a.artifacts.weights}}"}]}
---
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: run}
spec: {pipelineName: pass}
YAML

# Admission: an input with both s3 and from is refused by the CRD's rule.
both=$(k apply -f - 2>&1 <<'YAML'
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: both}
spec:
  steps:
  - {name: a, image: busybox, inputs: {artifacts: [{name: x, path: /x, s3: "s3://b/k", from: "{{steps.z.artifacts.x}}"}]}}
YAML
)
check "admission refuses an input with both s3 and from" grep -q "give exactly one of s3, from and raw" <<<"$both"

# Validation names the step and the field.
check "bad-from is not Ready" wait_for 30 bash -c \
  "[[ \$(kubectl -n $NS get pl bad-from -o 'jsonpath={.status.conditions[?(@.type==\"Ready\")].status}') == False ]]"
check_eq "bad-from's message names step, field and artifact" \
  'spec.steps[1] (b).inputs.artifacts[0].from: step "a" declares no output artifact "weights" (outputs.artifacts: model) in {{steps.a.artifacts.weights}}' \
  "$(jp pl/bad-from '{.status.conditions[?(@.type=="Ready")].message}')"
check_eq "outputs.artifacts survive the server" "/out/m" \
  "$(jp pl/bad-from '{.spec.steps[0].outputs.artifacts[0].path}')"

# The Job of step a: the repository's URI, its endpoint and Secret, a native sidecar.
check "run-a-1 is created" wait_for 60 k get job run-a-1
uri="s3://arts/runs/$NS/run/a/attempt-1/model"
check_eq "the Job records the output's URI" "{\"model\":\"$uri\"}" \
  "$(jp job/run-a-1 '{.metadata.annotations.stepline\.dev/artifacts}')"
spec() { jp job/run-a-1 "{.spec.template.spec.$1}"; }
check_eq "one upload sidecar" "artifact-out-0 Always stepline/controller:e2e" \
  "$(spec 'initContainers[*].name') $(spec 'initContainers[0].restartPolicy') $(spec 'initContainers[0].image')"
check_eq "it uploads the file to the URI through the repository's endpoint" \
  "stepline-artifacts upload /stepline/artifacts/out/0/model.bin $uri --wait-for-term --error-file /dev/termination-log --endpoint http://127.0.0.1:4568 --credentials-dir /stepline/credentials" \
  "$(spec 'initContainers[0].command[*]')"
check_eq "the step's container mounts the output's directory" "/out out/0" \
  "$(spec 'containers[0].volumeMounts[0].mountPath') $(spec 'containers[0].volumeMounts[0].subPath')"
check_eq "an emptyDir and the credentials Secret" "stepline-artifacts s3-creds" \
  "$(spec 'volumes[0].name') $(spec 'volumes[1].secret.secretName')"
# The local agent runs the staging containers and mounts the volumes; here the credentials Secret does not exist, so the pod waits for it as on a cluster.
check "step a's pod waits for the credentials Secret (FailedMount)" wait_for 60 bash -c \
  "kubectl -n $NS get events --field-selector reason=FailedMount -o jsonpath='{.items[*].message}' | grep -qF 'secret \"s3-creds\" not found'"
check_eq "no URI is recorded while a has not succeeded" "" "$(step_field run a artifacts)"

# No repository: an output without s3 fails the step before any Job, naming the ConfigMap.
k delete configmap stepline-artifact-repository >/dev/null
k apply -f - >/dev/null <<'YAML'
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: norepo}
spec: {pipelineName: pass}
YAML
check "norepo fails" wait_for 60 plx_is norepo Failed
check_eq "reason ArtifactError" "ArtifactError" "$(step_field norepo a reason)"
check "the message names the ConfigMap" grep -q \
  "output artifact \"model\" gives no s3 and namespace $NS has no ConfigMap stepline-artifact-repository" \
  <<<"$(step_field norepo a message)"
check_eq "no Job was created" "0" "$(count_jobs norepo)"

# An invalid repository: the message names the ConfigMap and its key.
k apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: stepline-artifact-repository}
data: {bucket: arts, pathStyle: "yes"}
---
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: badrepo}
spec: {pipelineName: pass}
YAML
check "badrepo fails" wait_for 60 plx_is badrepo Failed
check "the message names the ConfigMap's key" grep -q \
  "ConfigMap $NS/stepline-artifact-repository: data.pathStyle: must be \"true\" or \"false\" (got \"yes\")" \
  <<<"$(step_field badrepo a message)"
e2e_finish
