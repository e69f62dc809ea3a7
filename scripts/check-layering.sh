#!/usr/bin/env bash
# Checks the direction of includes between the folders (docs/architecture.md, "What each folder
# may include"): k8sclient/ includes nothing of ours outside itself; controller/ (the generic
# runtime) nothing from reconcilers/; reconcilers/ only the runtime's interface headers
# (controller/reconciler.h, handlers.h, informer_source.h, event_type.h); and the planner (the
# files of the CMake target planner, listed in reconcilers/CMakeLists.txt) only other planner
# files, k8score's headers and controller/event_type.h, and no logging or I/O header of the
# system. Prints each offending line and exits 1 when there is one.
# Usage: check-layering.sh [TREE] (default: this checkout).
set -euo pipefail
ROOT="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"  # a tree to check; default ours
cd "$ROOT"
for dir in k8sclient controller reconcilers; do
  [[ -d "$dir" ]] || { echo "no $dir/ in $ROOT" >&2; exit 1; }
done

failed=0
# forbid DIR PATTERN WHY: lines of DIR's sources including a path that matches PATTERN.
forbid() {
  local dir="$1" pattern="$2" why="$3" hits
  hits="$(grep -rnE "^#include \"($pattern)" --include='*.h' --include='*.cc' "$dir" || true)"
  if [[ -n "$hits" ]]; then
    echo "$why:" >&2
    echo "$hits" >&2
    failed=1
  fi
}

forbid k8sclient 'controller/|reconcilers/|cmd/|localagent/|cli/' \
  "k8sclient/ is the client library: it includes none of the other folders"
forbid controller 'reconcilers/|cmd/|localagent/|cli/' \
  "controller/ is the generic runtime: it includes nothing from reconcilers/ (the wiring is cmd/)"
forbid reconcilers 'cmd/|localagent/|cli/' "reconcilers/ includes neither the binaries nor the tools"
# grep -E has no look-ahead: list reconcilers' controller/ includes and allow the three by name.
hits="$(grep -rnE '^#include "controller/' --include='*.h' --include='*.cc' reconcilers |
  grep -vE '"controller/(reconciler|handlers|informer_source|event_type)\.h"' || true)"
if [[ -n "$hits" ]]; then
  echo "reconcilers/ takes only the runtime's interfaces from controller/ (reconciler.h, handlers.h, informer_source.h, event_type.h):" >&2
  echo "$hits" >&2
  failed=1
fi

# The planner: its files are the PLANNER_SOURCES of reconcilers/CMakeLists.txt.
mapfile -t planner < <(sed -n '/^set(PLANNER_SOURCES/,/^)/p' reconcilers/CMakeLists.txt |
  grep -oE '[a-z0-9_]+\.(cc|h)' | sed 's|^|reconcilers/|')
if ((${#planner[@]} < 10)); then
  echo "found only ${#planner[@]} planner files in reconcilers/CMakeLists.txt (set(PLANNER_SOURCES ...))" >&2
  failed=1
fi
# k8score's headers (k8sclient/CMakeLists.txt, add_library(k8score ...)): the I/O-free client part,
# with the header-only thread_annotations.h its clock.h includes.
k8score="$(sed -n '/^add_library(k8score/,/^)/p' k8sclient/CMakeLists.txt |
  grep -oE '[a-z0-9_]+\.cc' | sed 's|\.cc$||' | paste -sd'|')"
allowed="controller/event_type\.h|k8sclient/thread_annotations\.h|k8sclient/($k8score)\.h"
for f in "${planner[@]}"; do allowed+="|${f//./\\.}"; done
for f in "${planner[@]}"; do
  [[ -f "$f" ]] || { echo "reconcilers/CMakeLists.txt lists $f, which does not exist" >&2; failed=1; continue; }
  hits="$(grep -nE '^#include "' "$f" | grep -vE "^[0-9]+:#include \"($allowed)\"" || true)"
  # Logging and I/O of the system: spdlog, libcurl, streams, files, stdio, processes, sockets.
  hits+="${hits:+$'\n'}$(grep -nE '^#include <(spdlog/|curl/|yaml-cpp/|fstream|iostream|cstdio|stdio\.h|filesystem|thread|unistd\.h|sys/|netinet/|arpa/)' "$f" || true)"
  if [[ -n "$hits" ]]; then
    echo "the planner ($f) includes only planner files, k8score and controller/event_type.h, no logging or I/O:" >&2
    sed "s|^|$f:|" <<<"$hits" >&2
    failed=1
  fi
done

if ((failed)); then exit 1; fi
echo "layering: k8sclient <- controller <- reconcilers (interfaces only) <- cmd; planner pure (${#planner[@]} files): ok"
