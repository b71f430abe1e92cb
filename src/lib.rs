//! # Overview
//!
//! Affinity is a storefront personalization engine. This crate is the engine: pure Rust that
//! compiles and tests natively and runs unchanged in three places — the shopper's browser (as the
//! Wasm page module), the Cloudflare Worker (`affinity-worker`) and offline evaluation.
//!
//! - [`event`]: the event model (Segment spec calls and e-commerce v2 names), validation, limits.
//! - [`profile`]: a customer profile as a fold over events.
//! - [`rules`]: the segment rule language (parse → typed AST → evaluate → print).
//! - [`segments`]: the facts segment rules read from a real profile and page context.
//! - [`recommend`]: the item model, its binary encoding, strategies and evaluation metrics.
//! - [`forecast`]: BG/NBD, Pareto/NBD, Gamma-Gamma and sBG forecasts, CLV, customer groups.
//! - [`consent`]: consent levels, GPC/DNT caps, Segment consent categories, consent history.
//! - [`bucket`]: the one deterministic bucketing function behind every holdout and percentage.
//! - [`time`]: RFC 3339 time stamps ↔ Unix milliseconds.
//! - [`markup`]: schema.org JSON-LD → e-commerce event properties.
//! - [`json`]: a small JSON value, parser and writer, so the page needs no serde_json.
//! - [`platform`]: the one hook a platform fills (number text), so the engine imports no seam.
//!
//! # Features
//!
//! - `bench`: timing exports for the in-browser benchmark harness (`benches/browser/`); off by
//!   default and never shipped.
//! - `browser` (default): the browser seam in `src/browser`, compiled only for
//!   `wasm32-unknown-unknown`: capture, local storage, transport, rendering, JS exports.
//! - `page`: the shipped page module on `wasm32-unknown-unknown` (`.ci/build-site.sh`): the crate
//!   is `no_std` (core + alloc) with a panic handler that traps, so no panic formatting is linked,
//!   and the modules only the edge uses are left out. Tests and benches build without it.
//!
//! # Example
//!
//! ```
//! use affinity::{event::Event, json, profile::Profile};
//!
//! let raw = json::parse(r#"{"type":"track","event":"Product Viewed","anonymousId":"a1",
//!     "messageId":"m1","timestamp":"2026-11-24T10:00:00Z",
//!     "properties":{"product_id":"p1","category":"Shoes","price":30}}"#)?;
//! let event = Event::from_json(&raw)?;
//! let mut profile = Profile::new("a1");
//! profile.apply(&event);
//! assert_eq!(profile.counters.product_views, 1);
//! # Ok::<(), affinity::Error>(())
//! ```
#![deny(missing_docs, missing_debug_implementations)]
#![cfg_attr(
    all(feature = "page", target_arch = "wasm32", target_os = "unknown"),
    no_std
)]

// The page build: `alloc` under the name `std`, so `std::string::String`, `std::format!` and the
// like name the same items in both builds (what only std has is named through `core`).
#[cfg(all(feature = "page", target_arch = "wasm32", target_os = "unknown"))]
#[macro_use]
extern crate alloc as std;

mod prelude;

pub mod bucket;
pub mod consent;
mod error;
pub mod event;
#[cfg(not(all(feature = "page", target_arch = "wasm32", target_os = "unknown")))]
pub mod forecast;
pub mod json;
pub mod markup;
pub mod platform;
pub mod profile;
pub mod recommend;
pub mod rules;
pub mod segments;
mod sort;
pub(crate) mod text;
pub mod time;

#[cfg(all(feature = "browser", target_arch = "wasm32", target_os = "unknown"))]
pub mod browser;

// Lets the benchmark fixtures shared with the native benches name this crate `affinity`.
#[cfg(feature = "bench")]
extern crate self as affinity;

pub use error::Error;
