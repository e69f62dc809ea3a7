#!/usr/bin/env bash
# bench/memory/run.sh - the controller's memory with many executions in its caches.
#
#   KUBECONFIG=... [STEPLINE_BUILD_DIR=build] bench/memory/run.sh [--json FILE]
#       [--finished N] [--running M] [--namespace NS] [--controller PATH] [--skip-load]
#       [--breakdown]
#
# Expects the KUBECONFIG of an up test cluster (testenv/up.sh; no agent needed). Steps:
#   1. starts the controller on the cluster as it is, waits until its caches are synced and it
#      is idle, and reads its RSS (the "before load" figure), then stops it;
#   2. bench_memory_load: a Pipeline, N finished (default 10000) and M running (default 1000)
#      executions with their Jobs and Pods (see bench/memory/load.cc for what is realistic);
#   3. starts the controller again, waits until synced (/readyz) and idle (work queues empty,
#      reconcile count steady for 3s), reads VmRSS and VmHWM from /proc, and stops it.
# Prints a table; --json FILE also writes the figures as one JSON object.
# --controller PATH measures another controller binary (e.g. one built without cache trimming).
# --skip-load measures the cluster as it is (objects loaded by an earlier run; no "before load"
# figure). --breakdown (implied by --skip-load) also runs bench_memory_objects: the heap each
# resource of NS takes as JSON, whole and trimmed, and the object counts.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BUILD=${STEPLINE_BUILD_DIR:-build}
[[ $BUILD = /* ]] || BUILD="$REPO/$BUILD"
json="" finished=10000 running=1000 ns=bench-memory controller="$BUILD/bin/stepline-controller"
skip_load=0 breakdown=0
while [ $# -gt 0 ]; do
  case $1 in
    --json) json=${2:?--json needs a file}; shift 2 ;;
    --finished) finished=$2; shift 2 ;;
    --running) running=$2; shift 2 ;;
    --namespace) ns=$2; shift 2 ;;
    --controller) controller=$2; shift 2 ;;
    --skip-load) skip_load=1; shift ;;
    --breakdown) breakdown=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
: "${KUBECONFIG:?set KUBECONFIG to an up test cluster (eval \"\$(testenv/up.sh)\")}"
loader="$BUILD/bin/bench_memory_load"
for bin in "$controller" "$loader"; do
  [ -x "$bin" ] || { echo "run.sh: $bin missing; build it first" >&2; exit 1; }
done

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Sum of a metric's samples in the controller's /metrics.
metric_sum() {
  curl -fsS "http://127.0.0.1:$mport/metrics" 2>/dev/null |
    awk -v m="$1" '$1 ~ "^"m"({|$)" {s += $2} END {printf "%d\n", s}'
}

status_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$pid/status"; }

# Starts the controller; sets pid, sync_s (to /readyz 200) and idle_s (to an idle work queue).
start_and_settle() {
  mport=$(free_port) hport=$(free_port)
  local t0=$SECONDS
  "$controller" --metrics-bind-address "127.0.0.1:$mport" \
    --health-probe-bind-address "127.0.0.1:$hport" --log-level warn >"$work/controller.log" 2>&1 &
  pid=$!
  until curl -fsS "http://127.0.0.1:$hport/readyz" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { echo "controller exited:" >&2; tail "$work/controller.log" >&2; exit 1; }
    (( SECONDS - t0 < 600 )) || { echo "run.sh: caches not synced after 600s" >&2; exit 1; }
    sleep 0.2
  done
  sync_s=$((SECONDS - t0))
  local last=-1 steady=0
  while (( steady < 3 )); do
    (( SECONDS - t0 < 900 )) || { echo "run.sh: controller not idle after 900s" >&2; exit 1; }
    sleep 1
    local depth total
    depth=$(metric_sum stepline_workqueue_depth) total=$(metric_sum stepline_reconcile_total)
    if [ "$depth" = 0 ] && [ "$total" = "$last" ]; then steady=$((steady + 1)); else steady=0; fi
    last=$total
  done
  idle_s=$((SECONDS - t0 - 3))
  reconciles=$last
}

stop_controller() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

rss_before_kb=0
if [ "$skip_load" = 0 ]; then
  start_and_settle
  rss_before_kb=$(status_kb VmRSS)
  stop_controller
  echo "loading $finished finished and $running running executions into namespace $ns ..." >&2
  "$loader" --finished "$finished" --running "$running" --namespace "$ns" \
    --counts "$work/counts.json" --concurrency 48 >/dev/null
else
  echo '{}' >"$work/counts.json"
fi

start_and_settle
rss_kb=$(status_kb VmRSS) hwm_kb=$(status_kb VmHWM)
stop_controller
echo '{}' >"$work/breakdown.json"
if [ "$breakdown" = 1 ] || [ "$skip_load" = 1 ]; then
  "$BUILD/bin/bench_memory_objects" --namespace "$ns" --json "$work/breakdown.json" >&2
fi

python3 - "$work/counts.json" "$json" "$work/breakdown.json" <<PY
import json, sys
counts = json.load(open(sys.argv[1]))
breakdown = json.load(open(sys.argv[3]))
for key, res in (("executions", "pipelineexecutions"), ("jobs", "jobs"), ("pods", "pods"),
                 ("pipelines", "pipelines")):
    if key not in counts and res in breakdown:
        counts[key] = breakdown[res]["objects"]
r = dict(finished_executions=$finished, running_executions=$running,
         pipelines=counts.get("pipelines", 0), executions=counts.get("executions", 0),
         jobs=counts.get("jobs", 0), pods=counts.get("pods", 0), events=counts.get("events", 0),
         load_seconds=round(counts.get("load_seconds", 0), 1),
         stored_json_bytes=counts.get("stored_json_bytes", 0),
         rss_before_load_kb=$rss_before_kb, vmrss_kb=$rss_kb, vmhwm_kb=$hwm_kb,
         sync_seconds=$sync_s, idle_seconds=$idle_s, reconciles=$reconciles,
         target_rss_mb=100, heap_by_resource=breakdown)
objects = r["pipelines"] + r["executions"] + r["jobs"] + r["pods"] + r["events"]
r["cached_objects"] = objects
r["bytes_per_object"] = round((r["vmrss_kb"] - r["rss_before_load_kb"]) * 1024 / objects) if objects else None
r["vmrss_mb"] = round(r["vmrss_kb"] / 1024, 1)
r["vmhwm_mb"] = round(r["vmhwm_kb"] / 1024, 1)
r["under_target"] = r["vmrss_mb"] < r["target_rss_mb"]
rows = [("executions finished / running", f'{r["finished_executions"]} / {r["running_executions"]}'),
        ("cached objects (pipelines+executions+jobs+pods)",
         f'{objects} ({r["pipelines"]}+{r["executions"]}+{r["jobs"]}+{r["pods"]})'),
        ("stored JSON of the loaded objects", f'{r["stored_json_bytes"]/2**20:.1f} MiB'),
        ("load time", f'{r["load_seconds"]} s'),
        ("controller RSS before the load", f'{r["rss_before_load_kb"]/1024:.1f} MiB'),
        ("caches synced after / idle after", f'{r["sync_seconds"]} s / {r["idle_seconds"]} s'),
        ("reconciles until idle", str(r["reconciles"])),
        ("VmRSS (synced, idle)", f'{r["vmrss_mb"]} MiB'),
        ("VmHWM (peak)", f'{r["vmhwm_mb"]} MiB'),
        ("RSS added per cached object", f'{r["bytes_per_object"]} bytes'),
        ("target: RSS < 100 MB", "met" if r["under_target"] else "MISSED")]
w = max(len(k) for k, _ in rows)
print("bench/memory: controller memory with executions cached")
for k, v in rows:
    print(f"  {k:<{w}}  {v}")
if sys.argv[2]:
    with open(sys.argv[2], "w") as f:
        json.dump(r, f)
        f.write("\n")
PY
