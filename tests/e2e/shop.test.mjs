// A shopper in Chromium on the demo shop (same origin as the edge): browse, view products, search,
// add to cart, check out. The events reach the customer's Durable Object and D1, the signed-in
// dashboard shows the order and the customer, and the recently-viewed widget shows what was seen.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { shopper, delivered, eventually, profile, visit, EDGE, SECRET } from "./lib.mjs";

const { context, page, errors } = await shopper();
after(() => context.close());

const productId = () =>
  page.$$eval('script[type="application/ld+json"]', (nodes) =>
    nodes.map((n) => JSON.parse(n.textContent)).find((j) => j["@type"] === "Product")?.productID);

const viewed = [];
let anon;
let orderId;

test("browsing, search, cart and checkout are captured without shop code", async () => {
  await visit(page, `${EDGE}/`);
  const category = await page.$eval('a[href^="/c/"]', (a) => a.getAttribute("href"));
  await visit(page, `${EDGE}${category}`);
  const links = await page.$$eval('a[href^="/p/"]', (as) => [...new Set(as.map((a) => a.getAttribute("href")))]);
  assert.ok(links.length >= 3, "a category lists at least three products");
  for (const href of links.slice(0, 3)) {
    await visit(page, `${EDGE}${href}`);
    viewed.push(await productId());
  }
  // Add the last in-stock product we looked at to the cart, through the shop's own form.
  for (const href of links.slice(0, 6).reverse()) {
    await visit(page, `${EDGE}${href}`);
    const button = page.locator('form[action="/cart/add"] button[type="submit"]').first();
    if (await button.isEnabled()) {
      await button.click();
      break;
    }
  }
  if (!viewed.includes(await productId())) viewed.push(await productId());
  await visit(page, `${EDGE}/search/?q=tent`);
  await visit(page, `${EDGE}/cart/`);
  await visit(page, `${EDGE}/checkout/`);
  const form = page.locator("form").filter({ has: page.locator('input[type="email"]') }).first();
  for (const input of await form.locator("input:not([type=hidden]):not([type=submit])").all()) {
    const type = await input.getAttribute("type");
    if ((await input.inputValue()) !== "") continue;
    await input.fill(type === "email" ? "ada@example.com" : type === "number" || type === "tel" ? "4242424242424242" : "Ada Lovelace");
  }
  await form.locator('button[type="submit"], input[type="submit"]').first().click();
  await page.waitForURL(/\/order\//);
  orderId = new URL(page.url()).searchParams.get("id");
  assert.ok(orderId, "the confirmation URL carries the order id");
  await delivered(page);
  anon = await page.evaluate(() => localStorage.getItem("affinity_id"));

  const local = await page.evaluate(() => window.affinity.profile());
  assert.equal(local.counters.orders, 1);
  assert.ok(local.counters.searches >= 1);
  assert.deepEqual(errors, [], "no page errors");
});

test("the customer's Durable Object has the same profile", async () => {
  const p = await eventually(async () => {
    const x = await profile(anon);
    return x.counters?.orders === 1 && x;
  });
  assert.ok(p.counters.product_views >= 3);
  assert.ok(p.counters.cart_adds >= 1);
  assert.ok(p.counters.checkouts >= 1);
  assert.ok(p.counters.searches >= 1);
  assert.equal(p.orders[0].id, orderId);
  assert.ok(p.total_spend > 0);
  for (const id of viewed) assert.ok(p.recent.some((r) => r.id === id), `recently viewed ${id}`);
});

test("the signed-in dashboard shows the order and the customer", async () => {
  await page.goto(`${EDGE}/dashboard`);
  await page.fill('input[name="shop"]', "demo");
  await page.fill('input[name="secret"]', "wrong");
  await page.locator('form button[type="submit"], form input[type="submit"]').first().click();
  assert.equal(await page.locator(`[data-order-id]`).count(), 0, "a wrong secret shows nothing");
  await page.fill('input[name="secret"]', SECRET);
  await page.locator('form button[type="submit"], form input[type="submit"]').first().click();
  await page.waitForURL(/\/dashboard$/);
  // The D1 mirror follows the customer object's alarm: reload until the order is there.
  await eventually(async () => {
    await page.goto(`${EDGE}/dashboard`);
    return (await page.locator(`[data-order-id="${orderId}"]`).count()) > 0;
  }, 15_000);
  assert.ok(await page.locator(`[data-customer-id="${anon}"]`).count() > 0, "customer listed");
  await page.goto(`${EDGE}/dashboard/customers/${encodeURIComponent(anon)}`);
  const text = await page.textContent("body");
  assert.match(text, /Order Completed/);
  assert.match(text, new RegExp(orderId));
});

test("the recently-viewed widget shows the viewed products", async () => {
  await page.goto(`${EDGE}/`);
  const slot = '[data-affinity-slot="recently-viewed"] [data-affinity-item]';
  await page.waitForSelector(slot);
  const shown = await page.$$eval(slot, (as) => as.map((a) => a.dataset.affinityItem));
  for (const id of viewed.slice(-3)) assert.ok(shown.includes(id), `${id} in ${shown}`);
  const popular = '[data-affinity-slot="popular"] [data-affinity-item]';
  await page.waitForSelector(popular);
  assert.ok((await page.locator(popular).count()) > 0, "popular products from the edge's model");
});
