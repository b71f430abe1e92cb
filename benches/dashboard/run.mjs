// Dashboard benchmark: for each size (100k, 1M, 3M events by default; SIZES=100000,1000000),
// a fresh local D1 gets the migrations and a shop (through the operator API of a real
// `wrangler dev`), then the bulk load (`load.rs`: the Worker's fold, written straight into the
// D1 file, bypassing the customer objects) of synthetic events plus the CDNOW orders; the edge is
// started again and every dashboard and explore page is fetched signed in, RUNS times each
// (default 7; round robin over the pages after one warm-up of each), on 127.0.0.1. KEEP=1 keeps
// the state, STATE=DIR times the pages again on a kept state. Prints one JSON line per page and
// size, then a Markdown table of medians. A benchmark, not a test: nothing is asserted about
// speed.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const worker = path.join(root, "worker");
const port = Number(process.env.BENCH_PORT || process.env.E2E_EDGE_PORT || 8830);
const edge = `http://127.0.0.1:${port}`;
const sizes = (process.env.SIZES || "100000,1000000,3000000").split(",").map(Number);
const runs = Number(process.env.RUNS || 7);
const vars = fs.readFileSync(path.join(worker, ".dev.vars"), "utf8");
const operator = vars.match(/^OPERATOR_SECRET\s*=\s*"?([^"\n]+)"?/m)[1];
const shop = { id: "bench", secret: "bench-secret-0123456789", key: "pk_bench_0123456789" };
const env = { ...process.env, CI: "true" };
const log = (m) => console.error(`bench-dashboard: ${m}`);

async function up(state) {
  const out = fs.openSync(path.join(state, "wrangler.log"), "a");
  const dev = spawn("wrangler", ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state,
    "--show-interactive-dev-session=false"], { cwd: worker, env, detached: true, stdio: ["ignore", out, out] });
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (dev.exitCode !== null) throw new Error("wrangler dev exited early");
    try { if ((await fetch(`${edge}/v1/batch`, { method: "OPTIONS" })).status === 204) return dev; } catch {}
    if (Date.now() > deadline) throw new Error("the edge did not come up in 300 s");
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function down(dev) {
  try { process.kill(-dev.pid, "SIGTERM"); } catch {}
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try { process.kill(-dev.pid, 0); } catch { return; }
    await new Promise((r) => setTimeout(r, 200));
  }
  try { process.kill(-dev.pid, "SIGKILL"); } catch {}
}

function d1File(state) {
  const found = [];
  const walk = (d) => {
    for (const f of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, f.name);
      if (f.isDirectory()) walk(p);
      else if (f.name.endsWith(".sqlite") && p.includes("D1") && f.name !== "metadata.sqlite") found.push(p);
    }
  };
  walk(state);
  if (found.length !== 1) throw new Error(`expected one D1 file, found ${found}`);
  return found[0];
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

const pages = [
  ["overview, last 30 days by day", "/dashboard"],
  ["overview, 90 days by week", "/dashboard?from={d90}&to={today}&grain=week"],
  ["funnel, last 30 days, 1 day window", "/dashboard/funnel"],
  ["retention (all orders) + new vs returning", "/dashboard/retention"],
  ["customers: RFM, top, new vs returning, list", "/dashboard/customers"],
  ["products, last 30 days", "/dashboard/products"],
  ["explore: revenue by weekday", "/dashboard/explore?metric=revenue&by=weekday"],
  ["explore: visitors by country × device", "/dashboard/explore?metric=visitors&by=country&then=device"],
  ["explore: conversion by UTM source", "/dashboard/explore?metric=conversion&by=utm_source"],
  ["explore: orders by category", "/dashboard/explore?metric=orders&by=category"],
  ["explore: AOV by hour, CSV", "/dashboard/explore?metric=aov&by=hour&format=csv"],
  ["explore: visitors by product, 90 days", "/dashboard/explore?metric=visitors&by=product&from={d90}&to={today}"],
];

