#!/usr/bin/env bash
# Fails when a C++ file of the project is not formatted as .clang-format says.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mapfile -t files < <(git ls-files -co --exclude-standard -- '*.cc' '*.h' | while read -r f; do [[ -f "$f" ]] && echo "$f"; done)
if ((${#files[@]} == 0)); then echo "no C++ files"; exit 0; fi
if ! clang-format --dry-run --Werror "${files[@]}" 2>/tmp/clang-format.$$; then
  echo "these files need clang-format -i:" >&2
  grep -oE '^[^:]+\.(cc|h)' /tmp/clang-format.$$ | sort -u >&2
  rm -f /tmp/clang-format.$$
  exit 1
fi
rm -f /tmp/clang-format.$$
echo "${#files[@]} files formatted"
