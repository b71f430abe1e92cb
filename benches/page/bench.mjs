// Main-thread cost of Affinity in a real browser: the demo shop's pages loaded in headless
// Chromium with and without the tag, alternating, several runs each; prints medians and ratios.
// A benchmark, not a test: nothing is asserted. `make bench-page` runs it through the e2e
// harness (`node tests/e2e/run.mjs benches/page/bench.mjs`), which starts the real edge
// (wrangler dev → workerd, fresh state, ports E2E_EDGE_PORT / E2E_SHOP_PORT), seeds the demo
// history, builds the model and the second-origin shop that loads the tag from the edge.
// Here that shop is served once more from one server, as it is ("async tag"), with the tag as an
// inline dynamic import of the loader ("import tag": the page's `load` does not wait for it) and
// with the tag and its head snippet removed ("without"). RUNS (default 7) and EVENTS (default
// 1000) tune it; TRACE=1 prints every page load's resources, Wasm compile, long tasks and long
// animation frames. Long frames are attributed with the Long Animation Frames API (its scripts name
// their file): one counts as caused by Affinity when, without its scripts' time, it would be short.
// PROFILE=1 records a Chromium trace with V8's sampling profiler for every load with the tag and
// sums the main thread's samples whose stack holds Affinity's code (the loader, the glue or the
// Wasm), before the page's `load` event and after it until the trace ends (the plugin done, then
// 1 s more): what Affinity itself can add
// to `load`, at a 0.1 ms grain instead of the ±30 ms noise between whole loads (the trace slows
// the page, so that run's other figures are not comparable with a run without it).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { chromium } from "playwright-core";

const runs = Number(process.env.RUNS || 7);
const events = Number(process.env.EVENTS || 1000);
// The tags measured beside the page without Affinity (VARIANTS=import for more runs of one).
const tags = (process.env.VARIANTS || "async,import").split(",").filter((v) => v === "async" || v === "import");
const edge = process.env.EDGE;
const state = process.env.E2E_STATE;
const KEY = "pk_demo_4f9c2a7d1e";
const log = (m) => console.error(`bench-page: ${m}`);
if (!edge || !state) {
  console.error("bench-page: run through tests/e2e/run.mjs (make bench-page), which starts the edge");
  process.exit(2);
}

// ---- the shop, with and without the tag -----------------------------------------------------
const types = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css",
  ".json": "application/json", ".svg": "image/svg+xml",
};
const TAG = /<script async src="([^"]*affinity\.js)" data-key="([^"]*)"><\/script>/;
/** The same page with the loader imported from an inline script (pkg-template/loader.js). */
const importTag = (html) => html.replace(TAG, (_, src, key) =>
  `<script>affinity={key:${JSON.stringify(key)},src:${JSON.stringify(src)}};import(affinity.src)</script>`);
/** The same page without Affinity: no tag, no segment head snippet. */
const withoutTag = (html) => html
  .replace(/<script async src="[^"]*affinity\.js"[^>]*><\/script>/, "")
  .replace(/<style>\[data-affinity-segment\][^<]*<\/style><script>document\.documentElement\.classList\.add\("affinity-wait"\)[^<]*<\/script>/, "");
function serveShop(dir) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    let p = decodeURIComponent(url.pathname);
    if (p.endsWith("/")) p += "index.html";
    const file = path.join(dir, path.normalize(p).replace(/^(\.\.[/\\])+/, ""));
    if (!file.startsWith(dir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404);
      return res.end();
    }
    const ext = path.extname(file);
    let body = fs.readFileSync(file);
    if (ext === ".html" && url.searchParams.has("without")) body = withoutTag(body.toString());
    if (ext === ".html" && url.searchParams.has("import")) body = importTag(body.toString());
    res.writeHead(200, { "content-type": types[ext] || "application/octet-stream" });
    res.end(body);
  });
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r(server)));
}

