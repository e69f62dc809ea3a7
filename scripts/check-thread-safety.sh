#!/usr/bin/env bash
# Checks the Clang thread-safety annotations (k8sclient/thread_annotations.h) with clang++
# -fsyntax-only -Wthread-safety -Werror, using the flags build/compile_commands.json gives each
# file. The build itself may use GCC, where the annotations are empty.
#
# What is checked is found from the sources, not listed by hand: every file that includes
# thread_annotations.h directly. A .cc is compiled as it is. A header x.h is checked through
# the files that define its members, x.cc and x_*.cc beside it; the headers with neither
# (header-only, such as the test fakes) are compiled together, one file per folder that includes
# them all, with the flags of a file that includes the first. First the check proves it can fail: a small file that reads a GUARDED_BY field
# without its lock must be refused.
#
# Usage: check-thread-safety.sh [BUILD_DIR] (default: build/ of this checkout). Runs two clang
# processes at a time; prints "N files checked in S s" and exits 1 on a finding.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
DB="$BUILD/compile_commands.json"
CLANG="${CLANGXX:-clang++}"
[[ -f $DB ]] || { echo "no $DB: configure the build first (CMAKE_EXPORT_COMPILE_COMMANDS)" >&2; exit 1; }
command -v "$CLANG" >/dev/null || { echo "no $CLANG on PATH" >&2; exit 1; }
start=$EPOCHREALTIME
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The check must be able to fail.
cat >"$work/probe.cc" <<'EOF'
#include "k8sclient/thread_annotations.h"
struct Counter {
  stepline::k8s::Mutex mu;
  int n GUARDED_BY(mu) = 0;
  int Read() { return n; }  // no lock held: -Wthread-safety must refuse this
};
int main() { return Counter().Read(); }
EOF
if "$CLANG" -std=c++20 -I"$ROOT" -fsyntax-only -Wthread-safety -Werror "$work/probe.cc" 2>/dev/null; then
  echo "thread-safety: clang accepted an unguarded read of a GUARDED_BY field; the check is blind" >&2
  exit 1
fi

# The files that include the annotations.
cd "$ROOT"
git ls-files -co --exclude-standard -- '*.h' '*.cc' |
  grep -vE '^build/|^k8sclient/thread_annotations\.h$' |
  xargs grep -l '#include "k8sclient/thread_annotations.h"' >"$work/users" || true

# One command per file to check: clang++ with the file's (or its includer's) compile flags.
PYTHONPATH="$ROOT/scripts/lib" python3 - "$DB" "$ROOT" "$work" "$CLANG" <<'EOF'
import glob, os, shlex, sys
import compile_db

db_path, root, work, clang = sys.argv[1:5]
root = os.path.realpath(root)
db = compile_db.load(db_path)
users = sorted(line.strip() for line in open(os.path.join(work, "users")) if line.strip())
if not users:
    sys.exit("thread-safety: no source includes k8sclient/thread_annotations.h")


def includer(header):
    """A compiled file that includes `header` directly (one in the same folder first)."""
    needle = f'#include "{header}"'
    found = []
    for path in db:
        try:
            with open(path, errors="replace") as f:
                if needle in f.read():
                    found.append(path)
        except OSError:
            pass
    folder = os.path.dirname(header)
    found.sort(key=lambda p: (os.path.dirname(os.path.relpath(p, root)) != folder, p))
    return found[0] if found else None


checks, missing = {}, []  # file to check -> (file whose flags it takes, shown as)
header_only = {}  # folder -> its header-only users
for rel in users:
    path = os.path.join(root, rel)
    if rel.endswith(".cc"):
        checks[path] = (path, rel)
        continue
    stem = path[: -len(".h")]
    defining = [p for p in [stem + ".cc", *glob.glob(stem + "_*.cc")] if os.path.exists(p)]
    for p in defining:
        checks[p] = (p, os.path.relpath(p, root))
    if not defining:
        header_only.setdefault(os.path.dirname(rel), []).append(rel)
for folder, headers in sorted(header_only.items()):
    by = includer(headers[0])
    if by is None:
        missing.append(f"{headers[0]} (header-only, and no compiled file includes it)")
        continue
    together = os.path.join(work, folder.replace("/", "_") + "_headers.cc")
    with open(together, "w") as f:
        f.writelines(f'#include "{h}"\n' for h in headers)
    checks[together] = (by, " ".join(headers))

with open(os.path.join(work, "commands"), "w") as out:
    for path, (flags_of, shown) in sorted(checks.items()):
        entry = db.get(flags_of)
        if entry is None:
            missing.append(f"{shown} (not in {db_path})")
            continue
        cmd = [clang, *compile_db.flags(entry), "-Wno-unknown-warning-option", "-fsyntax-only",
               "-Wthread-safety", "-Werror", path]
        out.write(f"cd {shlex.quote(entry['directory'])} && {shlex.join(cmd)}\0")
with open(os.path.join(work, "checked"), "w") as out:
    out.write(" ".join(shown for _, shown in sorted(checks.values(), key=lambda c: c[1])) + "\n")
for m in missing:
    print(f"thread-safety: cannot check {m}", file=sys.stderr)
sys.exit(1 if missing else 0)
EOF

failed=0
xargs -0 -P2 -n1 bash -c <"$work/commands" || failed=1
read -ra checked <"$work/checked"
elapsed=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
echo "thread-safety: ${#checked[@]} files checked in $elapsed s (clang runs: $(tr -cd '\0' <"$work/commands" | wc -c)): ${checked[*]}"
exit "$failed"
