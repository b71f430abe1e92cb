// The shop on its own origin (another port), the plugin and /v1/* on the edge's: CORS end to end,
// and SPA navigations captured through the History API.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { shopper, delivered, eventually, profile, SHOP2 } from "./lib.mjs";

const { context, page, errors } = await shopper();
after(() => context.close());

test("a shop on another origin loads the plugin and delivers to the edge", async () => {
  await page.goto(`${SHOP2}/`);
  // The plugin loads async: a shopper who leaves before it runs is not tracked, so wait.
  await delivered(page);
  const href = await page.$eval('a[href^="/p/"]', (a) => a.getAttribute("href"));
  await page.goto(`${SHOP2}${href}`);
  await delivered(page);
  const anon = await page.evaluate(() => localStorage.getItem("affinity_id"));
  // An SPA-style navigation: pushState alone must produce a page view.
  await page.evaluate(() => history.pushState({}, "", "/c/virtual/"));
  await eventually(() => page.evaluate(() => window.affinity.profile().counters.page_views === 3)).catch(async (e) => {
    throw new Error(`${e.message}; profile: ${JSON.stringify(await page.evaluate(() => window.affinity.profile().counters))}`);
  });
  await delivered(page);
  const p = await eventually(async () => {
    const x = await profile(anon);
    return x.counters?.page_views === 3 && x;
  });
  assert.equal(p.counters.product_views, 1);
  assert.deepEqual(errors, []);
});
