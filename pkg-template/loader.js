/*! Affinity loader: the one script tag a shop pastes.
 *   <script async src="https://EDGE/affinity.js" data-key="pk_live_…"></script>
 * Sets a queue stub so `affinity.track(...)` works before the Wasm has loaded, then loads the page
 * module from next to this script and replays the queue into it. Everything else happens in Wasm.
 */
// The second tag, an inline dynamic import, keeps the page's `load` event from waiting for the
// edge (an async script holds it until fetched and run; an import does not):
//   <script>affinity={key:"pk_live_…",src:"https://EDGE/affinity.js"};import(affinity.src)</script>
// Besides: the readers of the consent platforms a shop may run (docs/consent.md) — TCF v2.2
// `__tcfapi`, Google Consent Mode v2 (`dataLayer`), Shopify's `customerPrivacy` — each turned into
// Segment-style consent categories that the page module maps onto its levels.
(function (w, d) {
  // Imported (the second tag), there is no current script: the key and URL are on `affinity`.
  var s = d.currentScript;
  var a = w.affinity = w.affinity || {};
  var attr = function (n) { return s ? s.getAttribute("data-" + n) : a[n]; };
  var key = attr("key");
  if (!key || a.v) return;
  a.v = 1;
  var q = a.q = a.q || [];
  var api = ["track", "page", "identify", "reset", "consent"];
  api.forEach(function (m) {
    a[m] = a[m] || function () { q.push([m, [].slice.call(arguments)]); };
  });
  // SPA navigations become one event the page module listens to.
  ["pushState", "replaceState"].forEach(function (m) {
    var f = history[m];
    history[m] = function () {
      var r = f.apply(this, arguments);
      w.dispatchEvent(new Event("affinity:navigate"));
      return r;
    };
  });
  var base = (s ? s.src : a.src).replace(/[^/]*$/, "");
  var edge = attr("edge") || new URL(base).origin;
  // A consent choice as the page module takes it: a level name, or categories as JSON.
  var text = function (c) { return typeof c == "object" ? JSON.stringify(c) : String(c || ""); };
  import(base + "affinity_core.js").then(function (m) {
    return m.default({ module_or_path: base + "affinity_core_bg.wasm" }).then(function () {
      // A choice queued before load applies before anything is stored or sent.
      var first = "";
      q = q.filter(function (c) { return c[0] == "consent" ? (c[1].length && (first = text(c[1][0])), 0) : 1; });
      m.start(key, edge, first);
      var set = function (c, src) { return m.consent(text(c), src) || void 0; };
      var call = function (name, args) {
        if (name == "track") m.track(String(args[0]), JSON.stringify(args[1] || {}));
        else if (name == "identify") m.identify(String(args[0] || ""), JSON.stringify(args[1] || {}));
        else if (name == "page") m.page();
        else if (name == "reset") m.reset();
        else return set(args[0], "api");
      };
      api.forEach(function (n) {
        a[n] = function () { return call(n, [].slice.call(arguments)); };
      });
      a.profile = function () { return JSON.parse(m.profile()); };
      while (q.length) { var c = q.shift(); call(c[0], c[1]); }
      // Categories with a known value only; nothing known, no choice.
      var report = function (c, src) { for (var k in c) return set(c, src); };
      // TCF v2.2: purpose 1 stores, 8 measures content, 3 + 4 are profiles for ads.
      if (w.__tcfapi) w.__tcfapi("addEventListener", 2, function (t, ok) {
        var p = ok && t.gdprApplies !== false && t.eventStatus != "cmpuishown" && t.purpose && t.purpose.consents;
        if (p) report({ Functional: !!p[1], Analytics: !!(p[1] && p[8]), Marketing: !!(p[1] && p[3] && p[4]) }, "tcf");
      });
      // Google Consent Mode v2: the last `consent` default/update per key, read once per entry
      // (each push reads only what is new).
      var dl = w.dataLayer, g = {}, i = 0, gcm = function () {
        var c = {}, e, k;
        while (i < dl.length) if ((e = dl[i++]) && e[0] == "consent" && (e = e[2])) for (k in e) g[k] = e[k] == "granted";
        if ("functionality_storage" in g) c.Functional = g.functionality_storage;
        if ("analytics_storage" in g) c.Analytics = g.analytics_storage;
        if ("ad_storage" in g) c.Marketing = !!(g.ad_storage && g.ad_user_data && g.ad_personalization);
        report(c, "gcm");
      };
      if (dl && dl.push) {
        var push = dl.push;
        dl.push = function () { var r = push.apply(dl, arguments); gcm(); return r; };
        gcm();
      }
      // Shopify: the visitor's consent, now and when it is collected.
      var shopify = function () {
        var p = w.Shopify && w.Shopify.customerPrivacy, v = p && p.currentVisitorConsent && p.currentVisitorConsent(), c = {}, k;
        if (v) for (k in { preferences: 0, analytics: 0, marketing: 0 }) if (v[k] == "yes" || v[k] == "no") c[k] = v[k] == "yes";
        report(c, "shopify");
      };
      shopify();
      d.addEventListener("visitorConsentCollected", shopify);
    });
  }).catch(function (e) { console.warn("affinity: could not load", e); });
})(window, document);
