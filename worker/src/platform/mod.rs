//! The platform layer: what every feature uses and that uses no feature — the request context,
//! responses and the one error type, auth guards, and access to D1 (the [`store`]), KV and the
//! customer Durable Objects, and the dashboard's page frame ([`html`]). Pure parts ([`auth`],
//! [`error`], [`html`], [`http`], [`store`]) are tested
//! natively; the runtime parts compile only for wasm32.

pub mod auth;
pub mod error;
pub mod html;
pub mod http;
pub mod store;

#[cfg(target_arch = "wasm32")]
pub mod d1;
#[cfg(target_arch = "wasm32")]
pub mod web;

pub use error::{Error, Result};

/// How long a write key → shop lookup is kept per isolate: the end of a rotated key's grace
/// period, or a shop's deletion, reaches every isolate within this time.
pub const SHOP_CACHE_MS: i64 = 10_000;

/// The name of a customer's Durable Object: one per shop and customer. The one place it is
/// built.
pub fn customer_object_name(shop: &str, customer: &str) -> String {
    format!("{shop}:{customer}")
}

/// The KV prefix of a shop's item models (`model/<shop>/`, then the version): the one place it
/// is built, so a shop's deletion finds every model.
pub fn model_prefix(shop: &str) -> String {
    format!("model/{shop}/")
}
