//! Ranking: strategies, merchandising rules, reasons.

#[allow(unused_imports)]
use crate::prelude::*;

use super::model::{Model, Relation};

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
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Popular in a category.
    PopularIn {
        /// The category name.
        category: String,
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
            Reason::PopularIn { category } => crate::text::concat(&["Popular in ", category]),
            Reason::Trending => "Trending now".to_string(),
            Reason::Popular => "Popular right now".to_string(),
            Reason::Pinned => "Featured".to_string(),
        }
    }
}

/// One recommended item.
#[derive(Debug, Clone, PartialEq)]
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
    /// `(item, (score, best contribution, reason of the best contribution))`.
    entries: Vec<(u32, (f32, f32, Reason))>,
}

impl Acc {
    /// An empty accumulator for a model of `n` items.
    fn new(n: usize) -> Acc {
        Acc {
            slot: vec![u32::MAX; n],
            entries: Vec::new(),
        }
    }

    fn add(&mut self, item: u32, w: f32, reason: impl FnOnce() -> Reason) {
        if w.is_nan() || w <= 0.0 {
            return;
        }
        match self.get_mut(item) {
            Some(e) => {
                e.0 += w;
                if w > e.1 {
                    e.1 = w;
                    e.2 = reason();
                }
            }
            None => {
                let i = item as usize;
                if i >= self.slot.len() {
                    self.slot.resize(i + 1, u32::MAX);
                }
                self.slot[i] = self.entries.len() as u32;
                self.entries.push((item, (w, w, reason())));
            }
        }
    }

