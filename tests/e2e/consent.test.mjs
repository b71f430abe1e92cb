// Consent end to end (docs/consent.md): a whole shopping journey at each level in a fresh Chromium,
// with every request (URL, method, headers, body), every cookie and every storage write
// (localStorage, sessionStorage, IndexedDB, Cache Storage) recorded, and exactly what each level
// may send and keep asserted; then changes of level mid-visit (downwards at once, upwards from
// the next event), the consent history at the edge, and the consent platforms' stubs (TCF v2.2,
// Google Consent Mode v2, Shopify customerPrivacy) and the browser's GPC signal.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { shopper, eventually, profile, EDGE, KEY, SECRET } from "./lib.mjs";

const catalog = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "../../demo-site/catalog.json"), "utf8"));
const tents = catalog.products.filter((p) => p.category === "Tents" && p.stock > 0).slice(0, 2);
const tentCategory = catalog.categories.find((c) => c.name === "Tents");
const PLUGIN_FILES = ["/affinity.js", "/affinity_core.js", "/affinity_core_bg.wasm"];
const admin = (p, body) =>
  fetch(`${EDGE}${p}`, {
    method: "POST",
    headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

before(async () => {
  // Personalized slots for every shopper of this file; put back afterwards.
  const r = await admin("/v1/admin/settings?shop=demo", { holdout_percent: 0 });
  assert.equal(r.status, 200, await r.text());
});
after(async () => {
  await admin("/v1/admin/settings?shop=demo", { holdout_percent: 10, consent_default: "marketing" });
});

/**
 * Installed before any page script: a consent choice queued the documented way (before the tag
 * runs), and a record of every storage write, sent to the test as it happens.
 */
function instrument(level) {
  window.__level = level;
  if (level) window.affinity = { q: [["consent", [level]]] };
  const rec = (...w) => window.__write?.(w.map((x) => String(x).slice(0, 300)));
  for (const m of ["setItem", "removeItem", "clear"]) {
    const f = Storage.prototype[m];
    Storage.prototype[m] = function (...a) {
      rec(this === window.localStorage ? "localStorage" : "sessionStorage", m, ...a);
      return f.apply(this, a);
    };
  }
  // about:blank has no Cache Storage; the shop's pages (a secure context: 127.0.0.1) do.
  if (typeof IDBFactory !== "undefined") {
    const open = IDBFactory.prototype.open;
    IDBFactory.prototype.open = function (...a) {
      rec("indexedDB", "open", a[0]);
      return open.apply(this, a);
    };
  }
  if (typeof CacheStorage !== "undefined") {
    const cacheOpen = CacheStorage.prototype.open;
    CacheStorage.prototype.open = function (...a) {
      rec("caches", "open", a[0]);
      return cacheOpen.apply(this, a);
    };
    for (const m of ["put", "add", "addAll"]) {
      const f = Cache.prototype[m];
      Cache.prototype[m] = function (...a) {
        rec("caches", m, a[0]?.url ?? a[0]);
        return f.apply(this, a);
      };
    }
  }
  const cookie = Object.getOwnPropertyDescriptor(Document.prototype, "cookie");
  Object.defineProperty(Document.prototype, "cookie", {
    get() { return cookie.get.call(this); },
    set(v) { rec("cookie", "set", v); cookie.set.call(this, v); },
  });
}

/** A fresh shopper whose requests and storage writes are recorded. */
async function recorded(level, init) {
  const s = await shopper();
  const requests = [];
  const writes = [];
  const pending = [];
  s.context.on("request", (r) => {
    const entry = { url: r.url(), method: r.method(), body: r.postData() ?? "", type: r.resourceType() };
    requests.push(entry);
    pending.push(r.allHeaders().then((h) => { entry.headers = h; }).catch(() => { entry.headers = {}; }));
  });
  await s.context.exposeFunction("__write", (w) => writes.push(w));
  if (init) await s.context.addInitScript(init);
  await s.context.addInitScript(instrument, level);
  const settled = () => Promise.all(pending);
  return { ...s, requests, writes, settled };
}

/**
 * The plugin loaded, captured the page and knows the level (on a first visit it waits for the
 * shop's config: a shopper who leaves before is neither stored nor sent).
 */
async function loaded(page) {
  await page.waitForFunction(() => window.affinity?.profile && window.affinity.consent(), null, { timeout: 15_000 });
}

/** The ids this device uses (read on every page: at `none` the id lives in memory only). */
async function ids(page, seen) {
  const p = await page.evaluate(() => window.affinity.profile());
  seen.add(p.customer_id);
  for (const a of p.anonymous_ids) seen.add(a);
  return p;
}

/**
 * One shopping journey: home, a category, two tent pages, add to cart, cart, checkout, order,
 * the shop identifying the shopper, home again; then the page goes away (pagehide flushes).
 */
async function journey(s, level) {
  const { page } = s;
  const seen = new Set();
  const user = `user-consent-${level}`;
  const email = `${level}@consent.example`;
  await page.goto(`${EDGE}/`);
  await loaded(page);
  await ids(page, seen);
  await page.goto(`${EDGE}/c/${tentCategory.slug}/`);
  for (const p of tents) {
    await page.goto(`${EDGE}/p/${p.slug}/`);
    await loaded(page);
    // The model ranks on the device at every level, `none` included.
    await page.waitForSelector('[data-affinity-slot="similar"] [data-affinity-item]');
    await ids(page, seen);
  }
  await page.locator('form[action="/cart/add"] button[type="submit"]').first().click();
  await page.goto(`${EDGE}/cart/`);
  await loaded(page);
  await page.goto(`${EDGE}/checkout/`);
  const form = page.locator("#checkout-form");
  for (const input of await form.locator("input:not([type=hidden]):not([type=submit])").all()) {
    if ((await input.inputValue()) !== "") continue;
    await input.fill((await input.getAttribute("type")) === "email" ? "shopper@checkout.example" : "Ada Lovelace");
  }
  await form.locator('button[type="submit"]').first().click();
  await page.waitForURL(/\/order\//);
  await loaded(page);
  await page.evaluate(([u, e]) => window.affinity.identify(u, { email: e }), [user, email]);
  await page.waitForTimeout(1_500);
  await ids(page, seen);
  await page.goto(`${EDGE}/`);
  await loaded(page);
  const local = await ids(page, seen);
  // Above `none` the model is kept on the device; it opens after the first paint, and for-you
  // renders once it has.
  if (level !== "none") await page.waitForSelector('[data-affinity-slot="for-you"] [data-affinity-item]');
  const slots = await page.evaluate(() => ({
    forYou: document.querySelector('[data-affinity-slot="for-you"]')?.dataset.affinityVariant,
    recent: [...document.querySelectorAll('[data-affinity-slot="recently-viewed"] [data-affinity-item]')]
      .map((a) => a.dataset.affinityItem),
    level: window.affinity.consent(),
  }));
  // Let queued events go, then leave the page (pagehide sends what is left).
  await page.waitForTimeout(1_500);
  await page.goto("about:blank");
  await page.waitForTimeout(500);
  const stored = await storageOf(s.context);
  const cookies = await s.context.cookies();
  await s.settled();
  return { seen, user, email, local, slots, stored, cookies };
}

/** What the edge's origin keeps in this browser, read from a fresh page of that origin. */
async function storageOf(context) {
  const page = await context.newPage();
  await page.route("**/__storage", (r) => r.fulfill({ body: "<!doctype html>", contentType: "text/html" }));
  await page.goto(`${EDGE}/__storage`);
  const out = await page.evaluate(async () => ({
    local: Object.keys(localStorage).sort(),
    session: Object.keys(sessionStorage),
    idb: (await indexedDB.databases()).map((d) => d.name),
    caches: await caches.keys(),
  }));
  await page.close();
  return out;
}

const path_ = (u) => new URL(u).pathname;
const isApi = (r) => path_(r.url).startsWith("/v1/");
const isPlugin = (r) => isApi(r) || PLUGIN_FILES.includes(path_(r.url));
const text = (r) => [r.url, r.body, JSON.stringify(r.headers ?? {})].join("\n");
const batches = (requests) => requests.filter((r) => path_(r.url) === "/v1/batch" && r.method === "POST");
const events = (requests) => batches(requests).flatMap((r) => JSON.parse(r.body).batch);
// The plugin's writes: its localStorage keys and Cache Storage (the demo shop keeps its cart in
// localStorage under nw_* keys; it uses no other storage).
const affinityWrites = (writes) =>
  writes.filter(([where, , key]) => (where === "localStorage" && String(key).startsWith("affinity")) || where === "caches");

const runs = {};
for (const level of ["none", "device", "analytics", "marketing"]) {
  test(`a whole journey at ${level}: exactly what the level may send and keep`, async () => {
    const s = await recorded(level);
    try {
      const run = (runs[level] = { ...(await journey(s, level)), requests: s.requests, writes: s.writes });
      const { seen, user, email, slots, stored, cookies, requests, writes } = run;
      assert.equal(slots.level, level);
      assert.deepEqual(s.errors, [], "no page errors");
      // No cookies at any level, set or sent.
      assert.deepEqual(cookies, []);
      assert.ok(!requests.some((r) => r.headers?.cookie), "no Cookie header");
      assert.ok(!writes.some(([w]) => w === "cookie"));
      // Nothing in sessionStorage or IndexedDB at any level.
      assert.deepEqual(stored.session, []);
      assert.deepEqual(stored.idb, []);
      assert.ok(!writes.some(([w]) => w === "sessionStorage" || w === "indexedDB"), JSON.stringify(writes));
      const plugin = requests.filter(isPlugin);
      const ours = affinityWrites(writes);
      const keysWritten = new Set(ours.filter(([w, m]) => w === "localStorage" && m === "setItem").map(([, , k]) => k));
      if (level === "none" || level === "device") {
        // Nothing but GETs of the plugin files, the config and the model; no identifier anywhere.
        for (const r of plugin) {
          assert.equal(r.method, "GET", r.url);
          const p = path_(r.url);
          assert.ok(PLUGIN_FILES.includes(p) || p === "/v1/config" || p.startsWith("/v1/model/"), r.url);
          if (isApi(r)) assert.equal(new URL(r.url).search, `?key=${KEY}`, r.url);
          for (const id of [...seen, user, email]) {
            assert.ok(!text(r).includes(id), `${id} in ${r.url}`);
          }
          // The page's own URL (the order page's carries the checkout's email) stays out of
          // the plugin's fetches: no Referer.
          if (isApi(r)) assert.ok(!r.headers?.referer, `${r.url}: Referer ${r.headers?.referer}`);
        }
        assert.ok(plugin.some((r) => path_(r.url).startsWith("/v1/model/")), "the model was fetched");
      }
      if (level === "none") {
        assert.deepEqual([...keysWritten], ["affinity_consent"]);
        assert.deepEqual(stored.local.filter((k) => k.startsWith("affinity")), ["affinity_consent"]);
        assert.deepEqual(stored.caches, []);
        assert.ok(!ours.some(([w]) => w === "caches"), "no Cache Storage");
        assert.ok(seen.size >= 3, "a new in-memory id on every page");
      } else {
        assert.equal(seen.size, 1, `one stored id: ${[...seen]}`);
        for (const k of keysWritten) {
          const allowed = ["affinity_consent", "affinity_id", "affinity_profile", "affinity_config"];
          if (level !== "device") allowed.push("affinity_queue");
          assert.ok(allowed.includes(k), `${k} written at ${level}`);
        }
        assert.ok(keysWritten.has("affinity_profile") && keysWritten.has("affinity_config"));
        assert.deepEqual(stored.caches, ["affinity"], "the model is kept on the device");
        // Across pages: the viewed tents are remembered and for-you personalizes.
        assert.equal(slots.forYou, "personalized");
        for (const p of tents) assert.ok(slots.recent.includes(p.id), `${p.id} in ${slots.recent}`);
      }
      if (level === "device") assert.ok(!keysWritten.has("affinity_queue"));
      if (level === "analytics" || level === "marketing") {
        const sent = events(requests);
        assert.ok(sent.length >= 8, `${sent.length} events sent`);
        for (const e of sent) {
          assert.equal(e.context?.consent?.level, level, JSON.stringify(e.context?.consent));
          assert.equal(e.context.consent.categoryPreferences.Analytics, true);
          assert.equal(e.context.consent.categoryPreferences.Marketing, level === "marketing");
        }
        assert.ok(sent.some((e) => e.event === "Order Completed"));
        const all = requests.filter(isPlugin).map(text).join("\n");
        if (level === "analytics") {
          // Pseudonymous: the device's id, never the shop's user id or traits.
          assert.ok(!all.includes(user) && !all.includes(email), "no identity at analytics");
          assert.ok(!sent.some((e) => e.type === "identify"));
        } else {
          assert.ok(sent.some((e) => e.userId === user && e.type === "identify" && e.traits.email === email));
        }
        // No Referer on the plugin's fetches (a beacon on page hide cannot choose its policy).
        for (const r of requests.filter((x) => isApi(x) && x.type === "fetch")) {
          assert.ok(!r.headers?.referer, `${r.url}: Referer ${r.headers?.referer}`);
        }
      }
    } finally {
      await s.context.close();
    }
  });
}

test("the edge keeps the consent with its history on the profile", async () => {
  const device = [...runs.analytics.seen][0];
  const a = await eventually(async () => {
    const p = await profile(device);
    return p.consent?.length ? p : null;
  });
  assert.deepEqual(a.consent.map((c) => [c.level, c.source]), [["analytics", "api"]]);
  assert.equal(a.user_id, undefined, "pseudonymous at analytics");
  assert.equal(a.traits.email, undefined);
  const m = await eventually(async () => {
    const p = await profile(runs.marketing.user);
    return p.consent?.length ? p : null;
  });
  assert.deepEqual(m.consent.map((c) => c.level), ["marketing"]);
  assert.ok(m.consent[0].at_ms > 0);
  assert.equal(m.traits.email, runs.marketing.email);
});

test("lowering takes effect at once, queued events included; raising starts from the next event", async () => {
  const s = await recorded(null);
  const { page } = s;
  try {
    await page.goto(`${EDGE}/p/${tents[0].slug}/`);
    await loaded(page);
    // The shop's default (marketing) once the config has answered.
    await eventually(() => page.evaluate(() => window.affinity.consent() === "marketing"));
    await page.evaluate(() => window.affinity.identify("user-lowering", { email: "low@consent.example" }));
    await page.waitForTimeout(1_000);
    await eventually(() => page.evaluate(() => !localStorage.getItem("affinity_queue")));
    assert.ok(events(s.requests).some((e) => e.userId === "user-lowering"), "identified at marketing");
    const before = await page.evaluate(() => window.affinity.profile());
    const start = s.requests.length;
    // An event still waiting in the queue, then the shopper lowers to `device` in the same task.
    const level = await page.evaluate(() => {
      window.affinity.track("Queued Before Lowering", {});
      return window.affinity.consent("device");
    });
    assert.equal(level, "device");
    // At once: the queue holds nothing but the change itself (until it is delivered).
    const queued = JSON.parse(await page.evaluate(() => localStorage.getItem("affinity_queue") || "[]"));
    assert.ok(queued.every((e) => e.event === "Segment Consent Preference Updated"), JSON.stringify(queued));
    // The change itself is the last message, then nothing: browse on.
    await page.waitForTimeout(1_500);
    await page.goto(`${EDGE}/p/${tents[1].slug}/`);
    await loaded(page);
    await page.waitForTimeout(1_500);
    await s.settled();
    const afterLowering = s.requests.slice(start);
    const sent = events(afterLowering);
    assert.deepEqual(sent.map((e) => e.event), ["Segment Consent Preference Updated"]);
    assert.equal(sent[0].context.consent.level, "device");
    // In the page's context, like every event of that page.
    assert.equal(sent[0].context.page?.path, `/p/${tents[0].slug}/`, JSON.stringify(sent[0].context));
    assert.equal(sent[0].userId, undefined);
    assert.ok(!afterLowering.map(text).join().includes("Queued Before Lowering"));
    // Leaving marketing: the device gets a new id, the profile stays on the device.
    const now = await page.evaluate(() => window.affinity.profile());
    assert.notEqual(now.customer_id, before.customer_id);
    assert.equal(now.user_id, undefined);
    assert.ok(now.counters.product_views >= 2, "still personalizing from the device");
    // The edge's history of the identified customer: marketing, then device.
    const edge = await eventually(async () => {
      const p = await profile("user-lowering");
      return p.consent?.length >= 2 ? p : null;
    });
    assert.deepEqual(edge.consent.map((c) => c.level), ["marketing", "device"]);
    const stored = await profile("user-lowering");
    assert.ok(!JSON.stringify(stored).includes("Queued Before Lowering"));

    // `none`: everything but the level goes, Cache Storage included.
    assert.deepEqual(await page.evaluate(async () => await caches.keys()), ["affinity"]);
    assert.equal(await page.evaluate(() => window.affinity.consent("none")), "none");
    assert.deepEqual(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("affinity"))),
      ["affinity_consent"]);
    await eventually(async () => (await page.evaluate(async () => await caches.keys())).length === 0, 5_000);

    // Raising to analytics: the next events go, pseudonymous, starting with the change.
    const mark = s.requests.length;
    assert.equal(await page.evaluate(() => window.affinity.consent("analytics")), "analytics");
    await page.evaluate(() => window.affinity.track("After Raising", {}));
    await eventually(async () => events(s.requests.slice(mark)).some((e) => e.event === "After Raising"));
    const raised = events(s.requests.slice(mark));
    assert.equal(raised[0].event, "Segment Consent Preference Updated");
    assert.equal(raised[0].context.page?.path, `/p/${tents[1].slug}/`, JSON.stringify(raised[0].context));
    assert.ok(raised.every((e) => e.context.consent.level === "analytics" && e.userId === undefined));
    assert.ok(!raised.some((e) => e.anonymousId === before.customer_id), "not the identified id");
    assert.deepEqual(s.errors, []);
  } finally {
    await s.context.close();
  }
});

test("affinity_optout=1 means none", async () => {
  const s = await recorded(null, () => localStorage.setItem("affinity_optout", "1"));
  try {
    await s.page.goto(`${EDGE}/p/${tents[0].slug}/`);
    await loaded(s.page);
    assert.equal(await s.page.evaluate(() => window.affinity.consent()), "none");
    await s.page.waitForTimeout(1_000);
    const keys = await s.page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("affinity")));
    assert.deepEqual(keys, ["affinity_optout"]);
    assert.deepEqual(batches(s.requests), []);
  } finally {
    await s.context.close();
  }
});

