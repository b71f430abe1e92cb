// The merchant dashboard on real data: a shop in India's time zone (+05:30) gets a few days of
// shopping through the real edge (visits with country, device and campaign context, orders, a
// refund, an order at 23:30 and one at 00:15 shop time); a merchant signs in with Chromium and
// opens every page. Every figure checked is computed here from the events sent, by plain loops
// (local days by adding 5 h 30 min by hand), never read back from the Worker's own queries.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { batch, eventually, shopper, EDGE } from "./lib.mjs";

const OPERATOR = process.env.OPERATOR_SECRET;
const stamp = Date.now().toString(36);
const SHOP = { id: `e2e-dash-${stamp}`, name: "Dash Outfitters", key: `pk_dash_${stamp}_k`, secret: `dash-secret-${stamp}-x` };
const IST = (5 * 60 + 30) * 60_000;
const DAY = 86_400_000;
const localDay = (ms) => new Date(ms + IST).toISOString().slice(0, 10);
// Three local days ending the day before yesterday, so every event is in the past.
const d0 = localDay(Date.now() - 4 * DAY);
const dayAt = (offset, h, m) => Date.parse(`${d0}T00:00:00Z`) + offset * DAY + (h * 60 + m) * 60_000 - IST;
const days = [0, 1, 2].map((i) => localDay(dayAt(i, 12, 0)));

const AGENTS = {
  desktop: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
  mobile: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
};
const WHO = {
  [`dash-a-${stamp}`]: { device: "desktop", country: "IN", source: "newsletter" },
  [`dash-b-${stamp}`]: { device: "mobile", country: "DE", source: "google" },
  [`dash-c-${stamp}`]: { device: "mobile", country: "US", source: "google" },
};
const [A, B, C] = Object.keys(WHO);
const P = {
  p1: { product_id: `p1-${stamp}`, name: "Ridge Tent", price: 50, category: "Tents", brand: "Ridge" },
  p2: { product_id: `p2-${stamp}`, name: "Camp Stove", price: 30, category: "Stoves", brand: "Flame" },
  p3: { product_id: `p3-${stamp}`, name: "Mug", price: 10, category: "Kitchen", brand: "Flame" },
};
const line = (p, quantity) => ({ ...P[p], quantity });

let n = 0;
const events = [];
function add(customer, at, fields) {
  const w = WHO[customer];
  events.push({ anonymousId: customer, messageId: `${stamp}-${++n}`, timestamp: new Date(at).toISOString(),
    context: { userAgent: AGENTS[w.device], location: { country: w.country },
      campaign: { source: w.source, name: "winter" }, page: { referrer: "https://www.example.org/" } },
    ...fields });
}
const track = (event, properties) => ({ type: "track", event, properties });
// Customer A: a full funnel and an order of 100, refunded 20 the next day; a repeat order of 30.
add(A, dayAt(0, 10, 0), { type: "page", name: "Home", properties: { path: "/" } });
add(A, dayAt(0, 10, 1), track("Product Viewed", P.p1));
add(A, dayAt(0, 10, 3), track("Product Added", P.p1));
add(A, dayAt(0, 10, 5), track("Checkout Started", {}));
add(A, dayAt(0, 10, 7), track("Order Completed", { order_id: `oa1-${stamp}`, revenue: 100, products: [line("p1", 2)] }));
add(A, dayAt(1, 12, 0), track("Order Refunded", { order_id: `oa1-${stamp}`, total: 20 }));
add(A, dayAt(2, 9, 0), { type: "page", name: "Home", properties: { path: "/" } });
add(A, dayAt(2, 9, 2), track("Product Viewed", P.p2));
add(A, dayAt(2, 9, 4), track("Order Completed", { order_id: `oa2-${stamp}`, revenue: 30, products: [line("p2", 1)] }));
// Customer B: an order at 23:30 shop time (18:00 UTC) and one at 00:15 the next day (18:45 UTC,
// still the first day in UTC).
add(B, dayAt(1, 23, 0), { type: "page", name: "Home", properties: { path: "/" } });
add(B, dayAt(1, 23, 10), track("Product Viewed", P.p1));
add(B, dayAt(1, 23, 20), track("Product Added", P.p1));
add(B, dayAt(1, 23, 25), track("Checkout Started", {}));
add(B, dayAt(1, 23, 30), track("Order Completed", { order_id: `ob1-${stamp}`, revenue: 70, products: [line("p2", 2), line("p3", 1)] }));
add(B, dayAt(2, 0, 15), track("Order Completed", { order_id: `ob2-${stamp}`, revenue: 55, products: [line("p1", 1)] }));
// Customer C: looks, does not buy; the first page states consent (marketing keeps every event).
add(C, dayAt(2, 14, 0), { type: "page", name: "Home", properties: { path: "/" } });
events.at(-1).context.consent = { level: "marketing", source: "api", categoryPreferences: { Marketing: true } };
add(C, dayAt(2, 14, 1), track("Product Viewed", P.p1));
add(C, dayAt(2, 14, 2), track("Product Viewed", P.p2));

