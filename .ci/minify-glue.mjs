// Renames the glue's references to the page module's imports and exports after wasm-opt's
// `--minify-imports-and-exports-and-modules` (its mapping is the JSON it printed), so that neither
// file carries wasm-bindgen's hashed names (`__wbg_addEventListener_70e3766f6252144d`, ~95 of
// them, in both files). The glue's own exports (`start`, `track`, …) keep their names. Its
// loading code is reduced to the one call the loader makes (below).
//   node .ci/minify-glue.mjs <glue.js> <mapping.json> <module.wasm>   (rewrites the glue in place)
import { readFileSync, writeFileSync } from "node:fs";

const [gluePath, mapPath, wasmPath] = process.argv.slice(2);
let glue = readFileSync(gluePath, "utf8");
// The first mapping: --converge repeats the pass, whose later mappings map each name to itself.
const text = readFileSync(mapPath, "utf8");
const map = JSON.parse(text.slice(0, text.indexOf("\n}") + 2));
const fail = (why) => {
  console.error(`minify-glue: ${why}`);
  process.exit(1);
};

// wasm-opt merges every import module into one and gives each import a unique short name. The
// glue's own functions are the keys of its object `import0` (module "./<name>_bg.js"); imports
// straight from a JS snippet (`inline_js`) are members of a module namespace (`import1`, …).
const object = glue.match(/"([^"]+)": import0,/);
if (!object) fail("no import object import0");
const main = object[1];
const namespaces = new Map(
  [...glue.matchAll(/^\s+"([^"]+)": (import[1-9]\d*),$/gm)].map((m) => [m[1], m[2]]),
);
const imports = new Map();
const direct = [];
for (const [module, name, short] of map.imports) {
  if (module === main) imports.set(name, short);
  else if (namespaces.has(module)) direct.push([short, `${namespaces.get(module)}.${name}`]);
  else fail(`an import from a module the glue does not name: ${module}`);
}
const exports = new Map(map.exports);

// Exports: every use is `wasm.<name>`.
glue = glue.replace(/\bwasm\.([A-Za-z_$][\w$]*)/g, (all, name) => {
  const short = exports.get(name);
  if (short === undefined) fail(`the glue uses an export the module lacks: ${name}`);
  return `wasm.${short}`;
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
// The snippets' functions join the object under their short names.
const head = "const import0 = {\n        __proto__: null,\n";
if (!glue.includes(head)) fail("no import0 object head");
glue = glue.replace(head, head + direct.map(([k, v]) => `        ${JSON.stringify(k)}: ${v},\n`).join(""));
// The one merged module, and a check that every import it has is a key of the object.
const wanted = WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(wasmPath)));
const names = new Set(wanted.map((i) => i.module));
if (names.size !== 1) fail(`the module imports from ${[...names]}`);
const shorts = new Set([...imports.values(), ...direct.map(([k]) => k)]);
const missing = wanted.filter((i) => !shorts.has(i.name));
if (missing.length) fail(`imports without a glue function: ${missing.map((i) => i.name)}`);
const returned = /return \{\n\s+__proto__: null,\n(\s+"[^"]+": import\d+,\n)+\s+\};/;
if (!returned.test(glue)) fail("no returned import object");
glue = glue.replace(returned, `return { ${JSON.stringify([...names][0])}: import0 };`);
// The loading code: wasm-bindgen's, for every way of calling it (initSync, deprecated positional
// arguments with their warnings, the MIME-type warning's text), replaced by the one way the loader
// and the npm package's types use: `default({ module_or_path })` with a URL, a Request, a
// Response or bytes. As before, a streaming compile that fails on a server not sending
// `application/wasm` falls back to the bytes, and a failed start may be retried.
const load = glue.indexOf("async function __wbg_load(");
const end = "export { initSync, __wbg_init as default };";
if (load < 0 || !glue.trimEnd().endsWith(end) || !glue.includes("function __wbg_finalize_init(")) {
  fail("the glue's loading code is not the one this script replaces (a new wasm-bindgen?)");
}
glue = glue.slice(0, load) + `async function __wbg_load(source, imports) {
    if (typeof Response === "function" && source instanceof Response) {
        if (!source.ok) throw new Error("failed to fetch Wasm: " + source.status);
        if (WebAssembly.instantiateStreaming) {
            try {
                return await WebAssembly.instantiateStreaming(source, imports);
            } catch (e) {
                if (source.headers.get("Content-Type") === "application/wasm") throw e;
            }
        }
        source = await source.arrayBuffer();
    }
    const result = await WebAssembly.instantiate(source, imports);
    return result instanceof WebAssembly.Instance ? { instance: result, module: source } : result;
}
let __wbg_init_promise;
function __wbg_init(options) {
    if (wasm !== undefined) return Promise.resolve(wasm);
    let source = options && options.module_or_path;
    if (source === undefined) source = new URL("affinity_core_bg.wasm", import.meta.url);
    if (typeof source === "string" || source instanceof URL || (typeof Request === "function" && source instanceof Request)) {
        source = fetch(source);
    }
    return __wbg_init_promise ||= Promise.resolve(source)
        .then((s) => __wbg_load(s, __wbg_get_imports()))
        .then(({ instance, module }) => __wbg_finalize_init(instance, module))
        .catch((e) => {
            __wbg_init_promise = undefined;
            throw e;
        });
}
export { __wbg_init as default };
`;
writeFileSync(gluePath, glue);
