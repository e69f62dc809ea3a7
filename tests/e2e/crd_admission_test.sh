#!/usr/bin/env bash
# The CRDs (crds/) on a real API server: they install and become Established, every example in
# manifests/examples/ is admitted (server-side dry run), and each validation rule rejects what it
# must with the API server's own message. Also: schema defaults, printer columns, the `stepline`
# category, and that spec.pipelineName of an execution is immutable while signals and stop are
# not.
#
# Needs KUBECONFIG (eval "$(testenv/up.sh)", or any cluster) and kubectl on PATH. Prints one line
# per check and "N passed, N failed"; exits non-zero when a check failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NS="crd-admission-$$-$RANDOM"
PASSED=0
FAILED=0
OUT="$(mktemp)"

pass() { PASSED=$((PASSED + 1)); echo "PASS $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1"; sed 's/^/     | /' "$OUT" | head -20; }

cleanup() {
  kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1
  kubectl delete pipelineexecutions,pipelines -n "$NS" --all --wait=false >/dev/null 2>&1
  rm -f "$OUT"
}
trap cleanup EXIT

# expect_ok NAME CMD...: the command succeeds.
expect_ok() {
  local name="$1"
  shift
  if "$@" >"$OUT" 2>&1; then pass "$name"; else fail "$name"; fi
}

# expect_rejected NAME FRAGMENT CMD...: the command fails and its output holds FRAGMENT.
expect_rejected() {
  local name="$1" fragment="$2"
  shift 2
  if "$@" >"$OUT" 2>&1; then
    echo "     (the server accepted it)" >>"$OUT"
    fail "$name"
  elif grep -qF -- "$fragment" "$OUT"; then
    pass "$name"
  else
    echo "     (expected: $fragment)" >>"$OUT"
    fail "$name"
  fi
}

dry_run() { kubectl apply --dry-run=server -n "$NS" -f -; }

# A valid Pipeline document with SPEC (YAML, indented by 2) as its spec.
pipeline() {
  printf 'apiVersion: stepline.dev/v1alpha1\nkind: Pipeline\nmetadata: {name: %s}\nspec:\n%s\n' \
    "$1" "$2"
}
# A valid PipelineExecution document named $1 with SPEC $2.
execution() {
  printf 'apiVersion: stepline.dev/v1alpha1\nkind: PipelineExecution\nmetadata: {name: %s}\nspec:\n%s\n' \
    "$1" "$2"
}
reject_pipeline() { expect_rejected "$1" "$2" dry_run < <(pipeline p "$3"); }
reject_execution() { expect_rejected "$1" "$2" dry_run < <(execution "${4:-e}" "$3"); }

STEP='  steps: [{name: a, image: i, command: [sh, -c, "true"]}]'

# ---- the CRDs install ----
expect_ok "CRDs apply (server-side)" kubectl apply --server-side --force-conflicts -f "$ROOT/crds/"
expect_ok "CRDs are Established" kubectl wait --for condition=established --timeout=60s \
  crd/pipelines.stepline.dev crd/pipelineexecutions.stepline.dev
