#!/usr/bin/env bash
# Checks the Clang thread-safety annotations (k8sclient/thread_annotations.h): every source that
# uses them, or whose own header (x.cc beside x.h) does, is compiled with clang++ -fsyntax-only
# -Wthread-safety -Werror, with the flags build/compile_commands.json gives it. The build itself
# may use GCC, where the annotations are empty. First it makes sure the check can fail: a small
# file that reads a GUARDED_BY field without its lock must be refused.
# Usage: check-thread-safety.sh [BUILD_DIR] (default: build/ of this checkout). Prints the files
# checked and the time taken; exits 1 on a finding.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
DB="$BUILD/compile_commands.json"
CLANG="${CLANGXX:-clang++}"
[[ -f $DB ]] || { echo "no $DB: configure the build first (CMAKE_EXPORT_COMPILE_COMMANDS)" >&2; exit 1; }
command -v "$CLANG" >/dev/null || { echo "no $CLANG on PATH" >&2; exit 1; }
FLAGS=(-fsyntax-only -Wthread-safety -Werror)
start=$EPOCHREALTIME

# The check must be able to fail.
probe="$(mktemp --suffix=.cc)"
trap 'rm -f "$probe"' EXIT
cat >"$probe" <<'EOF'
#include "k8sclient/thread_annotations.h"
struct Counter {
  stepline::k8s::Mutex mu;
  int n GUARDED_BY(mu) = 0;
  int Read() { return n; }  // no lock held: -Wthread-safety must refuse this
};
int main() { return Counter().Read(); }
EOF
if "$CLANG" -std=c++20 -I"$ROOT" "${FLAGS[@]}" "$probe" 2>/dev/null; then
  echo "thread-safety: clang accepted an unguarded read of a GUARDED_BY field; the check is blind" >&2
  exit 1
fi

# The sources to check: those that include the annotations, and x.cc for each x.h that does.
cd "$ROOT"
mapfile -t users < <(git ls-files -co --exclude-standard -- '*.h' '*.cc' |
  grep -vE '^(tests|build)/|^k8sclient/thread_annotations\.h$' |
  xargs grep -l '#include "k8sclient/thread_annotations.h"' || true)
sources=()
for f in "${users[@]}"; do
  case $f in
    *.cc) sources+=("$f") ;;
    *.h) [[ -f ${f%.h}.cc ]] && sources+=("${f%.h}.cc") ;;
  esac
done
mapfile -t sources < <(printf '%s\n' "${sources[@]}" | sort -u | grep -v '^$' || true)
if ((${#sources[@]} == 0)); then
  echo "thread-safety: no source uses k8sclient/thread_annotations.h" >&2
  exit 1
fi

# Each source's compile command, with clang++ in place of the compiler and no output file.
failed=0
for src in "${sources[@]}"; do
  mapfile -t cmd < <(python3 - "$DB" "$ROOT/$src" <<'EOF'
import json, shlex, sys
db, src = sys.argv[1], sys.argv[2]
for entry in json.load(open(db)):
    if entry["file"] == src:
        args = entry.get("arguments") or shlex.split(entry["command"])
        out, skip = [], False
        for a in args[1:]:
            if skip:
                skip = False
            elif a == "-o":
                skip = True
            elif a not in ("-c", src):
                out.append(a)
        print(entry["directory"])
        print("\n".join(out))
        break
EOF
  )
  if ((${#cmd[@]} == 0)); then
    echo "thread-safety: $src is not in $DB" >&2
    failed=1
    continue
  fi
  if ! (cd "${cmd[0]}" && "$CLANG" "${cmd[@]:1}" "${FLAGS[@]}" "$ROOT/$src"); then
    failed=1
  fi
done
elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
echo "thread-safety: ${#sources[@]} files checked in $elapsed s: ${sources[*]}"
exit "$failed"
