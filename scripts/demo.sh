#!/usr/bin/env bash
# `make demo`: runs what railwatch has today on one machine, with no Railway account:
#   1. the bundled Railway simulator (`railwatch sim`, examples/demo.json: a 5-minute deploy in 5 s),
#   2. `railwatch watch`, the CI gate, on one deployment of each outcome, side by side,
#   3. then leaves the simulator running so you can try commands yourself; Ctrl-C stops it.
set -euo pipefail
build=${1:-build}
bin="$build/railwatch"
workdir=$(mktemp -d)
sim_pid=""
cleanup() {
  if [[ -n "$sim_pid" ]] && kill -0 "$sim_pid" 2>/dev/null; then
    kill -INT "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'echo; echo "demo: stopping"; exit 0' INT TERM

"$bin" sim --listen 127.0.0.1:0 --scenario examples/demo.json >"$workdir/sim.out" 2>"$workdir/sim.err" &
sim_pid=$!
for _ in $(seq 1 100); do
  grep -q 'listening on' "$workdir/sim.out" 2>/dev/null && break
  sleep 0.1
done
url=$(sed -n "s|^railwatch sim listening on \(http:[^ ]*\)$|\1|p" "$workdir/sim.out")
if [[ -z "$url" ]]; then
  echo "demo: the simulator did not start:" >&2
  cat "$workdir/sim.err" >&2
  exit 1
fi
echo "demo: Railway simulator at $url"

export RAILWAY_API_URL="$url/graphql/v2"
export RAILWAY_API_TOKEN=sim-account-token
unset RAILWAY_TOKEN

create() {  # kind [reason] -> prints the new deployment id
  local body="{\"kind\":\"$1\"${2:+,\"reason\":\"$2\"}}"
  curl -sf -X POST -H 'Content-Type: application/json' -d "$body" "$url/_sim/deployments" |
    sed -n 's/.*"ids":\["\([^"]*\)".*/\1/p'
}

declare -A cases=(
  [success]="success"
  [build_failed]="build_failed npm_elifecycle"
  [deploy_failed]="deploy_failed healthcheck"
  [crash_after_success]="crash_after_success oom"
  [stuck_deploying]="stuck_deploying"
)
order=(success build_failed deploy_failed crash_after_success stuck_deploying)
declare -A ids pids
for name in "${order[@]}"; do
  # shellcheck disable=SC2086
  ids[$name]=$(create ${cases[$name]})
done

echo "demo: watching ${#order[@]} deployments with 'railwatch watch' (a stall limit of 20 s for the stuck one)"
for name in "${order[@]}"; do
  extra=()
  [[ $name == stuck_deploying ]] && extra=(--stall 20s --timeout 60s)
  "$bin" watch "${ids[$name]}" --interval 1s "${extra[@]}" >"$workdir/$name.log" 2>&1 &
  pids[$name]=$!
done
for name in "${order[@]}"; do
  set +e
  wait "${pids[$name]}"
  rc=$?
  set -e
  echo
  echo "── $name (deployment ${ids[$name]}): railwatch watch exited $rc"
  sed 's/^/   /' "$workdir/$name.log" | tail -n 12
done

cat <<MSG

demo: exit codes are the CI contract: 0 success, 1 failed/crashed, 2 timeout or stall, 3 API error.
demo: the simulator keeps running at $url; in another shell try:
  export RAILWAY_API_URL=$RAILWAY_API_URL RAILWAY_API_TOKEN=$RAILWAY_API_TOKEN
  curl -s -X POST -d '{"kind":"crash_loop","reason":"missing_env"}' $url/_sim/deployments
  $bin watch <id>
demo: Ctrl-C stops it.
MSG
wait "$sim_pid"
