// Many shops on one deployment, through the operator API and the operator's command: two real
// shops on one `wrangler dev`; the router's route table is walked (so a route added later is
// covered) with shop B's credentials against shop A; keys rotate with a grace period; a shop is
// exported and deleted down to its last row, object and model.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { batch, eventually, shopper, visit, EDGE } from "./lib.mjs";
import { serveStatic } from "./static-server.mjs";

const OPERATOR = process.env.OPERATOR_SECRET;
const STATE = process.env.E2E_STATE;
const WORKER = path.resolve(import.meta.dirname, "../../worker");
const stamp = Date.now().toString(36);
const A = { id: `e2e-alpha-${stamp}`, name: "Alpha Outfitters Zq", key: `pk_alpha_${stamp}_k`, secret: `alpha-secret-${stamp}-x` };
const B = { id: `e2e-beta-${stamp}`, name: "Beta Goods", key: `pk_beta_${stamp}_k`, secret: `beta-secret-${stamp}-x` };
const SEGMENT = `alpha-secret-seg-${stamp}`;
const PRODUCT = `Alpha Unique Lantern ${stamp}`;
const op = (method, route, body, secret = OPERATOR) => fetch(`${EDGE}${route}`, {
  method, headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
  body: body === undefined ? undefined : JSON.stringify(body),
});
const now = () => new Date().toISOString();
let n = 0;
const ev = (customer, fields) => ({ anonymousId: customer, messageId: `${stamp}-${++n}`, timestamp: now(), ...fields });

async function login(shop) {
  const r = await fetch(`${EDGE}/dashboard/login`, {
    method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `shop=${shop.id}&secret=${encodeURIComponent(shop.secret)}`,
  });
  assert.equal(r.status, 303, `sign-in of ${shop.id}`);
  return r.headers.get("set-cookie").split(";")[0];
}

function shopCli(...args) {
  return execFileSync("node", [path.join(WORKER, "shop.mjs"), "--edge", EDGE, "--secret", OPERATOR, ...args],
    { encoding: "utf8", timeout: 300_000 });
}

let modelA;
before(async () => {
  for (const s of [A, B]) {
    const r = await op("POST", "/v1/operator/shops", { id: s.id, name: s.name, write_key: s.key, admin_secret: s.secret });
    assert.equal(r.status, 201, await r.text());
  }
  // Shop A: the same customer id as in B, a customer only A has, an order, a product name only A
  // has, a segment only A has, and a model.
  const views = (c, k) => [1, 2, 3].map((i) => ev(c, { type: "track", event: "Product Viewed",
    properties: { product_id: `pa${i}`, name: i === 1 ? PRODUCT : `A item ${i}`, category: "Lamps", price: 12 } }));
  const rA = await batch({ writeKey: A.key, batch: [...views("same-id"), ...views("alpha-only"),
    ev("alpha-only", { type: "track", event: "Order Completed", properties: { order_id: `ao-${stamp}`, revenue: 777.77, products: [{ product_id: "pa1" }] } })] });
  assert.equal(rA.status, 200, rA.text);
  const rB = await batch({ writeKey: B.key, batch: [ev("same-id", { type: "page", properties: { path: "/b" } })] });
  assert.equal(rB.status, 200, rB.text);
  const cookie = await login(A);
  const save = await fetch(`${EDGE}/dashboard/segments/new`, {
    method: "POST", redirect: "manual", headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
    body: `name=${SEGMENT}&source=${encodeURIComponent("total_spend > 700")}`,
  });
  assert.equal(save.status, 303);
  const m = await fetch(`${EDGE}/v1/admin/model/rebuild?shop=${A.id}`, { method: "POST", headers: { authorization: `Bearer ${A.secret}` } });
  assert.equal(m.status, 200);
  modelA = (await m.json()).version;
  await eventually(async () => {
    const r = await fetch(`${EDGE}/v1/profile/alpha-only?shop=${A.id}`, { headers: { authorization: `Bearer ${A.secret}` } });
    return r.ok && (await r.json()).segments.includes(SEGMENT);
  });
});

