//! Building the item model from shoppers' sessions and orders (at the edge, in a cron handler).
//!
//! # What one shopper can do to the model
//!
//! Every figure the model publishes that is learned from behaviour — an item's popularity and
//! trending level, a next-item transition, a viewed-together or bought-together pair — is an
//! aggregate over **shoppers**, and ships only when at least `k` distinct **sources** support
//! it (see [`ModelBuilder::add_shopper`]; in the offline evaluation every session is its own
//! shopper and source). Contributions are bounded before they are summed:
//!
//! - one shopper adds at most one [`UNIT`] to any figure (however often they clicked);
//! - one source adds at most [`SOURCE_CAP`] units to any figure (a burst of fresh anonymous ids
//!   from one address and browser counts as at most that many shoppers), and counts once
//!   towards the support `k`;
//! - popularity and trending are published as coarse levels ([`level`]: four per doubling), so
//!   one shopper moves a published level by at most one step once the figure is at least 6
//!   shoppers, and by at most 3 steps at the gate.
//!
//! All sums are integers, so the model does not depend on the order shoppers arrive in.
//! Aggregation and release are separate steps ([`Agg`] then [`level`] and the gate in
//! [`ModelBuilder::build`]): a differentially private mode would add calibrated noise to the
//! bounded sums at release, with the bounds above as its sensitivity.

#[allow(unused_imports)]
use crate::prelude::*;

use super::model::{ItemMeta, Model, Rows, ScoreParams};

/// Longest session prefix used for pair statistics (keeps the pair count per session bounded).
const MAX_SESSION: usize = 50;

/// One shopper's full contribution to any one figure, in integer units. Step weights `1/d`
/// (`d ≤ 10`) are exact multiples of it (2520 is the least common multiple of 1..=10).
pub const UNIT: u64 = 2520;

/// The most shoppers one source counts for in any one figure.
pub const SOURCE_CAP: u64 = 4;

/// A published level of a non-negative figure `v` (in shoppers): 0 for 0, else
/// `floor(4·log2(v)) + 1` for `v ≥ 1`, at most 255. [`level_value`] is its inverse (the
/// lower edge).
pub fn level(v: f64) -> u8 {
    if v.is_nan() || v < 1.0 {
        return 0;
    }
    ((4.0 * v.log2()).floor() + 1.0).min(255.0) as u8
}

/// The lower edge of a [`level`]: `2^((level − 1) / 4)`, and 0 for level 0.
pub fn level_value(level: u8) -> f64 {
    // 2^(k/4) for k = 0..4, times a power of two built from its bits: no `pow` in the page.
    const QUARTERS: [f64; 4] = [
        1.0,
        1.189_207_115_002_721,
        core::f64::consts::SQRT_2,
        1.681_792_830_507_429,
    ];
    if level == 0 {
        return 0.0;
    }
    let k = u64::from(level - 1);
    f64::from_bits((k / 4 + 1023) << 52) * QUARTERS[(k % 4) as usize]
}

/// Bounded sums over shoppers for one figure.
#[derive(Debug, Clone, Copy, Default)]
struct Agg {
    /// Distinct sources with at least one contributing shopper: the support.
    sources: u32,
    /// Sum of contributions, each shopper ≤ [`UNIT`], each source ≤ [`SOURCE_CAP`] units.
    units: u64,
}

impl Agg {
    /// Adds one source's total (`units` over its shoppers), capped.
    fn add_source(&mut self, units: u64) {
        self.sources += 1;
        self.units += units.min(SOURCE_CAP * UNIT);
    }

    fn shoppers(&self) -> f64 {
        self.units as f64 / UNIT as f64
    }
}

/// What one shopper's sessions and orders say, before they are folded into the model.
#[derive(Debug, Clone, Default)]
struct Shopper {
    source: u32,
    sessions: Vec<Vec<(u32, i64)>>,
    orders: Vec<Vec<u32>>,
}

