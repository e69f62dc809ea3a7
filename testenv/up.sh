#!/usr/bin/env bash
# testenv/up.sh - start a test Kubernetes API server (etcd + API server).
#
#   eval "$(testenv/up.sh [--dir STATE_DIR] [--agent])"
#
# Builds the server if needed (testenv/build.sh, progress on stderr), starts
# etcd and the API server on free loopback ports with TLS, writes a kubeconfig
# and a token file, applies testenv/crds/*.yaml (the stand-ins for core/v1,
# batch/v1 Job, coordination.k8s.io/v1 Lease) and then the project's
# crds/*.yaml, waits until they are Established and the server is ready, and
# prints on stdout only `export` lines:
#   KUBECONFIG STEPLINE_TESTENV_DIR STEPLINE_TESTENV_SERVER STEPLINE_TESTENV_CA
#   STEPLINE_TESTENV_CLIENT_CERT STEPLINE_TESTENV_CLIENT_KEY STEPLINE_TESTENV_TOKEN
#   STEPLINE_TESTENV_NOBODY_TOKEN STEPLINE_TESTENV_ETCD STEPLINE_TESTENV_ETCDCTL PATH
# Stop it with testenv/down.sh [STATE_DIR].
#
# Options and environment:
#   --dir DIR                       state dir (default: a new mktemp -d); logs, certs,
#                                   etcd data and the PIDs live there
#   --agent                         also start build/bin/stepline-local-agent
#   STEPLINE_TESTENV_MAX_INFLIGHT=N --max-requests-inflight=N and
#                                   --max-mutating-requests-inflight=N (provoke 429s)
#   KUBEBUILDER_ASSETS=DIR          use DIR/kube-apiserver and DIR/etcd (envtest
#                                   binaries) instead; only the project's CRDs are applied
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
exec 3>&1 1>&2          # stdout is for the export lines only (fd 3)

dir="" agent=0
while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=${2:?--dir needs a directory}; shift 2 ;;
    --dir=*) dir=${1#--dir=}; shift ;;
    --agent) agent=1; shift ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "up.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

say() { echo "stepline-testenv: $*"; }
die() { echo "stepline-testenv: $*" >&2; exit 1; }

AGENT_BIN="${STEPLINE_BUILD_DIR:-$REPO/build}/bin/stepline-local-agent"
if [ "$agent" = 1 ] && [ ! -x "$AGENT_BIN" ]; then
  die "--agent: $AGENT_BIN not found (build the project first)"
fi
for c in openssl curl setsid; do
  command -v $c >/dev/null || die "needs $c (apt-get install ${c/setsid/util-linux})"
done

# ---- binaries -----------------------------------------------------------------------
mode=stepline
if [ -n "${KUBEBUILDER_ASSETS:-}" ] && [ -x "$KUBEBUILDER_ASSETS/kube-apiserver" ] && [ -x "$KUBEBUILDER_ASSETS/etcd" ]; then
  mode=envtest
  APISERVER="$KUBEBUILDER_ASSETS/kube-apiserver"
  ETCD="$KUBEBUILDER_ASSETS/etcd"
  BIN=$("$HERE/build.sh" --print-dir 2>/dev/null || true)   # our kubectl/etcdctl, if built
  KUBECTL="" ETCDCTL=""
  for d in "$KUBEBUILDER_ASSETS" "$BIN"; do
    [ -z "$KUBECTL" ] && [ -n "$d" ] && [ -x "$d/kubectl" ] && KUBECTL="$d/kubectl"
    [ -z "$ETCDCTL" ] && [ -n "$d" ] && [ -x "$d/etcdctl" ] && ETCDCTL="$d/etcdctl"
  done
  [ -n "$KUBECTL" ] || KUBECTL=$(command -v kubectl) || die "KUBEBUILDER_ASSETS has no kubectl and none is built or on PATH"
  [ -n "$ETCDCTL" ] || ETCDCTL=$(command -v etcdctl || true)
  say "using envtest binaries from $KUBEBUILDER_ASSETS"
