//! Credentials: write keys (public, per shop), admin secrets (stored only as salted hashes) and
//! the dashboard's signed session cookie.
//!
//! Everything here is pure and tested natively.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Name of the dashboard session cookie.
pub const COOKIE_NAME: &str = "affinity_session";

/// How long a dashboard session lasts.
pub const SESSION_MS: i64 = 7 * 86_400_000;

/// The stored form of a shop's admin secret: hex SHA-256 over a fixed label, the shop id and the
/// secret, so equal secrets of two shops hash differently.
pub fn admin_hash(shop: &str, secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"affinity/admin-secret/v1\0");
    h.update(shop.as_bytes());
    h.update(b"\0");
    h.update(secret.as_bytes());
    hex(&h.finalize())
}

/// True when `secret` is the admin secret whose hash is `stored_hash` (constant time).
pub fn secret_matches(shop: &str, secret: &str, stored_hash: &str) -> bool {
    !stored_hash.is_empty()
        && constant_time_eq(admin_hash(shop, secret).as_bytes(), stored_hash.as_bytes())
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Hex SHA-256 of `data` (content versions, ETags).
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// The cookie-signing key of a shop, derived from its stored admin hash: changing the secret
/// signs everybody out.
fn cookie_key(stored_hash: &str) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(stored_hash.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(b"affinity/dashboard-cookie/v1");
    mac.finalize().into_bytes().to_vec()
}

fn cookie_mac(stored_hash: &str, shop: &str, expires_ms: i64) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(&cookie_key(stored_hash))
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(shop.as_bytes());
    mac.update(b"|");
    mac.update(expires_ms.to_string().as_bytes());
    mac
}

