# Shared helpers for the end-to-end tests (bash). Source it; then:
#   e2e_init NAME            a fresh namespace and work dir; cleanup on exit
#   start_controller [ARGS]  stepline-controller watching only that namespace
#   check DESC CMD...        one assertion; e2e_finish prints "N passed, N failed"
#   wait_for SECONDS CMD...  poll until CMD succeeds
#   s3_request METHOD B/K    a signed request to the S3 server of testenv/s3-up.sh
# Needs KUBECONFIG and kubectl 1.36 on PATH (scripts/test.sh sets both through testenv/up.sh)
# and a local agent running against that server (testenv/up.sh --agent).
set -uo pipefail

E2E_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN_DIR="${STEPLINE_BIN_DIR:-${STEPLINE_BUILD_DIR:-$E2E_ROOT/build}/bin}"
E2E_PASSED=0
E2E_FAILED=0
E2E_PIDS=()
CONTROLLER_PID=""

e2e_log() { echo "[$(date +%H:%M:%S)] $*"; }
ok() { echo "PASS: $*"; E2E_PASSED=$((E2E_PASSED + 1)); }
fail() { echo "FAIL: $*"; E2E_FAILED=$((E2E_FAILED + 1)); }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
check_eq() { # DESC WANT GOT
  if [[ "$2" == "$3" ]]; then ok "$1"; else fail "$1: want [$2], got [$3]"; fi
}

wait_for() { # SECONDS CMD...
  local deadline=$(($(date +%s) + $1)); shift
  until "$@" >/dev/null 2>&1; do
    (($(date +%s) >= deadline)) && return 1
    sleep 0.3
  done
}

k() { kubectl -n "$NS" "$@"; }
jp() { kubectl -n "$NS" get "$1" -o "jsonpath=$2" 2>/dev/null; }  # OBJECT JSONPATH
plx_status() { jp "plx/$1" '{.status.pipelineExecutionStatus}'; }
plx_is() { [[ $(plx_status "$1") == "$2" ]]; }                     # NAME STATUS
step_field() { jp "plx/$1" "{.status.steps[?(@.name==\"$2\")].$3}"; }  # EXEC STEP FIELD
jobs_of() { # EXEC [STEP]: Job names, sorted
  local sel="stepline.dev/execution=$1"
  [[ -n ${2:-} ]] && sel+=",stepline.dev/step=$2"
  k get jobs -l "$sel" -o 'jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}' | sort
}
count_jobs() { jobs_of "$@" | grep -c . ; }
has_event() { # OBJECT_NAME REASON: an Event with that reason about that object in $NS
  kubectl get events -n "$NS" -o json | python3 -c '
import json, sys
name, reason = sys.argv[1], sys.argv[2]
items = json.load(sys.stdin)["items"]
sys.exit(0 if any(e.get("reason") == reason and e["involvedObject"].get("name") == name
                  for e in items) else 1)' "$1" "$2"
}

# A request to the S3 API server of testenv/s3-up.sh (STEPLINE_S3_*), signed by curl's own SigV4:
# s3_request METHOD BUCKET/KEY [CURL ARGS], e.g. printf x | s3_request PUT b/k --data-binary @-
s3_request() {
  local method=$1 path=$2
  shift 2
  curl -sS --fail-with-body -X "$method" --aws-sigv4 "aws:amz:us-east-1:s3" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    --user "$STEPLINE_S3_ACCESS_KEY_ID:$STEPLINE_S3_SECRET_ACCESS_KEY" \
    "$STEPLINE_S3_ENDPOINT/$path" "$@"
}

# start_s3 BUCKET...: the tests' S3 API server (testenv/s3-up.sh) with these buckets, its
# STEPLINE_S3_* exported and the server stopped at exit; ends the test when it cannot start.
start_s3() {
  local env args=()
  for b in "$@"; do args+=(--bucket "$b"); done
  env=$("$E2E_ROOT/testenv/s3-up.sh" "${args[@]}") || {
    echo "cannot start the S3 API server (scripts/setup.sh installs it)"
    echo "0 passed, 1 failed"
    exit 1
  }
  eval "$env"
  trap '"$E2E_ROOT/testenv/s3-down.sh" "$STEPLINE_S3_DIR" >/dev/null 2>&1; e2e_cleanup' EXIT
}

e2e_dump() {
  echo "---- diagnostics for namespace $NS"
  k get plx,pl -o wide 2>&1 | head -40
  k get jobs,pods 2>&1 | head -60
  k get plx -o yaml 2>&1 | grep -vE 'managedFields|manager:|operation:|fieldsType|fieldsV1|f:|time:' | head -200
  kubectl get events -n "$NS" --sort-by=.lastTimestamp 2>&1 | tail -30
  [[ -f $E2E_WORK/controller.log ]] && { echo "---- controller log"; tail -n 60 "$E2E_WORK/controller.log"; }
}

e2e_cleanup() {
  local pid
  for pid in "${E2E_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  sleep 0.5
  for pid in "${E2E_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  ((E2E_FAILED)) && e2e_dump
  kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1
  rm -rf "$E2E_WORK"
}

e2e_init() { # NAME
  if [[ -z ${KUBECONFIG:-} ]]; then
    echo "KUBECONFIG is not set: run under scripts/test.sh or after eval \"\$(testenv/up.sh --agent)\""
    echo "0 passed, 1 failed"
    exit 1
  fi
  NS="e2e-$1-$$"
  E2E_WORK="$(mktemp -d "/tmp/stepline-e2e-$1.XXXXXX")"
  trap e2e_cleanup EXIT
  kubectl create namespace "$NS" >/dev/null
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# STEPLINE_E2E_AS_POD=1: as the chart's pod runs it, with its ServiceAccount only (as_pod.sh).
source "$E2E_ROOT/tests/e2e/as_pod.sh"
start_controller() { # [EXTRA ARGS]
  if [[ ${STEPLINE_E2E_AS_POD:-} == 1 ]]; then start_controller_as_pod "$@"; return; fi
  "$BIN_DIR/stepline-controller" --kubeconfig "$KUBECONFIG" --namespace "$NS" \
    --metrics-bind-address "127.0.0.1:$(free_port)" \
    --health-probe-bind-address "127.0.0.1:$(free_port)" "$@" >>"$E2E_WORK/controller.log" 2>&1 &
  CONTROLLER_PID=$!
  disown "$CONTROLLER_PID"  # no job-control notices when a test kills it
  E2E_PIDS+=("$CONTROLLER_PID")
}

kill_controller() { # [SIGNAL]
  [[ -n $CONTROLLER_PID ]] || return 0
  kill "-${1:-KILL}" "$CONTROLLER_PID" 2>/dev/null
  wait_for 10 bash -c "! kill -0 $CONTROLLER_PID 2>/dev/null"
  CONTROLLER_PID=""
}

e2e_finish() {
  echo "$E2E_PASSED passed, $E2E_FAILED failed"
  ((E2E_FAILED == 0))
}
