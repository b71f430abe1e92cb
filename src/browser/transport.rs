//! Delivery to the edge: a persisted queue, batched `POST /v1/batch` with `fetch` keepalive while
//! the page lives and `sendBeacon` when it goes away; the model fetch.
//!
//! Bodies are sent as `text/plain` so no CORS preflight is needed. Events stay in the queue until
//! the edge has answered for them; the edge applies each `messageId` once, so a retry after a lost
//! answer is harmless.

#[allow(unused_imports)]
use crate::prelude::*;

use super::sys::Answer;
use super::{render, sys, with_state, State, KEY_QUEUE};
use crate::json::{self, Value};
use crate::recommend::Model;
use crate::time;

/// Most events in one request (keeps keepalive bodies well under the browsers' 64 KB).
const MAX_PER_REQUEST: usize = 50;

/// Saves the queue to `localStorage` (where the level lets Affinity store).
pub(super) fn persist_queue(s: &State) {
    if s.queue.is_empty() || !super::stores(s) {
        sys::remove(KEY_QUEUE);
    } else {
        sys::save(KEY_QUEUE, &Value::Array(s.queue.clone()).to_json());
    }
}

/// Flushes after `ms` milliseconds unless a flush is already scheduled (events arriving
/// together travel together).
pub(super) fn schedule_flush(ms: i32) {
    let schedule = with_state(|s| !core::mem::replace(&mut s.flush_pending, true));
    if schedule == Some(true) {
        sys::set_timeout(ms, || {
            with_state(|s| s.flush_pending = false);
            flush(false);
        });
    }
}

fn message_id(event: &Value) -> String {
    event.get_str("messageId").unwrap_or("").to_string()
}

/// Sends queued events. With `beacon`, uses `sendBeacon` (the page is going away; the browser
/// delivers after unload) and forgets what the browser accepted.
pub(super) fn flush(beacon: bool) {
    super::settle(usize::MAX);
    let Some(Some((url, body, ids))) = with_state(|s| {
        // Nothing leaves before the level is known; below `analytics` the queue holds at most
        // the consent change itself (consent::update).
        s.level?;
        let mut batch = Vec::new();
        let mut ids = Vec::new();
        // One pass over the queue (it is bounded): the first MAX_PER_REQUEST not in flight.
        for e in &s.queue {
            let id = message_id(e);
            if batch.len() < MAX_PER_REQUEST && !s.in_flight.contains(&id) {
                batch.push(e.clone());
                ids.push(id);
            }
        }
        if batch.is_empty() {
            return None;
        }
        let mut envelope = Value::object();
        envelope.set("writeKey", s.key.as_str().into());
        envelope.set("sentAt", time::format_rfc3339(sys::now_ms()).into());
        envelope.set("batch", Value::Array(batch));
        Some((
            crate::text::concat(&[&s.edge, "/v1/batch"]),
            envelope.to_json(),
            ids,
        ))
    }) else {
        return;
    };
    if beacon {
        let accepted = sys::send_beacon(&url, &body);
        // The browser takes a beacon without knowing whether it arrives: only while the edge
        // answers (and no request hangs) is it as good as delivered; else the next page resends
        // (the edge applies each messageId once).
        let answered = with_state(|s| s.edge_ok && s.in_flight.is_empty()) == Some(true);
        if accepted && answered {
            delivered(&ids);
        }
        return;
    }
    with_state(|s| s.in_flight.extend(ids.iter().cloned()));
    sys::fetch(&url, Some(&body), Answer::Status, move |answer| {
        let status = answer.as_f64().map(|code| code as u16);
        with_state(|s| {
            s.in_flight.retain(|id| !ids.contains(id));
            s.edge_ok = status.is_some_and(|code| code < 500 && code != 429);
        });
        match status {
            // Delivered, or refused for good (4xx: per-event errors are final; retrying cannot
            // fix them, and the valid events beside them were kept by the edge).
            Some(code) if code < 500 && code != 429 => {
                delivered(&ids);
                let more = with_state(|s| !s.queue.is_empty()).unwrap_or(false);
                if more {
                    schedule_flush(0);
                }
            }
            // Network error, rate limit or server error: keep the events, try again later.
            _ => sys::set_timeout(5_000, || flush(false)),
        }
    });
}