/// True for ids we accept as shop ids: 1–64 ASCII letters, digits, `-` and `_`.
pub fn valid_shop_id(shop: &str) -> bool {
    !shop.is_empty()
        && shop.len() <= 64
        && shop
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The session cookie value for `shop`, valid until `expires_ms`: `shop.expiry.signature`.
pub fn sign_session(stored_hash: &str, shop: &str, expires_ms: i64) -> String {
    let sig = cookie_mac(stored_hash, shop, expires_ms)
        .finalize()
        .into_bytes();
    format!("{shop}.{expires_ms}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// The shop id a session cookie value claims, before verification (to look up its key).
pub fn session_shop(value: &str) -> Option<&str> {
    let shop = value.split('.').next()?;
    valid_shop_id(shop).then_some(shop)
}

/// Verifies a session cookie value against the shop's stored admin hash at `now_ms`; returns
/// the shop id when the signature is right and the session has not expired.
pub fn verify_session<'a>(value: &'a str, stored_hash: &str, now_ms: i64) -> Option<&'a str> {
    let mut parts = value.split('.');
    let (shop, expiry, sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !valid_shop_id(shop) || stored_hash.is_empty() {
        return None;
    }
    let expires_ms: i64 = expiry.parse().ok()?;
    if expiry != expires_ms.to_string() || expires_ms <= now_ms {
        return None;
    }
    let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
    cookie_mac(stored_hash, shop, expires_ms)
        .verify_slice(&sig)
        .ok()?;
    Some(shop)
}

/// The `Set-Cookie` header value that starts a session.
pub fn session_cookie(value: &str, secure: bool) -> String {
    format!(
        "{COOKIE_NAME}={value}; Max-Age={}; Path=/dashboard; HttpOnly; SameSite=Lax{}",
        SESSION_MS / 1000,
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` header value that ends a session.
pub fn clear_cookie() -> String {
    format!("{COOKIE_NAME}=; Max-Age=0; Path=/dashboard; HttpOnly; SameSite=Lax")
}

/// The value of cookie `name` in a `Cookie` request header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

/// The write key in an `Authorization: Basic base64(writeKey:)` header (Segment's convention).
pub fn basic_write_key(header: &str) -> Option<String> {
    let encoded = strip_scheme(header, "basic")?;
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let key = text.split(':').next().unwrap_or("");
    (!key.is_empty()).then(|| key.to_string())
}

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(header: &str) -> Option<&str> {
    strip_scheme(header, "bearer")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn strip_scheme<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let header = header.trim_start();
    let (given, rest) = header.split_once(' ')?;
    given.eq_ignore_ascii_case(scheme).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000_000;

    #[test]
    fn hashes_are_salted_by_shop() {
        let a = admin_hash("demo", "s3cret");
        assert_eq!(a.len(), 64);
        assert_ne!(a, admin_hash("other", "s3cret"));
        assert!(secret_matches("demo", "s3cret", &a));
        assert!(!secret_matches("demo", "s3cret ", &a));
        assert!(!secret_matches("other", "s3cret", &a));
        assert!(!secret_matches("demo", "", ""));
    }

    #[test]
    fn constant_time_eq_basics() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn session_round_trip() {
        let hash = admin_hash("demo", "secret");
        let value = sign_session(&hash, "demo", NOW + SESSION_MS);
        assert_eq!(session_shop(&value), Some("demo"));
        assert_eq!(verify_session(&value, &hash, NOW), Some("demo"));
    }

    #[test]
    fn session_expires() {
        let hash = admin_hash("demo", "secret");
        let value = sign_session(&hash, "demo", NOW + 1000);
        assert_eq!(verify_session(&value, &hash, NOW + 999), Some("demo"));
        assert_eq!(verify_session(&value, &hash, NOW + 1000), None);
    }

    #[test]
    fn session_rejects_tampering() {
        let hash = admin_hash("demo", "secret");
        let value = sign_session(&hash, "demo", NOW + SESSION_MS);
        let parts: Vec<&str> = value.split('.').collect();
        // Another shop, a later expiry, a changed signature, extra parts, garbage.
        let forged = [
            format!("other.{}.{}", parts[1], parts[2]),
            format!("demo.{}.{}", NOW + 10 * SESSION_MS, parts[2]),
            format!("demo.0{}.{}", parts[1], parts[2]),
            format!("demo.{}.{}A", parts[1], parts[2]),
            format!("demo.{}.{}", parts[1], &parts[2][1..]),
            format!("{value}.x"),
            "demo".to_string(),
            String::new(),
        ];
        for f in &forged {
            assert_eq!(verify_session(f, &hash, NOW), None, "{f}");
        }
        // A new secret invalidates old sessions.
        let new_hash = admin_hash("demo", "rotated");
        assert_eq!(verify_session(&value, &new_hash, NOW), None);
        assert_eq!(verify_session(&value, "", NOW), None);
    }

    #[test]
    fn cookies_and_headers() {
        assert_eq!(
            cookie("a=1; affinity_session=demo.1.x; b=2", COOKIE_NAME),
            Some("demo.1.x")
        );
        assert_eq!(cookie("a=1", COOKIE_NAME), None);
        let set = session_cookie("v", false);
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"));
        assert!(set.contains("Path=/dashboard") && set.contains("Max-Age=604800"));
        assert!(!set.contains("Secure"));
        assert!(session_cookie("v", true).ends_with("; Secure"));
        assert!(clear_cookie().contains("Max-Age=0"));
    }

    #[test]
    fn write_key_from_basic_auth() {
        let header = format!("Basic {}", STANDARD.encode("pk_demo_4f9c2a7d1e:"));
        assert_eq!(
            basic_write_key(&header).as_deref(),
            Some("pk_demo_4f9c2a7d1e")
        );
        let lower = format!("basic {}", STANDARD.encode("pk_x"));
        assert_eq!(basic_write_key(&lower).as_deref(), Some("pk_x"));
        assert_eq!(basic_write_key("Basic !!!"), None);
        assert_eq!(basic_write_key("Bearer abc"), None);
        assert_eq!(
            basic_write_key(&format!("Basic {}", STANDARD.encode(":"))),
            None
        );
    }

    #[test]
    fn bearer_tokens() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
    }

    #[test]
    fn shop_ids() {
        assert!(valid_shop_id("demo"));
        assert!(valid_shop_id("shop_2-x"));
        assert!(!valid_shop_id(""));
        assert!(!valid_shop_id("a.b"));
        assert!(!valid_shop_id(&"x".repeat(65)));
    }
}
