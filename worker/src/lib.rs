//! # Overview
//!
//! Affinity at the edge: a Cloudflare Worker (the `worker` crate on workerd) that
//!
//! - ingests Segment-compatible batches (`POST /v1/batch`), validating each event with the
//!   engine ([`affinity::event::parse_batch`]);
//! - keeps one Durable Object per customer (`customer`), which folds events into the engine's
//!   [`affinity::profile::Profile`] idempotently by `messageId`;
//! - mirrors what is counted across customers into D1 ([`analytics`]);
//! - builds the item model with the engine's recommender and serves it with the shop config
//!   ([`model`]), measures recommendations ([`recs`]) and serves the plugin files;
//! - stores the shop's segments, ships them with the config, keeps each customer's membership
//!   current in its object (alarms close time windows) and counts them ([`segments`]);
//! - hosts the merchant dashboard ([`dashboard`]) behind each shop's admin secret ([`auth`]).
//!
//! # Features
//!
//! None. The runtime glue (`edge`, `customer`, `analytics::d1`) compiles only for `wasm32`;
//! everything else is pure Rust and tested natively with `cargo test -p affinity-worker`.
#![deny(missing_docs, missing_debug_implementations)]

pub mod analytics;
pub mod auth;
pub mod dashboard;
pub mod html;
pub mod ingest;
pub mod model;
pub mod recs;
pub mod routes;
pub mod segments;

// The `durable_object` macro generates undocumented `#[wasm_bindgen]` glue methods.
#[cfg(target_arch = "wasm32")]
#[allow(missing_docs)]
pub mod customer;
#[cfg(target_arch = "wasm32")]
pub mod edge;
#[cfg(target_arch = "wasm32")]
pub mod recs_edge;
#[cfg(target_arch = "wasm32")]
pub mod segments_edge;
