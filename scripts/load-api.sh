#!/usr/bin/env bash
# The REST API under load, on loopback (docs/PERFORMANCE.md, "API and stream load"). Run by
# `make load`, which builds what it needs first: the railwatch binary, load_seed_instances and
# load_stream_clients (bench/load/).
#
#   scripts/load-api.sh [BUILD_DIR]
#
# Part 1, reads: a SQLite store with 100,000 instances (LOAD_INSTANCES), each with 20 health checks
# (LOAD_CHECKS), written through the store API; `railwatch serve` on it, and `wrk` (LOAD_SECONDS
# per target, LOAD_CONNECTIONS connections, 2 threads) against, in this order:
#   - a trivial server: node's http module answering {"ok":true} (one process, one core);
#   - the same serve's /healthz (our HTTP stack, no store);
#   - GET /api/v1/instances (default limit 50: the newest page);
#   - GET /api/v1/instances?limit=100&cursor=... (a page in the middle of the fleet).
# The instances are not monitored (monitoring off): this part measures the API's reads, and
# 100,000 due instances would keep the engine busy polling the simulator.
#
# Part 2, streams: a fresh store, the simulator (`railwatch sim`, rate limits off, time scale
# 10) and serve with [server] max_streams = 256. LOAD_STREAMS (200) event streams are opened,
# then 1,000 deployments of mixed lifecycles are created in the simulator and added as instances
# (checked every 2 s), and for LOAD_STREAM_SECONDS (60) /metrics is fetched every 50 ms on a new
# connection while the engine follows the fleet. Prints streams accepted / receiving transitions
# and the /metrics latency (p50, p99, max).
#
# Exit status: non-zero when a step fails or part 2 finds a stream without transitions or a
# failed /metrics request.
set -euo pipefail

build=${1:-build}
instances=${LOAD_INSTANCES:-100000}
checks=${LOAD_CHECKS:-20}
seconds=${LOAD_SECONDS:-15}
connections=${LOAD_CONNECTIONS:-32}
streams=${LOAD_STREAMS:-200}
stream_seconds=${LOAD_STREAM_SECONDS:-60}
token=load-api-token-0123456789abcdef

railwatch="$build/railwatch"
seed="$build/bench/load_seed_instances"
stream_clients="$build/bench/load_stream_clients"
for f in "$railwatch" "$seed" "$stream_clients"; do
  if [[ ! -x "$f" ]]; then
    echo "load-api: $f is missing; run: cmake --build $build --target railwatch load_seed_instances load_stream_clients" >&2
    exit 1
  fi
done
for tool in wrk curl node python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "load-api: $tool is not installed; run scripts/install-deps.sh" >&2
    exit 1
  fi
done

work=$(mktemp -d -t railwatch-load-XXXXXX)
pids=()
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# Waits for "<what> listening on http://127.0.0.1:PORT" in a log and prints the port.
wait_port() {
  local log=$1 pid=$2
  for _ in $(seq 1 600); do
    local port
    port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$log" | head -n1)
    if [[ -n "$port" ]]; then
      echo "$port"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "load-api: the process writing $log died:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "load-api: nothing listened after 60 s; see $log" >&2
  return 1
}

# CPU seconds (user + system) a process used so far.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"
}

# Runs wrk against a URL and prints one summary line; $1 names the target, $2 is the pid whose
# CPU time per request is reported (or empty), the rest go to wrk.
results=()
bench() {
  local name=$1 pid=$2
  shift 2
  local before=0 after=0
  [[ -n "$pid" ]] && before=$(cpu_seconds "$pid")
  local out
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "$@")
  [[ -n "$pid" ]] && after=$(cpu_seconds "$pid")
  local rps requests p50 p99 non2xx cpu
  rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
  requests=$(awk '/requests in/ { print $1 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  non2xx=$(awk '/Non-2xx/ { print $NF }' <<<"$out")
  cpu="-"
  if [[ -n "$pid" && "$requests" -gt 0 ]]; then
    cpu=$(awk -v a="$before" -v b="$after" -v n="$requests" 'BEGIN { printf "%.3f", (b - a) * 1000 / n }')
  fi
  results+=("$(printf '%-34s %10s req/s  p50 %8s  p99 %8s  server CPU %6s ms/req  non-2xx %s' \
    "$name" "$rps" "$p50" "$p99" "$cpu" "${non2xx:-0}")")
  echo "${results[-1]}"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr)"
echo "start: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# The simulator serves both parts (part 1's engine has nothing to check; it needs a Railway URL).
"$railwatch" sim --listen 127.0.0.1:0 --time-scale 10 >"$work/sim.log" 2>&1 &
pids+=($!)
sim_port=$(wait_port "$work/sim.log" "${pids[-1]}")
sim="http://127.0.0.1:$sim_port"
curl -sf -X POST "$sim/_sim/config" -d '{"rateLimit":{"rps":0,"rph":0,"edgeRps":0}}' >/dev/null
export RAILWAY_API_URL="$sim/graphql/v2" RAILWAY_API_TOKEN=sim-account-token RAILWATCH_API_TOKEN=$token

