//! The dashboard's handlers: sign-in and out, the overview, the customer list and one customer.
//! The pages are rendered by [`crate::dashboard`] from the rows read here.

use affinity::profile::Profile;
use worker::Response;

use super::insights::{self, CustomerInsights};
use super::period::{Grain, Period, Zone};
use super::{CustomerExtras, Overview, TimelineEntry};
use crate::platform::auth;
use crate::platform::d1;
use crate::platform::html::{in_currency, Currency};
use crate::platform::http::form_value;
use crate::platform::store::{dashboard as sql, segments as seg_sql, shops};
use crate::platform::web::{self, call_customer, Ctx};
use crate::platform::{Error, Result};

/// `GET /dashboard/login` (`?shop=` prefills the shop id).
pub async fn login_page(ctx: Ctx) -> Result<Response> {
    if ctx.session().await?.is_some() {
        return web::redirect("/dashboard", None);
    }
    let shop = ctx.param("shop").unwrap_or_default();
    web::html(200, super::login_page(&shop, None))
}

/// `POST /dashboard/login` (`shop`, `secret`).
pub async fn login(mut ctx: Ctx) -> Result<Response> {
    let form = ctx.form().await?;
    let shop_id = form_value(&form, "shop")
        .unwrap_or_default()
        .trim()
        .to_string();
    let secret = form_value(&form, "secret").unwrap_or_default();
    let shop = if auth::valid_shop_id(&shop_id) {
        d1::first(&ctx.db()?, &shops::by_id(&shop_id)).await?
    } else {
        None
    };
    match shop {
        Some(s) if auth::secret_matches(&s.id, &secret, &s.admin_hash) => {
            let value = auth::sign_session(&s.admin_hash, &s.id, ctx.now + auth::SESSION_MS);
            let secure = ctx
                .req
                .url()
                .map(|u| u.scheme() == "https")
                .unwrap_or(false);
            web::redirect("/dashboard", Some(&auth::session_cookie(&value, secure)))
        }
        _ => web::html(
            401,
            super::login_page(
                &shop_id,
                Some("That shop ID and admin secret do not match. Please try again."),
            ),
        ),
    }
}

/// `GET|POST /dashboard/logout`.
pub fn logout() -> Result<Response> {
    web::redirect("/dashboard/login", Some(&auth::clear_cookie()))
}

/// The shop's time zone (UTC when unset) and currency (dollars when unset): how its pages
/// write days and money.
async fn local(db: &worker::D1Database, shop: &str) -> Result<(Zone, Currency)> {
    let s = d1::first(db, &shops::settings(shop)).await?;
    let (tz, currency) = s.map(|s| (s.time_zone, s.currency)).unwrap_or_default();
    Ok((
        Zone::or_utc(tz.as_deref().unwrap_or("UTC")),
        Currency::of(currency.as_deref().unwrap_or("USD")),
    ))
}

/// The period of the request's `from` and `to` (the last 30 days by default), or a 400 that
/// says why not.
fn period(ctx: &Ctx, zone: &Zone) -> Result<Period> {
    Period::parse(
        ctx.param("from").as_deref(),
        ctx.param("to").as_deref(),
        zone,
        ctx.now,
    )
    .map_err(Error::bad_request)
}

/// `GET /dashboard[?from=&to=&grain=day|week|month]`.
pub async fn overview(ctx: Ctx) -> Result<Response> {
    let shop = ctx.signed_in().await?;
    let db = ctx.db()?;
    let id = shop.id.as_str();
    let (zone, cur) = local(&db, id).await?;
    let period = period(&ctx, &zone)?;
    let grain = Grain::parse(&ctx.param("grain").unwrap_or_default());
    let buckets = period.buckets(&zone, grain);
    let ranges: Vec<(i64, i64)> = buckets.iter().map(|b| (b.start_ms, b.end_ms)).collect();
    let both = [period.range(&zone), period.previous().range(&zone)];
    let mut totals = d1::all(&db, &sql::slot_totals(id, &both))
        .await?
        .into_iter();
    let trend = d1::all(&db, &sql::slot_totals(id, &ranges)).await?;
    let origin = ctx
        .req
        .url()
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let data = Overview {
        current: totals.next().unwrap_or_default(),
        previous: totals.next().unwrap_or_default(),
        trend: buckets.into_iter().zip(trend).collect(),
        freshness: d1::first(&db, &sql::freshness(id)).await?,
        tags: insights::InstallTags::new(&origin, &shop.write_key),
        top_products: d1::all(&db, &sql::top_products(id, 8)).await?,
        latest_orders: d1::all(&db, &sql::latest_orders(id, 8)).await?,
        zone,
        period,
        grain,
    };
    web::html(
        200,
        in_currency(&cur, || insights::overview_page(&shop.name, &data, ctx.now)),
    )
}

