#!/usr/bin/env bash
# `make load`: ingest under load against the real Worker (wrangler dev → workerd, local D1 and
# Durable Objects in a fresh folder), 127.0.0.1 only, bounded in time. Prints the trivial route
# (CORS preflight) and `POST /v1/batch` (10-event batches of one customer each, fresh message
# ids, spread over many customers) side by side: requests/s, p50 / p99, errors, workerd CPU per
# request; then waits for the objects to mirror to D1 and checks that every acknowledged event
# is counted at the edge.  LOAD_SECONDS (default 15), LOAD_CONNECTIONS (16), LOAD_THREADS (2);
# Each row is followed by the CPU per request of each workerd process (wrangler dev runs two: its
# entry proxy, and the Worker with its Durable Objects and the local D1, on one thread).
# LOAD_WRANGLER_ARGS passes more arguments to wrangler dev (e.g. `--var NAME:VALUE`).
# LOAD_PROFILE=1 also CPU-profiles the Worker's isolate during the batch run (benches/load/profile.mjs,
# written to target/load.cpuprofile).
set -euo pipefail
source "$(dirname "$0")/../../.ci/env.sh"
command -v wrk >/dev/null || { apt-get update -qq >/dev/null && apt-get install -y -qq wrk >/dev/null; }
SECONDS_RUN="${LOAD_SECONDS:-15}"; CONN="${LOAD_CONNECTIONS:-16}"; THREADS="${LOAD_THREADS:-2}"
PORT="${LOAD_PORT:-8797}"; EDGE="http://127.0.0.1:$PORT"
# The local state lives in memory (/dev/shm) unless LOAD_STATE_ROOT says otherwise: on disk, every
# object and D1 commit waits for this machine's fsync, which under other I/O took ~60 ms per batch
# and measured the VM's disk, not the Worker (Cloudflare's storage is not a local file).
ROOT_DIR="${LOAD_STATE_ROOT:-/dev/shm}"; [ -w "$ROOT_DIR" ] || ROOT_DIR=/tmp
STATE="$(mktemp -d "$ROOT_DIR/affinity-load-XXXXXX")"
bash "$ROOT/.ci/migrate.sh" "$STATE"
# LOAD_WORKER_DIR: a prebuilt copy of worker/ to serve instead (for A/B runs of two builds in
# the same minutes: its wrangler.toml without [build]).
cd "${LOAD_WORKER_DIR:-$ROOT/worker}"
INSPECT=(); [ -n "${LOAD_PROFILE:-}" ] && INSPECT=(--inspector-port "${LOAD_INSPECTOR_PORT:-9241}")
CI=true setsid wrangler dev --ip 127.0.0.1 --port "$PORT" --persist-to "$STATE" "${INSPECT[@]}" \
  --show-interactive-dev-session=false ${LOAD_WRANGLER_ARGS:-} </dev/null >"$STATE/wrangler.log" 2>&1 &
WRANGLER=$!
trap 'kill -- -$WRANGLER 2>/dev/null || true; rm -rf "$STATE"' EXIT
bash "$ROOT/.ci/demo-shop.sh" "$EDGE" >/dev/null
curl -fs -o /dev/null "$EDGE/v1/config?key=pk_demo_4f9c2a7d1e" || { tail -30 "$STATE/wrangler.log"; exit 1; }
workerd_cpu() { # user + system ticks of this run's workerd processes (its session: not other runs')
  local t=0; for p in $(pgrep -s "$WRANGLER" workerd); do
    read -r -a f <"/proc/$p/stat"; t=$((t + f[13] + f[14])); done; echo "$t"; }
per_process() { # "pid:ticks" of each workerd process
  for p in $(pgrep -s "$WRANGLER" workerd); do read -r -a f <"/proc/$p/stat"; printf '%s:%s ' "$p" "$((f[13] + f[14]))"; done; }
