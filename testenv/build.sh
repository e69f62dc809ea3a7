#!/usr/bin/env bash
# testenv/build.sh - build (once) the test Kubernetes API server and its tools.
#
# Downloads Debian sid's Go sources of k8s.io/apiextensions-apiserver (and the
# ~350 golang-*-dev packages they need) plus sid's Go, kubectl and etcd with a
# private APT configuration (nothing is installed system-wide), builds our
# wrapper main (testenv/server/*.go) in GOPATH mode, keeps only the binaries:
#
#   $CACHE/builds/<srchash>-<pkghash>/bin/{stepline-apiserver,etcd,etcdctl,kubectl}
#
# CACHE is ${STEPLINE_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stepline-testenv}.
# The build is keyed on a hash of the wrapper sources (+ build recipe) and the
# resolved package versions; a cached run takes milliseconds.
#
# Usage: build.sh [--print-dir] [--refresh] [--force] [--quiet]
#   --print-dir  print the bin directory of the cached build; exit 1 if none
#   --refresh    re-resolve package versions even if a build for these sources exists
#   --force      rebuild even if cached
#   --quiet      print nothing but errors
# Env: STEPLINE_TESTENV_KEEP_TREE=1 keeps the unpacked sources and Go cache
#      (~4.5 GB) so that a wrapper-only rebuild takes seconds.
#      STEPLINE_TESTENV_MIRROR overrides the Debian mirror (default: the host's).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${STEPLINE_TESTENV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stepline-testenv}
RECIPE=1                     # bump when the steps below change what gets built
NEED_MB=5500                 # peak disk use of a first build, with some margin
BUILD_PKGS=(golang-k8s-apiextensions-apiserver-dev golang-go)
BIN_PKGS=(kubectl etcd-server etcd-client)
# One-line patch: let CRDs use the dot-less built-in groups (jobs.batch, ...).
PATCH_FILE=pkg/apis/apiextensions/validation/validation.go
PATCH_FROM='} else if len(strings.Split(spec.Group, ".")) < 2 {'
PATCH_TO='} else if len(strings.Split(spec.Group, ".")) < 2 \&\& spec.Group != "batch" \&\& spec.Group != "apps" \&\& spec.Group != "autoscaling" \&\& spec.Group != "policy" {'

print_dir=0 refresh=0 force=0 quiet=0
for a in "$@"; do
  case $a in
    --print-dir) print_dir=1 ;;
    --refresh) refresh=1 ;;
    --force) force=1 ;;
    --quiet) quiet=1 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument $a" >&2; exit 2 ;;
  esac
done

say() { [ "$quiet" = 1 ] || echo "stepline-testenv: $*"; }
die() { echo "stepline-testenv: $*" >&2; exit 1; }

