//! The route table: every route the Worker answers, listed once, with the access it requires.
//! [`route`] matches a request against it and [`Route::dispatch`] (wasm32) runs the route's
//! handler in its feature. Matching is pure, so the table is tested natively and walked by the
//! end-to-end tests (every route is covered). A new route is a variant, a table entry and a
//! dispatch arm here, and its handler.

use crate::platform::http::percent_decode;
use crate::segments::pages::SegmentRoute;

/// Something the Worker answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `OPTIONS /v1/*`: CORS preflight.
    Preflight,
    /// `POST /v1/batch` (also `/v1/import`): a Segment batch.
    Batch,
    /// `POST /v1/track|page|identify|alias|screen|group`: one Segment call of that type.
    Single(&'static str),
    /// `GET /v1/config`: the shop's plugin configuration.
    Config,
    /// `GET /v1/model`: the latest item model.
    Model,
    /// `GET /v1/model/<version>`: one version of the item model (immutable).
    ModelVersion(String),
    /// `POST /v1/admin/model/rebuild`: rebuild the item model now (admin).
    AdminRebuild,
    /// `POST /v1/admin/catalog`: replace the shop's catalog with a product feed (admin).
    AdminCatalog,
    /// `POST /v1/admin/seed`: a batch whose customers each count as their own source (admin).
    AdminSeed,
    /// `POST /v1/admin/settings`: change the shop's model settings (admin).
    AdminSettings,
    /// `GET /v1/admin/health`: values that failed to decode (admin).
    AdminHealth,
    /// `GET /v1/profile/<customer id>`: a customer's profile (admin).
    Profile(String),
    /// `GET /v1/operator/shops`: every shop (operator).
    OperatorList,
    /// `POST /v1/operator/shops`: create a shop (operator).
    OperatorCreate,
    /// `GET /v1/operator/shops/<id>`: one shop (operator).
    OperatorShow(String),
    /// `POST /v1/operator/shops/<id>/settings` (operator).
    OperatorSettings(String),
    /// `POST /v1/operator/shops/<id>/rotate`: new write key and admin secret (operator).
    OperatorRotate(String),
    /// `GET /v1/operator/shops/<id>/export`: the shop's data as JSON lines (operator).
    OperatorExport(String),
    /// `POST /v1/operator/shops/<id>/delete`: delete and erase (operator).
    OperatorDelete(String),
    /// `GET /v1/operator/routes`: this table (operator).
    OperatorRoutes,
    /// `GET /affinity.js`, `/affinity_core.js`, `/affinity_core_bg.wasm`: the plugin files.
    PluginFile(&'static str),
    /// `GET /dashboard`: the overview.
    Overview,
    /// `GET /dashboard/login`: the sign-in page.
    LoginPage,
    /// `POST /dashboard/login`: signing in.
    Login,
    /// `GET|POST /dashboard/logout`.
    Logout,
    /// `GET /dashboard/customers`: the customer list.
    Customers,
    /// `GET /dashboard/customers/<id>`: one customer.
    Customer(String),
    /// `GET /dashboard/funnel`: view → cart → checkout → order.
    Funnel,
    /// `GET /dashboard/retention`: first-order cohorts.
    Retention,
    /// `GET /dashboard/products`: product figures and "often bought with".
    Products,
    /// `GET /dashboard/explore`: a metric by a dimension (`?format=csv` for the CSV).
    Explore,
    /// `GET /dashboard/recommendations`: recommendation performance and the model.
    Recommendations,
    /// `POST /dashboard/recommendations/rebuild`: the "Rebuild now" button.
    RebuildNow,
    /// `GET /dashboard/settings`: the shop's settings.
    SettingsPage,
    /// `POST /dashboard/settings`: save them.
    SaveSettings,
    /// `/dashboard/segments…`: the segment list, editor, validation and preview.
    Segments(SegmentRoute),
    /// A known path with the wrong method.
    MethodNotAllowed,
    /// Anything else under the Worker's paths.
    NotFound,
}

/// What a route requires of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (plugin files, preflight, the sign-in page).
    Public,
    /// The shop's public write key (`writeKey` in the body, Basic auth, or `?key=`).
    WriteKey,
    /// The shop's admin secret (`Authorization: Bearer`, with `?shop=`).
    Admin,
    /// A signed-in dashboard session (cookie).
    Session,
    /// The deployment's operator secret (`Authorization: Bearer`).
    Operator,
}

/// One entry of the route table.
#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    /// Accepted methods (`GET` also accepts `HEAD`).
    pub methods: &'static [&'static str],
    /// Path pattern: literal segments and `:param` segments (one path segment each).
    pub pattern: &'static str,
    /// What the caller must present.
    pub access: Access,
    /// Builds the route from the decoded parameters, in pattern order.
    pub make: fn(&[String]) -> Route,
}

