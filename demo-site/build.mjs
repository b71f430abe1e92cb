// Builds the Northwind Outfitters demo shop as static files.
//
//   node demo-site/build.mjs OUT_DIR [--tag-src URL] [--key KEY]
//
// Reads demo-site/catalog.json and demo-site/assets/, writes every page as DIR/index.html (clean
// URLs), one SVG per product under img/, shop.css, shop.js and catalog.json. Plain Node, no
// dependencies. The shop knows nothing about Affinity except the one script tag in every <head>.

import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const opts = { out: null, tagSrc: "/affinity.js", key: "pk_demo_4f9c2a7d1e" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i];
      if (v === undefined) fail(`${a.split("=")[0]} needs a value`);
      return v;
    };
    if (a === "--tag-src" || a.startsWith("--tag-src=")) opts.tagSrc = value();
    else if (a === "--key" || a.startsWith("--key=")) opts.key = value();
    else if (a === "-h" || a === "--help") fail(null);
    else if (a.startsWith("--")) fail(`unknown option ${a}`);
    else if (opts.out === null) opts.out = a;
    else fail(`unexpected argument ${a}`);
  }
  if (!opts.out) fail("OUT_DIR is required");
  return opts;
}

function fail(msg) {
  if (msg) console.error(`build.mjs: ${msg}`);
  console.error("usage: node demo-site/build.mjs OUT_DIR [--tag-src URL] [--key KEY]");
  process.exit(msg ? 2 : 0);
}

// ---------------------------------------------------------------- helpers

const esc = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const money = (n) => "$" + n.toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
// JSON inside <script>: `<` escaped so no value can close the element.
const ldJson = (obj) =>
  `<script type="application/ld+json">${JSON.stringify(obj).replace(/</g, "\\u003c")}</script>`;

function shade(hex, amount) {
  // amount in [-1, 1]: towards black or white.
  const n = parseInt(hex.slice(1), 16);
  const ch = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((c) =>
    Math.round(amount < 0 ? c * (1 + amount) : c + (255 - c) * amount),
  );
  return "#" + ch.map((c) => c.toString(16).padStart(2, "0")).join("");
}