test("Do Not Track caps to analytics by default: pseudonymous, the cap named", async () => {
  const s = await recorded("marketing", () =>
    Object.defineProperty(Navigator.prototype, "doNotTrack", { get: () => "1" }));
  try {
    await s.page.goto(`${EDGE}/p/${tents[0].slug}/`);
    await loaded(s.page);
    await eventually(() => s.page.evaluate(() => window.affinity.consent() === "analytics"));
    await s.page.evaluate(() => window.affinity.identify("user-dnt", { email: "dnt@consent.example" }));
    await eventually(() => events(s.requests).some((e) => e.event === "Product Viewed"));
    await s.page.waitForTimeout(1_000);
    const sent = events(s.requests);
    assert.ok(sent.every((e) => e.context.consent.level === "analytics" && e.context.consent.source === "dnt"));
    assert.ok(!s.requests.filter(isPlugin).map(text).join().includes("user-dnt"));
  } finally {
    await s.context.close();
  }
});

test("the demo shop's privacy choices set the level", async () => {
  const s = await recorded(null);
  try {
    await s.page.goto(`${EDGE}/`);
    await loaded(s.page);
    await eventually(() => s.page.evaluate(() => window.affinity.consent() === "marketing"));
    await s.page.click('#privacy-choices [data-consent="none"]');
    assert.equal(await s.page.evaluate(() => window.affinity.consent()), "none");
    assert.equal(await s.page.textContent("[data-consent-level]"), "none");
    assert.deepEqual(await s.page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("affinity"))),
      ["affinity_consent"]);
    await s.page.click('#privacy-choices [data-consent="device"]');
    assert.equal(await s.page.textContent("[data-consent-level]"), "device");
  } finally {
    await s.context.close();
  }
});