/// Per-source sums (each shopper's contribution already capped at [`UNIT`]).
#[derive(Debug, Default)]
struct SourceSums {
    /// Items the shopper clicked or bought (whether an id outside the catalog ships).
    seen: HashMap<u32, u64>,
    clicked: HashMap<u32, u64>,
    trend: HashMap<u32, u64>,
    next: HashMap<u64, u64>,
    together: HashMap<u64, u64>,
    bought: HashMap<u64, u64>,
    bought_item: HashMap<u32, u64>,
}

/// Feeds shoppers (their sessions and orders) and the shop's catalog, keeps item-level bounded
/// aggregates only, and builds a [`Model`].
///
/// The builder holds what it was fed until [`ModelBuilder::build`] (it groups shoppers by
/// source there); the model it builds holds no session, shopper, source or click order.
/// `build` takes `&self`, so one builder can produce models at several minimum supports.
#[derive(Debug, Clone)]
pub struct ModelBuilder {
    min_support: u32,
    max_neighbors: usize,
    together_neighbors: usize,
    steps: usize,
    half_life_ms: i64,
    next_norm: f32,
    as_of: Option<i64>,
    catalog_only: bool,
    params: ScoreParams,
    ids: Vec<String>,
    index: HashMap<String, u32>,
    sources: HashMap<String, u32>,
    next_source: u32,
    shoppers: Vec<Shopper>,
    /// Catalog items, with their metadata when the shop gave it.
    catalog: HashMap<u32, Option<ItemMeta>>,
}

impl Default for ModelBuilder {
    fn default() -> Self {
        ModelBuilder::new()
    }
}

fn key(a: u32, b: u32) -> u64 {
    (u64::from(a.min(b)) << 32) | u64::from(a.max(b))
}

fn directed(a: u32, b: u32) -> u64 {
    (u64::from(a) << 32) | u64::from(b)
}

impl ModelBuilder {
    /// A builder with the defaults: minimum support 2, 50 next-item and bought-together
    /// neighbours and 10 viewed-together neighbours per item, sequential window of 10 steps,
    /// trending half-life of one day.
    pub fn new() -> ModelBuilder {
        ModelBuilder {
            min_support: 2,
            max_neighbors: 50,
            together_neighbors: 10,
            steps: 10,
            half_life_ms: 86_400_000,
            next_norm: 0.75,
            as_of: None,
            catalog_only: false,
            params: ScoreParams::default(),
            ids: Vec::new(),
            index: HashMap::new(),
            sources: HashMap::new(),
            next_source: 0,
            shoppers: Vec::new(),
            catalog: HashMap::new(),
        }
    }

    /// A learned figure (popularity, trending, a relation) ships only when at least `k`
    /// distinct sources support it; `0` is treated as `1`. The edge enforces `k ≥ 2`.
    pub fn min_support(&mut self, k: u32) -> &mut Self {
        self.min_support = k.max(1);
        self
    }

    /// Keep at most `n` neighbours per item in the next-item and bought-together relations
    /// (the strongest; default 50).
    pub fn max_neighbors(&mut self, n: usize) -> &mut Self {
        self.max_neighbors = n.clamp(1, 255);
        self
    }

    /// Keep at most `n` neighbours per item in the viewed-together relation (default 10: the
    /// for-you ranking gives it a small weight and the similar slot shows a few items, so more
    /// costs bytes without changing what slots show; see docs/recommend.md).
    pub fn together_neighbors(&mut self, n: usize) -> &mut Self {
        self.together_neighbors = n.clamp(1, 255);
        self
    }

    /// Sequential window: a click counts as following each of the `n` clicks before it, weighted
    /// by 1 / distance (at most 10).
    pub fn steps(&mut self, n: usize) -> &mut Self {
        self.steps = n.clamp(1, 10);
        self
    }

    /// Half-life of the trending score, in milliseconds.
    pub fn half_life_ms(&mut self, ms: i64) -> &mut Self {
        self.half_life_ms = ms.max(1);
        self
    }

    /// The instant trending is measured at (the end of the build window, Unix ms). Without
    /// it, the latest click fed.
    pub fn as_of(&mut self, ms: i64) -> &mut Self {
        self.as_of = Some(ms);
        self
    }

