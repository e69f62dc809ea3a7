#!/usr/bin/env bash
# End-to-end: PipelineExecutions run to completion as Jobs through the real stack — the test
# API server, the local agent (Job controller, scheduler, kubelet, quota, GC) and the
# controller. One scenario per call: execution_test.sh SCENARIO. Each asserts the final status
# and the Jobs that exist, as `kubectl get -o yaml` shows them.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCENARIO=${1:?usage: execution_test.sh SCENARIO}
e2e_init "x-$SCENARIO"

pipeline() { # NAME STEPS_YAML [EXTRA_SPEC_YAML]
  k apply -f - >/dev/null <<YAML
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: $1}
spec:
  stepDefaults: {image: busybox}
${3:-}
  steps:
$2
YAML
}
execution() { # NAME PIPELINE [EXTRA_SPEC_YAML]
  k apply -f - >/dev/null <<YAML
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: $1}
spec:
  pipelineName: $2
${3:-}
YAML
}
finished() { local s; s=$(plx_status "$1"); [[ $s == Succeeded || $s == Failed || $s == Stopped ]]; }
# Seconds since the epoch of an RFC 3339 time; empty when there is none (date -d "" would say
# midnight today, and two missing times would compare equal).
epoch() { [[ -n $1 ]] && date -d "$1" +%s 2>/dev/null; }
started_after() { # LATER_EPOCH EARLIER_EPOCH: both present, and in that order
  [[ -n $1 && -n $2 ]] && (($1 >= $2))
}

scenario_diamond() {
  pipeline diamond '
  - {name: a, command: [sh, -c, "sleep 0.5"]}
  - {name: b, dependsOn: [a], command: [sh, -c, "sleep 0.5"]}
  - {name: c, dependsOn: [a], command: [sh, -c, "sleep 0.5"]}
  - {name: d, dependsOn: [b, c], command: [sh, -c, "sleep 0.5"]}
  - {name: e, dependsOn: [d], command: ["true"]}'
  execution run diamond
  check "kubectl wait --for=condition=Succeeded returns" \
    kubectl -n "$NS" wait --for=condition=Succeeded plx/run --timeout=90s
  check_eq "status" Succeeded "$(plx_status run)"
  check_eq "progress" 5/5 "$(jp plx/run '{.status.progress}')"
  check_eq "one Job per step" 5 "$(count_jobs run)"
  local s
  for pair in a:b a:c b:d c:d d:e; do
    s=(${pair/:/ })
    check "${s[1]} started after ${s[0]} finished" started_after \
      "$(epoch "$(step_field run "${s[1]}" startTime)")" "$(epoch "$(step_field run "${s[0]}" completionTime)")"
  done
  check_eq "Ready mirrors Succeeded" True "$(jp plx/run '{.status.conditions[?(@.type=="Ready")].status}')"
  check "printer columns" bash -c "kubectl -n $NS get plx run | grep -E 'diamond +Succeeded +5/5'"
}

scenario_retry() {
  pipeline flaky '
  - name: flaky
    command: [sh, -c, "echo attempt $STEPLINE_ATTEMPT; test $STEPLINE_ATTEMPT -ge 3"]
    retryPolicy: {maxAttempts: 3, intervalSeconds: 1}'
  execution run flaky
  check "finishes" wait_for 90 finished run
  check_eq "status" Succeeded "$(plx_status run)"
  check_eq "attempts" 3 "$(step_field run flaky attempts)"
  check_eq "three Jobs, one per attempt" "run-flaky-1 run-flaky-2 run-flaky-3" "$(jobs_of run | xargs)"
  check_eq "the first attempt's Job is kept, failed" True \
    "$(jp job/run-flaky-1 '{.status.conditions[?(@.type=="Failed")].status}')"
}

scenario_oom() {
  local oom='command: [python3, -c, "b = bytearray(200 * 1024 * 1024); print(len(b))"]
    resources: {requests: {memory: 32Mi}, limits: {memory: 64Mi}}'
  pipeline oom-retried "
  - name: big
    $oom
    retryPolicy: {maxAttempts: 2, intervalSeconds: 1, retryOn: [OOMKilled]}"
  pipeline oom-not-retried "
  - name: big
    $oom
    retryPolicy: {maxAttempts: 2, intervalSeconds: 1, retryOn: [Error]}"
  execution retried oom-retried
  execution not-retried oom-not-retried
  check "both finish" wait_for 120 bash -c "$(declare -f plx_status jp finished k); NS=$NS; finished retried && finished not-retried"
  check_eq "retried: failed" Failed "$(plx_status retried)"
  check_eq "retried: reason" OOMKilled "$(step_field retried big reason)"
  check_eq "retried: two Jobs" 2 "$(count_jobs retried)"
  check_eq "not retried: reason" OOMKilled "$(step_field not-retried big reason)"
  check_eq "not retried: one Job" 1 "$(count_jobs not-retried)"
  check_eq "the pod says OOMKilled, exit 137" "OOMKilled 137" \
    "$(k get pods -l stepline.dev/execution=not-retried -o 'jsonpath={.items[0].status.containerStatuses[0].state.terminated.reason} {.items[0].status.containerStatuses[0].state.terminated.exitCode}')"
}