TICK=$(getconf CLK_TCK)
row() { printf '%-22s %9s %9s %9s %8s %8s %14s\n' "$@"; }
measure() { # name, lua, path, method
  local before after out
  before=$(workerd_cpu); local pb; pb=$(per_process)
  out=$(LOAD_DIR="$here" LOAD_RUN="r$RANDOM$RANDOM" wrk -t"$THREADS" -c"$CONN" -d"${SECONDS_RUN}s" --latency -s "$2" "$EDGE$3" | grep '^RESULT')
  after=$(workerd_cpu); local pa; pa=$(per_process)
  local requests rps p50 p99 ok non200 errs
  requests=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$out"); rps=$(sed 's/.*rps=\([0-9.]*\).*/\1/' <<<"$out")
  p50=$(sed 's/.*p50_ms=\([0-9.]*\).*/\1/' <<<"$out"); p99=$(sed 's/.*p99_ms=\([0-9.]*\).*/\1/' <<<"$out")
  ok=$(sed 's/.*ok=\([0-9]*\).*/\1/' <<<"$out"); non200=$(sed 's/.*non200=\([0-9]*\).*/\1/' <<<"$out")
  errs=$(sed 's/.*socket_errors=\([0-9]*\).*/\1/' <<<"$out")
  local cpu_ms; cpu_ms=$(awk -v a="$before" -v b="$after" -v t="$TICK" -v n="$requests" 'BEGIN{printf "%.2f", (b-a)*1000/t/(n>0?n:1)}')
  row "$1" "$rps" "$p50" "$p99" "$non200" "$errs" "$cpu_ms"
  local split="" p t0
  for entry in $pa; do
    p=${entry%%:*}; t0=$(tr ' ' '\n' <<<"$pb" | sed -n "s/^$p://p"); t0=${t0:-0}
    split+=$(awk -v a="$t0" -v b="${entry#*:}" -v t="$TICK" -v n="$requests" 'BEGIN{printf " %.2f", (b-a)*1000/t/(n>0?n:1)}')
  done
  echo "  ms CPU per request by workerd process:$split"
  eval "${4}_RPS=$rps; ${4}_OK=$ok; ${4}_BAD=$((non200 + errs))"
}
here="$ROOT/benches/load"
echo "load: ${SECONDS_RUN}s each, $THREADS threads, $CONN connections, 127.0.0.1:$PORT ($(nproc) cores), state in $ROOT_DIR"
row route req/s p50_ms p99_ms non-2xx sock_err cpu_ms/request
measure "OPTIONS /v1/batch" "$here/preflight.lua" /v1/batch PRE
if [ -n "${LOAD_PROFILE:-}" ]; then
  node "$here/profile.mjs" "${LOAD_INSPECTOR_PORT:-9241}" "$((SECONDS_RUN * 2 / 3))" "$ROOT/target/load.cpuprofile" \
    >"$STATE/profile.txt" 2>&1 &
  PROFILER=$!
fi
measure "POST /v1/batch (10 ev)" "$here/batch.lua" /v1/batch BATCH
[ -n "${PROFILER:-}" ] && { wait "$PROFILER" || true; cat "$STATE/profile.txt"; }
awk -v b="$BATCH_RPS" -v p="$PRE_RPS" 'BEGIN{printf "batch / preflight requests/s: %.1f%%\n", 100*b/p}'
# Every acknowledged event must reach D1 (the objects deliver their outbox from alarms).
want=$((BATCH_OK * 10)); got=0
for _ in $(seq 1 120); do
  got=$(CI=true wrangler d1 execute affinity --local --persist-to "$STATE" --json \
    --command "SELECT COUNT(*) AS n FROM events WHERE customer_id LIKE 'load-%'" </dev/null 2>/dev/null \
    | tr -d ' \n' | sed 's/.*"n":\([0-9]*\).*/\1/')
  [ "${got:-0}" -ge "$want" ] && break
  sleep 2
done
# Requests still in flight when wrk stops are applied but never acknowledged: D1 may hold more
# than was acknowledged (message ids are unique there), never fewer.
echo "acknowledged events: $want; counted in D1: $got"
[ "$BATCH_BAD" -eq 0 ] || { echo "load: $BATCH_BAD failed batch requests"; exit 1; }
[ "${got:-0}" -ge "$want" ] || { echo "load: acknowledged events missing at the edge"; exit 1; }
echo "load: ok"