/// `GET /dashboard/customers[?q=prefix]`: RFM grid, top customers, new vs returning (last 30
/// days), the list.
pub async fn customers(ctx: Ctx) -> Result<Response> {
    let shop = ctx.signed_in().await?;
    let db = ctx.db()?;
    let q = ctx.param("q").unwrap_or_default();
    let q = q.trim();
    let (zone, cur) = local(&db, &shop.id).await?;
    let (start, end) = Period::last_days(&zone, ctx.now, 30).range(&zone);
    let data = CustomerInsights {
        rfm: d1::all(&db, &sql::rfm_counts(&shop.id, ctx.now)).await?,
        top: d1::all(&db, &sql::top_customers(&shop.id, 10)).await?,
        new_returning: d1::first(&db, &sql::new_vs_returning(&shop.id, start, end))
            .await?
            .unwrap_or_default(),
    };
    let rows = d1::all(&db, &sql::customers(&shop.id, q, 100)).await?;
    let page = in_currency(&cur, || {
        let card = insights::customer_insights(&data, ctx.now);
        super::customers_page(&shop.name, &card, q, &rows, ctx.now)
    });
    web::html(200, page)
}

/// `GET /dashboard/funnel[?from=&to=&window=1h|1d|7d|30d&segment=]`.
pub async fn funnel(ctx: Ctx) -> Result<Response> {
    let shop = ctx.signed_in().await?;
    let db = ctx.db()?;
    let (zone, _) = local(&db, &shop.id).await?;
    let period = period(&ctx, &zone)?;
    let (window_value, window_ms) = insights::window(&ctx.param("window").unwrap_or_default());
    let names: Vec<String> = d1::all(&db, &seg_sql::stored(&shop.id))
        .await?
        .into_iter()
        .map(|s| s.name)
        .collect();
    let segment = ctx.param("segment").unwrap_or_default();
    if !segment.is_empty() && !names.contains(&segment) {
        return Err(Error::bad_request(format!(
            "There is no segment named {segment}."
        )));
    }
    let (start, end) = period.range(&zone);
    let seg = (!segment.is_empty()).then_some(segment.as_str());
    let counts = d1::first(&db, &sql::funnel(&shop.id, start, end, window_ms, seg))
        .await?
        .unwrap_or_default();
    web::html(
        200,
        insights::funnel_page(
            &shop.name,
            &zone,
            &period,
            window_value,
            &segment,
            &names,
            &counts,
            ctx.now,
        ),
    )
}

/// `GET /dashboard/retention[?from=&to=]`: cohorts over every order; the period's share of
/// revenue from returning customers.
pub async fn retention(ctx: Ctx) -> Result<Response> {
    let shop = ctx.signed_in().await?;
    let db = ctx.db()?;
    let (zone, cur) = local(&db, &shop.id).await?;
    let period = period(&ctx, &zone)?;
    let span = d1::first(&db, &sql::order_span(&shop.id))
        .await?
        .unwrap_or_default();
    let cohorts = match span.first {
        Some(first) => {
            let last = span.last.map_or(ctx.now, |l| (l as i64).max(ctx.now));
            let months = zone.months(first as i64, last);
            let cells = d1::all(&db, &sql::retention(&shop.id, &months)).await?;
            let today = zone.date_of(ctx.now);
            let now_month = i64::from(today.year()) * 12 + i64::from(today.month()) - 1;
            insights::cohorts(&cells, now_month)
        }
        None => Vec::new(),
    };
    let (start, end) = period.range(&zone);
    let nr = d1::first(&db, &sql::new_vs_returning(&shop.id, start, end))
        .await?
        .unwrap_or_default();
    web::html(
        200,
        in_currency(&cur, || {
            insights::retention_page(&shop.name, &zone, &period, &cohorts, &nr, ctx.now)
        }),
    )
}

