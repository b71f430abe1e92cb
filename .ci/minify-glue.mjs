// Renames the glue's references to the page module's imports and exports after wasm-opt's
// `--minify-imports-and-exports-and-modules` (its mapping is the JSON it printed), so that neither
// file carries wasm-bindgen's hashed names (`__wbg_addEventListener_70e3766f6252144d`, ~95 of
// them, in both files). The glue's own exports (`start`, `track`, …) keep their names.
//   node .ci/minify-glue.mjs <glue.js> <mapping.json> <module.wasm>   (rewrites the glue in place)
import { readFileSync, writeFileSync } from "node:fs";

const [gluePath, mapPath, wasmPath] = process.argv.slice(2);
let glue = readFileSync(gluePath, "utf8");
// wasm-opt prints one mapping per run of the pass; the build runs it once.
const text = readFileSync(mapPath, "utf8");
const map = JSON.parse(text.slice(0, text.indexOf("\n}") + 2));
const fail = (why) => {
  console.error(`minify-glue: ${why}`);
  process.exit(1);
};

const modules = new Map();
const imports = new Map();
for (const [module, name, short] of map.imports) {
  imports.set(name, short);
  modules.set(module, null);
}
if (modules.size !== 1) fail(`expected one import module, found ${[...modules.keys()]}`);
const exports = new Map(map.exports);

// Exports: every use is `wasm.<name>`.
glue = glue.replace(/\bwasm\.([A-Za-z_$][\w$]*)/g, (all, name) => {
  const short = exports.get(name);
  if (short === undefined) fail(`the glue uses an export the module lacks: ${name}`);
  return `wasm.${JSON.stringify(short).slice(1, -1)}`;
});
// Imports: the keys of the import object (`name: function(…`); keys wasm-opt dropped as unused
// keep their names and are never looked up.
let renamed = 0;
glue = glue.replace(/^(\s+)([A-Za-z_$][\w$]*): function\(/gm, (all, indent, name) => {
  const short = imports.get(name);
  if (short === undefined) return all;
  renamed++;
  return `${indent}${JSON.stringify(short)}: function(`;
});
if (renamed !== imports.size) fail(`renamed ${renamed} of ${imports.size} imports`);
// The one import module, e.g. `"./affinity_core_bg.js": import0`.
const [module] = modules.keys();
const key = `${JSON.stringify(module)}: import0`;
if (!glue.includes(key)) fail(`no import module key ${key}`);
// Its new name, and a check that every import the module has is a key of the glue's object.
const wanted = WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(wasmPath)));
const names = new Set(wanted.map((i) => i.module));
if (names.size !== 1) fail(`the module imports from ${[...names]}`);
const shorts = new Set(imports.values());
const missing = wanted.filter((i) => !shorts.has(i.name));
if (missing.length) fail(`imports without a glue function: ${missing.map((i) => i.name)}`);
glue = glue.replace(key, `${JSON.stringify([...names][0])}: import0`);
writeFileSync(gluePath, glue);