const GET: &[&str] = &["GET"];
const POST: &[&str] = &["POST"];
const GET_POST: &[&str] = &["GET", "POST"];

macro_rules! spec {
    ($methods:expr, $pattern:literal, $access:ident, $make:expr) => {
        RouteSpec {
            methods: $methods,
            pattern: $pattern,
            access: Access::$access,
            make: $make,
        }
    };
}

fn param(p: &[String]) -> String {
    p.first().cloned().unwrap_or_default()
}

/// Every route, once. Literal patterns come before parameter patterns of the same shape.
pub const ROUTES: &[RouteSpec] = &[
    spec!(POST, "/v1/batch", WriteKey, |_| Route::Batch),
    spec!(POST, "/v1/import", WriteKey, |_| Route::Batch),
    spec!(POST, "/v1/track", WriteKey, |_| Route::Single("track")),
    spec!(POST, "/v1/page", WriteKey, |_| Route::Single("page")),
    spec!(POST, "/v1/identify", WriteKey, |_| Route::Single(
        "identify"
    )),
    spec!(POST, "/v1/alias", WriteKey, |_| Route::Single("alias")),
    spec!(POST, "/v1/screen", WriteKey, |_| Route::Single("screen")),
    spec!(POST, "/v1/group", WriteKey, |_| Route::Single("group")),
    spec!(GET, "/v1/config", WriteKey, |_| Route::Config),
    spec!(GET, "/v1/model", WriteKey, |_| Route::Model),
    spec!(
        GET,
        "/v1/model/:version",
        WriteKey,
        |p| Route::ModelVersion(param(p))
    ),
    spec!(POST, "/v1/admin/model/rebuild", Admin, |_| {
        Route::AdminRebuild
    }),
    spec!(POST, "/v1/admin/settings", Admin, |_| Route::AdminSettings),
    spec!(POST, "/v1/admin/catalog", Admin, |_| Route::AdminCatalog),
    spec!(POST, "/v1/admin/seed", Admin, |_| Route::AdminSeed),
    spec!(GET, "/v1/admin/health", Admin, |_| Route::AdminHealth),
    spec!(GET, "/v1/profile/:customer", Admin, |p| Route::Profile(
        param(p)
    )),
    spec!(GET, "/v1/operator/shops", Operator, |_| Route::OperatorList),
    spec!(POST, "/v1/operator/shops", Operator, |_| {
        Route::OperatorCreate
    }),
    spec!(GET, "/v1/operator/routes", Operator, |_| {
        Route::OperatorRoutes
    }),
    spec!(GET, "/v1/operator/shops/:id", Operator, |p| {
        Route::OperatorShow(param(p))
    }),
    spec!(POST, "/v1/operator/shops/:id/settings", Operator, |p| {
        Route::OperatorSettings(param(p))
    }),
    spec!(POST, "/v1/operator/shops/:id/rotate", Operator, |p| {
        Route::OperatorRotate(param(p))
    }),
    spec!(GET, "/v1/operator/shops/:id/export", Operator, |p| {
        Route::OperatorExport(param(p))
    }),
    spec!(POST, "/v1/operator/shops/:id/delete", Operator, |p| {
        Route::OperatorDelete(param(p))
    }),
    spec!(GET, "/affinity.js", Public, |_| Route::PluginFile(
        "affinity.js"
    )),
    spec!(GET, "/affinity_core.js", Public, |_| Route::PluginFile(
        "affinity_core.js"
    )),
    spec!(
        GET,
        "/affinity_core_bg.wasm",
        Public,
        |_| Route::PluginFile("affinity_core_bg.wasm")
    ),
    spec!(GET, "/dashboard", Session, |_| Route::Overview),
    spec!(GET, "/dashboard/login", Public, |_| Route::LoginPage),
    spec!(POST, "/dashboard/login", Public, |_| Route::Login),
    spec!(GET_POST, "/dashboard/logout", Public, |_| Route::Logout),
    spec!(GET, "/dashboard/customers", Session, |_| Route::Customers),
    spec!(GET, "/dashboard/customers/:id", Session, |p| {
        Route::Customer(param(p))
    }),
    spec!(GET, "/dashboard/funnel", Session, |_| Route::Funnel),
    spec!(GET, "/dashboard/retention", Session, |_| Route::Retention),
    spec!(GET, "/dashboard/products", Session, |_| Route::Products),
    spec!(GET, "/dashboard/explore", Session, |_| Route::Explore),
    spec!(GET, "/dashboard/recommendations", Session, |_| {
        Route::Recommendations
    }),
    spec!(POST, "/dashboard/recommendations/rebuild", Session, |_| {
        Route::RebuildNow
    }),
    spec!(GET, "/dashboard/settings", Session, |_| Route::SettingsPage),
    spec!(POST, "/dashboard/settings", Session, |_| {
        Route::SaveSettings
    }),
    spec!(GET, "/dashboard/segments", Session, |_| Route::Segments(
        SegmentRoute::List
    )),
    spec!(
        GET,
        "/dashboard/segments/new",
        Session,
        |_| Route::Segments(SegmentRoute::Edit(None))
    ),
    spec!(POST, "/dashboard/segments/new", Session, |_| {
        Route::Segments(SegmentRoute::Save(None))
    }),
    spec!(POST, "/dashboard/segments/validate", Session, |_| {
        Route::Segments(SegmentRoute::Validate)
    }),
    spec!(POST, "/dashboard/segments/preview", Session, |_| {
        Route::Segments(SegmentRoute::Preview)
    }),
    spec!(GET, "/dashboard/segments/:name", Session, |p| {
        Route::Segments(SegmentRoute::Edit(Some(param(p))))
    }),
    spec!(POST, "/dashboard/segments/:name", Session, |p| {
        Route::Segments(SegmentRoute::Save(Some(param(p))))
    }),
    spec!(POST, "/dashboard/segments/:name/delete", Session, |p| {
        Route::Segments(SegmentRoute::Delete(param(p)))
    }),
];

