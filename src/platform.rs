//! The engine's one platform hook: number text (and time stamps, numbers written as dates).
//!
//! Rust's float formatting and parsing weigh about 25 KB of Wasm, more than the rest of the JSON
//! code together, and the browser already carries both. So the engine asks the platform: at the
//! edge, in tests and in tools this module uses Rust's own `{}` and `str::parse`; in the page
//! module (feature `browser` on wasm32) the browser seam fills [`Numbers`] with functions backed
//! by the JS engine when the module starts, and the engine never imports that seam. Integers are
//! written here in both builds ([`write_int`]), with the same digits as `{}`.

#[allow(unused_imports)]
use crate::prelude::*;

/// Number text functions a platform provides (the page module's browser seam fills them).
#[derive(Debug, Clone, Copy)]
pub struct Numbers {
    /// Appends a finite `f64` as JSON digits that read back as the same number: Rust's `{}` at
    /// the edge, the JS engine's `String(n)` in the page (the same value, exponent notation
    /// beyond 1e21 and below 1e-6).
    pub write: fn(f64, &mut String),
    /// Parses a text that [`is_decimal`] accepts, to the nearest `f64` (as `str::parse` does).
    pub parse: fn(&str) -> f64,
    /// Unix milliseconds within years 0-9999 as RFC 3339 UTC with milliseconds
    /// (`2026-12-01T21:05:44.123Z`), the text [`crate::time::format_rfc3339`] writes.
    pub time: fn(f64) -> String,
}

#[cfg(all(feature = "browser", target_arch = "wasm32", target_os = "unknown"))]
mod hook {
    use super::Numbers;
    use core::cell::OnceCell;

    /// The installed functions. wasm32-unknown-unknown without the `atomics` feature runs one
    /// thread, so a cell is enough (and needs no std).
    struct Hook(OnceCell<Numbers>);
    // SAFETY: one thread (see above); nothing else can see the cell.
    unsafe impl Sync for Hook {}
    #[cfg(target_feature = "atomics")]
    compile_error!("the page module assumes one thread (no `atomics` target feature)");

    static NUMBERS: Hook = Hook(OnceCell::new());

    /// Installs the platform's number functions (the first call wins).
    pub fn set_numbers(numbers: Numbers) {
        let _ = NUMBERS.0.set(numbers);
    }

    pub(super) fn get() -> Option<&'static Numbers> {
        NUMBERS.0.get()
    }
}

#[cfg(all(feature = "browser", target_arch = "wasm32", target_os = "unknown"))]
pub use hook::set_numbers;

/// Appends a finite `n` as digits that read back as `n` ([`Numbers::write`]).
pub(crate) fn write_f64(n: f64, out: &mut String) {
    #[cfg(all(feature = "browser", target_arch = "wasm32", target_os = "unknown"))]
    match hook::get() {
        Some(numbers) => (numbers.write)(n, out),
        // Only before the seam has started, which no page path reaches.
        None => write_int(n as i64, out),
    }
    #[cfg(not(all(feature = "browser", target_arch = "wasm32", target_os = "unknown")))]
    {
        use core::fmt::Write;
        let _ = write!(out, "{n}");
    }
}

/// The platform's RFC 3339 text of Unix milliseconds ([`Numbers::time`]); `None` where the engine
/// writes it itself (natively, and in the page before the seam has started, which no page path
/// reaches).
pub(crate) fn time_text(ms: i64) -> Option<String> {
    #[cfg(all(feature = "browser", target_arch = "wasm32", target_os = "unknown"))]
    {
        hook::get().map(|numbers| (numbers.time)(ms as f64))
    }
    #[cfg(not(all(feature = "browser", target_arch = "wasm32", target_os = "unknown")))]
    {
        let _ = ms;
        None
    }
}

/// Parses a decimal number as `str::parse::<f64>` does, but only the plain decimal notation
/// (`-12`, `+1.5`, `.5`, `5.`, `1e-3`); `inf`, `NaN` and anything else are `None`.
pub fn parse_f64(text: &str) -> Option<f64> {
    if !is_decimal(text) {
        return None;
    }
    #[cfg(all(feature = "browser", target_arch = "wasm32", target_os = "unknown"))]
    {
        hook::get().map(|numbers| (numbers.parse)(text))
    }
    #[cfg(not(all(feature = "browser", target_arch = "wasm32", target_os = "unknown")))]
    {
        text.parse::<f64>().ok()
    }
}

/// True for `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`: the decimal texts that
/// Rust's `str::parse::<f64>` and JS `Number()` both read, and read the same.
pub fn is_decimal(text: &str) -> bool {
    let b = text.as_bytes();
    let mut at = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |at: &mut usize| {
        let from = *at;
        while b.get(*at).is_some_and(u8::is_ascii_digit) {
            *at += 1;
        }
        *at - from
    };
    let mut mantissa = digits(&mut at);
    if b.get(at) == Some(&b'.') {
        at += 1;
        mantissa += digits(&mut at);
    }
    if mantissa == 0 {
        return false;
    }
    if let Some(b'e' | b'E') = b.get(at) {
        at += 1;
        at += usize::from(matches!(b.get(at), Some(b'+' | b'-')));
        if digits(&mut at) == 0 {
            return false;
        }
    }
    at == b.len()
}

/// Appends `n` in decimal, as `{}` writes an integer (no `core::fmt` in the page).
pub fn write_int(n: i64, out: &mut String) {
    if n < 0 {
        out.push('-');
    }
    write_u64(n.unsigned_abs(), out);
}

/// Appends `v` in decimal, as `{}` writes it.
pub fn write_u64(mut v: u64, out: &mut String) {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &d in &buf[at..] {
        out.push(char::from(d));
    }
}

/// `n` in decimal, as `n.to_string()` writes it.
pub fn int_text(n: i64) -> String {
    let mut out = String::new();
    write_int(n, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_match_display() {
        for n in [0, 7, -7, 10, 99, 100, 1_234_567, i64::MAX, i64::MIN, -1] {
            assert_eq!(int_text(n), n.to_string());
        }
    }

    #[test]
    fn decimal_grammar() {
        for ok in ["0", "-12", "+1.5", ".5", "5.", "1e-3", "2E+10", "-0.0"] {
            assert!(is_decimal(ok), "{ok}");
            assert_eq!(parse_f64(ok), ok.parse::<f64>().ok(), "{ok}");
        }
        for bad in [
            "", "-", ".", "e5", "1e", "1e+", "inf", "NaN", " 1", "1 ", "0x10", "1.2.3",
        ] {
            assert!(!is_decimal(bad), "{bad}");
            assert_eq!(parse_f64(bad), None, "{bad}");
        }
    }
}
