// End-to-end harness: starts the real edge (wrangler dev → workerd, with local D1 and Durable
// Objects persisted in a fresh folder), a second origin serving the demo shop against that edge,
// runs every *.test.mjs here with `node --test`, and stops everything. Bounded in time throughout.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { serveStatic } from "./static-server.mjs";

const here = import.meta.dirname;
const root = path.resolve(here, "../..");
const worker = path.join(root, "worker");
const port = Number(process.env.E2E_EDGE_PORT || 8788);
const shopPort = Number(process.env.E2E_SHOP_PORT || 8789);
const edge = `http://127.0.0.1:${port}`;
const state = fs.mkdtempSync(path.join(os.tmpdir(), "affinity-e2e-"));
const env = { ...process.env, CI: "true" };
const vars = fs.readFileSync(path.join(worker, ".dev.vars"), "utf8");
const secret = vars.match(/^ADMIN_SECRET\s*=\s*"?([^"\n]+)"?/m)[1];
const operatorSecret = vars.match(/^OPERATOR_SECRET\s*=\s*"?([^"\n]+)"?/m)[1];

function log(msg) {
  console.log(`e2e: ${msg}`);
}

log(`state in ${state}`);
// Migrations before the Worker serves (it never migrates on a request).
execFileSync("bash", [path.join(root, ".ci/migrate.sh"), state], {
  env,
  stdio: ["ignore", "ignore", "inherit"],
  timeout: 300_000,
});

const logFile = path.join(state, "wrangler.log");
const out = fs.openSync(logFile, "a");
const dev = spawn(
  "wrangler",
  ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", state,
    "--show-interactive-dev-session=false", "--test-scheduled"],
  { cwd: worker, env, detached: true, stdio: ["ignore", out, out] },
);
let shop;
const stop = () => {
  try { process.kill(-dev.pid, "SIGTERM"); } catch {}
  shop?.close();
};
process.on("exit", stop);
process.on("SIGINT", () => { stop(); process.exit(130); });

let code = 1;
try {
  // `wrangler dev` runs the Worker's build first: allow it a few minutes on a cold machine.
  const deadline = Date.now() + 300_000;
  for (;;) {
    if (dev.exitCode !== null) throw new Error("wrangler dev exited early");
    try {
      const r = await fetch(`${edge}/v1/batch`, { method: "OPTIONS" });
      if (r.status === 204) break;
    } catch {}
    if (Date.now() > deadline) throw new Error("the edge did not come up in 300 s");
    await new Promise((r) => setTimeout(r, 500));
  }
  log(`edge up at ${edge}`);
  // The demo shop, created as an operator creates any shop.
  execFileSync("bash", [path.join(root, ".ci/demo-shop.sh"), edge], { env, stdio: "inherit", timeout: 120_000 });

  // Shopping history for the demo shop (idempotent by messageId), then a model build, so every
  // test sees a real item model.
  execFileSync("node", [path.join(root, "demo-site/seed.mjs"), edge, "--secret", secret],
    { stdio: "inherit", timeout: 240_000 });

  // The same shop on another origin, loading the plugin from the edge like a real shop does.
  const shopDir = path.join(state, "shop2");
  execFileSync("node", [path.join(root, "demo-site/build.mjs"), shopDir, "--tag-src", `${edge}/affinity.js`],
    { stdio: "ignore", timeout: 60_000 });
  shop = await serveStatic(shopDir, shopPort);
  log(`second origin at http://127.0.0.1:${shopPort}`);

  const files = fs.readdirSync(here).filter((f) => f.endsWith(".test.mjs")).sort()
    .map((f) => path.join(here, f));
  const only = process.argv.slice(2);
  const run = spawn(process.execPath, ["--test", "--test-concurrency=1", ...(only.length ? only : files)], {
    env: { ...env, EDGE: edge, SHOP2: `http://127.0.0.1:${shopPort}`, ADMIN_SECRET: secret,
      OPERATOR_SECRET: operatorSecret, E2E_STATE: state },
    stdio: "inherit",
  });
  const timer = setTimeout(() => run.kill("SIGTERM"), 600_000);
  code = await new Promise((r) => run.on("exit", (c) => r(c ?? 1)));
  clearTimeout(timer);
} catch (e) {
  console.error(`e2e: ${e.message}`);
  console.error(fs.readFileSync(logFile, "utf8").split("\n").slice(-40).join("\n"));
} finally {
  stop();
}
if (code !== 0) {
  console.error(`e2e: failed; wrangler log: ${logFile}`);
}
process.exit(code);
