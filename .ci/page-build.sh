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
# tests, the Worker) from rebuilding each time the flags differ. core and alloc are optimized at
# opt-level 3 before LTO (as the toolchain's prebuilt ones are): at the page's "z" the rule
# evaluator was 30 % slower (0.20-0.25 against 0.15-0.19 ms, make bench-browser), and the module
# is 851 B smaller this way.
set -euo pipefail
source "$(dirname "$0")/env.sh"
features="${1:-page}"
out="$CARGO_TARGET_DIR/page"
# PAGE_CORE=prebuilt: the toolchain's own core instead, for A/B measurements.
if [[ ",$features," == *",page,"* && "${PAGE_CORE:-}" != prebuilt ]]; then
  RUSTC_BOOTSTRAP=1 RUSTFLAGS="-Zlocation-detail=none -Zunstable-options -Cpanic=immediate-abort" \
    CARGO_TARGET_DIR="$out" cargo build --release --target wasm32-unknown-unknown -p affinity --lib \
    --features "$features" -Zbuild-std=core,alloc \
    --config profile.release.package.core.opt-level=3 --config profile.release.package.alloc.opt-level=3 >&2
else
  # With the toolchain's prebuilt core and std: a std build (e.g. BENCH_FEATURES=bench), which
  # build-std would have to rebuild std for, or PAGE_CORE=prebuilt.
  CARGO_TARGET_DIR="$out-std" cargo build --release --target wasm32-unknown-unknown -p affinity --lib \
    --features "$features" >&2
  out="$out-std"
fi
echo "$out/wasm32-unknown-unknown/release/affinity.wasm"
