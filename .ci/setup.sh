#!/usr/bin/env bash
# Installs everything Affinity needs to build, run and test, skipping what is already there at the
# right version. Safe to run again: a warm run costs seconds. Called by `make setup`.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130
WORKER_BUILD_VERSION=0.8.7
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

# Debian packages: the browser the tests drive, its driver, brotli for the size report.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v brotli >/dev/null || missing+=(brotli)
if [ ${#missing[@]} -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  mkdir -p target
  $SUDO apt-get update -qq >target/apt.log 2>&1
  # A concurrent apt on the box can delete .debs mid-install: retry once.
  apt_install() { $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >>target/apt.log 2>&1; }
  apt_install || { sleep 5; apt_install; } || { tail -20 target/apt.log; exit 1; }
fi

# Rust: the page target and the two CLIs whose versions must match the crates.
rustup target list --installed | grep -qx wasm32-unknown-unknown || {
  say "rustup target add wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown; }
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
# The page build compiles its own core and alloc (.ci/page-build.sh).
rustup component list --installed 2>/dev/null | grep -q '^rust-src' || { say "rustup component add rust-src"; rustup component add rust-src; }
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
  say "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 4 minutes)"
  # Not --locked: its lock file pins a crate version this registry lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi
if ! worker-build --version 2>/dev/null | grep -q "$WORKER_BUILD_VERSION"; then
  say "cargo install worker-build $WORKER_BUILD_VERSION (about 5 minutes)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --force
fi

# npm: wrangler (workerd), Node 22 for it, wasm-opt, playwright-core.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm install (from package-lock.json)"
  # Not `npm ci`: npm 11 here writes locks without the other platforms' optional workerd
  # packages and `npm ci` then refuses them; `npm install` keeps the lock as it is (verified).
  npm install --no-audit --no-fund --loglevel=error
fi
say "ready"