function hash(s) {
  let h = 2166136261;
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

// ---------------------------------------------------------------- product illustrations
//
// One small SVG per product: the product colour as a gradient, a soft "sun" placed by a hash of
// the id, a ground shadow, and a category icon drawn in a few shapes. `W` is the icon fill, `D` a
// darker tone of the product colour for details.

const ICONS = {
  shoe: (D) =>
    `<path fill="#fff" d="M24 100c0-12 8-22 20-24l18-4c8-2 14-10 18-18l14 3c4 12 16 20 32 23 12 2 20 10 20 20v10H24z"/>` +
    `<path fill="${D}" d="M22 108h126v6a6 6 0 0 1-6 6H28a6 6 0 0 1-6-6z"/>` +
    `<path stroke="${D}" stroke-width="4" stroke-linecap="round" d="M96 66l9-6M104 73l9-6M112 79l9-5"/>`,
  boot: (D) =>
    `<path fill="#fff" d="M46 34h42v44c0 8 8 12 22 15 16 3 28 9 30 21v4H42z"/>` +
    `<path fill="${D}" d="M40 114h102v6a6 6 0 0 1-6 6H46a6 6 0 0 1-6-6z"/>` +
    `<path stroke="${D}" stroke-width="4" stroke-linecap="round" d="M46 44h42M70 56h18M70 68h18M70 80h16"/>`,
  jacket: (D) =>
    `<path fill="#fff" d="M60 38l20 8 20-8 26 14 12 50-16 4-6-32v56H44V74l-6 32-16-4 12-50z"/>` +
    `<path fill="none" stroke="${D}" stroke-width="4" stroke-linecap="round" d="M80 46v82M62 38q18-22 36 0M56 96h14M90 96h14"/>`,
  puffer: (D) =>
    `<path fill="#fff" d="M58 38l22 8 22-8 24 14 12 50-16 4-6-32v56H44V74l-6 32-16-4 12-50z"/>` +
    `<path fill="none" stroke="${D}" stroke-width="3.5" stroke-linecap="round" d="M80 46v82M44 78h72M44 96h72M44 114h72M30 70l12 3M130 70l-12 3"/>`,
  pack: (D) =>
    `<path fill="none" stroke="#fff" stroke-width="6" d="M66 40q14-16 28 0"/>` +
    `<rect x="46" y="40" width="68" height="90" rx="18" fill="#fff"/>` +
    `<path fill="${D}" d="M46 60q34-14 68 0v-6q-34-16-68 0z"/>` +
    `<rect x="58" y="84" width="44" height="34" rx="9" fill="none" stroke="${D}" stroke-width="4"/>` +
    `<path stroke="${D}" stroke-width="4" stroke-linecap="round" d="M70 96h20"/>`,
  tent: (D) =>
    `<path fill="#fff" d="M18 122L80 38l62 84z"/><path fill="${D}" d="M80 62l-18 60h36z"/>` +
    `<path stroke="#fff" stroke-width="4" stroke-linecap="round" d="M80 38V24M12 124h136"/>`,
  bag: (D) =>
    `<path fill="#fff" d="M58 32q22-16 44 0l10 92q-32 18-64 0z"/>` +
    `<ellipse cx="80" cy="46" rx="14" ry="9" fill="${D}"/>` +
    `<path fill="none" stroke="${D}" stroke-width="3.5" stroke-linecap="round" d="M56 70q24 8 48 0M54 92q26 8 52 0M52 112q28 8 56 0"/>`,
  pot: (D) =>
    `<path fill="none" stroke="#fff" stroke-width="4" stroke-linecap="round" d="M66 40q-6-8 0-16M80 40q-6-8 0-16M94 40q-6-8 0-16"/>` +
    `<rect x="36" y="64" width="88" height="58" rx="10" fill="#fff"/>` +
    `<path fill="#fff" d="M30 56h100v8H30z"/><path stroke="#fff" stroke-width="6" stroke-linecap="round" d="M124 78h20"/>` +
    `<path stroke="${D}" stroke-width="4" d="M36 84h88"/><rect x="72" y="48" width="16" height="8" rx="3" fill="#fff"/>`,
  lamp: (D) =>
    `<path fill="#fff" opacity=".35" d="M96 70l52-24v60z"/>` +
    `<ellipse cx="78" cy="84" rx="52" ry="20" fill="none" stroke="#fff" stroke-width="8"/>` +
    `<rect x="58" y="62" width="40" height="34" rx="10" fill="#fff"/>` +
    `<circle cx="78" cy="79" r="11" fill="#fde68a" stroke="${D}" stroke-width="3"/>`,
  bottle: (D) =>
    `<rect x="66" y="26" width="28" height="16" rx="4" fill="${D}"/>` +
    `<path fill="#fff" d="M70 42h20v8q18 6 18 24v50a12 12 0 0 1-12 12H64a12 12 0 0 1-12-12V74q0-18 18-24z"/>` +
    `<rect x="52" y="84" width="56" height="24" fill="${D}" opacity=".8"/>`,
  sock: (D) =>
    `<path fill="#fff" d="M60 26h40v62l18 16q12 14-2 26-10 8-22-2L66 106q-8-8-6-20z"/>` +
    `<path stroke="${D}" stroke-width="5" d="M60 38h40M60 50h40"/>` +
    `<path fill="${D}" d="M96 126q12 6 20-4-4-10-12-12z" opacity=".8"/>`,
  glove: (D) =>
    `<path fill="#fff" d="M54 60a6 6 0 0 1 12 0v-18a6 6 0 0 1 12 0v-4a6 6 0 0 1 12 0v4a6 6 0 0 1 12 0v22a6 6 0 0 1 12 0v30q0 22-22 22H70q-16 0-16-18z"/>` +
    `<path fill="#fff" d="M54 84q-18-10-24-2-4 6 6 12l18 12z"/>` +
    `<rect x="60" y="112" width="50" height="20" rx="4" fill="${D}"/>` +
    `<path stroke="${D}" stroke-width="3" stroke-linecap="round" d="M66 60v12M78 42v30M90 38v34M102 44v28"/>`,
};

function productSvg(p, icon) {
  const light = shade(p.color, 0.28);
  const dark = shade(p.color, -0.28);
  const h = hash(p.id);
  const sx = 24 + (h % 112);
  const sy = 22 + ((h >> 8) % 30);
  const g = "g" + p.id;
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 160" role="img" aria-label="${esc(p.name)}">` +
    `<defs><linearGradient id="${g}" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${light}"/>` +
    `<stop offset="1" stop-color="${p.color}"/></linearGradient></defs>` +
    `<rect width="160" height="160" fill="url(#${g})"/>` +
    `<circle cx="${sx}" cy="${sy}" r="${16 + (h >> 16) % 14}" fill="#fff" opacity=".14"/>` +
    `<ellipse cx="80" cy="136" rx="60" ry="8" fill="${dark}" opacity=".35"/>` +
    `<g stroke-linejoin="round">${ICONS[icon](dark)}</g></svg>`
  );
}