# --- part 1: reads -------------------------------------------------------------------------------
echo "== part 1: $instances instances, $checks health checks each; wrk -t2 -c$connections -d${seconds}s"
"$seed" --db "sqlite:$work/instances.db" --count "$instances" --checks "$checks"

cat >"$work/read.toml" <<EOF
[server]
listen = "127.0.0.1:0"
http_workers = $((connections + 16))
[log]
level = "warn"
EOF
"$railwatch" serve --config "$work/read.toml" --db "sqlite:$work/instances.db" >"$work/serve-read.log" 2>&1 &
serve_pid=$!
pids+=("$serve_pid")
port=$(wait_port "$work/serve-read.log" "$serve_pid")
api="http://127.0.0.1:$port"
auth="Authorization: Bearer $token"

node -e 'require("http").createServer((q, s) => { s.setHeader("Content-Type", "application/json"); s.end("{\"ok\":true}"); })
  .listen(0, "127.0.0.1", function () { console.log("trivial listening on http://127.0.0.1:" + this.address().port); })' \
  >"$work/trivial.log" 2>&1 &
pids+=($!)
trivial_port=$(wait_port "$work/trivial.log" "${pids[-1]}")

# A cursor in the middle of the fleet: page through half of it, 500 at a time.
cursor=$(python3 - "$api" "$token" "$((instances / 2))" <<'EOF'
import json, sys, urllib.request
api, token, skip = sys.argv[1], sys.argv[2], int(sys.argv[3])
cursor, seen = None, 0
while seen < skip:
    url = api + "/api/v1/instances?limit=500" + ("&cursor=" + cursor if cursor else "")
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
    page = json.load(urllib.request.urlopen(req))
    seen += len(page["items"])
    cursor = page["nextCursor"]
    if cursor is None:
        break
print(cursor or "")
EOF
)
page_bytes=$(curl -sf -H "$auth" "$api/api/v1/instances" | wc -c)
deep_bytes=$(curl -sf -H "$auth" "$api/api/v1/instances?limit=100&cursor=$cursor" | wc -c)
echo "answers: default page $page_bytes bytes, limit=100 page $deep_bytes bytes"

bench "trivial server (node http)" "" "http://127.0.0.1:$trivial_port/"
bench "serve /healthz" "$serve_pid" "$api/healthz"
bench "serve /api/v1/instances" "$serve_pid" -H "$auth" "$api/api/v1/instances"
bench "serve /api/v1/instances?limit=100&cursor" "$serve_pid" -H "$auth" "$api/api/v1/instances?limit=100&cursor=$cursor"
echo "load average after part 1: $(cut -d' ' -f1-3 /proc/loadavg)"
kill "$serve_pid"
wait "$serve_pid" 2>/dev/null || true

# --- part 2: streams -----------------------------------------------------------------------------
echo "== part 2: $streams event streams, 1000 deployments in the simulator, /metrics every 50 ms for ${stream_seconds}s"
cat >"$work/stream.toml" <<EOF
[railway]
requests_per_hour = 1000000
requests_per_second = 1000
[server]
listen = "127.0.0.1:0"
max_streams = 256
[monitor.intervals]
INITIALIZING = 2
BUILDING = 2
DEPLOYING = 2
SUCCESS = 2
FAILED = 2
CRASHED = 2
default = 2
[log]
level = "warn"
EOF
"$railwatch" serve --config "$work/stream.toml" --db "sqlite:$work/streams.db" >"$work/serve-streams.log" 2>&1 &
serve_pid=$!
pids+=("$serve_pid")
port=$(wait_port "$work/serve-streams.log" "$serve_pid")
api="http://127.0.0.1:$port"
echo "serve threads: $(find "/proc/$serve_pid/task" -mindepth 1 -maxdepth 1 | wc -l)"

"$stream_clients" --port "$port" --token "$token" --clients "$streams" --seconds "$stream_seconds" \
  >"$work/streams.out" 2>&1 &
clients_pid=$!
pids+=("$clients_pid")
sleep 2

# The fleet: 1,000 deployments whose lifecycles run through every outcome at time scale 10,
# added to serve as instances while the streams are open.
python3 - "$sim" "$api" "$token" <<'EOF'
import json, sys, urllib.request
sim, api, token = sys.argv[1], sys.argv[2], sys.argv[3]
def call(url, body=None, headers={}):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **headers})
    return json.load(urllib.request.urlopen(req))
mix = {"success": 50, "build_failed": 10, "deploy_failed": 10, "crash_after_success": 10, "crash_loop": 10,
       "sleeping": 5, "removed": 5}
ids = call(sim + "/_sim/deployments", {"count": 1000, "mix": mix})["ids"]
truth = {d["id"]: d for d in call(sim + "/_sim/truth")["deployments"]}
for i in ids:
    d = truth[i]
    call(api + "/api/v1/instances",
         {"serviceId": d["serviceId"], "environmentId": d["environmentId"], "deploymentId": i,
          "checkIntervalSeconds": 2},
         {"Authorization": "Bearer " + token})
print("fleet: %d deployments added as instances" % len(ids))
EOF

status=0
wait "$clients_pid" || status=$?
cat "$work/streams.out"
echo "end: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== summary"
printf '%s\n' "${results[@]}"
grep -E '^(streams|/metrics)' "$work/streams.out" || true
exit "$status"
