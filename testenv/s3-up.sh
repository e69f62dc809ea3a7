#!/usr/bin/env bash
# testenv/s3-up.sh - start the tests' S3 API server (testenv/s3/server.js) on a loopback port.
#
#   eval "$(testenv/s3-up.sh [--dir STATE_DIR] [--bucket NAME]...)"
#
# Prints `export` lines only: STEPLINE_S3_DIR STEPLINE_S3_ENDPOINT STEPLINE_S3_ACCESS_KEY_ID
# STEPLINE_S3_SECRET_ACCESS_KEY STEPLINE_S3_VHOST_ENDPOINT (virtual-hosted buckets: BUCKET.s3.local.test,
# which the client must resolve to 127.0.0.1, e.g. curl --resolve). The access key is random per start; requests signed with any
# other key or secret are refused (SigV4 is verified). Stop it with testenv/s3-down.sh STATE_DIR.
# The server comes from scripts/setup.sh (build/tools/s3, or $STEPLINE_S3_SERVER_DIR).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
exec 3>&1 1>&2

dir="" buckets=()
while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=${2:?--dir needs a directory}; shift 2 ;;
    --bucket) buckets+=(--bucket "${2:?--bucket needs a name}"); shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "s3-up.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
server_dir=${STEPLINE_S3_SERVER_DIR:-${STEPLINE_BUILD_DIR:-$REPO/build}/tools/s3}
if [ ! -d "$server_dir/node_modules/@20minutes/s3rver" ]; then
  echo "s3-up.sh: the S3 API server is not installed in $server_dir (run scripts/setup.sh)" >&2
  exit 1
fi
[ -n "$dir" ] || dir=$(mktemp -d /tmp/stepline-s3.XXXXXX)
mkdir -p "$dir/data"
key_id="STEPLINE$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)"
secret=$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')
rm -f "$dir/port"
STEPLINE_S3_ACCESS_KEY_ID=$key_id STEPLINE_S3_SECRET_ACCESS_KEY=$secret NODE_PATH="$server_dir/node_modules" \
  setsid node "$HERE/s3/server.js" --dir "$dir/data" --port-file "$dir/port" \
    --service-endpoint local.test "${buckets[@]}" \
  >"$dir/server.log" 2>&1 </dev/null 3>&- &
echo $! >"$dir/pid"
for _ in $(seq 1 100); do
  [ -s "$dir/port" ] && break
  if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    echo "s3-up.sh: the S3 API server exited; its log ($dir/server.log):" >&2
    tail -n 20 "$dir/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [ ! -s "$dir/port" ]; then
  echo "s3-up.sh: the S3 API server did not start within 10s (log: $dir/server.log)" >&2
  exit 1
fi
{
  echo "export STEPLINE_S3_DIR=$dir"
  echo "export STEPLINE_S3_ENDPOINT=http://127.0.0.1:$(cat "$dir/port")"
  echo "export STEPLINE_S3_ACCESS_KEY_ID=$key_id"
  echo "export STEPLINE_S3_SECRET_ACCESS_KEY=$secret"
  echo "export STEPLINE_S3_VHOST_ENDPOINT=http://s3.local.test:$(cat "$dir/port")"
} >&3
