// The shop on its own origin (another port), the plugin and /v1/* on the edge's: CORS end to end,
// and SPA navigations captured through the History API.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { shopper, delivered, eventually, profile, EDGE, SECRET, SHOP2 } from "./lib.mjs";

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

/** The two forms of the tag the demo shop's dashboard gives its owner (the overview's install card). */
async function dashboardTags() {
  const merchant = await shopper();
  try {
    await merchant.page.goto(`${EDGE}/dashboard/login`);
    await merchant.page.fill('input[name="shop"]', "demo");
    await merchant.page.fill('input[name="secret"]', SECRET);
    await merchant.page.locator('form button[type="submit"]').first().click();
    await merchant.page.waitForURL(/\/dashboard$/);
    return { script: await merchant.page.textContent("#tag-async"), import: await merchant.page.textContent("#tag-import") };
  } finally {
    await merchant.context.close();
  }
}

test("the loader also runs from the dashboard's import tag (which does not hold the page's load)", async () => {
  // The second origin's home page carries the dashboard's first form of the tag, byte for byte;
  // a copy gets the second form instead, and a call queued before the loader runs.
  const tags = await dashboardTags();
  const dir = path.join(process.env.E2E_STATE, "shop2");
  const home = fs.readFileSync(path.join(dir, "index.html"), "utf8");
  assert.ok(home.includes(tags.script), `the shop's page carries ${tags.script}`);
  const queued = '<script>affinity.q=[["track",["Import Tag Queued",{}]]]</script>';
  fs.writeFileSync(path.join(dir, "import-tag.html"), home.replace(tags.script, tags.import + queued));
  const fresh = await shopper();
  try {
    await fresh.page.goto(`${SHOP2}/import-tag.html`);
    await delivered(fresh.page);
    const anon = await fresh.page.evaluate(() => localStorage.getItem("affinity_id"));
    const p = await eventually(async () => {
      const x = await profile(anon);
      return x.counters?.page_views === 1 && x;
    });
    assert.ok((p.history ?? []).some((e) => e.name === "Import Tag Queued"), JSON.stringify(p.history));
    assert.deepEqual(fresh.errors, []);
  } finally {
    await fresh.context.close();
  }
});
