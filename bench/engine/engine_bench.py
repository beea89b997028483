#!/usr/bin/env python3
"""The engine benchmark's driver (scripts/bench-engine.sh runs it; docs/PERFORMANCE.md, "Engine").

Whole processes on loopback: `railwatch sim` (rate limits off) with N deployments, a SQLite store
with one monitored instance per deployment (engine_seed_instances, through the store API), then
`railwatch serve` on it for a warm-up and a measured window. During the window it samples serve's
and the simulator's CPU time and memory from /proc, serve's /metrics and the simulator's
/_sim/stats at both ends, and tails the store's timeline (deployment_events) every 50 ms, noting
when each row became readable. Every 2 s it also notes serve's CPU, the simulator's answered
deployment fields and the rows seen, and splits serve's CPU into a cost per check and a cost per
row written (cpu_split). The delay of a status change is then taken from the simulator's
truth (the planned timeline of up to 5,000 sampled deployments): every change it made in the
window, to the moment its row was first seen; a change still without a row 15 s after the window
counts as at least that late. Only statuses that lasted two intervals count (as in the
acceptance): a shorter one may be passed over by any poller. With --python the same is done for bench/engine/python_poller.py
on a fresh set of N deployments of the same mix, against the same simulator.

Prints a summary and, with --json FILE, writes every figure there. Exit status 0 when the runs
completed (whether or not the targets are met), 1 when a step failed.
"""
import argparse
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "bench-engine-token-0123456789abcdef"
CLK_TCK = os.sysconf("SC_CLK_TCK")
IN_PROGRESS = ("INITIALIZING", "BUILDING", "DEPLOYING")


def log(msg):
    print(msg, flush=True)


def http(url, body=None, timeout=120):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as answer:
        return answer.read().decode()


