//! The segment rule language: parse → typed syntax tree → evaluate; printer; compact binary form.
//!
//! # Overview
//!
//! A merchant writes a segment as a readable rule:
//!
//! ```text
//! performed "Product Viewed" where category = "Shoes" at least 3 times in the last 7 days
//! and total_spend > 100
//! and not in segment "vip"
//! ```
//!
//! - [`parse`] turns the text into a [`Rule`], or an [`Error`] that points at the line and column
//!   and says what was expected. `Display` on a [`Rule`] ([`print()`]) gives back one canonical text.
//! - [`Rule::evaluate`] answers the rule for one customer from any [`Facts`] implementation at a
//!   given `now_ms`; [`MemoryFacts`] is a plain in-memory one. [`Rule::next_change_ms`] says when
//!   the answer could next change on its own, for the edge's alarm.
//! - [`SegmentSet`] compiles named segments, resolves `in segment` references in dependency order,
//!   rejects unknown references and cycles, and evaluates them all at once.
//! - [`encode`] / [`decode`] (and [`SegmentSet::encode`] / [`SegmentSet::decode`]) are the compact
//!   binary form the page receives.
//!
//! The full language reference for merchants is `docs/rules.md`.
//!
//! # What the page links
//!
//! The page module needs only `ast`, `facts`, `eval`, `codec` and `segments`. Those modules never
//! refer to the parser, the printer or error rendering (`parser`, `lexer`, `print`, and the
//! `Display` of [`Error`]), so link-time optimisation leaves them out of the page build.
//!
//! # Example
//!
//! ```
//! use affinity::rules::{self, MemoryEvent, MemoryFacts};
//!
//! const DAY: i64 = 86_400_000;
//! let now = 100 * DAY;
//! let rule = rules::parse(
//!     r#"performed "Product Added" not followed by "Order Completed" within 1 day
//!        and cart.value >= 50"#,
//! )?;
//! let facts = MemoryFacts::new("shop1", "c42")
//!     .with("cart.value", 80.0)
//!     .with_event(MemoryEvent::new("Product Added", now - 2 * DAY));
//! assert!(rule.evaluate(&facts, now));
//!
//! // The page gets bytes, not text.
//! let bytes = rules::encode(&rule);
//! assert_eq!(rules::decode(&bytes)?, rule);
//! # Ok::<(), rules::Error>(())
//! ```

#[allow(unused_imports)]
use crate::prelude::*;

mod ast;
mod codec;
mod error;
mod eval;
mod facts;
mod lexer;
mod parser;
mod print;
mod segments;

pub use ast::{
    Condition, Count, Duration, EventCondition, Filter, Literal, Path, Rule, Sequence, Test, Unit,
    Window, MAX_AMOUNT, MAX_DEPTH,
};
pub use codec::{
    decode, encode, DecodeError, DecodeErrorKind, FORMAT_VERSION, MAX_TREE_DEPTH,
    SET_FORMAT_VERSION,
};
pub use error::{Error, ErrorKind};
pub use facts::{Facts, MemoryEvent, MemoryFacts, PastEvent, Value};
pub use parser::{parse, MAX_RULE_BYTES};
pub use print::print;
pub use segments::{Membership, SegmentSet};
