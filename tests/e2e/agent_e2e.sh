#!/usr/bin/env bash
# End-to-end tests of stepline-local-agent on the real test API server: Jobs created with
# kubectl, assertions on the Job, Pod, Event and ResourceQuota objects the server returns.
#
#   agent_e2e.sh setup | cleanup     start / stop an agent for the tests (the ctest fixture),
#                                    unless testenv/up.sh --agent already runs one
#   agent_e2e.sh TEST                one test: complete exit_code backoff deadline oom
#                                    termination_message unschedulable quota owner_deleted
#                                    owner_foreground eviction init_sidecar init_failure
#                                    volumes
# Env: KUBECONFIG; STEPLINE_AGENT_BIN (default build/bin/stepline-local-agent);
#      AGENT_E2E_STATE (the fixture's directory: pid, log, work dir).
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=agent_lib.sh
. "$HERE/agent_lib.sh"

ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${STEPLINE_AGENT_BIN:-$ROOT/build/bin/stepline-local-agent}"
STATE="${AGENT_E2E_STATE:-$ROOT/build/agent-e2e}"

# Where the running agent keeps its work dir and log.
if [[ -f $STATE/external ]]; then
  WORK="${STEPLINE_TESTENV_DIR:-}/agent"
  AGENT_LOG="${STEPLINE_TESTENV_DIR:-}/agent.log"
else
  WORK="$STATE/work"
  AGENT_LOG="$STATE/agent.log"
fi

starttime() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }

testenv_agent_alive() {
  local n p s
  [[ -n ${STEPLINE_TESTENV_DIR:-} && -f $STEPLINE_TESTENV_DIR/pids ]] || return 1
  while read -r n p s; do
    [[ $n == agent && -n $s && $(starttime "$p") == "$s" ]] && return 0
  done <"$STEPLINE_TESTENV_DIR/pids"
  return 1
}

fixture_setup() {
  mkdir -p "$STATE"
  rm -f "$STATE/external"
  if testenv_agent_alive; then
    touch "$STATE/external"
    a_log "using the agent started by testenv/up.sh --agent"
    return 0
  fi
  [[ -x $BIN ]] || { echo "no agent binary at $BIN"; return 1; }
  : >"$STATE/agent.log"
  # Not through setsid: $! must be the agent itself (setsid may fork).
  "$BIN" --work-dir "$STATE/work" --log-level debug \
    --node name=e2e-a,cpu=8,memory=16Gi --node name=e2e-b,cpu=8,memory=16Gi \
    </dev/null >>"$STATE/agent.log" 2>&1 &
  local pid=$!
  echo "$pid $(starttime "$pid")" >"$STATE/pid"
  if ! a_wait 90 grep -qE "nodes: |another stepline-local-agent" "$STATE/agent.log"; then
    tail -n 30 "$STATE/agent.log"
    return 1
  fi
  if grep -q "another stepline-local-agent" "$STATE/agent.log"; then
    rm -f "$STATE/pid"
    touch "$STATE/external"
    a_log "an agent already serves this server (its Lease is held); using it"
    return 0
  fi
  a_log "agent pid $pid, log $STATE/agent.log, work dir $STATE/work"
}

fixture_cleanup() {
  [[ -f $STATE/pid ]] || return 0
  local pid st
  read -r pid st <"$STATE/pid"
  if [[ -n $st && $(starttime "$pid") == "$st" ]]; then
    kill -TERM "$pid"
    a_wait 15 bash -c "[[ \$(awk '{print \$22}' /proc/$pid/stat 2>/dev/null) != '$st' ]]" ||
      kill -KILL "$pid"
  fi
  rm -f "$STATE/pid"
}

# ---------------------------------------------------------------------------------------------