/// The table as JSON: `[{"methods", "pattern", "access"}]` (for tests and tools that walk every
/// route).
pub fn table_json() -> String {
    let rows: Vec<serde_json::Value> = ROUTES
        .iter()
        .map(|r| {
            serde_json::json!({"methods": r.methods, "pattern": r.pattern,
                "access": format!("{:?}", r.access)})
        })
        .collect();
    serde_json::Value::from(rows).to_string()
}

#[cfg(target_arch = "wasm32")]
mod dispatch {
    use worker::Response;

    use super::Route;
    use crate::platform::web::{self, Ctx};
    use crate::platform::Error;
    use crate::{catalog, config, customers, dashboard, ingest, recs, segments, shops};

    impl Route {
        /// Runs the route's handler.
        pub async fn dispatch(self, ctx: Ctx) -> crate::platform::Result<Response> {
            match self {
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
                Route::AdminCatalog => catalog::handler::upload(ctx).await,
                Route::AdminSeed => ingest::handler::seed(ctx).await,
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
                    web::json_no_store(200, &super::table_json())
                }
                Route::Overview => dashboard::handler::overview(ctx).await,
                Route::Customers => dashboard::handler::customers(ctx).await,
                Route::Customer(id) => dashboard::handler::customer(ctx, &id).await,
                Route::Funnel => dashboard::handler::funnel(ctx).await,
                Route::Retention => dashboard::handler::retention(ctx).await,
                Route::Products => dashboard::handler::products(ctx).await,
                Route::Explore => dashboard::handler::explore(ctx).await,
            }
        }
    }
}

/// Matches `path` (still percent-encoded) against `pattern`: the decoded parameters, or `None`.
fn matches(pattern: &str, path: &str) -> Option<Vec<String>> {
    let mut params = Vec::new();
    let mut want = pattern.split('/');
    let mut have = path.split('/');
    loop {
        match (want.next(), have.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(h)) if w.starts_with(':') => {
                if h.is_empty() {
                    return None;
                }
                params.push(percent_decode(h));
            }
            (Some(w), Some(h)) if w == h => {}
            _ => return None,
        }
    }
}

/// The table entry and route for a request, by method and (still percent-encoded) path. A
/// trailing slash is ignored; a path that matches with another method is
/// [`Route::MethodNotAllowed`].
pub fn route(method: &str, path: &str) -> Route {
    lookup(method, path).map_or_else(|r| r, |(_, r)| r)
}

