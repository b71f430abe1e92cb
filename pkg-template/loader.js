/*! Affinity loader: the one script tag a shop pastes.
 *   <script async src="https://EDGE/affinity.js" data-key="pk_live_…"></script>
 * Sets a queue stub so `affinity.track(...)` works before the Wasm has loaded, then loads the page
 * module from next to this script and replays the queue into it. Everything else happens in Wasm.
 */
(function (w, d) {
  var s = d.currentScript;
  var key = s && s.getAttribute("data-key");
  var a = w.affinity = w.affinity || {};
  if (!key || a.v) return;
  a.v = 1;
  var q = a.q = a.q || [];
  ["track", "page", "identify", "reset"].forEach(function (m) {
    a[m] = a[m] || function () { q.push([m, [].slice.call(arguments)]); };
  });
  // The shopper's opt-out: nothing is captured, stored or sent.
  try { if (localStorage.getItem("affinity_optout") == "1") return; } catch (e) {}
  // SPA navigations become one event the page module listens to.
  ["pushState", "replaceState"].forEach(function (m) {
    var f = history[m];
    history[m] = function () {
      var r = f.apply(this, arguments);
      w.dispatchEvent(new Event("affinity:navigate"));
      return r;
    };
  });
  var base = s.src.replace(/[^/]*$/, "");
  var edge = s.getAttribute("data-edge") || new URL(base).origin;
  import(base + "affinity_core.js").then(function (m) {
    return m.default({ module_or_path: base + "affinity_core_bg.wasm" }).then(function () {
      m.start(key, edge);
      var call = function (name, args) {
        if (name == "track") m.track(String(args[0]), JSON.stringify(args[1] || {}));
        else if (name == "identify") m.identify(String(args[0] || ""), JSON.stringify(args[1] || {}));
        else if (name == "page") m.page();
        else if (name == "reset") m.reset();
      };
      ["track", "page", "identify", "reset"].forEach(function (n) {
        a[n] = function () { call(n, [].slice.call(arguments)); };
      });
      a.profile = function () { return JSON.parse(m.profile()); };
      while (q.length) { var c = q.shift(); call(c[0], c[1]); }
    });
  }).catch(function (e) { console.warn("affinity: could not load", e); });
})(window, document);
