#!/usr/bin/env bash
# Prepares a local D1 under STATE before the Worker serves: applies the migrations, then creates
# (or updates) the demo shop with its documented write key, the ADMIN_SECRET of worker/.dev.vars
# (stored only hashed) and its default segments. The Worker itself never migrates or creates
# shops on a request. Used by `make demo` and the end-to-end harness.
set -euo pipefail
source "$(dirname "$0")/env.sh"
STATE="$(cd "$ROOT" && mkdir -p "$1" && cd "$1" && pwd)"
DEMO_KEY="${DEMO_KEY:-pk_demo_4f9c2a7d1e}"
cd "$ROOT/worker"
[ -f .dev.vars ] || cp .dev.vars.example .dev.vars
SECRET="$(sed -n 's/^ADMIN_SECRET[[:space:]]*=[[:space:]]*"\{0,1\}\([^"]*\)"\{0,1\}[[:space:]]*$/\1/p' .dev.vars)"
[ -n "$SECRET" ] || { echo "demo-shop: ADMIN_SECRET is missing from worker/.dev.vars" >&2; exit 1; }
CI=true wrangler d1 migrations apply affinity --local --persist-to "$STATE" </dev/null >"$STATE/migrations.log" 2>&1 \
  || { cat "$STATE/migrations.log" >&2; exit 1; }
cargo run -q -p affinity-worker --bin shop-sql -- demo "Demo Shop" "$DEMO_KEY" "$SECRET" >"$STATE/demo-shop.sql"
CI=true wrangler d1 execute affinity --local --persist-to "$STATE" --file "$STATE/demo-shop.sql" </dev/null >"$STATE/demo-shop.log" 2>&1 \
  || { cat "$STATE/demo-shop.log" >&2; exit 1; }
echo "demo-shop: shop demo ready in ${STATE#$ROOT/}"