else
  [ -z "${KUBEBUILDER_ASSETS:-}" ] || say "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no executable kube-apiserver and etcd; using our own server"
  "$HERE/build.sh" || die "build failed"
  BIN=$("$HERE/build.sh" --print-dir) || die "no build found after build.sh"
  APISERVER="$BIN/stepline-apiserver" ETCD="$BIN/etcd" KUBECTL="$BIN/kubectl" ETCDCTL="$BIN/etcdctl"
fi

# ---- state dir ----------------------------------------------------------------------
if [ -z "$dir" ]; then
  dir=$(mktemp -d "${TMPDIR:-/tmp}/stepline-testenv.XXXXXX")
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# A process we started: "name pid starttime" in $dir/pids (down.sh checks the
# start time so that it never signals a recycled PID).
starttime() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }
alive() { # alive NAME: the recorded process still runs
  local n p s
  while read -r n p s; do
    [ "$n" = "$1" ] && [ -n "$s" ] && [ "$(starttime "$p")" = "$s" ] && return 0
  done <"$dir/pids" 2>/dev/null
  return 1
}
if [ -f "$dir/env.sh" ] && alive etcd && alive apiserver; then
  . "$dir/env.sh" 1>/dev/null
  if curl -sf --cacert "$STEPLINE_TESTENV_CA" "$STEPLINE_TESTENV_SERVER/readyz?exclude=informer-sync" >/dev/null; then
    say "already running in $dir"
    cat "$dir/env.sh" >&3
    exit 0
  fi
  die "$dir holds a running instance that is not ready; run testenv/down.sh $dir first"
fi
if [ -f "$dir/pids" ]; then
  while read -r n p s; do
    [ -n "$s" ] && [ "$(starttime "$p")" = "$s" ] && die "$dir still has a running $n (pid $p); run testenv/down.sh $dir first"
  done <"$dir/pids"
fi
: >"$dir/pids"

