//! Ranking: strategies, merchandising rules, reasons.

#[allow(unused_imports)]
use crate::prelude::*;

use super::model::{Model, Rows};

/// Longest history the for-you strategy reads (the most recent items).
const MAX_HISTORY: usize = 20;
/// How many of the most recent items expand two steps (next of next).
const HOP_ITEMS: usize = 2;

/// What a recommendation slot shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Personal: the session's recent items (next clicks, viewed together, repeats), the cart and
    /// purchases (bought together), category affinities; falls back to trending.
    ForYou,
    /// Similar / viewed together with the query's anchor item; falls back to popular in the
    /// anchor's category, then trending.
    Similar,
    /// Frequently bought together with the anchor item (or the cart when there is no anchor);
    /// falls back to viewed together, popular in category, trending.
    BoughtTogether,
    /// Time-decayed popularity.
    Trending,
    /// All-time popularity (click counts).
    Popular,
    /// The query's own history, most recent first (no fill).
    RecentlyViewed,
    /// Cross-sell for the cart: bought together, then viewed together with the cart items.
    CartCrossSell,
}

/// Every strategy, for tests and tools that sweep them all. Not in the page build: the page never
/// iterates the strategies, and the constant moved its module's layout (+182 B brotli).
#[cfg(not(all(feature = "page", target_arch = "wasm32", target_os = "unknown")))]
impl Strategy {
    /// Every strategy, in declaration order.
    pub const ALL: [Strategy; 7] = [
        Strategy::ForYou,
        Strategy::Similar,
        Strategy::BoughtTogether,
        Strategy::Trending,
        Strategy::Popular,
        Strategy::RecentlyViewed,
        Strategy::CartCrossSell,
    ];
}

/// Put an item at a fixed position of a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// 0-based position in the result list.
    pub position: usize,
    /// The shop's item id.
    pub id: String,
}

/// Multiply the score of an item, or of every item in a category, by `factor`.
#[derive(Debug, Clone, PartialEq)]
pub enum Boost {
    /// One item.
    Item {
        /// The shop's item id.
        id: String,
        /// Score multiplier (> 1 promotes, < 1 demotes).
        factor: f32,
    },
    /// Every item of a category.
    Category {
        /// The category name, as in the item metadata.
        category: String,
        /// Score multiplier (> 1 promotes, < 1 demotes).
        factor: f32,
    },
}

/// Merchandising rules of one slot. An item that fails any exclusion is never shown, pinned or
/// not. Items without metadata pass the stock rule; an unknown category fails an include list and
/// an unknown price fails a price bound.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotRules {
    /// Hide items whose metadata says they are out of stock (default true).
    pub exclude_out_of_stock: bool,
    /// Hide items the shopper already bought (default true).
    pub exclude_purchased: bool,
    /// Hide items already in the cart (default true).
    pub exclude_cart: bool,
    /// Hide these items.
    pub exclude_items: Vec<String>,
    /// When not empty, show only items of these categories.
    pub include_categories: Vec<String>,
    /// Hide items of these categories.
    pub exclude_categories: Vec<String>,
    /// Lowest price shown, in cents.
    pub min_price_cents: Option<u32>,
    /// Highest price shown, in cents.
    pub max_price_cents: Option<u32>,
    /// Items placed at fixed positions (when they pass the exclusions).
    pub pins: Vec<Pin>,
    /// Score multipliers.
    pub boosts: Vec<Boost>,
}

impl Default for SlotRules {
    fn default() -> Self {
        SlotRules {
            exclude_out_of_stock: true,
            exclude_purchased: true,
            exclude_cart: true,
            exclude_items: Vec::new(),
            include_categories: Vec::new(),
            exclude_categories: Vec::new(),
            min_price_cents: None,
            max_price_cents: None,
            pins: Vec::new(),
            boosts: Vec::new(),
        }
    }
}

/// One ranking request: everything comes from the shopper's own device (profile + session).
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// What the slot shows.
    pub strategy: Strategy,
    /// How many items to return at most.
    pub count: usize,
    /// Recently viewed items, oldest first, with their view time in Unix milliseconds.
    pub history: Vec<(String, i64)>,
    /// The item the slot is about (product page), for similar / bought together; never shown.
    pub anchor: Option<String>,
    /// Items in the cart.
    pub cart: Vec<String>,
    /// Items the shopper bought before.
    pub purchased: Vec<String>,
    /// Category affinities from the profile (any non-negative scale; the largest counts as 1).
    pub category_affinity: Vec<(String, f32)>,
    /// Merchandising rules of the slot.
    pub rules: SlotRules,
}

