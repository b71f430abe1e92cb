//! The health figure: stored values that failed to decode, per shop, kind and reference. Every
//! reader that meets such a value keeps it as it was, logs it and records it here.

use serde::Deserialize;

use super::{Query, Stmt};

/// Records one undecodable value (idempotent per shop, kind and reference; counts sightings).
pub fn record(shop: &str, kind: &str, reference: &str, error: &str, now_ms: i64) -> Stmt {
    Stmt::named(
        "INSERT INTO health_issues (shop, kind, ref, error, first_at, last_at, seen) \
         VALUES (:shop, :kind, :ref, :error, :now, :now, 1) \
         ON CONFLICT (shop, kind, ref) DO UPDATE SET error = excluded.error, \
         last_at = excluded.last_at, seen = health_issues.seen + 1",
        &[
            ("shop", shop.into()),
            ("kind", kind.into()),
            ("ref", reference.into()),
            ("error", error.into()),
            ("now", now_ms.into()),
        ],
    )
}

/// Issues of one kind.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct KindCount {
    /// What failed to decode (`profile`, `outbox`, `segment_set`, `mirror_profile`, …).
    pub kind: String,
    /// Distinct values.
    pub issues: f64,
    /// Times they were met.
    pub seen: f64,
    /// Latest sighting, Unix ms.
    pub last_at: f64,
}

/// A shop's issues per kind.
pub fn by_kind(shop: &str) -> Query<KindCount> {
    Query::named(
        "SELECT kind, COUNT(*) AS issues, SUM(seen) AS seen, MAX(last_at) AS last_at \
         FROM health_issues WHERE shop = :shop GROUP BY kind ORDER BY kind",
        &[("shop", shop.into())],
    )
}

/// One issue.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Issue {
    /// Kind.
    pub kind: String,
    /// Which value (customer id, outbox entry, segment set version, …).
    #[serde(rename = "ref")]
    pub reference: String,
    /// Why it failed.
    pub error: String,
    /// Times met.
    pub seen: f64,
    /// Latest sighting, Unix ms.
    pub last_at: f64,
}

/// A shop's latest issues, at most `limit`.
pub fn latest(shop: &str, limit: u32) -> Query<Issue> {
    Query::named(
        "SELECT kind, ref, error, seen, last_at FROM health_issues WHERE shop = :shop \
         ORDER BY last_at DESC, kind, ref LIMIT :limit",
        &[("shop", shop.into()), ("limit", limit.into())],
    )
}