test("the operator API needs the operator secret", async () => {
  assert.equal((await fetch(`${EDGE}/v1/operator/shops`)).status, 401);
  assert.equal((await op("GET", "/v1/operator/shops", undefined, A.secret)).status, 401, "a shop's secret is not the operator's");
  const list = await (await op("GET", "/v1/operator/shops")).json();
  assert.ok(list.some((s) => s.id === A.id) && list.some((s) => s.id === B.id));
  const bad = await op("POST", "/v1/operator/shops", { id: "Bad Id!" });
  assert.equal(bad.status, 400);
  const taken = await op("POST", "/v1/operator/shops", { id: A.id });
  assert.equal(taken.status, 409);
});

test("shop B's credentials reach no byte of shop A on any route of the table", async () => {
  const table = await (await op("GET", "/v1/operator/routes")).json();
  assert.ok(table.length >= 30, "the whole table");
  const cookieB = await login(B);
  const markers = [A.name, PRODUCT, SEGMENT, A.key, "777.77", modelA, `ao-${stamp}`];
  const fill = (pattern) => pattern
    .replace(":version", modelA).replace(":customer", "alpha-only").replace(":name", SEGMENT)
    .replace(":id", pattern.startsWith("/v1/operator") ? A.id : "alpha-only");
  let checked = 0;
  for (const route of table) {
    for (const method of route.methods) {
      const pathA = fill(route.pattern);
      const namesA = pathA !== route.pattern;
      const attempts = [];
      const body = method === "POST" ? JSON.stringify({ writeKey: B.key, batch: [] }) : undefined;
      switch (route.access) {
        case "WriteKey":
          attempts.push({ url: `${pathA}?key=${B.key}`, headers: {}, mustDeny: namesA });
          break;
        case "Admin":
          attempts.push({ url: `${pathA}?shop=${A.id}`, headers: { authorization: `Bearer ${B.secret}` }, mustDeny: true });
          attempts.push({ url: `${pathA}?shop=${B.id}`, headers: { authorization: `Bearer ${B.secret}` }, mustDeny: namesA });
          attempts.push({ url: pathA, headers: { authorization: `Bearer ${B.secret}` }, mustDeny: true });
          break;
        case "Session":
          attempts.push({ url: pathA, headers: { cookie: cookieB }, mustDeny: namesA });
          break;
        case "Operator":
          attempts.push({ url: pathA, headers: { authorization: `Bearer ${B.secret}` }, mustDeny: true });
          break;
        default:
          attempts.push({ url: pathA, headers: {}, mustDeny: false });
      }
      for (const a of attempts) {
        const r = await fetch(`${EDGE}${a.url}`, { method, redirect: "manual", headers: { "content-type": "text/plain", ...a.headers }, body });
        const text = Buffer.from(await r.arrayBuffer()).toString("latin1");
        // A marker the request itself carries (an id in the path, echoed in "no such …") is not
        // shop A's data; every other one is.
        for (const m of markers.filter((m) => !a.url.includes(m))) {
          assert.ok(!text.includes(m), `${method} ${a.url} (${route.access}) leaks ${m}`);
        }
        if (a.mustDeny) assert.ok([401, 403, 404].includes(r.status), `${method} ${a.url} (${route.access}): ${r.status}`);
        // B's own pages answer for a shop with almost no data, never with a server error.
        assert.ok(r.status < 500, `${method} ${a.url} (${route.access}): ${r.status}`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 40, `${checked} requests`);
});

test("the same customer id in two shops is two customers with two profiles", async () => {
  const get = async (s) => (await fetch(`${EDGE}/v1/profile/same-id?shop=${s.id}`, { headers: { authorization: `Bearer ${s.secret}` } })).json();
  const [a, b] = [await get(A), await get(B)];
  assert.equal(a.counters.product_views, 3);
  assert.equal(b.counters.product_views, 0);
  assert.equal(b.counters.page_views, 1);
  assert.equal(a.shop, A.id);
  assert.equal(b.shop, B.id);
});

test("a page with shop B's tag gets nothing of shop A", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "affinity-shopb-"));
  fs.writeFileSync(path.join(dir, "index.html"), `<!doctype html><title>B</title>
    <script async src="${EDGE}/affinity.js" data-key="${B.key}"></script>
    <div data-affinity-slot="popular"></div>`);
  const server = await serveStatic(dir, 8791);
  const { context, page } = await shopper();
  const seen = [];
  page.on("response", async (r) => { if (r.url().startsWith(EDGE)) seen.push(await r.body().catch(() => Buffer.alloc(0))); });
  try {
    await visit(page, "http://127.0.0.1:8791/");
    await page.waitForTimeout(1_000);
    const stored = await page.evaluate(() => JSON.stringify(Object.entries(localStorage)));
    const all = [stored, ...seen.map((b) => b.toString("latin1"))].join("\n");
    assert.ok(all.includes(B.id), "B's config arrived");
    for (const m of [A.name, PRODUCT, SEGMENT, A.key, modelA]) assert.ok(!all.includes(m), `leaks ${m}`);
    const config = await (await fetch(`${EDGE}/v1/config?key=${B.key}`)).json();
    const compiled = Buffer.from(config.segments, "base64url").toString("latin1");
    assert.ok(!compiled.includes(SEGMENT) && compiled.includes("vip"), "B's own segments only");
  } finally {
    await context.close();
    server.close();
  }
});

