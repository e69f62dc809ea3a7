#!/usr/bin/env bash
# The chart's controller role is tight, on a server that enforces RBAC (testenv/server/rbac.go):
# with the default values (ClusterRole + ClusterRoleBinding, the leader-election and
# instance-types Roles) and only the ServiceAccount's token, what the controller does is allowed
# and the rest is refused: reading Secrets or other ConfigMaps than its own, creating Pods,
# writing a Pipeline or a PipelineSchedule, Leases elsewhere. It may create, stop and delete
# executions: a schedule's runs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init rbac

render_chart "$E2E_WORK/chart.yaml"
apply_kinds "$E2E_WORK/chart.yaml" ServiceAccount Role RoleBinding ClusterRole ClusterRoleBinding
SA="e2e-$$-stepline-controller"
check "the chart's ClusterRole is applied" kubectl get clusterrole "$SA"
pod_credentials "$E2E_WORK/sa" "$SA" || fail "kubectl create token $SA"
TOKEN=$(cat "$E2E_WORK/sa/token")
# kubectl as the ServiceAccount only: no kubeconfig, no client certificate
as_sa() { kubectl --kubeconfig=/dev/null --server="$STEPLINE_TESTENV_SERVER" \
  --certificate-authority="$STEPLINE_TESTENV_CA" --token="$TOKEN" --request-timeout=20s "$@"; }
allowed() { # CMD...: succeeds as the ServiceAccount
  local out
  if out=$(as_sa "$@" 2>&1); then ok "allowed: $*"; else fail "refused but must be allowed: $* -> $out"; fi
}
refused() { # CMD...: fails with Forbidden as the ServiceAccount
  local out
  if out=$(as_sa "$@" 2>&1); then
    fail "allowed but must be refused: $*"
  elif [[ $out == *"forbidden"* && $out == *"system:serviceaccount:$NS:$SA"* ]]; then
    ok "refused: $* -> $(head -c 160 <<<"$out")"
  else
    fail "failed, but not with Forbidden for the ServiceAccount: $* -> $out"
  fi
}

# Objects to act on (as the admin).
k apply -f - >/dev/null <<'YAML'
apiVersion: stepline.dev/v1alpha1
kind: Pipeline
metadata: {name: p}
spec:
  steps: [{name: a, image: busybox, command: ["true"]}]
---
apiVersion: stepline.dev/v1alpha1
kind: PipelineExecution
metadata: {name: x}
spec: {pipelineName: p}
---
apiVersion: stepline.dev/v1alpha1
kind: PipelineSchedule
metadata: {name: sch}
spec:
  schedule: "0 0 1 1 *"
  executionTemplate: {spec: {pipelineName: p}}
---
apiVersion: v1
kind: Secret
metadata: {name: s}
data: {password: aHVudGVyMg==}
YAML
JOB='{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"rbac-job"},"spec":{"suspend":true,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}'
POD='{"apiVersion":"v1","kind":"Pod","metadata":{"name":"rbac-pod"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}'
EVENT='{"apiVersion":"v1","kind":"Event","metadata":{"name":"rbac-event"},"involvedObject":{"kind":"PipelineExecution","name":"x","namespace":"'"$NS"'"},"reason":"Test","message":"m","type":"Normal"}'
STEP_CACHE='{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"stepline-step-cache"}}'
k create configmap other-config --from-literal=a=b >/dev/null
LEASE='{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"stepline-controller"},"spec":{"holderIdentity":"e2e"}}'

# What the controller does: allowed (so a refusal below is the role's, not a broken authorizer).
allowed get pipelines,pipelineexecutions -A
allowed -n "$NS" get plx x
allowed -n "$NS" patch plx x --subresource=status --type=merge -p '{"status":{"observedGeneration":1}}'
allowed -n "$NS" patch pl p --subresource=status --type=merge -p '{"status":{"observedGeneration":1}}'
# A PipelineSchedule's runs: created, stopped (Replace) and deleted (history limits).
allowed get pipelineschedules -A
allowed -n "$NS" patch pls sch --subresource=status --type=merge -p '{"status":{"activeCount":0}}'
allowed -n "$NS" create -f - <<<'{"apiVersion":"stepline.dev/v1alpha1","kind":"PipelineExecution","metadata":{"name":"y"},"spec":{"pipelineName":"p"}}'
allowed -n "$NS" patch plx y --type=merge -p '{"spec":{"stop":true}}'
allowed -n "$NS" delete plx y --wait=false
allowed get jobs -A
allowed -n "$NS" create -f - <<<"$JOB"
allowed -n "$NS" patch job rbac-job --type=merge -p '{"spec":{"suspend":true}}'
allowed -n "$NS" delete job rbac-job --wait=false
allowed get pods -A
allowed get resourcequotas -A
allowed get events -A
allowed get configmaps -A --field-selector metadata.name=stepline-artifact-repository
allowed -n "$NS" create -f - <<<"$STEP_CACHE"
allowed -n "$NS" get configmap stepline-step-cache
allowed -n "$NS" replace -f - <<<"$(k get configmap stepline-step-cache -o json)"
allowed -n "$NS" create -f - <<<"$EVENT"
allowed -n "$NS" create -f - <<<"$LEASE"
allowed -n "$NS" get lease stepline-controller
k create configmap stepline-instance-types --from-literal=ml.m5.xlarge=cpu=1 >/dev/null
allowed -n "$NS" get configmaps --field-selector metadata.name=stepline-instance-types
allowed -n "$NS" get configmap stepline-instance-types

# What it must not do: refused.
refused -n "$NS" get secret s
refused get secrets -A
refused -n "$NS" create -f - <<<"$POD"
refused -n "$NS" delete pod anything
refused -n "$NS" patch pl p --type=merge -p '{"spec":{"description":"changed"}}'
refused -n "$NS" patch pls sch --type=merge -p '{"spec":{"suspend":true}}'
refused -n "$NS" delete pls sch
refused -n default create -f - <<<"$LEASE"
refused get configmaps -A
refused -n "$NS" get configmap other-config
refused -n "$NS" replace -f - <<<"$(k get configmap other-config -o json)"
refused -n "$NS" delete configmap stepline-step-cache
refused -n "$NS" patch configmap stepline-instance-types --type=merge -p '{"data":{"a":"b"}}'
refused -n default get configmaps --field-selector metadata.name=stepline-instance-types
refused get namespaces
refused get clusterroles
check "the Secret was not read (still there, unchanged)" bash -c \
  "[[ \$(kubectl -n $NS get secret s -o jsonpath='{.data.password}' | base64 -d) == hunter2 ]]"

# A token nobody bound gets nothing; a wrong token is not authenticated.
refused_nobody=$(kubectl --kubeconfig=/dev/null --server="$STEPLINE_TESTENV_SERVER" \
  --certificate-authority="$STEPLINE_TESTENV_CA" --token="$STEPLINE_TESTENV_NOBODY_TOKEN" \
  get pipelines -A 2>&1)
check "the unbound user nobody is refused" grep -q 'forbidden' <<<"$refused_nobody"
bad_token=$(kubectl --kubeconfig=/dev/null --server="$STEPLINE_TESTENV_SERVER" \
  --certificate-authority="$STEPLINE_TESTENV_CA" --token=not-a-token get pipelines -A 2>&1)
check "an unknown token is Unauthorized" grep -q 'Unauthorized\|provide credentials' <<<"$bad_token"
kubectl delete clusterrolebinding,clusterrole "$SA" >/dev/null 2>&1  # cluster-scoped: not in $NS
e2e_finish