    /// When true, only catalog items ([`ModelBuilder::catalog_item`]) enter the model:
    /// behaviour on other ids is ignored (what the edge does: an id the shop does not sell is
    /// never recommended). When false (the default), an id outside the catalog ships only when
    /// `k` sources clicked it.
    pub fn catalog_only(&mut self, on: bool) -> &mut Self {
        self.catalog_only = on;
        self
    }

    /// Normalisation of the sequential relation: row `i` is divided by (its total weight)^`e`
    /// (0 = raw counts, 1 = transition probabilities).
    pub fn next_norm(&mut self, e: f32) -> &mut Self {
        self.next_norm = e;
        self
    }

    /// Blend weights to ship inside the model.
    pub fn params(&mut self, params: ScoreParams) -> &mut Self {
        self.params = params;
        self
    }

    /// An item of the shop's catalog, with its display metadata: it ships whatever its support
    /// (the catalog is public), and its metadata is the only metadata the model carries.
    pub fn catalog_item(&mut self, id: &str, meta: ItemMeta) -> &mut Self {
        let i = self.intern(id);
        self.catalog.insert(i, Some(meta));
        self
    }

    /// A catalog item known only by its id (no metadata section unless another item has one).
    pub fn catalog_id(&mut self, id: &str) -> &mut Self {
        let i = self.intern(id);
        self.catalog.entry(i).or_insert(None);
        self
    }

    /// The same as [`ModelBuilder::catalog_item`] (the name earlier versions used).
    pub fn set_meta(&mut self, id: &str, meta: ItemMeta) -> &mut Self {
        self.catalog_item(id, meta)
    }

    fn intern(&mut self, id: &str) -> u32 {
        if let Some(&i) = self.index.get(id) {
            return i;
        }
        let i = self.ids.len() as u32;
        self.ids.push(id.to_string());
        self.index.insert(id.to_string(), i);
        i
    }

    fn fresh_source(&mut self) -> u32 {
        // Named sources get their index when first seen; anonymous ones count down from the
        // top, so the two never meet.
        self.next_source += 1;
        u32::MAX - self.next_source
    }

    fn source(&mut self, name: &str) -> u32 {
        let n = self.sources.len() as u32;
        *self.sources.entry(name.to_string()).or_insert(n)
    }

    fn push(&mut self, source: u32, sessions: Vec<Vec<(u32, i64)>>, orders: Vec<Vec<u32>>) {
        self.shoppers.push(Shopper {
            source,
            sessions,
            orders,
        });
    }

    fn interned<S: AsRef<str>>(&mut self, clicks: &[(S, i64)]) -> Vec<(u32, i64)> {
        clicks
            .iter()
            .map(|(id, t)| (self.intern(id.as_ref()), *t))
            .collect()
    }

    /// Add one shopper: their sessions (items in click order, each with its time in Unix
    /// milliseconds, 0 when unknown) and orders, sent from `source` — what the edge knows of the
    /// sender (a salted hash of the address prefix and user agent). The shopper counts once for
    /// every figure; shoppers of one source count at most [`SOURCE_CAP`] times and support a
    /// figure as one.
    pub fn add_shopper<S: AsRef<str>, O: AsRef<str>>(
        &mut self,
        source: &str,
        sessions: &[Vec<(S, i64)>],
        orders: &[Vec<O>],
    ) -> &mut Self {
        let source = self.source(source);
        let sessions = sessions.iter().map(|s| self.interned(s)).collect();
        let orders = orders
            .iter()
            .map(|o| o.iter().map(|id| self.intern(id.as_ref())).collect())
            .collect();
        self.push(source, sessions, orders);
        self
    }

    /// Add one session as its own shopper and source (the offline evaluation: the data sets have
    /// no shopper ids).
    pub fn add_session<S: AsRef<str>>(&mut self, clicks: &[(S, i64)]) -> &mut Self {
        let session = self.interned(clicks);
        let source = self.fresh_source();
        self.push(source, vec![session], Vec::new());
        self
    }

