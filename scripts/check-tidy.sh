#!/usr/bin/env bash
# Runs clang-tidy, with the checks in the checked-in .clang-tidy, over every translation unit of
# the product (k8sclient, controller, reconcilers, localagent, artifacts, notebook, cli, cmd; not
# tests/ or bench/), each with the flags build/compile_commands.json gives it, $(nproc) at a time.
# The project's own headers are checked through the sources that include them. First it makes
# sure the check can fail: a small file that uses a moved-from string must be refused.
# Usage: check-tidy.sh [BUILD_DIR [SOURCE...]] (default: build/ of this checkout, every product
# source). Prints every finding once, the number of files checked and the time taken; exits 1 on
# a finding.
#
# Results are cached like compiled objects (ccache): a source whose check found nothing is not
# checked again while its preprocessed text (with every header it includes), its flags, the
# .clang-tidy file and the clang-tidy version stay the same. The key holds paths relative to the
# checkout, so a clean clone shares the cache of an earlier one. A finding is never cached.
# STEPLINE_TIDY_CACHE names the cache directory (default ~/.cache/stepline/clang-tidy); "off"
# checks every source.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
shift $(($# > 0 ? 1 : 0))
ONLY=("$@")
CACHE="${STEPLINE_TIDY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/stepline/clang-tidy}"
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

# The product's translation units, as the build compiles them; for each, the command that
# preprocesses it (the cache key's text) in $work/pp/.
mkdir -p "$work/pp"
PYTHONPATH="$ROOT/scripts/lib" python3 - "$DB" "$ROOT" "$work/pp" "${ONLY[@]}" >"$work/sources" <<'EOF'
import hashlib, os, re, shlex, sys
import compile_db
db, root, pp = sys.argv[1], os.path.realpath(sys.argv[2]), sys.argv[3]
only = {os.path.realpath(f) for f in sys.argv[4:]}
product = re.compile(r"(k8sclient|controller|reconcilers|localagent|artifacts|notebook|cli|cmd)/")
for path, entry in sorted(compile_db.load(db).items()):
    if not product.match(os.path.relpath(path, root)) or (only and path not in only):
        continue
    # Comments are kept: a NOLINT is one.
    pre = [compile_db.compiler(entry), *compile_db.flags(entry), "-E", "-P", "-C", path]
    name = hashlib.md5((path + "\n").encode()).hexdigest()[:16]
    with open(os.path.join(pp, name + ".sh"), "w") as f:
        f.write("cd %s && %s\n" % (shlex.quote(entry["directory"]), shlex.join(pre)))
    print(path)
EOF
count=$(wc -l <"$work/sources")
if ((count == 0)); then
  echo "clang-tidy: $DB lists no product source" >&2
  exit 1
fi

# One output file per source; a finding in a header shows once however many sources include it.
TIDY_VERSION="$("$TIDY" --version)"
if [[ $CACHE != off ]]; then
  mkdir -p "$CACHE"
  find "$CACHE" -type f -mtime +30 -delete 2>/dev/null || true
fi
export TIDY TIDY_VERSION CONFIG BUILD ROOT CACHE work
# A source that clang-tidy fails on without a finding (a crash, a missing header) fails too.
xargs -a "$work/sources" -P "$(nproc)" -I{} bash -c 'set -o pipefail
  id="$(echo "$1" | md5sum | cut -c1-16)"
  out="$work/$id.out"
  key=""
  if [[ $CACHE != off ]]; then
    # Paths inside the checkout, in the flags and in __FILE__, read as relative ones.
    key="$({ echo "$TIDY_VERSION"; cat "$CONFIG" "$work/pp/$id.sh"; bash "$work/pp/$id.sh"; } |
      sed "s|$ROOT|@ROOT@|g" | sha256sum | cut -c1-64)" || key=""
    if [[ -n $key && -f $CACHE/$key ]]; then
      touch "$CACHE/$key" "$work/$id.cached"
      exit 0
    fi
  fi
  if "$TIDY" --quiet -p "$BUILD" --config-file="$CONFIG" "$1" >"$out" 2>&1; then
    grep -qE ": (warning|error): " "$out" || [[ -z $key ]] || touch "$CACHE/$key"
    exit 0
  fi
  grep -qE ": (warning|error): " "$out" || echo "$1: error: clang-tidy failed: $(tail -1 "$out")" >>"$out"
' _ {}
cached=$(find "$work" -maxdepth 1 -name '*.cached' | wc -l)
findings="$(cat /dev/null "$work"/*.out 2>/dev/null | grep -E '^[^ ].*: (warning|error): ' | sort -u || true)"
seconds=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
if [[ -n $findings ]]; then
  echo "$findings"
  echo "clang-tidy: $(echo "$findings" | wc -l) finding(s) in $count files ($seconds s); see .clang-tidy" >&2
  exit 1
fi
echo "clang-tidy: $count files checked in $seconds s, no findings ($cached of them unchanged since a clean check: cache $CACHE)"