def wait_listening(proc, path, what):
    """The port from '<what> listening on http://127.0.0.1:PORT' in the process's log."""
    pattern = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")
    for _ in range(1200):
        with open(path) as f:
            m = pattern.search(f.read())
        if m:
            return int(m.group(1))
        if proc.poll() is not None:
            raise RuntimeError("%s exited: %s" % (what, open(path).read()[-2000:]))
        time.sleep(0.1)
    raise RuntimeError("%s did not listen within 120 s; see %s" % (what, path))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def thread_cpu(pid):
    """CPU seconds, of them in the kernel, and voluntary context switches of each thread of `pid` by
    thread name (digits at the end dropped, so that the four pollers rw-poll-0..3 count as one), from
    /proc/PID/task."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        base = "/proc/%d/task/%s/" % (pid, tid)
        try:
            with open(base + "comm") as f:
                name = f.read().strip().rstrip("0123456789").rstrip("-")
            with open(base + "stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(base + "status") as f:
                switches = next(int(line.split()[1]) for line in f if line.startswith("voluntary_ctxt_switches"))
        except (FileNotFoundError, ProcessLookupError):  # the thread ended meanwhile
            continue
        cpu, sys_cpu, vol = out.get(name, (0.0, 0.0, 0))
        out[name] = (cpu + (int(fields[11]) + int(fields[12])) / CLK_TCK, sys_cpu + int(fields[12]) / CLK_TCK,
                     vol + switches)
    return out


def writer_io(pid):
    """Write system calls, bytes written and read system calls of the store's writer thread
    (rw-sqlite-write) of `pid`, from /proc/PID/task/TID/io; zeros without one."""
    for tid in os.listdir("/proc/%d/task" % pid):
        base = "/proc/%d/task/%s/" % (pid, tid)
        try:
            with open(base + "comm") as f:
                if f.read().strip() != "rw-sqlite-write":
                    continue
            with open(base + "io") as f:
                io = dict(line.split(": ") for line in f.read().splitlines())
            return int(io["syscw"]), int(io["wchar"]), int(io["syscr"])
        except (FileNotFoundError, ProcessLookupError, PermissionError, KeyError):
            continue
    return 0, 0, 0


def thread_delta(before, after):
    """Per thread name, busiest first: CPU seconds, of them in the kernel, and voluntary switches
    between two thread_cpu readings (a thread that ended in between is left out, one that started
    counts from its start)."""
    none = (0.0, 0.0, 0)
    delta = {n: (cpu - before.get(n, none)[0], sys_cpu - before.get(n, none)[1], vol - before.get(n, none)[2])
             for n, (cpu, sys_cpu, vol) in after.items()}
    return {n: {"cpu_s": round(cpu, 2), "system_s": round(sys_cpu, 2), "switches": vol}
            for n, (cpu, sys_cpu, vol) in sorted(delta.items(), key=lambda kv: -kv[1][0]) if cpu > 0}


def memory_kib(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def metrics(url):
    """Prometheus text -> {name{labels}: value}."""
    out = {}
    for line in http(url).splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            try:
                out[key] = float(value)
            except ValueError:
                pass
    return out


def histogram_quantiles(before, after, name, quantiles):
    """Upper bucket bounds holding each quantile of the observations between two scrapes."""
    buckets = []
    for key, value in after.items():
        m = re.fullmatch(name + r'_bucket\{le="([^"]+)"\}', key)
        if m:
            le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
            buckets.append((le, value - before.get(key, 0)))
    buckets.sort()
    total = buckets[-1][1] if buckets else 0
    out = {}
    for q in quantiles:
        out[q] = next((le for le, n in buckets if total and n >= q * total), None)
    return out, total


def histogram_share_above(before, after, name, bound):
    """The share of the observations between two scrapes above `bound` (a bucket bound)."""
    total = after.get(name + '_count', 0) - before.get(name + '_count', 0)
    key = '%s_bucket{le="%s"}' % (name, bound)
    if not total or key not in after:
        return None
    return 1 - (after[key] - before.get(key, 0)) / total


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def create_deployments(sim, count, mix, tsv):
    """N deployments in the simulator (bulk, 10,000 per call); their ids, services and current
    statuses (from /_sim/truth, 200 ids per call) written to `tsv`. Returns the seconds it took."""
    start = time.time()
    ids = []
    while len(ids) < count:
        chunk = min(10000, count - len(ids))
        ids += json.loads(http(sim + "/_sim/deployments", {"count": chunk, "mix": mix}))["ids"]
    with open(tsv, "w") as out:
        for i in range(0, len(ids), 200):
            truth = json.loads(http(sim + "/_sim/truth?id=" + ",".join(ids[i:i + 200])))
            for d in truth["deployments"]:
                out.write("%s\t%s\t%s\t%s\n" % (d["id"], d["serviceId"], d["environmentId"], d["currentStatus"]))
    return time.time() - start


class Sampler(threading.Thread):
    """Every second: RSS of the watched processes; keeps the peak."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids = pids
        self.peak_rss = {pid: 0 for pid in pids}
        self.stop = threading.Event()

    def run(self):
        while not self.stop.wait(1.0):
            for pid in self.pids:
                try:
                    self.peak_rss[pid] = max(self.peak_rss[pid], memory_kib(pid).get("VmRSS", 0))
                except OSError:
                    pass


class RowTail(threading.Thread):
    """Every 50 ms: timeline rows added since the last look, with the time they were first seen."""

    def __init__(self, db, query):
        super().__init__(daemon=True)
        self.db, self.query = db, query
        self.rows = []  # (deployment id, to_status, at ns, seen ns)
        self.stop = threading.Event()

    def run(self):
        last = 0
        conn = None
        while not self.stop.wait(0.05):
            try:
                if conn is None:
                    conn = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=5)
                rows = conn.execute(self.query, (last,)).fetchall()
            except sqlite3.Error:
                conn = None
                continue
            seen = time.time_ns()
            for row_id, dep, to_status, at in rows:
                last = max(last, row_id)
                self.rows.append((dep, to_status, at, seen))


def rfc3339_ns(text):
    main, _, rest = text.partition(".")
    frac = "".join(c for c in rest if c.isdigit()) if rest else ""
    seconds = datetime.fromisoformat(main.rstrip("Z") + "+00:00").timestamp()
    return int(seconds) * 1_000_000_000 + int((frac + "000000000")[:9])


