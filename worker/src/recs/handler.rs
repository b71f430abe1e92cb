//! The dashboard's recommendations page and its "Rebuild now" button.

use crate::platform::html::{in_currency, Currency};
use worker::Response;

use super::RecsPage;
use crate::config::{jobs, window_start_ms};
use crate::platform::d1;
use crate::platform::http::percent_encode;
use crate::platform::store::recs as sql;
use crate::platform::web::{self, Ctx};
use crate::platform::Result;

/// `GET /dashboard/recommendations`.
pub async fn page(ctx: Ctx) -> Result<Response> {
    let shop = ctx.signed_in().await?;
    let notice = ctx
        .param("rebuilt")
        .map(|v| format!("Model rebuilt: version {v}."));
    let db = ctx.db()?;
    let id = shop.id.as_str();
    let since = window_start_ms(ctx.now);
    let slots = d1::all(&db, &sql::slots(id, since)).await?;
    let clicks = d1::all(&db, &sql::clicks(id, since, super::MAX_ROWS)).await?;
    let orders = d1::all(&db, &sql::orders(id, since, super::MAX_ROWS)).await?;
    let exposures = d1::all(
        &db,
        &sql::exposures(id, &super::PERSONAL_SLOTS, since, super::MAX_ROWS),
    )
    .await?;
    let s = jobs::settings(&db, id).await?;
    let (personalized, holdout) = super::groups(&exposures, &orders);
    let data = RecsPage {
        model: jobs::latest(&db, id).await?,
        min_support: s.k(),
        holdout_percent: s.holdout_percent,
        attributed: super::attribute(&clicks, &orders),
        slots,
        personalized,
        holdout,
        notice,
    };
    let currency = Currency::of(&s.currency);
    web::html(
        200,
        in_currency(&currency, || super::recs_page(&shop.name, &data, ctx.now)),
    )
}

/// `POST /dashboard/recommendations/rebuild`: rebuild (the merchant asked for it), then back to
/// the page.
pub async fn rebuild_now(ctx: Ctx) -> Result<Response> {
    let shop = ctx.signed_in().await?;
    let info = jobs::rebuild(&ctx.env, &shop.id).await?;
    web::redirect(
        &format!(
            "/dashboard/recommendations?rebuilt={}",
            percent_encode(&info.version)
        ),
        None,
    )
}
