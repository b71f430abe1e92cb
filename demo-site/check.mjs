// Checks a built demo shop against the conventions the plugin relies on.
//
//   node demo-site/check.mjs OUT_DIR [--tag-src URL] [--key KEY]
//
// Static checks only (no browser): one Affinity tag per page, valid JSON-LD of the right shape on
// product and category pages, cart form shapes, recommendation slots, SVG budget, no outside hosts.
// Exits 1 and lists the problems if anything is off.

import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const args = process.argv.slice(2);
let out = null;
let tagSrc = "/affinity.js";
let key = "pk_demo_4f9c2a7d1e";
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--tag-src") tagSrc = args[++i];
  else if (args[i] === "--key") key = args[++i];
  else out = args[i];
}
if (!out) {
  console.error("usage: node demo-site/check.mjs OUT_DIR [--tag-src URL] [--key KEY]");
  process.exit(2);
}

const problems = [];
const bad = (file, msg) => problems.push(`${relative(out, file)}: ${msg}`);

function walk(dir, acc = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, acc);
    else acc.push(p);
  }
  return acc;
}

const catalog = JSON.parse(readFileSync(join(out, "catalog.json"), "utf8"));
const bySlug = new Map(catalog.products.map((p) => [p.slug, p]));
const files = walk(out);
const tag = `<script async src="${tagSrc}" data-key="${key}"></script>`;
// Only schema.org vocabulary URLs and the SVG namespace may name another host.
const OUTSIDE = /\bhttps?:\/\/(?!schema\.org\b|www\.w3\.org\/2000\/svg)[^\s"'<>)]+/g;

function jsonLd(file, html) {
  const blocks = [];
  for (const m of html.matchAll(/<script type="application\/ld\+json">([\s\S]*?)<\/script>/g)) {
    try {
      blocks.push(JSON.parse(m[1]));
    } catch (e) {
      bad(file, `JSON-LD does not parse: ${e.message}`);
    }
  }
  return blocks;
}

function checkProduct(file, node, p, where) {
  const want = {
    "@type": "Product", productID: p.id, sku: p.id, name: p.name, category: p.category,
    image: `/img/${p.id}.svg`, description: p.description, url: `/p/${p.slug}/`,
  };
  for (const [k, v] of Object.entries(want)) if (node[k] !== v) bad(file, `${where} ${k} is ${JSON.stringify(node[k])}, want ${JSON.stringify(v)}`);
  if (node.brand?.["@type"] !== "Brand" || node.brand?.name !== p.brand) bad(file, `${where} brand`);
  const o = node.offers || {};
  if (o["@type"] !== "Offer" || o.price !== p.price.toFixed(2) || o.priceCurrency !== "USD") bad(file, `${where} offers`);
  const avail = `https://schema.org/${p.stock > 0 ? "InStock" : "OutOfStock"}`;
  if (o.availability !== avail) bad(file, `${where} availability ${o.availability}, want ${avail}`);
}

function checkForms(file, html) {
  for (const m of html.matchAll(/<form action="\/cart\/add"[\s\S]*?<\/form>/g)) {
    const f = m[0];
    if (!/method="post"/.test(f) || !/class="product-form/.test(f)) bad(file, "add form: method/class");
    if (!/<input type="hidden" name="id" value="p\d{4}">/.test(f)) bad(file, "add form: hidden id");
    if (!/<input type="(number|hidden)" name="quantity" value="1"/.test(f)) bad(file, "add form: quantity");
    if (!/<button type="submit" name="add"/.test(f)) bad(file, "add form: submit button");
  }
}

let pages = 0;
let products = 0;
let biggestSvg = 0;
for (const file of files) {
  const rel = relative(out, file);
  const text = readFileSync(file, "utf8");
  if (file.endsWith(".svg")) biggestSvg = Math.max(biggestSvg, Buffer.byteLength(text));
  if (/\.(html|css|js|svg)$/.test(file)) {
    for (const m of text.matchAll(OUTSIDE)) if (!m[0].startsWith(tagSrc)) bad(file, `outside host: ${m[0]}`);
  }
  if (!file.endsWith(".html")) continue;
  pages++;
  const head = text.slice(0, text.indexOf("</head>"));
  const tags = text.split('data-key="').length - 1;
  if (tags !== 1 || !head.includes(tag)) bad(file, `want exactly one Affinity tag in <head>, found ${tags}`);
  checkForms(file, text);
  const blocks = jsonLd(file, text);
  const product = rel.match(/^p\/([^/]+)\/index\.html$/);
  const category = rel.match(/^c\/([^/]+)\/index\.html$/);
  if (product) {
    products++;
    const p = bySlug.get(product[1]);
    const node = blocks.find((b) => b["@type"] === "Product");
    if (!p) bad(file, "no catalog product for this slug");
    else if (!node || node["@context"] !== "https://schema.org") bad(file, "no Product JSON-LD with @context");
    else checkProduct(file, node, p, "Product");
    if (p && p.stock === 0 && !/name="add" disabled/.test(text)) bad(file, "out of stock but add button enabled");
  }
  if (category) {
    const list = blocks.find((b) => b["@type"] === "ItemList");
    const items = catalog.products.filter((p) => p.category_slug === category[1]);
    if (!list) bad(file, "no ItemList JSON-LD");
    else {
      if (list.itemListElement.length !== items.length) bad(file, "ItemList length");
      list.itemListElement.forEach((li, i) => {
        if (li["@type"] !== "ListItem" || li.position !== i + 1) bad(file, `ListItem ${i}`);
        checkProduct(file, li.item || {}, items[i], `item ${i + 1}`);
      });
    }
  }
  if (rel === "index.html" || product) {
    for (const slot of ["recently-viewed", "popular"]) {
      if (!text.includes(`<div data-affinity-slot="${slot}"></div>`)) bad(file, `missing empty slot ${slot}`);
    }
  }
  if (rel === "order/index.html") {
    const i = text.indexOf("nw_last_order");
    if (i < 0 || i > text.indexOf(tag) || text.indexOf(tag) > text.indexOf("</head>")) bad(file, "order JSON-LD script must come before the tag");
  }
}
if (products !== catalog.products.length) problems.push(`${products} product pages for ${catalog.products.length} products`);
if (biggestSvg >= 1536) problems.push(`largest SVG is ${biggestSvg} bytes (budget 1.5 KB)`);

if (problems.length) {
  console.error(problems.slice(0, 50).join("\n"));
  console.error(`demo-site check: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`demo-site check: ${pages} pages, ${products} product pages OK; largest SVG ${biggestSvg} bytes`);
