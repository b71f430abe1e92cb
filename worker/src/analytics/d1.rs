//! Running statements and dashboard queries against the D1 database (`DB` binding).

use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Result};

use super::{split_sql, Arg, Stmt, MIGRATIONS};
use crate::dashboard::{CustomerRow, Day, Kpis, OrderRow, TopProduct};

/// Statements per D1 batch (one transaction each).
pub const BATCH_STATEMENTS: usize = 100;

/// The value D1 binds for an [`Arg`].
pub fn js(arg: &Arg) -> JsValue {
    match arg {
        Arg::Null => JsValue::NULL,
        Arg::Num(n) => JsValue::from_f64(*n),
        Arg::Text(s) => JsValue::from_str(s),
    }
}

/// Prepares `sql` with `args`.
pub fn prepare(db: &D1Database, sql: &str, args: &[Arg]) -> Result<D1PreparedStatement> {
    let values: Vec<JsValue> = args.iter().map(js).collect();
    db.prepare(sql).bind(&values)
}

/// Runs statements as one D1 batch (a transaction).
pub async fn run_batch(db: &D1Database, stmts: &[Stmt]) -> Result<()> {
    if stmts.is_empty() {
        return Ok(());
    }
    let prepared = stmts
        .iter()
        .map(|s| prepare(db, &s.sql, &s.args))
        .collect::<Result<Vec<_>>>()?;
    for r in db.batch(prepared).await? {
        if let Some(e) = r.error() {
            return Err(worker::Error::RustError(format!("D1 batch failed: {e}")));
        }
    }
    Ok(())
}

/// All rows of a query, deserialized.
pub async fn rows<T: for<'a> Deserialize<'a>>(
    db: &D1Database,
    sql: &str,
    args: &[Arg],
) -> Result<Vec<T>> {
    let result = prepare(db, sql, args)?.all().await?;
    if let Some(e) = result.error() {
        return Err(worker::Error::RustError(format!("D1 query failed: {e}")));
    }
    result.results()
}

/// The first row of a query, if any.
pub async fn first<T: for<'a> Deserialize<'a>>(
    db: &D1Database,
    sql: &str,
    args: &[Arg],
) -> Result<Option<T>> {
    prepare(db, sql, args)?.first(None).await
}

#[derive(Deserialize)]
struct Applied {
    name: String,
}

/// Applies the migrations D1 has not recorded yet, recording each in wrangler's
/// `d1_migrations` table, so this and `wrangler d1 migrations apply` agree on what ran.
pub async fn migrate(db: &D1Database) -> Result<()> {
    prepare(
        db,
        "CREATE TABLE IF NOT EXISTS d1_migrations(id INTEGER PRIMARY KEY AUTOINCREMENT, \
         name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)",
        &[],
    )?
    .run()
    .await?;
    let applied: Vec<Applied> = rows(db, "SELECT name FROM d1_migrations", &[]).await?;
    for (name, sql) in MIGRATIONS {
        if applied.iter().any(|a| a.name == name) {
            continue;
        }
        let mut stmts: Vec<Stmt> = split_sql(sql)
            .into_iter()
            .map(|s| Stmt {
                sql: s,
                args: vec![],
            })
            .collect();
        stmts.push(Stmt {
            sql: "INSERT INTO d1_migrations (name) VALUES (?)".into(),
            args: vec![name.into()],
        });
        if let Err(e) = run_batch(db, &stmts).await {
            // Another isolate may have applied it at the same moment (the name is UNIQUE).
            let again: Vec<Applied> = rows(db, "SELECT name FROM d1_migrations", &[]).await?;
            if !again.iter().any(|a| a.name == name) {
                return Err(e);
            }
        }
    }
    Ok(())
}

/// A shop row.
#[derive(Debug, Clone, Deserialize)]
pub struct Shop {
    /// Shop id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Public write key.
    pub write_key: String,
    /// Hash of the admin secret ([`crate::auth::admin_hash`]).
    pub admin_hash: String,
}

/// Creates or updates a shop (the demo shop is kept in step with the vars and the secret).
pub async fn upsert_shop(db: &D1Database, shop: &Shop, now_ms: i64) -> Result<()> {
    prepare(
        db,
        "INSERT INTO shops (id, name, write_key, admin_hash, created_at) VALUES (?,?,?,?,?) \
         ON CONFLICT (id) DO UPDATE SET write_key = excluded.write_key, \
         admin_hash = excluded.admin_hash",
        &[
            shop.id.as_str().into(),
            shop.name.as_str().into(),
            shop.write_key.as_str().into(),
            shop.admin_hash.as_str().into(),
            now_ms.into(),
        ],
    )?
    .run()
    .await?;
    Ok(())
}

const SHOP_COLUMNS: &str = "SELECT id, name, write_key, admin_hash FROM shops";

/// The shop a write key belongs to.
pub async fn shop_by_key(db: &D1Database, key: &str) -> Result<Option<Shop>> {
    first(
        db,
        &format!("{SHOP_COLUMNS} WHERE write_key = ?"),
        &[key.into()],
    )
    .await
}

/// A shop by id.
pub async fn shop_by_id(db: &D1Database, id: &str) -> Result<Option<Shop>> {
    first(db, &format!("{SHOP_COLUMNS} WHERE id = ?"), &[id.into()]).await
}

