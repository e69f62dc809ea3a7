#!/usr/bin/env bash
# Runs clang-tidy, with the checks in the checked-in .clang-tidy, over every translation unit of
# the product (k8sclient, controller, reconcilers, localagent, artifacts, notebook, cli, cmd; not
# tests/ or bench/), each with the flags build/compile_commands.json gives it, $(nproc) at a time.
# The project's own headers are checked through the sources that include them. First it makes
# sure the check can fail: a small file that uses a moved-from string must be refused.
# Usage: check-tidy.sh [BUILD_DIR] (default: build/ of this checkout). Prints every finding once,
# the number of files checked and the time taken; exits 1 on a finding.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
DB="$BUILD/compile_commands.json"
TIDY="${CLANG_TIDY:-clang-tidy}"
CONFIG="$ROOT/.clang-tidy"
[[ -f $DB ]] || { echo "no $DB: configure the build first (CMAKE_EXPORT_COMPILE_COMMANDS)" >&2; exit 1; }
command -v "$TIDY" >/dev/null || { echo "no $TIDY on PATH" >&2; exit 1; }
[[ -f $CONFIG ]] || { echo "no $CONFIG" >&2; exit 1; }
start=$EPOCHREALTIME
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The check must be able to fail: the same configuration must refuse a use after move.
cat >"$work/probe.cc" <<'EOF'
#include <string>
#include <utility>
std::size_t Probe(std::string s) {
  std::string t = std::move(s);
  return s.size() + t.size();  // s was moved from: bugprone-use-after-move must refuse this
}
EOF
if "$TIDY" --quiet --config-file="$CONFIG" "$work/probe.cc" -- -std=c++20 >"$work/probe.txt" 2>&1 ||
  ! grep -q 'bugprone-use-after-move' "$work/probe.txt"; then
  echo "clang-tidy: the configuration let a use after move through; the check is blind" >&2
  cat "$work/probe.txt" >&2
  exit 1
fi

# The product's translation units, as the build compiles them.
python3 - "$DB" "$ROOT" >"$work/sources" <<'EOF'
import json, os, re, sys
db, root = sys.argv[1], os.path.realpath(sys.argv[2])
product = re.compile(r"(k8sclient|controller|reconcilers|localagent|artifacts|notebook|cli|cmd)/")
seen = set()
for entry in json.load(open(db)):
    path = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
    rel = os.path.relpath(path, root)
    if product.match(rel) and rel not in seen:
        seen.add(rel)
        print(path)
EOF
count=$(wc -l <"$work/sources")
if ((count == 0)); then
  echo "clang-tidy: $DB lists no product source" >&2
  exit 1
fi

# One output file per source; a finding in a header shows once however many sources include it.
export TIDY CONFIG BUILD work
# A source that clang-tidy fails on without a finding (a crash, a missing header) fails too.
xargs -a "$work/sources" -P "$(nproc)" -I{} bash -c '
  out="$work/$(echo "$1" | md5sum | cut -c1-16).out"
  "$TIDY" --quiet -p "$BUILD" --config-file="$CONFIG" "$1" >"$out" 2>&1 && exit 0
  grep -qE ": (warning|error): " "$out" || echo "$1: error: clang-tidy failed: $(tail -1 "$out")" >>"$out"
' _ {}
findings="$(cat "$work"/*.out | grep -E '^[^ ].*: (warning|error): ' | sort -u || true)"
seconds=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
if [[ -n $findings ]]; then
  echo "$findings"
  echo "clang-tidy: $(echo "$findings" | wc -l) finding(s) in $count files ($seconds s); see .clang-tidy" >&2
  exit 1
fi
echo "clang-tidy: $count files checked in $seconds s, no findings"