impl Query {
    /// A query for `count` items with `strategy`, no signals and the default rules.
    pub fn new(strategy: Strategy, count: usize) -> Query {
        Query {
            strategy,
            count,
            history: Vec::new(),
            anchor: None,
            cart: Vec::new(),
            purchased: Vec::new(),
            category_affinity: Vec::new(),
            rules: SlotRules::default(),
        }
    }

    /// Append a viewed item to the history.
    pub fn viewed(&mut self, id: &str, at_ms: i64) -> &mut Self {
        self.history.push((id.to_string(), at_ms));
        self
    }
}

/// Why an item is recommended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Viewed together with / after an item the shopper viewed.
    ViewedTogether {
        /// The shopper's item (model index) that led here.
        because: u32,
    },
    /// Bought together with an item in the cart, bought before, or the anchor.
    BoughtTogether {
        /// The item (model index) it is bought with.
        because: u32,
    },
    /// The shopper viewed it recently.
    RecentlyViewed,
    /// Popular in a category: the category of the item `of` (the shopper's or the anchor's),
    /// named by [`Reason::text`].
    PopularIn {
        /// The item (model index) whose category it is.
        of: u32,
    },
    /// Trending now (time-decayed popularity).
    Trending,
    /// Popular overall.
    Popular,
    /// Placed by the merchant.
    Pinned,
}

impl Reason {
    /// A short text for the shopper, e.g. "Because you viewed Red shoe". Item names come from the
    /// model's metadata (the item id when there is none).
    pub fn text(&self, model: &Model) -> String {
        let name = |i: u32| {
            model
                .name(i)
                .filter(|n| !n.is_empty())
                .or_else(|| model.id(i))
                .unwrap_or("an item")
        };
        match self {
            Reason::ViewedTogether { because } => {
                crate::text::concat(&["Because you viewed ", name(*because)])
            }
            Reason::BoughtTogether { because } => {
                crate::text::concat(&["Often bought with ", name(*because)])
            }
            Reason::RecentlyViewed => "Recently viewed".to_string(),
            Reason::PopularIn { of } => {
                crate::text::concat(&["Popular in ", model.category(*of).unwrap_or("")])
            }
            Reason::Trending => "Trending now".to_string(),
            Reason::Popular => "Popular right now".to_string(),
            Reason::Pinned => "Featured".to_string(),
        }
    }
}

/// One recommended item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// Model index of the item ([`Model::id`] gives the shop's id).
    pub item: u32,
    /// Score (comparable within one result list only; fill items score 0).
    pub score: f32,
    /// Why it is shown.
    pub reason: Reason,
}

/// Sparse score accumulator: only items reached through neighbour lists.
///
/// Entries in first-reached order plus a dense item → entry index, not a hash map: the page
/// then links no hashing (SipHash, hashbrown: about 14 KB of code). Every per-item update is
/// independent and the result is sorted by score, then item, so the order is not observable.
struct Acc {
    /// `slot[item]`: index into `entries`, or `u32::MAX` when the item has no score yet.
    slot: Vec<u32>,
    /// `(item, score, best contribution, the reason of the best contribution)`.
    entries: Vec<(u32, f32, f32, Reason)>,
}

impl Acc {
    /// An empty accumulator for a model of `n` items.
    fn new(n: usize) -> Acc {
        Acc {
            slot: vec![u32::MAX; n],
            entries: Vec::new(),
        }
    }

    /// Adds `w` to `item`'s score; the best single contribution gives the reason. (One copy in
    /// the page, where size counts; inlined natively, where the evaluator ranks millions of times.)
    #[cfg_attr(feature = "page", inline(never))]
    fn add(&mut self, item: u32, w: f32, why: Reason) {
        if w.is_nan() || w <= 0.0 {
            return;
        }
        let i = item as usize;
        if i >= self.slot.len() {
            self.slot.resize(i + 1, u32::MAX);
        }
        match self.entries.get_mut(self.slot[i] as usize) {
            Some(e) => {
                e.1 += w;
                if w > e.2 {
                    e.2 = w;
                    e.3 = why;
                }
            }
            None => {
                self.slot[i] = self.entries.len() as u32;
                self.entries.push((item, w, w, why));
            }
        }
    }

