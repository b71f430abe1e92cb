//! Recommendations: the item model, its compact binary encoding, strategies, merchandising rules
//! and offline evaluation metrics.
//!
//! # Overview
//!
//! One recommender runs everywhere. The Worker feeds recent sessions (and orders) into a
//! [`ModelBuilder`], which keeps **item-level aggregates only** — popularity, a time-decayed
//! trending score, and three sparse item→item relations (sequential transitions, undirected
//! co-occurrence, co-purchase), each pruned to the top neighbours per item and gated by a
//! minimum support (a figure ships only when ≥ k distinct sources of shoppers support it, with
//! every shopper's contribution bounded; see `docs/privacy.md`). No session, customer id or
//! anything that rebuilds one shopper's history is kept. [`Model::encode`] writes a compact
//! binary format (magic + version, varint delta indices, 8-bit quantised weights) that the edge
//! serves; the page decodes it with [`Model::decode`] and ranks with [`Model::recommend`], using
//! only the model and the shopper's own [`Query`] (recent items, cart, purchases, category
//! affinities). Offline evaluation (`tests/eval_recommend.rs`) scores exactly this path:
//! build → encode → decode → rank.
//!
//! # Example
//!
//! ```
//! use affinity::recommend::{Model, ModelBuilder, Query, Strategy};
//!
//! // Three shoppers (each session is one here) click p1, p2, p3 in that order: every figure
//! // has three sources behind it, above the default minimum support of 2.
//! let mut builder = ModelBuilder::new();
//! for _ in 0..3 {
//!     builder.add_session(&[("p1", 0), ("p2", 1_000), ("p3", 2_000)]);
//! }
//! let bytes = builder.build().encode();
//! let model = Model::decode(&bytes)?;
//! let mut query = Query::new(Strategy::Similar, 2);
//! query.anchor = Some("p1".into());
//! let recs = model.recommend(&query);
//! assert_eq!(recs.len(), 2);
//! assert_eq!(model.id(recs[0].item), Some("p2"));
//! assert_eq!(recs[0].reason.text(&model), "Because you viewed p1");
//! # Ok::<(), affinity::recommend::Error>(())
//! ```

#[allow(unused_imports)]
use crate::prelude::*;

mod build;
mod codec;
mod error;
pub mod metrics;
mod model;
mod rank;

pub use build::{level, level_value, ModelBuilder, SOURCE_CAP, UNIT};
pub use codec::FORMAT_VERSION;
pub use error::{Error, ErrorKind};
pub use model::{ItemMeta, Model, Relation, ScoreParams};
pub use rank::{Boost, Pin, Query, Reason, Scored, SlotRules, Strategy};