    /// Add one order (the items bought together) as its own shopper and source.
    pub fn add_order<S: AsRef<str>>(&mut self, items: &[S]) -> &mut Self {
        let order = items.iter().map(|id| self.intern(id.as_ref())).collect();
        let source = self.fresh_source();
        self.push(source, Vec::new(), vec![order]);
        self
    }

    /// Number of distinct item ids fed so far (catalog and behaviour).
    pub fn items(&self) -> usize {
        self.ids.len()
    }

    /// One shopper's capped contributions, added to their source's sums.
    fn contribute(&self, s: &Shopper, as_of: i64, sums: &mut SourceSums) {
        let mut clicked: HashMap<u32, u64> = HashMap::new();
        let mut next: HashMap<u64, u64> = HashMap::new();
        let mut together: Vec<u64> = Vec::new();
        for session in &s.sessions {
            for &(i, t) in session {
                let age = (as_of - t).max(0) as f64 / self.half_life_ms as f64;
                let w = (0.5f64.powf(age) * UNIT as f64).round() as u64;
                let e = clicked.entry(i).or_insert(0);
                *e = (*e).max(w.max(1));
            }
            let items: Vec<u32> = session.iter().take(MAX_SESSION).map(|c| c.0).collect();
            for b in 1..items.len() {
                for d in 1..=self.steps.min(b) {
                    *next.entry(directed(items[b - d], items[b])).or_insert(0) += UNIT / d as u64;
                }
            }
            for (n, &a) in items.iter().enumerate() {
                for &b in &items[n + 1..] {
                    if a != b {
                        together.push(key(a, b));
                    }
                }
            }
        }
        for (&i, &w) in &clicked {
            *sums.clicked.entry(i).or_insert(0) += UNIT;
            *sums.trend.entry(i).or_insert(0) += w.min(UNIT);
        }
        for (k, w) in next {
            *sums.next.entry(k).or_insert(0) += w.min(UNIT);
        }
        together.sort_unstable();
        together.dedup();
        for k in together {
            *sums.together.entry(k).or_insert(0) += UNIT;
        }
        let mut bought: Vec<u64> = Vec::new();
        let mut bought_items: Vec<u32> = Vec::new();
        for order in &s.orders {
            let mut distinct = order.clone();
            distinct.sort_unstable();
            distinct.dedup();
            distinct.truncate(MAX_SESSION);
            for (n, &a) in distinct.iter().enumerate() {
                bought_items.push(a);
                for &b in &distinct[n + 1..] {
                    bought.push(key(a, b));
                }
            }
        }
        bought.sort_unstable();
        bought.dedup();
        bought_items.sort_unstable();
        bought_items.dedup();
        for k in bought {
            *sums.bought.entry(k).or_insert(0) += UNIT;
        }
        for &i in &bought_items {
            *sums.bought_item.entry(i).or_insert(0) += UNIT;
        }
        let mut seen: Vec<u32> = clicked.keys().copied().chain(bought_items).collect();
        seen.sort_unstable();
        seen.dedup();
        for i in seen {
            *sums.seen.entry(i).or_insert(0) += UNIT;
        }
    }

