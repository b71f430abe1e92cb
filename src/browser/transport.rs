//! Delivery to the edge: a persisted queue, batched `POST /v1/batch` with `fetch` keepalive while
//! the page lives and `sendBeacon` when it goes away; the model fetch.
//!
//! Bodies are sent as `text/plain` so no CORS preflight is needed. Events stay in the queue until
//! the edge has answered for them; the edge applies each `messageId` once, so a retry after a lost
//! answer is harmless.

#[allow(unused_imports)]
use crate::prelude::*;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

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
        let batch: Vec<Value> = s
            .queue
            .iter()
            .filter(|e| !s.in_flight.contains(&message_id(e)))
            .take(MAX_PER_REQUEST)
            .cloned()
            .collect();
        if batch.is_empty() {
            return None;
        }
        let ids: Vec<String> = batch.iter().map(message_id).collect();
        let mut envelope = Value::object();
        envelope.set("writeKey", s.key.as_str().into());
        envelope.set("sentAt", time::format_rfc3339(sys::now_ms()).into());
        envelope.set("batch", Value::Array(batch));
        Some(([&s.edge, "/v1/batch"].concat(), envelope.to_json(), ids))
    }) else {
        return;
    };
    if beacon {
        let accepted = sys::window()
            .navigator()
            .send_beacon_with_opt_str(&url, Some(&body))
            .unwrap_or(false);
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
    wasm_bindgen_futures::spawn_local(async move {
        let status = post(&url, &body).await;
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

/// Request options of every plugin fetch: no `Referer` (the page URL may carry what the shop
/// put in it, e.g. a checkout's query string; events say what the level allows instead).
fn init() -> web_sys::RequestInit {
    let init = web_sys::RequestInit::new();
    let _ = js_sys::Reflect::set(&init, &"referrerPolicy".into(), &"no-referrer".into());
    init
}

async fn post(url: &str, body: &str) -> Option<u16> {
    let init = init();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    // web-sys has no setter for it: survives navigation like a beacon, but we see the answer.
    let _ = js_sys::Reflect::set(&init, &"keepalive".into(), &JsValue::TRUE);
    let promise = sys::window().fetch_with_str_and_init(url, &init);
    let response: web_sys::Response = JsFuture::from(promise).await.ok()?.dyn_into().ok()?;
    Some(response.status())
}

async fn get(url: &str) -> Option<web_sys::Response> {
    let promise = sys::window().fetch_with_str_and_init(url, &init());
    let response: web_sys::Response = JsFuture::from(promise).await.ok()?.dyn_into().ok()?;
    response.ok().then_some(response)
}

async fn get_text(url: &str) -> Option<String> {
    let response = get(url).await?;
    JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()
}

async fn get_bytes(url: &str) -> Option<Vec<u8>> {
    let response = get(url).await?;
    let buffer = JsFuture::from(response.array_buffer().ok()?).await.ok()?;
    Some(js_sys::Uint8Array::new(&buffer).to_vec())
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
        wasm_bindgen_futures::spawn_local(async move { load_model(url).await });
    }
    let url = [&edge, "/v1/config?key=", &key].concat();
    wasm_bindgen_futures::spawn_local(async move {
        let Some(config) = get_text(&url).await.and_then(|t| json::parse(&t).ok()) else {
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
            Some(url) if Some(&url) != last.as_ref() => load_model(url).await,
            _ => {}
        }
    });
}

/// The model URL a config names, absolute.
fn model_url(edge: &str, config: &Value) -> Option<String> {
    let path = config.get_str("model")?;
    Some(if path.starts_with('/') {
        [edge, path].concat()
    } else {
        path.to_string()
    })
}

/// Loads the model at `url` — from the device first when it keeps that version, else from the
/// network (the browser's HTTP cache holds versions for a year), keeping it on the device where
/// the level allows — and renders the slots with it.
async fn load_model(url: String) {
    let stores = with_state(|s| super::stores(s)) == Some(true);
    let kept = if stores {
        sys::cache_get(&url).await
    } else {
        None
    };
    let bytes = match kept {
        Some(bytes) => bytes,
        None => {
            let Some(bytes) = get_bytes(&url).await else {
                return;
            };
            if with_state(|s| super::stores(s)) == Some(true) {
                sys::cache_put(MODEL_CACHE, &url, &bytes).await;
            }
            bytes
        }
    };
    match Model::decode(&bytes) {
        Ok(model) => {
            let current = with_state(|s| {
                let current = s.model_url.as_ref().is_none_or(|u| *u == url);
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