def change_delays(sim, tsv, rows, window_start, window_end, tail_end, sample, min_lasting_s):
    """Seconds from each status change the simulator made in the window (its truth, for up to
    `sample` deployments) to its row being readable; a change with no row by `tail_end` counts
    as late by (tail_end - change) at least and is counted in `missing`. Only statuses that
    lasted `min_lasting_s` count: a shorter one may be passed over by any poller (the
    acceptance asks for those that lasted two intervals)."""
    ids = [line.split("\t", 1)[0] for line in open(tsv) if line.strip()]
    ids = random.Random(1).sample(ids, sample) if len(ids) > sample else ids
    seen = {}
    for dep, status, _at, seen_ns in rows:
        seen.setdefault((dep, status), seen_ns)
    delays, missing = [], 0
    for i in range(0, len(ids), 200):
        for d in json.loads(http(sim + "/_sim/truth?id=" + ",".join(ids[i:i + 200])))["deployments"]:
            planned = d["plannedTimeline"]
            for i in range(1, len(planned)):  # the first entry is the creation, not a change
                entry = planned[i]
                at = rfc3339_ns(entry["at"])
                if not window_start * 1e9 <= at < window_end * 1e9:
                    continue
                if i + 1 < len(planned) and rfc3339_ns(planned[i + 1]["at"]) - at < min_lasting_s * 1e9:
                    continue
                got = seen.get((d["id"], entry["status"]))
                if got is None:
                    missing += 1
                    delays.append(tail_end - at / 1e9)
                else:
                    delays.append((got - at) / 1e9)
    return delays, missing


STEP_S = 2.0  # the window's steps for the CPU split (cpu_split)


def step_sample(pid, sim, tail):
    """Serve's CPU seconds, the simulator's deployment fields answered (checks) and the timeline
    rows seen so far: one point of the window, read without asking serve anything."""
    fields = json.loads(http(sim + "/_sim/stats"))["rootFields"].get("deployment", 0)
    return cpu_seconds(pid), fields, len(tail.rows)


def cpu_split(steps):
    """Serve's CPU over the window's steps split into a cost per check and a cost per timeline row
    written (least squares without a constant: cpu = a * checks + b * rows, one equation per step).
    The default mix's window is part quiet, part a flood of transitions, so one run gives both;
    b is None without rows (a is then the CPU per check)."""
    d = [(c1 - c0, k1 - k0, r1 - r0) for (c0, k0, r0), (c1, k1, r1) in zip(steps, steps[1:])]
    sxx = sum(k * k for _, k, _ in d)
    syy = sum(r * r for _, _, r in d)
    sxy = sum(k * r for _, k, r in d)
    scx = sum(c * k for c, k, _ in d)
    scy = sum(c * r for c, _, r in d)
    out = {"steps": len(d), "step_s": STEP_S, "us_per_check": None, "us_per_row": None}
    det = sxx * syy - sxy * sxy
    if syy > 0 and det > 0:
        out["us_per_check"] = round((scx * syy - scy * sxy) / det * 1e6, 2)
        out["us_per_row"] = round((sxx * scy - sxy * scx) / det * 1e6, 1)
    elif sxx > 0:
        out["us_per_check"] = round(scx / sxx * 1e6, 2)
    return out


