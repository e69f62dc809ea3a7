#!/usr/bin/env bash
# End-to-end: two stepline-controller replicas with --leader-elect against a real API server.
#   exactly one holds the Lease; /readyz, /healthz and /metrics answer on both;
#   SIGKILL the holder -> the other takes over (failover time printed);
#   SIGTERM the new holder -> it exits 0 within seconds and releases the Lease;
#   a leader whose lease is taken over exits non-zero within the renew deadline;
#   a bad flag exits 2 with a clear message.
# Needs KUBECONFIG (scripts/test.sh sets it) and kubectl on PATH (testenv/up.sh puts it there).
# Usage: controller_leader_election_test.sh [path/to/stepline-controller]
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${1:-$ROOT/build/bin/stepline-controller}"
NS=default
LEASE="stepline-e2e-$$-$RANDOM"
LEASE_SECONDS=15
RETRY_SECONDS=2
WORK="$(mktemp -d /tmp/stepline-ctrl-e2e.XXXXXX)"
passed=0 failed=0
declare -A PID METRICS HEALTH

ok() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
now() { date +%s.%N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cleanup() {
  for r in "${!PID[@]}"; do kill -KILL "${PID[$r]}" 2>/dev/null; done
  kubectl delete lease -n "$NS" "$LEASE" --ignore-not-found >/dev/null 2>&1
  if ((failed)); then for f in "$WORK"/*.log; do echo "--- $f"; tail -n 30 "$f"; done; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

start_replica() { # name
  local r=$1
  METRICS[$r]=$(free_port) HEALTH[$r]=$(free_port)
  "$BIN" --leader-elect --leader-elect-id "$LEASE" --leader-elect-namespace "$NS" \
    --metrics-bind-address "127.0.0.1:${METRICS[$r]}" \
    --health-probe-bind-address "127.0.0.1:${HEALTH[$r]}" >"$WORK/$r.log" 2>&1 &
  PID[$r]=$!
}
holder() { kubectl get lease -n "$NS" "$LEASE" -o 'jsonpath={.spec.holderIdentity}' 2>/dev/null; }
transitions() { kubectl get lease -n "$NS" "$LEASE" -o 'jsonpath={.spec.leaseTransitions}' 2>/dev/null; }
identity_of() { grep -o 'identity=[^ ]*' "$WORK/$1.log" | head -n1 | cut -d= -f2; }
http_code() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1$2"; }
is_leader() { curl -s "http://127.0.0.1:${METRICS[$1]}/metrics" | grep -qx 'stepline_leader 1'; }
wait_until() { # seconds command...
  local deadline=$(($(date +%s) + $1)); shift
  until "$@"; do (($(date +%s) >= deadline)) && return 1; sleep 0.1; done
}
ready() { [[ $(http_code "${HEALTH[$1]}" /readyz) == 200 ]]; }
holder_is() { [[ -n $(identity_of "$1") && $(holder) == "$(identity_of "$1")" ]]; }

if [[ ! -x $BIN ]]; then echo "no binary at $BIN"; echo "0 passed, 1 failed"; exit 1; fi
if [[ -z ${KUBECONFIG:-} ]]; then echo "KUBECONFIG is not set"; echo "0 passed, 1 failed"; exit 1; fi

# Bad flags: exit 2 with a message naming the flag.
"$BIN" --leader-elect-lease-duration=soon >/dev/null 2>"$WORK/badflag.err"
check "bad flag exits 2" test $? -eq 2
check "bad flag is named" grep -q -- "--leader-elect-lease-duration" "$WORK/badflag.err"

start_replica a
start_replica b
check "replica a ready (/readyz 200)" wait_until 60 ready a
check "replica b ready (/readyz 200)" wait_until 60 ready b
check "/healthz answers 200" test "$(http_code "${HEALTH[a]}" /healthz)" = 200
check "one replica holds the lease" wait_until 30 bash -c "[[ -n \$(kubectl get lease -n $NS $LEASE -o 'jsonpath={.spec.holderIdentity}' 2>/dev/null) ]]"
sleep $((RETRY_SECONDS * 2))
if holder_is a; then leader=a standby=b; elif holder_is b; then leader=b standby=a; else leader="" standby=""; fi
check "the holder is one of the two replicas" test -n "$leader"
if [[ -n $leader ]]; then
  check "exactly one replica reports stepline_leader 1" bash -c "$(declare -f is_leader); $(declare -p METRICS); is_leader $leader && ! is_leader $standby"
  metrics=$(curl -s "http://127.0.0.1:${METRICS[$leader]}/metrics")
  check "/metrics counts API requests by verb, resource and code" \
    grep -q 'stepline_api_requests_total{verb="[a-z]*",resource="leases.coordination.k8s.io",code="200"}' <<<"$metrics"
  for family in "stepline_workqueue_depth gauge" "stepline_workqueue_adds_total counter" \
      "stepline_workqueue_retries_total counter" "stepline_reconcile_total counter"; do
    check "/metrics lists ${family% *}" grep -q "# TYPE $family" <<<"$metrics"
  done
  check "/metrics has the reconcile duration histogram" grep -q '# TYPE stepline_reconcile_duration_seconds histogram' <<<"$metrics"
  before=$(transitions)

  # Failover: SIGKILL the holder; the standby must take over once the lease runs out.
  killed_at=$(now)
  kill -KILL "${PID[$leader]}"; wait "${PID[$leader]}" 2>/dev/null; unset "PID[$leader]"
  if wait_until $((LEASE_SECONDS + 4 * RETRY_SECONDS + 5)) holder_is "$standby"; then
    failover=$(python3 -c "print(f'{$(now) - $killed_at:.1f}')")
    echo "failover time: ${failover}s (lease duration ${LEASE_SECONDS}s, retry period ${RETRY_SECONDS}s)"
    # The standby counts the lease duration from when it saw the last renewal (up to one retry
    # period after it was written) and notices expiry on its next try (up to one more); one
    # more retry period of slack covers this script's polling on a loaded machine.
    check "standby took over within lease duration + 3 retry periods" \
      python3 -c "import sys; sys.exit(0 if $failover <= $LEASE_SECONDS + 3 * $RETRY_SECONDS else 1)"
    check "the new leader reports stepline_leader 1" wait_until 5 is_leader "$standby"
    check "leaseTransitions went up" test "$(transitions)" -gt "${before:-0}"
  else
    fail "standby never took over (holder: $(holder))"
  fi

  # Graceful stop: SIGTERM exits 0 within seconds and releases the lease.
  term_at=$(now)
  kill -TERM "${PID[$standby]}"; wait "${PID[$standby]}"; rc=$?; unset "PID[$standby]"
  stop_secs=$(python3 -c "print(f'{$(now) - $term_at:.1f}')")
  echo "SIGTERM to exit: ${stop_secs}s"
  check "SIGTERM exits 0" test "$rc" -eq 0
  check "SIGTERM exits within 5s" python3 -c "import sys; sys.exit(0 if $stop_secs <= 5 else 1)"
  check "the lease is released (holderIdentity empty)" test -z "$(holder)"
fi

# Losing the lease (another holder takes it over) stops the leader: it exits 1 once renewals
# have failed for the renew deadline (3s here).
STOLEN="$LEASE-stolen"
"$BIN" --leader-elect --leader-elect-id "$STOLEN" --leader-elect-namespace "$NS" \
  --leader-elect-lease-duration=4s --leader-elect-renew-deadline=3s \
  --leader-elect-retry-period=1s --metrics-bind-address=0 --health-probe-bind-address=0 \
  >"$WORK/stolen.log" 2>&1 &
PID[stolen]=$!
if wait_until 20 bash -c "[[ -n \$(kubectl get lease -n $NS $STOLEN -o 'jsonpath={.spec.holderIdentity}' 2>/dev/null) ]]"; then
  stolen_at=$(now)
  kubectl patch lease -n "$NS" "$STOLEN" --type merge -p "{\"spec\":{\"holderIdentity\":\"thief\",\"renewTime\":\"$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)\",\"leaseDurationSeconds\":60}}" >/dev/null
  wait "${PID[stolen]}"; rc=$?; unset "PID[stolen]"
  lost_secs=$(python3 -c "print(f'{$(now) - $stolen_at:.1f}')")
  echo "lease lost to exit: ${lost_secs}s (renew deadline 3s)"
  check "losing the lease exits non-zero" test "$rc" -ne 0
  check "losing the lease exits within renew deadline + 2s" python3 -c "import sys; sys.exit(0 if $lost_secs <= 5 else 1)"
else
  fail "the third replica never took its lease"
fi
kubectl delete lease -n "$NS" "$STOLEN" --ignore-not-found >/dev/null 2>&1

echo "$passed passed, $failed failed"
((failed == 0))
