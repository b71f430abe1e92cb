//! Segments in D1: the rules, the shop's compiled set, the membership mirror and sizes.

use serde::Deserialize;

use super::{Query, Stmt};

/// One stored segment (a `segments` row).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SegmentRow {
    /// Segment name.
    pub name: String,
    /// The rule as the merchant wrote it.
    pub source: String,
    /// Base64url of the compiled rule.
    pub compiled: String,
    /// Created, Unix ms (D1 numbers arrive as f64).
    pub created_at: f64,
    /// Last saved, Unix ms.
    pub updated_at: f64,
    /// Save count.
    pub version: f64,
}

/// A shop's segments by name.
pub fn stored(shop: &str) -> Query<SegmentRow> {
    Query::named(
        "SELECT name, source, compiled, created_at, updated_at, version FROM segments \
         WHERE shop = :shop ORDER BY name",
        &[("shop", shop.into())],
    )
}

/// Inserts segment `name` or updates it (version + 1).
pub fn save(shop: &str, name: &str, source: &str, compiled: &str, now_ms: i64) -> Stmt {
    Stmt::named(
        "INSERT INTO segments (shop, name, source, compiled, created_at, updated_at, version) \
         VALUES (:shop, :name, :source, :compiled, :now, :now, 1) ON CONFLICT (shop, name) \
         DO UPDATE SET source = excluded.source, compiled = excluded.compiled, \
         updated_at = excluded.updated_at, version = segments.version + 1",
        &[
            ("shop", shop.into()),
            ("name", name.into()),
            ("source", source.into()),
            ("compiled", compiled.into()),
            ("now", now_ms.into()),
        ],
    )
}

/// Inserts segment `name` only while the shop has no set yet (a new shop's defaults).
pub fn save_default(shop: &str, name: &str, source: &str, compiled: &str, now_ms: i64) -> Stmt {
    Stmt::named(
        "INSERT INTO segments (shop, name, source, compiled, created_at, updated_at, version) \
         SELECT :shop, :name, :source, :compiled, :now, :now, 1 \
         WHERE NOT EXISTS (SELECT 1 FROM segment_sets WHERE shop = :shop)",
        &[
            ("shop", shop.into()),
            ("name", name.into()),
            ("source", source.into()),
            ("compiled", compiled.into()),
            ("now", now_ms.into()),
        ],
    )
}

/// Deletes segment `name`, its memberships and its sizes.
pub fn delete(shop: &str, name: &str) -> [Stmt; 3] {
    let params = [("shop", shop.into()), ("name", name.into())];
    [
        Stmt::named(
            "DELETE FROM segments WHERE shop = :shop AND name = :name",
            &params,
        ),
        Stmt::named(
            "DELETE FROM memberships WHERE shop = :shop AND segment = :name",
            &params,
        ),
        Stmt::named(
            "DELETE FROM segment_sizes WHERE shop = :shop AND segment = :name",
            &params,
        ),
    ]
}

/// Stores the shop's compiled set with the next version.
pub fn store_set(shop: &str, compiled: &str, now_ms: i64) -> Stmt {
    Stmt::named(
        "INSERT INTO segment_sets (shop, version, compiled, updated_at) \
         VALUES (:shop, 1, :compiled, :now) ON CONFLICT (shop) DO UPDATE SET \
         version = segment_sets.version + 1, compiled = excluded.compiled, \
         updated_at = excluded.updated_at",
        &[
            ("shop", shop.into()),
            ("compiled", compiled.into()),
            ("now", now_ms.into()),
        ],
    )
}

/// Stores the shop's first set; changes nothing once it has one.
pub fn store_first_set(shop: &str, compiled: &str, now_ms: i64) -> Stmt {
    Stmt::named(
        "INSERT OR IGNORE INTO segment_sets (shop, version, compiled, updated_at) \
         VALUES (:shop, 1, :compiled, :now)",
        &[
            ("shop", shop.into()),
            ("compiled", compiled.into()),
            ("now", now_ms.into()),
        ],
    )
}

/// A shop's compiled set and its version.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SetRow {
    /// Grows on every change.
    pub version: f64,
    /// Base64url of `SegmentSet::encode`.
    pub compiled: String,
}

/// The shop's compiled set.
pub fn set_of(shop: &str) -> Query<SetRow> {
    Query::named(
        "SELECT version, compiled FROM segment_sets WHERE shop = :shop",
        &[("shop", shop.into())],
    )
}

/// A version number.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct VersionRow {
    /// The version.
    pub version: f64,
}

/// Only the version of the shop's set (cheap; the set is decoded when it changed).
pub fn set_version(shop: &str) -> Query<VersionRow> {
    Query::named(
        "SELECT version FROM segment_sets WHERE shop = :shop",
        &[("shop", shop.into())],
    )
}

