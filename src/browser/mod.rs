//! The browser seam: the only part of Affinity that touches the DOM.
//!
//! The loader (`/affinity.js`, plain JS) instantiates this module and calls [`start`]. From then
//! on the page module captures behaviour without any code in the shop ([`capture`]), folds every
//! event into the shopper's local [`Profile`] (persisted in `localStorage`), renders the
//! recommendation slots ([`render`]) and batches the events to the edge ([`transport`]).
//!
//! Compiled only for `wasm32-unknown-unknown` with the default `browser` feature.

#[allow(unused_imports)]
use crate::prelude::*;

mod alloc;
#[cfg(feature = "bench")]
pub mod bench;
mod capture;
mod consent;
mod personalize;
mod render;
pub(crate) mod sys;

pub use consent::consent;
pub use sys::install_platform;
mod transport;

use core::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::prelude::*;

use crate::consent::{Level, Policy};
use crate::event::{Event, Kind};
use crate::json::{self, Value};
use crate::profile::Profile;

/// Version reported in `context.library`.
const VERSION: &str = env!("CARGO_PKG_VERSION");
/// `localStorage` keys: everything the plugin keeps on the device.
const KEY_ID: &str = "affinity_id";
const KEY_PROFILE: &str = "affinity_profile";
const KEY_QUEUE: &str = "affinity_queue";
const KEY_CONFIG: &str = "affinity_config";
/// The shopper's chosen consent level, kept at every level (nothing else beside it).
const KEY_CONSENT: &str = "affinity_consent";
/// The flag that predates levels: `1` means the level `none`.
const KEY_OPTOUT: &str = "affinity_optout";
/// Every key but [`KEY_CONSENT`]: what the level `none` may not keep.
const KEYS_DATA: [&str; 4] = [KEY_ID, KEY_PROFILE, KEY_QUEUE, KEY_CONFIG];

/// Everything the page module knows, for the life of the page.
#[derive(Debug)]
struct State {
    /// The shop's public write key.
    key: String,
    /// The edge origin, e.g. `https://edge.example`.
    edge: String,
    /// The device's anonymous id.
    anonymous_id: String,
    /// The shop's id for the shopper, once identified.
    user_id: Option<String>,
    /// The local profile.
    profile: Profile,
    /// Events not yet delivered, as Segment JSON (persisted).
    queue: Vec<Value>,
    /// Message ids in flight, so a flush never sends an event twice at once.
    in_flight: Vec<String>,
    /// A flush is scheduled.
    flush_pending: bool,
    /// The profile and queue changed since they were last saved, and the segment membership
    /// since it was last evaluated: [`persist`] runs when the page is idle.
    dirty: bool,
    /// Events captured but not yet validated, folded into the profile and queued ([`settle`]),
    /// each with the page context it was captured in (shared: it is copied in at idle time).
    pending: Vec<(Event, Rc<Value>)>,
    /// The page context of this page's events, read from the DOM once per page view.
    context: Option<Rc<Value>>,
    /// The shop's id at the edge (from the config; the write key until it is known).
    shop: String,
    /// Share of shoppers, in percent, held out from personalized recommendations.
    holdout_percent: f64,
    /// The shop's segments, compiled (from the config; `None` until known).
    segments: Option<crate::rules::SegmentSet>,
    /// The segments the shopper was in at the last evaluation.
    members: Vec<String>,
    /// The DOM has been parsed and captured.
    dom_ready: bool,
    /// The shop's item model, ranked on the device.
    model: Option<crate::recommend::Model>,
    /// The product shown on this page, if any.
    current_product: Option<String>,
    /// JSON-LD texts seen by the last page capture (SPA navigations skip stale markup).
    seen_markup: Vec<String>,
    /// ISO 4217 currency for prices, from the page's markup (default USD).
    currency: String,
    /// The shopper's choice (stored, set with `affinity.consent` or read from a consent
    /// platform); `None` until one is made.
    choice: Option<Level>,
    /// Where the choice came from (`api`, `tcf`, `gcm`, `shopify`, `optout`, `stored`).
    source: &'static str,
    /// The shop's consent policy, from the config; `None` until a config is known.
    policy: Option<Policy>,
    /// The level in force ([`consent::resolve`]); `None` while the shop's policy is unknown
    /// (nothing is stored or sent then).
    level: Option<Level>,
    /// Events settled while the level was unknown, kept in memory until it is known.
    held: Vec<Value>,
    /// The model the fresh config names, once it has answered: a slower load of the last
    /// config's model does not replace it.
    model_url: Option<String>,
    /// The last delivery from this page was answered: a beacon on page hide may then forget what
    /// it carries. Until a delivery is answered, while the edge fails or a request hangs, beaconed
    /// events stay queued (the next page sends them again; the edge applies each messageId once).
    edge_ok: bool,
}

