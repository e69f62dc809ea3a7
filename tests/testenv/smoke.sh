#!/usr/bin/env bash
# tests/testenv/smoke.sh - smoke test of testenv/: up.sh, kubectl against the
# server (discovery, CRDs, printer columns, describe, core-group stand-ins,
# field selectors, labels, jobs, watch, authn/authz), down.sh.
# Prints "N passed, N failed"; exits non-zero on any failure.
# STEPLINE_SMOKE_KEEP=1 keeps the state dir (logs) afterwards.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok    $1"; }
bad() { fail=$((fail + 1)); echo "FAIL  $1"; [ -z "${2:-}" ] || printf '%s\n' "$2" | tail -n 8 | sed 's/^/      /'; }
# check NAME CMD...: CMD must succeed
check() { local name=$1 out; shift; if out=$("$@" 2>&1); then ok "$name"; else bad "$name" "$out"; fi; }
# expect NAME REGEX CMD...: CMD's output (stdout+stderr) must match REGEX
expect() { local name=$1 re=$2 out; shift 2; out=$("$@" 2>&1); if grep -qE -- "$re" <<<"$out"; then ok "$name"; else bad "$name" "$out"; fi; }
finish() {
  echo "$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}

STATE=$(mktemp -d "${TMPDIR:-/tmp}/stepline-smoke.XXXXXX")
cleanup() {
  [ -n "${STEPLINE_TESTENV_DIR:-}" ] && "$REPO/testenv/down.sh" "$STATE" >/dev/null 2>&1
  [ "${STEPLINE_SMOKE_KEEP:-0}" = 1 ] || rm -rf "$STATE"
}
trap cleanup EXIT

t0=${EPOCHREALTIME/./}
if ! env_lines=$("$REPO/testenv/up.sh" --dir "$STATE" 2>"$STATE.up.err"); then
  bad "up.sh" "$(cat "$STATE.up.err")"; rm -f "$STATE.up.err"; finish; exit 1
fi
rm -f "$STATE.up.err"
t1=${EPOCHREALTIME/./}
eval "$env_lines"
ok "up.sh ($(( (t1 - t0) / 1000 )) ms)"

# stdout of up.sh is export lines only
if grep -qvE '^export [A-Z_]+=' <<<"$env_lines"; then bad "up.sh prints only export lines" "$env_lines"; else ok "up.sh prints only export lines"; fi
for v in KUBECONFIG STEPLINE_TESTENV_DIR STEPLINE_TESTENV_SERVER STEPLINE_TESTENV_CA STEPLINE_TESTENV_CLIENT_CERT \
         STEPLINE_TESTENV_CLIENT_KEY STEPLINE_TESTENV_TOKEN STEPLINE_TESTENV_NOBODY_TOKEN STEPLINE_TESTENV_ETCD STEPLINE_TESTENV_ETCDCTL; do
  [ -n "${!v:-}" ] || bad "export $v"
done
expect "kubectl on PATH is the test env's" "^$STEPLINE_TESTENV_DIR/bin/kubectl$" command -v kubectl
expect "kubectl version (server v1.36)" 'Server Version: v1\.36\.' kubectl version

expect "kubectl api-resources" '^pods +po +v1 +true +Pod' kubectl api-resources
expect "api-resources has jobs, leases, CRDs" 'jobs .*batch/v1.*Job' kubectl api-resources
expect "api-resources has leases" 'leases .*coordination.k8s.io/v1 ' kubectl api-resources
expect "kubectl get ns" '^default +Active' kubectl get ns
check "kubectl create ns demo" kubectl create ns demo

cat >"$STATE/crd.yaml" <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.smoke.stepline.test}
spec:
  group: smoke.stepline.test
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Color, type: string, jsonPath: .spec.color}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, minimum: 1}
              color: {type: string, default: blue}
          status: {type: object, x-kubernetes-preserve-unknown-fields: true}
EOF
cat >"$STATE/cr.yaml" <<'EOF'
apiVersion: smoke.stepline.test/v1
kind: Widget
metadata: {name: w1, namespace: demo}
spec: {size: 3}
EOF
check "kubectl apply CRD" kubectl apply -f "$STATE/crd.yaml"
check "kubectl wait --for=condition=Established" kubectl wait --for=condition=Established crd/widgets.smoke.stepline.test --timeout=30s
applied=0
for _ in $(seq 30); do  # a new CRD's storage may answer 429 for a moment
  if out=$(kubectl apply -f "$STATE/cr.yaml" 2>&1); then applied=1; break; fi; sleep 0.2
done
[ $applied = 1 ] && ok "kubectl apply CR (client-side, uses OpenAPI)" || bad "kubectl apply CR (client-side, uses OpenAPI)" "$out"
expect "kubectl get with printer columns" '^w1 +3 +blue' kubectl get widgets -n demo
expect "schema validation rejects size 0" 'Invalid value|should be greater than or equal to 1' \
  kubectl patch widget w1 -n demo --type=merge -p '{"spec":{"size":0}}'
