//! Timing exports for the in-browser benchmark harness (`benches/browser/`), compiled only with
//! the `bench` feature: never part of the shipped page module.
//!
//! Each function runs the operation `reps` times and returns the mean milliseconds per run, timed
//! with `performance.now()` in the page; the harness takes many samples and reports medians.

#[allow(unused_imports)]
use crate::prelude::*;

use core::cell::RefCell;

use wasm_bindgen::prelude::*;

// The forecasting models are not part of the page build (`page`): their fits are timed in the std
// build (`BENCH_FEATURES=bench make bench-browser`).
#[cfg(not(feature = "page"))]
use crate::forecast::{BgNbd, Customer, GammaGamma, MbgCnbd, ParetoGamma, ParetoNbd, Spend};
use crate::recommend::{Model, Query, Strategy};
use crate::rules::SegmentSet;
use crate::segments::{Context, ProfileFacts};

#[path = "../../benches/fixtures.rs"]
mod fixtures;

/// The fixtures, in a static cell as the page's state (one thread; builds with `page` too, so
/// the harness can time the shipped no_std build).
struct Global(RefCell<Option<Fixtures>>);
// SAFETY: wasm32-unknown-unknown without `atomics` runs one thread.
unsafe impl Sync for Global {}
static FIXTURES: Global = Global(RefCell::new(None));

struct Fixtures {
    segments: SegmentSet,
    trivial: SegmentSet,
    profile: crate::profile::Profile,
    context: Context,
    model: Model,
}

fn now() -> f64 {
    super::sys::window().performance().map_or(0.0, |p| p.now())
}

/// Builds the fixtures (100 segments parsed and compiled, a 200-event profile, a 10,000-item
/// model encoded and decoded as the page receives it). Returns `[model bytes, decode ms]`.
#[wasm_bindgen]
pub fn bench_setup() -> Vec<f64> {
    let texts = fixtures::segments_100();
    let parsed = texts
        .iter()
        .map(|(n, t)| {
            (
                n.clone(),
                crate::rules::parse(t).expect_throw("fixture rules parse"),
            )
        })
        .collect();
    let segments = SegmentSet::new(parsed).expect_throw("fixture segments compile");
    let segments = SegmentSet::decode(&segments.encode()).expect_throw("compiled segments decode");
    let trivial = (0..100)
        .map(|i| {
            (
                format!("t{i}"),
                crate::rules::parse("orders >= 0").expect_throw("parses"),
            )
        })
        .collect();
    let trivial = SegmentSet::new(trivial).expect_throw("compiles");
    let bytes = fixtures::synthetic_model(10_000).encode();
    let t = now();
    let model = Model::decode(&bytes).expect_throw("fixture model decodes");
    let decode_ms = now() - t;
    let context = Context {
        url: "https://shop.example/c/tents/?utm_source=newsletter".into(),
        path: "/c/tents/".into(),
        utm: [Some("newsletter".into()), None, None, None, None],
        device_type: Some("mobile".into()),
        ..Context::default()
    };
    *FIXTURES.0.borrow_mut() = Some(Fixtures {
        segments,
        trivial,
        profile: fixtures::profile_200(),
        context,
        model,
    });
    vec![bytes.len() as f64, decode_ms]
}

fn timed(reps: u32, mut f: impl FnMut(&Fixtures) -> usize) -> f64 {
    let fx = FIXTURES.0.borrow();
    let fx = fx.as_ref().expect_throw("call bench_setup first");
    let mut sink = 0;
    let t = now();
    for _ in 0..reps {
        sink += f(fx);
    }
    let ms = (now() - t) / f64::from(reps.max(1));
    // Keep the work observable so it is not optimised away.
    if sink == usize::MAX {
        web_sys::console::log_1(&"unreachable".into());
    }
    ms
}

/// Mean ms to evaluate the 100 merchant segments against the 200-event profile.
#[wasm_bindgen]
pub fn bench_rules(reps: u32) -> f64 {
    timed(reps, |fx| {
        let facts = ProfileFacts {
            shop: "bench",
            profile: &fx.profile,
            context: &fx.context,
        };
        fx.segments
            .evaluate(&facts, fixtures::NOW)
            .members()
            .count()
    })
}

/// Baseline in the same page: 100 trivial segments (`orders >= 0`) against the same profile.
#[wasm_bindgen]
pub fn bench_rules_baseline(reps: u32) -> f64 {
    timed(reps, |fx| {
        let facts = ProfileFacts {
            shop: "bench",
            profile: &fx.profile,
            context: &fx.context,
        };
        fx.trivial.evaluate(&facts, fixtures::NOW).members().count()
    })
}