def measure(name, pid, sim_pid, sim, metrics_url, tail, tsv, interval_s, warmup, seconds, perf_seconds, work,
            started):
    """Warm-up, then the window: figures of process `pid` (and the simulator) over it."""
    time.sleep(max(0.0, started + warmup - time.time()))
    t0 = time.time()
    cpu0, sim_cpu0 = cpu_seconds(pid), cpu_seconds(sim_pid)
    threads0 = thread_cpu(pid)
    io0 = writer_io(pid)
    m0 = metrics(metrics_url) if metrics_url else {}
    s0 = json.loads(http(sim + "/_sim/stats"))
    perf = None
    if perf_seconds:
        graph = ["-g"]
        if os.environ.get("ENGINE_PERF_DWARF") == "1":  # builds without frame pointers
            graph = ["--call-graph", "dwarf", "-F", os.environ.get("ENGINE_PERF_HZ", "499")]
        perf = subprocess.Popen(["perf", "record"] + graph + ["-o", os.path.join(work, "perf.data"), "-p", str(pid),
                                 "--", "sleep", str(perf_seconds)],
                                stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "perf.log"), "w"))
    loads = [os.getloadavg()[0]]
    steps = [step_sample(pid, sim, tail)]
    while time.time() < t0 + seconds:
        time.sleep(min(STEP_S, t0 + seconds - time.time()))
        loads.append(os.getloadavg()[0])
        steps.append(step_sample(pid, sim, tail))
    t1 = time.time()
    cpu1, sim_cpu1 = cpu_seconds(pid), cpu_seconds(sim_pid)
    threads1 = thread_cpu(pid)
    io1 = writer_io(pid)
    m1 = metrics(metrics_url) if metrics_url else {}
    s1 = json.loads(http(sim + "/_sim/stats"))
    mem = memory_kib(pid)
    if perf:
        perf.wait()
    elapsed = t1 - t0
    fields = s1["rootFields"].get("deployment", 0) - s0["rootFields"].get("deployment", 0)
    sim_requests = s1["total"] - s0["total"]
    r = {"name": name, "window_s": round(elapsed, 1), "load_avg": [round(x, 2) for x in (min(loads), max(loads))],
         "cpu_s": round(cpu1 - cpu0, 2), "sim_cpu_s": round(sim_cpu1 - sim_cpu0, 2),
         "rss_mib": round(mem.get("VmRSS", 0) / 1024, 1), "vmhwm_mib": round(mem.get("VmHWM", 0) / 1024, 1),
         "sim_requests": sim_requests, "sim_deployment_fields": fields,
         "sim_root_fields": {k: v - s0["rootFields"].get(k, 0) for k, v in s1["rootFields"].items()
                             if v != s0["rootFields"].get(k, 0)},
         "threads": thread_delta(threads0, threads1),
         "writer_write_calls": io1[0] - io0[0], "writer_write_bytes": io1[1] - io0[1],
         "writer_read_calls": io1[2] - io0[2]}
    if metrics_url:
        checks = m1.get("railwatch_checks_total", 0) - m0.get("railwatch_checks_total", 0)
        requests = m1.get("railwatch_railway_requests_total", 0) - m0.get("railwatch_railway_requests_total", 0)
        # One observation per poll: the status requests a poller sends together.
        polls = (m1.get("railwatch_check_request_seconds_count", 0) -
                 m0.get("railwatch_check_request_seconds_count", 0))
        q, _ = histogram_quantiles(m0, m1, "railwatch_check_delay_seconds", (0.5, 0.99))
        poll_seconds = (m1.get("railwatch_check_request_seconds_sum", 0) -
                        m0.get("railwatch_check_request_seconds_sum", 0))
        r.update({"checks": int(checks), "requests": int(requests), "polls": int(polls),
                  # From sending a poll's requests to its last answer: the next check of each
                  # instance is an interval after its answer, so this adds to each period.
                  "poll_seconds_mean": round(poll_seconds / polls, 4) if polls else None,
                  "check_errors": int(m1.get("railwatch_check_errors_total", 0) -
                                      m0.get("railwatch_check_errors_total", 0)),
                  # Health probes of running services (each an HTTP request of its own): a settled
                  # fleet's CPU is mostly theirs.
                  "probes": int(sum(v for k, v in m1.items() if k.startswith("railwatch_probes_total"))
                                - sum(v for k, v in m0.items() if k.startswith("railwatch_probes_total"))),
                  # Transitions written in the window: the store's share of the CPU grows with them
                  # (the default mix moves many deployments at once, early in a run).
                  "transitions": int(sum(v for k, v in m1.items() if k.startswith("railwatch_transitions_total"))
                                     - sum(v for k, v in m0.items() if k.startswith("railwatch_transitions_total"))),
                  "due_delay_p50_le_s": q[0.5], "due_delay_p99_le_s": q[0.99],
                  "due_delay_share_over_0_1_s": histogram_share_above(m0, m1, "railwatch_check_delay_seconds", "0.1")})
    else:
        r.update({"checks": fields, "requests": sim_requests})
    r["cpu_split"] = cpu_split(steps)
    r["checks_per_s"] = round(r["checks"] / elapsed, 1)
    r["cpu_us_per_check"] = round((cpu1 - cpu0) * 1e6 / r["checks"], 2) if r["checks"] else None
    r["requests_per_check"] = round(r["requests"] / r["checks"], 4) if r["checks"] else None
    r["sim_cpu_us_per_check"] = round((sim_cpu1 - sim_cpu0) * 1e6 / r["checks"], 2) if r["checks"] else None
    # Changes made in the window whose rows had time to appear: the tail runs on for a while.
    time.sleep(min(15.0, 2 * warmup))
    delays, missing = change_delays(sim, tsv, tail.rows, t0, t1, time.time(), 5000, 2 * interval_s)
    r.update({"changes_timed": len(delays), "changes_without_row": missing,
              "change_delay_p50_s": round(percentile(delays, 0.5), 3) if delays else None,
              "change_delay_p99_s": round(percentile(delays, 0.99), 3) if delays else None,
              "change_delay_max_s": round(max(delays), 3) if delays else None})
    return r


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--build", default="build")
    p.add_argument("--count", type=int, default=2000)
    p.add_argument("--seconds", type=float, default=60, help="measured window")
    p.add_argument("--warmup", type=float, default=20, help="after serve is ready, before the window")
    p.add_argument("--interval", type=int, default=10, help="seconds between checks in progress")
    p.add_argument("--time-scale", type=float, default=3,
                   help="simulator time scale (default 3: with setup taking 10-15 s for 100,000, most changes from "
                        "BUILDING on fall in the window)")
    p.add_argument("--mix", default='{"stuck_initializing": 70, "stuck_deploying": 20, "success": 10}')
    p.add_argument("--stuck-after", type=int, default=86400,
                   help="serve's [monitor] stuck_after_seconds (default 86400: no stall comes due in a run)")
    p.add_argument("--claim-mode", choices=["per_check", "kept"], help="serve's [monitor] claim_mode (default: serve's)")
    p.add_argument("--poll-threads", type=int, help="serve's [monitor] poll_threads (default: serve's)")
    p.add_argument("--batch-size", type=int, default=400,
                   help="serve's [railway] batch_size (its default: 400): aliases per request")
    p.add_argument("--health-interval", type=int,
                   help="serve's [monitor.health] interval_seconds (default: serve's, 60; 0: no health probes, so "
                        "the figures are the status checks' alone)")
    p.add_argument("--python-batch-size", type=int, default=50,
                   help="the Python poller's aliases per request (default: 50, issue 9's reference poller)")
    p.add_argument("--python", action="store_true", help="also run the Python poller on N fresh deployments")
    p.add_argument("--perf-seconds", type=float, default=0, help="perf record -g serve for this long")
    p.add_argument("--json", help="write the figures here")
    p.add_argument("--keep", action="store_true", help="keep the work directory (databases, logs, perf.data)")
    args = p.parse_args()

    railwatch = os.path.join(args.build, "railwatch")
    seed = os.path.join(args.build, "bench", "engine_seed_instances")
    for f in (railwatch, seed):
        if not os.access(f, os.X_OK):
            sys.exit("bench-engine: %s is missing; run: cmake --build %s --target railwatch engine_seed_instances"
                     % (f, args.build))
    mix = json.loads(args.mix)
    # SIGTERM (make interrupted, a timeout) stops the processes started here too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("bench-engine: terminated"))
    intervals = {"INITIALIZING": args.interval, "BUILDING": args.interval, "DEPLOYING": args.interval,
                 "SUCCESS": 60, "FAILED": 30, "CRASHED": 30, "default": args.interval}
    work = tempfile.mkdtemp(prefix="railwatch-engine-")
    procs = []
    results = {"count": args.count, "interval_s": args.interval, "time_scale": args.time_scale, "mix": mix,
               "intervals": intervals, "started_utc": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
               "load_avg_start": os.getloadavg(), "runs": []}
    log("machine: %d cores, %s" % (os.cpu_count(), open("/proc/cpuinfo").read().split("model name")[1]
                                    .split(":")[1].split("\n")[0].strip()))
    log("start: %s, load average %s; work dir %s" % (results["started_utc"], "%.2f %.2f %.2f" % os.getloadavg(),
                                                    work))
    try:
        sim_log = os.path.join(work, "sim.log")
        sim_proc = subprocess.Popen([railwatch, "sim", "--listen", "127.0.0.1:0", "--time-scale",
                                     str(args.time_scale)], stdout=open(sim_log, "w"), stderr=subprocess.STDOUT)
        procs.append(sim_proc)
        sim = "http://127.0.0.1:%d" % wait_listening(sim_proc, sim_log, "railwatch sim")
        http(sim + "/_sim/config", {"rateLimit": {"rps": 0, "rph": 0, "edgeRps": 0}})

        # --- railwatch serve ----------------------------------------------------------------
        tsv = os.path.join(work, "deployments.tsv")
        took = create_deployments(sim, args.count, mix, tsv)
        log("== %d deployments in the simulator (%s), time scale %g: %.1f s"
            % (args.count, json.dumps(mix), args.time_scale, took))
        db = os.path.join(work, "engine.db")
        t = time.time()
        subprocess.run([seed, "--db", "sqlite:" + db, "--input", tsv,
                        "--spread-seconds", str(args.interval)], check=True, stdout=subprocess.DEVNULL)
        log("seeded %d monitored instances: %.1f s" % (args.count, time.time() - t))
        config = os.path.join(work, "serve.toml")
        with open(config, "w") as f:
            f.write("[railway]\nrequests_per_hour = 1000000\nrequests_per_second = 1000\nbatch_size = %d\n"
                    % args.batch_size
                    + "[server]\nlisten = \"127.0.0.1:0\"\n[log]\nlevel = \"warn\"\n"
                    "[monitor]\nworker_id = \"bench\"\nstuck_after_seconds = %d\ntimeout_after_seconds = 86400\n"
                    % args.stuck_after
                    + ("claim_mode = \"%s\"\n" % args.claim_mode if args.claim_mode else "")
                    + ("poll_threads = %d\n" % args.poll_threads if args.poll_threads else "")
                    + ("[monitor.health]\ninterval_seconds = %d\n" % args.health_interval
                       if args.health_interval is not None else "")
                    + "[monitor.intervals]\n" + "".join("%s = %d\n" % kv for kv in intervals.items()))
        env = dict(os.environ, RAILWAY_API_URL=sim + "/graphql/v2", RAILWAY_API_TOKEN="sim-account-token",
                   RAILWATCH_API_TOKEN=TOKEN)
        serve_log = os.path.join(work, "serve.log")
        started = time.time()
        serve = subprocess.Popen([railwatch, "serve", "--config", config, "--db", "sqlite:" + db], env=env,
                                 stdout=open(serve_log, "w"), stderr=subprocess.STDOUT)
        procs.append(serve)
        port = wait_listening(serve, serve_log, "railwatch serve")
        tail = RowTail(db, "SELECT id, deployment_id, to_status, at FROM deployment_events "
                           "WHERE id > ? AND source = 'poll' ORDER BY id")
        tail.start()
        sampler = Sampler([serve.pid])
        sampler.start()
        log("serve ready in %.1f s; warm-up %g s, then %g s measured" % (time.time() - started, args.warmup,
                                                                         args.seconds))
        r = measure("railwatch serve", serve.pid, sim_proc.pid, sim, "http://127.0.0.1:%d/metrics" % port, tail,
                    tsv, args.interval, args.warmup, args.seconds, args.perf_seconds, work, started)
        r["rss_peak_sampled_mib"] = round(sampler.peak_rss[serve.pid] / 1024, 1)
        r["vmhwm_mib"] = round(memory_kib(serve.pid)["VmHWM"] / 1024, 1)
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
        tail.stop.set()
        sampler.stop.set()
        results["runs"].append(r)
        report(r)

        # --- the Python poller --------------------------------------------------------------
        if args.python:
            tsv = os.path.join(work, "python.tsv")
            took = create_deployments(sim, args.count, mix, tsv)
            log("== %d fresh deployments for the Python poller: %.1f s" % (args.count, took))
            db = os.path.join(work, "python.db")
            started = time.time()
            py = subprocess.Popen([sys.executable, os.path.join(HERE, "python_poller.py"), "--url",
                                   sim + "/graphql/v2?source=python", "--token", "sim-account-token",
                                   "--deployments", tsv, "--db", db, "--seconds", str(args.warmup + args.seconds + 20),
                                   "--intervals", json.dumps(intervals), "--spread-seconds", str(args.interval),
                                   "--batch", str(args.python_batch_size)],
                                  stdout=subprocess.PIPE, stderr=open(os.path.join(work, "python.log"), "w"))
            procs.append(py)
            tail = RowTail(db, "SELECT id, deployment_id, to_status, at FROM changes WHERE id > ? ORDER BY id")
            tail.start()
            r = measure("python poller", py.pid, sim_proc.pid, sim, None, tail, tsv, args.interval,
                        args.warmup, args.seconds, 0, work,
                        started)
            out, _ = py.communicate(timeout=120)
            tail.stop.set()
            r["poller_says"] = json.loads(out.decode().strip().splitlines()[-1])
            results["runs"].append(r)
            report(r)
            serve_r = results["runs"][0]
            if r["cpu_us_per_check"] and serve_r["cpu_us_per_check"]:
                log("ratio: serve / python CPU per check %.2f, peak memory %.2f"
                    % (serve_r["cpu_us_per_check"] / r["cpu_us_per_check"], serve_r["vmhwm_mib"] / r["vmhwm_mib"]))
        results["load_avg_end"] = os.getloadavg()
        log("end: %s, load average %.2f %.2f %.2f" % ((time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),)
                                                      + os.getloadavg()))
        if args.count < 100000:
            log("the acceptance's size (docs/PERFORMANCE.md, \"Engine\"): make bench-engine ENGINE_COUNT=100000")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)
        if args.perf_seconds:
            log("perf data: %s (perf report -i %s --no-children)" % (os.path.join(work, "perf.data"),
                                                                     os.path.join(work, "perf.data")))
        return 0
    except Exception as e:  # noqa: BLE001 - report any failure of a step and clean up
        log("bench-engine: %s" % e)
        return 1
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if not args.keep and not args.perf_seconds:
            subprocess.run(["rm", "-rf", work])


