//! The admin API of customers: one customer's profile, and the shop's health figure.

use worker::Response;

use crate::platform::d1;
use crate::platform::store::health;
use crate::platform::web::{self, call_customer, Ctx};
use crate::platform::Result;

/// `GET /v1/profile/<customer>?shop=` (admin): the customer object's profile.
pub async fn profile(ctx: Ctx, customer: &str) -> Result<Response> {
    let shop = ctx.admin_shop().await?;
    let mut resp = call_customer(&ctx.env, &shop.id, customer, "/profile", None).await?;
    let status = resp.status_code();
    let body = resp.text().await?;
    web::json_no_store(status, &body)
}

/// `GET /v1/admin/health?shop=` (admin): stored values that failed to decode, per kind, and the
/// latest of them: `{"ok", "issues": n, "by_kind": [{kind, issues, seen, last_at}],
/// "latest": [{kind, ref, error, seen, last_at}]}`.
pub async fn health(ctx: Ctx) -> Result<Response> {
    let shop = ctx.admin_shop().await?;
    let db = ctx.db()?;
    let by_kind = d1::all(&db, &health::by_kind(&shop.id)).await?;
    let latest = d1::all(&db, &health::latest(&shop.id, 50)).await?;
    let total: f64 = by_kind.iter().map(|k| k.issues).sum();
    let kinds: Vec<serde_json::Value> = by_kind
        .iter()
        .map(|k| {
            serde_json::json!({"kind": k.kind, "issues": k.issues, "seen": k.seen,
                "last_at": k.last_at})
        })
        .collect();
    let latest: Vec<serde_json::Value> = latest
        .iter()
        .map(|i| {
            serde_json::json!({"kind": i.kind, "ref": i.reference, "error": i.error,
                "seen": i.seen, "last_at": i.last_at})
        })
        .collect();
    let body = serde_json::json!({
        "shop": shop.id, "ok": total == 0.0, "issues": total, "by_kind": kinds, "latest": latest,
    });
    web::json_no_store(200, &body.to_string())
}
