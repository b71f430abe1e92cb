// Generates demo-site/catalog.json: the Northwind Outfitters product catalog.
//
//   node demo-site/make-catalog.mjs            writes demo-site/catalog.json
//
// Deterministic: a seeded PRNG drives every choice, so re-running it gives the same file byte for
// byte. The catalog is committed; run this only to change the catalog on purpose.

import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const SEED = 0x4e57_2026; // "NW" 2026

// mulberry32: tiny, well-distributed 32-bit PRNG; plenty for a fake catalog.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(SEED);
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const between = (lo, hi) => lo + rand() * (hi - lo);

const BRANDS = [
  "Northwind", "Alder & Pine", "Summit Forge", "Cascadia Gear", "Ridgeline",
  "Bluefjord", "Ember Trail", "Granite Peak Co.", "Tidewater", "Kestrel",
];

// Model names are shared across categories, like real outdoor lines.
const MODELS = [
  "Talus", "Scree", "Cairn", "Arête", "Basalt", "Tamarack", "Juniper", "Solstice", "Glacier",
  "Ptarmigan", "Cascade", "Switchback", "Meridian", "Aspen", "Larch", "Ridgeback", "Fjord",
  "Highline", "Saddle", "Cirrus", "Boulder", "Harbor", "Nimbus", "Granite", "Kestrel", "Osprey",
  "Summit", "Trailhead", "Alpenglow", "Driftwood", "Canyon", "Tundra", "Sierra", "Halcyon",
];

