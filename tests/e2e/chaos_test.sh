#!/usr/bin/env bash
# Chaos as a test (issue #16): executions with fan-outs run while two controller replicas with
# leader election (each under a restart loop, as in a Deployment) are killed with SIGKILL, the
# API server and etcd crash and restart, and Jobs and pods are deleted out of band. Every run
# must end Succeeded, no (execution, step, index, attempt) may have two Jobs, and no step may be
# lost. Prints the recovery time of every fault: from the fault until the executions'
# finished-step count next grows.
#
# It starts its own test API server (testenv/up.sh --agent in a private state dir), since it
# restarts that server and its etcd (testenv/restart.sh).
#
#   chaos_test.sh                       the test command's size: 16 executions, 6 kills
#   CHAOS_EXECUTIONS=50 CHAOS_KILLS=20 chaos_test.sh    the documented full run
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EXECUTIONS=${CHAOS_EXECUTIONS:-16}
KILLS=${CHAOS_KILLS:-6}
export STEPLINE_BUILD_DIR="${STEPLINE_BUILD_DIR:-$(dirname "$BIN_DIR")}"
TENV="$(mktemp -d /tmp/stepline-chaos-env.XXXXXX)"
stop_testenv() { "$E2E_ROOT/testenv/down.sh" "$TENV" >/dev/null 2>&1; rm -rf "$TENV"; }
if ! env_lines="$("$E2E_ROOT/testenv/up.sh" --dir "$TENV" --agent)"; then
  stop_testenv
  echo "FAIL: could not start a private test API server"; echo "0 passed, 1 failed"; exit 1
fi
eval "$env_lines"
e2e_init chaos
trap 'stop_replicas; e2e_cleanup; stop_testenv' EXIT

# ---- two replicas with leader election ------------------------------------------------------
# Each replica runs under a restart loop, as a Deployment's pod would: a replica killed by the
# test, or one that exits by itself (a leader that cannot renew its Lease while the API server or
# etcd is down exits, as controller-runtime's managers do), is started again half a second later.
declare -A LOOP METRICS
start_replica() { # SLOT
  METRICS[$1]=$(free_port)
  local health
  health=$(free_port)
  (
    while [[ ! -e $E2E_WORK/stop ]]; do
      "$BIN_DIR/stepline-controller" --kubeconfig "$KUBECONFIG" --namespace "$NS" \
        --leader-elect --leader-elect-namespace "$NS" --leader-elect-lease-duration 4s \
        --leader-elect-renew-deadline 3s --leader-elect-retry-period 1s \
        --metrics-bind-address "127.0.0.1:${METRICS[$1]}" \
        --health-probe-bind-address "127.0.0.1:$health" >>"$E2E_WORK/controller.log" 2>&1
      sleep 0.5
    done
  ) &
  LOOP[$1]=$!
  disown "${LOOP[$1]}"
}
replica_pid() { pgrep -P "${LOOP[$1]}" -f stepline-controller | head -n 1; }
stop_replicas() {
  local s
  touch "$E2E_WORK/stop"
  for s in "${!LOOP[@]}"; do pkill -KILL -P "${LOOP[$s]}" 2>/dev/null; kill "${LOOP[$s]}" 2>/dev/null; done
}
is_leader() { curl -s "http://127.0.0.1:${METRICS[$1]}/metrics" 2>/dev/null | grep -qx 'stepline_leader 1'; }
leader() { local s; for s in a b; do is_leader "$s" && { echo "$s"; return 0; }; done; return 1; }

# ---- the work ---------------------------------------------------------------------------------
k apply -f - >/dev/null <<'YAML'
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: fan}
spec:
  # Two Jobs at a time per run, so that steps finish every second or so and the finished-step
  # count measures recovery, not the length of a step.
  parallelismConfiguration: {maxParallelExecutionSteps: 2}
  stepDefaults: {image: busybox, retryPolicy: {maxAttempts: 8, intervalSeconds: 0}}
  steps:
  - {name: a, command: [sh, -c, "sleep 0.5"]}
  - {name: b, dependsOn: [a], forEach: "[1,2,3,4,5,6,7,8,9,10,11,12]", command: [sh, -c, "sleep 1"]}
  - {name: c, dependsOn: [b], command: [sh, -c, "sleep 0.5"]}
  - {name: d, dependsOn: [c], command: ["true"]}
YAML
UNITS_PER_RUN=15   # a, twelve children of b, c, d: the units PROGRESS counts
execution() { printf 'apiVersion: stepline.dev/v1alpha1\nkind: PipelineExecution\nmetadata: {name: %s}\nspec: {pipelineName: fan}\n' "$1" | k apply -f - >/dev/null; }
statuses() { k get plx -o 'jsonpath={range .items[*]}{.status.pipelineExecutionStatus}{"\n"}{end}' 2>/dev/null; }
ended() { statuses | grep -cE '^(Succeeded|Failed|Stopped)$'; }
# Finished steps over all executions (the numerators of PROGRESS), or empty when unreadable.
finished_steps() {
  k get plx -o 'jsonpath={range .items[*]}{.status.progress}{"\n"}{end}' 2>/dev/null |
    awk -F/ 'NF == 2 {n += $1} END {print n + 0}'
}