started=()
record() { # record NAME PID
  local s; s=$(starttime "$2")
  echo "$1 $2 $s" >>"$dir/pids"
  started+=("$2")
}
cleanup_on_failure() {
  local rc=$?
  if [ $rc -ne 0 ] && [ ${#started[@]} -gt 0 ]; then
    echo "stepline-testenv: start failed; stopping what was started (logs in $dir)" >&2
    "$HERE/down.sh" "$dir" >&2 || true
  fi
}
trap cleanup_on_failure EXIT

# ---- TLS material and tokens ----------------------------------------------------------
P="$dir/pki"
if [ ! -f "$P/client.crt" ]; then
  mkdir -p "$P"
  (
    cd "$P"
    exec >>"$dir/openssl.log" 2>&1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -keyout ca.key -out ca.crt -subj "/CN=stepline-testenv-ca"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr \
      -subj "/CN=stepline-testenv-apiserver"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,IP:::1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile server.ext -out server.crt
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout client.key -out client.csr \
      -subj "/O=system:masters/CN=stepline-admin"
    printf 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile client.ext -out client.crt
    # service-account token signing key (used in envtest mode only)
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out sa.key
    openssl pkey -in sa.key -pubout -out sa.pub
  ) || die "openssl failed (see $dir/openssl.log)"
fi
# The admin token's user is in system:masters. system:masters is exempt from
# the max-in-flight limits, so with STEPLINE_TESTENV_MAX_INFLIGHT the admin
# token is in the group stepline:admins instead (allowed everything, but
# limited), so that a test can provoke real 429s with it. The client
# certificate is always system:masters.
ADMIN_GROUP=system:masters
[ -n "${STEPLINE_TESTENV_MAX_INFLIGHT:-}" ] && ADMIN_GROUP=stepline:admins
if [ -f "$dir/tokens.csv" ]; then
  admin_token=$(sed -n '1s/,.*//p' "$dir/tokens.csv") nobody_token=$(sed -n '2s/,.*//p' "$dir/tokens.csv")
else
  admin_token=$(openssl rand -hex 24) nobody_token=$(openssl rand -hex 24)
fi
printf '%s,stepline-admin,uid-stepline-admin,"%s"\n%s,nobody,uid-nobody\n' \
  "$admin_token" "$ADMIN_GROUP" "$nobody_token" >"$dir/tokens.csv"
chmod 600 "$dir/tokens.csv"

# ---- ports ----------------------------------------------------------------------------
# Free = not bound by any TCP socket now (from /proc, nothing to install).
# Picked below the kernel's ephemeral range so that outgoing connections do
# not take them; a port taken between pick and bind makes the start retry.
used_ports() {
  local _ local_addr _rest
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | while read -r _ local_addr _rest; do
    [ "$local_addr" = local_address ] || echo $((16#${local_addr##*:}))
  done
}
pick_ports() { # pick_ports N -> N distinct free ports
  local used n=$1 p out=" "
  used=" $(used_ports | sort -u | tr '\n' ' ') "
  while [ "$n" -gt 0 ]; do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    case "$used$out" in *" $p "*) continue ;; esac
    out="$out$p "; n=$((n - 1))
  done
  echo $out
}
port_clash() { grep -qiE 'address already in use|bind: address' "$1" 2>/dev/null; }

start_bg() { # start_bg NAME LOG CMD... (own session, no tty, no inherited fds)
  local name=$1 log=$2; shift 2
  (cd "$dir" && exec setsid "$@" </dev/null >>"$log" 2>&1 3>&-) &
  record "$name" $!
  printf '%q ' "$@" >"$dir/$name.cmd"   # testenv/restart.sh starts it again from this
  echo >>"$dir/$name.cmd"
}
stop_pid() { kill -TERM "$1" 2>/dev/null || true; for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; kill -KILL "$1" 2>/dev/null || true; }
forget() { sed -i "/^$1 /d" "$dir/pids"; }

# ---- etcd ----------------------------------------------------------------------------
for attempt in 1 2 3 4 5; do
  read -r EPORT PPORT <<<"$(pick_ports 2)"
  ETCD_URL="http://127.0.0.1:$EPORT"
  echo "--- etcd start $(date -Is) on $EPORT/$PPORT" >>"$dir/etcd.log"
  start_bg etcd "$dir/etcd.log" "$ETCD" --name default --data-dir "$dir/etcd" \
    --listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
    --listen-peer-urls "http://127.0.0.1:$PPORT" --initial-advertise-peer-urls "http://127.0.0.1:$PPORT" \
    --initial-cluster "default=http://127.0.0.1:$PPORT" --unsafe-no-fsync --log-level warn
  etcd_pid=$!
  ok=0
  for _ in $(seq 150); do
    if curl -sf "$ETCD_URL/health" 2>/dev/null | grep -q '"health":"true"'; then ok=1; break; fi
    kill -0 "$etcd_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ $ok = 1 ] && break
  stop_pid "$etcd_pid"; forget etcd
  if port_clash "$dir/etcd.log" && [ $attempt -lt 5 ]; then say "etcd port taken, retrying"; continue; fi
  tail -n 20 "$dir/etcd.log" >&2; die "etcd did not start (log: $dir/etcd.log)"
done

# ---- API server --------------------------------------------------------------------------
inflight=()
if [ -n "${STEPLINE_TESTENV_MAX_INFLIGHT:-}" ]; then
  inflight=(--max-requests-inflight="$STEPLINE_TESTENV_MAX_INFLIGHT" --max-mutating-requests-inflight="$STEPLINE_TESTENV_MAX_INFLIGHT")
fi
for attempt in 1 2 3 4 5; do
  read -r APORT <<<"$(pick_ports 1)"
  SERVER="https://127.0.0.1:$APORT"
  common=(--etcd-servers="$ETCD_URL" --bind-address=127.0.0.1 --secure-port="$APORT"
          --tls-cert-file="$P/server.crt" --tls-private-key-file="$P/server.key"
          --client-ca-file="$P/ca.crt" --token-auth-file="$dir/tokens.csv" "${inflight[@]}")
  echo "--- apiserver start $(date -Is) on $APORT" >>"$dir/apiserver.log"
  if [ "$mode" = envtest ]; then
    start_bg apiserver "$dir/apiserver.log" "$APISERVER" "${common[@]}" \
      --advertise-address=127.0.0.1 --authorization-mode=RBAC --allow-privileged=true \
      --service-cluster-ip-range=10.0.0.0/24 --disable-admission-plugins=ServiceAccount \
      --service-account-issuer=https://kubernetes.default.svc.cluster.local \
      --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
      --cert-dir="$dir/apiserver-certs"
  else
    start_bg apiserver "$dir/apiserver.log" "$APISERVER" "${common[@]}" --cert-dir="$dir/apiserver-certs" \
      --authorization-always-allow-groups=system:masters,stepline:admins
  fi
  api_pid=$!
  ok=0
  for _ in $(seq 600); do
    if curl -sf --cacert "$P/ca.crt" "$SERVER/readyz?exclude=informer-sync&exclude=stepline-admission-policies" >/dev/null 2>&1; then ok=1; break; fi
    kill -0 "$api_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ $ok = 1 ] && break
  stop_pid "$api_pid"; forget apiserver
  if port_clash "$dir/apiserver.log" && [ $attempt -lt 5 ]; then say "API server port taken, retrying"; continue; fi
  tail -n 20 "$dir/apiserver.log" >&2; die "the API server did not become ready (log: $dir/apiserver.log)"
done

# ---- kubeconfig, kubectl on PATH ---------------------------------------------------------------
cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: stepline-testenv
  cluster:
    server: $SERVER
    certificate-authority: $P/ca.crt
users:
- name: stepline-admin
  user:
    client-certificate: $P/client.crt
    client-key: $P/client.key
contexts:
- name: stepline-testenv
  context: {cluster: stepline-testenv, user: stepline-admin, namespace: default}
current-context: stepline-testenv
EOF
# kubectl and etcdctl for the tests, hard-linked where possible so that they
# keep working even if the build cache is pruned while this instance runs.
mkdir -p "$dir/bin"
link_tool() { rm -f "$2"; ln "$1" "$2" 2>/dev/null || ln -s "$1" "$2"; }
link_tool "$KUBECTL" "$dir/bin/kubectl"
if [ -n "$ETCDCTL" ]; then link_tool "$ETCDCTL" "$dir/bin/etcdctl"; ETCDCTL="$dir/bin/etcdctl"; fi
export KUBECONFIG="$dir/kubeconfig"
# our own kubectl calls keep their discovery cache in the state dir
k() { "$KUBECTL" --request-timeout=30s --cache-dir="$dir/kube-cache" "$@"; }
# curl as the admin (client certificate)
api() { curl -s --cacert "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key" "$@"; }

# ---- CRDs -------------------------------------------------------------------------------------
apply_crds() { # apply_crds FILE... ; waits until every CRD is Established
  local names
  names=$(k apply --server-side --force-conflicts --field-manager=stepline-testenv -o name "${@/#/--filename=}" >"$dir/crds.out" 2>&1 \
            && grep '^customresourcedefinition' "$dir/crds.out") \
    || { cat "$dir/crds.out" >&2; die "applying CRDs failed: $*"; }
  # shellcheck disable=SC2086
  [ -z "$names" ] || k wait --for=condition=Established --timeout=60s $names >>"$dir/crds.out" 2>&1 \
    || { cat "$dir/crds.out" >&2; die "CRDs not Established in time"; }
}
if [ "$mode" = envtest ]; then  # RBAC: stepline:admins may do everything
  k get clusterrolebinding stepline-admins >/dev/null 2>&1 \
    || k create clusterrolebinding stepline-admins --clusterrole=cluster-admin --group=stepline:admins >/dev/null
fi
shopt -s nullglob
# The stand-ins first, on their own: the project's crds/ holds objects of their kinds (its
# ValidatingAdmissionPolicy), which kubectl can map only once they are Established.
[ "$mode" = stepline ] && apply_crds "$HERE"/crds/*.yaml
crd_files=("$REPO"/crds/*.yaml)
[ ${#crd_files[@]} -eq 0 ] || apply_crds "${crd_files[@]}"
# ValidatingAdmissionPolicies apply once the server has listed them (server/vap.go): wait.
if [ "$mode" = stepline ]; then
  for i in $(seq 600); do
    curl -sf --cacert "$P/ca.crt" "$SERVER/readyz?exclude=informer-sync" >/dev/null 2>&1 && break
    [ "$i" = 600 ] && die "the server's admission policies were not listed within 60 s"
    sleep 0.1
  done
fi
# kube-apiserver's bootstrap discovery roles (RBAC is enforced for non-admins: server/rbac.go)
if [ "$mode" = stepline ]; then
  k apply --server-side --field-manager=stepline-testenv -f "$HERE/bootstrap-rbac.yaml" >>"$dir/crds.out" 2>&1 \
    || { cat "$dir/crds.out" >&2; die "applying bootstrap-rbac.yaml failed"; }
fi

if [ "$mode" = stepline ]; then
  # The namespaces a real cluster starts with (new CRD storage may answer
  # 429 for a moment: retried).
  for ns in default kube-system kube-public kube-node-lease; do
    for i in $(seq 50); do
      code=$(api -o "$dir/ns.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
             -d '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"'"$ns"'"}}' "$SERVER/api/v1/namespaces")
      case $code in 201|409) break ;; esac
      [ "$i" = 50 ] && { cat "$dir/ns.out" >&2; die "cannot create namespace $ns (HTTP $code)"; }
      sleep 0.1
    done
  done
fi
curl -sf --cacert "$P/ca.crt" "$SERVER/readyz?exclude=informer-sync" >/dev/null || die "server not ready after applying CRDs"

# ---- the local agent (optional) --------------------------------------------------------------
write_env() {
  {
    printf 'export KUBECONFIG=%q\n' "$dir/kubeconfig"
    printf 'export STEPLINE_TESTENV_DIR=%q\n' "$dir"
    printf 'export STEPLINE_TESTENV_SERVER=%q\n' "$SERVER"
    printf 'export STEPLINE_TESTENV_CA=%q\n' "$P/ca.crt"
    printf 'export STEPLINE_TESTENV_CLIENT_CERT=%q\n' "$P/client.crt"
    printf 'export STEPLINE_TESTENV_CLIENT_KEY=%q\n' "$P/client.key"
    printf 'export STEPLINE_TESTENV_TOKEN=%q\n' "$admin_token"
    printf 'export STEPLINE_TESTENV_NOBODY_TOKEN=%q\n' "$nobody_token"
    printf 'export STEPLINE_TESTENV_ETCD=%q\n' "$ETCD_URL"
    printf 'export STEPLINE_TESTENV_ETCDCTL=%q\n' "$ETCDCTL"
    printf 'export PATH=%q:"$PATH"\n' "$dir/bin"
  } >"$dir/env.sh"
}
write_env
if [ "$agent" = 1 ]; then
  # The agent gets the same environment as a test (KUBECONFIG, STEPLINE_TESTENV_*).
  # STEPLINE_AGENT_ARGS: extra flags, e.g. "--node name=a,cpu=4,memory=8Gi --node ...".
  # Pods find the build's binaries first (stepline-artifacts for artifact staging): the agent
  # runs commands from the PATH, it pulls no image.
  # shellcheck disable=SC2086
  ( . "$dir/env.sh" >/dev/null; start_bg agent "$dir/agent.log" "$AGENT_BIN" \
      --path-prepend "$(dirname "$AGENT_BIN")" ${STEPLINE_AGENT_ARGS:-} )
  apid=$(awk '/^agent /{print $2}' "$dir/pids")
  started+=("$apid")
  sleep 0.5
  kill -0 "$apid" 2>/dev/null || { tail -n 20 "$dir/agent.log" >&2; die "the local agent exited at once (log: $dir/agent.log)"; }
fi

say "up: $SERVER (etcd $ETCD_URL), state in $dir"
trap - EXIT
cat "$dir/env.sh" >&3