// name patterns: {m} model, {v} variant, {n} numeral
const CATEGORIES = [
  {
    name: "Trail Running Shoes", slug: "trail-shoes", icon: "shoe", price: [89, 189], count: 22,
    nouns: ["Trail Runner", "Trail Shoe", "Trail Racer"], variants: ["", "GTX", "Wide", "Women's", "Men's", "Low"],
    tags: ["running", "footwear", "trail"], extra: ["waterproof", "vegan", "recycled", "lightweight", "wide-fit"],
    desc: [
      "A grippy, cushioned trail shoe with a rock plate for technical singletrack.",
      "Light and fast with a lugged outsole that bites into mud and loose gravel.",
      "A neutral trail shoe built for long days, with a roomy toe box and breathable mesh upper.",
    ],
  },
  {
    name: "Hiking Boots", slug: "hiking-boots", icon: "boot", price: [129, 289], count: 20,
    nouns: ["Hiking Boot", "Mid Boot", "Backpacking Boot"], variants: ["", "GTX", "Women's", "Men's", "Leather"],
    tags: ["hiking", "footwear", "boots"], extra: ["waterproof", "leather", "ankle-support", "resoleable"],
    desc: [
      "A supportive mid-height boot with a waterproof membrane and a stable heel for heavy loads.",
      "Full-grain leather and a Vibram-style sole for rough trails and years of use.",
      "Broken in out of the box: a flexible day-hiking boot that still protects your ankles.",
    ],
  },
  {
    name: "Rain Jackets", slug: "rain-jackets", icon: "jacket", price: [99, 349], count: 20,
    nouns: ["Rain Shell", "Rain Jacket", "Storm Jacket"], variants: ["", "Women's", "Men's", "2.5L", "3L"],
    tags: ["rain", "jacket", "outerwear"], extra: ["waterproof", "packable", "pit-zips", "recycled", "pfc-free"],
    desc: [
      "A fully seam-taped shell that packs into its own pocket and shrugs off all-day rain.",
      "Breathable three-layer fabric, a helmet-compatible hood and pit zips for steep climbs.",
      "An everyday rain jacket with a soft lining that feels as good in town as on the trail.",
    ],
  },
  {
    name: "Insulated Jackets", slug: "insulated-jackets", icon: "puffer", price: [149, 399], count: 20,
    nouns: ["Down Jacket", "Puffy", "Insulated Hoody", "Synthetic Jacket"], variants: ["", "Women's", "Men's", "Hooded"],
    tags: ["insulation", "jacket", "outerwear", "warm"], extra: ["down", "synthetic", "packable", "rds-certified"],
    desc: [
      "Warmth without weight: responsibly sourced down in a shell that stuffs into a pocket.",
      "Synthetic insulation that stays warm when damp, for shoulder seasons and belay stances.",
      "A cozy hooded puffy for cold camps, frosty mornings and the walk to the trailhead.",
    ],
  },
  {
    name: "Backpacks", slug: "backpacks", icon: "pack", price: [59, 329], count: 22,
    nouns: ["Daypack", "Pack", "Backpack", "Travel Pack"], variants: ["18", "22", "28", "35", "45", "55", "65"], liters: true, scale: 1,
    tags: ["backpack", "bags", "carry"], extra: ["hydration-compatible", "rain-cover", "ultralight", "recycled"],
    desc: [
      "A comfortable, ventilated back panel and smart pockets for everything from snacks to layers.",
      "An adjustable torso and a load-lifting hip belt carry heavy weekends with ease.",
      "Simple, light and tough: a roll-top pack that keeps gear dry in the worst weather.",
    ],
  },
  {
    name: "Tents", slug: "tents", icon: "tent", price: [179, 649], count: 18,
    nouns: ["Tent", "Backpacking Tent", "Dome Tent"], variants: ["1P", "2P", "UL 2P", "3P", "4P"], scale: 1,
    tags: ["tent", "shelter", "camping"], extra: ["freestanding", "ultralight", "3-season", "4-season"],
    desc: [
      "A freestanding tent with two doors, two vestibules and room to sit up and play cards.",
      "Ultralight and quick to pitch, with color-coded clips and a full-coverage rainfly.",
      "A roomy family tent that stands firm in wind and keeps the rain where it belongs.",
    ],
  },
  {
    name: "Sleeping Bags", slug: "sleeping-bags", icon: "bag", price: [99, 459], count: 18,
    nouns: ["Sleeping Bag", "Quilt", "Mummy Bag"], variants: ["40°F", "30°F", "20°F", "15°F", "0°F"], scale: 1,
    tags: ["sleeping", "camping", "sleep-system"], extra: ["down", "synthetic", "ultralight", "women-specific"],
    desc: [
      "A warm mummy bag with a draft collar and a contoured hood for cold, clear nights.",
      "A versatile quilt that pairs with any pad and saves ounces on long trails.",
      "Synthetic fill keeps its loft when wet, ideal for humid climates and canoe trips.",
    ],
  },
  {
    name: "Camp Cookware", slug: "cookware", icon: "pot", price: [19, 149], count: 20,
    nouns: ["Cook Pot", "Cook Set", "Skillet", "Kettle", "Mug"], variants: ["", "Titanium", "0.9L", "1.5L", "2-Person"],
    tags: ["cooking", "kitchen", "camping"], extra: ["titanium", "nonstick", "nesting", "ultralight"],
    desc: [
      "A nesting pot with a strainer lid and folding handles that packs a stove and fuel inside.",
      "Hard-anodized aluminum that heats evenly, for real meals at camp.",
      "Featherweight titanium that boils fast and lasts for decades.",
    ],
  },
  {
    name: "Headlamps", slug: "headlamps", icon: "lamp", price: [24, 119], count: 18,
    nouns: ["Headlamp"], variants: ["200", "350", "450", "600", "800"], lumens: true, scale: 1,
    tags: ["lighting", "headlamp", "electronics"], extra: ["rechargeable", "red-light", "waterproof", "lightweight"],
    desc: [
      "A bright, rechargeable headlamp with a lock mode so it never turns on in your pack.",
      "Flood and spot beams plus a red night mode that keeps your eyes adjusted.",
      "A tiny emergency light that lives in the first-aid kit and runs for days.",
    ],
  },
  {
    name: "Water Bottles", slug: "bottles", icon: "bottle", price: [14, 59], count: 20,
    nouns: ["Bottle", "Insulated Bottle", "Flask", "Soft Flask"], variants: ["500ml", "750ml", "1L", "32oz"],
    tags: ["hydration", "bottle"], extra: ["insulated", "bpa-free", "stainless", "leakproof"],
    desc: [
      "Double-wall stainless steel that keeps water cold for a full day of hiking.",
      "A leakproof, dishwasher-safe bottle with a wide mouth for ice and drink mixes.",
      "Collapsible and light, it rolls up when empty and fits in a vest pocket.",
    ],
  },
  {
    name: "Socks", slug: "socks", icon: "sock", price: [12, 34], count: 22,
    nouns: ["Hiker Sock", "Run Sock", "Crew Sock", "Trail Sock"], variants: ["", "Lightweight", "Midweight", "Cushioned", "Micro"],
    tags: ["socks", "merino", "footwear"], extra: ["merino", "lifetime-warranty", "seamless", "cushioned"],
    desc: [
      "Soft merino wool that regulates temperature and resists odor for days.",
      "A cushioned hiking sock with a seamless toe and arch support that stays put.",
      "A thin, fast-drying running sock that prevents blisters on long runs.",
    ],
  },
  {
    name: "Gloves", slug: "gloves", icon: "glove", price: [19, 129], count: 20,
    nouns: ["Glove", "Mitt", "Liner Glove", "Softshell Glove"], variants: ["", "Touch", "Pro", "Women's", "Men's"],
    tags: ["gloves", "accessories", "warm"], extra: ["touchscreen", "waterproof", "insulated", "leather-palm"],
    desc: [
      "Touchscreen fingertips and a grippy palm for cold hands that still need to work.",
      "An insulated, waterproof glove for snowshoeing, ski touring and shoveling the drive.",
      "A thin liner that layers under mitts or goes solo on brisk morning runs.",
    ],
  },
];

