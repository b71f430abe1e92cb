//! The page floor: what the page module weighs with the engine alone, no browser seam.
//!
//! `make size-floor` (`.ci/page-floor.sh`) builds a copy of the crate in which this file replaces
//! `src/browser/mod.rs` and every seam module but the allocator and the platform hook (`sys`) is
//! deleted: no capture, rendering, transport, storage or consent state machine, and no DOM. What
//! is left is the engine as a page would have to call it if all of that moved to JavaScript, behind
//! the fewest exports that keep each engine path linked. Never shipped: it answers one question,
//! how small the page module could get by making the seam cheaper (BENCHMARKS.md, "Size").
//!
//! Two variants, chosen when it is built:
//! - full (the default): events in as JSON, validated and folded into the profile and written back
//!   out for the queue; JSON-LD read into e-commerce events; the consent level resolved; the
//!   profile restored and saved; segments decoded and evaluated; the model decoded and ranked;
//! - min (`AFFINITY_FLOOR_MIN` set): only the last three: segments and recommendations over a stored profile.

#[allow(unused_imports)]
use crate::prelude::*;

mod alloc;
pub(crate) mod sys;

pub use sys::install_platform;

use core::cell::RefCell;
use wasm_bindgen::prelude::*;

use crate::event::Event;
use crate::json::{self, Value};
use crate::profile::Profile;
use crate::recommend::{Model, Query, Strategy};
use crate::rules::SegmentSet;
use crate::segments::{Context, ProfileFacts};

/// The `min` variant: segments and recommendations over a stored profile only.
const MIN: bool = option_env!("AFFINITY_FLOOR_MIN").is_some();

#[global_allocator]
static ALLOC: alloc::PageAlloc = alloc::PageAlloc::new();

/// The profile, the shop's segments and its model.
struct Floor {
    profile: Profile,
    segments: Option<SegmentSet>,
    model: Option<Model>,
}

/// The one state (one thread, as in the page module).
struct Global(RefCell<Option<Floor>>);
// SAFETY: wasm32 without atomics runs one thread.
unsafe impl Sync for Global {}

static STATE: Global = Global(RefCell::new(None));

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// Restores the profile from its stored JSON (a new one when it does not decode).
#[wasm_bindgen]
pub fn restore(stored: &str) {
    let profile = json::parse(stored)
        .ok()
        .and_then(|v| Profile::from_json(&v).ok())
        .unwrap_or_else(|| Profile::new("floor"));
    *STATE.0.borrow_mut() = Some(Floor {
        profile,
        segments: None,
        model: None,
    });
}

/// Validates a JSON array of events, folds the valid ones into the profile and answers them as
/// the queue's JSON; each invalid one is reported in the console.
#[wasm_bindgen]
pub fn fold(events: &str, received_ms: f64) -> String {
    let mut queue = Vec::new();
    if !MIN {
        let mut state = STATE.0.borrow_mut();
        if let (Some(s), Ok(Value::Array(items))) = (state.as_mut(), json::parse(events)) {
            for raw in &items {
                match Event::from_json_at(raw, received_ms as i64) {
                    Ok(event) => {
                        s.profile.apply(&event);
                        queue.push(event.to_json());
                    }
                    Err(err) => sys::warn(err.message()),
                }
            }
        }
    }
    Value::Array(queue).to_json()
}

/// The profile as the JSON the device stores.
#[wasm_bindgen]
pub fn save() -> String {
    let state = STATE.0.borrow();
    match state.as_ref() {
        Some(s) if !MIN => s.profile.to_json().to_json(),
        _ => String::new(),
    }
}

/// The e-commerce events' properties that a JSON array of JSON-LD texts describes.
#[wasm_bindgen]
pub fn markup(texts: &str, path: &str) -> String {
    let mut out = Vec::new();
    if !MIN {
        let blocks: Vec<Value> = match json::parse(texts) {
            Ok(Value::Array(texts)) => texts
                .iter()
                .filter_map(|t| json::parse(t.as_str()?).ok())
                .collect(),
            _ => Vec::new(),
        };
        for node in crate::markup::nodes(&blocks) {
            if crate::markup::is_type(node, "Product") {
                out.extend(crate::markup::product(node));
            } else if crate::markup::is_type(node, "ItemList") {
                out.extend(crate::markup::item_list(node, path));
            } else if crate::markup::is_type(node, "Order") {
                out.extend(crate::markup::order(node));
            }
        }
        out.extend(crate::markup::search_query(path).map(Value::from));
    }
    Value::Array(out).to_json()
}