scenario_timeout() {
  pipeline sleepy '
  - {name: hang, command: [sleep, "300"], timeoutSeconds: 2}'
  execution run sleepy
  check "finishes within the timeout and a grace" wait_for 45 finished run
  check_eq "status" Failed "$(plx_status run)"
  check_eq "reason" DeadlineExceeded "$(step_field run hang reason)"
  check_eq "the Job failed with DeadlineExceeded" DeadlineExceeded \
    "$(jp job/run-hang-1 '{.status.conditions[?(@.type=="Failed")].reason}')"
}

max_overlap() { # EXEC STEP: the most pods of the step that ran at the same moment
  k get pods -l "stepline.dev/execution=$1,stepline.dev/step=$2" -o json | python3 -c '
import json, sys
from datetime import datetime
def t(s): return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").timestamp()
spans = []
for p in json.load(sys.stdin)["items"]:
    st = p["status"]["containerStatuses"][0]["state"].get("terminated")
    if st: spans.append((t(st["startedAt"]), t(st["finishedAt"])))
print(max((sum(1 for s, e in spans if s <= x < e) for x, _ in spans), default=0))'
}

scenario_fanout() {
  pipeline squares '
  - name: train
    forEach: "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]"
    maxParallel: 3
    command: [sh, -c, "sleep 1; echo \"{\\\"sq\\\": \\\"$((STEPLINE_ITEM * STEPLINE_ITEM))\\\"}\" > /dev/termination-log"]
  - name: total
    dependsOn: [train]
    env: [{name: SQ, value: "{{steps.train.outputs.sq}}"}]
    command: [python3, -c, "import json, os; v = json.loads(os.environ[\"SQ\"]); open(\"/dev/termination-log\", \"w\").write(json.dumps({\"total\": str(sum(int(x) for x in v))}))"]'
  execution run squares
  check "finishes" wait_for 150 finished run
  check_eq "status" Succeeded "$(plx_status run)"
  check_eq "children" '{"pending":0,"running":0,"succeeded":20,"failed":0,"total":20}' \
    "$(jp plx/run '{.status.steps[?(@.name=="train")].children}' | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({k: d.get(k, 0) for k in ["pending","running","succeeded","failed","total"]}, separators=(",", ":")))')"
  check "never more than 3 at once" test "$(max_overlap run train)" -le 3
  check_eq "the dependent read the fan-in list" 2870 "$(step_field run total outputs.total)"
  check_eq "progress" 21/21 "$(jp plx/run '{.status.progress}')"
}

