#!/usr/bin/env bash
# End-to-end: the kubectl plugin (build/bin/kubectl-stepline) against real runs on the test
# server with the local agent and the controller. One scenario per call: plugin_test.sh SCENARIO.
#   run    start, list, get (tree: retried step, fan-out with a failed child, approval wait),
#          logs (attempts, a fan-out child, -f across retries and to a step's end), kubectl logs
#          through pods/log, watch (exit 0 / 1), approve/reject errors and approve, graph
#          (svg with every step, png, a pipeline's dot), the ui page in headless Chromium,
#          rerun (a new run reusing the source's results), stop, delete, completion, missing
#          permissions.
#   quota  a step waiting for quota shown with the quota's message; stop; watch exits 1.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCENARIO=${1:?usage: plugin_test.sh run|quota}
e2e_init "plugin-$SCENARIO"
PLUGIN="$BIN_DIR/kubectl-stepline"
ARTIFACTS="${STEPLINE_TEST_ARTIFACTS:-$E2E_ROOT/build/test-artifacts}"
mkdir -p "$ARTIFACTS"
sl() { "$PLUGIN" -n "$NS" "$@"; }
contains() { grep -qF -- "$2" <<<"$1"; }  # TEXT NEEDLE
check_has() { if contains "$2" "$3"; then ok "$1"; else fail "$1: [$3] not in:"$'\n'"$2"; fi; }
step_phase_is() { [[ $(step_field "$1" "$2" phase) == "$3" ]]; }

apply() { k apply -f - >/dev/null; }

scenario_run() {
  start_controller
  apply <<'YAML'
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: tour}
spec:
  parameters: [{name: greeting, type: String, default: hello}]
  stepDefaults: {image: busybox}
  steps:
  - {name: prepare, command: [sh, -c, "echo {{parameters.greeting}} from prepare"]}
  - name: flaky
    dependsOn: [prepare]
    command: [sh, -c, "sleep 1; echo attempt $STEPLINE_ATTEMPT; test $STEPLINE_ATTEMPT -ge 2"]
    retryPolicy: {maxAttempts: 2, intervalSeconds: 1}
  - name: train
    dependsOn: [prepare]
    forEach: '["fr","ch","de"]'
    onFailure: Continue
    command: [sh, -c, "echo training {{item}}; test {{item}} != ch"]
  - name: slow
    dependsOn: [flaky]
    command: [sh, -c, "for i in 1 2 3 4 5; do echo tick $i; sleep 1; done"]
  - {name: gate, type: Approval, dependsOn: [slow, train]}
  - {name: publish, dependsOn: [gate], command: [sh, -c, "echo published"]}
---
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: doomed}
spec:
  steps:
  - {name: crash, image: busybox, command: [sh, -c, "echo about to fail; exit 3"]}