    /// Adds `factor × weight` for every neighbour of `source` in `rows`.
    #[cfg_attr(feature = "page", inline(never))]
    fn spread(&mut self, rows: &Rows, source: u32, factor: f32, why: Reason) {
        for (j, w) in rows.row(source) {
            self.add(j, factor * w, why);
        }
    }

    /// Multiplies each entry's score by `f(item)`.
    fn scale(&mut self, mut f: impl FnMut(u32) -> f32) {
        for e in &mut self.entries {
            e.1 *= f(e.0);
        }
    }
}

/// A set of item indices as a dense bit per item (see [`Acc`] for why not a hash set).
struct ItemSet(Vec<bool>);

impl ItemSet {
    fn new(n: usize) -> ItemSet {
        ItemSet(vec![false; n])
    }

    fn contains(&self, item: u32) -> bool {
        self.0.get(item as usize).copied().unwrap_or(false)
    }

    /// Adds `item`; true when it was not in the set.
    fn insert(&mut self, item: u32) -> bool {
        let i = item as usize;
        if i >= self.0.len() {
            self.0.resize(i + 1, false);
        }
        !core::mem::replace(&mut self.0[i], true)
    }
}

/// What a slot may show: the excluded items and the item-level rules.
struct Allowed<'a> {
    model: &'a Model,
    excluded: ItemSet,
    rules: &'a SlotRules,
}

impl Allowed<'_> {
    #[cfg_attr(feature = "page", inline(never))]
    fn ok(&self, i: u32) -> bool {
        !self.excluded.contains(i) && self.model.passes(i, self.rules)
    }
}

/// A result entry with no score.
fn fill(item: u32, reason: Reason) -> Scored {
    Scored {
        item,
        score: 0.0,
        reason,
    }
}

impl Model {
    /// The model indices of the known ids among `ids`.
    fn known(&self, ids: &[String]) -> Vec<u32> {
        let mut out = Vec::new();
        for id in ids {
            if let Some(i) = self.index_of(id) {
                out.push(i);
            }
        }
        out
    }

