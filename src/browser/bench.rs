//! Timing exports for the in-browser benchmark harness (`benches/browser/`), compiled only with
//! the `bench` feature: never part of the shipped page module.
//!
//! Each function runs the operation `reps` times and returns the mean milliseconds per run, timed
//! with `performance.now()` in the page; the harness takes many samples and reports medians.

#[allow(unused_imports)]
use crate::prelude::*;

use core::cell::RefCell;

use wasm_bindgen::prelude::*;

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