/// Like [`route`], with the matched table entry.
pub fn lookup(method: &str, path: &str) -> Result<(&'static RouteSpec, Route), Route> {
    if path.starts_with("/v1/") && method == "OPTIONS" {
        return Err(Route::Preflight);
    }
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    };
    let method = if method == "HEAD" { "GET" } else { method };
    let mut known_path = false;
    for spec in ROUTES {
        if let Some(params) = matches(spec.pattern, path) {
            if spec.methods.contains(&method) {
                return Ok((spec, (spec.make)(&params)));
            }
            known_path = true;
        }
    }
    Err(if known_path {
        Route::MethodNotAllowed
    } else {
        Route::NotFound
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_api() {
        assert_eq!(route("POST", "/v1/batch"), Route::Batch);
        assert_eq!(route("POST", "/v1/batch/"), Route::Batch);
        assert_eq!(route("POST", "/v1/import"), Route::Batch);
        assert_eq!(route("GET", "/v1/batch"), Route::MethodNotAllowed);
        assert_eq!(route("OPTIONS", "/v1/batch"), Route::Preflight);
        assert_eq!(route("POST", "/v1/track"), Route::Single("track"));
        assert_eq!(route("POST", "/v1/identify"), Route::Single("identify"));
        assert_eq!(route("GET", "/v1/config"), Route::Config);
        assert_eq!(route("HEAD", "/v1/config"), Route::Config);
        assert_eq!(route("GET", "/v1/model"), Route::Model);
        assert_eq!(
            route("GET", "/v1/model/abc123"),
            Route::ModelVersion("abc123".into())
        );
        assert_eq!(route("GET", "/v1/model/a/b"), Route::NotFound);
        assert_eq!(
            route("POST", "/v1/admin/model/rebuild"),
            Route::AdminRebuild
        );
        assert_eq!(
            route("GET", "/v1/admin/model/rebuild"),
            Route::MethodNotAllowed
        );
        assert_eq!(route("POST", "/v1/admin/settings"), Route::AdminSettings);
        assert_eq!(route("POST", "/v1/admin/catalog"), Route::AdminCatalog);
        assert_eq!(route("POST", "/v1/admin/seed"), Route::AdminSeed);
        assert_eq!(route("GET", "/v1/admin/catalog"), Route::MethodNotAllowed);
        assert_eq!(route("GET", "/v1/admin/health"), Route::AdminHealth);
        assert_eq!(
            route("GET", "/v1/profile/user%40x.com"),
            Route::Profile("user@x.com".into())
        );
        assert_eq!(route("GET", "/v1/profile/"), Route::NotFound);
        assert_eq!(route("GET", "/v1/nope"), Route::NotFound);
    }

    #[test]
    fn routes_files_and_dashboard() {
        assert_eq!(
            route("GET", "/affinity_core_bg.wasm"),
            Route::PluginFile("affinity_core_bg.wasm")
        );
        assert_eq!(route("POST", "/affinity.js"), Route::MethodNotAllowed);
        assert_eq!(route("GET", "/dashboard"), Route::Overview);
        assert_eq!(route("GET", "/dashboard/"), Route::Overview);
        assert_eq!(route("GET", "/dashboard/login"), Route::LoginPage);
        assert_eq!(route("POST", "/dashboard/login"), Route::Login);
        assert_eq!(route("POST", "/dashboard/logout"), Route::Logout);
        assert_eq!(route("GET", "/dashboard/customers"), Route::Customers);
        assert_eq!(
            route("GET", "/dashboard/customers/anon%20one"),
            Route::Customer("anon one".into())
        );
        assert_eq!(route("GET", "/dashboard/customers/a/b"), Route::NotFound);
        assert_eq!(route("GET", "/dashboard/x"), Route::NotFound);
        assert_eq!(route("GET", "/dashboard/funnel"), Route::Funnel);
        assert_eq!(route("GET", "/dashboard/retention/"), Route::Retention);
        assert_eq!(route("GET", "/dashboard/products"), Route::Products);
        assert_eq!(route("POST", "/dashboard/explore"), Route::MethodNotAllowed);
        assert_eq!(route("DELETE", "/dashboard"), Route::MethodNotAllowed);
    }

    #[test]
    fn routes_segments() {
        let seg = |m, p| match route(m, p) {
            Route::Segments(s) => Some(s),
            _ => None,
        };
        assert_eq!(seg("GET", "/dashboard/segments"), Some(SegmentRoute::List));
        assert_eq!(
            seg("GET", "/dashboard/segments/new"),
            Some(SegmentRoute::Edit(None))
        );
        assert_eq!(
            seg("POST", "/dashboard/segments/new"),
            Some(SegmentRoute::Save(None))
        );
        assert_eq!(
            seg("GET", "/dashboard/segments/vip"),
            Some(SegmentRoute::Edit(Some("vip".into())))
        );
        assert_eq!(
            seg("POST", "/dashboard/segments/vip%2Dx/delete"),
            Some(SegmentRoute::Delete("vip-x".into()))
        );
        assert_eq!(
            seg("POST", "/dashboard/segments/validate"),
            Some(SegmentRoute::Validate)
        );
        assert_eq!(
            route("GET", "/dashboard/segments/validate"),
            Route::Segments(SegmentRoute::Edit(Some("validate".into())))
        );
        assert_eq!(
            route("GET", "/dashboard/segments/vip/delete"),
            Route::MethodNotAllowed
        );
    }

    #[test]
    fn every_route_in_the_table_is_reachable() {
        // Each pattern, with its parameters filled, routes to its own entry (no entry is shadowed).
        for spec in ROUTES {
            let path = spec
                .pattern
                .split('/')
                .map(|s| if s.starts_with(':') { "x1" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            for m in spec.methods {
                let (found, _) = lookup(m, &path).expect("routes");
                assert_eq!(found.pattern, spec.pattern, "{m} {path}");
            }
        }
    }
}
