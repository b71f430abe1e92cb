// In-browser timing harness: builds the page crate with the `bench` feature, serves it on
// 127.0.0.1 with cross-origin isolation (so performance.now() has 5 µs resolution), runs
// index.html in Debian's Chromium and prints medians with in-page baselines.
// `make bench-browser` (needs `make setup`).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const here = import.meta.dirname;
const root = path.resolve(here, "../..");
const target = process.env.CARGO_TARGET_DIR || path.join(root, "target");
const pkg = path.join(target, "bench-browser", "pkg");
// BENCH_FEATURES=bench times the std build instead of the shipped no_std one (with the forecast fits).
// Built as the site builds the shipped module (.ci/page-build.sh), with the bench exports.
const wasm = execFileSync("bash", [path.join(root, ".ci/page-build.sh"), process.env.BENCH_FEATURES || "bench,page"],
  { cwd: root, stdio: ["ignore", "pipe", "inherit"] }).toString().trim();
fs.rmSync(pkg, { recursive: true, force: true });
execFileSync("wasm-bindgen", ["--target", "web", "--out-name", "affinity_core", "--no-typescript", "--out-dir", pkg,
  wasm], { stdio: "inherit" });
// The shipped optimization flags (.ci/wasm-opt-flags); WASM_OPT_FLAGS overrides them to compare.
const optFlags = (process.env.WASM_OPT_FLAGS ?? fs.readFileSync(path.join(root, ".ci/wasm-opt-flags"), "utf8")
  .split("\n").filter((l) => !l.startsWith("#")).join(" ")).trim().split(/\s+/);
execFileSync("wasm-opt", [...optFlags, path.join(pkg, "affinity_core_bg.wasm"), "-o", path.join(pkg, "affinity_core_bg.wasm")], { stdio: "inherit" });

const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x").pathname;
  const file = url.startsWith("/pkg/") ? path.join(pkg, url.slice(5)) : path.join(here, "index.html");
  if (!fs.existsSync(file)) { res.writeHead(404); return res.end(); }
  res.writeHead(200, {
    "content-type": types[path.extname(file)] || "application/octet-stream",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-embedder-policy": "require-corp",
  });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const port = server.address().port;

const context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), "affinity-bench-")), {
  executablePath: "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("pageerror", (e) => console.error(`page error: ${e}`));
  await page.goto(`http://127.0.0.1:${port}/`);
  const results = await page.waitForFunction(() => window.__results, null, { timeout: 300_000 }).then((h) => h.jsonValue());
  const isolated = await page.evaluate(() => self.crossOriginIsolated);
  console.log(`Chromium ${context.browser()?.version() ?? ""} in-page timings (cross-origin isolated: ${isolated})`);
  console.log(`model: 10,000 items, ${results.model_bytes} bytes encoded, decoded in ${results.model_decode_ms.toFixed(2)} ms`);
  const co = results.cohort;
  if (co) console.log(`forecast cohort: ${co.customers} customers (${co.repeaters} with repeat spend); fitted LL in wasm32: ` +
    `BG/NBD ${co.ll.bgnbd.toFixed(2)}, Pareto/NBD ${co.ll.pareto.toFixed(2)}, Gamma-Gamma ${co.ll.gamma_gamma.toFixed(2)}`);
  console.log(`${"operation".padEnd(52)} ${"median ms".padStart(10)} ${"max ms".padStart(9)}`);
  for (const [name, r] of Object.entries(results.ops)) {
    console.log(`${name.padEnd(52)} ${r.median_ms.toFixed(4).padStart(10)} ${r.max_ms.toFixed(4).padStart(9)}`);
  }
  const o = results.ops;
  const ratio = (a, b) => (o[a].median_ms / o[b].median_ms).toFixed(1);
  console.log(`ratios: rules / trivial baseline = ${ratio("rules: 100 segments, 200-event profile", "rules baseline: 100 trivial segments")}×; ` +
    `for-you / popular baseline = ${ratio("recommend: for-you top-20, 10k items", "recommend baseline: popular top-20, 10k items")}×`);
} finally {
  await context.close();
  server.close();
}
