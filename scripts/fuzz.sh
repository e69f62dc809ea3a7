#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang into build/fuzz and runs each for a
# while on its seed corpus (tests/fuzz/corpus/<target>/, copied to build/fuzz/corpus/ so that
# what a run finds is kept there and not written into the source tree).
#   scripts/fuzz.sh                  every target for 20 s (CTest runs each for 10 s: fuzz_<target>)
#   scripts/fuzz.sh --seconds 3600   the long run: an hour per target
#   scripts/fuzz.sh --only template  one target
#   scripts/fuzz.sh --build-only     build, run nothing (CTest's fuzz_build fixture)
#   scripts/fuzz.sh --seconds 3600 --parallel
#                                    every target at once, each at nice 19 (the hour-long run
#                                    on a shared machine: each target gets what CPU is idle,
#                                    so compare runs by their executed-units count, not time)
# A crash leaves build/fuzz/crash-<target>-* (the input) and fails the script; reproduce with
# build/fuzz/fuzz_<target> <that file>.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${STEPLINE_BUILD_DIR:-$ROOT/build}/fuzz"
SECONDS_EACH=20
ONLY=""
BUILD_ONLY=0
PARALLEL=0
# libFuzzer's -timeout is wall-clock time per input: 10 s finds real hangs (every input runs in
# milliseconds), but at nice 19 on a busy machine a process can wait that long for a CPU, so the
# parallel long run allows 300 s (what it reported as timeouts ran in under 40 ms when retried).
UNIT_TIMEOUT=10
while (($#)); do
  case $1 in
    --build-only) BUILD_ONLY=1; shift ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --parallel) PARALLEL=1; UNIT_TIMEOUT=300; shift ;;
    *) echo "fuzz.sh: unknown argument $1 (known: --seconds N, --only TARGET, --build-only, --parallel)" >&2; exit 2 ;;
  esac
done
TARGETS=(expression template sagemaker quantity watch_decoder kubeconfig)
[[ -n $ONLY ]] && TARGETS=("$ONLY")

mkdir -p "$OUT"
if [[ ! -f $OUT/build.ninja ]]; then
  cmake -S "$ROOT/tests/fuzz" -B "$OUT" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER_LAUNCHER="$ROOT/scripts/ccache-launch" >"$OUT.configure.log" 2>&1 ||
    { cat "$OUT.configure.log" >&2; exit 1; }
fi
cmake --build "$OUT" -j"${STEPLINE_FUZZ_JOBS:-2}" --target "${TARGETS[@]/#/fuzz_}" >&2
((BUILD_ONLY)) && exit 0

# Runs one target on its corpus; prints one line and returns non-zero on a crash.
run_target() {
  local t=$1 corpus="$OUT/corpus/$1" log="$OUT/$1.log"
  mkdir -p "$corpus"
  cp -n "$ROOT/tests/fuzz/corpus/$t/"* "$corpus/" 2>/dev/null || true
  if "$OUT/fuzz_$t" -max_total_time="$SECONDS_EACH" -max_len=65536 -timeout="$UNIT_TIMEOUT" -rss_limit_mb=2048 \
      -artifact_prefix="$OUT/crash-$t-" -print_final_stats=1 "$corpus" >"$log" 2>&1; then
    echo "fuzz_$t: $(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}') runs in ${SECONDS_EACH}s, no crash, corpus $(ls "$corpus" | wc -l) inputs"
  else
    echo "fuzz_$t: FAILED (log $log)"; tail -n 40 "$log"
    return 1
  fi
}

failed=0
if ((PARALLEL)); then
  pids=()
  for t in "${TARGETS[@]}"; do
    nice -n 19 bash -c "$(declare -p ROOT OUT SECONDS_EACH UNIT_TIMEOUT); $(declare -f run_target); run_target $t" \
      >"$OUT/$t.summary" 2>&1 &
    pids+=("$!")
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || failed=1
    cat "$OUT/${TARGETS[$i]}.summary"
  done
else
  for t in "${TARGETS[@]}"; do
    run_target "$t" || failed=1
  done
fi
exit "$failed"