/// The consent level in force for a shop policy (JSON), a choice and the privacy signals.
#[wasm_bindgen]
pub fn level(policy: &str, choice: &str, gpc: bool, dnt: bool) -> String {
    if MIN {
        return String::new();
    }
    let policy = crate::consent::Policy::from_json(&json::parse(policy).unwrap_or(Value::Null));
    let choice = crate::consent::Level::parse(choice).or_else(|| {
        json::parse(choice)
            .ok()
            .and_then(|v| crate::consent::from_categories(&v))
    });
    policy.effective(choice, gpc, dnt).as_str().to_string()
}

/// Installs the shop's compiled segments (base64, as the config carries them).
#[wasm_bindgen]
pub fn segments(encoded: &str) -> bool {
    let set = crate::segments::decode_base64(encoded).and_then(|b| SegmentSet::decode(&b).ok());
    let ok = set.is_some();
    if let Some(s) = STATE.0.borrow_mut().as_mut() {
        s.segments = set;
    }
    ok
}

/// The segments the shopper is in, as a JSON array of names.
#[wasm_bindgen]
pub fn members(
    shop: &str,
    url: String,
    path: String,
    referrer: String,
    user_agent: &str,
) -> String {
    let state = STATE.0.borrow();
    let Some(Floor {
        profile,
        segments: Some(set),
        ..
    }) = state.as_ref()
    else {
        return String::new();
    };
    let campaign = crate::markup::campaign(&url).unwrap_or_default();
    let context = Context {
        url,
        path,
        referrer,
        title: String::new(),
        utm: ["source", "medium", "name", "term", "content"]
            .map(|k| campaign.get_str(k).map(str::to_string)),
        device_type: Some(crate::segments::device_type(user_agent).to_string()),
    };
    let facts = ProfileFacts {
        shop,
        profile,
        context: &context,
    };
    let now = js_sys::Date::now() as i64;
    let names = set
        .evaluate(&facts, now)
        .members()
        .map(Value::from)
        .collect();
    Value::Array(names).to_json()
}

/// Installs the shop's item model.
#[wasm_bindgen]
pub fn model(bytes: &[u8]) -> bool {
    let model = Model::decode(bytes).ok();
    let ok = model.is_some();
    if let Some(s) = STATE.0.borrow_mut().as_mut() {
        s.model = model;
    }
    ok
}

/// The ids a strategy (0 for-you … 5 popular) ranks for the profile, as a JSON array.
#[wasm_bindgen]
pub fn rank(strategy: u32, count: usize, anchor: &str) -> String {
    let state = STATE.0.borrow();
    let Some(Floor {
        profile: p,
        model: Some(model),
        ..
    }) = state.as_ref()
    else {
        return String::new();
    };
    let strategy = match strategy {
        0 => Strategy::ForYou,
        1 => Strategy::Similar,
        2 => Strategy::BoughtTogether,
        3 => Strategy::CartCrossSell,
        4 => Strategy::Trending,
        _ => Strategy::Popular,
    };
    let now = js_sys::Date::now() as i64;
    let mut q = Query::new(strategy, count);
    q.history = p
        .recent
        .iter()
        .rev()
        .map(|v| (v.product.id.clone(), v.at_ms))
        .collect();
    q.anchor = (!anchor.is_empty()).then(|| anchor.to_string());
    q.cart = p.cart.iter().map(|l| l.product.id.clone()).collect();
    q.purchased = p
        .orders
        .iter()
        .flat_map(|o| o.items.iter().cloned())
        .collect();
    for a in &p.categories {
        let affinity = p.category_affinity(&a.key, now) as f32;
        q.category_affinity.push((a.key.clone(), affinity));
    }
    let ranked = model.recommend(&q);
    let ids = ranked
        .iter()
        .filter_map(|r| model.id(r.item))
        .map(Value::from)
        .collect();
    Value::Array(ids).to_json()
}
