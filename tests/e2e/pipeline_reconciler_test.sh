#!/usr/bin/env bash
# End-to-end: the Pipeline reconciler of stepline-controller against a real API server.
#   a valid Pipeline becomes Ready=True with the STEPS column filled (`kubectl get pipelines`),
#   and `kubectl wait --for=condition=Ready` returns;
#   an invalid one (a dependency cycle) shows Ready=False, reason InvalidDefinition, and the
#   message naming the steps in `kubectl describe pipeline`, with an InvalidDefinition event;
#   fixing it (`kubectl apply` again) flips it to Ready; the manifests/examples Pipelines get the
#   verdict their comments promise.
# Needs KUBECONFIG (scripts/test.sh sets it after eval "$(testenv/up.sh)") and kubectl on PATH.
# The controller binary: the first argument, else $STEPLINE_BIN_DIR/stepline-controller
# (default: $STEPLINE_BUILD_DIR/bin, else the repository's build/bin). It runs in a namespace of
# its own and is stopped at the end. Prints one line per check and "N passed, N failed"; exits
# non-zero when a check failed. With STEPLINE_E2E_SHOW=1 it also prints the kubectl output.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DEFAULT_BIN_DIR="${STEPLINE_BUILD_DIR:-$ROOT/build}/bin"
BIN="${1:-${STEPLINE_BIN_DIR:-$DEFAULT_BIN_DIR}/stepline-controller}"
NS="pipeline-e2e-$$-$RANDOM"
WORK="$(mktemp -d /tmp/stepline-pipeline-e2e.XXXXXX)"
OUT="$WORK/out"
PASSED=0
FAILED=0
CONTROLLER_PID=""

pass() { PASSED=$((PASSED + 1)); echo "PASS $1"; }
fail() {
  FAILED=$((FAILED + 1))
  echo "FAIL $1"
  [[ -s $OUT ]] && sed 's/^/     | /' "$OUT" | head -20
}
# check NAME CMD...: the command succeeds (its output goes to $OUT).
check() {
  local name="$1"
  shift
  if "$@" >"$OUT" 2>&1; then pass "$name"; else fail "$name"; fi
}
show() { [[ ${STEPLINE_E2E_SHOW:-} == 1 ]] && sed 's/^/    /' "$OUT"; return 0; }