t_complete() {
  a_init complete
  a_job hello "  backoffLimit: 0
$(a_template '["sh", "-c", "echo hello from $(HOSTNAME)"]')"
  a_check "the Job completes" a_wait 60 job_is hello Complete
  a_eq "conditions, in order" "SuccessCriteriaMet Complete" "$(jp job/hello '{.status.conditions[*].type}')"
  a_eq "SuccessCriteriaMet reason" CompletionsReached "$(cond hello SuccessCriteriaMet reason)"
  a_eq "Complete reason" CompletionsReached "$(cond hello Complete reason)"
  a_eq "Complete message" "Reached expected number of succeeded pods" "$(cond hello Complete message)"
  a_eq "succeeded" 1 "$(jp job/hello '{.status.succeeded}')"
  a_eq "active" "" "$(jp job/hello '{.status.active}')"
  a_check "startTime and completionTime set" test -n "$(jp job/hello '{.status.startTime}')" -a \
    -n "$(jp job/hello '{.status.completionTime}')"
  local pod uid
  pod=$(pod_of hello)
  uid=$(jp job/hello '{.metadata.uid}')
  a_eq "pod phase" Succeeded "$(jp "pod/$pod" '{.status.phase}')"
  a_eq "exit code" 0 "$(jp "pod/$pod" '{.status.containerStatuses[0].state.terminated.exitCode}')"
  a_eq "terminated reason" Completed "$(jp "pod/$pod" '{.status.containerStatuses[0].state.terminated.reason}')"
  a_eq "owner is the Job (by UID)" "Job $uid true" \
    "$(jp "pod/$pod" '{.metadata.ownerReferences[0].kind} {.metadata.ownerReferences[0].uid} {.metadata.ownerReferences[0].controller}')"
  a_eq "Job labels" "hello $uid" "$(jp "pod/$pod" '{.metadata.labels.batch\.kubernetes\.io/job-name} {.metadata.labels.controller-uid}')"
  a_eq "tracking finalizer removed" "" "$(jp "pod/$pod" '{.metadata.finalizers}')"
  a_eq "Ready condition" "False PodCompleted" \
    "$(jp "pod/$pod" '{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].reason}')"
  a_eq "SuccessfulCreate event" "Created pod: $pod" "$(events_for hello SuccessfulCreate)"
  a_eq "Completed event" "Job completed" "$(events_for hello Completed)"
  a_match "Scheduled event" "^Successfully assigned $NS/$pod to (e2e-[ab]|local)$" "$(events_for "$pod" Scheduled)"
  local log="$WORK/logs/${NS}_${pod}_$(jp "pod/$pod" '{.metadata.uid}')/main/0.log"
  a_eq "stdout in the pod's log file" "hello from $pod" "$(cat "$log" 2>/dev/null)"
  a_finish
}

t_exit_code() {
  a_init exit-code
  a_job fail3 "  backoffLimit: 0
$(a_template '["sh", "-c", "echo failing; exit 3"]')"
  a_check "the Job fails" a_wait 60 job_is fail3 Failed
  a_eq "conditions, in order" "FailureTarget Failed" "$(jp job/fail3 '{.status.conditions[*].type}')"
  a_eq "FailureTarget reason" BackoffLimitExceeded "$(cond fail3 FailureTarget reason)"
  a_eq "Failed reason" BackoffLimitExceeded "$(cond fail3 Failed reason)"
  a_eq "Failed message" "Job has reached the specified backoff limit" "$(cond fail3 Failed message)"
  a_eq "failed" 1 "$(jp job/fail3 '{.status.failed}')"
  a_eq "no completionTime" "" "$(jp job/fail3 '{.status.completionTime}')"
  local pod
  pod=$(pod_of fail3)
  a_eq "pod phase" Failed "$(jp "pod/$pod" '{.status.phase}')"
  a_eq "exitCode 3, reason Error" "3 Error" \
    "$(jp "pod/$pod" '{.status.containerStatuses[0].state.terminated.exitCode} {.status.containerStatuses[0].state.terminated.reason}')"
  a_eq "BackoffLimitExceeded event" "Job has reached the specified backoff limit" \
    "$(events_for fail3 BackoffLimitExceeded)"
  a_finish
}