YAML
  local out code
  out=$(sl start tour -p nope=1 2>&1); code=$?
  check_eq "start: an unknown parameter is refused" 2 "$code"
  check_has "start: the error names the parameter and the known ones" "$out" \
    'pipeline "tour" has no parameter "nope" (its parameters: greeting)'
  out=$(sl start ghost 2>&1)
  check_has "start: a missing pipeline" "$out" "pipeline \"ghost\" not found in namespace \"$NS\""
  out=$(sl start tour -p greeting=hi --name tour-1 2>&1)
  check_eq "start: created" "pipelineexecution.stepline.dev/tour-1 created" "$out"

  # Followers started before the steps run: across the retry, and a step to its end.
  timeout 120 "$PLUGIN" -n "$NS" logs tour-1 flaky -f >"$E2E_WORK/flaky.log" 2>"$E2E_WORK/flaky.err" &
  local flaky_pid=$!
  timeout 120 "$PLUGIN" -n "$NS" logs tour-1 slow -f >"$E2E_WORK/slow.log" 2>&1 &
  local slow_pid=$!
  timeout 180 "$PLUGIN" -n "$NS" watch tour-1 >"$E2E_WORK/watch.out" 2>&1 &
  local watch_pid=$!

  check "the run reaches its approval" wait_for 120 step_phase_is tour-1 gate Waiting
  wait "$flaky_pid"; code=$?
  check_eq "logs -f flaky: ends when the step has ended" 0 "$code"
  check_eq "logs -f flaky: both attempts, in order" "attempt 1 attempt 2" "$(xargs <"$E2E_WORK/flaky.log")"
  check_has "logs -f flaky: attempt headers" "$(cat "$E2E_WORK/flaky.err")" "==> flaky attempt 2 (pod tour-1-flaky-2-"
  wait "$slow_pid"; code=$?
  check_eq "logs -f slow: follows the running step to its end" 0 "$code"
  check_eq "logs -f slow: every line" "tick 1 tick 2 tick 3 tick 4 tick 5" \
    "$(grep tick "$E2E_WORK/slow.log" | xargs)"

  out=$(sl get tour-1)
  check_has "get: header" "$out" "Status:      Executing"
  check "get: the retried step with its attempts" grep -qE 'flaky +Succeeded +2 ' <<<"$out"
  check "get: the retried step's last failure (from its StepRetrying event)" \
    grep -qE 'flaky +Succeeded +2 .*last failure: Error' <<<"$out"
  check_has "get: the fan-out summarised" "$out" "train "
  check_has "get: fan-out counts with the failed child" "$out" "2/3 ✓, 1 failed [ch: Error]"
  check_has "get: the approval wait" "$out" "‖ gate"
  check_has "get: a join names the dependency the tree does not show" "$out" "also after train"
  check_has "get: how to answer it" "$out" "waiting for approval: kubectl stepline approve tour-1 gate"
  check_has "get: tree order" "$(grep -o '[a-z]*  *[A-Z][a-zA-Z]*  ' <<<"$out" | awk '{print $1}' | xargs)" \
    "prepare flaky slow gate publish train"
  check "get: no colour when not a terminal" bash -c "! grep -q $'\033' <<<\"\$1\"" _ "$out"
  check_eq "get -o json: the object" tour-1 "$(sl get tour-1 -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["name"])')"
  check_has "get -o yaml" "$(sl get tour-1 -o yaml)" "pipelineName: tour"
  out=$(sl get nope 2>&1); code=$?
  check_eq "get: a missing run exits 1" 1 "$code"
  check_has "get: a missing run, said so" "$out" "error: run \"nope\" not found in namespace \"$NS\""

  out=$(sl list)
  check "list: the run with status and progress" grep -qE '^tour-1 +tour +Executing +[0-9]+/8 ' <<<"$out"
  check_has "list -A: the namespace column" "$(sl list -A)" "$NS"
  check_has "list -l: nothing matches" "$(sl list -l nosuch=1 2>&1)" "No runs found in namespace $NS."

  out=$(sl logs tour-1 flaky)
  check_eq "logs: every attempt" "attempt 1 attempt 2" "$(xargs <<<"$out")"
  check_eq "logs --attempt 1" "attempt 1" "$(sl logs tour-1 flaky --attempt 1 2>/dev/null)"
  check_eq "logs --index: a fan-out child" "training ch" "$(sl logs tour-1 train --index 1)"
  out=$(sl logs tour-1 train 2>&1)
  check_has "logs: a fan-out needs --index" "$out" 'step "train" is a fan-out of 3 children: choose a child with --index (0..2)'
  check_has "logs: an approval has no logs" "$(sl logs tour-1 gate 2>&1)" "it runs no pod, so it has no logs"
  check_has "logs: a missing step" "$(sl logs tour-1 nostep 2>&1)" 'step "nostep" not found in run "tour-1"; its steps: prepare, flaky'
  check_eq "logs --tail 1" "tick 5" "$(sl logs tour-1 slow --tail 1)"

  local pod
  pod=$(k get pods -l stepline.dev/execution=tour-1,stepline.dev/step=prepare -o 'jsonpath={.items[0].metadata.name}')
  check_eq "kubectl logs through pods/log" "hi from prepare" "$(k logs "$pod")"
  check_eq "kubectl logs --tail" "tick 5" "$(k logs --tail=1 "$(k get pods -l stepline.dev/step=slow -o 'jsonpath={.items[0].metadata.name}')")"
  check_has "kubectl logs: a wrong container" "$(k logs "$pod" -c nope 2>&1)" "container nope is not valid for pod $pod"
  check_has "kubectl logs: a missing pod" "$(k logs nopod 2>&1)" 'pods "nopod" not found'
  check_has "kubectl logs --previous: no previous container" "$(k logs "$pod" --previous 2>&1)" "previous terminated container"

  out=$(sl approve tour-1 publish 2>&1)
  check_has "approve: a container step" "$out" 'step "publish" of run "tour-1" is a Container step, not an Approval step'
  check_has "approve: a missing step" "$(sl approve tour-1 nostep 2>&1)" 'step "nostep" not found in run "tour-1"'
  check_has "reject: a missing run" "$(sl reject ghost gate 2>&1)" "run \"ghost\" not found in namespace \"$NS\""

  # Nothing is exposed to the cluster: the ui listens on 127.0.0.1 with our credentials.
  ui_check
  graph_check

  out=$(sl approve tour-1 gate --message "ok by the test")
  check_eq "approve" 'step "gate" of run "tour-1" approved' "$out"
  check_eq "the signal is in spec.signals" "gate Succeeded ok by the test" \
    "$(jp plx/tour-1 '{.spec.signals[0].step} {.spec.signals[0].outcome} {.spec.signals[0].message}')"
  wait "$watch_pid"; code=$?
  check_eq "watch: exits 0 when the run Succeeded" 0 "$code"
  check_has "watch: the last view" "$(cat "$E2E_WORK/watch.out")" "Status:      Succeeded"
  check_has "approve: no longer waiting" "$(sl approve tour-1 gate 2>&1)" 'is not waiting for approval (phase Succeeded)'
  check_has "stop: a finished run" "$(sl stop tour-1 2>&1)" 'run "tour-1" has already finished (Succeeded); nothing to stop'

  out=$(sl rerun tour-1 --from-failed --steps publish 2>&1); code=$?
  check_eq "rerun: --from-failed and --steps exclude each other" 2 "$code"
  out=$(sl rerun tour-1 --steps publish --name tour-2 2>&1)
  check_eq "rerun: created" "pipelineexecution.stepline.dev/tour-2 created (re-runs tour-1)" "$out"
  check_eq "rerun: spec.rerunOf and the source's parameters" "tour-1 publish tour greeting=hi" \
    "$(jp plx/tour-2 '{.spec.rerunOf.execution} {.spec.rerunOf.steps[0]} {.spec.pipelineName} {.spec.pipelineParameters[0].name}={.spec.pipelineParameters[0].value}')"
  check "rerun: the re-run succeeds" wait_for 60 plx_is tour-2 Succeeded
  check_eq "rerun: the rest is reused from tour-1" "tour-1 tour-1" \
    "$(jp plx/tour-2 '{.status.steps[?(@.name=="prepare")].reusedFrom} {.status.steps[?(@.name=="gate")].reusedFrom}')"
  check_eq "rerun: one Job, for publish" "tour-2-publish-1" "$(jobs_of tour-2 | xargs)"

  out=$(sl start doomed); code=$?
  local doomed=${out#pipelineexecution.stepline.dev/}; doomed=${doomed% created}
  check "start --generate-name: a generated name" grep -qE '^doomed-[a-z0-9]{5}$' <<<"$doomed"
  timeout 120 "$PLUGIN" -n "$NS" watch "$doomed" >"$E2E_WORK/watch2.out" 2>&1; code=$?
  check_eq "watch: exits 1 when the run Failed" 1 "$code"
  check_has "watch: the failure" "$(cat "$E2E_WORK/watch2.out")" "Status:      Failed"
  check_has "list --pipeline" "$(sl list --pipeline doomed)" "$doomed"
  check "list --pipeline: only that pipeline" bash -c "! grep -q tour-1 <<<\"\$1\"" _ "$(sl list --pipeline doomed)"
  check_eq "delete" "pipelineexecution.stepline.dev \"$doomed\" deleted" "$(sl delete "$doomed")"
  check_has "delete: gone" "$(sl get "$doomed" 2>&1)" "not found"

  completion_check
  permission_check
}

