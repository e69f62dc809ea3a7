#!/usr/bin/env bash
# Installs what is missing (Debian packages) and builds Stepline into build/.
# Idempotent: a second run with nothing changed only checks and finishes in seconds.
#   --bench          also install what bench/run.sh needs (python3-matplotlib, for the plots)
#   --packages-only  install the missing packages, do not build
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${STEPLINE_BUILD_DIR:-$ROOT/build}"
LOG_DIR="$BUILD_DIR/logs"

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates openssl
  libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev libspdlog-dev
  libgtest-dev libgmock-dev libbenchmark-dev clang-format
  python3 curl procps psmisc bsdextrautils
)

BUILD=1
for arg in "$@"; do
  case $arg in
    --bench) PACKAGES+=(python3-matplotlib) ;;
    --packages-only) BUILD=0 ;;
    *) echo "setup.sh: unknown argument $arg (known: --bench, --packages-only)" >&2; exit 2 ;;
  esac
done

say() { echo "==> $*" >&2; }

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

((BUILD)) || exit 0
mkdir -p "$LOG_DIR"
if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
  say "configuring (cmake, $BUILD_DIR)"
  if ! cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      >"$LOG_DIR/configure.log" 2>&1; then
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
