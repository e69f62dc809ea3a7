#!/usr/bin/env bash
# The local demo: sets up and builds, starts a real Kubernetes API server with the local agent
# (two simulated nodes, one with a GPU) and the controller, applies the examples of
# manifests/examples/, and follows the executions live until each reaches the state its
# example expects. Then it prints what to try next; the stack keeps running until
# `./scripts/demo.sh --down`.
#
#   ./scripts/demo.sh              everything above
#   eval "$(./scripts/demo.sh --up)"   only start the stack; prints its export lines on stdout
#   ./scripts/demo.sh --down       stop everything a previous run started
#   CI=true ./scripts/demo.sh      non-interactive: the stack is stopped at the end unless
#                                  --keep is given
#
# Examples without a namespace go to stepline-demo; the ones that need a namespace of their
# own (a quota, RBAC) declare it. An execution's annotation demo.stepline.dev/expect says where
# it ends: Succeeded (the default), Failed, or STEP=PHASE for one that stays waiting.
# Environment: STEPLINE_DEMO_STATE (default build/demo), STEPLINE_DEMO_TIMEOUT (seconds, 420).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${STEPLINE_BUILD_DIR:-$ROOT/build}"
STATE="${STEPLINE_DEMO_STATE:-$BUILD_DIR/demo}"
NS=stepline-demo
CALLBACK_NS=stepline-demo-callback
TIMEOUT="${STEPLINE_DEMO_TIMEOUT:-420}"
MODE=demo KEEP=""
for arg in "$@"; do
  case "$arg" in
    --up) MODE=up ;;
    --down) MODE=down ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done
[[ -z $KEEP && ${CI:-} != true ]] && KEEP=1

say() { echo "==> $*" >&2; }
die() { echo "demo.sh: $*" >&2; exit 1; }

down() {
  [[ -f $STATE/controller.pid ]] && kill -TERM "$(cat "$STATE/controller.pid")" 2>/dev/null || true
  [[ -d $STATE/testenv ]] && "$ROOT/testenv/down.sh" "$STATE/testenv" >/dev/null 2>&1 || true
  rm -f "$STATE/controller.pid" "$STATE/env"
  say "stopped the demo stack"
}

controller_alive() { [[ -f $STATE/controller.pid ]] && kill -0 "$(cat "$STATE/controller.pid")" 2>/dev/null; }

start_controller() {
  say "starting the controller (log: $STATE/controller.log)"
  "$BUILD_DIR/bin/stepline-controller" --kubeconfig "$KUBECONFIG" \
    --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 \
    --allowed-service-accounts stepline-demo-callback/batch-callback \
    >"$STATE/controller.log" 2>&1 &
  echo $! >"$STATE/controller.pid"
  sleep 1
  controller_alive || { tail -n 20 "$STATE/controller.log" >&2; die "the controller exited at once; see $STATE/controller.log"; }
}

# The callback example's "external batch" Job needs credentials. A real cluster gives it a
# service-account token; the test cluster has none, so it gets a kubeconfig with the test
# cluster's token in a Secret (the token file is $STATE/testenv/tokens.csv).
callback_credentials() {
  local kc="$STATE/callback-kubeconfig"
  (umask 077 && cat >"$kc" <<YAML
apiVersion: v1
kind: Config
clusters: [{name: demo, cluster: {server: "$STEPLINE_TESTENV_SERVER", certificate-authority-data: "$(base64 -w0 <"$STEPLINE_TESTENV_CA")"}}]
users: [{name: callback, user: {token: "$STEPLINE_TESTENV_TOKEN"}}]
contexts: [{name: demo, context: {cluster: demo, user: callback}}]
current-context: demo
YAML
  )
  kubectl create namespace "$CALLBACK_NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  kubectl create secret generic callback-credentials -n "$CALLBACK_NS" --from-file=kubeconfig="$kc" \
    --dry-run=client -o yaml | kubectl apply -f - >/dev/null
}