// ---------------------------------------------------------------- schema.org

const availability = (p) => `https://schema.org/${p.stock > 0 ? "InStock" : "OutOfStock"}`;

function productLd(p, withContext = true) {
  return {
    ...(withContext ? { "@context": "https://schema.org" } : {}),
    "@type": "Product",
    productID: p.id,
    sku: p.id,
    name: p.name,
    brand: { "@type": "Brand", name: p.brand },
    category: p.category,
    image: `/img/${p.id}.svg`,
    description: p.description,
    url: `/p/${p.slug}/`,
    offers: {
      "@type": "Offer",
      price: p.price.toFixed(2),
      priceCurrency: "USD",
      availability: availability(p),
    },
  };
}

function itemListLd(name, products) {
  return {
    "@context": "https://schema.org",
    "@type": "ItemList",
    name,
    numberOfItems: products.length,
    itemListElement: products.map((p, i) => ({
      "@type": "ListItem",
      position: i + 1,
      item: productLd(p, false),
    })),
  };
}

// ---------------------------------------------------------------- page parts

const LOGO =
  `<svg class="logo-mark" viewBox="0 0 32 32" aria-hidden="true"><circle cx="16" cy="16" r="16" fill="#1f4d3a"/>` +
  `<path d="M5 23l7-10 4 5 4-7 7 12z" fill="#f2c46d"/><path d="M12 13l2 3-2 1-2-1z" fill="#fff"/></svg>`;
const CART_ICON =
  `<svg viewBox="0 0 24 24" aria-hidden="true" width="22" height="22"><path fill="none" stroke="currentColor" stroke-width="1.8" ` +
  `stroke-linecap="round" stroke-linejoin="round" d="M3 4h2l2.4 11.2a2 2 0 0 0 2 1.6h7.9a2 2 0 0 0 2-1.5L21 8H6.2M10 21h.01M18 21h.01"/></svg>`;
const SEARCH_ICON =
  `<svg viewBox="0 0 24 24" aria-hidden="true" width="18" height="18"><circle cx="11" cy="11" r="7" fill="none" stroke="currentColor" stroke-width="2"/>` +
  `<path d="M20 20l-4-4" stroke="currentColor" stroke-width="2" stroke-linecap="round"/></svg>`;

// Shorter labels so all twelve departments fit the header nav.
const NAV_LABELS = {
  "trail-shoes": "Trail Shoes", "hiking-boots": "Boots", "insulated-jackets": "Insulation",
  "cookware": "Cookware", "bottles": "Bottles", "sleeping-bags": "Sleeping Bags",
};

// Affinity's documented head snippet for segment content, before the tag and the stylesheets:
// members-only content is never painted until the plugin decides; the default content waits
// (keeping its space) at most 1.5 s, so a failure never hides it for good. After a stylesheet,
// its inline script would wait for that stylesheet to load and hold the parser (and with it
// DOMContentLoaded and load) for as long.
const SEGMENT_HEAD = `<style>[data-affinity-segment]:not([data-affinity-on]){display:none!important}.affinity-wait [data-affinity-segment-not]{visibility:hidden}</style><script>document.documentElement.classList.add("affinity-wait");setTimeout(function(){document.documentElement.classList.remove("affinity-wait")},1500)</script>
`;

function layout(ctx, { title, description, body, path, headBeforeTag = "", headExtra = "", bodyClass = "" }) {
  const { catalog, opts } = ctx;
  const nav = catalog.categories
    .map((c) => `<a href="/c/${c.slug}/"${path === `/c/${c.slug}/` ? ' aria-current="page"' : ""}>${esc(NAV_LABELS[c.slug] || c.name)}</a>`)
    .join("");
  const pageTitle = title ? `${title} · Northwind Outfitters` : "Northwind Outfitters · Outdoor gear for the long way round";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(pageTitle)}</title>