/// The page module's small allocator (instead of the standard library's dlmalloc).
#[global_allocator]
static ALLOC: alloc::PageAlloc = alloc::PageAlloc::new();

/// The page's one state. wasm32-unknown-unknown without the `atomics` feature runs one thread,
/// so a plain static cell serves (no `thread_local!`, which needs std).
struct Global(RefCell<Option<State>>);
// SAFETY: one thread (see above): no other thread can see the cell.
unsafe impl Sync for Global {}
#[cfg(target_feature = "atomics")]
compile_error!("the page module assumes one thread (no `atomics` target feature)");

static STATE: Global = Global(RefCell::new(None));

/// Runs `f` on the state if [`start`] has run.
fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> Option<R> {
    STATE.0.borrow_mut().as_mut().map(f)
}

/// The page build's panic handler: a trap, as `panic = "abort"` ends in anyway. Nothing formats
/// the message (std's handler would, for a stderr the browser does not have), so `core::fmt` and
/// the panic sites' messages are not linked.
#[cfg(feature = "page")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

/// Starts the plugin: `key` is the shop's write key, `edge` the origin serving `/v1/*`,
/// `choice` a consent choice queued before load (as [`consent::consent`] takes it; `""` when
/// none), applied before anything is stored or sent.
///
/// Called once by the loader. Restores the device's id, profile and undelivered events, captures
/// the page, renders the slots and fetches the shop's model.
#[wasm_bindgen]
pub fn start(key: &str, edge: &str, choice: &str) {
    if with_state(|_| ()).is_some() {
        return;
    }
    let (choice, source) = match consent::parse_choice(choice) {
        Some(level) => (Some(level), "api"),
        None => consent::stored_choice(),
    };
    // At `none` nothing stored is read (and update() below deletes it).
    let load = |key| sys::load(key).filter(|_| choice != Some(Level::None));
    let anonymous_id = load(KEY_ID).unwrap_or_else(sys::random_id);
    let profile = load(KEY_PROFILE)
        .and_then(|text| json::parse(&text).ok())
        .and_then(|v| Profile::from_json(&v).ok())
        .filter(|p| p.customer_id == anonymous_id || p.anonymous_ids.contains(&anonymous_id))
        .unwrap_or_else(|| Profile::new(&anonymous_id));
    let queue = load(KEY_QUEUE)
        .and_then(|text| json::parse(&text).ok())
        .and_then(|v| match v {
            Value::Array(items) => Some(items),
            _ => None,
        })
        .unwrap_or_default();
    let state = State {
        key: key.to_string(),
        edge: edge.trim_end_matches('/').to_string(),
        anonymous_id,
        user_id: profile.user_id.clone(),
        profile,
        queue,
        in_flight: Vec::new(),
        flush_pending: false,
        dirty: false,
        pending: Vec::new(),
        context: None,
        shop: key.to_string(),
        holdout_percent: 0.0,
        segments: None,
        members: Vec::new(),
        dom_ready: false,
        model: None,
        current_product: None,
        seen_markup: Vec::new(),
        currency: "USD".to_string(),
        choice,
        source,
        policy: None,
        level: None,
        held: Vec::new(),
        model_url: None,
        // Nothing on this page has reached the edge yet: a browser takes a beacon even when
        // the edge refuses it, so only an answered delivery lets a beacon forget its events.
        edge_ok: false,
    };
    *STATE.0.borrow_mut() = Some(state);
    consent::update();
    // Last visit's config: segments decide the first paint before the network answers, and its
    // model renders the slots even when the edge does not answer.
    let cached = load(KEY_CONFIG).and_then(|t| json::parse(&t).ok());
    if let Some(config) = &cached {
        with_state(|s| apply_config(s, config));
        consent::update();
    }
    capture::install();
    transport::fetch_model(cached);
    transport::schedule_flush(0);
}