up() {
  if [[ -f $STATE/env ]] && source "$STATE/env" && kubectl get ns >/dev/null 2>&1; then
    say "the demo stack is already running (KUBECONFIG=$KUBECONFIG)"
    return
  fi
  rm -rf "$STATE" && mkdir -p "$STATE"
  say "setting up and building (log: $BUILD_DIR/logs/)"
  "$ROOT/scripts/setup.sh" 2>&1 | sed 's/^==> /    /' >&2
  say "starting the test API server and the local agent (first run builds the server: ~6-10 min)"
  STEPLINE_AGENT_ARGS="--node name=node-a,cpu=4,memory=8Gi --node name=node-gpu,cpu=4,memory=8Gi,nvidia.com/gpu=1" \
    "$ROOT/testenv/up.sh" --dir "$STATE/testenv" --agent >"$STATE/env" 2>"$STATE/testenv.log" \
    || { tail -n 20 "$STATE/testenv.log" >&2; die "the test server did not start; see $STATE/testenv.log"; }
  printf 'export PATH=%q:"$PATH"\n' "$BUILD_DIR/bin" >>"$STATE/env"  # kubectl stepline
  source "$STATE/env"
  start_controller
  callback_credentials
}

apply_examples() { # every file, into its own namespace or stepline-demo; RBAC only where served
  local f log="$STATE/apply.log" rbac="" own=() rest=()
  say "applying manifests/examples/ (log: $log)"
  kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f - >"$log" 2>&1
  kubectl api-resources --api-group=rbac.authorization.k8s.io -o name 2>/dev/null | grep -q . && rbac=1
  for f in "$ROOT"/manifests/examples/*.yaml; do
    if grep -q '^apiVersion: rbac.authorization.k8s.io/' "$f" && [[ -z $rbac ]]; then
      echo "skipped $f: this server has no RBAC API" >>"$log"
    elif grep -q '/srv/notebooks' "$f"; then  # the image's notebooks: this checkout's (no images here)
      sed "s|/srv/notebooks|$ROOT/manifests/examples/notebooks|" "$f" >"$STATE/${f##*/}"
      rest+=(-f "$STATE/${f##*/}")
    elif grep -qE '^kind: Namespace|^  namespace: ' "$f"; then   # names its own namespace
      own+=(-f "$f")
    else
      rest+=(-f "$f")
    fi
  done
  { kubectl apply "${own[@]}" && kubectl apply -n "$NS" "${rest[@]}"; } >>"$log" 2>&1 ||
    { tail -n 5 "$log" >&2; die "kubectl apply of manifests/examples/ failed; see $log"; }
  echo "    $(grep -c '^pipeline\.' "$log") pipelines and $(grep -c '^pipelineexecution\.' "$log") executions in" \
    "$(kubectl get plx -A --no-headers 2>/dev/null | awk '{print $1}' | sort -u | xargs)" >&2
}

# One line per execution of the demo namespaces: NS/NAME STATUS PROGRESS MET NOTE, where MET is
# yes once the execution is where its demo.stepline.dev/expect annotation says it ends.
read -r -d '' STATES_PY <<'PY' || true
import json, sys
def note_of(steps, st):
    for name, s in steps.items():
        phase, msg = s.get("phase", "Pending"), s.get("message", "")
        if phase in ("Waiting", "WaitingForQuota", "Retrying") or (phase == "Pending" and msg.startswith("0/")):
            return f"{name} {phase}: {msg}"
    return st.get("failureReason", "")