<meta name="description" content="${esc(description || "Trail shoes, tents, packs and layers, tested on real trails. Free shipping over $75 and 60-day returns.")}">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
${SEGMENT_HEAD}${headBeforeTag}<script async src="${esc(opts.tagSrc)}" data-key="${esc(opts.key)}"></script>
<link rel="stylesheet" href="/shop.css">
<script defer src="/shop.js"></script>
${headExtra}</head>
<body${bodyClass ? ` class="${bodyClass}"` : ""}>
<a class="skip" href="#main">Skip to content</a>
<div class="promo">Free shipping on orders over $75 · 60-day returns · Lifetime repairs</div>
<header class="site-header">
  <div class="wrap header-row">
    <a class="logo" href="/">${LOGO}<span>Northwind <em>Outfitters</em></span></a>
    <form class="search" action="/search/" method="get" role="search">
      <label class="sr" for="q">Search products</label>
      ${SEARCH_ICON}<input id="q" name="q" type="search" placeholder="Search tents, trail shoes, merino…" autocomplete="off">
      <button type="submit">Search</button>
    </form>
    <a class="cart-link" href="/cart/" aria-label="Cart">${CART_ICON}<span>Cart</span><span class="cart-count" data-cart-count hidden>0</span></a>
  </div>
  <nav class="cat-nav" aria-label="Categories"><div class="wrap">${nav}</div></nav>
</header>
<main id="main">
${body}
</main>
<footer class="site-footer">
  <div class="wrap footer-grid">
    <div><a class="logo logo-light" href="/">${LOGO}<span>Northwind <em>Outfitters</em></span></a>
      <p>Independent outdoor gear since 1998. Every product is tested on real trails by our staff before it reaches the shelf.</p></div>
    <div><h4>Shop</h4>${catalog.categories.slice(0, 6).map((c) => `<a href="/c/${c.slug}/">${esc(c.name)}</a>`).join("")}</div>
    <div><h4>More gear</h4>${catalog.categories.slice(6).map((c) => `<a href="/c/${c.slug}/">${esc(c.name)}</a>`).join("")}</div>
    <div><h4>Help</h4><a href="/cart/">Your cart</a><a href="/checkout/">Checkout</a><span>Shipping &amp; returns</span><span>Repairs &amp; warranty</span><span>Contact: hello@northwind.example</span></div>
  </div>
  <div class="wrap footer-bottom">© 2026 Northwind Outfitters · A demo shop: nothing here is for sale and no payment is ever taken.</div>
  <div class="wrap consent-bar" id="privacy-choices"><span>Privacy choices (<span data-consent-level>not chosen</span>):</span>
    <button type="button" data-consent="none">Essential only</button>
    <button type="button" data-consent="device">Personalize on this device</button>
    <button type="button" data-consent="analytics">+ Anonymous analytics</button>
    <button type="button" data-consent="marketing">+ Marketing</button></div>
</footer>
<div class="toast" role="status" aria-live="polite" hidden></div>
</body>
</html>
`;
}

function stockBadge(p) {
  if (p.stock === 0) return `<span class="badge badge-out">Out of stock</span>`;
  if (p.stock <= 5) return `<span class="badge badge-low">Only ${p.stock} left</span>`;
  if (p.tags.includes("new")) return `<span class="badge badge-new">New</span>`;
  if (p.tags.includes("bestseller")) return `<span class="badge badge-best">Bestseller</span>`;
  return "";
}

function addForm(p, { quantityInput, label = "Add to cart", cls = "" }) {
  const disabled = p.stock === 0 ? " disabled" : "";
  const qty = quantityInput
    ? `<label class="qty"><span>Qty</span><input type="number" name="quantity" value="1" min="1" max="${Math.max(1, p.stock)}"${disabled}></label>`
    : `<input type="hidden" name="quantity" value="1">`;
  return (
    `<form action="/cart/add" method="post" class="product-form${cls}" data-product-name="${esc(p.name)}">` +
    `<input type="hidden" name="id" value="${p.id}">${qty}` +
    `<button type="submit" name="add"${disabled}>${p.stock === 0 ? "Sold out" : label}</button></form>`
  );
}

function card(p) {
  return `<article class="card${p.stock === 0 ? " is-out" : ""}" data-id="${p.id}" data-price="${p.price}">