// ---- The expected figures, by plain loops over `events`. ----
const ts = (e) => Date.parse(e.timestamp);
const named = (name) => events.filter((e) => e.event === name);
const orders = named("Order Completed");
const refunds = named("Order Refunded");
const refundOf = (id) => refunds.filter((r) => r.properties.order_id === id).reduce((s, r) => s + r.properties.total, 0);
const net = (o) => o.properties.revenue - refundOf(o.properties.order_id);
function sessions() {
  let count = 0;
  for (const c of Object.keys(WHO)) {
    const times = events.filter((e) => e.anonymousId === c).map(ts).sort((a, b) => a - b);
    times.forEach((t, i) => { if (i === 0 || t - times[i - 1] > 30 * 60_000) count++; });
  }
  return count;
}
const want = {
  visitors: new Set(events.map((e) => e.anonymousId)).size,
  sessions: sessions(),
  orders: orders.length,
  revenue: orders.reduce((s, o) => s + o.properties.revenue, 0) - refunds.reduce((s, r) => s + r.properties.total, 0),
  buyers: new Set(orders.map((o) => o.anonymousId)).size,
};
const perDay = Object.fromEntries(days.map((d) => [d, 0]));
for (const o of orders) perDay[localDay(ts(o))] += o.properties.revenue;
for (const r of refunds) perDay[localDay(ts(r))] -= r.properties.total;

let context, page;
const range = `from=${days[0]}&to=${days[2]}`;

before(async () => {
  const r = await fetch(`${EDGE}/v1/operator/shops`, {
    method: "POST", headers: { authorization: `Bearer ${OPERATOR}`, "content-type": "application/json" },
    body: JSON.stringify({ id: SHOP.id, name: SHOP.name, write_key: SHOP.key, admin_secret: SHOP.secret, time_zone: "Asia/Kolkata", currency: "INR" }),
  });
  assert.equal(r.status, 201, await r.text());
  const sent = await batch({ writeKey: SHOP.key, sentAt: new Date().toISOString(), batch: events });
  assert.equal(sent.status, 200, sent.text);
  assert.equal(sent.json.accepted, events.length, sent.text);
  ({ context, page } = await shopper());
  await page.goto(`${EDGE}/dashboard/login`);
  await page.fill('input[name="shop"]', SHOP.id);
  await page.fill('input[name="secret"]', SHOP.secret);
  await page.locator('form button[type="submit"]').first().click();
  await page.waitForURL(/\/dashboard$/);
});

after(async () => { await context?.close(); });

const value = async (sel) => Number(await page.getAttribute(sel, "data-value"));
const close = (a, b, what) => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} vs ${b}`);

test("overview: period figures, refunds off revenue, the trend by local day, freshness", async () => {
  // The D1 mirror follows each customer object's alarm: reload until every order is there.
  await eventually(async () => {
    await page.goto(`${EDGE}/dashboard?${range}`);
    return (await value("#orders")) === want.orders && (await value("#revenue")) === want.revenue
      && (await value("#sessions")) === want.sessions;
  }, 30_000);
  assert.equal(await value("#visitors"), want.visitors);
  assert.equal(await value("#sessions"), want.sessions);
  close(await value("#aov"), want.revenue / want.orders, "AOV after refunds");
  close(await value("#conversion"), want.buyers / want.visitors, "conversion");
  assert.equal(await page.textContent("#revenue"), `₹${want.revenue.toFixed(2)}`);
  assert.match(await page.textContent("#time-zone"), /Asia\/Kolkata \(UTC\+05:30\)/);
  // One bar per local day, worth that day's orders minus its refunds: the 23:30 order is on the
  // second day and the 00:15 order on the third, though both are on the second day in UTC.
  const bars = await page.$$eval("#revenue-chart rect.bar", (rs) => rs.map((r) => [r.dataset.label, Number(r.dataset.value)]));
  assert.deepEqual(bars, days.map((d) => [d, perDay[d]]));
  assert.notEqual(localDay(dayAt(2, 0, 15)), new Date(dayAt(2, 0, 15)).toISOString().slice(0, 10));
  const title = await page.textContent(`#revenue-chart rect.bar[data-label="${days[1]}"] title`);
  assert.equal(title, `${days[1]}: ₹${perDay[days[1]]} net revenue`);
  const dots = await page.$$eval("#revenue-chart circle.dot", (cs) => cs.map((c) => Number(c.dataset.value)));
  assert.deepEqual(dots, days.map((d) => orders.filter((o) => localDay(ts(o)) === d).length));
  const pageViews = events.filter((e) => e.type === "page").length;
  assert.match(await page.textContent("#install-check"), new RegExp(`Tag seen on ${pageViews} page views`));
  assert.match(await page.textContent("#freshness"), /Last event received .*after it happened/);
  // By week and by month the same period still adds up to its net revenue.
  for (const grain of ["week", "month"]) {
    await page.goto(`${EDGE}/dashboard?${range}&grain=${grain}`);
    const sum = (await page.$$eval("#revenue-chart rect.bar", (rs) => rs.map((r) => Number(r.dataset.value)))).reduce((a, b) => a + b, 0);
    close(sum, want.revenue, grain);
  }
  // A period that is not one answers 400 with the reason, and the page still works after.
  const bad = await page.goto(`${EDGE}/dashboard?from=${days[2]}&to=${days[0]}`);
  assert.equal(bad.status(), 400);
  assert.match(await page.textContent("body"), /starts .* after it ends/);
});

