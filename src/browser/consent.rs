//! The shopper's consent in the page ([`crate::consent`] has the levels and the table).
//!
//! The level in force is the shopper's choice (stored under `affinity_consent`, set with
//! `affinity.consent(level)` or by a consent platform the loader reads), else the shop's default
//! from the config, capped by Global Privacy Control and Do Not Track as the shop's policy says.
//! While no config is known (a first visit before the edge answers) the level is unknown: events
//! fold into the in-memory profile and wait in memory; nothing is stored or sent.
//!
//! Every change takes effect at once ([`update`]): a lower level deletes what it may not keep
//! (the stored profile, id, config and model, the queue, the identity), a higher one stores and
//! sends from the next event on. When the level drops from one that sends, one last message goes
//! to the edge: the change itself (`Segment Consent Preference Updated`, no identity beyond the
//! device's id), so campaigns learn it; then nothing more.

#[allow(unused_imports)]
use crate::prelude::*;

use std::rc::Rc;
use wasm_bindgen::prelude::*;

use super::{sys, transport, with_state, State, KEYS_DATA, KEY_CONSENT, KEY_ID, KEY_OPTOUT};
use crate::consent::{self, Level};
use crate::event::Kind;
use crate::json::{self, Value};

/// Most undelivered events kept: a shop whose edge is down for days must not fill
/// `localStorage`.
const MAX_QUEUE: usize = 500;

/// A choice as the loader passes it (a level name, or Segment categories as JSON), stored on the
/// device (the level alone, at every level) and the old opt-out flag cleared; `None` for `""`
/// and what names no level (reported in the console).
pub(super) fn parse_choice(choice: &str) -> Option<Level> {
    if choice.is_empty() {
        return None;
    }
    let level = Level::parse(choice).or_else(|| {
        json::parse(choice)
            .ok()
            .and_then(|v| consent::from_categories(&v))
    });
    match level {
        Some(level) => {
            sys::save(KEY_CONSENT, level.as_str());
            sys::remove(KEY_OPTOUT);
        }
        None => super::warn("consent", "unknown level"),
    }
    level
}

/// The choice stored on the device: `affinity_optout=1` (the flag that predates levels) means
/// `none`; else `affinity_consent`.
pub(super) fn stored_choice() -> (Option<Level>, &'static str) {
    if sys::load(KEY_OPTOUT).as_deref() == Some("1") {
        return (Some(Level::None), "optout");
    }
    match sys::load(KEY_CONSENT).as_deref().and_then(Level::parse) {
        Some(level) => (Some(level), "stored"),
        None => (None, "default"),
    }
}

/// The level in force and where it comes from; `None` while the shop's policy is unknown (a
/// choice of `none` needs no policy).
fn resolve(s: &State) -> Option<(Level, &'static str)> {
    if s.choice == Some(Level::None) {
        return Some((Level::None, s.source));
    }
    let policy = s.policy?;
    let (gpc, dnt) = sys::privacy_signals();
    let level = policy.effective(s.choice, gpc, dnt);
    let wanted = policy.effective(s.choice, false, false);
    let source = if level == wanted {
        s.source
    } else if gpc && level == wanted.min(policy.gpc) {
        "gpc"
    } else {
        "dnt"
    };
    Some((level, source))
}

/// Marks an outgoing event with the level it was captured at (Segment's `context.consent`), and
/// takes the identity off below `marketing`. `None` for what the level may not send at all
/// (an `identify` without identity means nothing).
fn stamp(mut json: Value, level: Level, source: &str) -> Option<Value> {
    if !level.identifies() {
        if json.get_str("type") == Some("identify") {
            return None;
        }
        json.remove("userId");
        json.remove("traits");
    }
    let mut context = json.remove("context").unwrap_or_else(Value::object);
    context.set("consent", consent::context_value(level, source));
    json.set("context", context);
    Some(json)
}

/// Queues a settled event for the edge if `level` allows sending.
pub(super) fn enqueue(s: &mut State, json: Value, level: Level) {
    if !level.sends() {
        return;
    }
    let source = resolve(s).map_or(s.source, |(_, source)| source);
    if let Some(json) = stamp(json, level, source) {
        s.queue.push(json);
        let over = s.queue.len().saturating_sub(MAX_QUEUE);
        s.queue.drain(..over);
    }
}

/// Re-resolves the level (after a choice, or a config) and makes the device follow it at once.
pub(super) fn update() {
    // What was captured so far belongs to the level it was captured at.
    super::settle(usize::MAX);
    let Some((old, Some((new, source)))) = with_state(|s| {
        let next = resolve(s);
        let old = s.level;
        if let Some((level, source)) = next {
            s.level = Some(level);
            s.source = source;
        }
        (old, next)
    }) else {
        return;
    };
    if old == Some(new) {
        return;
    }
    // A drop from a level that sends: the change itself is the last message.
    let last = old
        .filter(|o| o.sends() && new < *o)
        .and_then(|_| stamp(change_event().to_json(), new, source));
    with_state(|s| {
        if !new.stores() {
            for key in KEYS_DATA {
                sys::remove(key);
            }
            transport::forget_model();
        }
        if !new.sends() {
            s.queue.clear();
        } else if !new.identifies() {
            for e in core::mem::take(&mut s.queue) {
                s.queue.extend(stamp(e, new, source));
            }
        }
        if old.is_some_and(Level::identifies) && !new.identifies() {
            // The edge knows this device's id beside the shop's user id: a new one keeps what
            // follows pseudonymous.
            s.anonymous_id = sys::random_id();
            s.user_id = None;
            s.profile.customer_id = s.anonymous_id.clone();
            s.profile.anonymous_ids = vec![s.anonymous_id.clone()];
            s.profile.user_id = None;
            s.profile.traits = Value::object();
        }
        for json in core::mem::take(&mut s.held) {
            enqueue(s, json, new);
        }
        s.queue.extend(last);
        if new.stores() {
            sys::save(KEY_ID, &s.anonymous_id);
            sys::save(super::KEY_PROFILE, &s.profile.to_json().to_json());
        }
        transport::persist_queue(s);
    });
    // A rise: the change is the first event the new level sends.
    if old.is_some_and(|o| new > o && new.sends()) {
        super::record(change_event());
    }
    transport::schedule_flush(0);
}

/// The consent change as an event of this device, in the page's context (its
/// `context.consent` is stamped later).
fn change_event() -> crate::event::Event {
    let mut event = super::new_event(Kind::Track, Some(consent::CHANGED), Value::object());
    event.context = Rc::unwrap_or_clone(super::page_context());
    event
}

/// Sets the shopper's consent (`affinity.consent(level)`) and answers the level in force
/// (`""` while unknown). `choice` is a level name, or a JSON object of Segment consent
/// categories (`{"Analytics": true, "Advertising": false}`, what the loader's readers of TCF,
/// Google Consent Mode and Shopify pass); `""` only reads. `source` names who chose: `tcf`,
/// `gcm`, `shopify`, else `api`. An unknown level changes nothing and is reported in the console.
#[wasm_bindgen]
pub fn consent(choice: &str, source: &str) -> String {
    if let Some(level) = parse_choice(choice) {
        let source = match source {
            "tcf" => "tcf",
            "gcm" => "gcm",
            "shopify" => "shopify",
            _ => "api",
        };
        with_state(|s| {
            s.choice = Some(level);
            s.source = source;
        });
        update();
    }
    with_state(|s| s.level.map(Level::as_str))
        .flatten()
        .unwrap_or("")
        .to_string()
}
