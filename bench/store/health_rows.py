#!/usr/bin/env python3
"""What the health probes' history costs on disk in a SQLite store (docs/PERFORMANCE.md, "The
probes' history on disk"; [monitor.health] keep_days in docs/CONFIG.md).

Seeds a store of N monitored instances through bench/engine's seeder (every migration applied, the
instances' ids as serve makes them), then stores --minutes minutes of probe results as serve's
prober does for a fleet probed once a minute: each minute every instance's result, in a random
order, in one transaction (the prober gathers the results in flight), with the statement
HealthChecks::RecordProbes runs (store/sql/statements.cpp, kInsertHealth) into `health_checks` and
its covering index. Prints the file's growth per stored result and what that comes to per service
at one probe a minute: a day, and keep_days (7 by default).

    python3 bench/store/health_rows.py --build build-rel [--count 2000] [--minutes 200]
"""
import argparse
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wal_frames import seed  # noqa: E402  (the same seeded store)

INSERT = ("INSERT INTO health_checks (instance_id, at, ok, http_status, latency_ms, error) "
          "VALUES (?, ?, ?, ?, ?, ?)")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default="build-rel")
    p.add_argument("--count", type=int, default=2000, help="monitored instances, each probed once a minute")
    p.add_argument("--minutes", type=int, default=200, help="minutes of probe results stored")
    p.add_argument("--failing", type=float, default=0.01, help="share of results that fail (with an error text)")
    p.add_argument("--keep-days", type=int, default=7, help="[monitor.health] keep_days, for the projection")
    args = p.parse_args()
    if not os.access(os.path.join(args.build, "bench", "engine_seed_instances"), os.X_OK):
        sys.exit("health_rows: %s/bench/engine_seed_instances is missing; run: cmake --build %s --target "
                 "engine_seed_instances" % (args.build, args.build))
    random.seed(7)
    work = tempfile.mkdtemp(prefix="railwatch-health-rows-")
    try:
        db, rows = seed(args.build, work, args.count, 0)
        ids = [instance for instance, _ in rows]
        c = sqlite3.connect(db, isolation_level=None)
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=NORMAL")
        page_size = c.execute("PRAGMA page_size").fetchone()[0]
        before = c.execute("PRAGMA page_count").fetchone()[0]
        at = time.time_ns()
        stored = 0
        for minute in range(args.minutes):
            order = ids[:]
            random.shuffle(order)
            c.execute("BEGIN")
            for k, instance in enumerate(order):
                ok = random.random() >= args.failing
                c.execute(INSERT, (instance, at + minute * 60_000_000_000 + k * 1000, 1 if ok else 0,
                                   200 if ok else 503, random.randint(5, 400),
                                   None if ok else "GET https://svc.up.railway.app/health answered 503"))
            c.execute("COMMIT")
            stored += len(order)
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        after = c.execute("PRAGMA page_count").fetchone()[0]
        c.close()
        per_result = (after - before) * page_size / stored
        per_day = per_result * 24 * 60
        print("%d results of %d instances over %d minutes (%.1f %% failing): the file grew %.1f MiB, "
              "%.1f bytes per result" % (stored, args.count, args.minutes, 100 * args.failing,
                                         (after - before) * page_size / 2**20, per_result))
        print("at one probe a minute: %.0f KiB per service a day, %.2f MiB per service for keep_days = %d; "
              "%.1f GiB for 10,000 services" % (per_day / 1024, per_day * args.keep_days / 2**20, args.keep_days,
                                                per_day * args.keep_days * 10000 / 2**30))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
