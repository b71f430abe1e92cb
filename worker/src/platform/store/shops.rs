//! Shops: their keys, admin secret hashes and settings.

use serde::Deserialize;

use super::{Query, Stmt};

/// A shop row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Shop {
    /// Shop id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Public write key.
    pub write_key: String,
    /// Salted hash of the admin secret (`platform::auth::admin_hash`).
    pub admin_hash: String,
    /// Count traffic from automated browsers (headless, webdriver) as shoppers: 1 or 0.
    #[serde(default = "one")]
    pub count_automated: f64,
}

fn one() -> f64 {
    1.0
}

const SHOP_COLUMNS: &str = "SELECT id, name, write_key, admin_hash, count_automated FROM shops";

/// The live shop a write key belongs to: its current key, or its previous key until the grace
/// period after a rotation ends.
pub fn by_key(key: &str, now_ms: i64) -> Query<Shop> {
    Query::named(
        &format!(
            "{SHOP_COLUMNS} WHERE deleted_at IS NULL AND (write_key = :key \
             OR (previous_write_key = :key AND previous_key_until > :now))"
        ),
        &[("key", key.into()), ("now", now_ms.into())],
    )
}

/// A live shop by id (deleted shops are gone for every caller but the operator).
pub fn by_id(id: &str) -> Query<Shop> {
    Query::named(
        &format!("{SHOP_COLUMNS} WHERE id = :id AND deleted_at IS NULL"),
        &[("id", id.into())],
    )
}

/// What the operator sees of a shop.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
pub struct ShopInfo {
    /// Shop id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Public write key.
    pub write_key: String,
    /// The previous write key while it still works.
    #[serde(default)]
    pub previous_write_key: Option<String>,
    /// Until when the previous key works, Unix ms.
    #[serde(default)]
    pub previous_key_until: Option<f64>,
    /// Created, Unix ms.
    pub created_at: f64,
    /// When it was deleted (its data is being or has been erased), Unix ms.
    #[serde(default)]
    pub deleted_at: Option<f64>,
}

const INFO_COLUMNS: &str = "SELECT id, name, write_key, previous_write_key, previous_key_until, \
    created_at, deleted_at FROM shops";

/// Every shop, deleted ones included, by id.
pub fn list() -> Query<ShopInfo> {
    Query::from(Stmt::plain(&format!("{INFO_COLUMNS} ORDER BY id")))
}

/// One shop for the operator, deleted or not.
pub fn info(id: &str) -> Query<ShopInfo> {
    Query::named(
        &format!("{INFO_COLUMNS} WHERE id = :id"),
        &[("id", id.into())],
    )
}

/// Creates a shop; fails when the id or the write key is taken.
pub fn insert(shop: &Shop, now_ms: i64) -> Stmt {
    Stmt::named(
        "INSERT INTO shops (id, name, write_key, admin_hash, created_at) \
         VALUES (:id, :name, :write_key, :admin_hash, :now)",
        &[
            ("id", shop.id.as_str().into()),
            ("name", shop.name.as_str().into()),
            ("write_key", shop.write_key.as_str().into()),
            ("admin_hash", shop.admin_hash.as_str().into()),
            ("now", now_ms.into()),
        ],
    )
}

/// New credentials: the new write key (the old one keeps working until `grace_until`) and the
/// new admin secret hash (the old secret and every session signed with it stop at once).
pub fn rotate(id: &str, write_key: &str, admin_hash: &str, grace_until: i64) -> Stmt {
    Stmt::named(
        "UPDATE shops SET previous_write_key = write_key, previous_key_until = :until, \
         write_key = :write_key, admin_hash = :admin_hash WHERE id = :id AND deleted_at IS NULL",
        &[
            ("until", grace_until.into()),
            ("write_key", write_key.into()),
            ("admin_hash", admin_hash.into()),
            ("id", id.into()),
        ],
    )
}

