//! The dashboard's handlers: sign-in and out, the overview, the customer list and one customer.
//! The pages are rendered by [`crate::dashboard`] from the rows read here.

use affinity::profile::Profile;
use worker::Response;

use super::{Kpis, Overview, TimelineEntry};
use crate::config::window_start;
use crate::platform::auth;
use crate::platform::d1;
use crate::platform::http::form_value;
use crate::platform::store::{dashboard as sql, shops};
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

/// `GET /dashboard`.
pub async fn overview(ctx: Ctx) -> Result<Response> {
    let shop = ctx.signed_in().await?;
    let db = ctx.db()?;
    let id = shop.id.as_str();
    let since = window_start(ctx.now);
    let c = d1::first(&db, &sql::customer_counts(id))
        .await?
        .unwrap_or_default();
    let o = d1::first(&db, &sql::order_totals(id))
        .await?
        .unwrap_or_default();
    let e = d1::first(&db, &sql::events_since(id, &since))
        .await?
        .unwrap_or_default();
    let data = Overview {
        kpis: Kpis {
            customers: c.customers.unwrap_or(0.0),
            buyers: c.buyers.unwrap_or(0.0),
            orders: o.orders.unwrap_or(0.0),
            revenue: o.revenue.unwrap_or(0.0),
            events_30d: e.events.unwrap_or(0.0),
        },
        days: super::fill_days(&d1::all(&db, &sql::days(id, &since)).await?, ctx.now),
        top_products: d1::all(&db, &sql::top_products(id, 8)).await?,
        latest_orders: d1::all(&db, &sql::latest_orders(id, 8)).await?,
        latest_customers: d1::all(&db, &sql::customers(id, "", 8)).await?,
    };
    web::html(200, super::overview_page(&shop.name, &data, ctx.now))
}

/// `GET /dashboard/customers[?q=prefix]`.
pub async fn customers(ctx: Ctx) -> Result<Response> {
    let shop = ctx.signed_in().await?;
    let q = ctx.param("q").unwrap_or_default();
    let q = q.trim();
    let rows = d1::all(&ctx.db()?, &sql::customers(&shop.id, q, 100)).await?;
    web::html(200, super::customers_page(&shop.name, q, &rows, ctx.now))
}

/// `GET /dashboard/customers/<id>`: profile (from the customer's object), segments, timeline.
pub async fn customer(ctx: Ctx, id: &str) -> Result<Response> {
    let shop = ctx.signed_in().await?;
    let mut p = call_customer(&ctx.env, &shop.id, id, "/profile", None).await?;
    if p.status_code() != 200 {
        return Err(Error::not_found(format!("No customer with id {id}.")));
    }
    let text = p.text().await?;
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
    web::html(
        200,
        super::customer_page(&shop.name, &profile, &segments_html, &timeline, ctx.now),
    )
}
