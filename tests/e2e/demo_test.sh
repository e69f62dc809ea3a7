#!/usr/bin/env bash
# End-to-end: the README's first command. Runs ./scripts/demo.sh non-interactively (CI=true,
# --keep so the results can be inspected) on a stack of its own, checks that every example
# execution reached its expected state, then that `demo.sh --down` leaves none of the demo's
# processes behind.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="$(mktemp -d /tmp/stepline-demo-test.XXXXXX)"
OUT="$(mktemp /tmp/stepline-demo-test-out.XXXXXX)"  # demo.sh starts STATE afresh
export STEPLINE_DEMO_STATE="$STATE" CI=true
passed=0 failed=0
ok() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
check_eq() { if [[ "$2" == "$3" ]]; then ok "$1"; else fail "$1: want [$2], got [$3]"; fi; }
finish() {
  "$ROOT/scripts/demo.sh" --down >/dev/null 2>&1
  rm -rf "$STATE" "$OUT"
  echo "$passed passed, $failed failed"
  ((failed == 0))
}
trap finish EXIT

if "$ROOT/scripts/demo.sh" --keep >"$OUT" 2>&1; then ok "demo.sh exits 0"; else
  fail "demo.sh failed"; tail -n 40 "$OUT"; exit 1
fi
grep -q "kubectl describe plx" "$OUT" && ok "prints what to try next" || fail "no next steps"
source "$STATE/env"
plx() { kubectl get plx -n stepline-demo "$1" -o "jsonpath=$2"; }
check_eq "forecast-weekly-42 (pre-approved)" Succeeded "$(plx forecast-weekly-42 '{.status.pipelineExecutionStatus}')"
check_eq "abalone-run-1 (ACK, SageMaker definition)" Succeeded "$(plx abalone-run-1 '{.status.pipelineExecutionStatus}')"
check_eq "forecast-daily-7 waits for its approval" Waiting \
  "$(plx forecast-daily-7 '{.status.steps[?(@.name=="approve")].phase}')"
check_eq "the cycle example is rejected" False \
  "$(kubectl get pl -n stepline-demo cycle -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')"

pids=$(awk '{print $2}' "$STATE/testenv/pids" 2>/dev/null; cat "$STATE/controller.pid" 2>/dev/null)
"$ROOT/scripts/demo.sh" --down >/dev/null 2>&1
sleep 1
alive=""
running() { [[ -r /proc/$1/stat ]] && [[ $(awk '{print $3}' "/proc/$1/stat") != Z ]]; }
for pid in $pids; do running "$pid" && alive+=" $pid"; done  # a zombie is gone already
check_eq "--down leaves no process of the demo behind" "" "$alive"