// ---- one page load ------------------------------------------------------------------------
// Installed before any page script: long tasks, when the slots fill and when segments decide.
const probe = () => {
  const m = (window.__bench = { longtasks: [], recs: null, segments: null, marks: [] });
  // When the Wasm is compiled and instantiated (for TRACE=1).
  for (const f of ["instantiateStreaming", "instantiate"]) {
    const orig = WebAssembly[f];
    WebAssembly[f] = function (...args) {
      const t = performance.now();
      return orig.apply(this, args).then((r) => (m.marks.push({ name: `wasm ${f}`, start: t, end: performance.now() }), r));
    };
  }
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) m.longtasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: "longtask", buffered: true });
  // Long animation frames with their scripts (Chromium lists each script of 5 ms or more, with
  // the file it came from): which long frames Affinity's own code made long.
  m.frames = [];
  try {
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) {
        let own = 0, longest = 0, who = "";
        for (const x of e.scripts || []) {
          if (!/\/affinity(_core)?\.js/.test(x.sourceURL || "")) continue;
          own += x.duration;
          if (x.duration > longest) {
            longest = x.duration;
            who = `${x.invoker} (${x.sourceFunctionName || "?"} in ${x.sourceURL.replace(/^.*\//, "")})`;
          }
        }
        m.frames.push({ start: e.startTime, duration: e.duration, own, longest, who });
      }
    }).observe({ type: "long-animation-frame", buffered: true });
  } catch {}
  const check = () => {
    if (m.recs === null && document.querySelector("[data-affinity-slot] .affinity-card")) m.recs = performance.now();
    const root = document.documentElement;
    if (m.segments === null && m.waited && !root.classList.contains("affinity-wait")) m.segments = performance.now();
    if (root.classList.contains("affinity-wait")) m.waited = true;
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ["class"] });
};