test("funnel: view → cart → checkout → order per customer within the window", async () => {
  const steps = ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"];
  const counts = [0, 0, 0, 0];
  for (const c of Object.keys(WHO)) {
    const mine = events.filter((e) => e.anonymousId === c);
    const first = mine.filter((e) => e.event === steps[0]).map(ts).sort((a, b) => a - b)[0];
    if (first === undefined) continue;
    counts[0]++;
    let prev = first;
    for (let i = 1; i < 4; i++) {
      const next = mine.filter((e) => e.event === steps[i] && ts(e) >= prev && ts(e) <= first + DAY).map(ts).sort((a, b) => a - b)[0];
      if (next === undefined) break;
      counts[i]++;
      prev = next;
    }
  }
  await page.goto(`${EDGE}/dashboard/funnel?${range}&window=1d`);
  const got = await page.$$eval("#funnel tr[data-step]", (rs) => rs.map((r) => Number(r.dataset.count)));
  assert.deepEqual(got, counts);
  assert.ok(counts[3] > 0 && counts[0] > counts[3], `the data exercises the funnel: ${counts}`);
  const bad = await page.goto(`${EDGE}/dashboard/funnel?${range}&segment=no-such-segment`);
  assert.equal(bad.status(), 400);
});

test("retention, customers (RFM, top customers) and products", async () => {
  await page.goto(`${EDGE}/dashboard/retention?${range}`);
  const first = {};
  for (const o of [...orders].sort((a, b) => ts(a) - ts(b))) first[o.anonymousId] ??= o.properties.order_id;
  const repeat = orders.filter((o) => first[o.anonymousId] !== o.properties.order_id).reduce((s, o) => s + net(o), 0);
  close(await value("#returning-share"), repeat / orders.reduce((s, o) => s + net(o), 0), "returning share");
  const month = (ms) => localDay(ms).slice(0, 7);
  const cohortOf = {};
  for (const o of orders) cohortOf[o.anonymousId] = [cohortOf[o.anonymousId], month(ts(o))].filter(Boolean).sort()[0];
  const m0 = await page.$$eval("#retention td.cell[data-age='0']", (cs) => cs.map((c) => [c.dataset.cohort, Number(c.dataset.customers)]));
  const cohorts = {};
  for (const c of Object.values(cohortOf)) cohorts[c] = (cohorts[c] ?? 0) + 1;
  for (const [c, size] of Object.entries(cohorts)) assert.ok(m0.some(([k, v]) => k === c && v === size), `${c}: ${m0}`);

  await page.goto(`${EDGE}/dashboard/customers`);
  const cells = await page.$$eval("#rfm-grid td.cell[data-customers]", (cs) => cs.map((c) => [Number(c.dataset.customers), Number(c.dataset.revenue)]));
  assert.equal(cells.reduce((s, c) => s + c[0], 0), want.buyers, "every buyer in one RFM cell");
  close(cells.reduce((s, c) => s + c[1], 0), want.revenue, "RFM revenue");
  const spend = {};
  for (const o of orders) spend[o.anonymousId] = (spend[o.anonymousId] ?? 0) + net(o);
  const best = Object.entries(spend).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map((e) => e[0]);
  const top = await page.$$eval("#top-customers tr[data-customer-id]", (rs) => rs.map((r) => r.dataset.customerId));
  assert.deepEqual(top, best);
  // One click on a cell saves its rule as a segment.
  const cell = page.locator("#rfm-grid td.cell[data-customers]").filter({ has: page.locator("form") }).first();
  const name = await cell.locator('input[name="name"]').getAttribute("value");
  await cell.locator("button").click();
  await page.goto(`${EDGE}/dashboard/segments`);
  assert.ok(await page.locator(`[data-segment="${name}"]`).count() > 0, `segment ${name} saved`);

  await page.goto(`${EDGE}/dashboard/products?${range}`);
  for (const p of Object.values(P)) {
    const id = p.product_id;
    const lines = orders.flatMap((o) => o.properties.products.filter((l) => l.product_id === id).map((l) => ({ o, l })));
    const views = named("Product Viewed").filter((e) => e.properties.product_id === id).length;
    const units = lines.reduce((s, { l }) => s + l.quantity, 0);
    const revenue = lines.reduce((s, { l }) => s + l.price * l.quantity, 0);
    // A refund without lines is shared evenly by the products of its order.
    const refunded = lines.reduce((s, { o }) => s + refundOf(o.properties.order_id) / o.properties.products.length, 0);
    const row = page.locator(`#products tr[data-product-id="${id}"]`);
    assert.equal(await row.locator('[data-col="views"]').textContent(), String(views), id);
    assert.equal(await row.locator('[data-col="units"]').textContent(), String(units), id);
    assert.equal(await row.locator('[data-col="revenue"]').textContent(), `₹${revenue.toFixed(2)}`, id);
    assert.equal(await row.locator('[data-col="refunded"]').textContent(), `₹${refunded.toFixed(2)}`, id);
  }
  assert.match(await page.textContent(`#products tr[data-product-id="${P.p2.product_id}"] td.with`), /Mug \(1\)/);
});

