// Segments end to end: the demo shop's default `tent-shoppers` segment decides the home page hero
// in the shopper's browser without flicker (sampled every animation frame from document start),
// the customer's Durable Object puts the shopper in the segment at the edge and mirrors it to D1,
// the dashboard counts, validates and previews, and an alarm moves a customer out of a segment
// when its time window closes with no new event.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { shopper, delivered, eventually, profile, batch, EDGE, SECRET, KEY, visit } from "./lib.mjs";

const { context, page, errors } = await shopper();
after(() => context.close());

// Installed before any page script: records, for every animation frame (and every DOM change),
// whether each hero variant is rendered visible.
await page.addInitScript(() => {
  const ids = ["hero-default", "hero-tents"];
  const frames = (window.__heroFrames = []);
  const visible = (el) => {
    if (!el || !el.isConnected) return false;
    const cs = getComputedStyle(el);
    if (cs.display === "none" || cs.visibility === "hidden" || Number(cs.opacity) === 0) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const sample = (why) => {
    const f = { why, t: performance.now() };
    for (const id of ids) f[id] = visible(document.getElementById(id));
    frames.push(f);
  };
  const loop = () => {
    sample("frame");
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
  new MutationObserver(() => sample("mutation")).observe(document, {
    subtree: true, childList: true, attributes: true,
  });
});

const frames = () => page.evaluate(() => window.__heroFrames);
const decided = () => page.waitForFunction(
  () => !document.documentElement.classList.contains("affinity-wait") &&
    document.getElementById("hero-default") && window.__heroFrames.length > 3, null, { timeout: 10_000 });
const count = (fs, id) => fs.filter((f) => f[id]).length;

let anon;

test("a first visit never paints the tent hero; the default hero shows after the decision", async () => {
  await page.goto(`${EDGE}/`);
  await decided();
  await page.waitForTimeout(300);
  const fs = await frames();
  assert.equal(count(fs, "hero-tents"), 0, "tent hero visible in no frame");
  assert.ok(count(fs, "hero-default") >= 1, "default hero shown");
  assert.ok(await page.isVisible("#hero-default"));
});

test("after viewing two tents, the next load shows the tent hero and never paints the default", async () => {
  await page.goto(`${EDGE}/c/tents/`);
  // The category's own listing (recommendation slots on the page may show other products).
  const links = await page.$$eval('.grid[data-sortable] a[href^="/p/"]',
    (as) => [...new Set(as.map((a) => a.getAttribute("href")))]);
  assert.ok(links.length >= 2, "the tents category lists two products");
  for (const href of links.slice(0, 2)) await visit(page, `${EDGE}${href}`);
  await delivered(page);
  anon = await page.evaluate(() => localStorage.getItem("affinity_id"));
  await page.goto(`${EDGE}/`);
  await decided();
  await page.waitForTimeout(300);
  const fs = await frames();
  assert.ok(fs.length >= 5, `sampled ${fs.length} frames`);
  assert.equal(count(fs, "hero-default"), 0, "default hero visible in no frame");
  assert.ok(count(fs, "hero-tents") >= 1, "tent hero shown");
  assert.ok(await page.isVisible("#hero-tents"));
  assert.deepEqual(errors, [], "no page errors");
});

test("the customer's object is in the segment at the edge", async () => {
  const p = await eventually(async () => {
    const x = await profile(anon);
    return x.segments?.includes("tent-shoppers") && x;
  }, 15_000);
  const held = p.segment_state.find((s) => s.name === "tent-shoppers");
  assert.ok(held.member && held.entered_at > 0, "entry time kept");
});

test("the dashboard counts, validates and previews segments", async () => {
  await page.goto(`${EDGE}/dashboard/login`);
  await page.fill('input[name="shop"]', "demo");
  await page.fill("#secret", SECRET);
  await page.click("#login-submit");
  await page.waitForURL(/\/dashboard$/);
  await page.click("#nav-segments");
  const size = await eventually(async () => {
    await page.goto(`${EDGE}/dashboard/segments`);
    const s = Number(await page.getAttribute('tr[data-segment="tent-shoppers"]', "data-size"));
    return s >= 1 && s;
  }, 15_000);
  assert.ok(size >= 1);
  assert.ok(await page.locator('tr[data-segment="tent-shoppers"] svg.spark').count() === 1, "sparkline");

  // The validate endpoint: the engine's error with line and column.
  // (The list page's policy allows no fetch; the request shares the signed-in cookie.)
  const res = await page.request.post(`${EDGE}/dashboard/segments/validate`, {
    form: { name: "broken", source: 'performed "Product Viewed"\nand total_spend >' },
  });
  const v = { status: res.status(), json: await res.json() };
  assert.equal(v.status, 200);
  assert.equal(v.json.ok, false);
  assert.equal(v.json.error.line, 2);
  assert.ok(v.json.error.column >= 1);
  assert.ok(v.json.error.message.length > 0);

  // Live validation in the editor (its inline script runs under the page's CSP).
  const cspErrors = [];
  page.on("console", (m) => { if (/Content.Security.Policy/i.test(m.text())) cspErrors.push(m.text()); });
  await page.goto(`${EDGE}/dashboard/segments/new`);
  await page.fill("#segment-name", "broken-one");
  await page.fill("#segment-rule", "total_spend >\n  and orders = 1");
  await page.waitForSelector('#rule-status[data-line="2"]');
  assert.ok(await page.isVisible("#rule-error"), "caret shown");
  assert.match(await page.textContent("#rule-error"), /\^/);

  // Preview: the tent rule counts the shopper's stored profile at the edge.
  await page.fill("#segment-rule",
    'performed "Product Viewed" where category = "Tents" at least 2 times in the last 7 days');
  await page.waitForSelector("#rule-status.rule-ok");
  const previewed = await eventually(async () => {
    await page.click("#preview");
    const el = await page.waitForSelector("#preview-count[data-count]");
    const n = Number(await el.getAttribute("data-count"));
    return n >= 1 && n;
  }, 15_000);
  assert.ok(previewed >= 1);
  assert.deepEqual(cspErrors, [], "no CSP violations");

  // Saving an invalid rule re-shows the editor with the error.
  await page.fill("#segment-rule", "orders >");
  await page.click("#save");
  await page.waitForSelector("#rule-status.rule-bad");
  assert.equal(await page.inputValue("#segment-rule"), "orders >");

  // The customer page lists the segment with its entry time.
  await page.goto(`${EDGE}/dashboard/customers/${encodeURIComponent(anon)}`);
  await page.waitForSelector('#customer-segments [data-segment="tent-shoppers"][data-member="1"] time');
});

test("the object's alarm moves a customer out when a window closes with no new event", async () => {
  const name = `just-viewed-${Date.now().toString(36)}`;
  await page.goto(`${EDGE}/dashboard/segments/new`);
  await page.fill("#segment-name", name);
  // Its own category, so nobody else is in it.
  const category = `Alarm ${name}`;
  await page.fill("#segment-rule", `performed "Product Viewed" where category = "${category}" in the last 1 minute`);
  await page.click("#save");
  await page.waitForSelector(`tr[data-segment="${name}"]`);

  // One event 52 s old: inside the 1-minute window for ~8 s more.
  const id = `alarm-${Date.now().toString(36)}`;
  const sent = Date.now();
  const r = await batch({
    writeKey: KEY,
    batch: [{
      type: "track", event: "Product Viewed", anonymousId: id, messageId: `${id}-m1`,
      timestamp: new Date(sent - 52_000).toISOString(),
      properties: { product_id: "tent-x", category, price: 199 },
    }],
  });
  assert.equal(r.status, 200, r.text);
  // The answer means the event is durable; the object evaluates segments right after it.
  const inside = await eventually(async () => (await profile(id)).segments.includes(name), 5_000);
  assert.ok(inside, `in ${name} right after the event`);
  // No further event: only the alarm can move the customer out.
  const out = await eventually(async () => {
    const p = await profile(id);
    return !p.segments.includes(name) && p;
  }, 30_000);
  const left = Date.now();
  const held = out.segment_state.find((s) => s.name === name);
  assert.equal(held.member, false);
  assert.ok(held.exited_at >= sent - 52_000 + 60_000 - 1_000, "left when the window closed");
  assert.ok(left - sent < 40_000, `out within a bounded wait (${left - sent} ms)`);
  // The D1 mirror follows: the dashboard's size goes back to zero.
  await eventually(async () => {
    await page.goto(`${EDGE}/dashboard/segments`);
    return (await page.getAttribute(`tr[data-segment="${name}"]`, "data-size")) === "0";
  }, 15_000);
});
