#!/usr/bin/env bash
# What Argo CD (the chart's Lua health checks, run by lua5.1) and kstatus (Flux) read from
# objects in every state, captured from this run: valid and invalid Pipelines, executions that
# succeeded, failed, were stopped, are running and wait for an approval.
# STEPLINE_CAPTURE_DIR=DIR also writes the captured objects there (testdata for
# helm/stepline/argocd/, see tests/gitops/README.md).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init gitops
start_controller
HEALTH="$E2E_ROOT/tests/gitops/health.py"

k apply -f - >/dev/null <<'YAML'
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: valid}
spec:
  stepDefaults: {image: busybox}
  steps:
  - {name: ok, command: ["true"]}
---
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: cycle}
spec:
  stepDefaults: {image: busybox}
  steps:
  - {name: a, dependsOn: [b], command: ["true"]}
  - {name: b, dependsOn: [a], command: ["true"]}
---
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: failing}
spec:
  steps:
  - {name: boom, image: busybox, command: [sh, -c, "echo broken >&2; exit 3"]}
---
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: slow}
spec:
  steps:
  - {name: hang, image: busybox, command: [sleep, "600"]}
---
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: gate}
spec:
  steps:
  - {name: approve, type: Approval}
YAML
for x in succeeded:valid failed:failing running:slow stopped:slow waiting:gate; do
  k apply -f - >/dev/null <<YAML
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: ${x%%:*}}
spec: {pipelineName: ${x#*:}}
YAML
done
check "succeeded" wait_for 60 plx_is succeeded Succeeded
check "failed" wait_for 60 plx_is failed Failed
check "running" wait_for 60 bash -c "[[ \$(kubectl -n $NS get plx running -o 'jsonpath={.status.steps[0].phase}') == Running ]]"
check "stopped is running" wait_for 60 bash -c "[[ \$(kubectl -n $NS get plx stopped -o 'jsonpath={.status.steps[0].phase}') == Running ]]"
k patch plx stopped --type merge -p '{"spec":{"stop":true}}' >/dev/null
check "stopped" wait_for 60 plx_is stopped Stopped
check "waiting" wait_for 60 bash -c "[[ \$(kubectl -n $NS get plx waiting -o 'jsonpath={.status.steps[0].phase}') == Waiting ]]"
check "the invalid pipeline is not Ready" wait_for 30 bash -c \
  "[[ \$(kubectl -n $NS get pl cycle -o 'jsonpath={.status.conditions[?(@.type==\"Ready\")].status}') == False ]]"
check "the valid pipeline is Ready" wait_for 30 bash -c \
  "[[ \$(kubectl -n $NS get pl valid -o 'jsonpath={.status.conditions[?(@.type==\"Ready\")].status}') == True ]]"

mkdir -p "$E2E_WORK/objects"
for o in pl/valid pl/cycle plx/succeeded plx/failed plx/stopped plx/running plx/waiting; do
  k get "$o" -o yaml >"$E2E_WORK/objects/${o/\//-}.yaml"
done
python3 "$HEALTH" classify "$E2E_WORK"/objects/*.yaml >"$E2E_WORK/classified" 2>&1 \
  || { cat "$E2E_WORK/classified"; fail "health.py classify"; }
cat "$E2E_WORK/classified"
want() { # NAME ARGO KSTATUS [MESSAGE PART]
  local line
  line=$(awk -F'\t' -v n="$1" '$1 == n' "$E2E_WORK/classified")
  check_eq "$1: Argo CD health" "$2" "$(cut -f2 <<<"$line")"
  check_eq "$1: kstatus" "$3" "$(cut -f3 <<<"$line")"
  [[ -z ${4:-} ]] || check "$1: the message says: $4" grep -qF -- "$4" <<<"$(cut -f4 <<<"$line")"
}
want valid Healthy Current "valid: 1 steps"
want cycle Degraded Failed "cycle"
want succeeded Healthy Current
want failed Degraded Failed "exit code 3"
want stopped Degraded Failed "Stopped"
want running Progressing InProgress
want waiting Suspended InProgress "WaitingForApproval"

if [[ -n ${STEPLINE_CAPTURE_DIR:-} ]]; then
  mkdir -p "$STEPLINE_CAPTURE_DIR"
  cp "$E2E_WORK"/objects/*.yaml "$STEPLINE_CAPTURE_DIR/"
fi
e2e_finish
