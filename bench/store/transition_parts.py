#!/usr/bin/env python3
"""CPU per part of a status transition's write in a SQLite store at fleet scale.

docs/PERFORMANCE.md, "A transition's write, part by part". Seeds a store as wal_frames.py does
(N monitored instances through bench/engine's seeder, every migration applied, then timeline rows
spread over them), then times each part of what the writer does per transition
(store/sql/timeline.cpp) on its own, in transactions of --per-tx statements with the writer's
settings (WAL, synchronous NORMAL, 32 MiB page cache, checkpoints after 10,000 pages, foreign keys
on, temporary files in memory): the event row into a copy of deployment_events without indexes,
then with the events' unique key, the time index and the foreign key added one by one; the
instance's state columns in random order and in key order, with and without the change feed's
trigger, and with the trigger but without its trim of the feed's oldest row; and, as a design
probe, the event under a unique key led by `at` with a per-instance chain of event ids (the
previous id read from the instance row, the newest written with its state). Each variant starts
from a fresh copy of the seeded file and is run --rounds times, in turns; the figure is the median
CPU time (this process: SQLite runs in it) per statement, including the commits, minus a
`SELECT 1`'s (the harness's own cost per statement), so parts compare as differences.

    python3 bench/store/transition_parts.py --build build-rel [--count 100000] [--events 300000]
"""
import argparse
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wal_frames import STATUSES, seed  # noqa: E402  (the same seeded store, the same states)

EVENT_COLUMNS = ("id INTEGER PRIMARY KEY, instance_id TEXT NOT NULL, deployment_id TEXT NOT NULL, "
                 "from_status TEXT, to_status TEXT NOT NULL, at INTEGER NOT NULL, source TEXT NOT NULL, "
                 "error_type TEXT")
TRIM = "    DELETE FROM instance_changes WHERE seq <= (SELECT MAX(seq) FROM instance_changes) - 100000;\n"


def events_copy(unique, at_index):
    """Setup: `ev`, deployment_events' rows in a table without a foreign key and with the indexes asked for."""
    def setup(c):
        c.execute("CREATE TABLE ev (%s)" % EVENT_COLUMNS)
        if unique:
            c.execute("CREATE UNIQUE INDEX ev_key ON ev (instance_id, deployment_id, to_status, at)")
        if at_index:
            c.execute("CREATE INDEX ev_at ON ev (at)")
        c.execute("INSERT INTO ev SELECT id, instance_id, deployment_id, from_status, to_status, at, source, "
                  "error_type FROM deployment_events ORDER BY id")
    return setup


def events_by_time(c):
    """Setup (a design probe, docs/PERFORMANCE.md): `ev`, deployment_events' rows under the same unique
    key led by `at` (events append near the end), each with the id of its instance's previous event
    (`prev_id`), the newest kept in the instance row (`last_event_id`): an instance's events found
    through that chain instead of a per-instance index."""
    c.execute("CREATE TABLE ev (%s, prev_id INTEGER, UNIQUE (at, instance_id, deployment_id, to_status))" %
              EVENT_COLUMNS)
    c.execute("INSERT INTO ev SELECT id, instance_id, deployment_id, from_status, to_status, at, source, error_type, "
              "LAG(id) OVER (PARTITION BY instance_id ORDER BY id) FROM deployment_events ORDER BY id")
    c.execute("ALTER TABLE instances ADD COLUMN last_event_id INTEGER")
    c.execute("UPDATE instances SET last_event_id = m.id FROM (SELECT instance_id, MAX(id) AS id FROM ev "
              "GROUP BY instance_id) AS m WHERE m.instance_id = instances.id")


def feed_trigger(keep, trim=True):
    """Setup: the change feed's trigger as stored, without its trim, or dropped."""
    def setup(c):
        sql = c.execute("SELECT sql FROM sqlite_master WHERE name = 'instances_changed'").fetchone()[0]
        c.execute("DROP TRIGGER instances_changed")
        if keep:
            if TRIM not in sql:
                sys.exit("transition_parts: the feed trigger's trim is not as expected (migration 11)")
            c.execute(sql if trim else sql.replace(TRIM, ""))
    return setup


def insert_event(table):
    def run(c, rows, k, at):
        instance, deployment = rows[k]
        c.execute("INSERT INTO %s (instance_id, deployment_id, from_status, to_status, at, source) "
                  "VALUES (?, ?, 'BUILDING', 'DEPLOYING', ?, 'poll') ON CONFLICT DO NOTHING" % table,
                  (instance, deployment, at))
    return run


