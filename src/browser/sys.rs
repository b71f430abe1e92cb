//! The platform seam: clock, randomness, storage, and the few raw JS bindings web-sys lacks.
//!
//! Everything else in `browser/` goes through these helpers, so the list of things the page module
//! touches in the browser is in one place.

#[allow(unused_imports)]
use crate::prelude::*;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// `String(n)`: the JS engine's shortest round-trip digits of a number.
    #[wasm_bindgen(js_name = String)]
    fn number_text(n: f64) -> String;
    /// `Number(text)`: the nearest number to a decimal text (correctly rounded, as Rust's parse).
    #[wasm_bindgen(js_name = Number)]
    fn number_value(text: &str) -> f64;
}

/// Fills the engine's number hook ([`crate::platform`]): the engine then formats and parses
/// fractional numbers through the JS engine. Runs when the page module is instantiated (the
/// wasm-bindgen start function), before any export.
#[wasm_bindgen(start)]
pub fn install_platform() {
    crate::platform::set_numbers(crate::platform::Numbers {
        write: write_f64,
        parse: number_value,
        time: affinity_time,
    });
}

/// Writes a finite `n` as the JS engine's shortest round-trip digits (`String(n)`), without
/// linking Rust's float formatting (about 17 KB of code) into the page.
///
/// The edge writes Rust's `{}`: the same shortest digits, which read back as the same `n`, in
/// another notation where they differ — JS switches to exponent form (`1.5e-7`, `1e+21`) where
/// Rust writes every digit (`0.00000015`, `1000000000000000000000`), and when `n` lies exactly
/// halfway between the two closest shortest candidates (`1658206780088562.25`) V8 takes the even
/// last digit and Rust rounds up. Both are JSON with the same value, and nothing compares a
/// number's text across the two builds. Spelling the digits out in Rust's notation, with an exact
/// tie check, cost 587 B brotli (BENCHMARKS.md, "Size"). `json_numbers_round_trip`
/// (tests/browser.rs) checks that every text reads back as the same number.
pub(crate) fn write_f64(n: f64, out: &mut String) {
    out.push_str(&number_text(n));
}

/// The page's network and Cache Storage calls, in JS: each takes a callback, so the page module
/// needs no futures runtime. Bundled into the glue by `.ci/build-site.sh`.
#[wasm_bindgen(inline_js = r#"
const no = () => {};
const bytes = (r) => r.arrayBuffer().then((b) => new Uint8Array(b));
export function affinity_fetch(url, body, kind, done) {
  const init = { referrerPolicy: "no-referrer" };
  if (body != null) Object.assign(init, { method: "POST", body, keepalive: true });
  fetch(url, init)
    .then((r) => (kind == 0 ? r.status : !r.ok ? undefined : kind == 1 ? r.text() : bytes(r)))
    .then(done, () => done(undefined));
}
export function affinity_page() {
  const l = location, d = document, n = navigator;
  return JSON.stringify([l.pathname, l.href, l.search, d.title, d.referrer, n.userAgent, n.language]);
}
export function affinity_privacy() {
  const n = navigator;
  return (n.globalPrivacyControl === true ? 1 : 0) | (n.doNotTrack === "1" ? 2 : 0);
}
// Prices as the dashboard writes money (worker/src/platform/html.rs, `Currency`): the currency's
// symbol, or its code and a space, before the amount with a thousands comma and two decimals
// (none for currencies without minor units); a code that is not three letters gets no mark. No
// `Intl`: the first `Intl.NumberFormat` a page builds loads the JS engine's locale data, a task of
// 14-29 ms on a quiet machine and over 50 ms in `make bench-page`.
const symbols = { USD: "$", EUR: "\u20ac", GBP: "\xa3", JPY: "\xa5", INR: "\u20b9", KRW: "\u20a9",
  CNY: "CN\xa5", BRL: "R$", CAD: "CA$", AUD: "A$", NZD: "NZ$", MXN: "MX$" };