    /// Rank items for `query`: strategy scores over neighbour lists only, merchandising rules,
    /// boosts, pins, then a fallback fill. Deterministic: ties are broken by item index.
    /// An empty model returns an empty list.
    pub fn recommend(&self, query: &Query) -> Vec<Scored> {
        if self.is_empty() || query.count == 0 {
            return Vec::new();
        }
        let anchor = query.anchor.as_deref().and_then(|a| self.index_of(a));
        let cart = self.known(&query.cart);
        let purchased = self.known(&query.purchased);
        let rules = &query.rules;
        let mut excluded = ItemSet::new(self.len());
        let mut out = self.known(&rules.exclude_items);
        out.extend(anchor);
        if rules.exclude_cart {
            out.extend_from_slice(&cart);
        }
        if rules.exclude_purchased {
            out.extend_from_slice(&purchased);
        }
        for i in out {
            excluded.insert(i);
        }
        let allowed = Allowed {
            model: self,
            excluded,
            rules,
        };

        let mut acc = Acc::new(self.len());
        let p = self.params;
        // The item whose category fills a short list.
        let mut fill_from: Option<u32> = None;
        match query.strategy {
            Strategy::ForYou => {
                let start = query.history.len().saturating_sub(MAX_HISTORY);
                let mut r = 1.0f32;
                let mut back = 0;
                for (id, _) in query.history[start..].iter().rev() {
                    let Some(i) = self.index_of(id) else {
                        continue;
                    };
                    let why = Reason::ViewedTogether { because: i };
                    if back < HOP_ITEMS {
                        for (rows, weight) in
                            [(&self.next, p.hop), (&self.together, p.hop_together)]
                        {
                            if weight <= 0.0 {
                                continue;
                            }
                            for (j, w) in rows.row(i) {
                                acc.spread(rows, j, weight * r * w, why);
                            }
                        }
                    }
                    acc.add(i, p.repeat * r, Reason::RecentlyViewed);
                    acc.spread(&self.next, i, p.next * r, why);
                    acc.spread(&self.together, i, p.together * r, why);
                    r *= p.decay;
                    fill_from = fill_from.or(Some(i));
                    back += 1;
                }
                for &c in cart.iter().chain(&purchased) {
                    acc.spread(
                        &self.bought,
                        c,
                        p.bought,
                        Reason::BoughtTogether { because: c },
                    );
                }
                if p.popularity > 0.0 {
                    for e in &mut acc.entries {
                        e.1 += p.popularity * self.pop_score(e.0);
                    }
                }
                self.apply_affinity(&mut acc, &query.category_affinity);
            }
            Strategy::Similar => {
                if let Some(a) = anchor {
                    acc.spread(
                        &self.together,
                        a,
                        1.0,
                        Reason::ViewedTogether { because: a },
                    );
                    acc.spread(&self.next, a, 1.0, Reason::ViewedTogether { because: a });
                    fill_from = Some(a);
                }
            }
            Strategy::BoughtTogether | Strategy::CartCrossSell => {
                let sources: Vec<u32> = match (query.strategy, anchor) {
                    (Strategy::BoughtTogether, Some(a)) => vec![a],
                    _ => cart,
                };
                for &s in &sources {
                    acc.spread(&self.bought, s, 1.0, Reason::BoughtTogether { because: s });
                }
                // Viewed-together as a weaker second tier, below every bought-together score.
                for &s in &sources {
                    acc.spread(
                        &self.together,
                        s,
                        1e-3,
                        Reason::ViewedTogether { because: s },
                    );
                }
                fill_from = sources.first().copied();
            }
            Strategy::Trending | Strategy::Popular => {}
            Strategy::RecentlyViewed => return self.recently_viewed(query, &allowed),
        }
        for b in &rules.boosts {
            match b {
                Boost::Item { id, factor } => {
                    let hit = self.index_of(id);
                    acc.scale(|j| if Some(j) == hit { factor.max(0.0) } else { 1.0 });
                }
                Boost::Category { category, factor } => acc.scale(|j| {
                    if self.category(j) == Some(category.as_str()) {
                        factor.max(0.0)
                    } else {
                        1.0
                    }
                }),
            }
        }

        // By score (descending, in `total_cmp` order), then item: one integer key each, sorted
        // as keys (the entries themselves are not moved); only the first `count` are read.
        let mut keys: Vec<(u64, u32)> = Vec::with_capacity(acc.entries.len());
        for (k, &(item, score, _, _)) in acc.entries.iter().enumerate() {
            if allowed.ok(item) {
                let bits = score.to_bits();
                let ascending = if bits >> 31 == 1 {
                    !bits
                } else {
                    bits | 1 << 31
                };
                keys.push((u64::from(!ascending) << 32 | u64::from(item), k as u32));
            }
        }
        let mut ranked: Vec<Scored> = Vec::with_capacity(query.count);
        for (_, k) in crate::sort::sort_keys(keys).into_iter().take(query.count) {
            let (item, score, _, reason) = acc.entries[k as usize];
            ranked.push(Scored {
                item,
                score,
                reason,
            });
        }
        ranked.truncate(query.count);
        if ranked.len() < query.count {
            self.fill(&mut ranked, query, fill_from, &allowed);
        }
        self.place_pins(ranked, query, &allowed)
    }

    /// The fallback chain of a short list: popular in the category of item `from`, then trending
    /// (or popular), skipping items already listed.
    #[inline(never)]
    fn fill(&self, ranked: &mut Vec<Scored>, query: &Query, from: Option<u32>, allowed: &Allowed) {
        let mut have = ItemSet::new(self.len());
        for s in ranked.iter() {
            have.insert(s.item);
        }
        let popular = query.strategy == Strategy::Popular;
        let rest = if popular {
            (&self.pop_order, Reason::Popular)
        } else {
            (&self.trend_order, Reason::Trending)
        };
        let cat = from.and_then(|i| self.category(i));
        let first = from
            .filter(|_| cat.is_some())
            .map(|of| (&self.pop_order, Reason::PopularIn { of }));
        for (order, reason) in first.into_iter().chain([rest]) {
            let in_cat = matches!(reason, Reason::PopularIn { .. });
            for &i in order {
                if ranked.len() >= query.count {
                    return;
                }
                if (!in_cat || self.category(i) == cat) && allowed.ok(i) && have.insert(i) {
                    ranked.push(fill(i, reason));
                }
            }
        }
    }

