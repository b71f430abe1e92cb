// A switchable HTTP proxy in front of the edge (127.0.0.1 only), for real network failures of
// the edge's API: request interception would turn Chromium's HTTP cache off, this does not.
//
//   mode "up"      every request is forwarded to the edge
//   mode "refuse"  requests for /v1/* get their connection closed without an answer (the browser
//                  sees a network error); everything else is forwarded
//   mode "hang"    requests for /v1/* are read and never answered (held until the mode changes
//                  back or the proxy closes); everything else is forwarded
import http from "node:http";

export async function startProxy(target, port) {
  const upstream = new URL(target);
  const held = new Set();
  let mode = "up";
  const log = [];
  const server = http.createServer((req, res) => {
    const api = new URL(req.url, "http://x").pathname.startsWith("/v1/");
    log.push({ method: req.method, url: req.url, mode: api ? mode : "up" });
    if (api && mode === "refuse") {
      req.socket.destroy();
      return;
    }
    if (api && mode === "hang") {
      held.add(res);
      res.on("close", () => held.delete(res));
      return;
    }
    const headers = { ...req.headers, host: upstream.host };
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      },
    );
    out.on("error", () => res.destroy());
    req.pipe(out);
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${port}`,
    log,
    set mode(m) {
      mode = m;
      if (m !== "hang") {
        for (const res of held) res.destroy();
        held.clear();
      }
    },
    get mode() {
      return mode;
    },
    close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