expect "kubectl describe CR" 'Size: +3' kubectl describe widget w1 -n demo
check "kubectl apply CR again (3-way merge)" bash -c "sed 's/size: 3/size: 4/' '$STATE/cr.yaml' | kubectl apply -f -"
expect "/openapi/v3 lists the CRD group" 'apis/smoke.stepline.test/v1' kubectl get --raw /openapi/v3
expect "/openapi/v2 has the CRD schema" 'test.stepline.smoke.v1.Widget' kubectl get --raw /openapi/v2

cat >"$STATE/pod.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: p1, namespace: demo, labels: {app: smoke}}
spec:
  containers:
  - {name: main, image: busybox, command: [sh, -c, "echo hi"]}
EOF
write_event() { cat >"$STATE/event.yaml" <<EOF
apiVersion: v1
kind: Event
metadata: {name: p1.smoke1, namespace: demo}
involvedObject: {apiVersion: v1, kind: Pod, name: p1, namespace: demo, uid: "$1"}
reason: Scheduled
type: Normal
message: smoke event for p1
lastTimestamp: "2024-01-01T00:00:00Z"
source: {component: smoke}
EOF
}
check "create pod (kubectl apply --server-side)" kubectl apply --server-side -f "$STATE/pod.yaml"
write_event "$(kubectl get pod p1 -n demo -o 'jsonpath={.metadata.uid}')"
check "create event (kubectl create -f)" kubectl create -f "$STATE/event.yaml"
expect "kubectl get pods" '^p1 +Pending' kubectl get pods -n demo
expect "pod reads back as apiVersion v1" '^v1 Pod$' kubectl get pod p1 -n demo -o 'jsonpath={.apiVersion} {.kind}'
expect "kubectl get events --field-selector involvedObject.name=p1" 'Scheduled.*Pod +p1 +smoke event' \
  kubectl get events -n demo --field-selector involvedObject.name=p1
expect "field selector excludes other objects" 'No resources found' \
  kubectl get events -n demo --field-selector involvedObject.name=other
expect "involvedObject.apiVersion stays v1" '^v1$' kubectl get event p1.smoke1 -n demo -o 'jsonpath={.involvedObject.apiVersion}'
check "kubectl label pod (strategic merge patch)" kubectl label pod p1 -n demo tier=web
expect "label is set" '^web$' kubectl get pod p1 -n demo -o 'jsonpath={.metadata.labels.tier}'
expect "pods field selector status.phase" '^p1 ' kubectl get pods -n demo --field-selector status.phase=Pending --no-headers
expect "kubectl describe pod lists its events" 'smoke event for p1' kubectl describe pod p1 -n demo

cat >"$STATE/job.yaml" <<'EOF'
apiVersion: batch/v1
kind: Job
metadata: {name: j1, namespace: demo}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox, command: ["true"]}]
EOF
check "create batch/v1 Job" kubectl create -f "$STATE/job.yaml"
expect "kubectl get jobs" '^NAME +STATUS +COMPLETIONS .*AGE' kubectl get jobs -n demo
expect "kubectl get jobs lists j1" '^j1 ' kubectl get jobs -n demo

# watch: a second pod created while `kubectl get pods -w` runs shows up
timeout 20 kubectl get pods -n demo -w --no-headers >"$STATE/watch.out" 2>&1 &
wpid=$!
for _ in $(seq 50); do grep -q '^p1 ' "$STATE/watch.out" && break; sleep 0.1; done
sed 's/name: p1/name: p2/' "$STATE/pod.yaml" | kubectl create -f - >/dev/null 2>&1
seen=0
for _ in $(seq 100); do grep -q '^p2 ' "$STATE/watch.out" && { seen=1; break; }; sleep 0.1; done
kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null
[ $seen = 1 ] && ok "kubectl get pods -w sees a new pod" || bad "kubectl get pods -w sees a new pod" "$(cat "$STATE/watch.out")"

# authentication and authorization with tokens (no client certificate)
tok() { KUBECONFIG=/dev/null kubectl --server="$STEPLINE_TESTENV_SERVER" --certificate-authority="$STEPLINE_TESTENV_CA" --token="$1" "${@:2}"; }
expect "admin token can list" '^p1 ' tok "$STEPLINE_TESTENV_TOKEN" get pods -n demo --no-headers
expect "nobody token gets 403 Forbidden" 'Forbidden' tok "$STEPLINE_TESTENV_NOBODY_TOKEN" get pods -n demo
expect "bad token gets 401 Unauthorized" 'Unauthorized' tok "not-a-valid-token" get pods -n demo
code() { curl -s -o /dev/null -w '%{http_code}' --cacert "$STEPLINE_TESTENV_CA" "$@"; }
expect "curl: nobody -> 403" '^403$' code -H "Authorization: Bearer $STEPLINE_TESTENV_NOBODY_TOKEN" "$STEPLINE_TESTENV_SERVER/api/v1/namespaces/demo/pods"
expect "curl: bad token -> 401" '^401$' code -H "Authorization: Bearer nope" "$STEPLINE_TESTENV_SERVER/api/v1/namespaces/demo/pods"
expect "curl: client cert -> 200" '^200$' code --cert "$STEPLINE_TESTENV_CLIENT_CERT" --key "$STEPLINE_TESTENV_CLIENT_KEY" "$STEPLINE_TESTENV_SERVER/api/v1/namespaces/demo/pods"
expect "aggregated discovery /apis" '"name": ?"batch"' curl -s --cacert "$STEPLINE_TESTENV_CA" -H "Authorization: Bearer $STEPLINE_TESTENV_TOKEN" \
  -H 'Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' "$STEPLINE_TESTENV_SERVER/apis"