    /// The query's history, most recent first (later views first among equal times), once each.
    #[inline(never)]
    fn recently_viewed(&self, query: &Query, allowed: &Allowed) -> Vec<Scored> {
        // Latest position first, then a stable sort by time (descending).
        let mut hist: Vec<(i64, &str)> = Vec::with_capacity(query.history.len());
        for (id, t) in query.history.iter().rev() {
            hist.push((*t, id));
        }
        crate::sort::sort_by_u64(&mut hist, |&(t, _)| !((t as u64) ^ 1 << 63));
        let mut out: Vec<Scored> = Vec::new();
        for (_, id) in hist {
            if let Some(i) = self.index_of(id) {
                if allowed.ok(i) && !out.iter().any(|s| s.item == i) {
                    out.push(fill(i, Reason::RecentlyViewed));
                }
            }
        }
        self.place_pins(out, query, allowed)
    }

    /// Multiply scores by `1 + affinity` (affinities scaled so the largest is 1).
    fn apply_affinity(&self, acc: &mut Acc, aff: &[(String, f32)]) {
        let mut max = 0.0f32;
        for &(_, a) in aff {
            if a.is_finite() {
                max = max.max(a);
            }
        }
        if max <= 0.0 || !self.has_meta() {
            return;
        }
        acc.scale(|j| {
            if let Some(cat) = self.category(j) {
                if let Some(&(_, a)) = aff.iter().find(|(c, _)| c == cat) {
                    if a.is_finite() && a > 0.0 {
                        return 1.0 + a / max;
                    }
                }
            }
            1.0
        });
    }

    /// Item-level rules: stock, categories, price.
    fn passes(&self, i: u32, rules: &SlotRules) -> bool {
        // The compact metadata facts: no item metadata is built while ranking.
        if rules.exclude_out_of_stock && self.in_stock(i) == Some(false) {
            return false;
        }
        let cat = self.category(i);
        if !rules.include_categories.is_empty()
            && !cat.is_some_and(|c| rules.include_categories.iter().any(|x| x == c))
        {
            return false;
        }
        if cat.is_some_and(|c| rules.exclude_categories.iter().any(|x| x == c)) {
            return false;
        }
        if rules.min_price_cents.is_some() || rules.max_price_cents.is_some() {
            let Some(price) = self.price_cents(i) else {
                return false;
            };
            if rules.min_price_cents.is_some_and(|lo| price < lo)
                || rules.max_price_cents.is_some_and(|hi| price > hi)
            {
                return false;
            }
        }
        true
    }

