#!/usr/bin/env bash
# Applies the D1 migrations to a local D1 under STATE before the Worker serves: the Worker never
# migrates on a request. Used by `make demo`, the end-to-end harness and `make load`; shops are
# created afterwards through the operator API (`worker/shop.mjs`).
set -euo pipefail
source "$(dirname "$0")/env.sh"
STATE="$(cd "$ROOT" && mkdir -p "$1" && cd "$1" && pwd)"
cd "$ROOT/worker"
CI=true wrangler d1 migrations apply affinity --local --persist-to "$STATE" </dev/null >"$STATE/migrations.log" 2>&1 \
  || { cat "$STATE/migrations.log" >&2; exit 1; }
