// Attacks on the catalog and the model with only the public write key (it is in every page):
// events that rename, reprice and relink real products, and bursts of junk for an unknown id
// and for a real one, all dated inside the model's build window (yesterday), then a rebuild.
// The model's names, prices and URLs are the catalog's; an id outside the catalog never ships;
// one source moves a popularity by a bounded amount. The catalog feed itself needs the admin
// secret and is checked whole.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { shopper, batch, EDGE, KEY, SECRET } from "./lib.mjs";

const catalog = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "../../demo-site/catalog.json"), "utf8"));
const byId = new Map(catalog.products.map((p) => [p.id, p]));
const DAY = 86_400_000;
// Noon yesterday (UTC): inside the window a build made today reads.
const yesterday = Math.floor(Date.now() / DAY) * DAY - DAY / 2;
const stamp = Date.now();
const EVIL = '<img src=x onerror="window.__pwned=1">';

const admin = (p, body) =>
  fetch(`${EDGE}${p}`, {
    method: "POST",
    headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });

async function rebuild() {
  const r = await admin("/v1/admin/model/rebuild?shop=demo");
  const text = await r.text();
  assert.equal(r.status, 200, text);
  return JSON.parse(text);
}

/** Ids and popularity levels of the served model (format 5: docs/recommend.md). */
async function modelTable() {
  const bytes = new Uint8Array(await (await fetch(`${EDGE}/v1/model?key=${KEY}`, { headers: { "cache-control": "no-cache" } })).arrayBuffer());
  assert.equal(String.fromCharCode(...bytes.slice(0, 4)), "AFYM");
  assert.equal(bytes[4], 5, "format version");
  let pos = 5;
  const varint = () => {
    let v = 0, shift = 0, b;
    do { b = bytes[pos++]; v += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return v;
  };
  varint(); // flags
  pos += 32; // params: 8 f32
  const n = varint();
  const ids = [];
  let prev = new Uint8Array();
  for (let i = 0; i < n; i++) {
    const shared = varint();
    const len = varint();
    const id = new Uint8Array([...prev.slice(0, shared), ...bytes.slice(pos, pos + len)]);
    pos += len;
    ids.push(new TextDecoder().decode(id));
    prev = id;
  }
  const pop = new Map(ids.map((id, i) => [id, bytes[pos + i]]));
  return { ids, pop };
}

const levelValue = (l) => (l === 0 ? 0 : 2 ** ((l - 1) / 4));

async function post(events) {
  for (let i = 0; i < events.length; i += 200) {
    const r = await batch({ writeKey: KEY, batch: events.slice(i, i + 200) });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.errors, []);
  }
}

test("events cannot rename, reprice or relink products: names, prices and URLs are the catalog's", async () => {
  const targets = catalog.products.filter((p) => p.stock > 0).slice(0, 18);
  await post(targets.map((p, i) => ({
    type: "track", event: "Product Viewed", anonymousId: `attacker-${stamp}-${i}`,
    messageId: `atk-${stamp}-${i}`, timestamp: new Date(yesterday + i * 1000).toISOString(),
    properties: { product_id: p.id, name: EVIL, price: 1, category: "Pwned", url: "javascript:window.__pwned=2",
      image_url: "javascript:window.__pwned=3", in_stock: true },
  })));
  await rebuild();
  const { context, page, errors } = await shopper();
  try {
    await page.goto(`${EDGE}/p/${targets[0].slug}/`);
    await page.goto(`${EDGE}/`);
    await page.waitForSelector('[data-affinity-slot="popular"] [data-affinity-item]');
    await page.waitForSelector('[data-affinity-slot="for-you"] [data-affinity-item]');
    const cards = await page.$$eval("[data-affinity-slot] [data-affinity-item]", (as) => as.map((a) => ({
      id: a.dataset.affinityItem, href: a.getAttribute("href"), img: a.querySelector("img")?.getAttribute("src"),
      name: a.querySelector(".affinity-name")?.textContent, price: a.querySelector(".affinity-price")?.textContent,
    })));
    assert.ok(cards.length >= 8, JSON.stringify(cards));
    for (const c of cards) {
      const p = byId.get(c.id);
      assert.ok(p, `${c.id} is a catalog product`);
      assert.equal(c.name, p.name);
      assert.equal(Number(c.price.replace(/[^0-9.]/g, "")), p.price, `${c.id} price ${c.price}`);
      assert.equal(c.href, `/p/${p.slug}/`);
      assert.equal(c.img, `/img/${p.id}.svg`);
    }
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});

test("2,000 junk events for an unknown id or from one burst of fresh ids move popularity by a bounded amount", async () => {
  const before = await modelTable();
  // The least popular catalog product in the served model: a burst would make it the top one.
  const target = catalog.products.map((p) => p.id).sort((a, b) => before.pop.get(a) - before.pop.get(b))[0];
  const events = [];
  for (let i = 0; i < 2000; i++) {
    const id = i % 2 ? "p-1" : target;
    events.push({ type: "track", event: "Product Viewed", anonymousId: `burst-${stamp}-${i % 40}`,
      messageId: `burst-${stamp}-${i}`, timestamp: new Date(yesterday + i * 10).toISOString(),
      properties: { product_id: id, name: "Junk", price: 1 } });
  }
  await post(events);
  const built = await rebuild();
  assert.equal(built.items, catalog.products.length, "the model carries the catalog, nothing else");
  const after = await modelTable();
  assert.ok(!after.ids.includes("p-1"), "an id outside the catalog is never in the model");
  // 40 fresh ids from one address and browser are one source: at most 4 shoppers more, then a
  // level's rounding (docs/privacy.md).
  const [b, a] = [levelValue(before.pop.get(target)), levelValue(after.pop.get(target))];
  assert.ok(a <= b * 2 ** 0.25 + 4 + 1e-9, `${target}: ${b} → ${a}`);
  const top = Math.max(...after.pop.values());
  assert.ok(after.pop.get(target) < top, `${target} became the most popular`);
});

test("the catalog feed needs the admin secret and is checked whole: a bad product changes nothing", async () => {
  const open = await fetch(`${EDGE}/v1/admin/catalog?shop=demo`, { method: "POST", body: "{\"products\":[]}" });
  assert.equal(open.status, 401);
  const bad = await admin("/v1/admin/catalog?shop=demo", { products: [
    { id: "p0001", name: "Fine" },
    { id: "p0002", name: "Evil", url: "javascript:alert(1)" },
  ] });
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error, /product 1 \("p0002"\): `url`/);
  const built = await rebuild();
  assert.equal(built.items, catalog.products.length, "the catalog is as it was");
});