expect "legacy /apis hides the private core group" '"batch"' kubectl get --raw /apis
if kubectl get --raw /apis | grep -q core.kapi.test; then bad "private group not in /apis"; else ok "private group not in /apis"; fi
expect "legacy /api/v1 lists pods/status" '"name":"pods/status"' kubectl get --raw /api/v1
expect "NotFound names the core resource" 'pods "nope" not found' kubectl get pod nope -n demo
# HTTP/1.1 watches (chunked), both URL forms, rewritten to apiVersion v1
w11() { curl -sN --http1.1 --max-time 4 --cacert "$STEPLINE_TESTENV_CA" -H "Authorization: Bearer $STEPLINE_TESTENV_TOKEN" "$STEPLINE_TESTENV_SERVER$1"; }
expect "HTTP/1.1 watch ?watch=true" '"type":"ADDED","object":\{"apiVersion":"v1","kind":"Pod"' w11 "/api/v1/namespaces/demo/pods?watch=true&timeoutSeconds=2"
expect "HTTP/1.1 watch /watch/ path" '"type":"ADDED","object":\{"apiVersion":"v1","kind":"Namespace"' w11 "/api/v1/watch/namespaces?timeoutSeconds=2"
expect "strategic merge patch with a list is refused (415)" 'UnsupportedMediaType|415|not supported' \
  kubectl patch pod p1 -n demo -p '{"spec":{"containers":[{"name":"main","image":"x"}]}}'
expect "status subresource (merge patch)" 'Running' bash -c "kubectl patch pod p1 -n demo --subresource=status --type=merge -p '{\"status\":{\"phase\":\"Running\"}}' >/dev/null && kubectl get pod p1 -n demo"
expect "etcdctl reaches etcd" 'is healthy' "$STEPLINE_TESTENV_ETCDCTL" --endpoints="$STEPLINE_TESTENV_ETCD" endpoint health

# a second instance at the same time, with a low in-flight limit: real 429s
STATE2=$(mktemp -d "${TMPDIR:-/tmp}/stepline-smoke2.XXXXXX")
if env2=$(STEPLINE_TESTENV_MAX_INFLIGHT=1 "$REPO/testenv/up.sh" --dir "$STATE2" 2>"$STATE2/up.err"); then
  ok "second instance starts beside the first"
  s2=$(sed -n "s/^export STEPLINE_TESTENV_SERVER=//p" <<<"$env2")
  t2=$(sed -n "s/^export STEPLINE_TESTENV_TOKEN=//p" <<<"$env2")
  ca2=$(sed -n "s/^export STEPLINE_TESTENV_CA=//p" <<<"$env2")
  [ "$s2" != "$STEPLINE_TESTENV_SERVER" ] && ok "instances use different ports" || bad "instances use different ports"
  # 100 concurrent creates on one HTTP/2 connection (writes take long enough to overlap)
  args=(); for i in $(seq 100); do args+=(-o /dev/null "$s2/api/v1/namespaces/default/configmaps"); done
  codes=$(curl -s -Z --parallel-max 100 --http2 -w "%{http_code}\n" --cacert "$ca2" -H "Authorization: Bearer $t2" \
          -H 'Content-Type: application/json' -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"c-"}}' \
          "${args[@]}" 2>/dev/null | sort | uniq -c)
  grep -q ' 429$' <<<"$codes" && ok "STEPLINE_TESTENV_MAX_INFLIGHT=1 gives real 429s" || bad "STEPLINE_TESTENV_MAX_INFLIGHT=1 gives real 429s" "$codes"
  expect "first instance unaffected" '^p1 ' kubectl get pods -n demo --no-headers
  "$REPO/testenv/down.sh" "$STATE2"
else
  bad "second instance starts beside the first" "$(cat "$STATE2/up.err")"
fi
rm -rf "$STATE2"
if [ ! -x "${STEPLINE_BUILD_DIR:-$REPO/build}/bin/stepline-local-agent" ]; then
  expect "up.sh --agent without the agent binary fails clearly" 'stepline-local-agent not found' "$REPO/testenv/up.sh" --agent --dir "$STATE/agent-try"
fi

# down.sh stops everything it started
check "down.sh" "$REPO/testenv/down.sh" "$STATE"
sleep 0.2
left=$(for c in /proc/[0-9]*/cmdline; do  # processes whose command line names the state dir
  { tr "\0" " " <"$c"; } 2>/dev/null | grep -F -- "$STATE" | grep -v smoke.sh; done || true)
[ -z "$left" ] && ok "no process left after down.sh" || bad "no process left after down.sh" "$left"
unset STEPLINE_TESTENV_DIR
finish