    /// Build the model: bounded sums per source, the support gate, coarse levels, the top
    /// neighbours per item, quantised.
    pub fn build(&self) -> Model {
        let k = self.min_support;
        let as_of = self.as_of.unwrap_or_else(|| {
            self.shoppers
                .iter()
                .flat_map(|s| s.sessions.iter().flatten().map(|c| c.1))
                .max()
                .unwrap_or(0)
        });
        // Shoppers grouped by source; each source's sums are capped, then folded in.
        let mut by_source: Vec<&Shopper> = self.shoppers.iter().collect();
        by_source.sort_by_key(|s| s.source);
        let mut seen: HashMap<u32, Agg> = HashMap::new();
        let mut clicked: HashMap<u32, Agg> = HashMap::new();
        let mut trend: HashMap<u32, Agg> = HashMap::new();
        let mut next: HashMap<u64, Agg> = HashMap::new();
        let mut together: HashMap<u64, Agg> = HashMap::new();
        let mut bought: HashMap<u64, Agg> = HashMap::new();
        let mut bought_item: HashMap<u32, Agg> = HashMap::new();
        for group in by_source.chunk_by(|a, b| a.source == b.source) {
            let mut sums = SourceSums::default();
            for s in group {
                self.contribute(s, as_of, &mut sums);
            }
            fold(&mut seen, sums.seen);
            fold(&mut clicked, sums.clicked);
            fold(&mut trend, sums.trend);
            fold(&mut next, sums.next);
            fold(&mut together, sums.together);
            fold(&mut bought, sums.bought);
            fold(&mut bought_item, sums.bought_item);
        }
        let supported = |a: Option<&Agg>| a.is_some_and(|a| a.sources >= k);

        // Which items ship: the catalog always; other ids only with support (and never when the
        // model is catalog-only). Items are numbered in the order of their ids, so the item
        // table says nothing about the order of anyone's clicks.
        let mut shipped: Vec<u32> = (0..self.ids.len() as u32)
            .filter(|i| {
                self.catalog.contains_key(i) || (!self.catalog_only && supported(seen.get(i)))
            })
            .collect();
        shipped.sort_unstable_by(|&a, &b| self.ids[a as usize].cmp(&self.ids[b as usize]));
        let mut rank = vec![u32::MAX; self.ids.len()];
        for (new, &old) in shipped.iter().enumerate() {
            rank[old as usize] = new as u32;
        }
        let n = shipped.len();
        let ranked = |a: u32, b: u32| {
            let (ra, rb) = (rank[a as usize], rank[b as usize]);
            (ra != u32::MAX && rb != u32::MAX).then_some((ra, rb))
        };
        let released = |m: &HashMap<u32, Agg>, i: u32, scale: f64| match m.get(&i) {
            Some(a) if a.sources >= k => level(a.shoppers() * scale),
            _ => 0,
        };

        let mut next_rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
        let mut together_rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
        let mut bought_rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
        let count = |m: &HashMap<u32, Agg>, i: u32| m.get(&i).map_or(1.0, |a| a.shoppers());
        let cos = |c: f64, na: f64, nb: f64| (c / (na.max(1.0) * nb.max(1.0)).sqrt()) as f32;
        for (&key, agg) in &next {
            if agg.sources < k {
                continue;
            }
            let (a, b) = ((key >> 32) as u32, key as u32);
            if let Some((ra, rb)) = ranked(a, b) {
                next_rows[ra as usize].push((rb, agg.shoppers() as f32));
            }
        }
        for (&key, agg) in &together {
            if agg.sources < k {
                continue;
            }
            let (a, b) = ((key >> 32) as u32, key as u32);
            if let Some((ra, rb)) = ranked(a, b) {
                let w = cos(agg.shoppers(), count(&clicked, a), count(&clicked, b));
                together_rows[ra as usize].push((rb, w));
                together_rows[rb as usize].push((ra, w));
            }
        }
        for (&key, agg) in &bought {
            if agg.sources < k {
                continue;
            }
            let (a, b) = ((key >> 32) as u32, key as u32);
            if let Some((ra, rb)) = ranked(a, b) {
                let w = cos(
                    agg.shoppers(),
                    count(&bought_item, a),
                    count(&bought_item, b),
                );
                bought_rows[ra as usize].push((rb, w));
                bought_rows[rb as usize].push((ra, w));
            }
        }
        if self.next_norm != 0.0 {
            for row in &mut next_rows {
                let total: f32 = row.iter().map(|&(_, w)| w).sum();
                if total > 0.0 {
                    let d = total.powf(self.next_norm);
                    row.iter_mut().for_each(|(_, w)| *w /= d);
                }
            }
        }
        let meta = if self.catalog.values().all(Option::is_none) {
            Vec::new()
        } else {
            shipped
                .iter()
                .map(|i| self.catalog.get(i).cloned().flatten().unwrap_or_default())
                .collect()
        };
        Model::from_parts(
            shipped
                .iter()
                .map(|&i| self.ids[i as usize].clone())
                .collect(),
            shipped
                .iter()
                .map(|&i| released(&clicked, i, 1.0))
                .collect(),
            // Trending in sixteenths of a shopper: a level per 4 doublings from 1/16.
            shipped.iter().map(|&i| released(&trend, i, 16.0)).collect(),
            compress(next_rows, self.max_neighbors),
            compress(together_rows, self.together_neighbors),
            compress(bought_rows, self.max_neighbors),
            meta,
            self.params,
        )
    }
}

