#!/usr/bin/env bash
# Checks the direction of includes between the folders (docs/architecture.md, "What each folder
# may include"): k8sclient/ includes nothing of ours outside itself; controller/ (the generic
# runtime) nothing from reconcilers/; reconcilers/ only the runtime's interface headers
# (controller/reconciler.h, handlers.h, informer_source.h). Prints each offending line and exits
# 1 when there is one. Usage: check-layering.sh [TREE] (default: this checkout).
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
  grep -vE '"controller/(reconciler|handlers|informer_source)\.h"' || true)"
if [[ -n "$hits" ]]; then
  echo "reconcilers/ takes only the runtime's interfaces from controller/ (reconciler.h, handlers.h, informer_source.h):" >&2
  echo "$hits" >&2
  failed=1
fi

if ((failed)); then exit 1; fi
echo "layering: k8sclient <- controller <- reconcilers (interfaces only) <- cmd: ok"
