/* Northwind Outfitters shop script: cart, search, checkout, order confirmation.
 *
 * Plain browser JS, no dependencies. State lives in localStorage:
 *   nw_cart        [{id, quantity}]                     the cart
 *   nw_last_order  {id, created, items[], subtotal, ...} the order checkout just placed
 * Cart forms follow the Shopify shape (POST /cart/add with id + quantity; POST /cart/change with
 * id + quantity, 0 removes) and are handled here with one bubble-phase submit listener, so any
 * capture-phase listener on the page sees them first.
 */
(function () {
  "use strict";

  var CART_KEY = "nw_cart";
  var ORDER_KEY = "nw_last_order";
  var FREE_SHIPPING = 75;
  var SHIPPING = 6.95;
  var TAX_RATE = 0.0825;

  // ------------------------------------------------------------ storage

  function read(key, fallback) {
    try {
      var v = JSON.parse(localStorage.getItem(key) || "null");
      return v == null ? fallback : v;
    } catch (e) {
      return fallback;
    }
  }
  function write(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode: cart is per page */ }
  }

  function getCart() {
    var c = read(CART_KEY, []);
    if (!Array.isArray(c)) return [];
    return c.filter(function (l) { return l && typeof l.id === "string" && l.quantity > 0; });
  }
  function setCart(cart) {
    write(CART_KEY, cart);
    updateCount();
  }
  function addToCart(id, qty) {
    var cart = getCart();
    var line = cart.find(function (l) { return l.id === id; });
    if (line) line.quantity += qty; else cart.push({ id: id, quantity: qty });
    setCart(cart);
  }
  // Shopify semantics: /cart/change sets the line's quantity; 0 removes it.
  function changeCart(id, qty) {
    var cart = getCart();
    if (qty <= 0) cart = cart.filter(function (l) { return l.id !== id; });
    else cart.forEach(function (l) { if (l.id === id) l.quantity = qty; });
    setCart(cart);
  }

  function updateCount() {
    var n = getCart().reduce(function (s, l) { return s + l.quantity; }, 0);
    document.querySelectorAll("[data-cart-count]").forEach(function (el) {
      el.textContent = String(n);
      el.hidden = n === 0;
    });
  }

  // ------------------------------------------------------------ catalog

  var catalogPromise = null;
  function catalog() {
    if (!catalogPromise) {
      catalogPromise = fetch("/catalog.json").then(function (r) {
        if (!r.ok) throw new Error("catalog " + r.status);
        return r.json();
      }).then(function (c) {
        c.byId = {};
        c.products.forEach(function (p) { c.byId[p.id] = p; });
        return c;
      });
    }
    return catalogPromise;
  }

  // ------------------------------------------------------------ formatting

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function money(n) {
    return "$" + n.toFixed(2).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  function round2(n) { return Math.round(n * 100) / 100; }

  function totals(lines) {
    var subtotal = round2(lines.reduce(function (s, l) { return s + l.price * l.quantity; }, 0));
    var shipping = subtotal === 0 || subtotal >= FREE_SHIPPING ? 0 : SHIPPING;
    var tax = round2(subtotal * TAX_RATE);
    return { subtotal: subtotal, shipping: shipping, tax: tax, total: round2(subtotal + shipping + tax) };
  }

  // Cart lines joined with the catalog (unknown ids are dropped).
  function cartLines(c) {
    return getCart().map(function (l) {
      var p = c.byId[l.id];
      return p && { p: p, id: p.id, name: p.name, price: p.price, quantity: l.quantity, category: p.category, brand: p.brand };
    }).filter(Boolean);
  }

  // Same markup as build.mjs's card(), for client-rendered grids.
  function cardHtml(p) {
    var badge = p.stock === 0 ? '<span class="badge badge-out">Out of stock</span>'
      : p.stock <= 5 ? '<span class="badge badge-low">Only ' + p.stock + " left</span>"
      : p.tags.indexOf("new") >= 0 ? '<span class="badge badge-new">New</span>'
      : p.tags.indexOf("bestseller") >= 0 ? '<span class="badge badge-best">Bestseller</span>' : "";
    var dis = p.stock === 0 ? " disabled" : "";
    return '<article class="card' + (p.stock === 0 ? " is-out" : "") + '" data-id="' + p.id + '" data-price="' + p.price + '">' +
      '<a class="card-link" href="/p/' + esc(p.slug) + '/"><div class="card-img"><img src="/img/' + p.id + '.svg" alt="' + esc(p.name) +
      '" loading="lazy" width="320" height="320">' + badge + '</div><div class="card-body"><span class="card-brand">' + esc(p.brand) +
      '</span><h3 class="card-name">' + esc(p.name) + "</h3></div></a>" +
      '<div class="card-foot"><span class="price">' + money(p.price) + "</span>" +
      '<form action="/cart/add" method="post" class="product-form card-form" data-product-name="' + esc(p.name) + '">' +
      '<input type="hidden" name="id" value="' + p.id + '"><input type="hidden" name="quantity" value="1">' +
      '<button type="submit" name="add"' + dis + ">" + (p.stock === 0 ? "Sold out" : "Add to cart") + "</button></form></div></article>";
  }

  // ------------------------------------------------------------ toast

  var toastTimer = 0;
  function toast(html) {
    var t = document.querySelector(".toast");
    if (!t) return;
    t.innerHTML = html;
    t.hidden = false;
    requestAnimationFrame(function () { t.classList.add("show"); });
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () {
      t.classList.remove("show");
      setTimeout(function () { t.hidden = true; }, 250);
    }, 2600);
  }

  // ------------------------------------------------------------ cart forms (bubble phase)

  function formPath(form) {
    try { return new URL(form.getAttribute("action") || "", location.href).pathname.replace(/\/+$/, ""); } catch (e) { return ""; }
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!(form instanceof HTMLFormElement)) return;
    var path = formPath(form);
    if (path !== "/cart/add" && path !== "/cart/change") return;
    e.preventDefault();
    var data = new FormData(form);
    var id = String(data.get("id") || "");
    var qty = parseInt(String(data.get("quantity") || "1"), 10);
    if (!id) return;
    if (path === "/cart/add") {
      if (!(qty >= 1)) qty = 1;
      addToCart(id, qty);
      var name = form.getAttribute("data-product-name") || "Item";
      toast('<span class="toast-check" aria-hidden="true">✓</span><span><strong>Added to cart</strong>' +
        esc(qty > 1 ? qty + " × " + name : name) + '</span><a href="/cart/">View cart</a>');
    } else {
      changeCart(id, isNaN(qty) ? 0 : qty);
    }
    if (document.querySelector("[data-cart]")) renderCart();
  });

  // ------------------------------------------------------------ category sort

  function initSort() {
    var select = document.querySelector("[data-sort]");
    var grid = document.querySelector("[data-sortable]");
    if (!select || !grid) return;
    var original = Array.prototype.slice.call(grid.children);
    select.addEventListener("change", function () {
      var cards = original.slice();
      if (select.value === "price-asc") cards.sort(function (a, b) { return a.dataset.price - b.dataset.price; });
      if (select.value === "price-desc") cards.sort(function (a, b) { return b.dataset.price - a.dataset.price; });
      cards.forEach(function (c) { grid.appendChild(c); });
    });
  }

  // ------------------------------------------------------------ search

  function initSearch() {
    var results = document.querySelector("[data-search-results]");
    if (!results) return;
    var q = (new URLSearchParams(location.search).get("q") || "").trim();
    var input = document.querySelector('.search input[name="q"]');
    if (input) input.value = q;
    var title = document.querySelector("[data-search-title]");
    var summary = document.querySelector("[data-search-summary]");
    var empty = document.querySelector("[data-search-empty]");
    if (!q) return;
    title.textContent = "Results for “" + q + "”";
    document.title = q + " · Search · Northwind Outfitters";
    summary.textContent = "Searching…";
    catalog().then(function (c) {
      var terms = q.toLowerCase().split(/\s+/).filter(Boolean);
      var hits = c.products.map(function (p) {
        var name = p.name.toLowerCase();
        var hay = [name, p.brand, p.category, p.tags.join(" ")].join(" ").toLowerCase();
        var ok = terms.every(function (t) { return hay.indexOf(t) >= 0; });
        var score = terms.reduce(function (s, t) { return s + (name.indexOf(t) >= 0 ? 2 : 1); }, 0) + (p.stock > 0 ? 0.5 : 0);
        return ok && { p: p, score: score };
      }).filter(Boolean).sort(function (a, b) { return b.score - a.score; });
      summary.textContent = hits.length === 0 ? "" : hits.length + (hits.length === 1 ? " product" : " products");
      results.innerHTML = hits.map(function (h) { return cardHtml(h.p); }).join("");
      empty.hidden = hits.length > 0;
    }).catch(function () {
      summary.textContent = "Search is unavailable right now. Please try again.";
    });
  }

  // ------------------------------------------------------------ cart page

  function renderCart() {
    var root = document.querySelector("[data-cart]");
    if (!root) return;
    catalog().then(function (c) {
      var lines = cartLines(c);
      if (lines.length === 0) {
        root.innerHTML = '<div class="empty empty-cart"><svg viewBox="0 0 24 24" width="48" height="48" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round" d="M3 4h2l2.4 11.2a2 2 0 0 0 2 1.6h7.9a2 2 0 0 0 2-1.5L21 8H6.2M10 21h.01M18 21h.01"/></svg>' +
          "<h2>Your cart is empty</h2><p class=\"muted\">Nothing in here yet. The trail is waiting.</p>" +
          '<a class="btn btn-primary" href="/">Start shopping</a></div>';
        return;
      }
      var t = totals(lines);
      var rows = lines.map(function (l) {
        var p = l.p;
        var minus = l.quantity > 1
          ? '<form action="/cart/change" method="post" class="qty-form"><input type="hidden" name="id" value="' + p.id + '"><input type="hidden" name="quantity" value="' + (l.quantity - 1) + '"><button type="submit" aria-label="One less">−</button></form>'
          : '<span class="qty-spacer"></span>';
        var plus = p.stock > l.quantity
          ? '<form action="/cart/add" method="post" class="qty-form" data-product-name="' + esc(p.name) + '"><input type="hidden" name="id" value="' + p.id + '"><input type="hidden" name="quantity" value="1"><button type="submit" name="add" aria-label="One more">+</button></form>'
          : '<span class="qty-spacer"></span>';
        return '<li class="cart-line">' +
          '<a href="/p/' + esc(p.slug) + '/"><img src="/img/' + p.id + '.svg" alt="" width="88" height="88"></a>' +
          '<div class="cart-line-info"><span class="card-brand">' + esc(p.brand) + '</span><a class="cart-line-name" href="/p/' + esc(p.slug) + '/">' + esc(p.name) + "</a>" +
          '<span class="muted">' + money(p.price) + " each" + (p.stock === 0 ? ' · <span class="stock-out">out of stock</span>' : "") + "</span>" +
          '<form action="/cart/change" method="post" class="remove-form"><input type="hidden" name="id" value="' + p.id + '"><input type="hidden" name="quantity" value="0"><button type="submit" class="link-btn">Remove</button></form></div>' +
          '<div class="cart-line-qty">' + minus + '<span class="qty-value" aria-label="Quantity">' + l.quantity + "</span>" + plus + "</div>" +
          '<div class="cart-line-total">' + money(p.price * l.quantity) + "</div></li>";
      }).join("");
      root.innerHTML = '<div class="cart-layout"><ul class="cart-lines">' + rows + "</ul>" +
        '<aside class="summary"><h2>Summary</h2>' + summaryRows(t, false) +
        (t.shipping > 0 ? '<p class="note">Add ' + money(FREE_SHIPPING - t.subtotal) + " more for free shipping.</p>" : '<p class="note">You get free shipping.</p>') +
        '<a class="btn btn-primary btn-block" href="/checkout/">Checkout</a><a class="btn btn-ghost btn-block" href="/">Continue shopping</a></aside></div>';
    }).catch(function () {
      root.innerHTML = '<p class="muted">Your cart could not be loaded. Please reload the page.</p>';
    });
  }

  function summaryRows(t, final) {
    return '<dl class="totals"><dt>Subtotal</dt><dd>' + money(t.subtotal) + "</dd>" +
      "<dt>Shipping</dt><dd>" + (t.shipping === 0 ? "Free" : money(t.shipping)) + "</dd>" +
      "<dt>" + (final ? "Tax" : "Estimated tax") + "</dt><dd>" + money(t.tax) + "</dd>" +
      '<dt class="grand">Total</dt><dd class="grand">' + money(t.total) + "</dd></dl>";
  }

  // ------------------------------------------------------------ checkout

  function initCheckout() {
    var root = document.querySelector("[data-checkout]");
    if (!root) return;
    var form = document.getElementById("checkout-form");
    var summary = root.querySelector("[data-summary]");
    catalog().then(function (c) {
      var lines = cartLines(c);
      if (lines.length === 0) {
        root.innerHTML = '<div class="empty"><h2>Your cart is empty</h2><p class="muted">Add something to your cart before checking out.</p><a class="btn btn-primary" href="/">Start shopping</a></div>';
        return;
      }
      var t = totals(lines);
      summary.innerHTML = "<h2>Order summary</h2><ul class=\"mini-lines\">" + lines.map(function (l) {
        return '<li><img src="/img/' + l.id + '.svg" alt="" width="48" height="48"><span><strong>' + esc(l.name) + "</strong><small>" + esc(l.brand) + " · Qty " + l.quantity + "</small></span><span>" + money(l.price * l.quantity) + "</span></li>";
      }).join("") + "</ul>" + summaryRows(t, true) + '<p class="note"><a href="/cart/">Edit cart</a></p>';
      form.querySelector("[data-place-order]").textContent = "Place order · " + money(t.total);
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var error = form.querySelector("[data-form-error]");
        var missing = Array.prototype.filter.call(form.querySelectorAll("[required]"), function (el) { return !el.value.trim(); });
        var email = form.elements.email.value.trim();
        if (missing.length || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
          error.textContent = missing.length ? "Please fill in every field." : "Please enter a valid email address.";
          error.hidden = false;
          (missing[0] || form.elements.email).focus();
          return;
        }
        placeOrder(c, form);
      });
    }).catch(function () {
      summary.innerHTML = '<h2>Order summary</h2><p class="muted">Could not load your cart. Please reload.</p>';
    });
  }

  function orderId() {
    var alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    var bytes = new Uint8Array(8);
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(bytes);
    else for (var i = 0; i < 8; i++) bytes[i] = Math.floor(Math.random() * 256);
    var s = "";
    for (var j = 0; j < 8; j++) s += alphabet[bytes[j] % alphabet.length];
    return "NW-" + s;
  }

  function placeOrder(c, form) {
    var lines = cartLines(c);
    if (lines.length === 0) { location.href = "/cart/"; return; }
    var t = totals(lines);
    var order = {
      id: orderId(),
      created: new Date().toISOString(),
      items: lines.map(function (l) {
        return { id: l.id, name: l.name, price: l.price, quantity: l.quantity, category: l.category, brand: l.brand };
      }),
      subtotal: t.subtotal,
      shipping: t.shipping,
      tax: t.tax,
      discount: 0,
      total: t.total,
      currency: "USD",
      customer: { name: form.elements.name.value.trim(), email: form.elements.email.value.trim(), city: form.elements.city.value.trim() }
    };
    write(ORDER_KEY, order);
    setCart([]);
    location.href = "/order/?id=" + encodeURIComponent(order.id);
  }

  // ------------------------------------------------------------ order confirmation

  function renderOrder() {
    var root = document.querySelector("[data-order]");
    if (!root) return;
    var o = read(ORDER_KEY, null);
    var want = new URLSearchParams(location.search).get("id");
    if (!o || !o.items || (want && want !== o.id)) {
      root.innerHTML = '<div class="empty"><h1>Order not found</h1><p class="muted">We could not find that order on this device.</p><a class="btn btn-primary" href="/">Back to the shop</a></div>';
      return;
    }
    var first = (o.customer && o.customer.name || "").split(/\s+/)[0];
    root.innerHTML = '<div class="order-head"><span class="order-check" aria-hidden="true">✓</span>' +
      "<h1>Thank you" + (first ? ", " + esc(first) : "") + "!</h1>" +
      '<p>Your order <strong class="order-number">' + esc(o.id) + "</strong> is confirmed" +
      (o.customer && o.customer.email ? " and a receipt is on its way to " + esc(o.customer.email) : "") + ".</p>" +
      '<p class="muted">This is a demo: nothing will be charged or shipped.</p></div>' +
      '<ul class="mini-lines order-lines">' + o.items.map(function (i) {
        return '<li><img src="/img/' + esc(i.id) + '.svg" alt="" width="56" height="56"><span><strong>' + esc(i.name) + "</strong><small>" +
          esc(i.brand) + " · " + money(i.price) + " × " + i.quantity + "</small></span><span>" + money(i.price * i.quantity) + "</span></li>";
      }).join("") + "</ul>" + summaryRows(o, true) +
      '<p class="center"><a class="btn btn-primary" href="/">Continue shopping</a></p>';
  }

  // ------------------------------------------------------------ privacy choices

  // The footer's consent buttons call Affinity's documented API (queued until it has loaded);
  // the label shows the level in force once the plugin answers.
  function initConsent() {
    var label = document.querySelector("[data-consent-level]");
    var show = function () {
      // Only once loaded (`profile` appears then): before that a call would only be queued.
      var level = window.affinity && window.affinity.profile && window.affinity.consent();
      if (label && level) label.textContent = level;
      return level;
    };
    document.addEventListener("click", function (e) {
      var b = e.target.closest && e.target.closest("[data-consent]");
      if (!b || !window.affinity || !window.affinity.consent) return;
      window.affinity.consent(b.getAttribute("data-consent"));
      show();
    });
    var tries = 0;
    var poll = setInterval(function () { if (show() || ++tries > 20) clearInterval(poll); }, 250);
  }

  // ------------------------------------------------------------ start

  function start() {
    updateCount();
    initSort();
    initSearch();
    renderCart();
    initCheckout();
    renderOrder();
    initConsent();
  }
  window.addEventListener("storage", function (e) { if (e.key === CART_KEY) updateCount(); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