/// Folds one source's sums into the model-wide aggregates (each source capped).
fn fold<K: core::hash::Hash + Ord>(into: &mut HashMap<K, Agg>, sums: HashMap<K, u64>) {
    for (k, units) in sums {
        into.entry(k).or_default().add_source(units);
    }
}

/// The weights a row stores, relative to its scale: 255 · 2^(−k/2) for k = 0..16 (half an
/// octave apart). Sixteen values compress to about half a byte each; finer steps do not change
/// the ranking measurably (docs/recommend.md).
fn weight_level(w: f32) -> u8 {
    let k = (-2.0 * (w / 255.0).log2()).round().clamp(0.0, 15.0);
    (255.0 * (-k / 2.0).exp2()).round().max(1.0) as u8
}

/// Keep the `keep` strongest neighbours of each row (ties by index), sort by index, quantise.
fn compress(rows: Vec<Vec<(u32, f32)>>, keep: usize) -> Rows {
    let n = rows.len();
    Rows::from_rows(
        n,
        rows.into_iter().map(|mut row| {
            row.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            row.truncate(keep);
            row.sort_by_key(|&(j, _)| j);
            let max = row.iter().map(|&(_, w)| w).fold(0.0f32, f32::max);
            // The row's scale is stored as a coarse level; weights are quantised against the
            // scale as stored, so what the page reads matches what was meant within 1/255.
            let code = super::model::scale_code(max);
            let scale = super::model::scale_of(code);
            let row = row
                .into_iter()
                .map(|(j, w)| {
                    let q = if scale > 0.0 {
                        weight_level((w / scale * 255.0).clamp(1.0, 255.0))
                    } else {
                        1
                    };
                    (j, q)
                })
                .collect();
            (code, row)
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::Relation;

    fn session(ids: &[&str]) -> Vec<(String, i64)> {
        ids.iter()
            .enumerate()
            .map(|(t, s)| (s.to_string(), t as i64))
            .collect()
    }

    fn next_ids(m: &Model, from: &str) -> Vec<String> {
        let Some(a) = m.index_of(from) else {
            return Vec::new();
        };
        m.neighbors(Relation::Next, a)
            .map(|(j, _)| m.id(j).unwrap_or("").to_string())
            .collect()
    }

    #[test]
    fn levels_by_hand() {
        assert_eq!(level(0.0), 0);
        assert_eq!(level(0.99), 0);
        assert_eq!(level(1.0), 1);
        // log2(2) = 1 → 4 + 1; log2(3) = 1.585 → 6 + 1; log2(1000) = 9.97 → 39 + 1.
        assert_eq!(level(2.0), 5);
        assert_eq!(level(3.0), 7);
        assert_eq!(level(1000.0), 40);
        assert_eq!(level(f64::MAX), 255);
        assert_eq!(level_value(5), 2.0);
        assert_eq!(level_value(0), 0.0);
        // The table and the bits agree with a plain power.
        for l in 1..=255u8 {
            let want = 2f64.powf(f64::from(l - 1) / 4.0);
            assert!((level_value(l) - want).abs() <= want * 1e-12, "{l}");
        }
        // Adding one shopper moves a level by at most one step from 6 shoppers on.
        for v in 6..10_000u32 {
            let (a, b) = (level(f64::from(v)), level(f64::from(v + 1)));
            assert!(b - a <= 1, "{v}");
        }
    }

    #[test]
    fn weights_take_sixteen_values() {
        // 255 · 2^(−k/2) rounded, by hand.
        let want = [255, 180, 128, 90, 64, 45, 32, 23, 16, 11, 8, 6, 4, 3, 2, 1];
        let mut seen: Vec<u8> = (1..=255u8).map(|q| weight_level(f32::from(q))).collect();
        seen.sort_unstable();
        seen.dedup();
        let mut sorted = want.to_vec();
        sorted.sort_unstable();
        assert_eq!(seen, sorted);
        assert_eq!(weight_level(255.0), 255);
        assert_eq!(weight_level(200.0), 180);
        assert_eq!(weight_level(1.0), 1);
    }

    #[test]
    fn the_gate_counts_the_transition_not_the_co_occurrence() {
        // a→b in two sessions as a transition; a…c co-occur in two sessions but the transition
        // a→c (within 10 steps) only happens in one: it is not published.
        let mut b = ModelBuilder::new();
        b.add_session(&session(&["a", "b"]));
        b.add_session(&session(&["a", "b", "c"]));
        b.add_session(&session(&["c", "a"]));
        let m = b.build();
        assert_eq!(next_ids(&m, "a"), vec!["b"]);
        b.min_support(1);
        let m = b.build();
        assert_eq!(next_ids(&m, "a"), vec!["b", "c"]);
    }

    #[test]
    fn support_counts_sources_not_sessions() {
        // One shopper's two visits, then two shoppers from one source: still one source each.
        let mut b = ModelBuilder::new();
        b.add_shopper::<&str, &str>(
            "s1",
            &[vec![("x", 0), ("y", 1)], vec![("x", 9), ("y", 10)]],
            &[],
        );
        assert!(next_ids(&b.build(), "x").is_empty());
        b.add_shopper::<&str, &str>("s2", &[vec![("x", 20), ("y", 21)]], &[]);
        b.add_shopper::<&str, &str>("s2", &[vec![("x", 30), ("y", 31)]], &[]);
        assert_eq!(next_ids(&b.build(), "x"), vec!["y"]);
        b.min_support(3);
        assert!(next_ids(&b.build(), "x").is_empty());
    }

    #[test]
    fn step_weights_and_pruning() {
        let mut b = ModelBuilder::new();
        b.min_support(1).max_neighbors(1).next_norm(0.0);
        b.add_session(&session(&["a", "b", "c"]));
        let m = b.build();
        let a = m.index_of("a").unwrap();
        // a→b weighs 1, a→c weighs 1/2: only b is kept.
        let r: Vec<_> = m.neighbors(Relation::Next, a).collect();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].0, m.index_of("b").unwrap());
        assert!((r[0].1 - 1.0).abs() < 0.05, "{}", r[0].1);
    }

    #[test]
    fn popularity_trending_and_orders() {
        let mut b = ModelBuilder::new();
        b.min_support(1).half_life_ms(10);
        b.add_session(&[("old", 0), ("old", 1)]);
        b.add_session(&[("new", 1000), ("x", 1000)]);
        b.add_order(&["x", "y", "x"]);
        let m = b.build();
        let (old, new) = (m.index_of("old").unwrap(), m.index_of("new").unwrap());
        // Two clicks by one shopper count once.
        assert_eq!(m.popularity(old), 1);
        assert!(m.trending(new) > m.trending(old));
        let x = m.index_of("x").unwrap();
        let bt: Vec<_> = m
            .neighbors(Relation::BoughtTogether, x)
            .map(|(j, _)| m.id(j).unwrap())
            .collect();
        assert_eq!(bt, vec!["y"]);
    }

    #[test]
    fn catalog_items_ship_and_others_need_support() {
        let mut b = ModelBuilder::new();
        b.catalog_item("listed", ItemMeta::default());
        b.add_session(&session(&["rare", "listed"]));
        let m = b.build();
        assert!(m.index_of("listed").is_some());
        assert_eq!(m.popularity(m.index_of("listed").unwrap()), 0);
        assert_eq!(
            m.index_of("rare"),
            None,
            "one shopper's id is not published"
        );
        b.add_session(&session(&["rare"]));
        assert!(b.build().index_of("rare").is_some());
        b.catalog_only(true);
        assert_eq!(b.build().index_of("rare"), None);
        assert_eq!(b.build().len(), 1);
    }
}