for x in json.load(sys.stdin)["items"]:
    md, st = x["metadata"], x.get("status", {})
    if not md["namespace"].startswith("stepline-demo"):
        continue
    steps = {s["name"]: s for s in st.get("steps", [])}
    status = st.get("pipelineExecutionStatus", "Pending")
    expect = md.get("annotations", {}).get("demo.stepline.dev/expect", "Succeeded")
    step, _, phase = expect.partition("=")
    s = steps.get(step, {})
    if phase == "Pending":  # stays Pending, once the scheduler has said why
        met = s.get("phase", "Pending") == "Pending" and "nodes are available" in s.get("message", "")
    else:
        met = s.get("phase") == phase if phase else status == expect
    print(md["namespace"] + "/" + md["name"], status, st.get("progress", "-"),
          "yes" if met else "no", note_of(steps, st)[:80], sep="\t")
PY
states() { kubectl get plx -A -o json | python3 -c "$STATES_PY"; }

follow() { # prints a line whenever an execution changes, until every one is where it should be
  local deadline=$(($(date +%s) + TIMEOUT)) seen="" now
  while :; do
    now=$(states 2>/dev/null | sort) || now=$seen
    diff <(echo "$seen") <(echo "$now") | sed -n 's/^> //p' | while IFS=$'\t' read -r name status progress _ note; do
      printf '  %s  %-40s %-10s %-6s %s\n' "$(date +%H:%M:%S)" "$name" "$status" "$progress" "$note"
    done
    seen=$now
    [[ -n $now ]] && ! grep -qP '\tno\t' <<<"$now" && return 0
    controller_alive || { echo "  the controller exited; see $STATE/controller.log"; return 1; }
    (($(date +%s) >= deadline)) && { echo "  (not settled after ${TIMEOUT}s)"; return 1; }
    sleep 2
  done
}

summary() { # the final table, and which executions did not end where their example says
  local bad
  echo
  kubectl get plx -A -o wide
  bad=$(states | awk -F'\t' '$4 != "yes" {print $1 " (" $2 ")"}')
  if [[ -n $bad ]]; then
    echo
    say "not where their examples say they end: $(echo $bad)"
    say "see kubectl describe plx -n NAMESPACE NAME, and $STATE/controller.log"
    return 1
  fi
  say "all $(states | wc -l) executions are where their examples say they end"
}

next_steps() {
  cat <<TXT

==> try it yourself
    export KUBECONFIG=$KUBECONFIG PATH=$BUILD_DIR/bin:$(dirname "$(command -v kubectl)"):\$PATH
    kubectl get pl,plx -A                                   # pipelines and executions
    kubectl stepline list -A                                # the same with durations (the plugin)
    kubectl stepline get -n stepline-demo forecast-weekly-42  # a run as a tree of its steps
    kubectl stepline ui -n stepline-demo                    # a read-only page: http://127.0.0.1:8080/
    kubectl get plx -n stepline-demo -o wide                # with the failure reasons
    kubectl describe plx -n stepline-demo resilient-1       # steps, attempts, reasons, events
    kubectl describe plx -n stepline-demo big-memory-16gi   # Pending: the scheduler's message
    kubectl get jobs,pods -n stepline-demo                  # one Job per step attempt
    kubectl get events -n stepline-demo-quota               # the quota refusals and waits
    approve forecast-daily-7 (it waits at its approval step):
      kubectl stepline approve -n stepline-demo forecast-daily-7 approve --message "ok by me"
    step logs (pods/log, every attempt): kubectl stepline logs -n stepline-demo resilient-1 download
    controller log: $STATE/controller.log; agent log: $STATE/testenv/agent.log
    the callback Job's token: Secret $CALLBACK_NS/callback-credentials (from $STATE/testenv/tokens.csv)

==> stop everything: ./scripts/demo.sh --down
TXT
}

case "$MODE" in
  down) down; exit 0 ;;
  up) up; cat "$STATE/env"; exit 0 ;;  # KUBECONFIG, PATH with kubectl, STEPLINE_TESTENV_*
esac

start=$(date +%s)
up
apply_examples
say "following the executions until each is where its example says it ends"
status=0
follow || status=1
summary || status=1
say "demo finished in $(($(date +%s) - start))s"
if [[ -n $KEEP ]]; then next_steps; else down; fi
exit $status