    /// Put pinned items at their positions (pins by position, in their order on equal positions;
    /// an allowed, known item only, once), removing them from the ranked list, and cut to `count`.
    #[inline(never)]
    fn place_pins(&self, mut ranked: Vec<Scored>, query: &Query, allowed: &Allowed) -> Vec<Scored> {
        let count = query.count;
        // Kept sorted by position as they are added (a handful at most).
        let mut pins: Vec<(usize, u32)> = Vec::new();
        for pin in &query.rules.pins {
            if let Some(i) = self.index_of(&pin.id) {
                if pin.position < count && allowed.ok(i) && !pins.iter().any(|&(_, j)| j == i) {
                    let at = pins.iter().filter(|&&(p, _)| p <= pin.position).count();
                    pins.insert(at, (pin.position, i));
                }
            }
        }
        if !pins.is_empty() {
            ranked.retain(|s| !pins.iter().any(|&(_, i)| i == s.item));
            // Each pin at its position, after the pin before it, or at the end of a list too
            // short to reach it.
            let mut next = 0;
            for (p, i) in pins {
                let at = p.max(next).min(ranked.len());
                ranked.insert(at, fill(i, Reason::Pinned));
                next = at + 1;
            }
        }
        ranked.truncate(count);
        ranked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::{ItemMeta, ModelBuilder};

    fn meta(name: &str, cat: &str, price: u32, in_stock: bool) -> ItemMeta {
        ItemMeta {
            name: name.into(),
            price_cents: Some(price),
            category: Some(cat.into()),
            in_stock,
            ..ItemMeta::default()
        }
    }

    fn shop() -> Model {
        let mut b = ModelBuilder::new();
        b.min_support(1);
        for _ in 0..3 {
            b.add_session(&[("a", 0), ("b", 1), ("c", 2)]);
        }
        b.add_session(&[("a", 3), ("d", 4)]);
        b.add_session(&[("e", 5), ("e", 6), ("f", 7)]);
        b.add_order(&["a", "g"]);
        b.add_order(&["a", "g"]);
        b.set_meta("a", meta("Alpha", "Shoes", 1000, true));
        b.set_meta("b", meta("Beta", "Shoes", 2000, true));
        b.set_meta("c", meta("Gamma", "Hats", 3000, true));
        b.set_meta("d", meta("Delta", "Shoes", 4000, false));
        b.set_meta("e", meta("Eps", "Hats", 500, true));
        b.set_meta("f", meta("Phi", "Bags", 600, true));
        b.set_meta("g", meta("Gee", "Socks", 700, true));
        b.build()
    }

    fn ids(m: &Model, r: &[Scored]) -> Vec<String> {
        r.iter()
            .map(|s| m.id(s.item).unwrap().to_string())
            .collect()
    }

    #[test]
    fn for_you_uses_session_and_explains() {
        let m = shop();
        let mut q = Query::new(Strategy::ForYou, 3);
        q.viewed("a", 10);
        // The viewed item itself may come back (repeat consumption): it is explained as such.
        let r = m.recommend(&q);
        assert_eq!(ids(&m, &r)[..2], ["a", "b"]);
        assert_eq!(r[0].reason, Reason::RecentlyViewed);
        let r = r[1..].to_vec();
        assert_eq!(
            r[0].reason,
            Reason::ViewedTogether {
                because: m.index_of("a").unwrap()
            }
        );
        assert_eq!(r[0].reason.text(&m), "Because you viewed Alpha");
        // Out-of-stock d never shows.
        assert!(!ids(&m, &r).contains(&"d".to_string()));
    }

    #[test]
    fn two_step_viewed_together_reaches_items_no_session_shared() {
        // x and z were never in one session; each was viewed with y. Only the viewed-together
        // two-step reaches z from x (Next goes x → y and z → y, so its two-step stops at y).
        let mut b = ModelBuilder::new();
        b.min_support(1);
        b.add_session(&[("x", 0), ("y", 1)]);
        b.add_session(&[("z", 2), ("y", 3)]);
        let mut m = b.build();
        let z = m.index_of("z").unwrap();
        let x = m.index_of("x").unwrap();
        let mut q = Query::new(Strategy::ForYou, 3);
        q.viewed("x", 10);
        let scored = |m: &Model| {
            m.recommend(&q)
                .into_iter()
                .find(|s| s.item == z)
                .filter(|s| s.score > 0.0)
        };
        let hit = scored(&m).expect("z reached through y");
        assert_eq!(hit.reason, Reason::ViewedTogether { because: x });
        let mut p = m.params();
        p.hop_together = 0.0;
        m.set_params(p);
        assert_eq!(
            scored(&m),
            None,
            "without the two-step z is only a fill item"
        );
    }

    #[test]
    fn cold_start_and_empty_shop() {
        let m = shop();
        let r = m.recommend(&Query::new(Strategy::ForYou, 2));
        assert_eq!(r.len(), 2);
        assert!(r.iter().all(|s| s.reason == Reason::Trending));
        assert!(Model::empty()
            .recommend(&Query::new(Strategy::Trending, 5))
            .is_empty());
        let mut q = Query::new(Strategy::Similar, 5);
        q.anchor = Some("unknown".into());
        assert_eq!(m.recommend(&q).len(), 5);
    }

    #[test]
    fn similar_and_bought_together() {
        let m = shop();
        let mut q = Query::new(Strategy::Similar, 2);
        q.anchor = Some("a".into());
        assert_eq!(ids(&m, &m.recommend(&q)), vec!["b", "c"]);
        q.strategy = Strategy::BoughtTogether;
        let r = m.recommend(&q);
        assert_eq!(ids(&m, &r)[0], "g");
        assert_eq!(r[0].reason.text(&m), "Often bought with Alpha");
        let mut q = Query::new(Strategy::CartCrossSell, 1);
        q.cart = vec!["g".into()];
        assert_eq!(ids(&m, &m.recommend(&q)), vec!["a"]);
    }

    #[test]
    fn new_item_falls_back_to_category() {
        let mut b = ModelBuilder::new();
        b.add_session(&[("x", 0), ("y", 1)]);
        b.set_meta("new", meta("New", "Hats", 1, true));
        b.set_meta("y", meta("Y", "Hats", 1, true));
        b.set_meta("x", meta("X", "Bags", 1, true));
        let m = b.build();
        let mut q = Query::new(Strategy::Similar, 1);
        q.anchor = Some("new".into());
        let r = m.recommend(&q);
        assert_eq!(ids(&m, &r), vec!["y"]);
        assert_eq!(r[0].reason.text(&m), "Popular in Hats");
    }

    #[test]
    fn rules_filter_boost_and_pin() {
        let m = shop();
        let mut q = Query::new(Strategy::Popular, 10);
        q.rules.include_categories = vec!["Shoes".into()];
        assert_eq!(ids(&m, &m.recommend(&q)), vec!["a", "b"]);
        let mut q = Query::new(Strategy::Popular, 10);
        q.rules.max_price_cents = Some(1000);
        q.rules.min_price_cents = Some(600);
        assert_eq!(ids(&m, &m.recommend(&q)), vec!["a", "f", "g"]);
        let mut q = Query::new(Strategy::Similar, 3);
        q.anchor = Some("a".into());
        q.rules.boosts = vec![Boost::Category {
            category: "Hats".into(),
            factor: 10.0,
        }];
        q.rules.pins = vec![Pin {
            position: 0,
            id: "f".into(),
        }];
        let r = m.recommend(&q);
        assert_eq!(ids(&m, &r), vec!["f", "c", "b"]);
        assert_eq!(r[0].reason, Reason::Pinned);
        // A pin of an excluded (out-of-stock) item is not shown.
        q.rules.pins = vec![Pin {
            position: 0,
            id: "d".into(),
        }];
        assert!(!ids(&m, &m.recommend(&q)).contains(&"d".to_string()));
    }

    /// The pin walk as first written: at each position the next pin whose position is reached,
    /// else the next ranked item, else the remaining pins in order.
    fn pins_by_walk(ranked: &[String], pins: &[(usize, String)], count: usize) -> Vec<String> {
        let mut pins = pins.to_vec();
        pins.sort_by_key(|p| p.0);
        let pinned: Vec<String> = pins.iter().map(|p| p.1.clone()).collect();
        let mut rest = ranked.iter().filter(|r| !pinned.contains(r));
        let mut pins = pins.into_iter().peekable();
        let mut out = Vec::new();
        while out.len() < count {
            if let Some((p, _)) = pins.peek() {
                if *p <= out.len() {
                    out.push(pins.next().unwrap().1);
                    continue;
                }
            }
            match rest.next().cloned().or_else(|| pins.next().map(|p| p.1)) {
                Some(id) => out.push(id),
                None => break,
            }
        }
        out
    }

    #[test]
    fn pins_match_the_walk() {
        let m = shop();
        let all = ["a", "b", "c", "e", "f", "g"];
        let mut x = 0x9e37_79b9u32;
        for _ in 0..2_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let count = 1 + (x % 6) as usize;
            let mut q = Query::new(Strategy::Popular, count);
            let ranked = ids(&m, &m.recommend(&q));
            let mut pins: Vec<(usize, String)> = Vec::new();
            for k in 0..(x >> 3) % 4 {
                let id = all[((x >> (5 + 3 * k)) % 6) as usize];
                let position = ((x >> (17 + 3 * k)) % 7) as usize;
                q.rules.pins.push(Pin {
                    position,
                    id: id.into(),
                });
                if position < count && !pins.iter().any(|p| p.1 == id) {
                    pins.push((position, id.to_string()));
                }
            }
            let got = ids(&m, &m.recommend(&q));
            assert_eq!(
                got,
                pins_by_walk(&ranked, &pins, count),
                "{:?}",
                q.rules.pins
            );
        }
    }

    #[test]
    fn recently_viewed_most_recent_first() {
        let m = shop();
        let mut q = Query::new(Strategy::RecentlyViewed, 5);
        q.viewed("a", 1)
            .viewed("c", 3)
            .viewed("b", 2)
            .viewed("a", 4)
            .viewed("zzz", 5);
        q.cart = vec!["b".into()];
        assert_eq!(ids(&m, &m.recommend(&q)), vec!["a", "c"]);
    }
}
