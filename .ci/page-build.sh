#!/usr/bin/env bash
# Builds the page crate for wasm32 with the features given ($1, default `page`) and prints the
# path of the module it wrote. Used by .ci/build-site.sh (what ships) and make bench-browser (what
# is timed), so both compile the same way.
#
# A `page` build compiles its own `core` and `alloc` with panic = immediate-abort and no panic
# locations (-Zbuild-std, -Cpanic=immediate-abort, -Zlocation-detail=none): a panic traps at once,
# as the page's panic handler did, but core's own bounds and overflow checks no longer format
# their message, so `core::fmt` and every panic site's file/line record leave the module
# (-2,427 B brotli when it came in, BENCHMARKS.md "Size"). These are unstable flags, accepted by
# the stable compiler under RUSTC_BOOTSTRAP=1 for this one build only; they need the `rust-src`
# component (.ci/setup.sh adds it). Its own target folder keeps the other wasm32 builds (browser
# tests, the Worker) from rebuilding each time the flags differ.
set -euo pipefail
source "$(dirname "$0")/env.sh"
features="${1:-page}"
out="$CARGO_TARGET_DIR/page"
if [[ ",$features," == *",page,"* ]]; then
  RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zlocation-detail=none -Zunstable-options -Cpanic=immediate-abort" \
    CARGO_TARGET_DIR="$out" cargo build --release --target wasm32-unknown-unknown -p affinity --lib \
    --features "$features" -Zbuild-std=core,alloc >&2
else
  # The std build (e.g. BENCH_FEATURES=bench) links std, which build-std would rebuild too.
  CARGO_TARGET_DIR="$out-std" cargo build --release --target wasm32-unknown-unknown -p affinity --lib \
    --features "$features" >&2
  out="$out-std"
fi
echo "$out/wasm32-unknown-unknown/release/affinity.wasm"