test("settings live in one place: the dashboard, the admin API and the operator API agree", async () => {
  const cookie = await login(B);
  const form = (body) => fetch(`${EDGE}/dashboard/settings`, {
    method: "POST", redirect: "manual", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body,
  });
  const saved = await form("currency=EUR&time_zone=Europe%2FBerlin&holdout_percent=15&min_support=3&count_automated=true&name=Beta+Goods");
  assert.equal(saved.status, 303);
  const bad = await form("time_zone=Mars%2FOlympus+Mons");
  assert.equal(bad.status, 422);
  assert.match(await bad.text(), /time_zone/);
  const shown = await (await op("GET", `/v1/operator/shops/${B.id}`)).json();
  assert.deepEqual(
    [shown.settings.currency, shown.settings.time_zone, shown.settings.holdout_percent, shown.settings.min_support],
    ["EUR", "Europe/Berlin", 15, 3],
  );
  const viaAdmin = await fetch(`${EDGE}/v1/admin/settings?shop=${B.id}`, {
    method: "POST", headers: { authorization: `Bearer ${B.secret}` }, body: JSON.stringify({ holdout_percent: 20 }),
  });
  assert.equal((await viaAdmin.json()).currency, "EUR", "one set of settings");
  const refused = await op("POST", `/v1/operator/shops/${B.id}/settings`, { min_support: 1 });
  assert.equal(refused.status, 400, "k ≥ 2 at the edge");
  const page = await (await fetch(`${EDGE}/dashboard/settings`, { headers: { cookie } })).text();
  assert.match(page, /value="20"/);
});

test("rotation: the old write key works for its grace period, the old secret and sessions stop at once", async () => {
  const cookie = await login(B);
  const r = await op("POST", `/v1/operator/shops/${B.id}/rotate`, { grace_hours: 0.002 });
  assert.equal(r.status, 200);
  const fresh = await r.json();
  assert.notEqual(fresh.write_key, B.key);
  const send = (key) => batch({ writeKey: key, batch: [ev("rot", { type: "page" })] });
  assert.equal((await send(B.key)).status, 200, "the old key within its grace period");
  assert.equal((await send(fresh.write_key)).status, 200, "the new key at once");
  assert.equal((await fetch(`${EDGE}/v1/profile/rot?shop=${B.id}`, { headers: { authorization: `Bearer ${B.secret}` } })).status, 401,
    "the old secret stops at once");
  const dash = await fetch(`${EDGE}/dashboard`, { redirect: "manual", headers: { cookie } });
  assert.equal(dash.status, 303, "old sessions end");
  // Grace (7.2 s) plus the per-isolate key cache (10 s) bound when every isolate refuses it.
  const started = Date.now();
  await eventually(async () => (await send(B.key)).status === 401, 25_000);
  assert.ok(Date.now() - started < 25_000);
  B.key = fresh.write_key;
  B.secret = fresh.admin_secret;
  assert.equal((await login(B)).length > 0, true);
});