/// Records a custom `track` event, e.g. `affinity.track("Newsletter Subscribed", {...})`.
/// `properties` is JSON text (the loader stringifies the object); invalid JSON is recorded as no
/// properties and reported in the console.
#[wasm_bindgen]
pub fn track(name: &str, properties: &str) {
    let props = parse_object(properties);
    emit(Kind::Track, Some(name), props);
}

/// Records a `page` view of the current URL (SPAs that route without the History API call it).
#[wasm_bindgen]
pub fn page() {
    capture::capture_page();
}

/// Identifies the shopper: `affinity.identify("user-123", {"email": …})`.
#[wasm_bindgen]
pub fn identify(user_id: &str, traits: &str) {
    let traits = parse_object(traits);
    let user = (!user_id.is_empty()).then(|| user_id.to_string());
    with_state(|s| s.user_id = user);
    let mut event = new_event(Kind::Identify, None, Value::object());
    event.traits = traits;
    record(event);
}

/// The local profile as JSON text: what this device knows about the shopper.
#[wasm_bindgen(js_name = profile)]
pub fn profile_json() -> String {
    settle(usize::MAX);
    with_state(|s| s.profile.to_json().to_json()).unwrap_or_default()
}

/// The segments the shopper is in, as a JSON array of names.
#[wasm_bindgen]
pub fn segments() -> String {
    persist();
    with_state(|s| Value::Array(s.members.iter().map(|m| m.as_str().into()).collect()).to_json())
        .unwrap_or_else(|| "[]".to_string())
}

/// Takes the shop config (`{"shop", "holdout_percent", "segments", "model", "version",
/// "consent"}`). The caller re-resolves the consent level ([`consent::update`]).
fn apply_config(s: &mut State, config: &Value) {
    if let Some(shop) = config.get_str("shop") {
        s.shop = shop.to_string();
    }
    s.policy = Some(Policy::from_json(
        config.get("consent").unwrap_or(&Value::Null),
    ));
    s.holdout_percent = config.get_f64("holdout_percent").unwrap_or(0.0);
    personalize::set_segments(s, config.get_str("segments").unwrap_or(""));
}

/// Forgets the shopper on this device: a new anonymous id, an empty profile, no queued events.
#[wasm_bindgen]
pub fn reset() {
    for key in KEYS_DATA {
        sys::remove(key);
    }
    with_state(|s| {
        s.anonymous_id = sys::random_id();
        if stores(s) {
            sys::save(KEY_ID, &s.anonymous_id);
        }
        s.user_id = None;
        s.profile = Profile::new(&s.anonymous_id);
        s.queue.clear();
        s.pending.clear();
        s.held.clear();
    });
    render::render_slots();
}

/// The level in force lets Affinity keep things on the device.
fn stores(s: &State) -> bool {
    s.level.is_some_and(Level::stores)
}

/// Reports a failure in the console as `affinity: <what> <code>`: the page keeps the engine's
/// short error codes only; the edge answers the same input with the full message.
fn warn(what: &str, code: &str) {
    sys::warn(&crate::text::concat(&["affinity: ", what, " ", code]));
}

