// Seeds the demo shop: uploads its catalog (demo-site/catalog.json) as the shop's product feed,
// posts realistic synthetic shopping history through the admin seed path, then rebuilds the
// shop's item model.
//
//   node demo-site/seed.mjs EDGE_URL [--sessions N] [--key KEY] [--shop ID] [--secret S]
//                           [--seed N] [--days N] [--if-empty] [--wait]
//
// Sessions stay mostly within one or two related categories, follow per-product "next product"
// habits, and some end in add-to-carts and orders; timestamps are spread over the last 14 days.
// Everything but the clock comes from a seeded PRNG, and message ids are deterministic, so a
// second run stores nothing new (delivery is idempotent by messageId). With the admin secret
// (--secret, else $ADMIN_SECRET, else worker/.dev.vars): POST /v1/admin/catalog (the feed: the
// model's only item names, prices, URLs and images), Segment batches to POST /v1/admin/seed (like
// /v1/batch, but each seeded customer counts as its own source: the history all comes from this
// one address), then POST /v1/admin/model/rebuild. --if-empty skips the history when the shop's model
// already has events; --wait waits up to 5 minutes for the edge to come up. Plain Node ≥ 18.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const o = { edge: null, sessions: 800, key: "pk_demo_4f9c2a7d1e", shop: "demo", secret: null, seed: 7, days: 14, ifEmpty: false, wait: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i];
      if (v === undefined) fail(`${a.split("=")[0]} needs a value`);
      return v;
    };
    const name = a.split("=")[0];
    if (name === "--sessions") o.sessions = Number(value());
    else if (name === "--key") o.key = value();
    else if (name === "--shop") o.shop = value();
    else if (name === "--secret") o.secret = value();
    else if (name === "--seed") o.seed = Number(value());
    else if (name === "--days") o.days = Number(value());
    else if (a === "--if-empty") o.ifEmpty = true;
    else if (a === "--wait") o.wait = true;
    else if (a === "-h" || a === "--help") fail(null);
    else if (a.startsWith("--")) fail(`unknown option ${a}`);
    else if (o.edge === null) o.edge = a.replace(/\/+$/, "");
    else fail(`unexpected argument ${a}`);
  }
  if (!o.edge) fail("EDGE_URL is required");
  if (!(o.sessions >= 1)) fail("--sessions must be a positive number");
  return o;
}

function fail(msg) {
  if (msg) console.error(`seed.mjs: ${msg}`);
  console.error("usage: node demo-site/seed.mjs EDGE_URL [--sessions N] [--key KEY] [--shop ID] [--secret S] [--seed N] [--days N] [--if-empty] [--wait]");
  process.exit(msg ? 2 : 0);
}

function adminSecret(o) {
  if (o.secret) return o.secret;
  if (process.env.ADMIN_SECRET) return process.env.ADMIN_SECRET;
  try {
    const vars = readFileSync(join(HERE, "../worker/.dev.vars"), "utf8");
    return vars.match(/^ADMIN_SECRET\s*=\s*"?([^"\n]+)"?/m)?.[1] ?? null;
  } catch {
    return null;
  }
}

// mulberry32: small, fast, good enough for synthetic data.
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = (xs) => xs[Math.floor(next() * xs.length)];
  const weighted = (xs, w) => {
    let r = next() * w.reduce((s, x) => s + x, 0);
    for (let i = 0; i < xs.length; i++) if ((r -= w[i]) <= 0) return xs[i];
    return xs[xs.length - 1];
  };
  return { next, pick, weighted };
}

// Which departments shoppers combine in one visit.
const COMPLEMENTS = {
  "trail-shoes": ["socks", "bottles"], "hiking-boots": ["socks", "gloves"],
  "rain-jackets": ["gloves", "backpacks"], "insulated-jackets": ["gloves", "rain-jackets"],
  "backpacks": ["bottles", "headlamps"], "tents": ["sleeping-bags", "headlamps"],
  "sleeping-bags": ["tents", "headlamps"], "cookware": ["bottles", "headlamps"],
  "headlamps": ["tents", "backpacks"], "bottles": ["cookware", "backpacks"],
  "socks": ["trail-shoes", "hiking-boots"], "gloves": ["insulated-jackets", "rain-jackets"],
};

const UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

const props = (p) => ({
  product_id: p.id, sku: p.id, name: p.name, brand: p.brand, category: p.category,
  price: p.price, currency: "USD", url: `/p/${p.slug}/`, image_url: `/img/${p.id}.svg`, in_stock: p.stock > 0,
});

/** The synthetic history: a list of Segment events. */
export function history({ sessions, seed, days, now = Date.now() }) {
  const catalog = JSON.parse(readFileSync(join(HERE, "catalog.json"), "utf8"));
  const rnd = prng(seed);
  const byCat = new Map(catalog.categories.map((c) => [c.slug, []]));
  for (const p of catalog.products) byCat.get(p.category_slug).push(p);
  // Popularity within a department (bestsellers and low prices draw more views), department
  // popularity, and each product's habitual "next" products.
  const weight = new Map(catalog.products.map((p) => [p.id, (p.tags.includes("bestseller") ? 3 : 1) * (0.5 + rnd.next())]));
  const cats = catalog.categories.map((c) => c.slug);
  const catWeight = cats.map(() => 0.5 + rnd.next());
  const nextOf = new Map();
  for (const [, items] of byCat) {
    for (const p of items) {
      const others = items.filter((q) => q.id !== p.id);
      const habit = [];
      while (habit.length < 3) {
        const q = rnd.pick(others);
        if (!habit.includes(q)) habit.push(q);
      }
      nextOf.set(p.id, habit);
    }
  }
  const popular = (slug) => rnd.weighted(byCat.get(slug), byCat.get(slug).map((p) => weight.get(p.id)));

  const events = [];
  const shoppers = Math.max(1, Math.round(sessions * 0.75));
  let orders = 0;
  for (let s = 0; s < sessions; s++) {
    // Most shoppers come once; a quarter of the sessions are returning shoppers.
    const shopper = s < shoppers ? s : Math.floor(rnd.next() * shoppers);
    const anonymousId = `seed-${seed}-${String(shopper).padStart(5, "0")}`;
    let t = now - Math.floor(rnd.next() * days * 86_400_000) - 3_600_000;
    let n = 0;
    const ev = (event, properties) => {
      events.push({
        type: "track", event, properties, anonymousId,
        messageId: `seed-${seed}-${s}-${n++}`,
        timestamp: new Date(t).toISOString(),
        context: { userAgent: UA, library: { name: "affinity-seed", version: "1" } },
      });
      t += 20_000 + Math.floor(rnd.next() * 100_000);
    };
    let cat = rnd.weighted(cats, catWeight);
    const second = rnd.next() < 0.35 ? rnd.pick(COMPLEMENTS[cat]) : null;
    const length = 3 + Math.floor(-Math.log(1 - rnd.next()) * 3);
    const viewed = [];
    let current = popular(cat);
    for (let i = 0; i < length; i++) {
      ev("Product Viewed", props(current));
      viewed.push(current);
      const r = rnd.next();
      if (r < 0.55) current = rnd.pick(nextOf.get(current.id));
      else if (r < 0.8) current = popular(cat);
      else if (r < 0.92 && second) {
        cat = cat === second ? current.category_slug : second;
        current = popular(cat);
      } else current = rnd.pick(viewed);
    }
    const inStock = viewed.filter((p) => p.stock > 0);
    if (inStock.length && rnd.next() < 0.3) {
      const cart = [inStock[inStock.length - 1 - Math.floor(rnd.next() * Math.min(2, inStock.length))]];
      if (rnd.next() < 0.4) {
        const extra = popular(rnd.pick(COMPLEMENTS[cart[0].category_slug]));
        if (extra.stock > 0) {
          ev("Product Viewed", props(extra));
          cart.push(extra);
        }
      }
      for (const p of cart) ev("Product Added", { ...props(p), quantity: 1 });
      if (rnd.next() < 0.55) {
        const total = cart.reduce((sum, p) => sum + p.price, 0);
        ev("Order Completed", {
          order_id: `seed-${seed}-o${orders++}`, total, revenue: total, currency: "USD",
          products: cart.map((p) => ({ ...props(p), quantity: 1 })),
        });
      }
    }
  }
  return events;
}

