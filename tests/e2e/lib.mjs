// Shared helpers for the e2e tests: Debian's Chromium through playwright-core, and the edge.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

export const EDGE = process.env.EDGE;
export const SHOP2 = process.env.SHOP2;
export const SECRET = process.env.ADMIN_SECRET;
export const KEY = "pk_demo_4f9c2a7d1e";

/** A fresh shopper: a new Chromium profile in an empty folder. */
export async function shopper() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "affinity-chromium-"));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  context.setDefaultTimeout(15_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  return { context, page, errors };
}

/**
 * Opens `url` and waits until the plugin has loaded, captured the page and knows the consent
 * level (it loads async, and on a first visit the level waits for the shop's config: a shopper
 * who leaves before that is not tracked, so tests that count events wait for it).
 */
export async function visit(page, url) {
  await page.goto(url);
  await page.waitForFunction(() => window.affinity?.profile && window.affinity.consent(), null,
    { timeout: 15_000 });
}

/**
 * Waits until the plugin has delivered everything it queued (on a first visit, events wait in
 * memory until the shop's config names the consent level: `affinity.consent()` is "" until then).
 */
export async function delivered(page) {
  await page.waitForFunction(() => window.affinity?.profile && window.affinity.consent()
    && !localStorage.getItem("affinity_queue"), null, { timeout: 15_000 });
}

/** Polls `fn` until it returns a truthy value, for at most `ms`. */
export async function eventually(fn, ms = 10_000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out; last: ${last}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The edge's profile of a customer, read with the shop's admin secret. */
export async function profile(id) {
  const r = await fetch(`${EDGE}/v1/profile/${encodeURIComponent(id)}?shop=demo`, {
    headers: { authorization: `Bearer ${SECRET}` },
  });
  if (!r.ok) throw new Error(`profile ${id}: ${r.status}`);
  return r.json();
}

/** POSTs a batch body to the edge. */
export async function batch(body, headers = {}) {
  const r = await fetch(`${EDGE}/v1/batch`, {
    method: "POST",
    headers: { "content-type": "text/plain", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch {}
  return { status: r.status, json, text, headers: r.headers };
}
