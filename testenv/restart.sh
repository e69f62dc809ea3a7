#!/usr/bin/env bash
# testenv/restart.sh STATE_DIR NAME [--kill] - stop one process that testenv/up.sh started
# (etcd, apiserver or agent) and start it again with the same command line, ports and data,
# as a crash and restart of that component would. Used by the chaos test (tests/e2e/chaos_test.sh).
#
#   --kill   SIGKILL instead of SIGTERM (a crash: no graceful shutdown)
#
# Waits until the component is healthy again (etcd /health, the API server /readyz, the agent
# still up 2 s after it started; a killed agent's Lease must expire first, about 20 s) and
# prints on stdout how long it was down, in seconds ("down 3.2").
set -euo pipefail
dir=${1:?usage: restart.sh STATE_DIR etcd|apiserver|agent [--kill]}
name=${2:?usage: restart.sh STATE_DIR etcd|apiserver|agent [--kill]}
signal=TERM
[ "${3:-}" = --kill ] && signal=KILL
die() { echo "stepline-testenv restart: $*" >&2; exit 1; }
[ -f "$dir/$name.cmd" ] || die "no $dir/$name.cmd: was $name started by this version of testenv/up.sh?"

starttime() { awk '$3 != "Z" {print $22}' "/proc/$1/stat" 2>/dev/null; }
read -r _ pid st < <(grep "^$name " "$dir/pids") || die "$name is not recorded in $dir/pids"
[ -n "$st" ] && [ "$(starttime "$pid")" = "$st" ] || die "$name (pid $pid) is not running"

t0=$(date +%s.%N)
kill "-$signal" "$pid"
# Gone means reaped: a killed multi-threaded process shows as a zombie while its other threads
# still exit holding its sockets, and a start meanwhile would find the port taken.
gone() { [ ! -e "/proc/$pid" ] || [ "$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null)" != "$st" ]; }
for _ in $(seq 100); do gone && break; sleep 0.1; done
if ! gone; then kill -KILL "$pid" 2>/dev/null; for _ in $(seq 50); do gone && break; sleep 0.1; done; fi
sed -i "/^$name /d" "$dir/pids"

# The command line as up.sh recorded it (printf %q words), in the same environment the agent had.
eval "cmd=($(cat "$dir/$name.cmd"))"
log="$dir/$name.log"
echo "--- $name restart $(date -Is) after SIG$signal" >>"$log"
start() {
  (
    [ "$name" = agent ] && . "$dir/env.sh" >/dev/null
    cd "$dir" && exec setsid "${cmd[@]}" </dev/null >>"$log" 2>&1
  ) &
  newpid=$!
  for _ in $(seq 20); do s=$(starttime "$newpid"); [ -n "$s" ] && break; sleep 0.05; done
}
start
echo "$name $newpid $s" >>"$dir/pids"

. "$dir/env.sh" >/dev/null
clashes=0
healthy() {
  case $name in
    etcd) curl -sf "$STEPLINE_TESTENV_ETCD/health" 2>/dev/null | grep -q '"health":"true"' ;;
    apiserver) curl -sf --cacert "$STEPLINE_TESTENV_CA" "$STEPLINE_TESTENV_SERVER/readyz" >/dev/null 2>&1 ;;
    *) sleep 2; [ -n "$(starttime "$newpid")" ] ;;  # the agent: still up 2 s later
  esac
}
for _ in $(seq 600); do
  if [ -z "$(starttime "$newpid")" ]; then
    # Still a port clash (the old sockets outlived the process), or the agent's Lease of the
    # killed agent has not expired yet: try again, once a second, for up to 30 s.
    if tail -n 5 "$log" | grep -qiE 'address already in use|another stepline-local-agent' &&
      ((clashes++ < 30)); then
      sed -i "/^$name /d" "$dir/pids"; sleep 1; start; echo "$name $newpid $s" >>"$dir/pids"; continue
    fi
    tail -n 20 "$log" >&2; die "$name exited after its restart (log: $log)"
  fi
  healthy && break
  sleep 0.1
done
healthy || die "$name is not healthy 60 s after its restart (log: $log)"
python3 -c "import sys; print('down %.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$t0" "$(date +%s.%N)"
