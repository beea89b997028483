#!/usr/bin/env bash
# Runs every benchmark binary of a build and prints its figures. Record figures, with this exact
# command and the machine, in docs/PERFORMANCE.md.
set -euo pipefail
build=${1:-build}
shopt -s nullglob
benches=("$build"/bench/bench_*)
if [[ ${#benches[@]} -eq 0 ]]; then
  echo "run-bench: no benchmarks in $build/bench" >&2
  exit 1
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr)"
for b in "${benches[@]}"; do
  echo "== $(basename "$b")"
  # BENCH_ARGS: extra flags for every binary, e.g. BENCH_ARGS=--benchmark_filter=claim
  # shellcheck disable=SC2086
  "$b" --benchmark_counters_tabular=true ${BENCH_ARGS:-}
done