test("explore: orders by country, visitors by device, the URL holds the view, CSV export", async () => {
  const url = `${EDGE}/dashboard/explore?metric=orders&by=country&${range}`;
  await page.goto(url);
  const byCountry = {};
  for (const o of orders) byCountry[WHO[o.anonymousId].country] = (byCountry[WHO[o.anonymousId].country] ?? 0) + 1;
  const rows = await page.$$eval("#explore-table tr[data-by]", (rs) => rs.map((r) => [r.dataset.by, Number(r.dataset.value)]));
  assert.deepEqual(Object.fromEntries(rows), byCountry);
  assert.equal(await page.locator('select[name="by"] option[selected]').getAttribute("value"), "country");
  const csv = await (await page.request.get(`${EDGE}${await page.getAttribute("#csv-export", "href")}`)).text();
  const lines = csv.trim().split("\n");
  assert.equal(lines[0], "Country,Orders");
  assert.deepEqual(Object.fromEntries(lines.slice(1).map((l) => { const [k, v] = l.split(","); return [k, Number(v)]; })), byCountry);

  await page.goto(`${EDGE}/dashboard/explore?metric=visitors&by=device&${range}`);
  const byDevice = {};
  for (const [c, w] of Object.entries(WHO)) (byDevice[w.device] ??= new Set()).add(c);
  const got = await page.$$eval("#explore-table tr[data-by]", (rs) => rs.map((r) => [r.dataset.by, Number(r.dataset.value)]));
  assert.deepEqual(Object.fromEntries(got), Object.fromEntries(Object.entries(byDevice).map(([k, v]) => [k, v.size])));
  const marks = await page.$$eval("#explore-chart rect.bar", (rs) => rs.map((r) => [r.dataset.label, Number(r.dataset.value)]));
  assert.deepEqual(Object.fromEntries(marks), Object.fromEntries(got));
  const bad = await page.goto(`${EDGE}/dashboard/explore?metric=profit`);
  assert.equal(bad.status(), 400);
});

test("the customer view: orders with refunds, consent and recommendations (empty states)", async () => {
  await page.goto(`${EDGE}/dashboard/customers/${encodeURIComponent(A)}`);
  const o = orders.find((x) => x.properties.order_id === `oa1-${stamp}`);
  const row = page.locator(`#customer-orders tr[data-order-id="${o.properties.order_id}"]`);
  await eventually(async () => {
    await page.goto(`${EDGE}/dashboard/customers/${encodeURIComponent(A)}`);
    return (await row.locator('[data-col="refunded"]').textContent()) === `₹${refundOf(o.properties.order_id).toFixed(2)}`;
  }, 15_000);
  assert.equal(await row.locator('[data-col="net"]').textContent(), `₹${net(o).toFixed(2)}`);
  assert.match(await page.textContent("#consent-history"), /No consent recorded|No consent change/);
  assert.match(await page.textContent("#recommendations-shown"), /No recommendations shown/);
});

test("the customer view shows the consent the shopper's events stated", async () => {
  await page.goto(`${EDGE}/dashboard/customers/${encodeURIComponent(C)}`);
  const rows = page.locator("#consent-history tr[data-level]");
  assert.equal(await rows.count(), 1);
  assert.equal(await rows.first().getAttribute("data-level"), "marketing");
  assert.match(await rows.first().textContent(), /api/);
});