/// Marks a shop deleted: its keys, secret and sessions stop at once; the erase job removes its
/// data.
pub fn mark_deleted(id: &str, now_ms: i64) -> Stmt {
    Stmt::named(
        "UPDATE shops SET deleted_at = :now WHERE id = :id AND deleted_at IS NULL",
        &[("now", now_ms.into()), ("id", id.into())],
    )
}

/// Removes a deleted shop's own row (the last step of the erase job).
pub fn remove(id: &str) -> Stmt {
    Stmt::named(
        "DELETE FROM shops WHERE id = :id AND deleted_at IS NOT NULL",
        &[("id", id.into())],
    )
}

/// Deleted shops whose erase is not finished, at most `limit`.
pub fn deleted(limit: usize) -> Query<ShopId> {
    Query::named(
        "SELECT id FROM shops WHERE deleted_at IS NOT NULL ORDER BY deleted_at LIMIT :limit",
        &[("limit", limit.into())],
    )
}

/// A shop's stored settings; NULL where unset (the feature's defaults apply).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct SettingsRow {
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// ISO 4217 currency code.
    #[serde(default)]
    pub currency: Option<String>,
    /// Time zone (IANA name or fixed offset).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Minimum support `k` of the model build.
    #[serde(default)]
    pub min_support: Option<f64>,
    /// Share of shoppers in the recommendation holdout, in percent.
    #[serde(default)]
    pub holdout_percent: Option<f64>,
    /// Count automated browsers: 1 or 0.
    #[serde(default)]
    pub count_automated: Option<f64>,
    /// Consent level before the shopper chooses.
    #[serde(default)]
    pub consent_default: Option<String>,
    /// Consent level Global Privacy Control caps to.
    #[serde(default)]
    pub consent_gpc: Option<String>,
    /// Consent level Do Not Track caps to.
    #[serde(default)]
    pub consent_dnt: Option<String>,
}

/// The shop's settings.
pub fn settings(shop: &str) -> Query<SettingsRow> {
    Query::named(
        "SELECT name, currency, time_zone, min_support, holdout_percent, count_automated, \
         consent_default, consent_gpc, consent_dnt FROM shops WHERE id = :shop",
        &[("shop", shop.into())],
    )
}

/// Stores every setting of a shop.
pub fn set_settings(shop: &str, s: &SettingsRow) -> Stmt {
    Stmt::named(
        "UPDATE shops SET name = COALESCE(:name, name), currency = COALESCE(:currency, currency), \
         time_zone = COALESCE(:time_zone, time_zone), \
         min_support = COALESCE(:min_support, min_support), \
         holdout_percent = COALESCE(:holdout_percent, holdout_percent), \
         count_automated = COALESCE(:count_automated, count_automated), \
         consent_default = COALESCE(:consent_default, consent_default), \
         consent_gpc = COALESCE(:consent_gpc, consent_gpc), \
         consent_dnt = COALESCE(:consent_dnt, consent_dnt) WHERE id = :shop",
        &[
            ("name", s.name.clone().into()),
            ("currency", s.currency.clone().into()),
            ("time_zone", s.time_zone.clone().into()),
            ("min_support", s.min_support.into()),
            ("holdout_percent", s.holdout_percent.into()),
            ("count_automated", s.count_automated.into()),
            ("consent_default", s.consent_default.clone().into()),
            ("consent_gpc", s.consent_gpc.clone().into()),
            ("consent_dnt", s.consent_dnt.clone().into()),
            ("shop", shop.into()),
        ],
    )
}

/// One shop id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ShopId {
    /// Shop id.
    pub id: String,
}

/// Shops with events received after their latest model (the cron rebuilds these), at most
/// `limit`.
pub fn stale_models(limit: usize) -> Query<ShopId> {
    Query::named(
        "SELECT s.id AS id FROM shops s WHERE EXISTS (SELECT 1 FROM events e WHERE e.shop = s.id \
         AND e.received_at > COALESCE((SELECT MAX(m.created_at) FROM models m \
         WHERE m.shop = s.id), 0)) ORDER BY s.id LIMIT :limit",
        &[("limit", limit.into())],
    )
}

