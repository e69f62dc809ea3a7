#!/usr/bin/env bash
# testenv/s3-down.sh [STATE_DIR] - stop the S3 API server that testenv/s3-up.sh started there
# (default $STEPLINE_S3_DIR) and remove its state dir.
set -euo pipefail
dir=${1:-${STEPLINE_S3_DIR:?give the state dir or set STEPLINE_S3_DIR}}
if [ -f "$dir/pid" ]; then
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
fi
case $dir in /tmp/stepline-s3.*) rm -rf "$dir" ;; esac
