#!/usr/bin/env bash
# Two builds through the engine benchmark (scripts/bench-engine.sh, same ENGINE_* settings), in
# pairs whose order alternates (before-after, after-before, …): on a shared machine the second
# run of a pair tends to be slower, and a fixed order biases the comparison (docs/PERFORMANCE.md).
# Prints each run, then each figure's after/before ratio per pair and their median, the CPU per
# check also relative to the simulator's. Example, the acceptance's size:
#
#   ENGINE_COUNT=100000 ENGINE_PAIRS=4 scripts/bench-engine-compare.sh build-before build
#
#   scripts/bench-engine-compare.sh BEFORE_BUILD AFTER_BUILD
#
# ENGINE_PAIRS   pairs of runs (default 4: an even number cancels the order's bias)
# Others as scripts/bench-engine.sh (ENGINE_COUNT, ENGINE_SECONDS, ENGINE_WARMUP, ENGINE_ARGS);
# the Python poller is not run.
set -euo pipefail
if (($# != 2)); then
  echo "usage: scripts/bench-engine-compare.sh BEFORE_BUILD AFTER_BUILD" >&2
  exit 2
fi
exec python3 "$(dirname "$0")/../bench/engine/engine_compare.py" "$1" "$2"