<a class="card-link" href="/p/${p.slug}/"><div class="card-img"><img src="/img/${p.id}.svg" alt="${esc(p.name)}" loading="lazy" width="320" height="320">${stockBadge(p)}</div>
<div class="card-body"><span class="card-brand">${esc(p.brand)}</span><h3 class="card-name">${esc(p.name)}</h3></div></a>
<div class="card-foot"><span class="price">${money(p.price)}</span>${addForm(p, { quantityInput: false, label: "Add to cart", cls: " card-form" })}</div>
</article>`;
}

const slotSection = (slot, title, sub) =>
  `<section class="recs" aria-label="${esc(title)}"><div class="section-head"><h2>${esc(title)}</h2>${sub ? `<p>${esc(sub)}</p>` : ""}</div>` +
  `<div data-affinity-slot="${slot}"></div></section>`;

// `first`: the page's own recommendation slots, shown above the shared two.
const slots = (first = "") =>
  `<div class="wrap recs-wrap">${first}${slotSection("recently-viewed", "Recently viewed", "Pick up where you left off")}` +
  `${slotSection("popular", "Popular right now", "What other hikers are buying this week")}</div>`;

// ---------------------------------------------------------------- pages

function homePage(ctx) {
  const { catalog, byCat } = ctx;
  const tiles = catalog.categories
    .map((c) => {
      const items = byCat.get(c.slug);
      const sample = { id: "cat-" + c.slug, name: c.name, color: items[3 % items.length].color };
      return `<a class="tile" href="/c/${c.slug}/"><span class="tile-img">${productSvg(sample, c.icon)}</span>` +
        `<span class="tile-text"><strong>${esc(c.name)}</strong><small>${items.length} products</small></span></a>`;
    })
    .join("\n");
  const featured = catalog.categories
    .map((c) => byCat.get(c.slug).find((p) => p.stock > 0 && p.tags.includes("bestseller")) || byCat.get(c.slug).find((p) => p.stock > 0))
    .slice(0, 8);
  const body = `
<section class="hero">
  <div class="wrap hero-inner">
    <div class="hero-slot">
    <div class="hero-copy" id="hero-default" data-affinity-segment-not="tent-shoppers">
      <p class="eyebrow">Autumn collection · 2026</p>
      <h1>Gear for the long way round.</h1>
      <p class="lead">Trail shoes, shelters and layers from ten independent brands, tested on real trails by the people who sell them.</p>
      <div class="hero-cta"><a class="btn btn-primary" href="/c/trail-shoes/">Shop trail shoes</a><a class="btn btn-ghost" href="/c/tents/">Explore tents</a></div>
    </div>
    <div class="hero-copy" id="hero-tents" data-affinity-segment="tent-shoppers">
      <p class="eyebrow">Picked for you · Shelters</p>
      <h1>Ready for your next camp?</h1>
      <p class="lead">Tents you looked at are still here, pitched and waiting. Compare weights, floor space and seasons, and take one out for 60 nights on us.</p>
      <div class="hero-cta"><a class="btn btn-primary" href="/c/tents/">Back to tents</a><a class="btn btn-ghost" href="/c/sleeping-bags/">Sleeping bags to match</a></div>
    </div>
    </div>
    <svg class="hero-art" viewBox="0 0 480 300" aria-hidden="true">
      <defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#f6d9a8"/><stop offset="1" stop-color="#f3ebdd"/></linearGradient></defs>
      <rect width="480" height="300" rx="24" fill="url(#sky)"/>
      <circle cx="352" cy="92" r="38" fill="#f2b45a"/>
      <path d="M0 220l90-110 60 70 80-120 110 150 60-50 80 70v60H0z" fill="#6f8f7a"/>
      <path d="M230 60l-26 38 16-6 10 14 12-16 14 8z" fill="#fff" opacity=".85"/>
      <path d="M0 250l120-70 90 50 110-60 160 90v40H0z" fill="#2f5d49"/>
      <path d="M0 276q120-30 240 0t240 0v24H0z" fill="#1f4d3a"/>
      <path d="M318 236l26-40 26 40z" fill="#f2c46d"/><path d="M344 206l-8 30h16z" fill="#b5742c"/>
      <g fill="#1b3a2d"><path d="M60 250l14-40 14 40z"/><path d="M84 256l12-34 12 34z"/><path d="M420 262l12-36 12 36z"/></g>
    </svg>
  </div>