# Issue #22: a fan-in past 64 KiB (200 children, 400-byte values) is not kept in the status,
# which is written all the same: it is stored in a ConfigMap of the execution, which the status
# names; the step says where the values are, and the kubectl command it gives prints them; a
# step reading the fan-in that fits runs, one reading the other in a template fails saying why.
scenario_fanin() {
  local items
  items=$(python3 -c 'print(list(range(200)))' | tr -d ' ')
  pipeline wide "
  - name: f
    forEach: \"$items\"
    command: [sh, -c, \"printf '{\\\"v\\\": \\\"%0400d\\\", \\\"n\\\": \\\"1\\\"}' \\\"\$STEPLINE_ITEM\\\" > /dev/termination-log\"]
  - name: count
    dependsOn: [f]
    env: [{name: NS_LIST, value: \"{{steps.f.outputs.n}}\"}]
    command: [python3, -c, \"import json, os; open('/dev/termination-log', 'w').write(json.dumps({'count': str(len(json.loads(os.environ['NS_LIST'])))}))\"]
  - {name: big, dependsOn: [f], onFailure: Continue, command: [echo, \"{{steps.f.outputs.v}}\"]}
  - name: read
    dependsOn: [f]
    inputs:
      artifacts:
      - {name: v, path: /in/v.json, from: \"{{steps.f.outputs.v}}\"}
      - {name: counts, path: /in/n.json, from: \"{{ steps.f.outputs.n }}\"}
    command: [python3, -c, \"import hashlib, json; raw = open('/in/v.json', 'rb').read(); v = json.loads(raw); n = json.load(open('/in/n.json')); open('/dev/termination-log', 'w').write(json.dumps({'count': str(len(v)), 'v137': v[137], 'n': str(len(n)), 'sha': hashlib.sha256(raw).hexdigest()}))\"]"
  execution run wide
  check "finishes" wait_for 150 finished run
  check_eq "status" Succeeded "$(plx_status run)"
  check_eq "the fan-in that fits is kept" 200 "$(step_field run count outputs.count)"
  check_eq "the one past 64 KiB is not" "" "$(step_field run f outputs.v)"
  local message
  message=$(step_field run f message)
  check "kubectl get shows where the values are" grep -qE 'output "v" \([0-9]+ bytes\) not kept in status: larger than 64 KiB \(the fan-in of 200 children\); stored in ConfigMap run-f-outputs-v-00: kubectl get configmap -n '"$NS"' -l stepline.dev/execution=run,stepline.dev/step=f,stepline.dev/fan-in=outputs.v' <<<"$message"
  check_eq "the status names the ConfigMap" '["run-f-outputs-v-00"] 200' \
    "$(jp plx/run '{.status.steps[?(@.name=="f")].storedOutputs[0].configMaps}') $(jp plx/run '{.status.steps[?(@.name=="f")].storedOutputs[0].items}')"
  check_eq "owned by the execution" "$(jp plx/run '{.metadata.uid}')" \
    "$(jp configmap/run-f-outputs-v-00 '{.metadata.ownerReferences[0].uid}')"
  # The command the message gives prints the 200 values, in item order.
  local command stored
  command=$(sed -n 's/.*stored in ConfigMap run-f-outputs-v-00: \(kubectl get configmap [^;]*\).*/\1/p' <<<"$message")
  stored=$(eval "$command")
  check_eq "the stored fan-in holds the 200 values in item order" "200 $(printf '%0400d' 137)" \
    "$(python3 -c 'import json, sys; v = json.loads(sys.stdin.read()); print(len(v), v[137])' <<<"$stored")"
  # An input artifact reads it as a file: joined from the ConfigMap, byte for byte.
  check_eq "the reader got the 200 values" 200 "$(step_field run read outputs.count)"
  check_eq "item 137's among them" "$(printf '%0400d' 137)" "$(step_field run read outputs.v137)"
  check_eq "byte for byte the stored list" \
    "$(k get configmap run-f-outputs-v-00 -o 'jsonpath={.data.values\.json}' | sha256sum | cut -d' ' -f1)" \
    "$(step_field run read outputs.sha)"
  check_eq "and a fan-in the status keeps, from the status" 200 "$(step_field run read outputs.n)"
  check_eq "the step reading it in a template failed" TemplateError "$(step_field run big reason)"
  message=$(step_field run big message)
  check "saying why" grep -qE '\{\{steps.f.outputs.v}}: output "v" \([0-9]+ bytes\) not kept in status: .*; stored in ConfigMap run-f-outputs-v-00' <<<"$message"
  check "and how to read it instead" grep -qF 'an input artifact reads it as a file (from: "{{steps.f.outputs.v}}")' <<<"$message"
  check "the status stays small" test "$(kubectl -n "$NS" get plx run -o json | wc -c)" -lt 65536
  # The pods hold the values too, while they exist.
  local values
  values=$(k get pods -l stepline.dev/execution=run,stepline.dev/step=f -o 'jsonpath={..terminated.message}')
  check_eq "kubectl lists the 200 values" 200 "$(grep -o '"v": "' <<<"$values" | wc -l)"
  check "item 137's value among them" grep -q "\"v\": \"$(printf '%0400d' 137)\"" <<<"$values"
}

scenario_catch() {
  pipeline catchy '
  - {name: divide, command: [python3, -c, "1/0"], onFailure: Continue}
  - {name: report, dependsOn: [divide], when: "{{steps.divide.phase}} == Failed", command: ["true"]}'
  execution run catchy
  check "finishes" wait_for 60 finished run
  check_eq "status" Succeeded "$(plx_status run)"
  check_eq "the caught step failed" Failed "$(step_field run divide phase)"
  check_eq "its dependent ran" Succeeded "$(step_field run report phase)"
  check "the message carries the error" bash -c "kubectl -n $NS get plx run -o yaml | grep -q ZeroDivisionError"
}

scenario_when() {
  pipeline gated '
  - {name: evaluate, command: [sh, -c, "echo {\\\"accuracy\\\": \\\"0.91\\\"} > /dev/termination-log"]}
  - {name: strict, dependsOn: [evaluate], when: "{{steps.evaluate.outputs.accuracy}} >= 0.95", command: ["true"]}
  - {name: lenient, dependsOn: [evaluate], when: "{{steps.evaluate.outputs.accuracy}} >= {{parameters.min}}", command: ["true"]}' \
  '  parameters: [{name: min, type: Float, default: "0.8"}]'
  execution run gated
  check "finishes" wait_for 60 finished run
  check_eq "status" Succeeded "$(plx_status run)"
  check_eq "output recorded" 0.91 "$(step_field run evaluate outputs.accuracy)"
  check_eq "0.91 >= 0.95 is false: skipped" Skipped "$(step_field run strict phase)"
  check_eq "0.91 >= 0.8: ran" Succeeded "$(step_field run lenient phase)"
  check_eq "no Job for the skipped step" 0 "$(count_jobs run strict)"
}

scenario_approval() {
  pipeline gate '
  - {name: approve, type: Approval}
  - {name: register, dependsOn: [approve], command: [sh, -c, "echo {{steps.approve.outputs.ticket}}"]}'
  execution run gate
  check "waits for the signal" wait_for 30 bash -c "[[ \$(kubectl -n $NS get plx run -o 'jsonpath={.status.steps[?(@.name==\"approve\")].phase}') == Waiting ]]"
  sleep 2
  check_eq "nothing after it runs" 0 "$(count_jobs run)"
  k patch plx run --type merge -p '{"spec":{"signals":[{"step":"approve","outcome":"Succeeded","message":"ok by alice","outputs":{"ticket":"T-42"}}]}}' >/dev/null
  check "finishes after the patch" wait_for 60 finished run
  check_eq "status" Succeeded "$(plx_status run)"
  check_eq "signal outputs" T-42 "$(step_field run approve outputs.ticket)"
}

one_pod_quota() {
  k apply -f - >/dev/null <<'YAML'
apiVersion: v1
kind: ResourceQuota
metadata: {name: one-pod}
spec: {hard: {pods: "1"}}
YAML
}

scenario_quota() {
  one_pod_quota
  pipeline train '
  - {name: train, command: [sh, -c, "sleep 2"], timeoutSeconds: 20}'
  for i in 1 2 3; do execution "run-$i" train; done
  check "all three finish" wait_for 240 bash -c "$(declare -f plx_status jp finished k); NS=$NS; finished run-1 && finished run-2 && finished run-3"
  local waited=0 i
  for i in 1 2 3; do
    check_eq "run-$i succeeded" Succeeded "$(plx_status "run-$i")"
    check_eq "run-$i: one attempt" 1 "$(step_field "run-$i" train attempts)"
    if has_event "run-$i" WaitingForQuota; then waited=$((waited + 1)); fi
  done
  check "the ones that waited showed WaitingForQuota (at least 2 of 3): $waited" test "$waited" -ge 2
  check "the Job controller reported the quota refusals" bash -c \
    "kubectl get events -n $NS --field-selector reason=FailedCreate -o jsonpath='{.items[*].message}' | grep -q 'exceeded quota: one-pod'"
}

# Issue #19: a quota of one pod, a fan-out of 10 children and 2 single-step runs (12 pods of
# 2 s each, so 24 s of work that can only run one at a time). Steps waiting for quota must start
# within about a second of room appearing (oldest wait first), not when a backoff timer of up to
# 5 min fires: the whole must end within 2x the work time.
scenario_quotaroom() {
  one_pod_quota
  pipeline fan '
  - {name: train, forEach: "[1,2,3,4,5,6,7,8,9,10]", command: [sh, -c, "sleep 2"], timeoutSeconds: 30}'
  pipeline single '
  - {name: train, command: [sh, -c, "sleep 2"], timeoutSeconds: 30}'
  local start=$SECONDS work=24
  execution fan-run fan
  execution single-1 single
  execution single-2 single
  check "all three finish" wait_for 300 bash -c "$(declare -f plx_status jp finished k); NS=$NS; finished fan-run && finished single-1 && finished single-2"
  local took=$((SECONDS - start))
  e2e_log "quota of one: 12 pods x 2 s = ${work} s of work took ${took} s (bound $((2 * work)) s)"
  local r
  for r in fan-run single-1 single-2; do check_eq "$r succeeded" Succeeded "$(plx_status "$r")"; done
  check "some steps waited for quota" has_event fan-run WaitingForQuota
  check "within 2x the work time: ${took} s <= $((2 * work)) s" test "$took" -le $((2 * work))
  check "never more than one pod at once" test "$(max_overlap fan-run train)" -le 1
}

# Issue #19: a 5-step chain whose step 3 (c) fails the first time (a file switch); the re-run
# (spec.rerunOf, created with the documented one-liner) reuses a and b, runs c, d and e: 3 Jobs.
scenario_rerun() {
  local mark="$E2E_WORK/c-may-pass"
  pipeline chain "
  - {name: a, command: [sh, -c, 'echo {\\\"rows\\\": \\\"42\\\"} > /dev/termination-log']}
  - {name: b, dependsOn: [a], command: ['true']}
  - {name: c, dependsOn: [b], command: [sh, -c, 'test -f $mark']}
  - {name: d, dependsOn: [c], command: ['true']}
  - {name: e, dependsOn: [d], command: ['true']}"
  execution run-1 chain
  check "the first run fails at c, step 3 of 5" wait_for 90 plx_is run-1 Failed
  check_eq "a, b succeeded, c failed, d, e never ran" "Succeeded Succeeded Failed Skipped Skipped" \
    "$(for x in a b c d e; do echo "$(step_field run-1 $x phase)"; done | xargs)"
  touch "$mark"
  k create -f - >/dev/null <<<'{"apiVersion":"stepline.dev/v1alpha1","kind":"PipelineExecution","metadata":{"name":"run-2"},"spec":{"pipelineName":"chain","rerunOf":{"execution":"run-1"}}}'
  check "the re-run succeeds" wait_for 90 plx_is run-2 Succeeded
  check_eq "a and b are reused" Succeeded/run-1/Succeeded/run-1 \
    "$(step_field run-2 a phase)/$(step_field run-2 a reusedFrom)/$(step_field run-2 b phase)/$(step_field run-2 b reusedFrom)"
  check_eq "with their outputs" 42 "$(step_field run-2 a outputs.rows)"
  check_eq "c, d and e ran" Succeeded/Succeeded/Succeeded \
    "$(step_field run-2 c phase)/$(step_field run-2 d phase)/$(step_field run-2 e phase)"
  check_eq "exactly 3 Jobs: c, d and e" "run-2-c-1 run-2-d-1 run-2-e-1" "$(jobs_of run-2 | xargs)"
  check "a Rerun event says what runs" has_event run-2 Rerun
  check_eq "progress" 5/5 "$(jp plx/run-2 '{.status.progress}')"
  execution run-3 chain '  rerunOf: {execution: nope}'
  execution run-4 chain '  selectiveExecutionConfig: {sourcePipelineExecutionName: run-1, selectedSteps: [{stepName: zz}]}'
  check "refusals end the re-runs" wait_for 60 bash -c "$(declare -f plx_is plx_status jp k); NS=$NS; plx_is run-3 Failed && plx_is run-4 Failed"
  check_eq "a missing source is named" "InvalidRerun: spec.rerunOf.execution: execution \"nope\" not found in this namespace" \
    "$(jp plx/run-3 '{.status.failureReason}')"
  check "an unknown selected step is named" bash -c "kubectl -n $NS get plx run-4 -o 'jsonpath={.status.conditions[?(@.type==\"Succeeded\")].message}' | grep -q 'selectedSteps\[0\]: \"zz\" is not a step'"
  check_eq "no Jobs for refused re-runs" 0 "$(( $(count_jobs run-3) + $(count_jobs run-4) ))"
}

# Issue #19 cleanup: spec.ttlSecondsAfterFinished deletes a finished run, and its Jobs and pods
# with it (the garbage collector follows the owner references).
scenario_ttl() {
  pipeline two '
  - {name: a, command: [sh, -c, "echo {\\\"n\\\": \\\"7\\\"} > /dev/termination-log"]}
  - {name: b, dependsOn: [a], command: ["true"]}'
  execution run two '  ttlSecondsAfterFinished: 3'
  execution keep two
  check "both succeed" wait_for 90 bash -c "$(declare -f plx_is plx_status jp k); NS=$NS; plx_is run Succeeded && plx_is keep Succeeded"
  check "the run is deleted after the ttl" wait_for 30 bash -c "! kubectl -n $NS get plx run >/dev/null 2>&1"
  check "and its Jobs" wait_for 30 bash -c "[[ -z \$(kubectl -n $NS get jobs -l stepline.dev/execution=run -o name) ]]"
  check "and its pods" wait_for 30 bash -c "[[ -z \$(kubectl -n $NS get pods -l stepline.dev/execution=run -o name) ]]"
  check_eq "a run without ttl stays, with its Jobs" "Succeeded 2" "$(plx_status keep) $(count_jobs keep)"
}

# Issue #19 cleanup per Pipeline: history limits delete the oldest finished executions;
# executionDefaults.jobsTTLSecondsAfterFinished deletes the Jobs of finished runs and keeps their
# record; executionDefaults.ttlSecondsAfterFinished deletes runs without a TTL of their own.
scenario_history() {
  pipeline kept '
  - {name: a, command: [sh, -c, "echo {\\\"n\\\": \\\"7\\\"} > /dev/termination-log"]}' '  successfulHistoryLimit: 1
  executionDefaults: {jobsTTLSecondsAfterFinished: 2}'
  pipeline flaky '
  - {name: a, command: ["false"]}' '  failedHistoryLimit: 1'
  local r
  for r in 1 2 3; do
    execution "ok-$r" kept
    execution "bad-$r" flaky
    check "ok-$r and bad-$r finish" wait_for 60 bash -c "$(declare -f plx_is plx_status jp k); NS=$NS; plx_is ok-$r Succeeded && plx_is bad-$r Failed"
  done
  check "successfulHistoryLimit 1: only the newest succeeded run stays" wait_for 30 bash -c \
    "[[ \$(kubectl -n $NS get plx -o name | grep -c ok-) == 1 ]] && kubectl -n $NS get plx ok-3 >/dev/null"
  check "failedHistoryLimit 1: only the newest failed run stays" wait_for 30 bash -c \
    "[[ \$(kubectl -n $NS get plx -o name | grep -c bad-) == 1 ]] && kubectl -n $NS get plx bad-3 >/dev/null"
  check "a HistoryDeleted event on the Pipeline" has_event kept HistoryDeleted
  check "jobsTTLSecondsAfterFinished deletes the kept run's Jobs" wait_for 30 bash -c \
    "[[ -z \$(kubectl -n $NS get jobs -l stepline.dev/execution=ok-3 -o name) ]]"
  check "and its pods" wait_for 30 bash -c \
    "[[ -z \$(kubectl -n $NS get pods -l stepline.dev/execution=ok-3 -o name) ]]"
  check "jobsDeletedTime is recorded" test -n "$(jp plx/ok-3 '{.status.jobsDeletedTime}')"
  check_eq "the record stays: status, step, outputs" "Succeeded a=Succeeded 7" \
    "$(plx_status ok-3) a=$(step_field ok-3 a phase) $(step_field ok-3 a outputs.n)"
  check "a JobsDeleted event" has_event ok-3 JobsDeleted
  check_eq "flaky has no TTL: its run keeps its Job" 1 "$(count_jobs bad-3)"
  # The Pipeline's run TTL, set after the runs finished, applies to them too.
  k patch pipeline flaky --type merge -p '{"spec": {"executionDefaults": {"ttlSecondsAfterFinished": 1}}}' >/dev/null
  check "executionDefaults.ttlSecondsAfterFinished deletes the run" wait_for 30 bash -c \
    "! kubectl -n $NS get plx bad-3 >/dev/null 2>&1"
  check "an ExecutionExpired event on the Pipeline" has_event flaky ExecutionExpired
}

# Issue #19 step caching: a cached step creates no Job on the second run and does on a changed
# parameter; an expired entry runs again; a failed attempt is never cached; runs racing for the
# index all land; the index is a ConfigMap a user can list and delete.
cache_entries() { # the executions of the step cache's entries, sorted, one line
  k get configmap stepline-step-cache -o json 2>/dev/null | python3 -c '
import json, sys
data = json.load(sys.stdin).get("data") or {}
print(" ".join(sorted(json.loads(v)["execution"] for v in data.values())))'
}
scenario_cache() {
  local mark="$E2E_WORK/flaky-may-pass"
  pipeline cached "
  - {name: prep, command: [sh, -c, 'echo {\\\"n\\\": \\\"7\\\"} > /dev/termination-log']}
  - {name: train, dependsOn: [prep], cache: {enabled: true},
     command: [sh, -c, 'echo {\\\"acc\\\": \\\"0.9\\\", \\\"rows\\\": \\\"{{parameters.rows}}\\\"} > /dev/termination-log']}
  - {name: report, dependsOn: [train], when: '{{steps.train.outputs.acc}} > 0.5',
     command: [sh, -c, 'test {{steps.train.outputs.acc}} = 0.9']}" "  parameters: [{name: rows, default: '100'}]"
  execution run-1 cached
  check "the first run succeeds" wait_for 90 plx_is run-1 Succeeded
  check_eq "it ran every step" "run-1-prep-1 run-1-report-1 run-1-train-1" "$(jobs_of run-1 | xargs)"
  check_eq "the index holds train's attempt" run-1 "$(cache_entries)"
  check_eq "the index is labelled" configmap/stepline-step-cache "$(k get configmap -l stepline.dev/step-cache -o name)"
  execution run-2 cached
  check "the second run succeeds" wait_for 90 plx_is run-2 Succeeded
  check_eq "no Job for train" "run-2-prep-1 run-2-report-1" "$(jobs_of run-2 | xargs)"
  check_eq "train is Succeeded, cached from run-1 attempt 1" Succeeded/run-1/train/1 \
    "$(step_field run-2 train phase)/$(step_field run-2 train cachedFrom.execution)/$(step_field run-2 train cachedFrom.step)/$(step_field run-2 train cachedFrom.attempt)"
  check_eq "with run-1's outputs, read by report's when and command" 0.9/100/Succeeded \
    "$(step_field run-2 train outputs.acc)/$(step_field run-2 train outputs.rows)/$(step_field run-2 report phase)"
  execution run-3 cached "  pipelineParameters: [{name: rows, value: '200'}]"
  check "a run with another parameter succeeds" wait_for 90 plx_is run-3 Succeeded
  check_eq "and runs train" run-3-train-1 "$(jobs_of run-3 train)"
  check_eq "its result is cached too" "run-1 run-3" "$(cache_entries)"

  # expiry: an entry older than expireAfter is not used, and is pruned by the next write
  pipeline short "
  - {name: s, cache: {enabled: true, expireAfter: PT3S}, command: [sh, -c, 'echo {\\\"v\\\": \\\"1\\\"} > /dev/termination-log']}"
  execution e-1 short
  check "e-1 succeeds" wait_for 60 plx_is e-1 Succeeded
  execution e-2 short
  check "e-2, at once, succeeds" wait_for 60 plx_is e-2 Succeeded
  check_eq "e-2 reused e-1's result" 0/e-1 "$(count_jobs e-2)/$(step_field e-2 s cachedFrom.execution)"
  sleep 4
  execution e-3 short
  check "e-3, after expiry, succeeds" wait_for 60 plx_is e-3 Succeeded
  check_eq "e-3 ran s again" e-3-s-1 "$(jobs_of e-3)"
  check_eq "the expired entry was replaced" "e-3 run-1 run-3" "$(cache_entries)"

  # a failed attempt is never cached
  pipeline flaky "
  - {name: f, cache: {enabled: true}, command: [sh, -c, 'test -f $mark']}"
  execution f-1 flaky
  check "f-1 fails" wait_for 60 plx_is f-1 Failed
  check_eq "nothing cached" "e-3 run-1 run-3" "$(cache_entries)"
  touch "$mark"
  execution f-2 flaky
  check "f-2 runs f and succeeds" wait_for 60 plx_is f-2 Succeeded
  check_eq "f-2 has a Job for f" f-2-f-1 "$(jobs_of f-2)"
  execution f-3 flaky
  check "f-3 succeeds" wait_for 60 plx_is f-3 Succeeded
  check_eq "f-3 reused f-2's result, not f-1's" 0/f-2 "$(count_jobs f-3)/$(step_field f-3 f cachedFrom.execution)"

  # four runs at once: two with the same key (both may run), two with keys of their own
  k delete configmap stepline-step-cache >/dev/null
  pipeline race "
  - {name: r, cache: {enabled: true}, command: [sh, -c, 'sleep 1; echo {\\\"p\\\": \\\"{{parameters.p}}\\\"} > /dev/termination-log']}" \
    "  parameters: [{name: p, default: same}]"
  execution race-1 race
  execution race-2 race
  execution race-3 race "  pipelineParameters: [{name: p, value: 'px'}]"
  execution race-4 race "  pipelineParameters: [{name: p, value: 'py'}]"
  check "all four succeed" wait_for 90 bash -c "$(declare -f plx_is plx_status jp k); NS=$NS; for r in race-1 race-2 race-3 race-4; do plx_is \$r Succeeded || exit 1; done"
  local entries
  entries=$(cache_entries)
  check "three entries, none lost, one for the shared key: $entries" \
    grep -Eq '^race-[12] race-3 race-4$' <<<"$entries"
  # the user clears the index: the next run runs its step again
  k delete configmap stepline-step-cache >/dev/null
  execution run-4 cached
  check "after the index is deleted, a run succeeds" wait_for 90 plx_is run-4 Succeeded
  check_eq "and runs train again" run-4-train-1 "$(jobs_of run-4 train)"
}

# Issue #19 Kueue: spec.queueName puts the Jobs under Kueue. Kueue cannot run here, so the test
# stands in for its admission (it unsuspends the Job), as Kueue's Job integration does.
scenario_kueue() {
  pipeline queued '
  - {name: a, command: [sh, -c, "echo {\\\"n\\\": \\\"5\\\"} > /dev/termination-log"]}
  - {name: b, dependsOn: [a], command: ["true"]}' '  queueName: shared'
  execution run queued '  queueName: team-a'
  check "the Job is created" wait_for 60 bash -c "kubectl -n $NS get job run-a-1 >/dev/null 2>&1"
  check_eq "suspended, with Kueue's label (the execution's queue wins)" "true team-a" \
    "$(jp job/run-a-1 '{.spec.suspend} {.metadata.labels.kueue\.x-k8s\.io/queue-name}')"
  check_eq "not on its pod template" "" "$(jp job/run-a-1 '{.spec.template.metadata.labels.kueue\.x-k8s\.io/queue-name}')"
  check "the step waits for admission" wait_for 30 bash -c \
    "[[ \$(kubectl -n $NS get plx run -o 'jsonpath={.status.steps[0].phase}') == WaitingForAdmission ]]"
  check_eq "and says for which queue" 'its Job waits for Kueue to admit it (LocalQueue "team-a")' "$(step_field run a message)"
  check_eq "the run says so" WaitingForAdmission "$(jp plx/run '{.status.conditions[?(@.type=="Ready")].reason}')"
  check_eq "no pod before admission" "" "$(kubectl -n $NS get pods -l job-name=run-a-1 -o name)"
  sleep 3
  check_eq "Stepline leaves it suspended" true "$(jp job/run-a-1 '{.spec.suspend}')"
  k patch job run-a-1 --type merge -p '{"spec":{"suspend":false}}' >/dev/null
  check "b's Job comes once a succeeded, suspended too" wait_for 60 bash -c \
    "[[ \$(kubectl -n $NS get job run-b-1 -o 'jsonpath={.spec.suspend}' 2>/dev/null) == true ]]"
  k patch job run-b-1 --type merge -p '{"spec":{"suspend":false}}' >/dev/null
  check "the run succeeds" wait_for 60 plx_is run Succeeded
  check "a WaitingForAdmission event" has_event run WaitingForAdmission
}

scenario_unschedulable() {
  pipeline huge '
  - {name: big, command: ["true"], resources: {requests: {memory: 100Ti}}}'
  execution run huge
  check "the scheduler's message reaches the step" wait_for 60 bash -c \
    "kubectl -n $NS get plx run -o 'jsonpath={.status.steps[0].message}' | grep -q 'Insufficient memory'"
  check_eq "the step is pending" Pending "$(step_field run big phase)"
  check "an Unschedulable event" has_event run Unschedulable
}

scenario_stop() {
  pipeline forever '
  - {name: hang, command: [sleep, "600"]}'
  execution stopped forever
  execution deleted forever
  check "both running" wait_for 60 bash -c "[[ \$(kubectl -n $NS get plx stopped -o 'jsonpath={.status.steps[0].phase}') == Running && \$(kubectl -n $NS get plx deleted -o 'jsonpath={.status.steps[0].phase}') == Running ]]"
  k patch plx stopped --type merge -p '{"spec":{"stop":true}}' >/dev/null
  check "spec.stop ends in Stopped" wait_for 60 plx_is stopped Stopped
  check_eq "its running Job was deleted" 0 "$(count_jobs stopped)"
  check_eq "the step shows Stopped" Stopped "$(step_field stopped hang phase)"
  k delete plx deleted --wait=false >/dev/null
  check "deleting the execution removes its Jobs" wait_for 60 bash -c "[[ -z \$(kubectl -n $NS get jobs -l stepline.dev/execution=deleted -o name) ]]"
  check "and their pods" wait_for 60 bash -c "[[ -z \$(kubectl -n $NS get pods -l stepline.dev/execution=deleted -o name) ]]"
}

scenario_chaos() {
  pipeline chain '
  - {name: a, command: [sh, -c, "sleep 0.5"]}
  - {name: b, dependsOn: [a], forEach: "[1,2,3]", command: [sh, -c, "sleep 0.5"]}
  - {name: c, dependsOn: [b], command: [sh, -c, "sleep 0.5"]}
  - {name: d, dependsOn: [c], command: ["true"]}'
  local i kills=0
  for i in $(seq 1 10); do execution "run-$i" chain; done
  for i in 1 2 3 4 5; do
    sleep "$(python3 -c 'import random; print(round(random.uniform(0.5, 3.0), 2))')"
    kill_controller KILL
    kills=$((kills + 1))
    start_controller
  done
  check_eq "killed with SIGKILL" 5 "$kills"
  check "every execution finishes" wait_for 240 bash -c \
    "[[ \$(kubectl -n $NS get plx -o 'jsonpath={range .items[*]}{.status.pipelineExecutionStatus}{\"\\n\"}{end}' | grep -c '^Succeeded$') == 10 ]]"
  local dups
  dups=$(k get jobs -o 'jsonpath={range .items[*]}{.metadata.labels.stepline\.dev/execution}/{.metadata.labels.stepline\.dev/step}/{.metadata.labels.stepline\.dev/index}/{.metadata.labels.stepline\.dev/attempt}{"\n"}{end}' | sort | uniq -d)
  check_eq "no (execution, step, index, attempt) has two Jobs" "" "$dups"
  check_eq "six Jobs per execution" 60 "$(k get jobs -o name | wc -l | tr -d ' ')"
}

# Issue #16: kill -9 of the controller while Jobs and pods are deleted out of band at random
# moments; every run still ends, and no (execution, step, index, attempt) ever has two Jobs.
scenario_oob() {
  pipeline fan '
  - {name: a, command: [sh, -c, "sleep 0.5"], retryPolicy: {maxAttempts: 6, intervalSeconds: 0}}
  - name: b
    dependsOn: [a]
    forEach: "[1,2,3,4]"
    command: [sh, -c, "sleep 1"]
    retryPolicy: {maxAttempts: 6, intervalSeconds: 0}
  - {name: c, dependsOn: [b], command: ["true"], retryPolicy: {maxAttempts: 6, intervalSeconds: 0}}'
  local i round kills=0 job_deletes=0 pod_deletes=0 victim start=$SECONDS
  for i in $(seq 1 8); do execution "run-$i" fan; done
  for round in $(seq 1 12); do
    sleep "$(python3 -c 'import random; print(round(random.uniform(0.3, 1.5), 2))')"
    victim=$(k get jobs -o name 2>/dev/null | shuf -n 1)
    if [[ -n $victim ]] && k delete "$victim" --wait=false >/dev/null 2>&1; then
      job_deletes=$((job_deletes + 1))
    fi
    victim=$(k get pods -o name 2>/dev/null | shuf -n 1)
    if [[ -n $victim ]] && k delete "$victim" --wait=false >/dev/null 2>&1; then
      pod_deletes=$((pod_deletes + 1))
    fi
    if ((round % 3 == 0)); then
      kill_controller KILL
      kills=$((kills + 1))
      start_controller
    fi
  done
  e2e_log "chaos: $kills kill -9, $job_deletes Jobs and $pod_deletes pods deleted out of band"
  check "some Jobs and pods were deleted out of band" test $((job_deletes + pod_deletes)) -ge 6
  check "every execution ends" wait_for 300 bash -c \
    "[[ \$(kubectl -n $NS get plx -o 'jsonpath={range .items[*]}{.status.pipelineExecutionStatus}{\"\\n\"}{end}' | grep -cE '^(Succeeded|Failed|Stopped)$') == 8 ]]"
  e2e_log "all 8 ended $((SECONDS - start)) s after the first was applied"
  check_eq "and succeeded (Jobs recreated, disruptions retried)" 8 \
    "$(k get plx -o 'jsonpath={range .items[*]}{.status.pipelineExecutionStatus}{"\n"}{end}' | grep -c '^Succeeded$')"
  local dups
  dups=$(k get jobs -o 'jsonpath={range .items[*]}{.metadata.labels.stepline\.dev/execution}/{.metadata.labels.stepline\.dev/step}/{.metadata.labels.stepline\.dev/index}/{.metadata.labels.stepline\.dev/attempt}{"\n"}{end}' | sort | uniq -d)
  check_eq "no (execution, step, index, attempt) has two Jobs" "" "$dups"
}

start_controller
"scenario_$SCENARIO"
e2e_finish
