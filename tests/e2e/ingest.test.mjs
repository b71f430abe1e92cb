// The edge's ingest contract, straight over HTTP against workerd: per-event validation, idempotent
// delivery, clear 4xx for bad bodies, and nothing stored is lost by a bad request.
import { test } from "node:test";
import assert from "node:assert/strict";
import { batch, profile, EDGE, KEY } from "./lib.mjs";

const customer = `e2e-ingest-${Date.now()}`;
const now = new Date().toISOString();
const ev = (id, fields) => ({ anonymousId: customer, messageId: `${customer}-${id}`, timestamp: now, ...fields });

test("a valid batch is stored once, however often it is sent", async () => {
  const body = {
    writeKey: KEY,
    batch: [
      ev("1", { type: "page", properties: { path: "/" } }),
      ev("2", {
        type: "track", event: "Product Viewed",
        properties: { product_id: "p0001", name: "Test Boot", price: 120, category: "Shoes", x_custom: "kept" },
        x_client_field: { nested: true },
      }),
    ],
  };
  const first = await batch(body);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.json.accepted, 2);
  assert.deepEqual(first.json.errors, []);
  const again = await batch(body);
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.accepted, 0);
  assert.equal(again.json.duplicates, 2);
  const p = await profile(customer);
  assert.equal(p.counters.product_views, 1);
  assert.equal(p.counters.page_views, 1);
});

test("bad bodies get a clear 4xx and lose nothing", async () => {
  const malformed = await batch('{"writeKey":"' + KEY + '","batch":[{"type":');
  assert.equal(malformed.status, 400);
  assert.match(malformed.json.error, /malformed JSON/i);

  const huge = await batch({ writeKey: KEY, batch: [ev("big", { type: "track", event: "X", properties: { blob: "x".repeat(600 * 1024) } })] });
  assert.equal(huge.status, 413);
  assert.match(huge.json.error, /limit/);

  const unknownKey = await batch({ writeKey: "pk_nope", batch: [ev("k", { type: "page" })] });
  assert.equal(unknownKey.status, 401);

  const allBad = await batch({ writeKey: KEY, batch: [{ type: "track", anonymousId: customer }] });
  assert.equal(allBad.status, 400);
  assert.equal(allBad.json.accepted, 0);
  assert.equal(allBad.json.errors.length, 1);

  // Mixed: the valid order is kept beside two invalid events, each error says what is wrong.
  const mixed = await batch({
    writeKey: KEY,
    batch: [
      { type: "track", event: "Product Viewed", anonymousId: customer, properties: { product_id: "p2" } },
      ev("noname", { type: "track" }),
      ev("order", { type: "track", event: "Order Completed", properties: { order_id: "E2E-1", total: 120, products: [{ product_id: "p0001", price: 120, quantity: 1 }] } }),
      ev("noorder", { type: "track", event: "Order Completed", properties: { total: 5 } }),
    ],
  });
  assert.equal(mixed.status, 200, mixed.text);
  assert.equal(mixed.json.accepted, 1);
  const errors = Object.fromEntries(mixed.json.errors.map((e) => [e.index, e.error]));
  assert.deepEqual(Object.keys(errors).map(Number), [0, 1, 3]);
  assert.match(errors[0], /messageId/);
  assert.match(errors[1], /event/);
  assert.match(errors[3], /order_id/);

  const p = await profile(customer);
  assert.equal(p.counters.product_views, 1, "earlier events survive bad requests");
  assert.equal(p.counters.orders, 1);
  assert.equal(p.total_spend, 120);
});

test("CORS: shops on other origins may send without credentials", async () => {
  const r = await fetch(`${EDGE}/v1/batch`, {
    method: "OPTIONS",
    headers: { origin: "https://shop.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
  });
  assert.ok(r.status === 204 || r.status === 200, `preflight ${r.status}`);
  assert.ok(["*", "https://shop.example"].includes(r.headers.get("access-control-allow-origin")));
  const js = await fetch(`${EDGE}/affinity.js`, { headers: { origin: "https://shop.example" } });
  assert.equal(js.status, 200);
  assert.equal(js.headers.get("access-control-allow-origin"), "*");
  const wasm = await fetch(`${EDGE}/affinity_core_bg.wasm`);
  assert.equal(wasm.headers.get("content-type"), "application/wasm");
});

test("the profile API needs the shop's admin secret", async () => {
  const r = await fetch(`${EDGE}/v1/profile/${customer}?shop=demo`);
  assert.equal(r.status, 401);
  const wrong = await fetch(`${EDGE}/v1/profile/${customer}?shop=demo`, { headers: { authorization: "Bearer wrong" } });
  assert.equal(wrong.status, 401);
});

test("a linked anonymous id's later events reach its customer, also once this isolate's shortcut has expired", async () => {
  const device = `${customer}-device`;
  const user = `${customer}-user`;
  const at = (id, fields) => ({ messageId: `${customer}-link-${id}`, timestamp: new Date().toISOString(), ...fields });
  const viewed = (id) => at(id, { type: "track", event: "Product Viewed", anonymousId: device, properties: { product_id: "p0002" } });
  const linked = await batch({ writeKey: KEY, batch: [at("identify", { type: "identify", anonymousId: device, userId: user, traits: { plan: "gold" } })] });
  assert.equal(linked.status, 200, linked.text);
  assert.equal(linked.json.accepted, 1);
  // Right after the link: the Worker's per-isolate shortcut (or the device's object) routes it.
  const soon = await batch({ writeKey: KEY, batch: [viewed("1")] });
  assert.equal(soon.json.accepted, 1, soon.text);
  // After the shortcut's 10 s: only the device's own object knows the link and forwards.
  await new Promise((r) => setTimeout(r, 10_500));
  const later = await batch({ writeKey: KEY, batch: [viewed("2")] });
  assert.equal(later.json.accepted, 1, later.text);
  const again = await batch({ writeKey: KEY, batch: [viewed("2")] });
  assert.equal(again.json.duplicates, 1, "the forwarded delivery is idempotent too");
  const p = await profile(user);
  assert.equal(p.counters.product_views, 2, JSON.stringify(p.counters));
  await assert.rejects(profile(device), /404/, "the device's object holds the link, not a profile");
});
