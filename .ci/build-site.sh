#!/usr/bin/env bash
# Builds what the Worker serves as static assets into target/site: the demo shop, the loader
# (/affinity.js) and the page module (/affinity_core.js + /affinity_core_bg.wasm).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
OUT="$ROOT/target/site"
PKG="$ROOT/target/pkg"

# The page crate on its own: building it with the Worker would unify features (pitfall 11).
# .ci/page-build.sh says how (its own core and alloc, panics that trap at once).
WASM="$(bash .ci/page-build.sh page)"
rm -rf "$PKG"
wasm-bindgen --target web --out-name affinity_core --no-typescript --out-dir "$PKG" "$WASM"
# With short import, export and module names instead of wasm-bindgen's hashed ones (~95 in each
# file); the glue's side is renamed from the mapping wasm-opt prints (the first one: --converge
# repeats the pass, which then maps each name to itself), then the glue is minified.
# The optimization flags (.ci/wasm-opt-flags, shared with make bench-browser):
# --low-memory-unused: no access touches the first 1 KiB (Rust's data starts at 1 MiB above a stack
#   that grows down from there), so constant offsets fold into loads and stores.
# (Less wasm-opt inlining is 1.3-1.8 KB smaller in brotli but slows the rule evaluator by a third:
# BENCHMARKS.md, "Size".)
read -r -a OPT_FLAGS <<<"$(grep -v '^#' "$ROOT/.ci/wasm-opt-flags")"
wasm-opt "${OPT_FLAGS[@]}" --strip-debug --strip-producers \
  --minify-imports-and-exports-and-modules --strip-target-features "$PKG/affinity_core_bg.wasm" -o "$PKG/affinity_core_bg.wasm" >"$PKG/names.json"
node .ci/minify-glue.mjs "$PKG/affinity_core.js" "$PKG/names.json" "$PKG/affinity_core_bg.wasm"
rm "$PKG/names.json"
# --bundle: the JS snippets of `#[wasm_bindgen(inline_js)]` (target/pkg/snippets) become part of
# the one glue file.
"$ESBUILD_BIN" "$PKG/affinity_core.js" --bundle --minify --format=esm --target=es2020 \
  --log-level=warning --allow-overwrite --outfile="$PKG/affinity_core.js"
rm -rf "$PKG/snippets"

rm -rf "$OUT"
node demo-site/build.mjs "$OUT"
cp "$PKG/affinity_core.js" "$PKG/affinity_core_bg.wasm" "$OUT/"
"$ESBUILD_BIN" pkg-template/loader.js --minify --target=es2018 --log-level=warning --outfile="$OUT/affinity.js"
# The npm package's dist/ (pkg-template/README.md).
mkdir -p pkg-template/dist
cp "$OUT/affinity.js" "$PKG/affinity_core.js" "$PKG/affinity_core_bg.wasm" pkg-template/affinity.d.ts pkg-template/dist/
echo "site: built into ${OUT#$ROOT/}"
