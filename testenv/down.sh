#!/usr/bin/env bash
# testenv/down.sh [STATE_DIR] - stop what testenv/up.sh started.
#
# STATE_DIR defaults to $STEPLINE_TESTENV_DIR. Stops exactly the processes
# recorded in STATE_DIR/pids (agent, API server, etcd, in that order): SIGTERM,
# then SIGKILL after 5 seconds. A recorded PID whose start time no longer
# matches (the process is gone and the number reused) is left alone. Removes
# nothing: logs, certificates and etcd data stay in STATE_DIR.
set -uo pipefail
dir=${1:-${STEPLINE_TESTENV_DIR:-}}
[ -n "$dir" ] || { echo "usage: down.sh STATE_DIR (or set STEPLINE_TESTENV_DIR)" >&2; exit 2; }
[ -f "$dir/pids" ] || { echo "stepline-testenv: nothing recorded in $dir/pids" >&2; exit 0; }

# start time of a live (non-zombie) process; the command name in field 2 has no spaces here
starttime() { awk '$3 != "Z" {print $22}' "/proc/$1/stat" 2>/dev/null; }
ours() { [ -n "$2" ] && [ "$(starttime "$1")" = "$2" ]; }

# reverse order of start: the agent first, etcd last
mapfile -t lines < <(tac "$dir/pids")
for line in "${lines[@]}"; do
  read -r name pid st <<<"$line"
  ours "$pid" "$st" && kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 50); do ours "$pid" "$st" || break; sleep 0.1; done
  if ours "$pid" "$st"; then
    echo "stepline-testenv: $name (pid $pid) ignored SIGTERM; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null
    for _ in $(seq 20); do ours "$pid" "$st" || break; sleep 0.1; done
  fi
done
: >"$dir/pids"
exit 0
