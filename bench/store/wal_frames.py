#!/usr/bin/env python3
"""WAL frames (pages written) per status transition in a SQLite store at fleet scale.

docs/PERFORMANCE.md, "An index no query used". Seeds a store of N monitored instances with
bench/engine's seeder (the real schema, every migration applied), adds timeline rows spread over
the instances, then commits transactions of K transitions each, shaped as the writer's
(store/sql/timeline.cpp: the instance's state columns set, one deployment_events row inserted;
the change feed's trigger appends its row), with automatic checkpoints off, and counts the frames
the WAL grew by. Each configuration starts from a fresh copy of the seeded file. `--drop INDEX`
measures the same with an index dropped first (repeatable).

    python3 bench/store/wal_frames.py --build build-rel [--count 100000] [--events 300000]
"""
import argparse
import os
import random
import shutil
import sqlite3
import subprocess
import tempfile
import uuid

FRAME_HEADER = 24
WAL_HEADER = 32
STATUSES = [("DEPLOYING", "BUILDING"), ("DEPLOYING", "DEPLOYING"), ("RUNNING", "SUCCESS")]


def seed(build, work, count, events):
    tsv = os.path.join(work, "deployments.tsv")
    with open(tsv, "w") as f:
        for _ in range(count):
            f.write("%s\t%s\t%s\tBUILDING\n" % (uuid.uuid4(), uuid.uuid4(), uuid.uuid4()))
    db = os.path.join(work, "seed.db")
    subprocess.run([os.path.join(build, "bench", "engine_seed_instances"), "--db", "sqlite:" + db, "--input", tsv,
                    "--spread-seconds", "60"], check=True, stdout=subprocess.DEVNULL)
    c = sqlite3.connect(db, isolation_level=None)
    rows = c.execute("SELECT id, deployment_id FROM instances").fetchall()
    c.execute("BEGIN")
    at = 1_600_000_000_000_000_000
    for _ in range(events):
        instance, deployment = random.choice(rows)
        at += 1000
        c.execute("INSERT INTO deployment_events (instance_id, deployment_id, from_status, to_status, at, source) "
                  "VALUES (?, ?, 'INITIALIZING', 'BUILDING', ?, 'poll') ON CONFLICT DO NOTHING",
                  (instance, deployment, at))
    c.execute("COMMIT")
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    return db, rows


def measure(seeded, rows, per_tx, transactions, drop, work):
    db = os.path.join(work, "run.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    shutil.copy(seeded, db)
    c = sqlite3.connect(db, isolation_level=None)
    c.execute("PRAGMA journal_mode = WAL")
    c.execute("PRAGMA wal_autocheckpoint = 0")
    c.execute("PRAGMA foreign_keys = ON")
    for index in drop:
        c.execute("DROP INDEX " + index)
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = c.execute("PRAGMA page_size").fetchone()[0]
    at = 1_700_000_000_000_000_000
    rng = random.Random(7)
    for _ in range(transactions):
        c.execute("BEGIN IMMEDIATE")
        for _ in range(per_tx):
            instance, deployment = rng.choice(rows)
            status, deployment_status = rng.choice(STATUSES)
            at += 1000
            c.execute("UPDATE instances SET status = ?, deployment_status = ?, progress = ?, "
                      "deployment_updated_at = ? WHERE id = ?",
                      (status, deployment_status, rng.randint(0, 100), at, instance))
            c.execute("INSERT INTO deployment_events (instance_id, deployment_id, from_status, to_status, at, source) "
                      "VALUES (?, ?, 'BUILDING', ?, ?, 'poll') ON CONFLICT DO NOTHING",
                      (instance, deployment, deployment_status, at))
        c.execute("COMMIT")
    frames = (os.path.getsize(db + "-wal") - WAL_HEADER) / (page + FRAME_HEADER)
    c.close()
    return frames / (per_tx * transactions)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default="build")
    p.add_argument("--count", type=int, default=100000, help="monitored instances")
    p.add_argument("--events", type=int, default=300000, help="timeline rows before the measurement")
    p.add_argument("--transactions", type=int, default=400)
    p.add_argument("--drop", action="append", default=[], help="an index to drop first (repeatable)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="railwatch-wal-") as work:
        seeded, rows = seed(args.build, work, args.count, args.events)
        for per_tx in (1, 5, 20):
            frames = measure(seeded, rows, per_tx, args.transactions, args.drop, work)
            print("%d instances, %d timeline rows, drop %s: %2d transitions per transaction: "
                  "%.2f WAL frames per transition" % (args.count, args.events, ",".join(args.drop) or "-", per_tx,
                                                      frames))


if __name__ == "__main__":
    main()