    fn get_mut(&mut self, item: u32) -> Option<&mut (f32, f32, Reason)> {
        let k = *self.slot.get(item as usize)?;
        self.entries.get_mut(k as usize).map(|(_, e)| e)
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

impl Model {
    /// Rank items for `query`: strategy scores over neighbour lists only, merchandising rules,
    /// boosts, pins, then a fallback fill. Deterministic: ties are broken by item index.
    /// An empty model returns an empty list.
    pub fn recommend(&self, query: &Query) -> Vec<Scored> {
        if self.is_empty() || query.count == 0 {
            return Vec::new();
        }
        let known = |ids: &[String]| -> Vec<u32> {
            ids.iter().filter_map(|id| self.index_of(id)).collect()
        };
        let anchor = query.anchor.as_deref().and_then(|a| self.index_of(a));
        let cart = known(&query.cart);
        let purchased = known(&query.purchased);
        let rules = &query.rules;
        let mut excluded = ItemSet::new(self.len());
        let mut exclude = |items: &[u32]| {
            for &i in items {
                excluded.insert(i);
            }
        };
        exclude(&known(&rules.exclude_items));
        exclude(anchor.as_slice());
        if rules.exclude_cart {
            exclude(&cart);
        }
        if rules.exclude_purchased {
            exclude(&purchased);
        }
        let allowed = |i: u32| !excluded.contains(i) && self.passes(i, rules);

        let mut acc = Acc::new(self.len());
        let p = self.params;
        let mut fill_category: Option<String> = None;
        let mut fill_trending = true;
        match query.strategy {
            Strategy::ForYou => {
                let start = query.history.len().saturating_sub(MAX_HISTORY);
                let hist: Vec<u32> = query.history[start..]
                    .iter()
                    .filter_map(|(id, _)| self.index_of(id))
                    .collect();
                let mut r = 1.0f32;
                for (back, &i) in hist.iter().rev().enumerate() {
                    if back < HOP_ITEMS {
                        for (rows, weight) in
                            [(&self.next, p.hop), (&self.together, p.hop_together)]
                        {
                            if weight <= 0.0 {
                                continue;
                            }
                            for (j, w) in rows.row(i) {
                                for (l, w2) in rows.row(j) {
                                    acc.add(l, weight * r * w * w2, || Reason::ViewedTogether {
                                        because: i,
                                    });
                                }
                            }
                        }
                    }
                    acc.add(i, p.repeat * r, || Reason::RecentlyViewed);
                    for (j, w) in self.next.row(i) {
                        acc.add(j, p.next * r * w, || Reason::ViewedTogether { because: i });
                    }
                    for (j, w) in self.together.row(i) {
                        acc.add(j, p.together * r * w, || Reason::ViewedTogether {
                            because: i,
                        });
                    }
                    r *= p.decay;
                }
                for &c in cart.iter().chain(&purchased) {
                    for (j, w) in self.bought.row(c) {
                        acc.add(j, p.bought * w, || Reason::BoughtTogether { because: c });
                    }
                }
                if p.popularity > 0.0 {
                    for &mut (j, ref mut e) in acc.entries.iter_mut() {
                        e.0 += p.popularity * self.pop_score(j);
                    }
                }
                self.apply_affinity(&mut acc, &query.category_affinity);
                fill_category = hist
                    .last()
                    .and_then(|&i| self.category(i))
                    .map(str::to_string);
            }
            Strategy::Similar => {
                if let Some(a) = anchor {
                    self.related(&mut acc, a, Relation::ViewedTogether, 1.0);
                    self.related(&mut acc, a, Relation::Next, 1.0);
                    fill_category = self.category(a).map(str::to_string);
                }
            }
            Strategy::BoughtTogether | Strategy::CartCrossSell => {
                let sources: Vec<u32> = match (query.strategy, anchor) {
                    (Strategy::BoughtTogether, Some(a)) => vec![a],
                    _ => cart.clone(),
                };
                for &s in &sources {
                    self.related(&mut acc, s, Relation::BoughtTogether, 1.0);
                }
                // Viewed-together as a weaker second tier, below every bought-together score.
                let tier = 1e-3;
                for &s in &sources {
                    self.related(&mut acc, s, Relation::ViewedTogether, tier);
                }
                fill_category = sources
                    .first()
                    .and_then(|&s| self.category(s))
                    .map(str::to_string);
            }
            Strategy::Trending | Strategy::Popular => {}
            Strategy::RecentlyViewed => {
                let mut hist: Vec<(usize, &(String, i64))> =
                    query.history.iter().enumerate().collect();
                crate::sort::sort_by_key(&mut hist, |&(n, &(_, t))| {
                    (core::cmp::Reverse(t), core::cmp::Reverse(n))
                });
                let mut out = Vec::new();
                for (_, (id, _)) in hist {
                    if let Some(i) = self.index_of(id) {
                        if allowed(i) && !out.iter().any(|s: &Scored| s.item == i) {
                            out.push(Scored {
                                item: i,
                                score: 0.0,
                                reason: Reason::RecentlyViewed,
                            });
                        }
                    }
                }
                return self.place_pins(out, query, &allowed);
            }
        }
        self.apply_boosts(&mut acc, &rules.boosts);

        let mut ranked: Vec<Scored> = acc
            .entries
            .into_iter()
            .filter(|&(i, _)| allowed(i))
            .map(|(item, (score, _, reason))| Scored {
                item,
                score,
                reason,
            })
            .collect();
        // By score (descending, in `total_cmp` order), then item: one integer key each.
        crate::sort::sort_by_u64(&mut ranked, |s| {
            let bits = s.score.to_bits();
            let ascending = if bits >> 31 == 1 {
                !bits
            } else {
                bits | 1 << 31
            };
            u64::from(!ascending) << 32 | u64::from(s.item)
        });
        ranked.truncate(query.count);

        // Fallback chain: popular in the category, then trending (or popular), skipping repeats.
        if ranked.len() < query.count {
            let mut have = ItemSet::new(self.len());
            for s in &ranked {
                have.insert(s.item);
            }
            if let Some(cat) = fill_category {
                for &i in &self.pop_order {
                    if ranked.len() >= query.count {
                        break;
                    }
                    if self.category(i) == Some(cat.as_str()) && allowed(i) && have.insert(i) {
                        ranked.push(Scored {
                            item: i,
                            score: 0.0,
                            reason: Reason::PopularIn {
                                category: cat.clone(),
                            },
                        });
                    }
                }
            }
            if query.strategy == Strategy::Popular {
                fill_trending = false;
            }
            let (order, reason) = if fill_trending {
                (&self.trend_order, Reason::Trending)
            } else {
                (&self.pop_order, Reason::Popular)
            };
            for &i in order {
                if ranked.len() >= query.count {
                    break;
                }
                if allowed(i) && have.insert(i) {
                    ranked.push(Scored {
                        item: i,
                        score: 0.0,
                        reason: reason.clone(),
                    });
                }
            }
        }
        self.place_pins(ranked, query, &allowed)
    }

    /// Add the neighbours of `source` in `relation`, scaled by `factor`, with the matching reason.
    fn related(&self, acc: &mut Acc, source: u32, relation: Relation, factor: f32) {
        for (j, w) in self.neighbors(relation, source) {
            acc.add(j, factor * w, || match relation {
                Relation::BoughtTogether => Reason::BoughtTogether { because: source },
                _ => Reason::ViewedTogether { because: source },
            });
        }
    }

    /// Multiply scores by `1 + affinity` (affinities scaled so the largest is 1).
    fn apply_affinity(&self, acc: &mut Acc, aff: &[(String, f32)]) {
        let max = aff
            .iter()
            .map(|&(_, a)| a)
            .filter(|a| a.is_finite())
            .fold(0.0f32, f32::max);
        if max <= 0.0 || !self.has_meta() {
            return;
        }
        for &mut (j, ref mut e) in acc.entries.iter_mut() {
            if let Some(cat) = self.category(j) {
                if let Some(&(_, a)) = aff.iter().find(|(c, _)| c == cat) {
                    if a.is_finite() && a > 0.0 {
                        e.0 *= 1.0 + a / max;
                    }
                }
            }
        }
    }

    fn apply_boosts(&self, acc: &mut Acc, boosts: &[Boost]) {
        for b in boosts {
            match b {
                Boost::Item { id, factor } => {
                    if let Some(e) = self.index_of(id).and_then(|i| acc.get_mut(i)) {
                        e.0 *= factor.max(0.0);
                    }
                }
                Boost::Category { category, factor } => {
                    for &mut (j, ref mut e) in acc.entries.iter_mut() {
                        if self.category(j) == Some(category.as_str()) {
                            e.0 *= factor.max(0.0);
                        }
                    }
                }
            }
        }
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

    /// Put pinned items at their positions (pins sorted by position; an allowed, known item only),
    /// removing them from the ranked list, and cut to `count`.
    fn place_pins(
        &self,
        ranked: Vec<Scored>,
        query: &Query,
        allowed: &dyn Fn(u32) -> bool,
    ) -> Vec<Scored> {
        let count = query.count;
        let mut pins: Vec<(usize, u32)> = Vec::new();
        for pin in &query.rules.pins {
            if let Some(i) = self.index_of(&pin.id) {
                if pin.position < count && allowed(i) && !pins.iter().any(|&(_, j)| j == i) {
                    pins.push((pin.position, i));
                }
            }
        }
        if pins.is_empty() {
            let mut ranked = ranked;
            ranked.truncate(count);
            return ranked;
        }
        crate::sort::sort_by_key(&mut pins, |&(p, _)| p);
        let pinned: Vec<u32> = pins.iter().map(|&(_, i)| i).collect();
        let mut rest = ranked.into_iter().filter(|s| !pinned.contains(&s.item));
        let mut pins = pins.into_iter().peekable();
        let mut out = Vec::with_capacity(count);
        while out.len() < count {
            if let Some(&(p, i)) = pins.peek() {
                if p <= out.len() {
                    pins.next();
                    out.push(Scored {
                        item: i,
                        score: 0.0,
                        reason: Reason::Pinned,
                    });
                    continue;
                }
            }
            match rest.next() {
                Some(s) => out.push(s),
                None => match pins.next() {
                    Some((_, i)) => out.push(Scored {
                        item: i,
                        score: 0.0,
                        reason: Reason::Pinned,
                    }),
                    None => break,
                },
            }
        }
        out
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
