#!/usr/bin/env bash
# Prints raw / gzip -9 / brotli -q 11 bytes of every file the shopper downloads.
set -euo pipefail
source "$(dirname "$0")/env.sh"
SITE="$ROOT/target/site"
row() { printf '%-26s %8s %8s %8s\n' "$1" "$2" "$3" "$4"; }
sizes() { echo "$(wc -c <"$1") $(gzip -9c "$1" | wc -c) $(brotli -q 11 -c "$1" | wc -c)"; }
echo "Size report (bytes)"
row file raw gzip-9 brotli-11
total_raw=0; total_gz=0; total_br=0
for f in affinity.js affinity_core.js affinity_core_bg.wasm; do
  read -r raw gz br <<<"$(sizes "$SITE/$f")"
  row "$f" "$raw" "$gz" "$br"
  if [ "$f" != affinity.js ]; then total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz)); total_br=$((total_br + br)); fi
done
row "wasm + glue" "$total_raw" "$total_gz" "$total_br"
echo "budgets (enforced by a later issue): loader <= 2048 brotli, wasm + glue <= 30720 brotli"