export function affinity_price(amount, code) {
  code = code.trim().toUpperCase() || "USD";
  const known = /^[A-Z]{3}$/.test(code);
  const text = Math.abs(amount).toFixed(known && /JPY|KRW|VND|CLP|ISK|PYG|UGX|XAF|XOF/.test(code) ? 0 : 2);
  return (amount < 0 ? "-" : "") + (known ? symbols[code] || code + " " : "") + text.replace(/\B(?=(\d{3})+\b)/g, ",");
}
export function affinity_time(ms) {
  return new Date(ms).toISOString();
}
const hex = [];
for (let i = 0; i < 256; i++) hex.push((i | 256).toString(16).slice(1));
let pool, at = 4096;
export function affinity_random_id() {
  if (at == 4096) {
    pool = new Uint8Array(4096);
    try {
      crypto.getRandomValues(pool);
    } catch (e) {
      for (let i = 0; i < 4096; i++) pool[i] = Math.random() * 256;
    }
    at = 0;
  }
  let h = "";
  for (const end = at + 16; at < end; ) h += hex[pool[at++]];
  return h;
}
export function affinity_store(op, key, value) {
  try {
    const s = localStorage;
    if (op == 0) return s.getItem(key) ?? undefined;
    if (op == 1) s.setItem(key, value);
    else s.removeItem(key);
  } catch (e) {}
}
export function affinity_window() {
  return window;
}
export function affinity_document() {
  return document;
}
export function affinity_beacon(url, body) {
  try {
    return navigator.sendBeacon(url, body);
  } catch (e) {
    return false;
  }
}
export function affinity_style(id, css) {
  const d = document;
  if (d.getElementById(id) || !d.head) return;
  const s = d.createElement("style");
  s.id = id;
  s.textContent = css;
  d.head.appendChild(s);
}
export function affinity_unmark(name) {
  const r = document.documentElement;
  if (r) r.classList.remove(name);
}
export function affinity_hidden() {
  return document.visibilityState == "hidden";
}
export function affinity_idle(f) {
  try {
    if (typeof requestIdleCallback == "function") return void requestIdleCallback(f, { timeout: 1000 });
  } catch (e) {}
  setTimeout(f, 0);
}
export function affinity_cache_get(url, done) {
  Promise.resolve()
    .then(() => caches.match(url))
    .then((r) => r && bytes(r))
    .then(done, () => done(undefined));
}
export function affinity_cache_put(name, url, view, done) {
  const copy = view.slice();
  Promise.resolve()
    .then(() => caches.delete(name))
    .catch(no)
    .then(() => caches.open(name))
    .then((c) => c.put(url, new Response(copy)))
    .catch(no)
    .then(done);
}
"#)]
extern "C" {
    /// `fetch(url)` without a referrer, or a keepalive `POST` of `body`; calls `done` with the
    /// status (`kind` 0), else, for an OK answer, its text (1) or bytes (2); `undefined` when
    /// the request fails (or the answer is not OK).
    fn affinity_fetch(url: &str, body: Option<&str>, kind: u32, done: &JsValue);
    /// Calls `done` with the bytes Cache Storage holds for `url`, else `undefined`.
    fn affinity_cache_get(url: &str, done: &JsValue);
    /// Replaces the cache `name` with one entry, `bytes` for `url`, then calls `done` (also when
    /// Cache Storage fails or is missing).
    fn affinity_cache_put(name: &str, url: &str, bytes: &[u8], done: &JsValue);
    /// The page's location, title, referrer, user agent and language, as a JSON array of
    /// strings (one call instead of seven).
    fn affinity_page() -> String;
    /// The privacy signals: 1 Global Privacy Control, 2 Do Not Track.
    fn affinity_privacy() -> u32;
    /// `amount` as a price in `currency` (an ISO 4217 code): `$1,234.50`, `¥1,235`, `SEK 9.50`.
    fn affinity_price(amount: f64, currency: &str) -> String;
    /// Unix milliseconds as RFC 3339 UTC with milliseconds (`Date.prototype.toISOString`).
    fn affinity_time(ms: f64) -> String;
    /// `localStorage`: `op` 0 reads `key`, 1 writes `value` under it, 2 removes it; what throws
    /// (storage forbidden, full) reads as nothing.
    fn affinity_store(op: u32, key: &str, value: &str) -> Option<String>;
    /// Adds `<style id="{id}">{css}</style>` to the head unless an element has that id.
    #[wasm_bindgen(js_name = affinity_style)]
    pub fn add_style(id: &str, css: &str);
    /// Removes the class `name` from `<html>`.
    #[wasm_bindgen(js_name = affinity_unmark)]
    pub fn unmark_root(name: &str);
    /// `navigator.sendBeacon(url, body)`; false also when it throws.
    fn affinity_beacon(url: &str, body: &str) -> bool;
    /// `window`, typed (web-sys's `window()` searches the global object and checks its type).
    fn affinity_window() -> web_sys::Window;
    /// `document`, typed.
    fn affinity_document() -> web_sys::Document;
    /// 32 random hex digits (see [`random_id`]).
    fn affinity_random_id() -> String;
    /// `document.visibilityState == "hidden"` (web-sys's enum would link its conversion panic).
    #[wasm_bindgen(js_name = affinity_hidden)]
    pub fn hidden() -> bool;
    /// `requestIdleCallback(f, {timeout: 1000})`, or `setTimeout(f, 0)` where it is missing.
    fn affinity_idle(f: &JsValue);
}

