//! `POST /v1/admin/catalog?shop=`: replace the shop's catalog with an uploaded feed.

use worker::Response;

use crate::platform::d1;
use crate::platform::store::catalog;
use crate::platform::web::{self, Ctx};
use crate::platform::{Error, Result};

/// Checks the whole feed first, then replaces the catalog (D1 batches) and rebuilds the model
/// after the response: `{"products": n}`; 400 with the first invalid product, and nothing
/// written.
pub async fn upload(mut ctx: Ctx) -> Result<Response> {
    let shop = ctx.admin_shop().await?;
    let body = ctx.text().await?;
    let rows = super::parse_feed(&body).map_err(Error::bad_request)?;
    let mut stmts = vec![catalog::clear(&shop.id)];
    stmts.extend(rows.iter().map(|r| catalog::insert(&shop.id, r, ctx.now)));
    d1::batch(&ctx.db()?, &stmts).await?;
    ctx.after_response(crate::config::jobs::rebuild_after_upload(
        ctx.env.clone(),
        shop.id.clone(),
    ));
    web::json_no_store(
        200,
        &serde_json::json!({ "products": rows.len() }).to_string(),
    )
}
