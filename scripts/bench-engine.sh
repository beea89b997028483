#!/usr/bin/env bash
# The monitoring engine as a whole process (docs/PERFORMANCE.md, "Engine"): `railwatch sim` (rate
# limits off), N monitored instances in a SQLite store (bench/engine/engine_seed_instances), and
# `railwatch serve` following them; prints checks/s, µs of CPU per check, requests per check,
# peak memory, the delay from a status change in the simulator to its timeline row, and the
# simulator's own CPU. `make bench` runs it small; the 100,000-instance run is
#
#   ENGINE_COUNT=100000 ENGINE_SECONDS=120 scripts/bench-engine.sh build
#
#   scripts/bench-engine.sh [BUILD_DIR]
#
# ENGINE_COUNT      instances (default 2000)
# ENGINE_SECONDS    measured window after the warm-up (default 60)
# ENGINE_WARMUP     seconds after serve is ready before the window (default 20)
# ENGINE_PYTHON=1   also run bench/engine/python_poller.py on as many fresh deployments (default 1
#                   below 10,000 instances, else 0)
# ENGINE_PERF=S     perf record -g serve for S seconds at the start of the window (keeps perf.data;
#                   ENGINE_PERF_DWARF=1: DWARF call graphs at ENGINE_PERF_HZ (499) samples a second, for
#                   builds without frame pointers)
# ENGINE_JSON=FILE  write every figure as JSON
# ENGINE_ARGS       more flags for bench/engine/engine_bench.py (--mix, --stuck-after, --interval, --time-scale, --claim-mode,
#                   --poll-threads, --batch-size, --health-interval, --python-batch-size, --keep)
set -euo pipefail
build=${1:-build}
count=${ENGINE_COUNT:-2000}
python_default=1
if ((count >= 10000)); then python_default=0; fi
for f in "$build/railwatch" "$build/bench/engine_seed_instances"; do
  if [[ ! -x "$f" ]]; then
    echo "bench-engine: $f is missing; run: cmake --build $build --target railwatch engine_seed_instances" >&2
    exit 1
  fi
done
args=(--build "$build" --count "$count" --seconds "${ENGINE_SECONDS:-60}" --warmup "${ENGINE_WARMUP:-20}")
if [[ "${ENGINE_PYTHON:-$python_default}" == 1 ]]; then args+=(--python); fi
if [[ -n "${ENGINE_PERF:-}" ]]; then
  if ! command -v perf >/dev/null 2>&1; then
    echo "bench-engine: ENGINE_PERF needs perf (Debian: apt-get install linux-perf)" >&2
    exit 1
  fi
  args+=(--perf-seconds "$ENGINE_PERF")
fi
if [[ -n "${ENGINE_JSON:-}" ]]; then args+=(--json "$ENGINE_JSON"); fi
# shellcheck disable=SC2086  # ENGINE_ARGS holds several flags
exec python3 "$(dirname "$0")/../bench/engine/engine_bench.py" "${args[@]}" ${ENGINE_ARGS:-}