/** The 95 % bootstrap interval of the median of `xs` (resampled with a fixed-seed generator). */
function bootstrap(xs, n = 2000) {
  let seed = 0x9e3779b9;
  const next = () => ((seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
  const medians = [];
  for (let k = 0; k < n; k++) medians.push(median(xs.map(() => xs[Math.floor(next() * xs.length)])));
  medians.sort((a, b) => a - b);
  return [medians[Math.floor(n * 0.025)], medians[Math.ceil(n * 0.975) - 1]];
}

const median = (xs) => {
  const s = xs.filter((x) => x !== null && x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const k = s.length >> 1;
  return s.length % 2 ? s[k] : (s[k - 1] + s[k]) / 2;
};

/** Affinity's code in the page's script URLs (the loader, the glue, the Wasm module). */
const OURS = /\/affinity(_core)?\.js|\/affinity_core_bg\.wasm/;

/**
 * From a Chromium trace with `disabled-by-default-v8.cpu_profiler` (PROFILE=1): the page main
 * thread's sampled time in Affinity's code before the `load` event and after it, in ms. A sample
 * is Affinity's when a frame of its stack is in one of Affinity's files; each counts until the next.
 */
function affinityCpu(trace) {
  const events = trace.traceEvents ?? trace;
  // The page's own document: every SVG image is a document with a load event of its own.
  const nav = events.find((e) => e.name === "navigationStart" && /^https?:/.test(e.args?.data?.documentLoaderURL ?? ""));
  const load = nav && events.filter((e) => e.name === "loadEventStart" && e.args?.frame === nav.args.frame).at(-1);
  const profile = load && events.find((e) => e.name === "Profile" && e.pid === load.pid && e.tid === load.tid);
  if (!profile) return { before: null, after: null };
  const nodes = new Map();
  const samples = [];
  let clock = profile.args.data.startTime;
  for (const e of events) {
    if (e.name !== "ProfileChunk" || e.pid !== profile.pid || e.id !== profile.id) continue;
    const { cpuProfile = {}, timeDeltas = [] } = e.args.data;
    for (const n of cpuProfile.nodes ?? []) nodes.set(n.id, n);
    (cpuProfile.samples ?? []).forEach((id, i) => samples.push([(clock += timeDeltas[i]), id]));
  }
  const ours = new Map();
  const isOurs = (id) => {
    if (!ours.has(id)) {
      const n = nodes.get(id);
      ours.set(id, !!n && (OURS.test(n.callFrame.url) || isOurs(n.parent)));
    }
    return ours.get(id);
  };
  let before = 0, after = 0;
  for (let i = 0; i + 1 < samples.length; i++) {
    const [at, id] = samples[i];
    if (!isOurs(id)) continue;
    const dt = samples[i + 1][0] - at;
    if (at < load.ts) before += dt;
    else after += dt;
  }
  return { before: before / 1000, after: after / 1000 };
}

/** One load of `url` in a fresh context; `variant` is "without", "async" or "import". */
async function load(browser, url, variant) {
  const withAffinity = variant !== "without";
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(probe);
  let bytes = 0;
  const sizes = [];
  page.on("requestfinished", (r) => sizes.push(r.sizes().then((s) => { bytes += s.responseBodySize + s.responseHeadersSize; }).catch(() => {})));
  const profiled = process.env.PROFILE && withAffinity;
  if (profiled) {
    await browser.startTracing(page, { categories: ["blink.user_timing", "disabled-by-default-v8.cpu_profiler"] });
  }
  await page.goto(variant === "async" ? url : `${url}${url.includes("?") ? "&" : "?"}${variant}`, { waitUntil: "load" });
  if (withAffinity) {
    // Until the plugin has rendered what it will render (or 5 s).
    await page.waitForFunction(() => window.affinity?.profile && window.__bench.segments !== null
      && (window.__bench.recs !== null || !document.querySelector("[data-affinity-slot]")), null, { timeout: 5_000 }).catch(() => {});
  }
  await page.waitForTimeout(1_000);
  await Promise.all(sizes);
  const cpu = profiled ? affinityCpu(JSON.parse((await browser.stopTracing()).toString())) : {};
  const r = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const b = window.__bench;
    const tbt = b.longtasks.reduce((t, e) => t + Math.max(0, e.duration - 50), 0);
    // A long frame Affinity caused: its scripts ran in it, and without their time it would not
    // have been long (under 50 ms).
    const caused = b.frames.filter((f) => f.own > 0 && f.duration - f.own < 50).length;
    const script = b.frames.reduce((t, f) => Math.max(t, f.longest), 0);
    return {
      dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, longtasks: b.longtasks.length, caused, script,
      tbt, recs: b.recs, segments: b.segments, heap: performance.memory?.usedJSHeapSize ?? null,
      // TRACE=1: when each resource started and ended, against the document's milestones.
      trace: {
        milestones: { interactive: nav.domInteractive, dcl: nav.domContentLoadedEventStart,
          dclEnd: nav.domContentLoadedEventEnd, load: nav.loadEventStart },
        resources: performance.getEntriesByType("resource").map((e) => ({
          name: e.name.replace(/^https?:\/\/[^/]+/, "").slice(0, 40), start: e.startTime, end: e.responseEnd,
        })),
        longtasks: b.longtasks, marks: b.marks, frames: b.frames,
      },
    };
  });
  r.bytes = bytes;
  r.cpu_before = cpu.before ?? null;
  r.cpu_after = cpu.after ?? null;
  if (process.env.TRACE && withAffinity) {
    const t = r.trace, f = (v) => v.toFixed(1).padStart(7);
    log(`trace ${variant} ${url}: ${Object.entries(t.milestones).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ")}`);
    for (const e of t.resources) log(`  ${f(e.start)} ${f(e.end)}  ${e.name}`);
    for (const e of t.marks) log(`  ${f(e.start)} ${f(e.end)}  ${e.name}`);
    for (const e of t.longtasks) log(`  long task at ${f(e.start)} for ${e.duration.toFixed(1)} ms`);
    for (const e of t.frames) log(`  long frame at ${f(e.start)} for ${e.duration.toFixed(1)} ms, Affinity's scripts ${e.own.toFixed(1)} ms${e.who ? `, longest: ${e.who}` : ""}`);
  }
  delete r.trace;
  if (withAffinity && events > 0) {
    // Capture cost: `events` custom events through the public API, timed in the page.
    // Then the work the page defers to idle time (validation, profile fold), forced at once by
    // reading the profile: the two together are the whole main-thread cost per event.
    Object.assign(r, await page.evaluate(async (n) => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) window.affinity.track("Bench Event", { i, list: "bench" });
      const t1 = performance.now();
      window.affinity.profile();
      const t2 = performance.now();
      return { capture_us: ((t1 - t0) * 1000) / n, deferred_us: ((t2 - t1) * 1000) / n };
    }, events));
  }
  await context.close();
  return r;
}

