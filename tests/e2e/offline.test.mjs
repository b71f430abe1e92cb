// The edge's API down or blocked (docs/consent.md, "When the edge is down"): a shopper browses the
// demo shop through a real proxy in front of the edge; the proxy is then switched to refuse
// /v1/* (connections closed) and to hang on it (never answered) — real network failures, with
// Chromium's HTTP cache on. Every slot and the segment content still render from the config and
// model kept on the device, events wait in the queue, and they go once the API is back.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { shopper, eventually, profile, EDGE, SECRET } from "./lib.mjs";
import { startProxy } from "./proxy.mjs";
import { serveStatic } from "./static-server.mjs";

const catalog = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "../../demo-site/catalog.json"), "utf8"));
const tents = catalog.products.filter((p) => p.category === "Tents" && p.stock > 0);
const forYou = '[data-affinity-slot="for-you"] [data-affinity-item]';
const admin = (body) =>
  fetch(`${EDGE}/v1/admin/settings?shop=demo`, {
    method: "POST",
    headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

// The edge behind the proxy, and the shop on its own origin with its tag pointing at the proxy,
// as a real shop is (its pages never wait on the edge's connections).
let proxy, shop, SHOP, s;
before(async () => {
  assert.equal((await admin({ holdout_percent: 0 })).status, 200);
  const port = Number(new URL(EDGE).port);
  proxy = await startProxy(EDGE, port + 2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "affinity-offline-shop-"));
  execFileSync("node", [path.join(import.meta.dirname, "../../demo-site/build.mjs"), dir,
    "--tag-src", `${proxy.origin}/affinity.js`], { stdio: "ignore", timeout: 60_000 });
  shop = await serveStatic(dir, port + 3);
  SHOP = `http://127.0.0.1:${port + 3}`;
  s = await shopper();
});
after(async () => {
  await s?.context.close();
  await proxy?.close();
  shop?.close();
  await admin({ holdout_percent: 10 });
});

/** What the page shows once the plugin has run: for-you items, the hero variant, the queue. */
async function shown(page) {
  await page.waitForFunction(() => window.affinity?.profile, null, { timeout: 15_000 });
  await page.waitForSelector(forYou, { timeout: 10_000 });
  return page.evaluate(() => ({
    forYou: [...document.querySelectorAll('[data-affinity-slot="for-you"] [data-affinity-item]')].map((a) => a.dataset.affinityItem),
    variant: document.querySelector('[data-affinity-slot="for-you"]').dataset.affinityVariant,
    tents: document.getElementById("hero-tents")?.hasAttribute("data-affinity-on"),
    queued: JSON.parse(localStorage.getItem("affinity_queue") || "[]").map((e) => e.event ?? e.type),
    id: window.affinity.profile().customer_id,
  }));
}

test("slots and segment content render from the device while /v1/* is refused or hangs", async () => {
  const { page, errors } = s;
  // Up: three tent pages, then the home page personalizes.
  for (const p of tents.slice(0, 3)) {
    await page.goto(`${SHOP}/p/${p.slug}/`);
    await page.waitForSelector('[data-affinity-slot="similar"] [data-affinity-item]');
  }
  await page.goto(`${SHOP}/`);
  const up = await shown(page);
  assert.equal(up.variant, "personalized");
  assert.ok(up.forYou.length >= 4, `for-you ${up.forYou}`);
  assert.equal(up.tents, true, "in the tent-shoppers segment");
  await eventually(() => page.evaluate(() => !localStorage.getItem("affinity_queue")));

  for (const mode of ["refuse", "hang"]) {
    proxy.mode = mode;
    const seen = proxy.log.length;
    const product = tents[mode === "refuse" ? 3 : 4];
    await page.goto(`${SHOP}/p/${product.slug}/`);
    await page.waitForSelector('[data-affinity-slot="similar"] [data-affinity-item]', { timeout: 10_000 });
    await page.goto(`${SHOP}/`);
    const down = await shown(page);
    assert.equal(down.variant, "personalized", mode);
    assert.ok(down.forYou.length >= 4, `${mode}: for-you ${down.forYou}`);
    assert.equal(down.tents, true, `${mode}: segment content`);
    // The API was asked and failed for real: the proxy saw the plugin's requests in this mode
    // (the batch; the config comes from the HTTP cache for 60 s, the model from the device).
    const api = proxy.log.slice(seen).filter((r) => r.url.startsWith("/v1/"));
    assert.ok(api.some((r) => r.mode === mode && r.url.startsWith("/v1/batch")), JSON.stringify(api));
    // What was captured meanwhile waits in the queue.
    await eventually(async () => (await page.evaluate(() => localStorage.getItem("affinity_queue") || "")).includes(product.id));
  }
  assert.deepEqual(errors, []);

  // Back up: the queue drains to the edge, the offline views included.
  proxy.mode = "up";
  await page.goto(`${SHOP}/`);
  const back = await shown(page);
  await eventually(() => page.evaluate(() => !localStorage.getItem("affinity_queue")), 20_000);
  const edge = await eventually(async () => {
    const p = await profile(back.id);
    const recent = p.recent?.map((r) => r.id) ?? [];
    return recent.includes(tents[3].id) && recent.includes(tents[4].id) ? p : null;
  }, 20_000);
  assert.ok(edge.counters.product_views >= 5);
});