/// One membership as the mirror stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct MembershipRow<'a> {
    /// Shop id.
    pub shop: &'a str,
    /// Segment name.
    pub segment: &'a str,
    /// Customer id.
    pub customer_id: &'a str,
    /// In the segment.
    pub member: bool,
    /// When the customer last entered, Unix ms.
    pub entered_at: Option<i64>,
    /// When the customer last left, Unix ms.
    pub exited_at: Option<i64>,
    /// When this was decided, Unix ms: an older write never overwrites a newer one, so replays
    /// and out-of-order deliveries are harmless.
    pub updated_at: i64,
}

/// Upserts one membership row.
pub fn upsert_membership(m: &MembershipRow<'_>) -> Stmt {
    Stmt::named(
        "INSERT INTO memberships (shop, segment, customer_id, member, entered_at, exited_at, \
         updated_at) VALUES (:shop, :segment, :customer_id, :member, :entered_at, :exited_at, \
         :updated_at) ON CONFLICT (shop, segment, customer_id) DO UPDATE SET \
         member = excluded.member, \
         entered_at = CASE WHEN memberships.member = 1 AND excluded.member = 1 \
         THEN COALESCE(memberships.entered_at, excluded.entered_at) ELSE excluded.entered_at END, \
         exited_at = COALESCE(excluded.exited_at, memberships.exited_at), \
         updated_at = excluded.updated_at WHERE excluded.updated_at >= memberships.updated_at",
        &[
            ("shop", m.shop.into()),
            ("segment", m.segment.into()),
            ("customer_id", m.customer_id.into()),
            ("member", m.member.into()),
            ("entered_at", m.entered_at.into()),
            ("exited_at", m.exited_at.into()),
            ("updated_at", m.updated_at.into()),
        ],
    )
}

/// Marks a customer out of a segment if a row says otherwise (a backfill may have put it in);
/// creates no row.
pub fn clear_membership(shop: &str, customer_id: &str, segment: &str, at_ms: i64) -> Stmt {
    Stmt::named(
        "UPDATE memberships SET member = 0, exited_at = :at, updated_at = :at \
         WHERE shop = :shop AND segment = :segment AND customer_id = :customer_id \
         AND member = 1 AND updated_at <= :at",
        &[
            ("at", at_ms.into()),
            ("shop", shop.into()),
            ("segment", segment.into()),
            ("customer_id", customer_id.into()),
        ],
    )
}

/// One customer id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CustomerId {
    /// Customer id.
    pub customer_id: String,
}

/// The customers the mirror has in segment `name` now.
pub fn members(shop: &str, name: &str) -> Query<CustomerId> {
    Query::named(
        "SELECT customer_id FROM memberships WHERE shop = :shop AND segment = :name \
         AND member = 1 ORDER BY customer_id",
        &[("shop", shop.into()), ("name", name.into())],
    )
}

/// Members of one segment.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CountRow {
    /// Segment name.
    pub segment: String,
    /// Members.
    pub size: f64,
}

/// The current size of each segment of a shop (members in the mirror).
pub fn sizes(shop: &str) -> Query<CountRow> {
    Query::named(
        "SELECT segment, COUNT(*) AS size FROM memberships WHERE shop = :shop AND member = 1 \
         GROUP BY segment ORDER BY segment",
        &[("shop", shop.into())],
    )
}

/// Records a segment's size for a day.
pub fn record_size(shop: &str, segment: &str, day: &str, size: f64) -> Stmt {
    Stmt::named(
        "INSERT INTO segment_sizes (shop, segment, day, size) VALUES (:shop, :segment, :day, \
         :size) ON CONFLICT (shop, segment, day) DO UPDATE SET size = excluded.size",
        &[
            ("shop", shop.into()),
            ("segment", segment.into()),
            ("day", day.into()),
            ("size", size.into()),
        ],
    )
}

/// One recorded size.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SizeRow {
    /// Segment name.
    pub segment: String,
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Members that day.
    pub size: f64,
}

/// Recorded sizes since `since_day`, oldest first.
pub fn size_history(shop: &str, since_day: &str) -> Query<SizeRow> {
    Query::named(
        "SELECT segment, day, size FROM segment_sizes WHERE shop = :shop AND day >= :since \
         ORDER BY day, segment",
        &[("shop", shop.into()), ("since", since_day.into())],
    )
}

/// One stored profile from the `customers` mirror.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StoredProfile {
    /// Customer id.
    pub customer_id: String,
    /// The engine's profile JSON.
    pub profile: String,
}

/// Stored profiles of the most recently seen customers (bots left out), at most `limit`.
pub fn profiles(shop: &str, limit: u32) -> Query<StoredProfile> {
    Query::named(
        "SELECT customer_id, profile FROM customers WHERE shop = :shop AND bot = 0 \
         AND profile IS NOT NULL ORDER BY last_seen DESC LIMIT :limit",
        &[("shop", shop.into()), ("limit", limit.into())],
    )
}