// ---- main ---------------------------------------------------------------------------------
// The shop run.mjs built for the second origin (tag loaded from the edge), served here twice over.
const shop = await serveShop(path.join(state, "shop2"));
const shopOrigin = `http://127.0.0.1:${shop.address().port}`;
try {
  // The model a shopper downloads (raw bytes; the wire size is brotli, as the edge will serve it).
  const config = await (await fetch(`${edge}/v1/config?key=${KEY}`)).json();
  const model = Buffer.from(await (await fetch(new URL(config.model, edge))).arrayBuffer());
  const modelFile = path.join(state, "model.afym");
  fs.writeFileSync(modelFile, model);
  const modelBr = execFileSync("brotli", ["-q", "11", "-c", modelFile]).length;

  const product = fs.readdirSync(path.join(state, "shop2", "p"))[0];
  const pages = { home: `${shopOrigin}/`, product: `${shopOrigin}/p/${product}/` };
  log(`${runs} alternating runs per variant on ${Object.keys(pages).join(", ")}`);
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--enable-precise-memory-info"],
  });
  const results = {};
  try {
    for (const [name, url] of Object.entries(pages)) {
      const r = (results[name] = { without: [] });
      for (const t of tags) r[t] = [];
      await load(browser, url, tags[0]); // warm the edge and the OS caches once
      for (let i = 0; i < runs; i++) {
        for (const variant of Object.keys(r)) r[variant].push(await load(browser, url, variant));
      }
    }
  } finally {
    await browser.close();
  }

  console.log(`Chromium, demo shop on ${shopOrigin}, tag from ${edge}; ${runs} alternating runs per variant, medians`);
  console.log(`demo shop model: ${model.length} bytes raw, ${modelBr} bytes brotli -q 11`);
  const fmt = (v, d = 1) => (v === null ? "—" : v.toFixed(d));
  for (const [name, r] of Object.entries(results)) {
    console.log(`\n${name} (${pages[name]})`);
    console.log(`${"metric".padEnd(34)}${"without".padStart(12)}` +
      tags.map((t) => `${`${t} tag`.padStart(12)}${"added".padStart(10)}`).join(""));
    const row = (label, key, d = 1) => {
      const a = median(r.without.map((x) => x[key]));
      let line = `${label.padEnd(34)}${fmt(a, d).padStart(12)}`;
      for (const variant of tags) {
        const b = median(r[variant].map((x) => x[key]));
        const added = a !== null && b !== null ? b - a : null;
        line += `${fmt(b, d).padStart(12)}${fmt(added, d).padStart(10)}`;
      }
      console.log(line);
    };
    row("DOMContentLoaded (ms)", "dcl");
    row("load (ms)", "load");
    row("long tasks (count)", "longtasks", 0);
    row("long frames Affinity caused (count)", "caused", 0);
    row("Affinity's longest script (ms, LoAF)", "script");
    row("total blocking time (ms)", "tbt");
    row("recommendations rendered (ms)", "recs");
    row("segment content decided (ms)", "segments");
    if (process.env.PROFILE) {
      row("Affinity's CPU before load (ms)", "cpu_before", 2);
      row("Affinity's CPU after load (ms)", "cpu_after", 2);
    }
    row("bytes transferred", "bytes", 0);
    row("JS heap used (bytes)", "heap", 0);
    // What the tag adds to `load` and DOMContentLoaded, run by run: run i of a tag against run i
    // without it (loaded one after the other), the median of those differences and its 95 %
    // bootstrap interval (2,000 resamples, fixed seed), so noise of ±40 ms between whole runs
    // shows as a wide interval instead of a figure.
    for (const variant of tags) {
      for (const [label, key] of [["load", "load"], ["DOMContentLoaded", "dcl"]]) {
        const d = r[variant].map((x, i) => x[key] - r.without[i][key]);
        const [lo, hi] = bootstrap(d);
        console.log(`${variant} tag adds to ${label}: median of ${d.length} paired differences ${fmt(median(d))} ms` +
          ` (95 % interval ${fmt(lo)} to ${fmt(hi)} ms)`);
      }
    }
    for (const variant of process.env.PROFILE ? tags : []) {
      const before = r[variant].map((x) => x.cpu_before).filter((x) => x !== null);
      const ran = before.filter((x) => x > 0).length;
      console.log(`${variant} tag: Affinity's main-thread time before load (sampled): median ${fmt(median(before), 2)} ms,` +
        ` most ${fmt(before.length ? Math.max(...before) : null, 2)} ms; Affinity ran before load in ${ran} of ${before.length} loads`);
    }
    for (const variant of tags) {
      const cap = median(r[variant].map((x) => x.capture_us));
      const deferred = median(r[variant].map((x) => x.deferred_us));
      const worst = Math.max(...r[variant].map((x) => x.longtasks));
      const caused = Math.max(...r[variant].map((x) => x.caused));
      const causedAll = r[variant].reduce((t, x) => t + x.caused, 0);
      const script = Math.max(...r[variant].map((x) => x.script));
      console.log(`${variant} tag: capture ${fmt(cap, 1)} µs per event in the call, + ${fmt(deferred, 1)} µs deferred` +
        ` to idle time (median of ${runs} runs × ${events} affinity.track calls); long tasks in the worst run: ${worst},` +
        ` long frames Affinity caused: ${causedAll} in ${runs} loads (${caused} in the worst),` +
        ` Affinity's longest script in any run: ${fmt(script, 1)} ms`);
    }
  }
} finally {
  shop.close();
}
