//! # Overview
//!
//! Affinity at the edge: a Cloudflare Worker (the `worker` crate on workerd). The house has
//! three floors, and every import points down:
//!
//! 1. this file: the only entry points (`fetch`, `scheduled`) and the dispatch of each
//!    [`router::Route`] (the route table lists every route once) to its feature;
//! 2. one folder per feature, each with its pure logic and its thin runtime handlers:
//!    [`ingest`] (`POST /v1/batch`), [`customers`] (the customer Durable Object, the profile and
//!    health API), [`config`] (shop config, item model builds and serving, plugin files, the
//!    cron's jobs), [`recs`] (recommendation measurement), [`segments`] and [`dashboard`];
//! 3. [`platform`]: the request context, responses and the one error type, auth guards, and
//!    the [`platform::store`] that holds every SQL statement; it uses no feature.
//!
//! Below them all is the engine, `affinity`: the same event validation, profile fold, rules and
//! recommender as the shopper's page.
//!
//! # Features
//!
//! None. Runtime glue compiles only for `wasm32`; everything else is pure Rust and tested
//! natively with `cargo test -p affinity-worker` (the store's SQL runs on SQLite there).
#![deny(missing_docs, missing_debug_implementations)]

pub mod config;
pub mod customers;
pub mod dashboard;
pub mod html;
pub mod ingest;
pub mod platform;
pub mod recs;
pub mod router;
pub mod segments;
pub mod shops;

#[cfg(target_arch = "wasm32")]
mod entry {
    use worker::{event, Context, Env, Request, Response, ScheduleContext, ScheduledEvent};

    use crate::platform::web::{self, now_ms, Ctx};
    use crate::platform::Error;
    use crate::router::{self, Route};
    use crate::{config, customers, dashboard, ingest, recs, segments, shops};

    #[event(fetch)]
    async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
        let path = req.path();
        let api = path.starts_with("/v1/");
        let origin = req.headers().get("Origin").ok().flatten();
        let route = router::route(req.method().as_ref(), &path);
        let ctx = Ctx {
            req,
            env,
            ctx,
            now: now_ms(),
        };
        let resp = match dispatch(route, ctx).await {
            Ok(r) => r,
            Err(Error::Redirect(to)) => web::redirect(&to, None)?,
            Err(Error::Status { status, message }) if api => web::json_error(status, &message)?,
            Err(Error::Status { status, message }) => Response::error(message, status)?,
            Err(e) => {
                worker::console_error!("{path}: {e}");
                if api {
                    web::json_error(500, "internal error; please retry")?
                } else {
                    Response::error("Internal error", 500)?
                }
            }
        };
        if api {
            Ok(web::with_cors(origin, resp)?)
        } else {
            Ok(resp)
        }
    }

    async fn dispatch(route: Route, ctx: Ctx) -> crate::platform::Result<Response> {
        match route {
            Route::Preflight => Ok(Response::empty()?.with_status(204)),
            Route::MethodNotAllowed => Err(Error::status(405, "method not allowed")),
            Route::NotFound => Err(Error::not_found("not found")),
            Route::Batch => ingest::handler::batch(ctx, None).await,
            Route::Single(call) => ingest::handler::batch(ctx, Some(call)).await,
            Route::Config => config::handler::config(ctx).await,
            Route::Model => config::handler::model_latest(ctx).await,
            Route::ModelVersion(v) => config::handler::model_version(ctx, &v).await,
            Route::PluginFile(file) => config::handler::plugin_file(ctx, file).await,
            Route::AdminRebuild => config::handler::admin_rebuild(ctx).await,
            Route::AdminSettings => config::handler::admin_settings(ctx).await,
            Route::AdminHealth => customers::handler::health(ctx).await,
            Route::Profile(id) => customers::handler::profile(ctx, &id).await,
            Route::Recommendations => recs::handler::page(ctx).await,
            Route::RebuildNow => recs::handler::rebuild_now(ctx).await,
            Route::Segments(r) => segments::handler::handle(r, ctx).await,
            Route::LoginPage => dashboard::handler::login_page(ctx).await,
            Route::Login => dashboard::handler::login(ctx).await,
            Route::Logout => dashboard::handler::logout(),
            Route::SettingsPage => shops::handler::dashboard_settings(ctx).await,
            Route::SaveSettings => shops::handler::dashboard_save(ctx).await,
            Route::OperatorList => shops::handler::list(ctx).await,
            Route::OperatorCreate => shops::handler::create(ctx).await,
            Route::OperatorShow(id) => shops::handler::show(ctx, &id).await,
            Route::OperatorSettings(id) => shops::handler::settings(ctx, &id).await,
            Route::OperatorRotate(id) => shops::handler::rotate(ctx, &id).await,
            Route::OperatorExport(id) => shops::handler::export(ctx, &id).await,
            Route::OperatorDelete(id) => shops::handler::delete(ctx, &id).await,
            Route::OperatorRoutes => {
                ctx.operator()?;
                web::json_no_store(200, &router::table_json())
            }
            Route::Overview => dashboard::handler::overview(ctx).await,
            Route::Customers => dashboard::handler::customers(ctx).await,
            Route::Customer(id) => dashboard::handler::customer(ctx, &id).await,
        }
    }

    /// The cron (`*/30 * * * *`): the background jobs (model builds, segment sizes).
    #[event(scheduled)]
    async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
        config::jobs::run_all(&env, now_ms()).await;
        if let Err(e) = shops::handler::erase_deleted(&env, now_ms()).await {
            worker::console_error!("cron: erasing deleted shops: {e}");
        }
    }
}