</section>
<section class="wrap vip-note" id="vip-note" data-affinity-segment="vip">
  <p><strong>Thank you for being one of our best customers.</strong> Express shipping is on us for your next order, no code needed.</p>
</section>
<section class="wrap perks">
  <div><strong>Free shipping</strong><span>on every order over $75</span></div>
  <div><strong>60-day returns</strong><span>worn it on a trail? Still fine.</span></div>
  <div><strong>Lifetime repairs</strong><span>we fix zips, seams and buckles</span></div>
</section>
<section class="wrap block">
  <div class="section-head"><h2>Shop by category</h2><p>Twelve departments, one trailhead.</p></div>
  <div class="tiles">${tiles}</div>
</section>
<section class="wrap block">
  <div class="section-head"><h2>Staff picks</h2><p>The gear we reach for first.</p></div>
  <div class="grid">${featured.map(card).join("\n")}</div>
</section>
${slots(slotSection("for-you", "Picked for you", "Based on what you have been looking at"))}
<section class="wrap block"><div class="story">
  <div><h2>Tested where it counts</h2><p>Every product on these shelves has spent at least a week outside with one of us: on the Wonderland Trail, in a soggy October on the Olympic coast, or simply on a commute in the rain. If we would not take it, we do not sell it.</p>
  <a class="btn btn-ghost" href="/c/backpacks/">Shop backpacks</a></div>
</div></section>`;
  // Every card with an add-to-cart form is described on its page; product pages carry only their
  // own Product node (the "More …" cards there are not listed) so they stay unambiguous.
  return layout(ctx, { title: "", body, path: "/", headExtra: ldJson(itemListLd("Staff picks", featured)) + "\n", bodyClass: "page-home" });
}

function categoryPage(ctx, c) {
  const items = ctx.byCat.get(c.slug);
  const brands = [...new Set(items.map((p) => p.brand))].sort();
  const body = `
<div class="wrap">
  <nav class="crumbs" aria-label="Breadcrumb"><a href="/">Home</a><span>/</span><span>${esc(c.name)}</span></nav>
  <div class="list-head">
    <div><h1>${esc(c.name)}</h1><p class="muted">${items.length} products from ${brands.length} brands</p></div>
    <label class="sort">Sort by <select data-sort><option value="featured">Featured</option><option value="price-asc">Price: low to high</option><option value="price-desc">Price: high to low</option></select></label>
  </div>
  <div class="grid" data-sortable>${items.map(card).join("\n")}</div>
</div>`;
  return layout(ctx, {
    title: c.name,
    description: `Shop ${items.length} ${c.name.toLowerCase()} from ${brands.join(", ")}.`,
    body,
    path: `/c/${c.slug}/`,
    headExtra: ldJson(itemListLd(c.name, items)) + "\n",
    bodyClass: "page-category",
  });
}

function productPage(ctx, p) {
  const c = ctx.catBySlug.get(p.category_slug);
  const siblings = ctx.byCat.get(p.category_slug).filter((q) => q.id !== p.id && q.stock > 0);
  const start = hash(p.id) % Math.max(1, siblings.length - 4);
  const related = siblings.slice(start, start + 4);
  const stock =
    p.stock === 0
      ? `<p class="stock stock-out">Out of stock. Check back soon.</p>`
      : p.stock <= 5
        ? `<p class="stock stock-low">Only ${p.stock} left. Ships in 1–2 business days.</p>`
        : `<p class="stock stock-in">In stock. Ships in 1–2 business days.</p>`;
  const body = `