RECOVERY=()
# After a fault: seconds until the finished-step count exceeds BEFORE (or every run applied so
# far has ended).
recovered_after() { # KIND BEFORE T0
  local kind=$1 before=$2 t0=$3 now n
  while :; do
    now=$(date +%s.%N)
    n=$(finished_steps)
    if [[ -n $n ]] && ((n > before)) || [[ $(ended) == "$APPLIED" ]]; then break; fi
    if python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) - float(sys.argv[2]) > 120 else 1)" "$now" "$t0"; then
      RECOVERY+=("$kind:never"); e2e_log "no progress 120 s after $kind"; return 1
    fi
    sleep 0.2
  done
  RECOVERY+=("$kind:$(python3 -c "import sys; print('%.1f' % (float(sys.argv[1]) - float(sys.argv[2])))" "$now" "$t0")")
  e2e_log "recovered from $kind in ${RECOVERY[-1]#*:} s"
}
random_sleep() { sleep "$(python3 -c "import random; print(round(random.uniform($1, $2), 2))")"; }
delete_some() { # Jobs and pods out of band
  local victim
  victim=$(k get jobs -o name 2>/dev/null | shuf -n 1)
  [[ -n $victim ]] && k delete "$victim" --wait=false >/dev/null 2>&1 && JOB_DELETES=$((JOB_DELETES + 1))
  victim=$(k get pods -o name 2>/dev/null | shuf -n 1)
  [[ -n $victim ]] && k delete "$victim" --wait=false >/dev/null 2>&1 && POD_DELETES=$((POD_DELETES + 1))
}

start_replica a
start_replica b
check "a leader is elected" wait_for 30 leader
START=$SECONDS
# One execution before each fault and the rest at the start, so that work runs throughout.
APPLIED=0
apply_up_to() { while ((APPLIED < $1 && APPLIED < EXECUTIONS)); do APPLIED=$((APPLIED + 1)); execution "run-$APPLIED"; done; }

JOB_DELETES=0 POD_DELETES=0 LEADER_KILLS=0 FAILOVERS=0
fault() { # KIND: one fault, then wait for progress
  local before t0 slot
  before=$(finished_steps)
  [[ -z $before ]] && before=0
  t0=$(date +%s.%N)
  local idle=0
  [[ $(ended) == "$APPLIED" ]] && idle=1
  case $1 in
    kill)
      slot=$(leader) || slot=a
      kill -KILL "$(replica_pid "$slot")" 2>/dev/null
      LEADER_KILLS=$((LEADER_KILLS + 1))
      # The standby takes over after the lease expires (a failover) unless the killed replica,
      # restarted by its loop, is back first.
      wait_for 15 leader && [[ $(leader) != "$slot" ]] && FAILOVERS=$((FAILOVERS + 1))
      ;;
    apiserver | etcd)
      "$E2E_ROOT/testenv/restart.sh" "$TENV" "$1" --kill >/dev/null || fail "restart $1"
      ;;
    oob) delete_some ;;
  esac
  if ((idle)); then RECOVERY+=("$1:idle"); else recovered_after "$1" "$before" "$t0"; fi
}

plan=()
for i in $(seq 1 "$KILLS"); do plan+=(kill oob); done
# The server and etcd crash a third and two thirds of the way through.
plan=("${plan[@]:0:$((KILLS * 2 / 3))}" apiserver "${plan[@]:$((KILLS * 2 / 3))}")
plan=("${plan[@]:0:$((KILLS * 4 / 3))}" etcd "${plan[@]:$((KILLS * 4 / 3))}")
apply_up_to $((EXECUTIONS > ${#plan[@]} ? EXECUTIONS - ${#plan[@]} : 1))
for f in "${plan[@]}"; do
  apply_up_to $((APPLIED + 1))
  random_sleep 0.3 1.5
  fault "$f"
done
e2e_log "$EXECUTIONS executions applied"
e2e_log "faults: $LEADER_KILLS kill -9 of the leader ($FAILOVERS failovers to the standby)," \
  "$JOB_DELETES Jobs and $POD_DELETES pods deleted out of band, API server and etcd restarts"

check "every execution ends" wait_for 300 bash -c "[[ \$(kubectl -n $NS get plx -o 'jsonpath={range .items[*]}{.status.pipelineExecutionStatus}{\"\\n\"}{end}' | grep -cE '^(Succeeded|Failed|Stopped)$') == $EXECUTIONS ]]"
e2e_log "all $EXECUTIONS ended $((SECONDS - START)) s after the first was applied"
check_eq "and succeeded" "$EXECUTIONS" "$(statuses | grep -c '^Succeeded$')"
check_eq "no step lost: every step of every run finished" "$((EXECUTIONS * UNITS_PER_RUN))" "$(finished_steps)"
dups=$(k get jobs -o 'jsonpath={range .items[*]}{.metadata.labels.stepline\.dev/execution}/{.metadata.labels.stepline\.dev/step}/{.metadata.labels.stepline\.dev/index}/{.metadata.labels.stepline\.dev/attempt}{"\n"}{end}' | sort | uniq -d)
check_eq "no (execution, step, index, attempt) has two Jobs" "" "$dups"
check "the leader was killed $KILLS times" test "$LEADER_KILLS" -ge "$KILLS"
check "Jobs and pods were deleted out of band" test $((JOB_DELETES + POD_DELETES)) -ge "$KILLS"
never=$(printf '%s\n' "${RECOVERY[@]}" | grep -c ':never$')
check_eq "every fault was recovered from within 120 s" 0 "$never"
e2e_log "recovery times (s): ${RECOVERY[*]}"
python3 - "${RECOVERY[@]}" <<'PY'
import sys
by = {}
for item in sys.argv[1:]:
    kind, secs = item.split(":")
    if secs not in ("never", "idle"):
        by.setdefault(kind, []).append(float(secs))
for kind, xs in sorted(by.items()):
    xs.sort()
    print(f"recovery {kind}: n={len(xs)} median={xs[len(xs)//2]:.1f}s max={xs[-1]:.1f}s")
PY
e2e_finish
