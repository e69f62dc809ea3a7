#!/usr/bin/env bash
# bench/run.sh: every benchmark against a fresh test cluster of its own, then rewrites
# bench/RESULTS.md and bench/plots/*.png with the figures of this run.
#
#   bench/run.sh [--quick] [--no-setup]
#
# --quick: small sizes (a smoke test of the script). --no-setup: skip the full setup and build
# of scripts/setup.sh --bench; install only the missing packages (the plotting package among
# them: scripts/setup.sh --bench --packages-only) and build only the programs the benchmarks run.
#
# Order: bench_plan and bench_fanin (pure, before the cluster starts), then with the test server
# and the local agent up: bench_api_baseline (the server's limit at the controller's concurrency),
# bench/e2e/e2e.py (the whole stack; it starts its own controller per scenario; then once with a
# standby replica beside it, whose CPU is what receiving the watch events costs; then again at
# 100, 300 and 1,000 executions at once), bench_decode
# on the watch events of chain executions recorded by bench/decode/record.py, and
# bench/memory/run.sh when it exists. The cluster is torn down at the end, also on failure.
# Raw outputs stay in a fresh /tmp/stepline-bench.XXXXXX (printed at the end).
#
# Environment: STEPLINE_BUILD_DIR (default build/), STEPLINE_BENCH_CONTROLLER_ARGS (the e2e
# controller's flags; default "--workers 4 --qps 0": the default workers, and no client-side
# rate limit, so that the run is bound by the API server and not by a setting),
# STEPLINE_BENCH_SCENARIOS (e2e scenarios; default "chains:200x10 fanout:20x100"),
# STEPLINE_BENCH_MEMORY_ARGS (bench/memory/run.sh sizes; default "--finished 10000 --running 1000").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${STEPLINE_BUILD_DIR:-$ROOT/build}"
CONTROLLER_ARGS="${STEPLINE_BENCH_CONTROLLER_ARGS:---workers 4 --qps 0}"
WORKERS=$(sed -n 's/.*--workers[ =]\([0-9]*\).*/\1/p' <<<"$CONTROLLER_ARGS")
WORKERS=${WORKERS:-4}
QUICK=0 SETUP=1
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    --no-setup) SETUP=0 ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done
cd "$ROOT"
say() { echo "==> $*" >&2; }
# The plots need Debian's python3-matplotlib: Debian's interpreter, whatever python3 is first
# on PATH (pyenv, a venv).
PLOT_PYTHON=python3
[[ -x /usr/bin/python3 ]] && PLOT_PYTHON=/usr/bin/python3

OUT="$(mktemp -d /tmp/stepline-bench.XXXXXX)"
STATE="$OUT/testenv"
cleanup() {
  if [[ -f $STATE/pids ]]; then "$ROOT/testenv/down.sh" "$STATE" >&2 || true; fi
}
trap cleanup EXIT

if ((SETUP)); then
  say "setup (with the plotting package)"
  ./scripts/setup.sh --bench
else
  say "the plotting package, then building the benchmark programs only"
  ./scripts/setup.sh --bench --packages-only
  cmake --build "$BUILD_DIR" --target bench_plan bench_fanin bench_api_baseline bench_decode \
    stepline-controller stepline-local-agent >&2
fi

say "machine"
python3 - "$OUT/machine.json" <<'EOF'
import json, os, platform, subprocess, sys
def first(path, key):
    for line in open(path):
        if line.startswith(key):
            return line.split(":", 1)[1].strip()
    return "?"
git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                       capture_output=True, text=True).stdout.strip()
json.dump({"cpu": first("/proc/cpuinfo", "model name"), "cores": os.cpu_count(),
           "ram_gb": round(int(first("/proc/meminfo", "MemTotal").split()[0]) / 2**20, 1),
           "load_at_start": open("/proc/loadavg").read().split()[:3],
           "kernel": platform.release(),
           "commit": git.stdout.strip() + (" (with local changes)" if dirty else "")},
          open(sys.argv[1], "w"), indent=1)
EOF

say "bench_plan (the pure planner)"
plan_args=(--benchmark_out="$OUT/plan.json" --benchmark_out_format=json)
if ((QUICK)); then plan_args+=(--benchmark_min_time=0.01); fi
"$BUILD_DIR/bin/bench_plan" "${plan_args[@]}" | tee "$OUT/plan.txt" >&2

