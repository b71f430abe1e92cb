//! Segment content without flicker.
//!
//! Shops mark content with `data-affinity-segment="vip"` (shown only to members) and
//! `data-affinity-segment-not="vip"` (shown only to non-members). The install adds one tiny inline
//! snippet to `<head>` before the tag:
//!
//! ```html
//! <style>[data-affinity-segment]:not([data-affinity-on]){display:none!important}
//! .affinity-wait [data-affinity-segment-not]{visibility:hidden}</style>
//! <script>document.documentElement.classList.add("affinity-wait");
//! setTimeout(function(){document.documentElement.classList.remove("affinity-wait")},1500)</script>
//! ```
//!
//! Members-only content is never painted until this module says the shopper is a member;
//! non-member content waits (keeping its space) until the decision, at most 1.5 s, so a failure
//! never hides content for good. The decision uses the segments cached from the last visit's
//! config and the stored profile, so on a return visit it is made as soon as the Wasm runs and the
//! DOM is parsed; on a first visit it waits for the config.

#[allow(unused_imports)]
use crate::prelude::*;

use wasm_bindgen::JsCast;

use super::{sys, with_state, State};
use crate::rules::SegmentSet;
use crate::segments::{device_type, Context, ProfileFacts};

/// The class the head snippet puts on `<html>` until segments are decided.
const WAIT_CLASS: &str = "affinity-wait";

/// The page's context for rules: URL, referrer, UTM parameters, device.
pub fn page_context() -> Context {
    let page = sys::page();
    let campaign = crate::markup::campaign(&page.search).unwrap_or_default();
    Context {
        url: page.url,
        path: page.path,
        referrer: page.referrer,
        title: page.title,
        utm: ["source", "medium", "name", "term", "content"]
            .map(|k| campaign.get_str(k).map(str::to_string)),
        device_type: Some(device_type(&page.user_agent).to_string()),
    }
}

/// Installs compiled segments (from the shop config) into the state.
pub fn set_segments(s: &mut State, encoded: &str) {
    s.segments =
        crate::segments::decode_base64(encoded).and_then(|bytes| SegmentSet::decode(&bytes).ok());
}

/// The segments the shopper is in now.
pub fn members(s: &State) -> Vec<String> {
    let Some(set) = &s.segments else {
        return Vec::new();
    };
    let context = page_context();
    let facts = ProfileFacts {
        shop: &s.shop,
        profile: &s.profile,
        context: &context,
    };
    set.evaluate(&facts, sys::now_ms())
        .members()
        .map(str::to_string)
        .collect()
}

/// Shows and hides segment content, then reveals the page: once the DOM is parsed and the shop's
/// segments are known (cached or fetched). Before that it does nothing.
pub fn apply() {
    let Some(Some(members)) = with_state(|s| {
        (s.dom_ready && s.segments.is_some()).then(|| {
            s.members = members(s);
            s.members.clone()
        })
    }) else {
        return;
    };
    let doc = sys::document();
    if let Ok(list) = doc.query_selector_all("[data-affinity-segment],[data-affinity-segment-not]")
    {
        for i in 0..list.length() {
            let Some(el) = list
                .item(i)
                .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
            else {
                continue;
            };
            let member = |attr: &str| {
                el.get_attribute(attr)
                    .is_some_and(|name| members.iter().any(|m| *m == name.trim()))
            };
            if el.has_attribute("data-affinity-segment") {
                if member("data-affinity-segment") {
                    let _ = el.set_attribute("data-affinity-on", "");
                } else {
                    let _ = el.remove_attribute("data-affinity-on");
                }
            } else {
                el.set_hidden(member("data-affinity-segment-not"));
            }
        }
    }
    sys::unmark_root(WAIT_CLASS);
}