test("the shop's default level applies before a choice, and GPC caps it as the shop says", async () => {
  let r = await admin("/v1/admin/settings?shop=demo", { consent_default: "device", consent_gpc: "none" });
  assert.equal(r.status, 200, await r.text());
  r = await admin("/v1/admin/settings?shop=demo", { consent_default: "everything" });
  assert.equal(r.status, 400);
  assert.match(await r.text(), /none, device, analytics, marketing/);
  try {
    // First visit: the level is unknown until the config says `device`; nothing is sent.
    const s = await recorded(null);
    try {
      await s.page.goto(`${EDGE}/p/${tents[0].slug}/`);
      await loaded(s.page);
      await eventually(() => s.page.evaluate(() => window.affinity.consent() === "device"));
      await s.page.goto(`${EDGE}/p/${tents[1].slug}/`);
      await loaded(s.page);
      await s.page.waitForTimeout(1_000);
      assert.deepEqual(batches(s.requests), []);
      assert.ok((await s.page.evaluate(() => window.affinity.profile())).counters.product_views >= 2);
    } finally {
      await s.context.close();
    }
    // GPC: the shop caps it to none, whatever the shopper chose.
    const g = await recorded("marketing", () =>
      Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true }));
    try {
      await g.page.goto(`${EDGE}/p/${tents[0].slug}/`);
      await loaded(g.page);
      await eventually(() => g.page.evaluate(() => window.affinity.consent() === "none"));
      await g.page.waitForTimeout(1_000);
      const keys = await g.page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("affinity")));
      assert.deepEqual(keys, ["affinity_consent"]);
      assert.deepEqual(batches(g.requests), []);
    } finally {
      await g.context.close();
    }
  } finally {
    await admin("/v1/admin/settings?shop=demo", { consent_default: "marketing", consent_gpc: "analytics" });
  }
});

