#!/usr/bin/env bash
# `make lint`: clang-tidy, with the checked-in .clang-tidy, over every C++ file of the project that
# the build compiles (src/, tests/, bench/; third_party/ excluded), from BUILD/compile_commands.json.
# Prints each finding once (a header's findings come back from every file that includes it), then
# the count per file; exits 1 when there is any finding. The full output is kept in
# BUILD/clang-tidy.log.
set -euo pipefail
build=${1:-build}
jobs=${2:-$(nproc)}
cd "$(dirname "$0")/.."
root=$PWD
if [[ ! -f $build/compile_commands.json ]]; then
  echo "lint: $build/compile_commands.json is missing; run 'make configure' first" >&2
  exit 2
fi
tidy=$(command -v clang-tidy-14 || command -v clang-tidy)
runner=$(command -v run-clang-tidy-14 || command -v run-clang-tidy)
log=$build/clang-tidy.log
start=$(date +%s)
# run-clang-tidy exits non-zero only when clang-tidy itself failed; findings are judged below.
# clang-tidy colours its diagnostics even into a pipe: the escapes are stripped from the log, or
# no line would start with the file's path and every run would pass.
"$runner" -clang-tidy-binary "$tidy" -p "$build" -j "$jobs" -quiet "^$root/(src|tests|bench)/" 2>&1 |
  sed 's/\x1b\[[0-9;]*m//g' >"$log" || true
findings=$(grep -E "^$root/.+:[0-9]+:[0-9]+: (warning|error): " "$log" | sed "s|^$root/||" | sort -u || true)
if [[ -z $findings ]] && ! grep -q "clang-tidy" "$log"; then
  echo "lint: clang-tidy did not run (see $log)" >&2
  exit 2
fi
took=$(($(date +%s) - start))
if [[ -z $findings ]]; then
  echo "lint: no findings (${took} s)"
  exit 0
fi
echo "$findings"
echo
echo "lint: findings per file:"
echo "$findings" | cut -d: -f1 | sort | uniq -c | sort -rn
echo "lint: $(echo "$findings" | wc -l) finding(s) in $(echo "$findings" | cut -d: -f1 | sort -u | wc -l) file(s) (${took} s; full output in $log)"
exit 1