const results = [];
for (const size of sizes) {
  // STATE=DIR (a state kept by KEEP=1) times the pages again on what was loaded there.
  const state = process.env.STATE || fs.mkdtempSync(path.join(os.tmpdir(), `affinity-bench-${size}-`));
  log(`${size} events: state in ${state}`);
  let load = { total_s: null };
  let file;
  if (process.env.STATE) {
    file = d1File(state);
  } else {
    execFileSync("bash", [path.join(root, ".ci/migrate.sh"), state], { env, stdio: ["ignore", "ignore", "inherit"], timeout: 300_000 });
    const dev = await up(state);
    const r = await fetch(`${edge}/v1/operator/shops`, { method: "POST",
      headers: { authorization: `Bearer ${operator}`, "content-type": "application/json" },
      body: JSON.stringify({ id: shop.id, name: "Bench", write_key: shop.key, admin_secret: shop.secret, time_zone: "Europe/Berlin" }) });
    if (r.status !== 201) throw new Error(`shop: ${r.status} ${await r.text()}`);
    await down(dev);
    file = d1File(state);
    const t0 = Date.now();
    const out = execFileSync("cargo", ["bench", "-q", "-p", "affinity-worker", "--bench", "dashboard_load", "--",
      "--db", file, "--shop", shop.id, "--events", String(size), "--cdnow", "/work/shared/data/cdnow/CDNOW_master.txt"],
    { cwd: root, env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 3_600_000 });
    load = JSON.parse(out.trim().split("\n").pop());
    log(`loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(load)}; ${(fs.statSync(file).size / 1e6).toFixed(0)} MB`);
  }
  const dev = await up(state);
  try {
    const login = await fetch(`${edge}/dashboard/login`, { method: "POST", redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `shop=${shop.id}&secret=${encodeURIComponent(shop.secret)}` });
    const cookie = login.headers.get("set-cookie").split(";")[0];
    const day = (ms) => new Date(ms).toISOString().slice(0, 10);
    const urls = pages.map(([, tmpl]) => edge + tmpl.replace("{today}", day(Date.now())).replace("{d90}", day(Date.now() - 89 * 86_400_000)));
    const times = pages.map(() => []);
    const status = pages.map(() => 0);
    const get = async (i) => {
      const t = performance.now();
      const res = await fetch(urls[i], { headers: { cookie }, signal: AbortSignal.timeout(120_000) });
      await res.arrayBuffer();
      status[i] = res.status;
      return performance.now() - t;
    };
    for (let i = 0; i < pages.length; i++) await get(i); // the first request warms the isolate
    // Round robin: a burst of load from the machine's other users lands on every page alike.
    const busy = [os.loadavg()[0]];
    for (let r = 0; r < runs; r++) {
      for (let i = 0; i < pages.length; i++) times[i].push(await get(i));
    }
    busy.push(os.loadavg()[0]);
    log(`load average (1 min) ${busy.map((l) => l.toFixed(1)).join(" -> ")} during the page runs`);
    for (let i = 0; i < pages.length; i++) {
      const row = { size, page: pages[i][0], status: status[i], median_ms: Math.round(median(times[i])), max_ms: Math.round(Math.max(...times[i])), db_mb: Math.round(fs.statSync(file).size / 1e6), load_s: load.total_s, load_avg: busy };
      console.log(JSON.stringify(row));
      results.push(row);
    }
  } finally {
    await down(dev);
  }
  if (!process.env.KEEP && !process.env.STATE) fs.rmSync(state, { recursive: true, force: true });
}

const names = pages.map((p) => p[0]);
console.log(`\n| page | ${sizes.map((s) => `${s.toLocaleString("en")} events`).join(" | ")} |`);
console.log(`|---|${sizes.map(() => "---").join("|")}|`);
for (const n of names) {
  console.log(`| ${n} | ${sizes.map((s) => { const r = results.find((x) => x.size === s && x.page === n); return r ? `${r.median_ms} ms${r.status !== 200 ? ` (${r.status})` : ""}` : "–"; }).join(" | ")} |`);
}