test("delete after a full export removes every row, object and model of the shop", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "affinity-export-"));
  const out = shopCli("delete", A.id, "--export", dir);
  assert.match(out, /deleted/);
  const lines = (t) => fs.readFileSync(path.join(dir, `${t}.jsonl`), "utf8").split("\n").filter(Boolean).map(JSON.parse);
  assert.equal(lines("events").length, 7);
  const customers = lines("customers");
  assert.deepEqual(customers.map((c) => c.customer_id).sort(), ["alpha-only", "same-id"]);
  assert.ok(customers.every((c) => JSON.parse(c.profile).customer_id), "profiles included");
  assert.equal(lines("shops")[0].name, A.name);
  assert.ok(!("admin_hash" in lines("shops")[0]));
  assert.ok(lines("segments").some((s) => s.name === SEGMENT));
  // Gone everywhere.
  assert.equal((await batch({ writeKey: A.key, batch: [ev("x", { type: "page" })] })).status, 401);
  assert.equal((await op("GET", `/v1/operator/shops/${A.id}`)).status, 404);
  // The on-disk state read from copies (with their WAL), so no lock is ever taken on a file
  // workerd has open and no second wrangler runs beside the edge: D1, customer objects and KV,
  // each with a positive control (shop B's rows and objects, the demo shop's models) proving the
  // reading sees what is there.
  const code = `
import glob, json, os, shutil, sqlite3, sys, tempfile
state, a, b = sys.argv[1], sys.argv[2], sys.argv[3]
tmp = tempfile.mkdtemp()
def read(f, sql, args):
    copy = os.path.join(tmp, "db.sqlite")
    for suffix in ("", "-wal"):
        if os.path.exists(copy + suffix):
            os.remove(copy + suffix)
        if os.path.exists(f + suffix):
            shutil.copyfile(f + suffix, copy + suffix)
    try:
        db = sqlite3.connect(copy)
        n = db.execute(sql, args).fetchone()[0]
        db.close()
        return n
    except sqlite3.Error:
        return 0
out = {"objects_a": 0, "objects_b": 0, "models_a": 0, "models_demo": 0, "d1_a": {}, "d1_b_events": 0}
tables = ["shops", "identities", "events", "customers", "products", "product_daily", "orders", "daily",
          "models", "segments", "segment_sets", "memberships", "segment_sizes", "health_issues"]
for f in glob.glob(state + "/v3/d1/miniflare-D1DatabaseObject/*.sqlite"):
    if os.path.basename(f) == "metadata.sqlite":
        continue
    for t in tables:
        col = "id" if t == "shops" else "shop"
        out["d1_a"][t] = out["d1_a"].get(t, 0) + read(f, "SELECT COUNT(*) FROM " + t + " WHERE " + col + " = ?", (a,))
    out["d1_b_events"] += read(f, "SELECT COUNT(*) FROM events WHERE shop = ?", (b,))
for f in glob.glob(state + "/v3/do/affinity-Customer/*.sqlite"):
    out["objects_a"] += read(f, "SELECT COUNT(*) FROM meta WHERE key = 'shop' AND value = ?", (a,))
    out["objects_b"] += read(f, "SELECT COUNT(*) FROM meta WHERE key = 'shop' AND value = ?", (b,))
for f in glob.glob(state + "/v3/kv/miniflare-KVNamespaceObject/*.sqlite"):
    if os.path.basename(f) != "metadata.sqlite":
        out["models_a"] += read(f, "SELECT COUNT(*) FROM _mf_entries WHERE key LIKE ?", ("model/" + a + "/%",))
        out["models_demo"] += read(f, "SELECT COUNT(*) FROM _mf_entries WHERE key LIKE ?", ("model/demo/%",))
print(json.dumps(out))`;
  const disk = JSON.parse(execFileSync("python3", ["-c", code, STATE, A.id, B.id], { encoding: "utf8" }));
  assert.ok(disk.objects_b >= 1 && disk.models_demo >= 1 && disk.d1_b_events >= 1,
    `the reading sees what is there: ${JSON.stringify(disk)}`);
  assert.equal(Object.keys(disk.d1_a).length, 14, "every table was read");
  for (const [t, count] of Object.entries(disk.d1_a)) assert.equal(count, 0, `D1 ${t} keeps rows of shop A`);
  assert.equal(disk.objects_a, 0, "no customer object keeps shop A's data");
  assert.equal(disk.models_a, 0, "no model of shop A is left in KV");
  // Shop B is untouched.
  const p = await fetch(`${EDGE}/v1/profile/same-id?shop=${B.id}`, { headers: { authorization: `Bearer ${B.secret}` } });
  assert.equal(p.status, 200);
});

after(() => {});