// Stubs of the consent platforms' page APIs, installed before any script, each answering as the
// platform does after the shopper's choice.
const platforms = {
  tcf: [() => {
    window.__tcfapi = (cmd, version, cb) => {
      if (cmd === "addEventListener" && version === 2) {
        // Purposes 1 (storage) and 8 (measure content) granted, 3 and 4 (ads profiles) denied.
        cb({ gdprApplies: true, eventStatus: "tcloaded", purpose: { consents: { 1: true, 8: true, 3: false, 4: false } } }, true);
      }
    };
  }, "analytics"],
  tcfNoStorage: [() => {
    window.__tcfapi = (cmd, version, cb) => cb({ gdprApplies: true, eventStatus: "useractioncomplete", purpose: { consents: { 1: false, 8: true } } }, true);
  }, "none"],
  gcm: [() => {
    window.dataLayer = [];
    function gtag() { window.dataLayer.push(arguments); }
    gtag("consent", "default", { ad_storage: "denied", ad_user_data: "denied", ad_personalization: "denied", analytics_storage: "denied" });
    gtag("consent", "update", { analytics_storage: "granted" });
    gtag("event", "page_view");
  }, "analytics"],
  shopify: [() => {
    window.Shopify = { customerPrivacy: { currentVisitorConsent: () => ({ preferences: "yes", analytics: "no", marketing: "no", sale_of_data: "" }) } };
  }, "device"],
};