def insert_chained_event(c, rows, k, at):
    instance, deployment = rows[k]
    c.execute("INSERT INTO ev (instance_id, deployment_id, from_status, to_status, at, source, prev_id) "
              "VALUES (?, ?, 'BUILDING', 'DEPLOYING', ?, 'poll', (SELECT last_event_id FROM instances WHERE id = ?)) "
              "ON CONFLICT DO NOTHING", (instance, deployment, at, instance))


def update_state_and_chain(c, rows, k, at):
    status, deployment_status = STATUSES[k % len(STATUSES)]
    c.execute("UPDATE instances SET status = ?, deployment_status = ?, progress = ?, deployment_updated_at = ?, "
              "last_event_id = ? WHERE id = ?", (status, deployment_status, k % 100, at, k, rows[k][0]))


def update_state(c, rows, k, at):
    status, deployment_status = STATUSES[k % len(STATUSES)]
    c.execute("UPDATE instances SET status = ?, deployment_status = ?, progress = ?, deployment_updated_at = ? "
              "WHERE id = ?", (status, deployment_status, k % 100, at, rows[k][0]))


def select_one(c, rows, k, at):
    c.execute("SELECT 1").fetchone()


def measure(seeded, work, setup, statement, order, per_tx, statements):
    db = os.path.join(work, "run.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    shutil.copy(seeded, db)  # checkpointed (seed): the file alone is the whole store
    c = sqlite3.connect(db, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "cache_size = -32768", "wal_autocheckpoint = 10000",
                   "foreign_keys = ON", "temp_store = MEMORY"):
        c.execute("PRAGMA " + pragma)
    setup(c)
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # The pages the statements will touch, in the cache first (the writer's cache holds them).
    for instance, _ in order[::4]:
        c.execute("SELECT status FROM instances WHERE id = ?", (instance,)).fetchone()
    at = 1_700_000_000_000_000_000
    started = time.process_time()
    for first in range(0, statements, per_tx):
        c.execute("BEGIN IMMEDIATE")
        for k in range(first, min(first + per_tx, statements)):
            at += 1000
            statement(c, order, k, at)
        c.execute("COMMIT")
    spent = time.process_time() - started
    c.close()
    return spent / statements * 1e6


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default="build")
    p.add_argument("--count", type=int, default=100000, help="monitored instances")
    p.add_argument("--events", type=int, default=300000, help="timeline rows before the measurement")
    p.add_argument("--statements", type=int, default=20000, help="statements timed per variant and round")
    p.add_argument("--per-tx", type=int, default=50, help="statements per transaction (a poll's group)")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="railwatch-parts-") as work:
        seeded, rows = seed(args.build, work, args.count, args.events)
        rng = random.Random(7)
        random_order = [rng.choice(rows) for _ in range(args.statements)]
        key_order = sorted(random_order)
        none = lambda c: None  # noqa: E731
        variants = [
            ("a statement (SELECT 1: subtracted below)", none, select_one, random_order),
            ("event: table alone", events_copy(False, False), insert_event("ev"), random_order),
            ("event: + unique key", events_copy(True, False), insert_event("ev"), random_order),
            ("event: + unique key + time index", events_copy(True, True), insert_event("ev"), random_order),
            ("event: + foreign key (as stored)", none, insert_event("deployment_events"), random_order),
            ("event: keyed by time, with the instance's chain", events_by_time, insert_chained_event, random_order),
            ("state: no feed trigger, random rows", feed_trigger(False), update_state, random_order),
            ("state: no feed trigger, rows in key order", feed_trigger(False), update_state, key_order),
            ("state: feed trigger without its trim", feed_trigger(True, trim=False), update_state, random_order),
            ("state: feed trigger (as stored)", none, update_state, random_order),
            ("state: as stored, with the chain's newest id", events_by_time, update_state_and_chain, random_order),
        ]
        figures = {name: [] for name, *_ in variants}
        for _ in range(args.rounds):
            for name, setup, statement, order in variants:
                figures[name].append(measure(seeded, work, setup, statement, order, args.per_tx, args.statements))
        base = statistics.median(figures[variants[0][0]])
        print("%d instances, %d timeline rows, %d statements per transaction, median of %d rounds "
              "(us CPU per statement, a SELECT 1's %.2f subtracted; the rounds' spread in brackets)" %
              (args.count, args.events, args.per_tx, args.rounds, base))
        for name, *_ in variants[1:]:
            values = figures[name]
            print("  %-50s %6.2f  [%.2f .. %.2f]" % (name, statistics.median(values) - base, min(values) - base,
                                                    max(values) - base))


if __name__ == "__main__":
    main()
