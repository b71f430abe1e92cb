#!/usr/bin/env bash
# make size-floor: the page module with the engine alone (benches/page-floor/floor.rs says what
# it keeps), beside the shipped one, in brotli -q 11 bytes. Builds a copy of the working tree's
# crate in target/floor-src with the seam replaced, in its own target folder, through the same
# steps as .ci/build-site.sh (page build, wasm-bindgen, the shipped wasm-opt flags, esbuild).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
SRC="$ROOT/target/floor-src"
rm -rf "$SRC" && mkdir -p "$SRC"
git ls-files -z | xargs -0 cp --parents -t "$SRC" 2>/dev/null || true
cp benches/page-floor/floor.rs "$SRC/src/browser/mod.rs"
(cd "$SRC/src/browser" && ls | grep -vxE 'mod.rs|alloc.rs|sys.rs' | xargs rm -f)
read -r -a OPT_FLAGS <<<"$(grep -v '^#' .ci/wasm-opt-flags)"
br() { brotli -q 11 -c "$1" | wc -c; }
row() { printf '%-44s %8s %8s %8s\n' "$@"; }
row "page module" "wasm" "glue" "sum"
for variant in full min; do
  env_min=(); [ "$variant" = min ] && env_min=(AFFINITY_FLOOR_MIN=1)
  WASM="$(cd "$SRC" && env "${env_min[@]}" CARGO_TARGET_DIR="$ROOT/target/floor" bash .ci/page-build.sh page 2>/dev/null)"
  OUT="$ROOT/target/floor-$variant"
  rm -rf "$OUT"
  wasm-bindgen --target web --out-name f --no-typescript --out-dir "$OUT" "$WASM"
  wasm-opt "${OPT_FLAGS[@]}" --strip-debug --strip-producers --minify-imports-and-exports-and-modules \
    --strip-target-features "$OUT/f_bg.wasm" -o "$OUT/f_bg.wasm" >/dev/null
  "$ESBUILD_BIN" "$OUT/f.js" --bundle --minify --format=esm --target=es2020 --log-level=warning \
    --allow-overwrite --outfile="$OUT/f.js"
  w=$(br "$OUT/f_bg.wasm"); g=$(br "$OUT/f.js")
  case $variant in
    full) label="engine only (fold, markup, consent, rules, recs)";;
    min) label="engine only (rules and recs on a stored profile)";;
  esac
  row "$label" "$w" "$g" "$((w + g))"
done
if [ -f target/site/affinity_core_bg.wasm ]; then
  w=$(br target/site/affinity_core_bg.wasm); g=$(br target/site/affinity_core.js)
  row "shipped (target/site)" "$w" "$g" "$((w + g))"
fi
