#!/usr/bin/env bash
# The local demo: sets up and builds, starts a real Kubernetes API server with the local agent
# (two simulated nodes, one with a GPU) and the controller, applies the examples of
# manifests/examples/, and follows the executions live until they settle. Then it prints what
# to try next; the stack keeps running until `./scripts/demo.sh --down`.
#
#   ./scripts/demo.sh          everything above
#   ./scripts/demo.sh --up     only start the stack and print the export line (no examples)
#   ./scripts/demo.sh --down   stop everything a previous run started
#   CI=true ./scripts/demo.sh  non-interactive: plain output, the stack is stopped at the end
#                              unless --keep is given
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${STEPLINE_BUILD_DIR:-$ROOT/build}"
STATE="${STEPLINE_DEMO_STATE:-$BUILD_DIR/demo}"
NS="${STEPLINE_DEMO_NAMESPACE:-stepline-demo}"
TIMEOUT="${STEPLINE_DEMO_TIMEOUT:-420}"
MODE=demo KEEP=""
for arg in "$@"; do
  case "$arg" in
    --up) MODE=up ;;
    --down) MODE=down ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done
[[ -z $KEEP && ${CI:-} != true ]] && KEEP=1

say() { echo "==> $*"; }
die() { echo "demo.sh: $*" >&2; exit 1; }

down() {
  [[ -f $STATE/controller.pid ]] && kill -TERM "$(cat "$STATE/controller.pid")" 2>/dev/null || true
  [[ -d $STATE/testenv ]] && "$ROOT/testenv/down.sh" "$STATE/testenv" >/dev/null 2>&1 || true
  rm -f "$STATE/controller.pid" "$STATE/env"
  say "stopped the demo stack"
}

up() {
  if [[ -f $STATE/env ]] && source "$STATE/env" && kubectl get ns >/dev/null 2>&1; then
    say "the demo stack is already running (KUBECONFIG=$KUBECONFIG)"
    return
  fi
  rm -rf "$STATE" && mkdir -p "$STATE"
  say "setting up and building (log: $BUILD_DIR/logs/)"
  "$ROOT/scripts/setup.sh" 2>&1 | sed 's/^==> /    /'
  say "starting the test API server and the local agent (first run builds the server: ~6-10 min)"
  STEPLINE_AGENT_ARGS="--node name=node-a,cpu=4,memory=8Gi --node name=node-gpu,cpu=4,memory=8Gi,nvidia.com/gpu=1" \
    "$ROOT/testenv/up.sh" --dir "$STATE/testenv" --agent >"$STATE/env" 2>"$STATE/testenv.log" \
    || { tail -n 20 "$STATE/testenv.log"; die "the test server did not start; see $STATE/testenv.log"; }
  source "$STATE/env"
  say "starting the controller (log: $STATE/controller.log)"
  "$BUILD_DIR/bin/stepline-controller" --kubeconfig "$KUBECONFIG" \
    --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 \
    >"$STATE/controller.log" 2>&1 &
  echo $! >"$STATE/controller.pid"
}

settled() { # every execution is finished, or waits for an approval that the demo never gives
  kubectl get plx -n "$NS" -o json | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
def done(x):
    st = x.get("status", {})
    if st.get("pipelineExecutionStatus") in ("Succeeded", "Failed", "Stopped"): return True
    return any(s.get("phase") == "Waiting" for s in st.get("steps", []))
sys.exit(0 if items and all(done(x) for x in items) else 1)'
}

follow() { # prints a line whenever an execution changes, until all settle
  local deadline=$(($(date +%s) + TIMEOUT)) seen="" now
  while :; do
    now=$(kubectl get plx -n "$NS" --no-headers -o custom-columns='NAME:.metadata.name,STATUS:.status.pipelineExecutionStatus,PROGRESS:.status.progress' 2>/dev/null | sort)
    diff <(echo "$seen") <(echo "$now") | sed -n 's/^> /  '"$(date +%H:%M:%S)"'  /p' | column -t || true
    seen=$now
    settled && return 0
    (($(date +%s) >= deadline)) && { echo "  (still running after ${TIMEOUT}s)"; return 1; }
    sleep 2
  done
}

apply_examples() {
  say "applying the examples of manifests/examples/ in namespace $NS"
  kubectl create namespace "$NS" >/dev/null 2>&1 || true
  local f
  for f in "$ROOT"/manifests/examples/*.yaml; do
    kubectl apply -n "$NS" -f "$f" 2>&1 | sed 's/^/    /'
  done
}

next_steps() {
  cat <<TXT

==> try it yourself
    export KUBECONFIG=$KUBECONFIG PATH=$(dirname "$(command -v kubectl)"):\$PATH
    kubectl get pl,plx -n $NS                 # pipelines and executions
    kubectl get plx -n $NS -o wide            # with the failure reason
    kubectl describe plx -n $NS <name>        # steps, conditions, events
    kubectl get jobs,pods -n $NS              # the Jobs each step ran
    step logs: $STATE/testenv/agent/ (one log file per pod; see $STATE/testenv/agent.log)
    controller log: $STATE/controller.log

==> stop everything: ./scripts/demo.sh --down
TXT
}

case "$MODE" in
  down) down; exit 0 ;;
  up) up; echo "export KUBECONFIG=$KUBECONFIG PATH=$(dirname "$(command -v kubectl)"):\$PATH"; exit 0 ;;
esac

start=$(date +%s)
up
apply_examples
say "following the executions (kubectl get plx -n $NS)"
status=0
follow || status=1
echo
kubectl get plx -n "$NS" -o wide
say "demo finished in $(($(date +%s) - start))s"
if [[ -n $KEEP ]]; then next_steps; else down; fi
exit $status
