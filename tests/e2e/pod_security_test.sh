#!/usr/bin/env bash
# Step pods in a namespace that enforces Pod Security "restricted" (the test server's check,
# testenv/server/podsecurity.go): a Pipeline whose stepDefaults set runAsNonRoot runs to
# Succeeded; one whose pods violate the policy fails its step at the first refusal, as
# PodRejected, with the server's message verbatim in the step's message and an Event.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init psa
kubectl label namespace "$NS" pod-security.kubernetes.io/enforce=restricted >/dev/null
start_controller

k apply -f - >/dev/null <<'YAML'
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: restricted-ok}
spec:
  stepDefaults:
    image: busybox
    securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000}
  steps:
  - {name: a, command: [sh, -c, "echo hello"]}
  - {name: b, dependsOn: [a], command: ["true"], securityContext: {runAsUser: 2000}}
---
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: as-root}
spec:
  steps:
  - {name: a, image: busybox, command: ["true"]}
---
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: ok}
spec: {pipelineName: restricted-ok}
---
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: refused}
spec: {pipelineName: as-root}
YAML

check "the restricted namespace runs the pipeline to Succeeded" \
  kubectl -n "$NS" wait --for=condition=Succeeded plx/ok --timeout=90s
check_eq "its pods ran as the stepDefaults' user (step b: its own)" "1000 2000" \
  "$(k get pods -l stepline.dev/execution=ok --sort-by=.metadata.creationTimestamp \
      -o 'jsonpath={range .items[*]}{.spec.securityContext.runAsUser}{" "}{end}' | xargs)"

check "the violating pipeline fails" wait_for 60 plx_is refused Failed
reason=$(step_field refused a reason)
message=$(step_field refused a message)
check_eq "the step's class" PodRejected "$reason"
# The Job controller's refusals (FailedCreate Events on the Job): "time<TAB>message" lines.
k get events --field-selector reason=FailedCreate -o 'jsonpath={range .items[?(@.involvedObject.name=="refused-a-1")]}{.firstTimestamp}{"\t"}{.message}{"\n"}{end}' \
  | sort >"$E2E_WORK/refusals"
check "the Job controller's FailedCreate names the policy" \
  grep -q 'violates PodSecurity "restricted:latest": runAsNonRoot != true' "$E2E_WORK/refusals"
verbatim() { local m; while IFS=$'\t' read -r _ m; do [[ $message == *": $m" ]] && return 0; done <"$E2E_WORK/refusals"; return 1; }
check "the step's message ends with a refusal's message, verbatim: $message" verbatim
check "an Event on the execution carries it" bash -c "kubectl -n $NS get events \
  --field-selector involvedObject.name=refused,reason=StepFailed -o jsonpath='{.items[*].message}' \
  | grep -qF -- '$message'"
check_eq "one attempt (a refusal is not retried)" 1 "$(step_field refused a attempts)"
# Within one reconcile of the refusal: the execution failed in the same second as the first
# refusal, or the next (Event and condition times have a resolution of one second).
first=$(head -n1 "$E2E_WORK/refusals" | cut -f1)
failed=$(jp plx/refused '{.status.conditions[?(@.type=="Succeeded")].lastTransitionTime}')
lag=$(( $(date -d "$failed" +%s) - $(date -d "${first:-1970-01-01T00:00:00Z}" +%s) ))
check "Failed within 1 s of the first refusal ($first -> $failed: ${lag}s)" test "$lag" -le 1
# Nothing that widens privilege gets in: unknown securityContext fields and root with
# runAsNonRoot are refused at admission (the controller refuses them too: unit tests).
refused_apply() { # PIPELINE_SPEC_YAML WANT: kubectl apply fails naming WANT
  local out
  out=$(printf 'apiVersion: stepline.dev/v1alpha1\nkind: Pipeline\nmetadata: {name: bad}\nspec: %s\n' "$1" \
    | kubectl -n "$NS" apply -f - 2>&1) && return 1
  grep -qF -- "$2" <<<"$out" || { echo "$out"; return 1; }
}
check "a privileged step is refused" refused_apply \
  '{steps: [{name: a, image: busybox, securityContext: {privileged: true}}]}' \
  'unknown field "spec.steps[0].securityContext.privileged"'
check "root with runAsNonRoot is refused" refused_apply \
  '{stepDefaults: {securityContext: {runAsNonRoot: true, runAsUser: 0}}, steps: [{name: a, image: busybox}]}' \
  'spec.stepDefaults.securityContext: Invalid value: runAsUser is 0 (root) but runAsNonRoot is true'
check_eq "kstatus: Stalled" True "$(jp plx/refused '{.status.conditions[?(@.type=="Stalled")].status}')"
e2e_finish