def report(r):
    log("-- %s, %.0f s window (load average %s..%s)" % (r["name"], r["window_s"], r["load_avg"][0], r["load_avg"][1]))
    log("   checks/s %s | CPU us/check %s (sim %s) | requests/check %s | peak memory (VmHWM) %s MiB, RSS %s MiB"
        % (r["checks_per_s"], r["cpu_us_per_check"], r["sim_cpu_us_per_check"], r["requests_per_check"],
           r["vmhwm_mib"], r["rss_mib"]))
    split = r.get("cpu_split")
    if split and split["us_per_check"] is not None:
        log("   CPU split over %d steps of %.0f s (least squares, cpu = a * checks + b * rows): a = %s us per check, "
            "b = %s us per timeline row written" % (split["steps"], split["step_s"], split["us_per_check"],
                                                    "-" if split["us_per_row"] is None else split["us_per_row"]))
    log("   CPU by thread (s, of it in the kernel, voluntary switches): %s" % ", ".join(
        "%s %.2f (%.2f, %d)" % (n, t["cpu_s"], t["system_s"], t["switches"]) for n, t in r["threads"].items()))
    log("   simulator root fields answered in the window: %s" % json.dumps(r["sim_root_fields"]))
    log("   change in the sim -> its row readable: p50 %s s, p99 %s s, max %s s over %d changes of the window "
        "(sampled truth, statuses that lasted 2 intervals; %d without a row at the end, counted at their lower bound)"
        % (r["change_delay_p50_s"], r["change_delay_p99_s"], r["change_delay_max_s"], r["changes_timed"],
           r["changes_without_row"]))
    if "due_delay_p99_le_s" in r:
        over = r.get("due_delay_share_over_0_1_s")
        log("   lateness after due time (railwatch_check_delay_seconds): p50 <= %s s, p99 <= %s s, %s over 0.1 s; "
            "%d polls (status requests sent together, %s s each on average), %d requests in all, %d check errors; "
            "%d transitions written (%.0f/s); %d health probes (%.0f/s)"
            % (r["due_delay_p50_le_s"], r["due_delay_p99_le_s"],
               "?" if over is None else "%.2f %%" % (100 * over), r["polls"], r["poll_seconds_mean"], r["requests"],
               r["check_errors"], r["transitions"], r["transitions"] / r["window_s"], r["probes"],
               r["probes"] / r["window_s"]))
        if r["transitions"]:
            log("   the store's writer: %.1f write calls, %.1f KiB written and %.1f read calls per transition "
                "(WAL, checkpoints, pages missing from its cache)"
                % (r["writer_write_calls"] / r["transitions"], r["writer_write_bytes"] / 1024 / r["transitions"],
                   r["writer_read_calls"] / r["transitions"]))


if __name__ == "__main__":
    sys.exit(main())