fn parse_object(text: &str) -> Value {
    match json::parse(if text.is_empty() { "{}" } else { text }) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            warn("properties", "not an object");
            Value::object()
        }
    }
}

/// A new event from this device, with ids and time filled in; [`record`] attaches the page
/// context.
fn new_event(kind: Kind, name: Option<&str>, properties: Value) -> Event {
    let (anon, user) =
        with_state(|s| (s.anonymous_id.clone(), s.user_id.clone())).unwrap_or_default();
    let mut event = Event::track(name.unwrap_or(""), &anon, &sys::random_id(), sys::now_ms());
    event.kind = kind;
    event.name = name.map(str::to_string);
    event.user_id = user;
    event.properties = properties;
    event
}

/// Creates, records and queues an event.
fn emit(kind: Kind, name: Option<&str>, properties: Value) {
    record(new_event(kind, name, properties));
}

/// Saves the profile and the queue and re-evaluates the segment membership, if an event changed
/// them since the last time. Runs when the page is idle after events (a burst of events costs one
/// save), before the page goes away, and before the membership is read.
fn persist() {
    settle(usize::MAX);
    with_state(|s| {
        if !core::mem::take(&mut s.dirty) {
            return;
        }
        // Segments follow every event; the page's content switches only at the next page
        // (personalize::apply), so nothing changes under the shopper's eyes.
        s.members = personalize::members(s);
        if stores(s) {
            sys::save(KEY_PROFILE, &s.profile.to_json().to_json());
            transport::persist_queue(s);
        }
    });
}

/// Most pending events one idle callback settles (about 30 µs each: far from a long task).
const SETTLE_PER_IDLE: usize = 200;

/// Validates up to `limit` pending events with the engine, folds the valid ones into the local
/// profile and queues them for the edge; true when events remain. Runs when the page is idle,
/// and in full before anything reads the profile, the queue or the membership.
fn settle(limit: usize) -> bool {
    let Some(events) = with_state(|s| {
        let n = s.pending.len().min(limit);
        s.pending.drain(..n).collect::<Vec<_>>()
    }) else {
        return false;
    };
    for (mut event, context) in events {
        event.context = Rc::unwrap_or_clone(context);
        // The edge validates with the same rules (`Event::from_json` ends in `check`); refusing
        // here gives the shop's developer the error in the console instead of a silent 400. The
        // page builds its events with the right JSON types, so the rules are all that can fail.
        if let Err(err) = event.check() {
            warn("event", err.message());
            continue;
        }
        let json = event.to_json();
        with_state(|s| {
            s.profile.apply(&event);
            match s.level {
                None => s.held.push(json),
                Some(level) => consent::enqueue(s, json, level),
            }
        });
    }
    with_state(|s| !s.pending.is_empty()).unwrap_or(false)
}

/// The idle-time work after events: settle them in bounded steps, then save.
fn on_idle() {
    if settle(SETTLE_PER_IDLE) {
        sys::when_idle(on_idle);
    } else {
        persist();
    }
}

/// The page context of this page view's events, read from the DOM at its first event.
fn page_context() -> Rc<Value> {
    let cached = with_state(|s| s.context.clone()).flatten();
    cached.unwrap_or_else(|| {
        let context = Rc::new(capture::context());
        with_state(|s| s.context = Some(context.clone()));
        context
    })
}

/// Takes an event for the local profile and the edge, in the current page context. Capturing
/// costs only this push: the engine's validation, the profile fold, saving and the segment
/// membership wait until the page is idle ([`on_idle`]).
fn record(event: Event) {
    let context = page_context();
    let first = with_state(|s| {
        s.pending.push((event, context));
        !core::mem::replace(&mut s.dirty, true)
    });
    if first == Some(true) {
        sys::when_idle(on_idle);
    }
    if first.is_some() {
        transport::schedule_flush(400);
    }
}