<div class="wrap">
  <nav class="crumbs" aria-label="Breadcrumb"><a href="/">Home</a><span>/</span><a href="/c/${c.slug}/">${esc(c.name)}</a><span>/</span><span>${esc(p.name)}</span></nav>
  <article class="pdp">
    <div class="pdp-media"><img src="/img/${p.id}.svg" alt="${esc(p.name)}" width="640" height="640">${stockBadge(p)}</div>
    <div class="pdp-info">
      <p class="pdp-brand">${esc(p.brand)}</p>
      <h1>${esc(p.name)}</h1>
      <p class="pdp-price">${money(p.price)}</p>
      ${stock}
      <p class="pdp-desc">${esc(p.description)}</p>
      ${addForm(p, { quantityInput: true, cls: " pdp-form" })}
      <ul class="pdp-perks"><li>Free shipping over $75</li><li>60-day returns</li><li>${esc(p.brand)} warranty</li></ul>
      <dl class="pdp-specs"><dt>Item</dt><dd>${p.id.toUpperCase()}</dd><dt>Category</dt><dd><a href="/c/${c.slug}/">${esc(c.name)}</a></dd><dt>Features</dt><dd>${p.tags.map((t) => `<span class="chip">${esc(t.replace(/-/g, " "))}</span>`).join("")}</dd></dl>
    </div>
  </article>
</div>
${slots(slotSection("similar", "Shoppers also viewed", "") + slotSection("bought-together", "Frequently bought together", ""))}
<section class="wrap block">
  <div class="section-head"><h2>More ${esc(c.name.toLowerCase())}</h2></div>
  <div class="grid">${related.map(card).join("\n")}</div>
</section>`;
  return layout(ctx, {
    title: `${p.name} by ${p.brand}`,
    description: p.description,
    body,
    path: `/p/${p.slug}/`,
    headExtra: ldJson(productLd(p)) + "\n",
    bodyClass: "page-product",
  });
}

function searchPage(ctx) {
  const body = `
<div class="wrap">
  <div class="list-head"><div><h1 data-search-title>Search</h1><p class="muted" data-search-summary>Type a product, brand or category in the search box.</p></div></div>
  <div class="grid" data-search-results></div>
  <div class="empty" data-search-empty hidden><p>No products match your search. Try one of these:</p>
    <div class="chips">${ctx.catalog.categories.map((c) => `<a class="chip" href="/c/${c.slug}/">${esc(c.name)}</a>`).join("")}</div></div>
</div>`;
  return layout(ctx, { title: "Search", body, path: "/search/", bodyClass: "page-search" });
}

function cartPage(ctx) {
  const body = `
<div class="wrap">
  <h1>Your cart</h1>
  <div class="cart" data-cart><p class="muted">Loading your cart…</p></div>
</div>
<div class="wrap recs-wrap">${slotSection("cart", "Complete your kit", "Goes well with what is in your cart")}${slotSection("popular", "You might also like", "")}</div>`;
  return layout(ctx, { title: "Cart", body, path: "/cart/", bodyClass: "page-cart" });
}

function checkoutPage(ctx) {
  const body = `
<div class="wrap">
  <h1>Checkout</h1>
  <div class="checkout" data-checkout>
    <form class="checkout-form" id="checkout-form" action="/order/" method="get" novalidate>
      <fieldset><legend>Contact</legend>
        <label>Full name<input name="name" autocomplete="name" required value=""></label>
        <label>Email<input name="email" type="email" autocomplete="email" required></label>
      </fieldset>
      <fieldset><legend>Shipping address</legend>
        <label>Street address<input name="address" autocomplete="street-address" required></label>
        <div class="row"><label>City<input name="city" autocomplete="address-level2" required></label>
        <label>ZIP code<input name="zip" autocomplete="postal-code" required inputmode="numeric"></label></div>
        <label>Country<select name="country" autocomplete="country"><option>United States</option><option>Canada</option></select></label>
      </fieldset>
      <fieldset class="demo-pay"><legend>Payment <span class="demo-flag">DEMO</span></legend>
        <p class="note">This is a demo shop: no payment is taken and nothing is shipped. Do not enter real card details; the test number below is filled in for you.</p>
        <label>Card number (demo)<input name="card" value="4242 4242 4242 4242" inputmode="numeric" autocomplete="off"></label>
        <div class="row"><label>Expiry (demo)<input name="exp" value="12/30" autocomplete="off"></label><label>CVC (demo)<input name="cvc" value="123" autocomplete="off"></label></div>
      </fieldset>
      <p class="form-error" data-form-error hidden></p>
      <button class="btn btn-primary btn-block" type="submit" data-place-order>Place order</button>
    </form>
    <aside class="summary" data-summary><h2>Order summary</h2><p class="muted">Loading…</p></aside>
  </div>