for (const [name, [stub, expected]] of Object.entries(platforms)) {
  test(`a consent platform's choice is read: ${name} → ${expected}`, async () => {
    const s = await recorded(null, stub);
    try {
      await s.page.goto(`${EDGE}/p/${tents[0].slug}/`);
      await loaded(s.page);
      await eventually(() => s.page.evaluate((l) => window.affinity.consent() === l, expected));
      assert.equal(await s.page.evaluate(() => localStorage.getItem("affinity_consent")), expected);
      await s.page.waitForTimeout(1_500);
      const sent = events(s.requests);
      const source = name.startsWith("tcf") ? "tcf" : name;
      if (expected === "analytics") {
        // From the choice on, events carry the platform's level and name it.
        const after = sent.filter((e) => e.context.consent.source === source);
        assert.ok(after.length >= 1, JSON.stringify(sent.map((e) => e.context.consent)));
        assert.ok(after.every((e) => e.context.consent.level === "analytics" && !e.userId));
      } else {
        // Only the change itself may go (the page started at the shop's default, marketing).
        assert.ok(sent.every((e) => e.event === "Segment Consent Preference Updated"
          || e.context.consent.level === "marketing"), JSON.stringify(sent.map((e) => e.event)));
      }
      if (name === "gcm") {
        // A later update through gtag reaches the page module at once.
        await s.page.evaluate(() => window.dataLayer.push(["consent", "update",
          { ad_storage: "granted", ad_user_data: "granted", ad_personalization: "granted" }]));
        assert.equal(await s.page.evaluate(() => window.affinity.consent()), "marketing");
      }
      assert.deepEqual(s.errors, []);
    } finally {
      await s.context.close();
    }
  });
}