srchash=$( { echo "recipe $RECIPE"; echo "$PATCH_FROM"; echo "$PATCH_TO";
             for f in "$HERE"/server/*.go; do echo "== ${f##*/}"; cat "$f"; done; } | sha256sum | cut -c1-16)

find_cached() { # newest complete build for these sources
  local d best=""
  for d in "$CACHE"/builds/"$srchash"-*/; do
    [ -f "$d/OK" ] || continue
    if [ -z "$best" ] || [ "$d/OK" -nt "$best/OK" ]; then best=${d%/}; fi
  done
  [ -n "$best" ] && echo "$best"
}

if [ "$print_dir" = 1 ]; then
  d=$(find_cached) || exit 1
  echo "$d/bin"; exit 0
fi
if [ "$force$refresh" = 00 ] && d=$(find_cached); then
  say "using cached build $d"
  exit 0
fi

mkdir -p "$CACHE/logs" "$CACHE/builds"
LOG="$CACHE/logs/build-$(date +%Y%m%d-%H%M%S)-$$.log"
: >"$LOG"
step="start"
on_exit() {
  local rc=$?
  if [ $rc -ne 0 ]; then
    echo "stepline-testenv: build FAILED during: $step (exit $rc)" >&2
    echo "stepline-testenv: full log: $LOG" >&2
    tail -n 25 "$LOG" | sed 's/^/  | /' >&2
  fi
}
trap on_exit EXIT
run() { echo "+ [$(date +%T)] $*" >>"$LOG"; "$@" >>"$LOG" 2>&1; }

# One build at a time per cache (parallel up.sh runs wait here).
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
  say "another build is running; waiting for it"
  flock 9
fi
if [ "$force$refresh" = 00 ] && d=$(find_cached); then
  say "using cached build $d"; exit 0
fi

t0=$(date +%s)
say "building the test API server (log: $LOG)"

# ---- host prerequisites (installed only if missing) -------------------------
step="checking prerequisites"
missing=()
for p in ca-certificates xz-utils openssl curl debian-archive-keyring gpgv; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || die "needs apt-get and dpkg-deb (a Debian system)"
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing packages ${missing[*]}: install them as root (apt-get install ${missing[*]})"
  say "installing missing host packages: ${missing[*]}"
  run apt-get update
  DEBIAN_FRONTEND=noninteractive run apt-get install -y --no-install-recommends "${missing[@]}"
fi

# ---- disk space ---------------------------------------------------------------
step="checking disk space"
rm -rf "$CACHE"/trash.*          # leftovers of an earlier background clean-up
avail_mb=$(( $(df -Pk "$CACHE" | awk 'NR==2 {print $4}') / 1024 ))
kept_tree=0; [ -f "$CACHE/work/TREE_OK" ] && kept_tree=1
if [ "$kept_tree" = 0 ] && [ "$avail_mb" -lt "$NEED_MB" ]; then
  die "not enough disk space: $avail_mb MB free in $CACHE, the first build needs about $NEED_MB MB at its peak (about 200 MB are kept afterwards). Free some space, or set XDG_CACHE_HOME (or STEPLINE_TESTENV_CACHE) to a directory on a larger disk."
fi

# ---- private APT configuration -------------------------------------------------
step="setting up the private APT configuration"
A="$CACHE/apt"
mkdir -p "$A/state/lists/partial" "$A/cache/archives/partial" "$A/etc/sources.list.d" "$A/etc/preferences.d"
: >"$A/state/status"
mirror=${STEPLINE_TESTENV_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(grep -hoE '(^URIs:|^deb( \[[^]]*\])?)[[:space:]]+https?://[^[:space:]]+' \
             /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
           | grep -oE 'https?://[^[:space:]]+' | grep -E '/debian/?$' | grep -v security | head -n1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
fi
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror%/} sid main" >"$A/etc/sources.list"
cat >"$A/apt.conf" <<EOF
Dir::State "$A/state";
Dir::State::lists "$A/state/lists";
Dir::State::status "$A/state/status";
Dir::Cache "$A/cache";
Dir::Cache::archives "$A/cache/archives";
Dir::Etc::sourcelist "$A/etc/sources.list";
Dir::Etc::sourceparts "$A/etc/sources.list.d";
Dir::Etc::preferences "$A/etc/preferences";
Dir::Etc::preferencesparts "$A/etc/preferences.d";
APT::Architecture "amd64";
APT::Sandbox::User "root";
Acquire::Languages "none";
// the archive snapshot reachable here is frozen: its sid Release is past Valid-Until
// (signatures are still checked)
Acquire::Check-Valid-Until "false";
EOF
export APT_CONFIG="$A/apt.conf"

step="apt-get update (sid)"
run apt-get update

step="resolving package versions"
apt-get install -s --no-install-recommends "${BUILD_PKGS[@]}" 2>>"$LOG" \
  | awk '/^Inst /{gsub(/[()]/,"",$3); print $2"="$3}' | sort >"$A/closure.txt"
[ -s "$A/closure.txt" ] || die "could not resolve ${BUILD_PKGS[*]} from sid (see $LOG)"
for p in "${BIN_PKGS[@]}"; do
  v=$(apt-cache policy "$p" | awk '/Candidate:/{print $2}')
  [ -n "$v" ] && [ "$v" != "(none)" ] || die "package $p not found in sid"
  echo "$p=$v"
done | sort >"$A/bins.txt"
pkghash=$( { echo "recipe $RECIPE"; cat "$A/closure.txt" "$A/bins.txt"; } | sha256sum | cut -c1-16)
OUT="$CACHE/builds/$srchash-$pkghash"
if [ "$force" = 0 ] && [ -f "$OUT/OK" ]; then
  touch "$OUT/OK"; say "using cached build $OUT"; exit 0
fi
ext_ver=$(grep '^golang-k8s-apiextensions-apiserver-dev=' "$A/closure.txt" | cut -d= -f2)
kver=${ext_ver%%-*}; kver=${kver#*:}          # 0.36.4
IFS=. read -r _ kminor kpatch <<<"$kver"
K8S_VERSION="v1.$kminor.$kpatch"
say "packages: $(wc -l <"$A/closure.txt") debs to build from (apiextensions-apiserver $ext_ver = Kubernetes $K8S_VERSION), $(tr '\n' ' ' <"$A/bins.txt")"

W="$CACHE/work"
if [ "$(cat "$W/TREE_OK" 2>/dev/null)" != "$pkghash" ]; then
  rm -rf "$W"; mkdir -p "$W/root" "$W/bins"
  step="downloading packages"
  say "first build: download, unpack and compile take 6-25 minutes on 2 cores"
  t=$(date +%s)
  run apt-get install -y --download-only --no-install-recommends "${BUILD_PKGS[@]}"
  (cd "$A/cache/archives" && run apt-get download "${BIN_PKGS[@]}")
  say "downloaded $(du -sm "$A/cache/archives" | cut -f1) MB in $(( $(date +%s) - t ))s"

  step="unpacking packages"
  t=$(date +%s)
  while IFS='=' read -r name ver; do
    f=$(ls "$A/cache/archives/${name}_${ver/:/%3a}_"*.deb 2>/dev/null | head -n1)
    [ -n "$f" ] || die "downloaded deb for $name=$ver not found"
    echo "$f"
  done <"$A/closure.txt" | xargs -P 2 -n 8 sh -c 'for f; do dpkg-deb -x "$f" "$0" || exit 1; done' "$W/root" >>"$LOG" 2>&1
  for p in "${BIN_PKGS[@]}"; do
    f=$(ls "$A/cache/archives/${p}_"*.deb | head -n1); run dpkg-deb -x "$f" "$W/bins"
  done
  say "unpacked $(du -sm "$W/root" | cut -f1) MB in $(( $(date +%s) - t ))s"
  rm -f "$A/cache/archives/"*.deb
  echo "$pkghash" >"$W/TREE_OK"
else
  say "reusing the unpacked tree in $W"
fi

# ---- overlay: a patched copy of apiextensions-apiserver + our main --------------
step="preparing the GOPATH overlay"
R="$W/root"
GOROOT_DIR=$(ls -d "$R"/usr/lib/go-1.* | sort -V | tail -n1)
[ -x "$GOROOT_DIR/bin/go" ] || die "no Go toolchain found in $R/usr/lib"
rm -rf "$W/overlay"; mkdir -p "$W/overlay/src/k8s.io" "$W/overlay/src/stepline.test/testenv-server"
cp -a "$R/usr/share/gocode/src/k8s.io/apiextensions-apiserver" "$W/overlay/src/k8s.io/"
sed -i "s/$(printf '%s' "$PATCH_FROM" | sed 's/[][\.*^$/]/\\&/g')/$PATCH_TO/" "$W/overlay/src/k8s.io/apiextensions-apiserver/$PATCH_FILE"
grep -q 'spec.Group != "batch"' "$W/overlay/src/k8s.io/apiextensions-apiserver/$PATCH_FILE" \
  || die "the CRD group patch did not apply to $PATCH_FILE (upstream source changed?)"
cp "$HERE"/server/*.go "$W/overlay/src/stepline.test/testenv-server/"

step="go build"
t=$(date +%s)
say "compiling with $("$GOROOT_DIR/bin/go" version | cut -d' ' -f3) (go build; from scratch 4-17 minutes on 2 cores)"
TMP="$OUT.tmp.$$"
rm -rf "$TMP"; mkdir -p "$TMP/bin"
V=k8s.io/component-base/version
(
  cd "$W/overlay/src/stepline.test/testenv-server"
  export GO111MODULE=off GOPATH="$W/overlay:$R/usr/share/gocode" CGO_ENABLED=0 GOPROXY=off \
         GOTOOLCHAIN=local GOFLAGS= GOCACHE="$W/gocache" GOROOT="$GOROOT_DIR" GOTELEMETRY=off
  run "$GOROOT_DIR/bin/go" build -trimpath -o "$TMP/bin/stepline-apiserver" -ldflags "-s -w \
      -X $V.gitVersion=$K8S_VERSION -X $V.gitMajor=1 -X $V.gitMinor=$kminor \
      -X $V.gitTreeState=clean -X $V.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ) \
      -X $V.gitCommit=debian-$ext_ver" .
)
say "compiled in $(( $(date +%s) - t ))s"

step="collecting binaries"
for b in kubectl etcd etcdctl; do
  f=$(find "$W/bins" -type f -name "$b" -perm -u+x | head -n1)
  [ -n "$f" ] || die "binary $b not found in the extracted debs"
  cp "$f" "$TMP/bin/$b"
done
run "$TMP/bin/stepline-apiserver" --help
run "$TMP/bin/kubectl" version --client
run "$TMP/bin/etcd" --version
{ echo "kubernetes=$K8S_VERSION"; cat "$A/bins.txt"; echo "--- built from"; cat "$A/closure.txt"; } >"$TMP/versions.txt"
rm -rf "$OUT"; mv "$TMP" "$OUT"; touch "$OUT/OK"

step="cleaning up"
if [ "${STEPLINE_TESTENV_KEEP_TREE:-0}" = 1 ]; then
  say "keeping the unpacked tree in $W (STEPLINE_TESTENV_KEEP_TREE=1)"
else
  # Deleting ~200k files takes minutes on a busy disk: move them aside and
  # delete them in the background (a later build finishes any leftover).
  trash="$CACHE/trash.$$"
  mkdir -p "$trash"
  mv "$W" "$trash/work"
  mv "$A/state/lists" "$trash/lists" 2>/dev/null || true
  mv "$A/cache" "$trash/apt-cache" 2>/dev/null || true
  echo "+ [$(date +%T)] removing $trash in the background" >>"$LOG"
  (setsid rm -rf "$trash" </dev/null >/dev/null 2>&1 &)
  say "removing the sources, Go cache and debs (~4 GB) in the background"
fi
# keep the two newest builds
ls -1dt "$CACHE"/builds/*/ 2>/dev/null | tail -n +3 | xargs -r rm -rf
say "done in $(( $(date +%s) - t0 ))s: $OUT/bin ($(du -sm "$OUT" | cut -f1) MB)"