/** The demo catalog as a product feed (what a merchant uploads). */
export function feed() {
  const catalog = JSON.parse(readFileSync(join(HERE, "catalog.json"), "utf8"));
  return {
    products: catalog.products.map((p) => ({
      id: p.id, name: p.name, price: p.price, category: p.category, brand: p.brand,
      url: `/p/${p.slug}/`, image: `/img/${p.id}.svg`, stock: p.stock,
    })),
  };
}

async function uploadCatalog(o, secret) {
  const r = await fetch(`${o.edge}/v1/admin/catalog?shop=${encodeURIComponent(o.shop)}`, {
    method: "POST",
    headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
    body: JSON.stringify(feed()),
  });
  const body = await r.text();
  if (!r.ok) throw new Error(`catalog: ${r.status} ${body}`);
  return JSON.parse(body);
}

async function post(o, batch, secret) {
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(`${o.edge}/v1/admin/seed?shop=${encodeURIComponent(o.shop)}`, {
      method: "POST",
      headers: { "content-type": "text/plain", authorization: `Bearer ${secret}` },
      body: JSON.stringify({ writeKey: o.key, sentAt: new Date().toISOString(), batch }),
    });
    const body = await r.json().catch(() => ({}));
    if (r.ok) return body;
    if (attempt >= 3 || r.status < 500) throw new Error(`POST /v1/admin/seed: ${r.status} ${JSON.stringify(body).slice(0, 300)}`);
    await new Promise((res) => setTimeout(res, 500 * (attempt + 1)));
  }
}

async function rebuild(o, secret) {
  const r = await fetch(`${o.edge}/v1/admin/model/rebuild?shop=${encodeURIComponent(o.shop)}`, {
    method: "POST",
    headers: { authorization: `Bearer ${secret}` },
  });
  const body = await r.text();
  if (!r.ok) throw new Error(`rebuild: ${r.status} ${body}`);
  return JSON.parse(body);
}

async function waitForEdge(o) {
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      const r = await fetch(`${o.edge}/v1/config?key=${encodeURIComponent(o.key)}`);
      if (r.ok) return;
    } catch {}
    if (Date.now() > deadline) throw new Error(`${o.edge} did not come up in 300 s`);
    await new Promise((res) => setTimeout(res, 1000));
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const secret = adminSecret(o);
  if (!secret) fail("no admin secret: pass --secret, set ADMIN_SECRET or create worker/.dev.vars");
  if (o.wait) await waitForEdge(o);
  const c = await uploadCatalog(o, secret);
  console.log(`seed: catalog of ${o.shop}: ${c.products} products`);
  if (o.ifEmpty) {
    const m = await rebuild(o, secret);
    if (m.events > 0) {
      console.log(`seed: ${o.shop} already has history (${m.events} events, model ${m.version}); nothing to do`);
      return;
    }
  }
  const events = history(o);
  const started = Date.now();
  let accepted = 0, duplicates = 0, errors = 0;
  const chunks = [];
  for (let i = 0; i < events.length; i += 200) chunks.push(events.slice(i, i + 200));
  // A few batches in flight, like many browsers at once.
  let next = 0;
  await Promise.all(Array.from({ length: 4 }, async () => {
    while (next < chunks.length) {
      const r = await post(o, chunks[next++], secret);
      accepted += r.accepted ?? 0;
      duplicates += r.duplicates ?? 0;
      errors += r.errors?.length ?? 0;
    }
  }));
  const orders = events.filter((e) => e.event === "Order Completed").length;
  console.log(`seed: ${events.length} events (${o.sessions} sessions, ${orders} orders) → ${accepted} stored, ${duplicates} duplicates, ${errors} errors in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const m = await rebuild(o, secret);
  console.log(`seed: model ${m.version}: ${m.items} items, ${m.pairs} pairs, ${m.bytes} bytes, built in ${m.build_ms} ms from ${m.sessions} sessions`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    console.error(`seed.mjs: ${e.message}`);
    process.exit(1);
  });
}
