#!/usr/bin/env python3
"""Two builds of railwatch through the engine benchmark, in pairs whose order alternates.

Runs scripts/bench-engine.sh (same ENGINE_* settings, the Python poller off) for BEFORE and AFTER
in --pairs pairs (default 4): before-after, after-before, before-after, ... On a shared 2-core
machine the second run of a pair tends to be slower than the first (docs/PERFORMANCE.md: the
simulator, the same code in both builds, showed it too), so a fixed order biases the comparison;
alternating cancels that out over an even number of pairs and shows it over an odd one.

Prints each run's figures, then for each figure the after/before ratio of every pair and their
median: CPU per check, the same relative to the simulator's CPU per check (which moves with the
machine's load but not with railwatch's code), each thread's CPU per check, transitions per check
(a different number of transitions in the window changes the CPU per check by itself), checks per
second and peak memory. Exit status 0 when every run succeeded.

    scripts/bench-engine-compare.sh BEFORE_BUILD AFTER_BUILD
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "..", "..", "scripts", "bench-engine.sh")


def log(text):
    print(text, flush=True)


def run_once(build, json_path):
    """One bench-engine.sh run of `build`; its serve figures, or None when the run failed."""
    env = dict(os.environ, ENGINE_JSON=json_path, ENGINE_PYTHON="0")
    proc = subprocess.run([BENCH, build], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          check=False)
    for line in proc.stdout.splitlines():
        if any(key in line for key in ("checks/s", "CPU split", "CPU by thread", "transitions written",
                                       "the store's writer", "root fields answered")):
            log("   " + line.strip())
    if proc.returncode != 0 or not os.path.exists(json_path):
        log("   the run failed (exit status %d):\n%s" % (proc.returncode, proc.stdout[-2000:]))
        return None
    with open(json_path) as f:
        return json.load(f)["runs"][0]


def figures(run):
    """The compared figures of one run: name -> value (None where the run has none)."""
    checks = run.get("checks") or 0
    out = {
        "CPU us/check": run.get("cpu_us_per_check"),
        "CPU / simulator's CPU": (run["cpu_us_per_check"] / run["sim_cpu_us_per_check"]
                                  if run.get("cpu_us_per_check") and run.get("sim_cpu_us_per_check") else None),
        "transitions/check": run["transitions"] / checks if checks and "transitions" in run else None,
        "requests/check": run.get("requests_per_check"),
        "probes/check": run["probes"] / checks if checks and "probes" in run else None,
        "checks/s": run.get("checks_per_s"),
        "peak memory MiB": run.get("vmhwm_mib"),
    }
    for name, thread in run.get("threads", {}).items():
        out["%s us/check" % name] = thread["cpu_s"] * 1e6 / checks if checks else None
    return out


def ratios(pairs, name):
    """after/before of `name` for each pair (of figures()) where both runs have it."""
    out = []
    for before, after in pairs:
        b, a = before.get(name), after.get(name)
        if b and a is not None:
            out.append(a / b)
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("before", help="build directory of the baseline")
    p.add_argument("after", help="build directory of the change")
    p.add_argument("--pairs", type=int, default=int(os.environ.get("ENGINE_PAIRS", "4")))
    args = p.parse_args()
    if args.pairs < 1:
        p.error("--pairs must be at least 1")
    pairs = []
    failed = False
    with tempfile.TemporaryDirectory(prefix="railwatch-engine-compare-") as work:
        for k in range(args.pairs):
            order = ("before", "after") if k % 2 == 0 else ("after", "before")
            runs = {}
            for which in order:
                build = args.before if which == "before" else args.after
                log("== pair %d, %s (%s), %s" % (k + 1, which, build, time.strftime("%H:%M:%S UTC", time.gmtime())))
                runs[which] = run_once(build, os.path.join(work, "run-%d-%s.json" % (k, which)))
                failed = failed or runs[which] is None
            if runs["before"] is not None and runs["after"] is not None:
                pairs.append((figures(runs["before"]), figures(runs["after"])))
    if not pairs:
        log("no pair completed")
        return 1
    names = []
    for before, after in pairs:
        for name in list(before) + list(after):
            if name not in names:
                names.append(name)
    log("-- after / before, pair by pair (orders: %s), and the median"
        % ", ".join("before-after" if k % 2 == 0 else "after-before" for k in range(len(pairs))))
    for name in names:
        values = ratios(pairs, name)
        if not values:
            continue
        log("   %-28s %s   median %.3f" % (name, " ".join("%.3f" % v for v in values), statistics.median(values)))
    if len(pairs) % 2 == 1:
        log("   (an odd number of pairs: the order's bias is not cancelled; ENGINE_PAIRS even is better)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