kubectl create namespace "$NS" >/dev/null 2>&1 || true
# The ValidatingAdmissionPolicy of crds/ applies once the server's policy informer has it.
policy_in_force() {
  local i
  for i in $(seq 60); do
    if ! dry_run < <(pipeline p "$STEP
  pipelineDefinition: '{}'") >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}
expect_ok "the admission policy is in force within 30 s" policy_in_force

# ---- every example is admitted ----
# The Pipelines and PipelineExecutions of each example, moved into $NS: some examples also carry
# their own Namespace, ResourceQuota, Secret or RBAC objects, which are not what is tested here
# (this server has no RBAC API; the demo and readme tests apply those).
stepline_docs() {
  awk 'function flush() { if (doc ~ /(^|\n)apiVersion: stepline\.dev\//) printf "---\n%s", doc; doc = "" }
       /^---/ { flush(); next }
       /^  namespace: / { next }
       { doc = doc $0 "\n" }
       END { flush() }' "$1"
}
for f in "$ROOT"/manifests/examples/*.yaml; do
  docs="$(stepline_docs "$f")"
  [[ -n $docs ]] || continue
  expect_ok "example $(basename "$f") is admitted" \
    kubectl apply --dry-run=server -n "$NS" -f - <<<"$docs"
done

# ---- exactly one of steps and pipelineDefinition (ValidatingAdmissionPolicy) ----
reject_pipeline "steps and pipelineDefinition together are rejected, naming both" \
  "denied request: spec.steps and spec.pipelineDefinition are both set: a Pipeline is either native steps or a SageMaker pipeline definition; remove one of them" \
  "$STEP
  pipelineDefinition: '{\"Version\": \"2020-12-01\", \"Steps\": []}'"
reject_pipeline "neither steps nor pipelineDefinition is rejected, naming both" \
  "denied request: spec.steps or spec.pipelineDefinition is required" \
  "  pipelineDescription: nothing to run"
expect_ok "pipelineDefinition as an inline object is admitted" dry_run < <(pipeline p \
  "  pipelineDefinition: {Version: '2020-12-01', Steps: [{Name: A, Type: Fail}]}")

# ---- steps ----
expect_ok "SageMaker-style step names are admitted" dry_run < <(pipeline p \
  '  steps: [{name: AbaloneTrain, image: i}, {name: Train_Model, image: i, dependsOn: [AbaloneTrain]}]')
reject_pipeline "a step name ending in '_' is rejected" \
  "spec.steps[0].name in body should match '^[A-Za-z0-9]([-_A-Za-z0-9]*[A-Za-z0-9])?\$'" \
  '  steps: [{name: Train_, image: i}]'
reject_pipeline "a step name of 41 characters is rejected" \
  "spec.steps[0].name: Too long: may not be" \
  "  steps: [{name: $(printf 'a%.0s' {1..41}), image: i}]"
expect_ok "a step name of 40 characters is admitted" dry_run < <(pipeline p \
  "  steps: [{name: $(printf 'a%.0s' {1..40}), image: i}]")
reject_pipeline "duplicate step names are rejected" 'spec.steps[1]: Duplicate value' \
  '  steps: [{name: a, image: i}, {name: a, image: j}]'
reject_pipeline "a step depending on itself is rejected" "a step cannot depend on itself" \
  '  steps: [{name: a, image: i, dependsOn: [a]}]'
reject_pipeline "an unknown step type is rejected" \
  'spec.steps[0].type: Unsupported value: "Job"' '  steps: [{name: a, type: Job}]'
reject_pipeline "an Approval step with an image is rejected" \
  "only Container and Notebook steps take an image" \
  '  steps: [{name: a, type: Approval, image: i}]'
expect_ok "a Notebook step with typed parameters is admitted" dry_run < <(pipeline p \
  '  steps: [{name: nb, type: Notebook, image: i, notebook: {path: a.ipynb, kernel: python3, parameters: {n: 3, xs: [1, 2], h: "{{item}}"}}, forEach: "[1]"}]')
reject_pipeline "a Notebook step with a command is rejected" \
  "only Container steps take command or args" \
  '  steps: [{name: nb, type: Notebook, image: i, command: [python], notebook: {path: a.ipynb}}]'
reject_pipeline "a notebook on a Container step is rejected" "only Notebook steps take a notebook" \
  '  steps: [{name: a, image: i, notebook: {path: a.ipynb}}]'
reject_pipeline "a misspelt notebook field is rejected" 'unknown field "spec.steps[0].notebook.kernal"' \
  '  steps: [{name: nb, type: Notebook, image: i, notebook: {path: a.ipynb, kernal: python3}}]'
reject_pipeline "maxParallel without forEach is rejected" "maxParallel needs forEach" \
  '  steps: [{name: a, image: i, maxParallel: 2}]'
reject_pipeline "env with value and valueFrom is rejected" "value and valueFrom are exclusive" \
  '  steps: [{name: a, image: i, env: [{name: X, value: "1", valueFrom: {secretKeyRef: {name: s, key: k}}}]}]'
reject_pipeline "a misspelt field is rejected, not silently dropped" 'unknown field "spec.steps[0].dependOn"' \
  '  steps: [{name: a, image: i, dependOn: [b]}]'
reject_pipeline "a malformed quantity is rejected" "spec.steps[0].resources.requests.cpu in body should match" \
  '  steps: [{name: a, image: i, resources: {requests: {cpu: lots}}}]'

# ---- retry policy and parallelism ----
reject_pipeline "maxAttempts 0 is rejected" \
  "spec.steps[0].retryPolicy.maxAttempts: Invalid value: 0: spec.steps[0].retryPolicy.maxAttempts in body should be greater than or equal to 1" \
  '  steps: [{name: a, image: i, retryPolicy: {maxAttempts: 0}}]'
reject_pipeline "backoffRate 0.5 is rejected" \
  "spec.steps[0].retryPolicy.backoffRate in body should be greater than or equal to 1" \
  '  steps: [{name: a, image: i, retryPolicy: {backoffRate: 0.5}}]'
reject_pipeline "stepDefaults' backoffRate 0.5 is rejected" \
  "spec.stepDefaults.retryPolicy.backoffRate in body should be greater than or equal to 1" \
  "  stepDefaults: {retryPolicy: {backoffRate: 0.5}}
$STEP"
reject_pipeline "maxIntervalSeconds below intervalSeconds is rejected" \
  "maxIntervalSeconds must not be less than intervalSeconds" \
  '  steps: [{name: a, image: i, retryPolicy: {intervalSeconds: 60, maxIntervalSeconds: 10}}]'
reject_pipeline "maxParallelExecutionSteps 0 is rejected" \
  "spec.parallelismConfiguration.maxParallelExecutionSteps in body should be greater than or equal to 1" \
  "  parallelismConfiguration: {maxParallelExecutionSteps: 0}
$STEP"
reject_pipeline "a parameter default outside its enum is rejected" "default must be one of enum" \
  "  parameters: [{name: h, default: 2d, enum: [1d, 1w]}]
$STEP"
reject_execution "an execution's maxParallelExecutionSteps 0 is rejected" \
  "spec.parallelismConfiguration.maxParallelExecutionSteps in body should be greater than or equal to 1" \
  '  pipelineName: p
  parallelismConfiguration: {maxParallelExecutionSteps: 0}'

# ---- executions ----
reject_execution "an execution without pipelineName is rejected" 'spec.pipelineName: Required value' \
  '  stop: false'
reject_execution "a signal outcome outside the enum is rejected" \
  'spec.signals[0].outcome: Unsupported value: "Approved": supported values: "Succeeded", "Failed"' \
  '  pipelineName: p
  signals: [{step: approve, outcome: Approved}]'
reject_execution "an execution name over 63 characters is rejected" "metadata.name: Too long" \
  '  pipelineName: p' "$(printf 'e%.0s' {1..64})"

# ---- defaults, printer columns, category (real objects) ----
expect_ok "the forecast pipeline is created" kubectl apply -n "$NS" \
  -f "$ROOT/manifests/examples/forecast-pipeline.yaml"
expect_ok "step type and onFailure get their defaults" bash -c \
  "[[ \"\$(kubectl get pl forecast -n $NS -o jsonpath='{.spec.steps[0].type}/{.spec.steps[0].onFailure}')\" == Container/Fail ]]"
expect_ok "kubectl get pipelines shows STEPS READY AGE" bash -c \
  "kubectl get pl -n $NS | head -1 | grep -Eq '^NAME +STEPS +READY +AGE *\$'"
expect_ok "the execution is created" kubectl apply -n "$NS" \
  -f "$ROOT/manifests/examples/forecast-execution-daily.yaml"
expect_ok "kubectl get plx -o wide shows PIPELINE STATUS PROGRESS AGE FAILURE-REASON" bash -c \
  "kubectl get plx -n $NS -o wide | grep -Eq '^NAME +PIPELINE +STATUS +PROGRESS +AGE +FAILURE-REASON' &&
   kubectl get plx -n $NS | head -1 | grep -vq FAILURE-REASON"
expect_ok "kubectl get stepline lists both kinds" bash -c \
  "kubectl get stepline -n $NS -o name | grep -q pipeline.stepline.dev/forecast &&
   kubectl get stepline -n $NS -o name | grep -q pipelineexecution.stepline.dev/forecast-daily-7"

# ---- every status field survives the /status subresource (nothing is pruned) ----
# Sorted, compact JSON: the server's jsonpath output of an object has the same form.
PL_STATUS='{"conditions":[{"lastTransitionTime":"2026-01-02T03:04:05Z","message":"5 steps","observedGeneration":4,"reason":"Valid","status":"True","type":"Ready"}],"observedGeneration":4,"stepCount":5}'
PLX_STATUS='{"completionTime":"2026-01-01T02:00:00Z","conditions":[{"lastTransitionTime":"2026-01-01T00:00:00Z","message":"2 steps running","observedGeneration":2,"reason":"Running","status":"Unknown","type":"Succeeded"},{"lastTransitionTime":"2026-01-01T00:00:00Z","reason":"Running","status":"Unknown","type":"Ready"}],"failureReason":"none","lastModifiedTime":"2026-01-01T01:00:00Z","observedGeneration":2,"pipelineExecutionStatus":"Executing","pipelineGeneration":4,"pipelineSnapshot":{"steps":[{"name":"train"}],"x":[1,2]},"progress":"3/7","startTime":"2026-01-01T00:00:00Z","steps":[{"attempts":2,"children":{"failed":1,"pending":0,"running":1,"succeeded":1,"total":3},"completionTime":"2026-01-01T00:20:00Z","failedChildren":[{"attempts":3,"index":2,"item":"\"us\"","jobName":"j-2","message":"exit 1","nextAttemptTime":"2026-01-01T00:11:00Z","phase":"Failed","reason":"Error"}],"jobName":"forecast-daily-7-train-0-2","message":"attempt 1 OOMKilled; retrying in 60s","name":"train","nextAttemptTime":"2026-01-01T00:10:00Z","outputs":{"accuracy":"0.91"},"phase":"Running","reason":"OOMKilled","runningChildren":[{"attempts":1,"index":0,"phase":"Running"}],"startTime":"2026-01-01T00:01:00Z"},{"name":"approve","phase":"Waiting"}]}'
status_round_trip() {  # KIND NAME STATUS
  kubectl patch "$1" "$2" -n "$NS" --subresource=status --type merge -p "{\"status\":$3}" &&
    [[ "$(kubectl get "$1" "$2" -n "$NS" -o jsonpath='{.status}')" == "$3" ]]
}
expect_ok "a Pipeline's status keeps every field" status_round_trip pl forecast "$PL_STATUS"
expect_ok "an execution's status keeps every field" status_round_trip plx forecast-daily-7 \
  "$PLX_STATUS"
expect_ok "kubectl get shows the status columns" bash -c \
  "kubectl get pl forecast -n $NS --no-headers | grep -Eq '^forecast +5 +True ' &&
   kubectl get plx forecast-daily-7 -n $NS -o wide --no-headers |
     grep -Eq '^forecast-daily-7 +forecast +Executing +3/7 +[0-9a-z]+ +none\$'"
expect_rejected "a status phase outside the enum is rejected" \
  'status.steps[0].phase: Unsupported value: "Done"' kubectl patch plx forecast-daily-7 -n "$NS" \
  --subresource=status --type merge -p '{"status":{"steps":[{"name":"a","phase":"Done"}]}}'

# ---- pipelineName is immutable; signals and stop are not ----
expect_rejected "changing an execution's pipelineName is rejected" "pipelineName is immutable" \
  kubectl patch plx forecast-daily-7 -n "$NS" --type merge -p '{"spec":{"pipelineName":"other"}}'
expect_ok "adding a signal to an execution is accepted" kubectl patch plx forecast-daily-7 \
  -n "$NS" --type merge \
  -p '{"spec":{"signals":[{"step":"approve","outcome":"Succeeded","message":"ok"}]}}'
expect_ok "setting stop on an execution is accepted" kubectl patch plx forecast-daily-7 \
  -n "$NS" --type merge -p '{"spec":{"stop":true}}'

# ---- PipelineSchedule (issue #19) ----
schedule() {  # NAME SPEC_EXTRA
  printf 'apiVersion: stepline.dev/v1alpha1\nkind: PipelineSchedule\nmetadata: {name: %s}\nspec:\n  schedule: "0 * * * *"\n  executionTemplate: {spec: {pipelineName: p}}\n%s\n' \
    "$1" "$2"
}
expect_ok "a schedule is admitted" dry_run < <(schedule nightly '  concurrencyPolicy: Forbid')
expect_rejected "an unknown concurrencyPolicy is rejected" 'spec.concurrencyPolicy: Unsupported value: "Never"' \
  dry_run < <(schedule nightly '  concurrencyPolicy: Never')
expect_rejected "a schedule name over 52 characters is rejected" 'metadata.name: Too long' \
  dry_run < <(schedule "s$(printf 'x%.0s' {1..52})" '')
expect_rejected "a template without pipelineName is rejected" 'spec.executionTemplate.spec.pipelineName: Required value' \
  dry_run < <(printf 'apiVersion: stepline.dev/v1alpha1\nkind: PipelineSchedule\nmetadata: {name: s}\nspec:\n  schedule: "0 * * * *"\n  executionTemplate: {spec: {}}\n')

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
