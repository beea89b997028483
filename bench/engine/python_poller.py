#!/usr/bin/env python3
"""A plain Python status poller, the yardstick of the engine benchmark (docs/PERFORMANCE.md, "Engine").

What a person would write in an afternoon: the standard library only (urllib, json, sqlite3),
one thread, railwatch's batched poll document (DeploymentPoll: --batch aliased `deployment(id)`
fields with the same fragment; the engine bench passes serve's batch size), the same intervals
per status with +-10 % jitter and the same 2 s batch window, and one SQLite row per status
change (plus the current status per deployment), written in one transaction per answered request. It does nothing else: no leases, no budget, no
retries, no logs, no classification. scripts/bench-engine.sh runs it against the same simulator as
`railwatch serve` and measures its CPU and memory from outside, as it does serve's.

  python_poller.py --url http://127.0.0.1:PORT/graphql/v2?source=poller --token T \
      --deployments deployments.tsv --db poller.db --seconds 60 --intervals '{"SUCCESS": 60, "default": 10}'

deployments.tsv: deployment id, service id, environment id, status now (tab-separated), as for
engine_seed_instances. Prints one JSON line with its counts when it ends (after --seconds, or on
SIGTERM / SIGINT).
"""
import argparse
import heapq
import json
import random
import signal
import sqlite3
import sys
import time
import urllib.request
from datetime import datetime

FRAGMENT = "fragment DeploymentPollFields on Deployment { status statusUpdatedAt createdAt updatedAt deploymentStopped }"


def document(count):
    params = ", ".join("$id%d: String!" % i for i in range(count))
    fields = " ".join("d%d: deployment(id: $id%d) { ...DeploymentPollFields }" % (i, i) for i in range(count))
    return "query DeploymentPoll(%s) { %s } %s" % (params, fields, FRAGMENT)


def rfc3339_ns(text):
    """Nanoseconds since the epoch of an RFC 3339 time with up to 9 fraction digits."""
    main, _, rest = text.partition(".")
    frac = "".join(c for c in rest if c.isdigit()) if rest else ""
    seconds = datetime.fromisoformat(main.rstrip("Z") + "+00:00").timestamp()
    return int(seconds) * 1_000_000_000 + int((frac + "000000000")[:9])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--deployments", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--intervals", default="{}", help='JSON {"STATUS": seconds, "default": seconds}')
    p.add_argument("--batch", type=int, default=50)
    p.add_argument("--window", type=float, default=2.0, help="also take what falls due this soon")
    p.add_argument("--spread-seconds", type=float, default=10.0, help="first checks spread over this")
    args = p.parse_args()

    intervals = json.loads(args.intervals)
    default_interval = float(intervals.get("default", 30))
    status = {}
    for line in open(args.deployments):
        if line.strip():
            dep, _service, _env, st = line.rstrip("\n").split("\t")
            status[dep] = st
    ids = list(status)

    db = sqlite3.connect(args.db)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE IF NOT EXISTS current (deployment_id TEXT PRIMARY KEY, status TEXT NOT NULL)")
    db.execute("CREATE TABLE IF NOT EXISTS changes (id INTEGER PRIMARY KEY, deployment_id TEXT NOT NULL, "
               "from_status TEXT, to_status TEXT NOT NULL, at INTEGER NOT NULL, observed_at INTEGER NOT NULL)")
    db.executemany("INSERT OR REPLACE INTO current VALUES (?, ?)", status.items())
    db.commit()

    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + args.token,
               "User-Agent": "python-poller"}
    documents = {}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    start = time.time()
    due = [(start + args.spread_seconds * i / len(ids), dep) for i, dep in enumerate(ids)]
    heapq.heapify(due)
    checks = requests = changes = errors = 0
    end = start + args.seconds
    while not stop and time.time() < end:
        now = time.time()
        if due[0][0] > now:
            time.sleep(min(due[0][0] - now, end - now, 0.5))
            continue
        batch = []
        while due and due[0][0] <= now + args.window and len(batch) < args.batch:
            batch.append(heapq.heappop(due)[1])
        if len(batch) not in documents:
            documents[len(batch)] = document(len(batch))
        body = json.dumps({"operationName": "DeploymentPoll", "query": documents[len(batch)],
                           "variables": {"id%d" % i: dep for i, dep in enumerate(batch)}}).encode()
        requests += 1
        try:
            with urllib.request.urlopen(urllib.request.Request(args.url, body, headers), timeout=30) as answer:
                data = json.load(answer).get("data") or {}
        except (OSError, ValueError) as e:
            print("python_poller: request failed: %s" % e, file=sys.stderr)
            data = {}
        observed = time.time_ns()
        rows = []
        for i, dep in enumerate(batch):
            d = data.get("d%d" % i)
            if not d:
                errors += 1
            else:
                checks += 1
                if d["status"] != status[dep]:
                    at = rfc3339_ns(d["statusUpdatedAt"]) if d.get("statusUpdatedAt") else observed
                    rows.append((dep, status[dep], d["status"], at, observed))
                    status[dep] = d["status"]
            st = status[dep]
            base = float(intervals.get(st, default_interval))
            heapq.heappush(due, (time.time() + base * (1 + 0.1 * (2 * random.random() - 1)), dep))
        if rows:
            changes += len(rows)
            with db:
                db.executemany("INSERT INTO changes (deployment_id, from_status, to_status, at, observed_at) "
                               "VALUES (?, ?, ?, ?, ?)", rows)
                db.executemany("UPDATE current SET status = ? WHERE deployment_id = ?",
                               [(r[2], r[0]) for r in rows])
    print(json.dumps({"checks": checks, "requests": requests, "changes": changes, "errors": errors,
                      "seconds": round(time.time() - start, 3)}))


if __name__ == "__main__":
    main()