ui_check() {
  local port log="$E2E_WORK/ui.log"
  port=$(free_port)
  "$PLUGIN" -n "$NS" ui --port "$port" >"$log" 2>&1 &
  local ui_pid=$!
  E2E_PIDS+=("$ui_pid")
  check "ui: serving" wait_for 10 grep -q "http://127.0.0.1:$port/" "$log"
  check "ui: on loopback only" bash -c "ss -ltn | grep -q '127.0.0.1:$port '"
  if ! command -v chromium >/dev/null; then fail "ui: chromium is not installed (scripts/setup.sh --test)"; return; fi
  local url="http://127.0.0.1:$port/run?ns=$NS&name=tour-1&step=flaky" dom shot="$ARTIFACTS/plugin_ui.png"
  local browser=(chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage
                 --no-first-run --hide-scrollbars --user-data-dir="$E2E_WORK/chromium")
  dom=$(timeout 60 "${browser[@]}" --dump-dom "$url" 2>/dev/null)
  for step in prepare flaky train slow gate publish; do
    check_has "ui: the page shows step $step" "$dom" "$step</"
  done
  check_has "ui: the graph is inline SVG with the steps" "$dom" '<title>gate</title>'
  check_has "ui: live status of the approval" "$dom" "‖ Waiting"
  check_has "ui: the fan-out's counts" "$dom" "2/3 ✓, 1 failed [ch: Error]"
  check_has "ui: the selected step's log" "$dom" "attempt 2"
  check_has "ui: reloads while the run goes on" "$dom" 'http-equiv="refresh"'
  rm -f "$shot"
  timeout 60 "${browser[@]}" --window-size=1280,1000 --screenshot="$shot" "$url" >/dev/null 2>&1
  check "ui: a screenshot was taken ($shot)" bash -c "[[ \$(head -c 4 '$shot' | tail -c 3) == PNG ]]"
  check_has "ui: the list page" "$(curl -sf "http://127.0.0.1:$port/?ns=$NS")" ">tour-1</a>"
  check_has "ui: a missing run" "$(curl -s "http://127.0.0.1:$port/run?ns=$NS&name=ghost")" "run &quot;ghost&quot; not found"
  kill -TERM "$ui_pid"
  check "ui: stops on SIGTERM" wait_for 10 bash -c "! kill -0 $ui_pid 2>/dev/null"
}