/// Mean ms for a top-20 with `strategy` (`for-you`, `similar`, `popular`) on the 10k model.
#[wasm_bindgen]
pub fn bench_recommend(strategy: &str, reps: u32) -> f64 {
    let strategy = match strategy {
        "for-you" => Strategy::ForYou,
        "similar" => Strategy::Similar,
        _ => Strategy::Popular,
    };
    let mut q = Query::new(strategy, 20);
    for (t, i) in [4210u64, 4233, 4207, 4250, 4211, 4299, 4201, 4222]
        .iter()
        .enumerate()
    {
        q.viewed(&fixtures::product_id(*i), t as i64 * 1_000);
    }
    q.anchor = Some(fixtures::product_id(4222));
    q.cart = vec![fixtures::product_id(4203)];
    q.category_affinity = vec![("c8".into(), 1.0), ("c3".into(), 0.4)];
    timed(reps, |fx| fx.model.recommend(&q).len())
}

#[cfg(not(feature = "page"))]
/// The CDNOW 2,357-customer cohort's summaries (weeks 1–39; x, tₓ, T, mean repeat spend), the
/// file the native criterion bench reads, compiled into the bench module only.
#[cfg(not(feature = "page"))]
const CDNOW: &str =
    include_str!("../../../shared/data/cdnow/cdnow_customers_summary_with_transactions.csv");

/// The parsed cohort, in a static cell as [`FIXTURES`] (one thread).
#[cfg(not(feature = "page"))]
struct Cohort(RefCell<Option<(Vec<Customer>, Vec<Spend>)>>);
// SAFETY: wasm32-unknown-unknown without `atomics` runs one thread.
#[cfg(not(feature = "page"))]
unsafe impl Sync for Cohort {}
#[cfg(not(feature = "page"))]
static COHORT: Cohort = Cohort(RefCell::new(None));

/// Parses the CDNOW cohort (once) and returns `[customers, customers with repeat spend, BG/NBD LL,
/// Pareto/NBD LL, Gamma-Gamma LL]` (the log-likelihoods of one fit each, to check that the wasm32
/// fits reach the published optimum).
#[cfg(not(feature = "page"))]
#[wasm_bindgen]
pub fn bench_forecast_setup() -> Vec<f64> {
    let (customers, spends): (Vec<Customer>, Vec<Spend>) = CDNOW
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<f64> = line
                .split(',')
                .map(|v| v.parse().expect_throw("a number"))
                .collect();
            let x = f[1] as u32;
            let c = Customer::new(x, f[2], f[3]).expect_throw("a summary");
            let s = Spend {
                frequency: x,
                mean_value: f[4],
            };
            (c, s)
        })
        .unzip();
    let repeaters = spends.iter().filter(|s| s.frequency > 0).count();
    let ll = [
        BgNbd::fit(&customers).map(|f| f.log_likelihood),
        ParetoNbd::fit(&customers).map(|f| f.log_likelihood),
        GammaGamma::fit(&spends).map(|f| f.log_likelihood),
    ];
    let mut out = vec![customers.len() as f64, repeaters as f64];
    out.extend(ll.map(|l| l.expect_throw("the fit converges")));
    *COHORT.0.borrow_mut() = Some((customers, spends));
    out
}

/// Mean ms to fit `model` (`bgnbd`, `pareto`, `pareto-gamma-0.7` (Affinity's ranking model),
/// `mbgcnbd-1`, `mbgcnbd-3`, `gamma-gamma`) to the CDNOW cohort.
#[cfg(not(feature = "page"))]
#[wasm_bindgen]
pub fn bench_fit(model: &str, reps: u32) -> f64 {
    {
        let c = COHORT.0.borrow();
        let (customers, spends) = c.as_ref().expect_throw("call bench_forecast_setup first");
        let mut sink = 0.0;
        let t = now();
        for _ in 0..reps {
            sink += match model {
                "bgnbd" => BgNbd::fit(customers).map(|f| f.log_likelihood),
                "pareto" => ParetoNbd::fit(customers).map(|f| f.log_likelihood),
                "pareto-gamma-0.7" => {
                    ParetoGamma::fit_given_k(customers, 0.7).map(|f| f.log_likelihood)
                }
                "mbgcnbd-1" => MbgCnbd::fit(customers, 1).map(|f| f.log_likelihood),
                "mbgcnbd-3" => MbgCnbd::fit(customers, 3).map(|f| f.log_likelihood),
                _ => GammaGamma::fit(spends).map(|f| f.log_likelihood),
            }
            .expect_throw("the fit converges");
        }
        let ms = (now() - t) / f64::from(reps.max(1));
        if sink == f64::MAX {
            web_sys::console::log_1(&"unreachable".into());
        }
        ms
    }
}
