#!/usr/bin/env bash
# Creates the demo shop through the operator API once the edge at EDGE answers (id `demo`, the
# documented write key pk_demo_4f9c2a7d1e, the ADMIN_SECRET of worker/.dev.vars), the same way an
# operator creates any shop (`worker/shop.mjs create`); a shop that exists is left as it is.
set -euo pipefail
source "$(dirname "$0")/env.sh"
EDGE="${1:-http://127.0.0.1:8787}"
VARS="$ROOT/worker/.dev.vars"
secret() { sed -n "s/^$1[[:space:]]*=[[:space:]]*\"\{0,1\}\([^\"]*\)\"\{0,1\}[[:space:]]*\$/\1/p" "$VARS"; }
for _ in $(seq 1 600); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS "$EDGE/v1/batch")" = 204 ] && break
  sleep 0.5
done
node "$ROOT/worker/shop.mjs" --edge "$EDGE" --secret "$(secret OPERATOR_SECRET)" create --if-missing \
  --id demo --name "Demo Shop" --key pk_demo_4f9c2a7d1e --admin-secret "$(secret ADMIN_SECRET)" >/dev/null
echo "demo-shop: shop demo ready at $EDGE"