/// `GET /dashboard/products[?from=&to=]`.
pub async fn products(ctx: Ctx) -> Result<Response> {
    let shop = ctx.signed_in().await?;
    let db = ctx.db()?;
    let (zone, cur) = local(&db, &shop.id).await?;
    let period = period(&ctx, &zone)?;
    let (start, end) = period.range(&zone);
    let stats = d1::all(&db, &sql::product_stats(&shop.id, start, end, 50)).await?;
    let ids: Vec<String> = stats.iter().map(|p| p.product_id.clone()).collect();
    let with = if ids.is_empty() {
        Vec::new()
    } else {
        d1::all(&db, &sql::bought_with(&shop.id, &ids)).await?
    };
    web::html(
        200,
        in_currency(&cur, || {
            insights::products_page(&shop.name, &zone, &period, &stats, &with, ctx.now)
        }),
    )
}

/// `GET /dashboard/explore?metric=&by=&then=&from=&to=[&format=csv]`: see [`super::explore`].
pub async fn explore(ctx: Ctx) -> Result<Response> {
    use super::explore::{self as ex, Question};
    use crate::platform::store::explore as exq;
    let shop = ctx.signed_in().await?;
    let db = ctx.db()?;
    let (zone, cur) = local(&db, &shop.id).await?;
    let period = period(&ctx, &zone)?;
    let q = Question::parse(
        ctx.param("metric").as_deref(),
        ctx.param("by").as_deref(),
        ctx.param("then").as_deref(),
    )
    .map_err(Error::bad_request)?;
    let (start, end) = period.range(&zone);
    let offsets = serde_json::to_string(&zone.offsets(start, end))?;
    let dims = q.dims();
    let visitors = if q.metric.needs_visitors() {
        d1::all(&db, &exq::visitors(&shop.id, &dims, start, end, &offsets)).await?
    } else {
        Vec::new()
    };
    let orders = if q.metric.needs_orders() {
        d1::all(&db, &exq::orders(&shop.id, &dims, start, end, &offsets)).await?
    } else {
        Vec::new()
    };
    let rows = ex::answer(&q, &visitors, &orders);
    if ctx.param("format").as_deref() == Some("csv") {
        return web::csv(
            &format!("explore-{}-{}.csv", q.metric.as_str(), q.by.as_str()),
            ex::csv(&q, &rows),
        );
    }
    web::html(
        200,
        in_currency(&cur, || {
            ex::page(&shop.name, &zone, &period, &q, &rows, ctx.now)
        }),
    )
}

/// `GET /dashboard/customers/<id>`: profile (from the customer's object), segments, timeline.
pub async fn customer(ctx: Ctx, id: &str) -> Result<Response> {
    let shop = ctx.signed_in().await?;
    let mut p = call_customer(&ctx.env, &shop.id, id, "/profile", None).await?;
    if p.status_code() != 200 {
        return Err(Error::not_found(format!("No customer with id {id}.")));
    }
    let text = p.text().await?;
    let json = affinity::json::parse(&text).unwrap_or_default();
    let consent = super::consent_history(&json);
    let extras = CustomerExtras {
        refunds: d1::all(&ctx.db()?, &sql::customer_orders(&shop.id, id, 200)).await?,
        has_consent: json
            .get("consent")
            .and_then(affinity::json::Value::as_array)
            .is_some(),
        consent,
        shown: d1::all(&ctx.db()?, &sql::recommendations_shown(&shop.id, id, 10)).await?,
    };
    let segments_html = crate::segments::handler::customer_card(&text, ctx.now);
    let profile = affinity::json::parse(&text)
        .map_err(|e| Error::Runtime(format!("profile of {id}: {}", e.message())))
        .and_then(|v| {
            Profile::from_json(&v)
                .map_err(|e| Error::Runtime(format!("profile of {id}: {}", e.message())))
        })?;
    let mut t = call_customer(&ctx.env, &shop.id, id, "/timeline?limit=100", None).await?;
    let timeline: Vec<TimelineEntry> = if t.status_code() == 200 {
        t.json().await?
    } else {
        Vec::new()
    };
    let (_, cur) = local(&ctx.db()?, &shop.id).await?;
    let page = in_currency(&cur, || {
        super::customer_page(
            &shop.name,
            &profile,
            &segments_html,
            &timeline,
            &extras,
            ctx.now,
        )
    });
    web::html(200, page)
}
