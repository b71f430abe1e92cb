#!/usr/bin/env node
// The operator's command: manage the shops of one Affinity deployment through its operator API
// (`/v1/operator/*`). Works against `wrangler dev` and a deployed Worker alike.
//
//   node worker/shop.mjs [--edge URL] [--secret OPERATOR_SECRET] <command> …
//     create [--id ID] [--name NAME] [--key WRITE_KEY] [--admin-secret SECRET] [key=value …]
//     list
//     show ID
//     rename ID NAME
//     settings ID key=value …        (name, currency, time_zone, min_support, holdout_percent,
//                                      count_automated, consent_default, consent_gpc, consent_dnt)
//     rotate ID [--grace-hours H] [--key WRITE_KEY] [--admin-secret SECRET]
//     export ID [--out DIR]          (JSON lines per table, profiles included)
//     delete ID [--export DIR]       (exports first when asked, then erases everything)
//
// --edge defaults to $AFFINITY_EDGE or http://127.0.0.1:8787; --secret to $AFFINITY_OPERATOR_SECRET
// or OPERATOR_SECRET in worker/.dev.vars. `make shop ARGS="…"` runs it.
import fs from "node:fs";
import path from "node:path";

const here = import.meta.dirname;
const argv = process.argv.slice(2);
const flags = {};
const rest = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a.startsWith("--")) {
    const key = a.slice(2);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith("--")) flags[key] = true;
    else { flags[key] = next; i++; }
  } else rest.push(a);
}

function fail(message, code = 2) {
  console.error(`shop: ${message}`);
  process.exit(code);
}

function operatorSecret() {
  if (typeof flags.secret === "string") return flags.secret;
  if (process.env.AFFINITY_OPERATOR_SECRET) return process.env.AFFINITY_OPERATOR_SECRET;
  try {
    const vars = fs.readFileSync(path.join(here, ".dev.vars"), "utf8");
    const m = vars.match(/^OPERATOR_SECRET\s*=\s*"?([^"\n]+)"?/m);
    if (m) return m[1];
  } catch {}
  fail("no operator secret: pass --secret, set AFFINITY_OPERATOR_SECRET, or put OPERATOR_SECRET in worker/.dev.vars");
}

const edge = String(flags.edge || process.env.AFFINITY_EDGE || "http://127.0.0.1:8787").replace(/\/$/, "");
const secret = operatorSecret();

async function call(method, route, body) {
  let r;
  try {
    r = await fetch(`${edge}${route}`, {
      method,
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (e) {
    fail(`${edge} did not answer: ${e.message}`, 1);
  }
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch {}
  return { status: r.status, json, text, headers: r.headers };
}

function ok(r, what) {
  if (r.status >= 200 && r.status < 300) return r;
  fail(`${what}: ${r.status} ${r.json?.error ?? r.text}`, 1);
}

function pairs(list) {
  const out = {};
  for (const p of list) {
    const at = p.indexOf("=");
    if (at < 1) fail(`expected key=value, got ${p}`);
    const key = p.slice(0, at);
    const value = p.slice(at + 1);
    out[key] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value)
      : value === "true" ? true : value === "false" ? false : value;
  }
  return out;
}

const id = (i = 1) => rest[i] ?? fail(`${rest[0]}: the shop id is required`);
const enc = encodeURIComponent;

async function exportShop(shop, dir) {
  fs.mkdirSync(dir, { recursive: true });
  const tables = ok(await call("GET", `/v1/operator/shops/${enc(shop)}/export`), "export").json.tables;
  const counts = {};
  for (const table of tables) {
    const file = path.join(dir, `${table}.jsonl`);
    fs.writeFileSync(file, "");
    let after = 0;
    counts[table] = 0;
    for (;;) {
      const r = ok(await call("GET", `/v1/operator/shops/${enc(shop)}/export?table=${table}&after=${after}`), `export ${table}`);
      fs.appendFileSync(file, r.text);
      counts[table] += r.text.split("\n").filter(Boolean).length;
      const next = r.headers.get("x-next-after");
      if (!next) break;
      after = next;
    }
  }
  return counts;
}

const print = (v) => console.log(JSON.stringify(v, null, 2));

switch (rest[0]) {
  case "create": {
    const body = pairs(rest.slice(1));
    if (flags.id) body.id = flags.id;
    if (flags.name) body.name = flags.name;
    if (flags.key) body.write_key = flags.key;
    if (flags["admin-secret"]) body.admin_secret = flags["admin-secret"];
    const r = await call("POST", "/v1/operator/shops", body);
    if (r.status === 409 && flags["if-missing"]) {
      console.log(`shop ${body.id} exists`);
      break;
    }
    ok(r, "create");
    print(r.json);
    console.log(`Paste into the shop's <head>: <script async src="${edge}/affinity.js" data-key="${r.json.write_key}"></script>`);
    console.log(`Dashboard: ${edge}/dashboard/login?shop=${r.json.id} (the admin secret above is shown once)`);
    break;
  }
  case "list":
    print(ok(await call("GET", "/v1/operator/shops"), "list").json);
    break;
  case "show":
    print(ok(await call("GET", `/v1/operator/shops/${enc(id())}`), "show").json);
    break;
  case "rename":
    print(ok(await call("POST", `/v1/operator/shops/${enc(id())}/settings`, { name: rest[2] ?? fail("rename: the new name is required") }), "rename").json);
    break;
  case "settings":
    print(ok(await call("POST", `/v1/operator/shops/${enc(id())}/settings`, pairs(rest.slice(2))), "settings").json);
    break;
  case "rotate": {
    const body = {};
    if (flags["grace-hours"] !== undefined) body.grace_hours = Number(flags["grace-hours"]);
    if (flags.key) body.write_key = flags.key;
    if (flags["admin-secret"]) body.admin_secret = flags["admin-secret"];
    print(ok(await call("POST", `/v1/operator/shops/${enc(id())}/rotate`, body), "rotate").json);
    break;
  }
  case "export": {
    const dir = typeof flags.out === "string" ? flags.out : `export-${id()}`;
    print({ exported: await exportShop(id(), dir), into: dir });
    break;
  }
  case "delete": {
    const shop = id();
    if (typeof flags.export === "string") print({ exported: await exportShop(shop, flags.export), into: flags.export });
    const deadline = Date.now() + 600_000;
    for (;;) {
      const r = ok(await call("POST", `/v1/operator/shops/${enc(shop)}/delete`), "delete");
      if (r.json.done) { console.log(`shop ${shop} deleted: every row, object and model is gone`); break; }
      if (Date.now() > deadline) fail(`delete: not finished after 10 minutes; left: ${JSON.stringify(r.json.left)}`, 1);
      await new Promise((res) => setTimeout(res, 1_000));
    }
    break;
  }
  default:
    fail("usage: shop.mjs [--edge URL] [--secret S] create|list|show|rename|settings|rotate|export|delete …");
}
