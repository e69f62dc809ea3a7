#!/usr/bin/env bash
# Sets up, then runs every test under CTest: the format check, unit tests, and the integration
# and end-to-end tests against a real Kubernetes API server (testenv/up.sh), which this script
# starts and stops. With STEPLINE_TEST_KUBECONFIG set, the tests use that cluster instead.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${STEPLINE_BUILD_DIR:-$ROOT/build}"
cd "$ROOT"

./scripts/setup.sh --test   # with chromium, for the plugin's ui test

STARTED_TESTENV=""
cleanup() {
  if [[ -n "$STARTED_TESTENV" ]]; then "$ROOT/testenv/down.sh" "$STARTED_TESTENV" >&2 || true; fi
}
trap cleanup EXIT

if [[ -n "${STEPLINE_TEST_KUBECONFIG:-}" ]]; then
  echo "==> using the cluster of STEPLINE_TEST_KUBECONFIG=$STEPLINE_TEST_KUBECONFIG" >&2
  export KUBECONFIG="$STEPLINE_TEST_KUBECONFIG"
else
  echo "==> starting the test API server (testenv/up.sh)" >&2
  state_dir="$(mktemp -d /tmp/stepline-testenv.XXXXXX)"
  env_lines="$("$ROOT/testenv/up.sh" --dir "$state_dir" --agent)"
  STARTED_TESTENV="$state_dir"
  eval "$env_lines"
fi

echo "==> running the tests (ctest)" >&2
ctest --test-dir "$BUILD_DIR" --output-on-failure --timeout 900 "$@"