t_backoff() {
  a_init backoff
  a_job retry "  backoffLimit: 2
$(a_template '["sh", "-c", "exit 3"]')"
  a_check "the Job fails after its retries" a_wait 120 job_is retry Failed
  a_eq "three pods (two retries)" 3 "$(pods_of retry | grep -c .)"
  a_eq "failed" 3 "$(jp job/retry '{.status.failed}')"
  a_eq "Failed reason" BackoffLimitExceeded "$(cond retry Failed reason)"
  local codes
  codes=$(k get pods -l job-name=retry -o 'jsonpath={range .items[*]}{.status.containerStatuses[0].state.terminated.exitCode} {end}')
  a_eq "every pod exited 3" "3 3 3 " "$codes"
  # The replacements wait 10s, then 20s, after the previous failure.
  local gaps
  gaps=$(k get pods -l job-name=retry -o json | python3 -c '
import json, sys, datetime
def t(s): return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
pods = sorted(json.load(sys.stdin)["items"], key=lambda p: p["metadata"]["creationTimestamp"])
st = [p["status"]["containerStatuses"][0]["state"]["terminated"] for p in pods]
print(" ".join(str(int((t(st[i]["startedAt"]) - t(st[i-1]["finishedAt"])).total_seconds()))
               for i in range(1, len(st))))')
  a_match "backoff gaps of about 10s then 20s (got: $gaps)" '^(9|1[0-4]) (19|2[0-4])$' "$gaps"
  a_finish
}

t_deadline() {
  local marker="agent-e2e-deadline-$RANDOM$RANDOM"
  a_init deadline
  a_job slow "  backoffLimit: 5
  activeDeadlineSeconds: 3
$(a_template "[\"sh\", \"-c\", \"sleep 300; echo $marker\"]")"
  a_check "the command runs" a_wait 30 proc_running "$marker"
  a_check "the Job fails at its deadline" a_wait 30 job_is slow Failed
  a_eq "FailureTarget reason" DeadlineExceeded "$(cond slow FailureTarget reason)"
  a_eq "Failed reason" DeadlineExceeded "$(cond slow Failed reason)"
  a_eq "Failed message" "Job was active longer than specified deadline" "$(cond slow Failed message)"
  a_check "the process is gone" a_wait 15 no_proc "$marker"
  a_match "the pod was deleted" '^Deleted pod: slow-' "$(events_for slow SuccessfulDelete)"
  a_eq "DeadlineExceeded event" "Job was active longer than specified deadline" \
    "$(events_for slow DeadlineExceeded)"
  a_finish
}

t_oom() {
  a_init oom
  a_job hog "  backoffLimit: 0
$(a_template '["python3", "-c", "b = bytearray(200 * 1024 * 1024); print(len(b))"]' \
'        resources:
          requests: {memory: 64Mi}
          limits: {memory: 64Mi}')"
  a_check "the Job fails" a_wait 60 job_is hog Failed
  local pod
  pod=$(pod_of hog)
  a_eq "OOMKilled, exit code 137" "OOMKilled 137" \
    "$(jp "pod/$pod" '{.status.containerStatuses[0].state.terminated.reason} {.status.containerStatuses[0].state.terminated.exitCode}')"
  a_eq "pod phase" Failed "$(jp "pod/$pod" '{.status.phase}')"
  a_eq "qosClass (memory only: Burstable)" Burstable "$(jp "pod/$pod" '{.status.qosClass}')"
  a_finish
}

t_termination_message() {
  a_init termination-message
  a_job metrics "  backoffLimit: 0
$(a_template '["sh", "-c", "printf \"{\\\"accuracy\\\": \\\"0.91\\\"}\" > /dev/termination-log"]' \
'        terminationMessagePolicy: FallbackToLogsOnError')"
  a_job crash "  backoffLimit: 0
$(a_template '["sh", "-c", "echo loading data; echo loss is NaN >&2; exit 1"]' \
'        terminationMessagePolicy: FallbackToLogsOnError')"
  a_check "the first Job completes" a_wait 60 job_is metrics Complete
  a_check "the second Job fails" a_wait 60 job_is crash Failed
  a_eq "message from /dev/termination-log" '{"accuracy": "0.91"}' \
    "$(jp "pod/$(pod_of metrics)" '{.status.containerStatuses[0].state.terminated.message}')"
  a_eq "message from the log tail (FallbackToLogsOnError)" $'loading data\nloss is NaN' \
    "$(jp "pod/$(pod_of crash)" '{.status.containerStatuses[0].state.terminated.message}')"
  a_finish
}

t_unschedulable() {
  local node="e2e-big-$RANDOM"
  a_init unschedulable
  a_job big "  backoffLimit: 0
$(a_template '["sh", "-c", "echo ran"]' \
'        resources:
          requests: {memory: 1Pi}')"
  a_check "a pod is created" a_wait 30 test -n "\$(pods_of big)"
  local pod
  pod=$(pod_of big)
  a_check "it is Unschedulable" a_wait 30 bash -c \
    "[[ \$(kubectl -n $NS get pod $pod -o 'jsonpath={.status.conditions[?(@.type==\"PodScheduled\")].reason}') == Unschedulable ]]"
  local msg
  msg=$(jp "pod/$pod" '{.status.conditions[?(@.type=="PodScheduled")].message}')
  a_match "the scheduler's message" \
    '^0/([0-9]+) nodes are available: \1 Insufficient memory\. preemption: 0/\1 nodes are available: \1 No preemption victims found for incoming pod\.$' "$msg"
  a_eq "FailedScheduling event" "$msg" "$(events_for "$pod" FailedScheduling)"
  a_eq "still Pending, no node" "Pending " "$(jp "pod/$pod" '{.status.phase} {.spec.nodeName}')"
  a_check "a node is added" "$BIN" --add-node "name=$node,cpu=2,memory=2Pi"
  a_check "the Job then completes" a_wait 60 job_is big Complete
  a_eq "it ran on the new node" "$node" "$(jp "pod/$pod" '{.spec.nodeName}')"
  a_eq "PodScheduled" True "$(jp "pod/$pod" '{.status.conditions[?(@.type=="PodScheduled")].status}')"
  "$BIN" --remove-node "$node" >/dev/null
  a_finish
}

t_quota() {
  a_init quota
  k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ResourceQuota
metadata: {name: pod-quota}
spec: {hard: {pods: "1"}}
EOF
  local j
  for j in q1 q2 q3; do a_job "$j" "  backoffLimit: 0
$(a_template '["sh", "-c", "sleep 2"]')"; done
  for j in q1 q2 q3; do a_check "$j completes" a_wait 240 job_is "$j" Complete; done
  local msgs
  msgs=$(for j in q1 q2 q3; do events_for "$j" FailedCreate; done)
  a_check "FailedCreate events were recorded" test -n "$msgs"
  local bad
  bad=$(grep -vE '^Error creating: pods "q[123]-[a-z0-9]{5}" is forbidden: exceeded quota: pod-quota, requested: pods=1, used: pods=1, limited: pods=1$' <<<"$msgs")
  a_eq "every FailedCreate carries the API server's quota message" "" "$bad"
  local overlap
  overlap=$(k get pods -o json | python3 -c '
import json, sys
pods = json.load(sys.stdin)["items"]
runs = sorted((c["state"]["terminated"]["startedAt"], c["state"]["terminated"]["finishedAt"])
              for p in pods for c in p["status"]["containerStatuses"])
print(len(runs), sum(1 for a, b in zip(runs, runs[1:]) if b[0] < a[1]))')
  a_eq "three pods, one at a time" "3 0" "$overlap"
  a_check "quota status.used back to 0" a_wait 30 bash -c \
    "[[ \$(kubectl -n $NS get resourcequota pod-quota -o 'jsonpath={.status.hard.pods}/{.status.used.pods}') == 1/0 ]]"
  a_finish
}

owner_test() { # NAME CASCADE
  local marker="agent-e2e-owner-$RANDOM$RANDOM"
  a_init "$1"
  k create configmap owner --from-literal=a=b >/dev/null
  local uid
  uid=$(jp configmap/owner '{.metadata.uid}')
  k apply -f - >/dev/null <<EOF
apiVersion: batch/v1
kind: Job
metadata:
  name: owned
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: owner, uid: $uid, controller: true, blockOwnerDeletion: true}
spec:
  backoffLimit: 0
$(a_template "[\"sh\", \"-c\", \"sleep 300; echo $marker\"]")
EOF
  a_check "the pod runs" a_wait 30 bash -c "[[ -n \$(kubectl -n $NS get pods -l job-name=owned -o name) ]]"
  a_check "its process runs" a_wait 30 proc_running "$marker"
  a_check "the owner is deleted ($2)" k delete configmap owner "--cascade=$2" --wait=false -o name
  a_check "the Job goes" a_wait 60 gone job/owned
  a_check "its Pod goes" a_wait 60 bash -c "[[ -z \$(kubectl -n $NS get pods -l job-name=owned -o name) ]]"
  a_check "its process goes" a_wait 30 no_proc "$marker"
  a_check "the owner is gone" a_wait 30 gone configmap/owner
  a_finish
}

t_owner_deleted() { owner_test owner-deleted background; }
t_owner_foreground() { owner_test owner-foreground foreground; }

t_eviction() {
  local marker="agent-e2e-evict-$RANDOM$RANDOM"
  a_init eviction
  a_job drained "  backoffLimit: 0
$(a_template "[\"sh\", \"-c\", \"sleep 300; echo $marker\"]")"
  a_check "the process runs" a_wait 30 proc_running "$marker"
  local pod watch="$(mktemp)"
  pod=$(pod_of drained)
  a_check "the pod is Running" a_wait 30 pod_phase_is "$pod" Running
  kubectl -n "$NS" get pod "$pod" --watch -o json >"$watch" 2>/dev/null &
  A_BG_PIDS+=($!)
  sleep 1
  a_eq "evicted" "pod/$pod evicted" "$("$BIN" --evict "$NS/$pod")"
  a_check "the process goes" a_wait 30 no_proc "$marker"
  a_check "the Job fails" a_wait 60 job_is drained Failed
  sleep 1
  local seen
  seen=$(python3 - "$watch" <<'EOF'
import json, sys
text, pos, dec, out = open(sys.argv[1]).read(), 0, json.JSONDecoder(), set()
while True:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        break
    pod, pos = dec.raw_decode(text, pos)
    st = pod.get("status", {})
    dt = [c for c in st.get("conditions", []) if c["type"] == "DisruptionTarget"]
    term = (st.get("containerStatuses") or [{}])[0].get("state", {}).get("terminated", {})
    if dt and st.get("phase") == "Failed":
        out.add("%s %s %s %s %s" % (dt[0]["status"], dt[0]["reason"], dt[0]["message"],
                                 term.get("exitCode"), term.get("reason")))
print("\n".join(sorted(out)))
EOF
)
  a_eq "the pod ended Failed with DisruptionTarget" \
    "True EvictionByEvictionAPI Eviction API: evicting 143 Error" "$seen"
  a_eq "the kubelet's Killing event" "Stopping container main" "$(events_for "$pod" Killing)"
  a_eq "the Job counts it as a failure" "1 BackoffLimitExceeded" \
    "$(jp job/drained '{.status.failed} {.status.conditions[?(@.type=="Failed")].reason}')"
  rm -f "$watch"
  a_finish
}

# Init containers in order, a native sidecar beside the main container and stopped after it,
# an emptyDir shared by all of them (subPath, readOnly) and a Secret volume (defaultMode).
t_init_sidecar() {
  a_init init-sidecar
  k create secret generic creds --from-literal=token=s3cr3t >/dev/null
  k apply -f - >/dev/null <<'YAML'
apiVersion: batch/v1
kind: Job
metadata: {name: staged}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 20
      volumes:
      - {name: work, emptyDir: {}}
      - {name: creds, secret: {secretName: creds, defaultMode: 0400}}
      initContainers:
      - name: fetch
        image: registry.example/e2e:1.0
        command: ["sh", "-c", "mkdir -p /w/in && echo payload > /w/in/data.txt"]
        volumeMounts: [{name: work, mountPath: /w}]
      - name: watcher
        image: registry.example/e2e:1.0
        restartPolicy: Always
        command: ["sh", "-c", "trap 'date +%s%N > /w/term-at; cat /w/out/result > /w/uploaded; exit 0' TERM; touch /w/sidecar-start; while :; do sleep 0.2; done"]
        volumeMounts: [{name: work, mountPath: /w}]
      - name: check
        image: registry.example/e2e:1.0
        command: ["sh", "-c", "sleep 0.5; test -f /w/sidecar-start"]
        volumeMounts: [{name: work, mountPath: /w}]
      containers:
      - name: main
        image: registry.example/e2e:1.0
        command: ["sh", "-c", "cat /data/data.txt; stat -c %a /creds/token; cat /creds/token; echo; touch /data/x 2>/dev/null && echo writable || echo read-only; echo result-$(cat /data/data.txt) > /out/result; sleep 1; date +%s%N > /out/main-done"]
        volumeMounts:
        - {name: work, mountPath: /data, subPath: in, readOnly: true}
        - {name: work, mountPath: /out, subPath: out}
        - {name: creds, mountPath: /creds, readOnly: true}
YAML
  local pod uid dir
  a_check "the pod starts" a_wait 30 bash -c "[[ -n \$(kubectl -n $NS get pods -l job-name=staged -o name) ]]"
  pod=$(pod_of staged)
  a_check "the pod is Running while main runs, sidecar ready" a_wait 30 bash -c \
    "[[ \$(kubectl -n $NS get pod $pod -o 'jsonpath={.status.phase} {.status.initContainerStatuses[1].started}') == 'Running true' ]]"
  a_check "the Job completes" a_wait 60 job_is staged Complete
  uid=$(jp "pod/$pod" '{.metadata.uid}')
  dir="$WORK/pods/$uid/volumes/work"
  a_eq "pod phase" Succeeded "$(jp "pod/$pod" '{.status.phase}')"
  a_eq "init containers in order, all terminated (check saw the sidecar started)" \
    "fetch:0:Completed watcher:0:Completed check:0:Completed" \
    "$(jp "pod/$pod" '{range .status.initContainerStatuses[*]}{.name}:{.state.terminated.exitCode}:{.state.terminated.reason} {end}' | sed 's/ $//')"
  a_eq "Initialized" True "$(jp "pod/$pod" '{.status.conditions[?(@.type=="Initialized")].status}')"
  local main_log="$WORK/logs/${NS}_${pod}_${uid}/main/0.log"
  a_eq "main read the input by subPath, the Secret's key (mode 400), and could not write" \
    "payload
400
s3cr3t
read-only" "$(cat "$main_log" 2>/dev/null)"
  a_eq "the sidecar read what main wrote, on SIGTERM" "result-payload" "$(cat "$dir/uploaded" 2>/dev/null)"
  local main_done term_at
  main_done=$(cat "$dir/out/main-done" 2>/dev/null)
  term_at=$(cat "$dir/term-at" 2>/dev/null)
  a_check "the sidecar got SIGTERM after main ended ($term_at > $main_done)" \
    test -n "$main_done" -a -n "$term_at" -a "${term_at:-0}" -gt "${main_done:-0}"
  a_eq "a Killing event for the sidecar only" "Stopping container watcher" "$(events_for "$pod" Killing)"
  a_finish
}

# A failing init container fails the pod as a kubelet does: the main container never runs.
t_init_failure() {
  local marker="agent-e2e-init-fail-$RANDOM$RANDOM"
  a_init init-failure
  k apply -f - >/dev/null <<YAML
apiVersion: batch/v1
kind: Job
metadata: {name: badinit}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      initContainers:
      - name: download
        image: registry.example/e2e:1.0
        command: ["sh", "-c", "echo 'NoSuchKey: The specified key does not exist.' > /dev/termination-log; exit 3"]
      containers:
      - name: main
        image: registry.example/e2e:1.0
        command: ["sh", "-c", "echo $marker"]
YAML
  a_check "the Job fails" a_wait 60 job_is badinit Failed
  local pod
  pod=$(pod_of badinit)
  a_eq "pod phase" Failed "$(jp "pod/$pod" '{.status.phase}')"
  # (kubectl prints this pod as Init:Error on a cluster; the test server's Pod columns show the
  # phase only.)
  a_eq "init container: exit 3, Error, its termination message" \
    "3 Error NoSuchKey: The specified key does not exist." \
    "$(jp "pod/$pod" '{.status.initContainerStatuses[0].state.terminated.exitCode} {.status.initContainerStatuses[0].state.terminated.reason} {.status.initContainerStatuses[0].state.terminated.message}' | sed 's/[[:space:]]*$//')"
  a_eq "main never ran (waiting PodInitializing)" PodInitializing \
    "$(jp "pod/$pod" '{.status.containerStatuses[0].state.waiting.reason}')"
  a_eq "Initialized False, naming the container" \
    "False ContainersNotInitialized containers with incomplete status: [download]" \
    "$(jp "pod/$pod" '{.status.conditions[?(@.type=="Initialized")].status} {.status.conditions[?(@.type=="Initialized")].reason} {.status.conditions[?(@.type=="Initialized")].message}')"
  a_check "main's log is empty: it never ran" test ! -s \
    "$WORK/logs/${NS}_${pod}_$(jp "pod/$pod" '{.metadata.uid}')/main/0.log"
  a_finish
}

# A Secret volume whose Secret is missing: the pod waits in ContainerCreating with the kubelet's
# FailedMount event, and starts once the Secret exists. A volume type the agent does not
# provide fails the pod, naming it.
t_volumes() {
  a_init volumes
  a_job waits "  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      volumes: [{name: creds, secret: {secretName: later}}]
      containers:
      - name: main
        image: registry.example/e2e:1.0
        command: [\"cat\", \"/creds/key\"]
        volumeMounts: [{name: creds, mountPath: /creds}]"
  local pod
  a_check "the pod is created" a_wait 30 bash -c "[[ -n \$(kubectl -n $NS get pods -l job-name=waits -o name) ]]"
  pod=$(pod_of waits)
  a_check "FailedMount names the volume and the Secret" a_wait 30 bash -c \
    "kubectl -n $NS get events --field-selector involvedObject.name=$pod,reason=FailedMount -o jsonpath='{.items[*].message}' | grep -qF 'MountVolume.SetUp failed for volume \"creds\" : secret \"later\" not found'"
  a_eq "main waits in ContainerCreating" ContainerCreating \
    "$(jp "pod/$pod" '{.status.containerStatuses[0].state.waiting.reason}')"
  k create secret generic later --from-literal=key=arrived >/dev/null
  a_check "the Job completes once the Secret exists" a_wait 60 job_is waits Complete
  a_eq "main read it" arrived \
    "$(cat "$WORK/logs/${NS}_${pod}_$(jp "pod/$pod" '{.metadata.uid}')/main/0.log" 2>/dev/null)"
  a_job nfs "  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      volumes: [{name: share, nfs: {server: nfs.example, path: /x}}]
      containers:
      - name: main
        image: registry.example/e2e:1.0
        command: [\"true\"]
        volumeMounts: [{name: share, mountPath: /share}]"
  a_check "a pod with an nfs volume fails" a_wait 60 job_is nfs Failed
  a_eq "StartError naming the volume and what the agent provides" \
    'StartError volume "share": the local agent provides emptyDir, secret, configMap and hostPath volumes, not nfs' \
    "$(jp "pod/$(pod_of nfs)" '{.status.containerStatuses[0].state.terminated.reason} {.status.containerStatuses[0].state.terminated.message}')"
  a_finish
}

case ${1:-} in
  setup) fixture_setup ;;
  cleanup) fixture_cleanup ;;
  complete | exit_code | backoff | deadline | oom | termination_message | unschedulable | quota | \
    owner_deleted | owner_foreground | eviction | init_sidecar | init_failure | volumes) "t_$1" ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
