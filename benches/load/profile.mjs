// CPU profile of the Worker's isolate (the fetch handler and the customer objects) while the
// load runs: attaches to `wrangler dev`'s inspector, samples for a while, writes the profile
// (open it in Chrome DevTools → Performance) and prints the functions with the most inclusive
// time. Used by `make load` when LOAD_PROFILE=1.
//   node benches/load/profile.mjs <inspector port> <seconds> <out.cpuprofile>
import fs from "node:fs";

const [port, seconds, out] = [process.argv[2], Number(process.argv[3]), process.argv[4]];
const [target] = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
// wrangler's inspector proxy refuses connections without an Origin.
const ws = new WebSocket(target.webSocketDebuggerUrl,
  { headers: { Origin: "https://devtools.devprod.cloudflare.dev" } });
const pending = new Map();
let next = 0;
const call = (method, params = {}) => new Promise((resolve, reject) => {
  const id = ++next;
  pending.set(id, resolve);
  ws.send(JSON.stringify({ id, method, params }));
  setTimeout(() => reject(new Error(`${method}: no answer in 30 s`)), 30_000);
});
// Bounded whatever happens to the inspector (a reload of the Worker closes it).
setTimeout(() => { console.error("profile: gave up after its time bound"); process.exit(1); },
  (seconds + 60) * 1000).unref();
ws.onclose = () => { for (const resolve of pending.values()) resolve(undefined); };
ws.onmessage = (m) => {
  const d = JSON.parse(m.data);
  pending.get(d.id)?.(d.result);
  pending.delete(d.id);
};
await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = () => reject(new Error("inspector refused")); });
await call("Profiler.enable");
await call("Profiler.setSamplingInterval", { interval: 200 });
await call("Profiler.start");
await new Promise((r) => setTimeout(r, seconds * 1000));
const stopped = await call("Profiler.stop");
if (!stopped) throw new Error("the inspector closed before the profile was taken");
const { profile } = stopped;
ws.close();
fs.writeFileSync(out, JSON.stringify(profile));

// Inclusive share per function name (each name counted once per sample's stack).
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const share = new Map();
for (const leaf of profile.samples) {
  const seen = new Set();
  for (let id = leaf; id !== undefined; id = parent.get(id)) {
    const name = (nodes.get(id).callFrame.functionName || "(anonymous)").replace(/::h[0-9a-f]{16}$/, "");
    if (!seen.has(name)) { seen.add(name); share.set(name, (share.get(name) ?? 0) + 1); }
  }
}
const total = profile.samples.length;
console.log(`profile: ${total} samples over ${seconds} s → ${out}; inclusive share of the Worker's own functions:`);
for (const [name, n] of [...share].filter(([k]) => k.startsWith("affinity") || /^(exec|fetch|setAlarm|\(idle\)|\(garbage collector\))$/.test(k))
  .sort((a, b) => b[1] - a[1]).slice(0, 25)) {
  console.log(`${(100 * n / total).toFixed(1).padStart(6)} %  ${name.slice(0, 120)}`);
}