say "bench_fanin (one fan-out's status through its life: the planner and the status writer)"
# The planner level only: at the 4.5 children/s the whole stack ran in the e2e fan-out, 10,000
# children would take 37 minutes through the local agent, and 100,000 six hours.
fanin_sizes=(10000 100000)
((QUICK)) && fanin_sizes=(1000)
for n in "${fanin_sizes[@]}"; do
  "$BUILD_DIR/bin/bench_fanin" --children "$n" | tee -a "$OUT/fanin.txt" >&2
done

say "starting a fresh test cluster with the local agent ($STATE)"
# One big node: the steps request nothing, and the run must not wait for pod slots.
env_lines="$(STEPLINE_AGENT_ARGS="--node name=bench,cpu=1000,memory=4000Gi,pods=100000" \
  ./testenv/up.sh --dir "$STATE" --agent)"
eval "$env_lines"

say "bench_api_baseline ($WORKERS in flight, as the controller's workers)"
steps=2000
((QUICK)) && steps=300
"$BUILD_DIR/bin/bench_api_baseline" --steps "$steps" --workers "$WORKERS" \
  --json "$OUT/api_baseline.json" | tee "$OUT/api_baseline.txt" >&2

say "bench/e2e (controller args: $CONTROLLER_ARGS)"
scenarios=()
for s in ${STEPLINE_BENCH_SCENARIOS:-chains:200x10 fanout:20x100}; do scenarios+=(--scenario "$s"); done
((QUICK)) && scenarios=(--scenario chains:20x5 --scenario fanout:2x20)
python3 bench/e2e/e2e.py --controller "$BUILD_DIR/bin/stepline-controller" \
  --controller-args "$CONTROLLER_ARGS" "${scenarios[@]}" --log-dir "$OUT" \
  --json "$OUT/e2e.json" --series "$OUT/e2e_series.csv" | tee "$OUT/e2e.txt" >&2

say "bench/e2e with a standby replica beside the controller (what receiving the watch events costs)"
standby=(--scenario chains:100x10)
((QUICK)) && standby=(--scenario chains:10x5)
python3 bench/e2e/e2e.py --controller "$BUILD_DIR/bin/stepline-controller" \
  --controller-args "$CONTROLLER_ARGS" --standby "${standby[@]}" --log-dir "$OUT" \
  --json "$OUT/standby.json" | tee "$OUT/standby.txt" >&2

say "bench/e2e at 100, 300 and 1,000 executions at once (2-step chains: how the cost grows)"
scale=(--scenario chains:100x2 --scenario chains:300x2 --scenario chains:1000x2)
((QUICK)) && scale=(--scenario chains:10x2 --scenario chains:30x2)
python3 bench/e2e/e2e.py --controller "$BUILD_DIR/bin/stepline-controller" \
  --controller-args "$CONTROLLER_ARGS" "${scale[@]}" --log-dir "$OUT" \
  --json "$OUT/scale.json" | tee "$OUT/scale.txt" >&2

say "bench/decode (one step's watch events decoded today and at the floor)"
executions=5
((QUICK)) && executions=1
python3 bench/decode/record.py --controller "$BUILD_DIR/bin/stepline-controller" \
  --out "$OUT/decode.watch" --steps 10 --executions "$executions" >&2
decode_args=(--benchmark_out="$OUT/decode.json" --benchmark_out_format=json
  --benchmark_repetitions=5 --benchmark_report_aggregates_only=true)
((QUICK)) && decode_args+=(--benchmark_min_time=0.01 --benchmark_repetitions=1)
"$BUILD_DIR/bin/bench_decode" "$OUT/decode.watch" "${decode_args[@]}" | tee "$OUT/decode.txt" >&2

if [[ -x bench/memory/run.sh ]]; then
  # The memory bench writes its Jobs' and pods' status itself (finished and running executions
  # as the controller would find them); a live agent would act on them, so it stops first.
  say "stopping the local agent (bench/memory simulates the cluster's state itself)"
  read -r _ agent_pid _ < <(grep '^agent ' "$STATE/pids")
  kill -TERM "$agent_pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$agent_pid" 2>/dev/null || true
  say "bench/memory"
  memory_args=(${STEPLINE_BENCH_MEMORY_ARGS:---finished 10000 --running 1000})
  ((QUICK)) && memory_args=(--finished 50 --running 10)
  STEPLINE_BUILD_DIR="$BUILD_DIR" bench/memory/run.sh "${memory_args[@]}" --json "$OUT/memory.json" \
    | tee "$OUT/memory.txt" >&2
else
  say "bench/memory/run.sh is not in this tree: skipped"
fi

say "writing bench/RESULTS.md and bench/plots/"
"$PLOT_PYTHON" bench/report.py --dir "$OUT" --results bench/RESULTS.md --plots bench/plots
say "done; raw outputs in $OUT"