cleanup() {
  if [[ -n $CONTROLLER_PID ]]; then
    kill -TERM "$CONTROLLER_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$CONTROLLER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$CONTROLLER_PID" 2>/dev/null
  fi
  kubectl delete pipelines -n "$NS" --all --wait=false >/dev/null 2>&1
  kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1
  if ((FAILED)) && [[ -f $WORK/controller.log ]]; then
    echo "--- controller log (last 30 lines)"
    tail -n 30 "$WORK/controller.log"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [[ ! -x $BIN ]]; then echo "no controller binary at $BIN"; echo "0 passed, 1 failed"; exit 1; fi
if [[ -z ${KUBECONFIG:-} ]]; then echo "KUBECONFIG is not set"; echo "0 passed, 1 failed"; exit 1; fi

k() { kubectl -n "$NS" "$@"; }
# A Pipeline named $1 whose steps are $2 (YAML flow lists, indented by 4).
pipeline() {
  printf 'apiVersion: stepline.dev/v1alpha1\nkind: Pipeline\nmetadata: {name: %s}\nspec:\n' "$1"
  printf '  parameters:\n    - {name: horizon, default: "1d", enum: ["1d", "1w"]}\n'
  printf '  stepDefaults: {image: registry.example/ml:1.4}\n  steps:\n%s\n' "$2"
}
VALID_STEPS='    - {name: prepare, command: [sh, -c, "echo {{parameters.horizon}}"]}
    - {name: train, dependsOn: [prepare], forEach: "[\"fr\", \"de\"]", command: [sh, -c, "echo {{item}}"]}
    - {name: evaluate, dependsOn: [train], command: [sh, -c, "echo ok"]}'
CYCLE_STEPS='    - {name: prepare, dependsOn: [evaluate], command: [sh, -c, "echo {{parameters.horizon}}"]}
    - {name: train, dependsOn: [prepare], command: [sh, -c, "echo train"]}
    - {name: evaluate, dependsOn: [train], command: [sh, -c, "echo ok"]}'
CYCLE_MESSAGE='spec.steps: dependency cycle: prepare -> evaluate -> train -> prepare'

ready_of() { k get pipeline "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'; }
# wait_ready NAME STATUS: the Ready condition of pipeline NAME becomes STATUS within 60 s.
wait_ready() {
  local deadline=$(($(date +%s) + 60))
  until [[ $(ready_of "$1" 2>/dev/null) == "$2" ]]; do
    (($(date +%s) >= deadline)) && { echo "Ready of $1 is '$(ready_of "$1" 2>&1)', not $2"; return 1; }
    sleep 0.2
  done
}
# get_row NAME STEPS READY: `kubectl get pipelines` shows NAME with those STEPS and READY columns.
get_row() {
  k get pipelines >"$WORK/get" 2>&1
  cat "$WORK/get"
  head -n1 "$WORK/get" | grep -qE '^NAME +STEPS +READY +AGE' &&
    awk -v n="$1" -v s="$2" -v r="$3" '$1 == n && $2 == s && $3 == r { found = 1 } END { exit !found }' \
      "$WORK/get"
}
describe_has() { # NAME FRAGMENT...: `kubectl describe pipeline NAME` holds every FRAGMENT
  local name="$1" fragment
  shift
  k describe pipeline "$name" >"$WORK/describe" 2>&1
  cat "$WORK/describe"
  for fragment in "$@"; do # runs of spaces compare as one
    tr -s ' ' <"$WORK/describe" | grep -qF -- "$fragment" || { echo "(missing: $fragment)"; return 1; }
  done
}
event_count() { # REASON NAME: how often an event with that reason was recorded about NAME
  k get events -o json 2>/dev/null | python3 -c '
import json, sys
items = json.load(sys.stdin).get("items", [])
print(sum(e.get("count") or 1 for e in items if e.get("reason") == sys.argv[1]
          and e.get("involvedObject", {}).get("name") == sys.argv[2]))' "$1" "$2"
}
has_event() { # REASON NAME: such an event appears within 10 s
  for _ in $(seq 50); do
    [[ $(event_count "$1" "$2") -ge 1 ]] && return 0
    sleep 0.2
  done
  k get events 2>&1
  return 1
}

# ---- setup: CRDs, a namespace, the controller watching only it ----
check "CRDs apply" kubectl apply --server-side --force-conflicts -f "$ROOT/crds/"
check "CRDs are Established" kubectl wait --for condition=established --timeout=60s \
  crd/pipelines.stepline.dev crd/pipelineexecutions.stepline.dev
check "namespace $NS is created" kubectl create namespace "$NS"
"$BIN" --kubeconfig "$KUBECONFIG" --namespace "$NS" --metrics-bind-address 127.0.0.1:0 \
  --health-probe-bind-address 127.0.0.1:0 >"$WORK/controller.log" 2>&1 &
CONTROLLER_PID=$!
sleep 1
check "the controller is running" kill -0 "$CONTROLLER_PID"

# ---- a valid Pipeline ----
check "a valid Pipeline is applied" k apply -f - < <(pipeline forecast "$VALID_STEPS")
check "kubectl wait --for=condition=Ready returns" \
  k wait --for=condition=Ready --timeout=60s pipeline/forecast
check "kubectl get pipelines: STEPS 3, READY True" get_row forecast 3 True
show
check "kubectl describe: Ready True, reason Valid, observedGeneration 1" \
  describe_has forecast "Step Count: 3" "Reason: Valid" "Observed Generation: 1" "Status: True"
show

# ---- an invalid Pipeline: a cycle ----
check "a Pipeline with a cycle is admitted (only the controller can see it)" \
  k apply -f - < <(pipeline cycle "$CYCLE_STEPS")
check "it becomes Ready=False" wait_ready cycle False
check "kubectl wait --for=condition=Ready=False returns" \
  k wait --for=condition=Ready=False --timeout=30s pipeline/cycle
check "kubectl get pipelines: STEPS 3, READY False" get_row cycle 3 False
show
check "kubectl describe: InvalidDefinition and the message naming the cycle" \
  describe_has cycle "InvalidDefinition" "$CYCLE_MESSAGE"
show
check "an InvalidDefinition event is recorded on it" has_event InvalidDefinition cycle

# ---- fixing it ----
check "the fixed Pipeline is applied" k apply -f - < <(pipeline cycle "$VALID_STEPS")
check "it flips to Ready=True" wait_ready cycle True
check "kubectl wait --for=condition=Ready returns for the fixed one" \
  k wait --for=condition=Ready --timeout=30s pipeline/cycle
check "its status observes generation 2" \
  test "$(k get pipeline cycle -o 'jsonpath={.status.observedGeneration}')" = 2
check "kubectl get pipelines: the fixed one shows READY True" get_row cycle 3 True
check "a Valid event is recorded when it is fixed" has_event Valid cycle
check "the InvalidDefinition event was recorded once" test "$(event_count InvalidDefinition cycle)" = 1

# ---- the examples ----
for example in forecast-pipeline:forecast-example:True invalid-cycle-pipeline:cycle-example:False; do
  IFS=: read -r file name want <<<"$example"
  path="$ROOT/manifests/examples/$file.yaml"
  [[ -f $path ]] || continue
  check "example $file.yaml is applied (as $name)" \
    k apply -f - < <(sed "s/^  name: .*/  name: $name/" "$path")
  check "example $file.yaml becomes Ready=$want" wait_ready "$name" "$want"
done

check "the controller is still running" kill -0 "$CONTROLLER_PID"

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