#[derive(Deserialize)]
struct Link {
    anonymous_id: String,
    customer_id: String,
}

/// The customers that `anonymous_ids` are linked to in a shop's identity map.
pub async fn resolve_identities(
    db: &D1Database,
    shop: &str,
    anonymous_ids: &[String],
) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    // D1 binds at most 100 parameters per statement.
    for chunk in anonymous_ids.chunks(90) {
        let marks = vec!["?"; chunk.len()].join(",");
        let mut args: Vec<Arg> = vec![shop.into()];
        args.extend(chunk.iter().map(|a| Arg::from(a.as_str())));
        let links: Vec<Link> = rows(
            db,
            &format!(
                "SELECT anonymous_id, customer_id FROM identities \
                 WHERE shop = ? AND anonymous_id IN ({marks})"
            ),
            &args,
        )
        .await?;
        out.extend(links.into_iter().map(|l| (l.anonymous_id, l.customer_id)));
    }
    Ok(out)
}

/// Records `(anonymous id, customer id)` links (the latest link wins).
pub async fn link_identities(
    db: &D1Database,
    shop: &str,
    links: &[(String, String)],
    now_ms: i64,
) -> Result<()> {
    let stmts: Vec<Stmt> = links
        .iter()
        .map(|(anon, customer)| Stmt {
            sql: "INSERT INTO identities (shop, anonymous_id, customer_id, linked_at) \
                  VALUES (?,?,?,?) ON CONFLICT (shop, anonymous_id) DO UPDATE SET \
                  customer_id = excluded.customer_id, linked_at = excluded.linked_at"
                .into(),
            args: vec![
                shop.into(),
                anon.as_str().into(),
                customer.as_str().into(),
                now_ms.into(),
            ],
        })
        .collect();
    for chunk in stmts.chunks(BATCH_STATEMENTS) {
        run_batch(db, chunk).await?;
    }
    Ok(())
}

/// The overview's headline numbers.
pub async fn kpis(db: &D1Database, shop: &str, since_day: &str) -> Result<Kpis> {
    #[derive(Deserialize, Default)]
    struct C {
        customers: Option<f64>,
        buyers: Option<f64>,
    }
    #[derive(Deserialize, Default)]
    struct O {
        orders: Option<f64>,
        revenue: Option<f64>,
    }
    #[derive(Deserialize, Default)]
    struct E {
        events: Option<f64>,
    }
    let c: C = first(
        db,
        "SELECT COUNT(*) AS customers, SUM(orders > 0) AS buyers FROM customers \
         WHERE shop = ? AND bot = 0",
        &[shop.into()],
    )
    .await?
    .unwrap_or_default();
    let o: O = first(
        db,
        "SELECT COUNT(*) AS orders, SUM(total) AS revenue FROM orders WHERE shop = ?",
        &[shop.into()],
    )
    .await?
    .unwrap_or_default();
    let e: E = first(
        db,
        "SELECT SUM(events) AS events FROM daily WHERE shop = ? AND day >= ?",
        &[shop.into(), since_day.into()],
    )
    .await?
    .unwrap_or_default();
    Ok(Kpis {
        customers: c.customers.unwrap_or(0.0),
        buyers: c.buyers.unwrap_or(0.0),
        orders: o.orders.unwrap_or(0.0),
        revenue: o.revenue.unwrap_or(0.0),
        events_30d: e.events.unwrap_or(0.0),
    })
}

/// The daily rollup since `since_day`.
pub async fn days(db: &D1Database, shop: &str, since_day: &str) -> Result<Vec<Day>> {
    rows(
        db,
        "SELECT day, events, orders, revenue FROM daily WHERE shop = ? AND day >= ? ORDER BY day",
        &[shop.into(), since_day.into()],
    )
    .await
}

/// The most viewed products.
pub async fn top_products(db: &D1Database, shop: &str, limit: u32) -> Result<Vec<TopProduct>> {
    rows(
        db,
        "SELECT product_id, name, views, adds, purchases FROM products WHERE shop = ? \
         ORDER BY views DESC, purchases DESC, product_id LIMIT ?",
        &[shop.into(), limit.into()],
    )
    .await
}

/// The latest orders.
pub async fn latest_orders(db: &D1Database, shop: &str, limit: u32) -> Result<Vec<OrderRow>> {
    rows(
        db,
        "SELECT order_id, customer_id, ts, total, items FROM orders WHERE shop = ? \
         ORDER BY ts DESC LIMIT ?",
        &[shop.into(), limit.into()],
    )
    .await
}

const CUSTOMER_COLUMNS: &str = "SELECT customer_id, user_id, first_seen, last_seen, sessions, \
    orders, total_spend, product_views, last_event, bot, summary FROM customers";

/// The most recently seen customers whose id starts with `prefix` (all when empty).
pub async fn customers(
    db: &D1Database,
    shop: &str,
    prefix: &str,
    limit: u32,
) -> Result<Vec<CustomerRow>> {
    let escaped: String = prefix
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    rows(
        db,
        &format!(
            "{CUSTOMER_COLUMNS} WHERE shop = ? AND customer_id LIKE ? ESCAPE '\\' \
             ORDER BY last_seen DESC LIMIT ?"
        ),
        &[shop.into(), format!("{escaped}%").into(), limit.into()],
    )
    .await
}