/// What the page's URL and document say, read in one call.
#[derive(Debug, Default)]
pub struct Page {
    /// `location.pathname`.
    pub path: String,
    /// `location.href`.
    pub url: String,
    /// `location.search`.
    pub search: String,
    /// `document.title`.
    pub title: String,
    /// `document.referrer`.
    pub referrer: String,
    /// `navigator.userAgent`.
    pub user_agent: String,
    /// `navigator.language`.
    pub locale: String,
}

/// Reads the [`Page`].
pub fn page() -> Page {
    let parsed = crate::json::parse(&affinity_page()).ok();
    let texts = parsed
        .as_ref()
        .and_then(crate::json::Value::as_array)
        .unwrap_or(&[]);
    let mut it = texts.iter().map(|v| v.as_str().unwrap_or("").to_string());
    let mut next = || it.next().unwrap_or_default();
    Page {
        path: next(),
        url: next(),
        search: next(),
        title: next(),
        referrer: next(),
        user_agent: next(),
        locale: next(),
    }
}

#[wasm_bindgen]
extern "C" {
    /// `setTimeout(f, ms)`.
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout_js(f: &JsValue, ms: i32);
    /// `console.warn(text)`.
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn(text: &str);
    /// `caches.delete(name)` (Cache Storage; throws where the context is not secure).
    #[wasm_bindgen(js_namespace = caches, js_name = delete, catch)]
    fn caches_delete(name: &str) -> Result<js_sys::Promise, JsValue>;
}

/// What [`fetch`] answers with.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// The status code.
    Status = 0,
    /// The body of an OK answer, as text.
    Text = 1,
    /// The body of an OK answer, as bytes.
    Bytes = 2,
}

/// A one-shot JS callback taking one value (one boxed type for every caller, as [`once`]).
fn once_with(f: Box<dyn FnOnce(JsValue)>) -> JsValue {
    Closure::once_into_js(f)
}

/// Fetches `url` (a keepalive `POST` of `body` when given) and calls `done` with the
/// [`Answer`]'s value: a number, a string or a `Uint8Array`; `undefined` when it failed.
pub fn fetch(url: &str, body: Option<&str>, answer: Answer, done: impl FnOnce(JsValue) + 'static) {
    affinity_fetch(url, body, answer as u32, &once_with(Box::new(done)));
}

/// The bytes of a `Uint8Array` answer.
pub fn bytes(v: &JsValue) -> Option<Vec<u8>> {
    v.dyn_ref::<js_sys::Uint8Array>()
        .map(js_sys::Uint8Array::to_vec)
}

/// Calls `done` with the bytes Cache Storage holds for `url`, if any.
pub fn cache_get(url: &str, done: impl FnOnce(Option<Vec<u8>>) + 'static) {
    affinity_cache_get(url, &once_with(Box::new(move |v| done(bytes(&v)))));
}

