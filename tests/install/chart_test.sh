#!/usr/bin/env bash
# The chart without a cluster: helm lint --strict and helm template with the default values
# and with tests/install/ci-values.yaml (every optional part on), what each renders, and what
# values.schema.json refuses.
#   chart_test.sh HELM   (CTest helm_chart)
set -euo pipefail
HELM=${1:?usage: chart_test.sh HELM}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CHART="$ROOT/helm/stepline"
VALUES="$ROOT/tests/install/ci-values.yaml"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "PASS: $*"; }

"$HELM" lint --strict "$CHART" >"$tmp/lint1" 2>&1 && pass "helm lint --strict (default values)" \
  || { cat "$tmp/lint1"; fail "helm lint --strict (default values)"; }
"$HELM" lint --strict "$CHART" -f "$VALUES" >"$tmp/lint2" 2>&1 && pass "helm lint --strict (ci-values)" \
  || { cat "$tmp/lint2"; fail "helm lint --strict (ci-values)"; }

"$HELM" template st "$CHART" -n stepline-system >"$tmp/default.yaml" || fail "helm template (default)"
"$HELM" template st "$CHART" -n platform -f "$VALUES" >"$tmp/custom.yaml" || fail "helm template (ci-values)"

# kinds "Kind/name" of a rendered stream, sorted
kinds() { python3 - "$1" <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d:
        print(f'{d["kind"]}/{d["metadata"]["name"]}' + (f' ns={d["metadata"]["namespace"]}' if "namespace" in d["metadata"] else ""))
PY
}
expect() { # expect FILE LINE: the rendered kinds hold LINE
  if kinds "$1" | grep -xF -- "$2" >/dev/null; then pass "$(basename "$1"): $2"; else kinds "$1"; fail "$(basename "$1") lacks $2"; fi
}
refuse() { # refuse FILE LINE: the rendered kinds do not hold LINE
  if kinds "$1" | grep -xF -- "$2" >/dev/null; then fail "$(basename "$1") has $2"; else pass "$(basename "$1"): no $2"; fi
}
D="$tmp/default.yaml" C="$tmp/custom.yaml"
expect "$D" "CustomResourceDefinition/pipelines.stepline.dev"
expect "$D" "ValidatingAdmissionPolicy/stepline-pipeline-spec"
expect "$D" "ValidatingAdmissionPolicyBinding/stepline-pipeline-spec"
expect "$D" "CustomResourceDefinition/pipelineexecutions.stepline.dev"
expect "$D" "ClusterRole/st-stepline-controller"
expect "$D" "ClusterRoleBinding/st-stepline-controller"
expect "$D" "Role/st-stepline-leader-election ns=stepline-system"
expect "$D" "Role/st-stepline-instance-types ns=stepline-system"
expect "$D" "RoleBinding/st-stepline-instance-types ns=stepline-system"
expect "$D" "ClusterRole/st-stepline-executor"
expect "$D" "Deployment/st-stepline-controller ns=stepline-system"
expect "$D" "Service/st-stepline-controller-metrics ns=stepline-system"
expect "$D" "PodDisruptionBudget/st-stepline-controller ns=stepline-system"
refuse "$D" "Namespace/stepline-system"
refuse "$D" "ServiceMonitor/st-stepline-controller ns=stepline-system"
# watchNamespace: a Role in that namespace, no cluster-wide grant; no CRDs; no executor role
expect "$C" "Role/st-stepline-controller ns=ml-team"
expect "$C" "RoleBinding/st-stepline-controller ns=ml-team"
refuse "$C" "ClusterRole/st-stepline-controller"
refuse "$C" "ClusterRoleBinding/st-stepline-controller"
refuse "$C" "CustomResourceDefinition/pipelines.stepline.dev"
refuse "$C" "ClusterRole/st-stepline-executor"
expect "$C" "ServiceAccount/stepline-sa ns=platform"
expect "$C" "Role/st-stepline-instance-types ns=platform"  # its own namespace: the Lease's
expect "$C" "ServiceMonitor/st-stepline-controller ns=platform"

# The Deployment's pod: args, image, restricted securityContext.
python3 - "$D" "$C" <<'PY' || failures=$((failures + 1))
import sys, yaml
def pod(path):
    for d in yaml.safe_load_all(open(path)):
        if d and d["kind"] == "Deployment":
            return d["spec"]["template"]["spec"]
bad = 0
def check(what, ok):
    global bad
    print(("PASS: " if ok else "FAIL: ") + what)
    bad += not ok
d, c = pod(sys.argv[1]), pod(sys.argv[2])
dc, cc = d["containers"][0], c["containers"][0]
check("default image is stepline-controller:<appVersion>", dc["image"] == "stepline-controller:0.1.0")
check("default args elect a leader in the release namespace",
      "--leader-elect" in dc["args"] and "--leader-elect-namespace=stepline-system" in dc["args"])
check("default args: json logs, all namespaces", "--log-format=json" in dc["args"]
      and not any(a.startswith("--namespace=") for a in dc["args"]))
for name, p in (("default", d), ("ci-values", c)):
    sc, csc = p["securityContext"], p["containers"][0]["securityContext"]
    check(f"{name}: pod runs as 65532, non-root, seccomp RuntimeDefault",
          sc == {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532,
                 "seccompProfile": {"type": "RuntimeDefault"}})
    check(f"{name}: container drops ALL, no escalation, read-only root",
          csc == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                  "capabilities": {"drop": ["ALL"]}})
check("ci-values image", cc["image"] == "registry.example.com/platform/stepline-controller:0.1.0-rc1")
for a in ("--namespace=ml-team", "--workers=8", "--log-format=text", "--log-level=debug",
          "--scheduling-timeout=20m", "--routine-step-events", "--leader-elect-namespace=platform"):
    check(f"ci-values args hold {a}", a in cc["args"])
check("ci-values serviceAccountName", c["serviceAccountName"] == "stepline-sa")
check("ci-values pull secret, tolerations, nodeSelector, priority class",
      c["imagePullSecrets"] == [{"name": "regcred"}] and c["tolerations"][0]["key"] == "dedicated"
      and c["nodeSelector"] == {"kubernetes.io/os": "linux"}
      and c["priorityClassName"] == "system-cluster-critical")
sys.exit(1 if bad else 0)
PY

# values.schema.json refuses bad values, naming them.
bad_value() { # bad_value SET-EXPR WORD: helm template --set SET-EXPR fails and names WORD
  if "$HELM" template st "$CHART" --set "$1" >"$tmp/bad.out" 2>&1; then
    fail "--set $1 was accepted"
  elif grep -q -- "$2" "$tmp/bad.out"; then
    pass "--set $1 refused: $(grep -m1 -- "$2" "$tmp/bad.out" | cut -c1-110)"
  else
    cat "$tmp/bad.out"; fail "--set $1 refused without naming $2"
  fi
}
bad_value logFormat=xml logFormat
bad_value replicaCount=0 replicaCount
bad_value watchNamespace=Not_A_Namespace watchNamespace
bad_value extraArgs[0]=oops extraArgs
bad_value nosuchkey=1 nosuchkey

echo "$failures failures"
exit $((failures > 0))
