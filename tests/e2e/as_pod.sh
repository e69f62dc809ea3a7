# The controller as the chart's pod runs it (sourced by lib.sh; STEPLINE_E2E_AS_POD=1):
#   - the chart's ServiceAccount and RBAC, rendered by `helm template` (release e2e-PID in the
#     test's namespace, watchNamespace = that namespace: the Role variant), applied as the admin;
#   - a token of that ServiceAccount (`kubectl create token`), the cluster's CA and the
#     namespace file in a directory that stands in for /var/run/secrets/kubernetes.io/
#     serviceaccount (STEPLINE_SERVICEACCOUNT_DIR), KUBERNETES_SERVICE_HOST/PORT set and no
#     kubeconfig: the controller's only credential is the ServiceAccount's token;
#   - the container's args from the rendered Deployment (bind addresses moved to free ports).
HELM="${STEPLINE_HELM:-${STEPLINE_BUILD_DIR:-$E2E_ROOT/build}/tools/bin/helm}"

# render_chart FILE [HELM ARGS]: the chart for release e2e-PID in $NS, CRDs and executor off.
render_chart() {
  local out=$1
  shift
  "$HELM" template "e2e-$$" "$E2E_ROOT/helm/stepline" --namespace "$NS" \
    --set crds.install=false --set rbac.executorRole=false "$@" >"$out"
}

# apply_kinds FILE KIND...: kubectl apply the documents of those kinds.
apply_kinds() {
  local file=$1
  shift
  python3 - "$file" "$@" <<'PY' | kubectl apply -f - >/dev/null
import sys, yaml
kinds = set(sys.argv[2:])
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d["kind"] in kinds]
print(yaml.safe_dump_all(docs))
PY
}

# pod_credentials DIR SA: the ServiceAccount's token, the CA and the namespace in DIR.
pod_credentials() {
  mkdir -p "$1"
  kubectl -n "$NS" create token "$2" --duration=2h >"$1/token" || return 1
  cp "$STEPLINE_TESTENV_CA" "$1/ca.crt"
  printf '%s' "$NS" >"$1/namespace"
}

token_refused_secrets() {
  local out
  out=$(kubectl --kubeconfig=/dev/null --server="$STEPLINE_TESTENV_SERVER" \
    --certificate-authority="$STEPLINE_TESTENV_CA" --token="$(cat "$E2E_WORK/serviceaccount/token")" \
    -n "$NS" get secrets 2>&1) && return 1
  [[ $out == *forbidden* ]]
}

as_pod_setup() {
  [[ -x $HELM ]] || { fail "no helm at $HELM (scripts/setup.sh installs it)"; return 1; }
  render_chart "$E2E_WORK/chart.yaml" --set watchNamespace="$NS"
  apply_kinds "$E2E_WORK/chart.yaml" ServiceAccount Role RoleBinding ClusterRole ClusterRoleBinding
  local sa
  sa=$(python3 -c 'import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "Deployment":
        print(d["spec"]["template"]["spec"]["serviceAccountName"])
        for a in d["spec"]["template"]["spec"]["containers"][0]["args"]:
            print(a, file=open(sys.argv[2], "a"))' "$E2E_WORK/chart.yaml" "$E2E_WORK/pod-args")
  # the RBAC informers of the server see the new bindings within milliseconds
  pod_credentials "$E2E_WORK/serviceaccount" "$sa" || { fail "kubectl create token $sa"; return 1; }
  # the controller's only credential is this token, and it is the restricted one
  check "the pod's token is the ServiceAccount's (Secrets are refused)" token_refused_secrets
  AS_POD_READY=1
}

start_controller_as_pod() { # [EXTRA ARGS]
  [[ -n ${AS_POD_READY:-} ]] || as_pod_setup || return 1
  local args=() a hostport=${STEPLINE_TESTENV_SERVER#https://}
  while read -r a; do
    case $a in
      --metrics-bind-address=*) args+=("--metrics-bind-address=127.0.0.1:$(free_port)") ;;
      --health-probe-bind-address=*) args+=("--health-probe-bind-address=127.0.0.1:$(free_port)") ;;
      *) args+=("$a") ;;
    esac
  done <"$E2E_WORK/pod-args"
  env -u KUBECONFIG KUBERNETES_SERVICE_HOST="${hostport%:*}" KUBERNETES_SERVICE_PORT="${hostport##*:}" \
    STEPLINE_SERVICEACCOUNT_DIR="$E2E_WORK/serviceaccount" \
    "$BIN_DIR/stepline-controller" "${args[@]}" "$@" >>"$E2E_WORK/controller.log" 2>&1 &
  CONTROLLER_PID=$!
  disown "$CONTROLLER_PID"
  E2E_PIDS+=("$CONTROLLER_PID")
}
