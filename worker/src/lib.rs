//! # Overview
//!
//! Affinity at the edge: a Cloudflare Worker (the `worker` crate on workerd). The house has
//! three floors, and every import points down:
//!
//! 1. this file: the only entry points (`fetch`, `scheduled`); [`router`]: the route table that
//!    lists every route once, and the dispatch of each route to its feature's handler;
//! 2. one folder per feature, each with its pure logic and its thin runtime handlers:
//!    [`ingest`] (`POST /v1/batch`), [`catalog`] (the merchant's product feed), [`customers`] (the customer Durable Object, the profile and
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

pub mod catalog;
pub mod config;
pub mod customers;
pub mod dashboard;
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
    use crate::router;
    use crate::{config, shops};

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
        let resp = match route.dispatch(ctx).await {
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

    /// The cron (`*/30 * * * *`): the background jobs (model builds, segment sizes).
    #[event(scheduled)]
    async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
        config::jobs::run_all(&env, now_ms()).await;
        if let Err(e) = shops::handler::erase_deleted(&env, now_ms()).await {
            worker::console_error!("cron: erasing deleted shops: {e}");
        }
    }
}