</div>`;
  return layout(ctx, { title: "Checkout", body, path: "/checkout/", bodyClass: "page-checkout" });
}

// The confirmation page describes the order as schema.org JSON-LD, built synchronously in <head>
// from the order checkout saved, so it is in the document before any script looks for it.
const ORDER_HEAD_SCRIPT = `<script>
(function () {
  try {
    var o = JSON.parse(localStorage.getItem("nw_last_order") || "null");
    var want = new URLSearchParams(location.search).get("id");
    if (!o || !o.id || (want && want !== o.id)) return;
    var ld = {
      "@context": "https://schema.org",
      "@type": "Order",
      orderNumber: o.id,
      orderStatus: "https://schema.org/OrderProcessing",
      orderDate: o.created,
      priceCurrency: o.currency || "USD",
      price: o.total,
      tax: o.tax,
      shipping: o.shipping,
      discount: o.discount || 0,
      acceptedOffer: o.items.map(function (i) {
        return {
          "@type": "Offer",
          itemOffered: { "@type": "Product", productID: i.id, sku: i.id, name: i.name, category: i.category, brand: i.brand },
          price: i.price,
          priceCurrency: o.currency || "USD",
          eligibleQuantity: { "@type": "QuantitativeValue", value: i.quantity }
        };
      })
    };
    var s = document.createElement("script");
    s.type = "application/ld+json";
    s.id = "order-jsonld";
    s.text = JSON.stringify(ld);
    document.head.appendChild(s);
  } catch (e) {}
})();
</script>
`;

function orderPage(ctx) {
  const body = `
<div class="wrap narrow">
  <div class="order" data-order><p class="muted">Loading your order…</p></div>
</div>
<div class="wrap recs-wrap">${slotSection("popular", "Popular right now", "")}</div>`;
  return layout(ctx, { title: "Order confirmed", body, path: "/order/", headBeforeTag: ORDER_HEAD_SCRIPT, bodyClass: "page-order" });
}

function notFoundPage(ctx) {
  const body = `
<div class="wrap narrow center block">
  <h1>We could not find that trail.</h1>
  <p class="muted">The page you are looking for has moved or never existed.</p>
  <p><a class="btn btn-primary" href="/">Back to the shop</a></p>
</div>`;
  return layout(ctx, { title: "Page not found", body, path: "/404" });
}

const FAVICON =
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="16" fill="#1f4d3a"/>` +
  `<path d="M5 23l7-10 4 5 4-7 7 12z" fill="#f2c46d"/></svg>`;

// ---------------------------------------------------------------- main

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const out = resolve(opts.out);
  const catalog = JSON.parse(readFileSync(join(HERE, "catalog.json"), "utf8"));
  const catBySlug = new Map(catalog.categories.map((c) => [c.slug, c]));
  const byCat = new Map(catalog.categories.map((c) => [c.slug, []]));
  for (const p of catalog.products) byCat.get(p.category_slug).push(p);
  const ctx = { opts, catalog, catBySlug, byCat };

  let files = 0;
  const write = (rel, content) => {
    const file = join(out, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    files++;
  };

  write("index.html", homePage(ctx));
  for (const c of catalog.categories) write(`c/${c.slug}/index.html`, categoryPage(ctx, c));
  let biggest = 0;
  for (const p of catalog.products) {
    write(`p/${p.slug}/index.html`, productPage(ctx, p));
    const svg = productSvg(p, catBySlug.get(p.category_slug).icon);
    biggest = Math.max(biggest, Buffer.byteLength(svg));
    write(`img/${p.id}.svg`, svg);
  }
  if (biggest >= 1536) throw new Error(`a product SVG is ${biggest} bytes (budget 1.5 KB)`);
  write("search/index.html", searchPage(ctx));
  write("cart/index.html", cartPage(ctx));
  write("checkout/index.html", checkoutPage(ctx));
  write("order/index.html", orderPage(ctx));
  write("404.html", notFoundPage(ctx));
  write("favicon.svg", FAVICON);
  write("catalog.json", JSON.stringify(catalog));
  for (const asset of ["shop.css", "shop.js"]) {
    mkdirSync(out, { recursive: true });
    copyFileSync(join(HERE, "assets", asset), join(out, asset));
    files++;
  }
  console.log(`demo-site: ${files} files into ${opts.out} (${catalog.products.length} products; tag ${opts.tagSrc} key ${opts.key})`);
}

main();
