#!/usr/bin/env python3
"""Ten services deploying at once on Railway's Hobby limits (10 requests a second, 1,000 an hour,
enforced by the simulator and configured in serve): what serve reads and stores of their logs and
steps while it follows them through their lifecycle.

Starts `railwatch sim` (time scale 3), creates the deployments (`success`), seeds their instances
as the engine bench does, runs `railwatch serve` on SQLite for --seconds, then prints one JSON line:
the requests the simulator answered, its root fields by name, the status rows written and, per
instance, its deployment status and its stored build lines, deploy lines and steps.

    python3 bench/engine/hobby_wave.py --build build-rel [--count 10] [--seconds 240]
"""
import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import engine_bench as eb  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build", default="build")
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--seconds", type=float, default=240)
    args = p.parse_args()
    railwatch = os.path.join(args.build, "railwatch")
    seed = os.path.join(args.build, "bench", "engine_seed_instances")
    work = tempfile.mkdtemp(prefix="railwatch-hobby-")
    procs = []
    try:
        sim_log = os.path.join(work, "sim.log")
        sim_proc = subprocess.Popen([railwatch, "sim", "--listen", "127.0.0.1:0", "--time-scale", "3"],
                                    stdout=open(sim_log, "w"), stderr=subprocess.STDOUT)
        procs.append(sim_proc)
        sim = "http://127.0.0.1:%d" % eb.wait_listening(sim_proc, sim_log, "railwatch sim")
        eb.http(sim + "/_sim/config", {"rateLimit": {"rps": 10, "rph": 1000}})
        tsv = os.path.join(work, "deployments.tsv")
        eb.create_deployments(sim, args.count, {"success": 100}, tsv)
        db = os.path.join(work, "hobby.db")
        subprocess.run([seed, "--db", "sqlite:" + db, "--input", tsv, "--spread-seconds", "1"], check=True,
                       stdout=subprocess.DEVNULL)
        config = os.path.join(work, "serve.toml")
        with open(config, "w") as f:
            f.write("[railway]\nrequests_per_hour = 1000\nrequests_per_second = 10\n"
                    "[server]\nlisten = \"127.0.0.1:0\"\n[log]\nlevel = \"warn\"\n[monitor]\nworker_id = \"hobby\"\n")
        env = dict(os.environ, RAILWAY_API_URL=sim + "/graphql/v2", RAILWAY_API_TOKEN="sim-account-token",
                   RAILWATCH_API_TOKEN=eb.TOKEN)
        before = json.loads(eb.http(sim + "/_sim/stats"))
        serve_log = os.path.join(work, "serve.log")
        serve = subprocess.Popen([railwatch, "serve", "--config", config, "--db", "sqlite:" + db], env=env,
                                 stdout=open(serve_log, "w"), stderr=subprocess.STDOUT)
        procs.append(serve)
        eb.wait_listening(serve, serve_log, "railwatch serve")
        time.sleep(args.seconds)
        after = json.loads(eb.http(sim + "/_sim/stats"))
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=60)
        conn = sqlite3.connect(db)
        instances = conn.execute(
            "SELECT i.deployment_status, "
            "(SELECT COUNT(*) FROM log_lines g WHERE g.instance_id = i.id AND g.kind = 'build'), "
            "(SELECT COUNT(*) FROM log_lines g WHERE g.instance_id = i.id AND g.kind = 'deploy'), "
            "(SELECT COUNT(*) FROM deployment_steps s WHERE s.instance_id = i.id) FROM instances i ORDER BY i.id"
        ).fetchall()
        status_rows = conn.execute("SELECT COUNT(*) FROM deployment_events WHERE source = 'poll'").fetchone()[0]
        fields = {k: v - before["rootFields"].get(k, 0) for k, v in after["rootFields"].items()}
        print(json.dumps({"build": args.build, "requests": after["total"] - before["total"], "rootFields": fields,
                          "status_rows": status_rows,
                          "instances": [{"status": s, "build_lines": b, "deploy_lines": d, "steps": n}
                                        for s, b, d, n in instances]}))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