const slugify = (s) =>
  s.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/°f/g, "f").replace(/&/g, "and").replace(/'/g, "")
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");

function hslToHex(h, s, l) {
  s /= 100; l /= 100;
  const k = (n) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
  return "#" + [f(0), f(8), f(4)].map((x) => Math.round(x * 255).toString(16).padStart(2, "0")).join("");
}

// Outdoor-ish hues: greens, teals, blues, oranges, reds, ochres, slate.
const HUES = [[90, 160], [165, 205], [205, 235], [15, 40], [0, 12], [40, 55], [260, 290]];
function color() {
  const [lo, hi] = pick(HUES);
  return hslToHex(Math.round(between(lo, hi)), Math.round(between(26, 52)), Math.round(between(34, 50)));
}

// Realistic retail price: ends in .00, .95 or .99 (most) within the category's range.
// With `scale`, bigger variants (litres, people, warmth, lumens) cost more.
function price([lo, hi], at) {
  const t = at === undefined ? Math.pow(rand(), 1.6) : Math.min(1, Math.max(0, at + between(-0.12, 0.12)));
  const whole = Math.round(lo + t * (hi - lo));
  const cents = pick([".00", ".95", ".99", ".99", ".95", ".50"]);
  return Number(`${Math.max(whole - (cents === ".00" ? 0 : 1), lo - 1)}${cents}`);
}

const EXCLUSIVE = [["3-season", "4-season"], ["down", "synthetic"]];
const products = [];
const usedNames = new Set();
const usedSlugs = new Set();
for (const cat of CATEGORIES) {
  for (let i = 0; i < cat.count; i++) {
    let name, brand, vi;
    for (let tries = 0; ; tries++) {
      brand = pick(BRANDS);
      const model = pick(MODELS);
      const noun = pick(cat.nouns);
      vi = Math.floor(rand() * cat.variants.length);
      const v = cat.variants[vi];
      if (cat.liters) name = `${model} ${v} ${noun}`;
      else if (cat.lumens) name = `${model} ${v} ${noun}`;
      else if (v.endsWith("'s")) name = `${v} ${model} ${noun}`;
      else name = [model, noun, v].filter(Boolean).join(" ");
      if (!usedNames.has(name) || tries > 50) break;
    }
    usedNames.add(name);
    let slug = slugify(name);
    if (usedSlugs.has(slug)) slug = slugify(`${brand} ${name}`);
    usedSlugs.add(slug);
    const tags = [...cat.tags];
    for (const t of cat.extra) if (rand() < 0.35) tags.push(t);
    // Keep tags honest about what the name already says.
    const say = (word, add, drop) => {
      if (!name.includes(word)) return;
      for (const d of drop) if (tags.includes(d)) tags.splice(tags.indexOf(d), 1);
      tags.push(add);
    };
    say("Synthetic", "synthetic", ["down", "rds-certified"]);
    say("Down", "down", ["synthetic"]);
    say("Titanium", "titanium", []);
    say("Insulated", "insulated", []);
    for (const [a, b] of EXCLUSIVE) if (tags.includes(a) && tags.includes(b)) tags.splice(tags.indexOf(b), 1);
    if (rand() < 0.12) tags.push("new");
    if (rand() < 0.1) tags.push("bestseller");
    const desc = pick(cat.desc);
    const second = rand() < 0.5
      ? ` Backed by the ${brand} lifetime guarantee.`
      : tags.includes("recycled") ? " Made with recycled materials." : "";
    products.push({
      id: "",
      slug,
      name,
      brand,
      category: cat.name,
      category_slug: cat.slug,
      price: price(cat.price, cat.scale ? vi / (cat.variants.length - 1) : undefined),
      stock: Math.floor(between(3, 140)),
      description: desc + second,
      color: color(),
      tags: [...new Set(tags)],
    });
  }
}
products.forEach((p, i) => { p.id = "p" + String(i + 1).padStart(4, "0"); });

// Exactly ~5% out of stock, spread over the catalog.
const outCount = Math.round(products.length * 0.05);
const order = products.map((_, i) => i);
for (let i = order.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [order[i], order[j]] = [order[j], order[i]];
}
for (const i of order.slice(0, outCount)) products[i].stock = 0;

const categories = CATEGORIES.map((c) => ({ name: c.name, slug: c.slug, icon: c.icon }));
const out = { shop: "Northwind Outfitters", currency: "USD", categories, products };
const here = dirname(fileURLToPath(import.meta.url));
writeFileSync(join(here, "catalog.json"), JSON.stringify(out, null, 1) + "\n");
console.log(`catalog.json: ${products.length} products, ${categories.length} categories, ${outCount} out of stock`);