/// Shops that have segments (the cron records their sizes), at most `limit`.
pub fn with_segments(limit: usize) -> Query<ShopId> {
    Query::named(
        "SELECT shop AS id FROM segment_sets ORDER BY shop LIMIT :limit",
        &[("limit", limit.into())],
    )
}

/// One customer id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CustomerId {
    /// Customer id.
    pub customer_id: String,
}

/// Customers of a shop that may have a Durable Object (the mirror, the identity map and raw
/// events name them; a linked anonymous id's object holds its link), at most `limit`.
pub fn object_customers(shop: &str, limit: usize) -> Query<CustomerId> {
    Query::named(
        "SELECT customer_id FROM customers WHERE shop = :shop \
         UNION SELECT customer_id FROM identities WHERE shop = :shop \
         UNION SELECT anonymous_id FROM identities WHERE shop = :shop \
         UNION SELECT customer_id FROM events WHERE shop = :shop LIMIT :limit",
        &[("shop", shop.into()), ("limit", limit.into())],
    )
}

/// Forgets customers of a shop whose objects were erased: their rows in the tables that name
/// them (so the next pass lists the rest).
pub fn forget_customers(shop: &str, customers: &[String]) -> Vec<Stmt> {
    let mut out = Vec::new();
    for chunk in customers.chunks(90) {
        let names: Vec<String> = (0..chunk.len()).map(|i| format!("c{i}")).collect();
        let list = names
            .iter()
            .map(|n| format!(":{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut params: Vec<(&str, super::Arg)> = vec![("shop", shop.into())];
        params.extend(names.iter().zip(chunk).map(|(n, c)| (n.as_str(), c.into())));
        for table in ["customers", "identities", "events", "memberships"] {
            out.push(Stmt::named(
                &format!("DELETE FROM {table} WHERE shop = :shop AND customer_id IN ({list})"),
                &params,
            ));
        }
        // An anonymous id's object holds its link.
        out.push(Stmt::named(
            &format!("DELETE FROM identities WHERE shop = :shop AND anonymous_id IN ({list})"),
            &params,
        ));
    }
    out
}

/// Deletes every row of a shop in `table` (one of the fixed table names), at most `limit` rows
/// per statement (D1 statements are bounded in time).
pub fn delete_rows(table: &str, column: &str, shop: &str, limit: usize) -> Stmt {
    Stmt::named(
        &format!(
            "DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} \
             WHERE {column} = :shop LIMIT :limit)"
        ),
        &[("shop", shop.into()), ("limit", limit.into())],
    )
}

/// Rows of a shop left in `table`.
pub fn count_rows(table: &str, column: &str, shop: &str) -> Query<super::Count> {
    Query::named(
        &format!("SELECT COUNT(*) AS n FROM {table} WHERE {column} = :shop"),
        &[("shop", shop.into())],
    )
}

/// One page of a shop's rows in `table` after `rowid` `after`, oldest first (the export). The
/// shops table leaves out the admin secret's hash.
pub fn export_page(
    table: &str,
    column: &str,
    shop: &str,
    after: i64,
    limit: usize,
) -> Query<serde_json::Value> {
    let columns = if table == "shops" {
        "rowid AS _rowid, id, name, write_key, created_at, currency, time_zone, min_support, \
         holdout_percent, count_automated, consent_default, consent_gpc, consent_dnt"
    } else {
        "rowid AS _rowid, *"
    };
    Query::named(
        &format!(
            "SELECT {columns} FROM {table} WHERE {column} = :shop AND rowid > :after \
             ORDER BY rowid LIMIT :limit"
        ),
        &[
            ("shop", shop.into()),
            ("after", after.into()),
            ("limit", limit.into()),
        ],
    )
}
