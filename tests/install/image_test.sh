#!/usr/bin/env bash
# scripts/image.sh builds an image that loads and runs: skopeo reads the OCI archive and copies
# it into an OCI layout; the config says user 65532 and the project's version; the unpacked
# root filesystem holds only the two binaries (the controller and stepline-artifacts), their
# libraries, CA certificates and passwd/group; and both run from it as uid 65532 on a read-only root (chroot in a private mount
# namespace): --help, and against the test API server when KUBECONFIG is set (it starts,
# elects itself and serves /readyz).
#   image_test.sh   (CTest install_image; needs root for chroot and mounts)
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "PASS: $*"; }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }

archive=$("$ROOT/scripts/image.sh" --no-build) || { echo "FAIL: scripts/image.sh"; exit 1; }
version="$(sed -n 's/^project(stepline .*VERSION \([0-9.]*\)).*/\1/p' "$ROOT/CMakeLists.txt")"
check "the archive is named for version $version" test "$(basename "$archive")" = "stepline-controller-$version.oci.tar"
echo "image size: $(du -h "$archive" | cut -f1) ($(stat -c %s "$archive") bytes)"
work="$(mktemp -d)"
cleanup() { umount -R "$work/mnt" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

skopeo inspect --config "oci-archive:$archive:stepline-controller:$version" >"$work/config.json" \
  || fail "skopeo inspect"
check "user 65532" python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["config"]; sys.exit(c["User"] != "65532:65532")' "$work/config.json"
check "entrypoint is the controller" python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["config"]; sys.exit(c["Entrypoint"] != ["/usr/local/bin/stepline-controller"])' "$work/config.json"
check "labelled with the version" grep -q "\"org.opencontainers.image.version\": \"$version\"" "$work/config.json"
check "skopeo copy into an OCI layout" skopeo copy --quiet "oci-archive:$archive:stepline-controller:$version" "oci:$work/layout:$version"
check "umoci unpacks it" umoci unpack --image "$work/layout:$version" "$work/bundle" >/dev/null
rootfs="$work/bundle/rootfs"
others=$(cd "$rootfs" && find . -type f | grep -vE '^\./(usr/local/bin/stepline-(controller|artifacts)|etc/(passwd|group|nsswitch\.conf|ssl/certs/ca-certificates\.crt)|(usr/)?lib(64|/x86_64-linux-gnu)/[^/]+\.so[.0-9]*)$')
check_eq_empty() { [[ -z $others ]] || { echo "$others"; return 1; }; }
check "stepline-artifacts is in the image" test -x "$rootfs/usr/local/bin/stepline-artifacts"
check "nothing but the binaries, their libraries, CA certificates, passwd/group" check_eq_empty
check "no shell in the image" test ! -e "$rootfs/bin/sh"

# Run it as the pod would: uid 65532, read-only root.
mkdir -p "$work/mnt" "$rootfs/var/run/secrets/kubernetes.io/serviceaccount"
run_in_image() { # ARGS...: the image's entrypoint as 65532:65532 on a read-only root
  exec unshare --mount --propagation private sh -c '
    set -e
    mount --bind "$1" "$2"; mount -o remount,bind,ro "$2"
    [ -z "$3" ] || mount --bind "$3" "$2/var/run/secrets/kubernetes.io/serviceaccount"
    shift 3
    exec chroot --userspec=65532:65532 "$MNT" ${ENTRY:-/usr/local/bin/stepline-controller} "$@"
  ' run "$rootfs" "$work/mnt" "${SA_DIR:-}" "$@"
}
export MNT="$work/mnt"
check "--help runs as 65532 on a read-only root" bash -c "$(declare -f run_in_image); work=$work rootfs=$rootfs run_in_image --help | grep -q 'Usage: stepline-controller'"
# stepline-artifacts loads its libraries in the image: a usage error is its own answer (exit 2).
check "stepline-artifacts runs in the image" bash -c "$(declare -f run_in_image); ENTRY=/usr/local/bin/stepline-artifacts work=$work rootfs=$rootfs run_in_image 2>&1 | grep -q 'usage:'"

if [[ -n ${STEPLINE_TESTENV_SERVER:-} && -n ${STEPLINE_TESTENV_TOKEN:-} ]]; then
  # in-cluster config inside the image: the admin token as the pod's token, the test CA
  SA_DIR="$work/sa"; mkdir -p "$SA_DIR"
  printf '%s' "$STEPLINE_TESTENV_TOKEN" >"$SA_DIR/token"
  cp "$STEPLINE_TESTENV_CA" "$SA_DIR/ca.crt"
  printf 'stepline-image-test' >"$SA_DIR/namespace"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  hostport=${STEPLINE_TESTENV_SERVER#https://}
  env -i KUBERNETES_SERVICE_HOST="${hostport%:*}" KUBERNETES_SERVICE_PORT="${hostport##*:}" MNT="$MNT" \
    SA_DIR="$SA_DIR" bash -c "$(declare -f run_in_image); work=$work rootfs=$rootfs run_in_image \
      --namespace=stepline-image-test --metrics-bind-address=0 \
      --health-probe-bind-address=127.0.0.1:$port" >"$work/run.log" 2>&1 &
  pid=$!
  ok=0
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && { ok=1; break; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  check "the image's controller connects (in-cluster config, TLS with the CA) and is ready" test $ok = 1
  kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  [[ $ok = 1 ]] || tail -n 20 "$work/run.log"
fi
echo "$failures failures"
exit $((failures > 0))
