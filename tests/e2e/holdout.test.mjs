// The recommendation holdout end to end: with the shop's holdout at 100 %, a shopper's
// personalized slots show the non-personalized popular ranking (the same as a page's first
// popular slot: later slots on one page skip what earlier ones show), marked `variant = holdout`
// on the slot and in the impression events the dashboard measures lift with. (recs.test.mjs covers the
// personalized side with the holdout at 0 %.)
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { shopper, delivered, visit, profile, eventually, EDGE, SECRET } from "./lib.mjs";

const admin = (p, body) =>
  fetch(`${EDGE}${p}`, {
    method: "POST",
    headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

let context, page;
before(async () => {
  const r = await admin("/v1/admin/settings?shop=demo", { holdout_percent: 50 });
  assert.equal(r.status, 200, await r.text());
  const over = await admin("/v1/admin/settings?shop=demo", { holdout_percent: 101 });
  assert.equal(over.status, 400, "an out-of-range holdout is refused");
  const full = await admin("/v1/admin/settings?shop=demo", { holdout_percent: 100 });
  assert.equal(full.status, 200);
  ({ context, page } = await shopper());
});
after(async () => {
  await admin("/v1/admin/settings?shop=demo", { holdout_percent: 10 });
  await context?.close();
});

test("a held-out shopper sees the popular ranking in personalized slots", async () => {
  await visit(page, `${EDGE}/c/tents/`);
  const links = await page.$$eval('a[href^="/p/"]', (as) => [...new Set(as.map((a) => a.getAttribute("href")))]);
  for (const href of links.slice(0, 3)) await visit(page, `${EDGE}${href}`);
  await visit(page, `${EDGE}/`);
  const forYou = '[data-affinity-slot="for-you"]';
  await page.waitForSelector(`${forYou} [data-affinity-item]`);
  assert.equal(await page.getAttribute(forYou, "data-affinity-variant"), "holdout");
  const popular = '[data-affinity-slot="popular"]';
  await page.waitForSelector(`${popular} [data-affinity-item]`);
  const ids = (sel) => page.$$eval(`${sel} [data-affinity-item]`, (as) => as.map((a) => a.dataset.affinityItem));
  const mine = await ids(forYou);
  // No product twice on one page: the home page's popular slot, below for-you, skips its items.
  const below = await ids(popular);
  assert.deepEqual(below.filter((id) => mine.includes(id)), [], `${mine} / ${below}`);
  // The popular ranking itself: the order page's only slot (no order in this browser, so the
  // page reports nothing).
  await visit(page, `${EDGE}/order/`);
  await page.waitForSelector(`${popular} [data-affinity-item]`);
  const pop = await ids(popular);
  const n = Math.min(mine.length, pop.length);
  assert.ok(n >= 3, `${mine} / ${pop}`);
  assert.deepEqual(mine.slice(0, n), pop.slice(0, n), "holdout = the popular ranking");

  // The impression the edge counts carries the variant.
  await delivered(page);
  const anon = await page.evaluate(() => localStorage.getItem("affinity_id"));
  await eventually(async () => (await profile(anon)).counters?.page_views >= 5);
  const r = await fetch(`${EDGE}/dashboard/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `shop=demo&secret=${encodeURIComponent(SECRET)}`,
    redirect: "manual",
  });
  const cookie = r.headers.get("set-cookie")?.split(";")[0];
  assert.ok(cookie, "signed in");
  await eventually(async () => {
    const html = await (await fetch(`${EDGE}/dashboard/recommendations`, { headers: { cookie } })).text();
    return /data-slot="for-you"[^>]*data-variant="holdout"|data-variant="holdout"[^>]*data-slot="for-you"/.test(html);
  });
});