/// Replaces the cache `name` with one entry, `bytes` for `url`, then calls `done`. Failures are
/// ignored (the page keeps working; the next visit fetches again).
pub fn cache_put(name: &str, url: &str, bytes: &[u8], done: impl FnOnce() + 'static) {
    affinity_cache_put(name, url, bytes, &once(Box::new(done)));
}

/// Deletes the cache `name` (in the background).
pub fn cache_delete(name: &str) {
    let _ = caches_delete(name);
}

/// The browser's privacy signals: (Global Privacy Control, Do Not Track).
pub fn privacy_signals() -> (bool, bool) {
    let signals = affinity_privacy();
    (signals & 1 != 0, signals & 2 != 0)
}

/// The window. The page module only ever runs in a window (the loader is a classic script).
pub fn window() -> web_sys::Window {
    affinity_window()
}

/// The document.
pub fn document() -> web_sys::Document {
    affinity_document()
}

/// Wall-clock time, Unix ms.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// A random id: 16 bytes from the platform's CSPRNG (`crypto.getRandomValues`; `Math.random`
/// in a very old browser without it, still unique enough for ids) as 32 hex digits. The bytes
/// come from a pool of 4 KiB (256 ids) drawn at once: one `getRandomValues` per id cost about
/// 5 µs of the 20 µs an event may take.
pub fn random_id() -> String {
    affinity_random_id()
}

/// Reads a `localStorage` item (`None` also where the browser forbids storage: it throws in some
/// privacy modes).
pub fn load(key: &str) -> Option<String> {
    affinity_store(0, key, "")
}

/// Writes a `localStorage` item; a full or disabled storage is ignored (the page keeps working).
pub fn save(key: &str, value: &str) {
    affinity_store(1, key, value);
}

/// Removes a `localStorage` item.
pub fn remove(key: &str) {
    affinity_store(2, key, "");
}

/// Formats a price as the shop shows it, e.g. `$49.00` (no locale data: see `affinity_price`).
pub fn format_price(amount: f64, currency: &str) -> String {
    affinity_price(amount, currency)
}

/// A one-shot JS callback running `f`. Every caller's closure goes through this one boxed type, so
/// wasm-bindgen's callback shims exist once, not once per closure.
fn once(f: Box<dyn FnOnce()>) -> JsValue {
    Closure::once_into_js(f)
}

/// Runs `f` after `ms` milliseconds, once.
pub fn set_timeout(ms: i32, f: impl FnOnce() + 'static) {
    set_timeout_js(&once(Box::new(f)), ms);
}

/// Sends `body` to `url` with `navigator.sendBeacon`; true when the browser took it.
pub fn send_beacon(url: &str, body: &str) -> bool {
    affinity_beacon(url, body)
}

/// Writes `text` to the console as a warning.
pub fn warn(text: &str) {
    console_warn(text);
}

/// Runs `f` once when the browser is idle (`requestIdleCallback`, at most 1 s later), or after the
/// current task where the browser lacks it.
pub fn when_idle(f: impl FnOnce() + 'static) {
    affinity_idle(&once(Box::new(f)));
}

/// Adds a listener that lives as long as the page (it is never removed, so the closure is
/// deliberately leaked).
pub fn listen(
    target: &web_sys::EventTarget,
    kind: &str,
    capture: bool,
    f: impl FnMut(web_sys::Event) + 'static,
) {
    add_listener(target, kind, capture, Box::new(f));
}

/// [`listen`] for every closure type alike (one set of callback shims).
fn add_listener(
    target: &web_sys::EventTarget,
    kind: &str,
    capture: bool,
    f: Box<dyn FnMut(web_sys::Event)>,
) {
    let cb = Closure::<dyn FnMut(web_sys::Event)>::wrap(f);
    let _ = target.add_event_listener_with_callback_and_bool(
        kind,
        cb.as_ref().unchecked_ref(),
        capture,
    );
    cb.forget();
}
