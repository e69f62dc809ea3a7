# Helpers for the local agent's end-to-end tests (bash; sourced by agent_e2e.sh).
# Needs KUBECONFIG (testenv/up.sh or STEPLINE_TEST_KUBECONFIG) and kubectl on PATH.
#   a_init NAME               a fresh namespace $NS; its Jobs, Pods and quotas go at exit
#   a_check DESC CMD...       one assertion; a_finish prints the tally and sets the exit code
#   a_eq DESC WANT GOT        equality assertion
#   a_wait SECONDS CMD...     poll until CMD succeeds (false after SECONDS)
#   a_job NAME YAML_SPEC      create a Job from the lines of its spec (indented 2)
set -uo pipefail

A_PASSED=0
A_FAILED=0
A_BG_PIDS=()

a_log() { echo "[$(date +%H:%M:%S)] $*"; }
a_ok() { echo "PASS: $*"; A_PASSED=$((A_PASSED + 1)); }
a_fail() { echo "FAIL: $*"; A_FAILED=$((A_FAILED + 1)); }
a_check() { local what=$1; shift; if "$@"; then a_ok "$what"; else a_fail "$what"; fi; }
a_eq() { if [[ "$2" == "$3" ]]; then a_ok "$1"; else a_fail "$1: want [$2], got [$3]"; fi; }
a_match() { # DESC REGEX GOT
  if [[ "$3" =~ $2 ]]; then a_ok "$1"; else a_fail "$1: [$3] does not match /$2/"; fi
}

a_wait() { # SECONDS CMD...
  local deadline=$(($(date +%s) + $1)); shift
  until "$@" >/dev/null 2>&1; do
    (($(date +%s) >= deadline)) && return 1
    sleep 0.3
  done
}

k() { kubectl --request-timeout=30s -n "$NS" "$@"; }
jp() { k get "$1" -o "jsonpath=$2" 2>/dev/null; }  # OBJECT JSONPATH
# The status of a condition, "reason", or "message" (JOB TYPE [FIELD]).
cond() { jp "job/$1" "{.status.conditions[?(@.type==\"$2\")].${3:-status}}"; }
job_is() { [[ $(cond "$1" "$2") == True ]]; }          # JOB TYPE
pods_of() { k get pods -l "job-name=$1" -o 'jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}' | sort; }
pod_of() { pods_of "$1" | head -n1; }
pod_phase_is() { [[ $(jp "pod/$1" '{.status.phase}') == "$2" ]]; }
gone() { ! k get "$1" >/dev/null 2>&1; }               # OBJECT
proc_running() { pgrep -f -- "$1" >/dev/null; }        # MARKER in the command line
no_proc() { ! proc_running "$1"; }
events_for() { # OBJECT_NAME REASON: the messages of its events with that reason
  k get events --field-selector "involvedObject.name=$1,reason=$2" \
    -o 'jsonpath={range .items[*]}{.message}{"\n"}{end}'
}

a_job() { # NAME SPEC_LINES: a batch/v1 Job; SPEC_LINES are the spec, indented by 2
  k apply -f - >/dev/null <<EOF
apiVersion: batch/v1
kind: Job
metadata:
  name: $1
spec:
$2
EOF
}

# A one-container pod template for a Job: TEMPLATE COMMAND_JSON [EXTRA_CONTAINER_LINES]
a_template() {
  cat <<EOF
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: registry.example/e2e:1.0
        command: $1
${2:-}
EOF
}

a_dump() {
  echo "---- diagnostics for namespace $NS"
  k get jobs,pods -o wide 2>&1 | head -40
  k get jobs -o yaml 2>&1 | grep -vE 'managedFields|manager:|operation:|fieldsType|fieldsV1|f:' | head -150
  k get pods -o yaml 2>&1 | grep -vE 'managedFields|manager:|operation:|fieldsType|fieldsV1|f:' | head -200
  k get events --sort-by=.lastTimestamp 2>&1 | tail -30
  [[ -n ${AGENT_LOG:-} && -f $AGENT_LOG ]] && { echo "---- agent log"; tail -n 40 "$AGENT_LOG"; }
}

a_cleanup() {
  local pid
  for pid in "${A_BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  ((A_FAILED)) && a_dump
  k delete jobs --all --cascade=background --wait=false >/dev/null 2>&1
  k delete resourcequotas,configmaps --all --wait=false >/dev/null 2>&1
  kubectl delete namespace "$NS" --wait=false >/dev/null 2>&1
}

a_init() { # NAME
  [[ -n ${KUBECONFIG:-} ]] || { echo "KUBECONFIG is not set (run through scripts/test.sh)"; exit 1; }
  NS="agent-$1-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
  kubectl create namespace "$NS" >/dev/null || { echo "cannot create namespace $NS"; exit 1; }
  trap a_cleanup EXIT
  a_log "namespace $NS"
}

a_finish() {
  echo "---- $A_PASSED passed, $A_FAILED failed"
  ((A_FAILED == 0))
}