graph_check() {
  local svg="$E2E_WORK/g.svg" png="$ARTIFACTS/plugin_graph.png"
  sl graph tour-1 -o svg >"$svg"
  check "graph -o svg: valid XML" python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$svg"
  for step in prepare flaky train slow gate publish; do
    check "graph -o svg: step $step" grep -qF "<title>$step</title>" "$svg"
  done
  check "graph -o svg: the fan-out is one node with its counts" grep -qF "train ×3" "$svg"
  sl graph tour-1 -o png --file "$png" 2>/dev/null
  check "graph -o png --file: a PNG" bash -c "[[ \$(head -c 4 '$png' | tail -c 3) == PNG ]]"
  check_has "graph PIPELINE -o dot" "$(sl graph pipeline/tour -o dot)" '"flaky" -> "slow";'
  check_has "graph: neither run nor pipeline" "$(sl graph ghost 2>&1)" "no run or pipeline named \"ghost\" in namespace \"$NS\""
}

completion_check() {
  check_has "completion: run names" "$(sl __complete get '')" "tour-1"
  check_eq "completion: approval steps" "gate :4" "$(sl __complete approve tour-1 '' | xargs)"
  check_has "completion: through kubectl (kubectl_complete-stepline)" \
    "$(PATH="$BIN_DIR:$PATH" kubectl __complete stepline -n "$NS" logs tour-1 '' 2>/dev/null)" "slow"
  check_has "completion bash" "$(sl completion bash | bash -n && echo fine)" "fine"
  check "kubectl finds the plugin" bash -c "PATH='$BIN_DIR':\$PATH kubectl plugin list 2>/dev/null | grep -q kubectl-stepline"
}

permission_check() {
  local kc="$E2E_WORK/nobody.kubeconfig" server ca out
  server=$(kubectl config view --raw --minify -o 'jsonpath={.clusters[0].cluster.server}')
  KUBECONFIG="$kc" kubectl config set-cluster t --server="$server" \
    --certificate-authority="${STEPLINE_TESTENV_CA:?}" >/dev/null
  KUBECONFIG="$kc" kubectl config set-credentials nobody --token="${STEPLINE_TESTENV_NOBODY_TOKEN:?}" >/dev/null
  KUBECONFIG="$kc" kubectl config set-context t --cluster=t --user=nobody --namespace="$NS" >/dev/null
  KUBECONFIG="$kc" kubectl config use-context t >/dev/null
  out=$("$PLUGIN" --kubeconfig "$kc" list 2>&1)
  check_has "permission: which verb on which resource" "$out" \
    "you may not list pipelineexecutions.stepline.dev in namespace \"$NS\" (your credentials lack the RBAC permission: verb \"list\""
  out=$("$PLUGIN" --kubeconfig "$kc" approve tour-1 gate 2>&1)
  check_has "permission: approve without get" "$out" "you may not get pipelineexecutions.stepline.dev"
}

scenario_quota() {
  start_controller
  apply <<'YAML'
apiVersion: v1
kind: ResourceQuota
metadata: {name: small}
spec: {hard: {requests.cpu: "1"}}
---
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: hog}
spec:
  steps:
  - name: big
    image: busybox
    command: [sh, -c, "echo never"]
    resources: {requests: {cpu: "2"}, limits: {cpu: "2"}}
YAML
  sl start hog --name hog-1 >/dev/null
  timeout 120 "$PLUGIN" -n "$NS" watch hog-1 >"$E2E_WORK/watch.out" 2>&1 &
  local watch_pid=$! out code
  check "the step waits for quota" wait_for 60 step_phase_is hog-1 big WaitingForQuota
  out=$(sl get hog-1)
  check_has "get: the quota wait" "$out" "◔ big"
  check_has "get: the quota's message" "$out" "exceeded quota: small"
  check_eq "stop" 'run "hog-1" stopping (spec.stop: true); its running Jobs are deleted' "$(sl stop hog-1)"
  wait "$watch_pid"; code=$?
  check_eq "watch: exits 1 when the run is Stopped" 1 "$code"
  check_has "watch: the last view" "$(cat "$E2E_WORK/watch.out")" "Status:      Stopped"
}

"scenario_$SCENARIO"
e2e_finish