fn delivered(ids: &[String]) {
    with_state(|s| {
        s.queue.retain(|e| !ids.contains(&message_id(e)));
        persist_queue(s);
    });
}

/// Name of the Cache Storage cache that keeps the last model on the device.
const MODEL_CACHE: &str = "affinity";

/// Deletes the model kept on the device.
pub(super) fn forget_model() {
    sys::cache_delete(MODEL_CACHE);
}

/// Fetches the shop's config (shop id, holdout, consent policy, segments, model URL), then the
/// item model it names, and renders the slots that rank with it. `cached` is the last config
/// kept on the device: its model is loaded at once, beside the fetch, so every slot renders
/// when the edge is down, refuses or never answers. The fresh config is kept for the next page
/// (where the level lets Affinity store).
pub(super) fn fetch_model(cached: Option<Value>) {
    let Some((edge, key)) = with_state(|s| (s.edge.clone(), s.key.clone())) else {
        return;
    };
    let last = cached.as_ref().and_then(|c| model_url(&edge, c));
    if let Some(url) = last.clone() {
        load_model(url);
    }
    let url = crate::text::concat(&[&edge, "/v1/config?key=", &key]);
    sys::fetch(&url, None, Answer::Text, move |answer| {
        let Some(config) = answer.as_string().and_then(|t| json::parse(&t).ok()) else {
            return;
        };
        with_state(|s| super::apply_config(s, &config));
        super::consent::update();
        if with_state(|s| super::stores(s)) == Some(true) {
            sys::save(super::KEY_CONFIG, &config.to_json());
        }
        super::personalize::apply();
        let fresh = model_url(&edge, &config);
        with_state(|s| s.model_url = fresh.clone());
        match fresh {
            Some(url) if Some(&url) != last.as_ref() => load_model(url),
            _ => {}
        }
    });
}

/// The model URL a config names, absolute.
fn model_url(edge: &str, config: &Value) -> Option<String> {
    let path = config.get_str("model")?;
    Some(if path.starts_with('/') {
        crate::text::concat(&[edge, path])
    } else {
        path.to_string()
    })
}

/// Loads the model at `url` — from the device first when it keeps that version, else from the
/// network (the browser's HTTP cache holds versions for a year), keeping it on the device where
/// the level allows — and renders the slots with it.
fn load_model(url: String) {
    if with_state(|s| super::stores(s)) == Some(true) {
        sys::cache_get(&url.clone(), move |kept| match kept {
            Some(bytes) => open_model(&url, Model::decode(&bytes)),
            None => download_model(url),
        });
    } else {
        download_model(url);
    }
}

/// Fetches the model at `url`, keeps it on the device where the level allows, then opens it.
fn download_model(url: String) {
    sys::fetch(&url.clone(), None, Answer::Bytes, move |answer| {
        let Some(bytes) = sys::bytes(&answer) else {
            return;
        };
        let model = Model::decode(&bytes);
        if with_state(|s| super::stores(s)) == Some(true) {
            // Rendered once kept: the next page finds the model on the device.
            sys::cache_put(MODEL_CACHE, &url.clone(), &bytes, move || {
                open_model(&url, model)
            });
        } else {
            open_model(&url, model);
        }
    });
}

/// Takes the model decoded from `url` and renders the slots with it, unless a fresher config
/// names another model.
fn open_model(url: &str, decoded: Result<Model, crate::recommend::Error>) {
    match decoded {
        Ok(model) => {
            let current = with_state(|s| {
                let current = s.model_url.as_deref().is_none_or(|u| u == url);
                if current {
                    s.model = Some(model);
                }
                current
            });
            if current == Some(true) {
                render::render_slots();
            }
        }
        Err(err) => {
            super::warn("model", err.message());
        }
    }
}
