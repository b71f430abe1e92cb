//! The platform seam: clock, randomness, storage, and the few raw JS bindings web-sys lacks.
//!
//! Everything else in `browser/` goes through these helpers, so the list of things the page module
//! touches in the browser is in one place.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// A JS number, for `Number.prototype.toLocaleString`.
    type JsNumber;
    #[wasm_bindgen(method, js_name = toLocaleString)]
    fn to_locale_string(this: &JsNumber, locale: &JsValue, options: &js_sys::Object) -> String;
}

/// The window. The page module only ever runs in a window (the loader is a classic script).
pub fn window() -> web_sys::Window {
    web_sys::window().expect_throw("unreachable: affinity runs in a window")
}

/// The document.
pub fn document() -> web_sys::Document {
    window()
        .document()
        .expect_throw("unreachable: a window has a document")
}

/// Wall-clock time, Unix ms.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// A random id: 16 bytes from the platform's CSPRNG as 32 hex digits.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No crypto (very old browser): fall back to Math.random, still unique enough for ids.
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(32);
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
    out
}

/// `localStorage`, when the browser allows it (it throws in some privacy modes).
fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// Reads a `localStorage` item.
pub fn load(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

/// Writes a `localStorage` item; a full or disabled storage is ignored (the page keeps working).
pub fn save(key: &str, value: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(key, value);
    }
}

/// Removes a `localStorage` item.
pub fn remove(key: &str) {
    if let Some(s) = storage() {
        let _ = s.remove_item(key);
    }
}

/// Formats a price in the shopper's locale, e.g. `$49.00`.
pub fn format_price(amount: f64, currency: &str) -> String {
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"style".into(), &"currency".into());
    let _ = js_sys::Reflect::set(&options, &"currency".into(), &currency.into());
    JsValue::from_f64(amount)
        .unchecked_into::<JsNumber>()
        .to_locale_string(&JsValue::UNDEFINED, &options)
}

/// Runs `f` after `ms` milliseconds, once.
pub fn set_timeout(ms: i32, f: impl FnOnce() + 'static) {
    let cb = Closure::once_into_js(f);
    let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), ms);
}

/// Adds a listener that lives as long as the page (it is never removed, so the closure is
/// deliberately leaked).
pub fn listen(
    target: &web_sys::EventTarget,
    kind: &str,
    capture: bool,
    f: impl FnMut(web_sys::Event) + 'static,
) {
    let cb = Closure::<dyn FnMut(web_sys::Event)>::new(f);
    let _ = target.add_event_listener_with_callback_and_bool(
        kind,
        cb.as_ref().unchecked_ref(),
        capture,
    );
    cb.forget();
}
