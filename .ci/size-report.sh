#!/usr/bin/env bash
# Prints raw / gzip -9 / brotli -q 11 bytes of every file the shopper downloads, checks each
# against .ci/size-budget (the ratchet: exit 1 when one grew past its entry) and the design
# budgets, and reports the Worker bundle (≤ 3 MB gzip, the free plan's limit) when it is built.
set -euo pipefail
source "$(dirname "$0")/env.sh"
SITE="$ROOT/target/site"
BUDGET="$ROOT/.ci/size-budget"
row() { printf '%-26s %8s %8s %8s %s\n' "$1" "$2" "$3" "$4" "${5:-}"; }
sizes() { echo "$(wc -c <"$1") $(gzip -9c "$1" | wc -c) $(brotli -q 11 -c "$1" | wc -c)"; }
budget() { awk -v f="$1" '$1 == f { print $2 }' "$BUDGET"; }
echo "Size report (bytes)"
row file raw gzip-9 brotli-11 "budget (brotli)"
fail=0
total_raw=0; total_gz=0; total_br=0; loader_br=0
for f in affinity.js affinity_core.js affinity_core_bg.wasm; do
  read -r raw gz br <<<"$(sizes "$SITE/$f")"
  max="$(budget "$f")"
  note="$max"
  if [ -z "$max" ]; then
    note="no entry in .ci/size-budget"; fail=1
  elif [ "$br" -gt "$max" ]; then
    note="$max  GREW: $max -> $br (+$((br - max)))"; fail=1
  elif [ "$br" -lt "$max" ]; then
    note="$max  (now $br: lower the entry to $br)"
  fi
  row "$f" "$raw" "$gz" "$br" "$note"
  if [ "$f" = affinity.js ]; then loader_br=$br; else
    total_raw=$((total_raw + raw)); total_gz=$((total_gz + gz)); total_br=$((total_br + br)); fi
done
row "wasm + glue" "$total_raw" "$total_gz" "$total_br"
echo "design budgets: loader <= 2048 brotli ($([ "$loader_br" -le 2048 ] && echo met || echo MISSED: $loader_br))," \
  "wasm + glue <= 30720 brotli ($([ "$total_br" -le 30720 ] && echo met || echo "not met yet: $total_br"))"

# The Worker bundle: what `worker-build --release` wrote (after `make e2e` or a worker build).
if [ -d "$ROOT/worker/build" ]; then
  wraw=0; wgz=0
  while IFS= read -r -d '' f; do
    read -r raw gz _ <<<"$(sizes "$f")"
    wraw=$((wraw + raw)); wgz=$((wgz + gz))
  done < <(find "$ROOT/worker/build" -type f \( -name '*.js' -o -name '*.mjs' -o -name '*.wasm' \) -print0)
  limit=$((3 * 1024 * 1024))
  echo "worker bundle (worker/build): $wraw raw, $wgz gzip-9 (limit $limit gzip:" \
    "$([ "$wgz" -le "$limit" ] && echo met || echo EXCEEDED))"
  [ "$wgz" -le "$limit" ] || fail=1
else
  echo "worker bundle: not built (worker/build is made by the e2e run or worker-build --release)"
fi
if [ "$fail" -ne 0 ]; then
  echo "size report: FAILED (a file grew past .ci/size-budget, or a limit is exceeded)" >&2
  exit 1
fi
