//! Building the item model from sessions and orders (at the edge, in a cron handler).

use std::collections::{HashMap, HashSet};

use super::model::{ItemMeta, Model, Rows, ScoreParams};

/// Longest session prefix used for pair statistics (keeps the pair count per session bounded).
const MAX_SESSION: usize = 50;

/// Accumulated statistics of one unordered item pair `(a, b)` with `a <= b`.
#[derive(Debug, Clone, Copy, Default)]
struct Pair {
    /// Step-weighted count of `a` followed by `b`.
    ab: f32,
    /// Step-weighted count of `b` followed by `a`.
    ba: f32,
    /// Distinct sessions (or orders) holding both items: the support.
    support: u32,
}

/// Feeds sessions and orders, keeps item-level aggregates only, and builds a [`Model`].
///
/// Nothing about an individual session survives [`ModelBuilder::add_session`]: each call only adds
/// to per-item counters and per-pair statistics. [`ModelBuilder::build`] takes `&self`, so one
/// builder can produce models at several minimum supports.
#[derive(Debug, Clone)]
pub struct ModelBuilder {
    min_support: u32,
    max_neighbors: usize,
    steps: usize,
    half_life_ms: i64,
    next_norm: f32,
    params: ScoreParams,
    ids: Vec<String>,
    index: HashMap<String, u32>,
    clicks: Vec<u32>,
    sessions_with: Vec<u32>,
    orders_with: Vec<u32>,
    /// (item, time) of every click, only for the trending score; dropped from the model.
    times: Vec<(u32, i64)>,
    pairs: HashMap<u64, Pair>,
    order_pairs: HashMap<u64, Pair>,
    meta: HashMap<u32, ItemMeta>,
}

impl Default for ModelBuilder {
    fn default() -> Self {
        ModelBuilder::new()
    }
}

fn key(a: u32, b: u32) -> u64 {
    (u64::from(a.min(b)) << 32) | u64::from(a.max(b))
}

impl ModelBuilder {
    /// A builder with the defaults: minimum support 2, 50 neighbours per item and relation,
    /// sequential window of 10 steps, trending half-life of one day.
    pub fn new() -> ModelBuilder {
        ModelBuilder {
            min_support: 2,
            max_neighbors: 50,
            steps: 10,
            half_life_ms: 86_400_000,
            next_norm: 0.75,
            params: ScoreParams::default(),
            ids: Vec::new(),
            index: HashMap::new(),
            clicks: Vec::new(),
            sessions_with: Vec::new(),
            orders_with: Vec::new(),
            times: Vec::new(),
            pairs: HashMap::new(),
            order_pairs: HashMap::new(),
            meta: HashMap::new(),
        }
    }

    /// A pair enters the model only when seen in at least `k` distinct sessions (or orders);
    /// `0` is treated as `1`. Higher `k` protects rare behaviour and shrinks the model.
    pub fn min_support(&mut self, k: u32) -> &mut Self {
        self.min_support = k.max(1);
        self
    }

    /// Keep at most `n` neighbours per item and relation (the strongest).
    pub fn max_neighbors(&mut self, n: usize) -> &mut Self {
        self.max_neighbors = n.clamp(1, 255);
        self
    }

    /// Sequential window: a click counts as following each of the `n` clicks before it, weighted
    /// by 1 / distance.
    pub fn steps(&mut self, n: usize) -> &mut Self {
        self.steps = n.max(1);
        self
    }

    /// Half-life of the trending score, in milliseconds.
    pub fn half_life_ms(&mut self, ms: i64) -> &mut Self {
        self.half_life_ms = ms.max(1);
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

    /// Display metadata for item `id` (the item is added when new).
    pub fn set_meta(&mut self, id: &str, meta: ItemMeta) -> &mut Self {
        let i = self.intern(id);
        self.meta.insert(i, meta);
        self
    }

    fn intern(&mut self, id: &str) -> u32 {
        if let Some(&i) = self.index.get(id) {
            return i;
        }
        let i = self.ids.len() as u32;
        self.ids.push(id.to_string());
        self.index.insert(id.to_string(), i);
        self.clicks.push(0);
        self.sessions_with.push(0);
        self.orders_with.push(0);
        i
    }

    /// Add one session: the items clicked, in order, each with its time in Unix milliseconds
    /// (use 0 when unknown).
    pub fn add_session<S: AsRef<str>>(&mut self, clicks: &[(S, i64)]) -> &mut Self {
        let items: Vec<u32> = clicks
            .iter()
            .map(|(id, _)| self.intern(id.as_ref()))
            .collect();
        for (&i, (_, t)) in items.iter().zip(clicks) {
            self.clicks[i as usize] += 1;
            self.times.push((i, *t));
        }
        let items = &items[..items.len().min(MAX_SESSION)];
        let mut seen = HashSet::new();
        for &i in items {
            if seen.insert(i) {
                self.sessions_with[i as usize] += 1;
            }
        }
        // Directed, step-weighted transitions (self transitions included: repeats are signal).
        for b in 1..items.len() {
            for d in 1..=self.steps.min(b) {
                let (x, y) = (items[b - d], items[b]);
                let p = self.pairs.entry(key(x, y)).or_default();
                let w = 1.0 / d as f32;
                if x <= y {
                    p.ab += w;
                } else {
                    p.ba += w;
                }
            }
        }
        // Support: distinct sessions per unordered pair (self pairs when an item repeats).
        let mut pairs = HashSet::new();
        for (n, &a) in items.iter().enumerate() {
            for &b in &items[n + 1..] {
                pairs.insert(key(a, b));
            }
        }
        for k in pairs {
            self.pairs.entry(k).or_default().support += 1;
        }
        self
    }

    /// Add one order (the items bought together), for the bought-together relation.
    pub fn add_order<S: AsRef<str>>(&mut self, items: &[S]) -> &mut Self {
        let mut distinct: Vec<u32> = items.iter().map(|id| self.intern(id.as_ref())).collect();
        distinct.sort_unstable();
        distinct.dedup();
        distinct.truncate(MAX_SESSION);
        for (n, &a) in distinct.iter().enumerate() {
            self.orders_with[a as usize] += 1;
            for &b in &distinct[n + 1..] {
                let p = self.order_pairs.entry(key(a, b)).or_default();
                p.support += 1;
                p.ab += 1.0;
                p.ba += 1.0;
            }
        }
        self
    }

    /// Number of distinct items seen so far.
    pub fn items(&self) -> usize {
        self.ids.len()
    }

    /// Build the model: prune pairs below the minimum support, keep the top neighbours, quantise.
    pub fn build(&self) -> Model {
        let n = self.ids.len();
        let k = self.min_support;
        // The model numbers items in the order of their ids, not in the order they were first
        // clicked: the item table then says nothing about the order of anyone's clicks, and the
        // ids delta-code well. `rank[i]` is the model index of builder item `i`.
        let mut by_id: Vec<u32> = (0..n as u32).collect();
        by_id.sort_unstable_by(|&a, &b| self.ids[a as usize].cmp(&self.ids[b as usize]));
        let mut rank = vec![0u32; n];
        for (new, &old) in by_id.iter().enumerate() {
            rank[old as usize] = new as u32;
        }
        let mut next: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
        let mut together: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
        let mut bought: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
        let cos = |c: f32, na: u32, nb: u32| c / ((na.max(1) as f32) * (nb.max(1) as f32)).sqrt();
        // Deterministic iteration: sort the pair keys.
        let mut keys: Vec<u64> = self.pairs.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            let p = self.pairs[&key];
            if p.support < k {
                continue;
            }
            let (a, b) = ((key >> 32) as u32, key as u32);
            let (ra, rb) = (rank[a as usize], rank[b as usize]);
            if p.ab > 0.0 {
                next[ra as usize].push((rb, p.ab));
            }
            if p.ba > 0.0 && a != b {
                next[rb as usize].push((ra, p.ba));
            }
            if a != b {
                let (na, nb) = (
                    self.sessions_with[a as usize],
                    self.sessions_with[b as usize],
                );
                let w = cos(p.support as f32, na, nb);
                together[ra as usize].push((rb, w));
                together[rb as usize].push((ra, w));
            }
        }
        if self.next_norm != 0.0 {
            for row in &mut next {
                let total: f32 = row.iter().map(|&(_, w)| w).sum();
                if total > 0.0 {
                    let d = total.powf(self.next_norm);
                    row.iter_mut().for_each(|(_, w)| *w /= d);
                }
            }
        }
        let mut keys: Vec<u64> = self.order_pairs.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            let p = self.order_pairs[&key];
            if p.support < k {
                continue;
            }
            let (a, b) = ((key >> 32) as u32, key as u32);
            let (na, nb) = (self.orders_with[a as usize], self.orders_with[b as usize]);
            let w = cos(p.support as f32, na, nb);
            let (ra, rb) = (rank[a as usize], rank[b as usize]);
            bought[ra as usize].push((rb, w));
            bought[rb as usize].push((ra, w));
        }
        let meta = if self.meta.is_empty() {
            Vec::new()
        } else {
            by_id
                .iter()
                .map(|i| self.meta.get(i).cloned().unwrap_or_default())
                .collect()
        };
        let trend = self.trend();
        Model::from_parts(
            by_id
                .iter()
                .map(|&i| self.ids[i as usize].clone())
                .collect(),
            by_id.iter().map(|&i| self.clicks[i as usize]).collect(),
            by_id.iter().map(|&i| trend[i as usize]).collect(),
            compress(next, self.max_neighbors),
            compress(together, self.max_neighbors),
            compress(bought, self.max_neighbors),
            meta,
            self.params,
        )
    }

    /// Time-decayed click counts relative to the latest click, quantised to `0..=65535`.
    fn trend(&self) -> Vec<u16> {
        let mut score = vec![0f64; self.ids.len()];
        let latest = self.times.iter().map(|&(_, t)| t).max().unwrap_or(0);
        for &(i, t) in &self.times {
            let age = (latest - t).max(0) as f64 / self.half_life_ms as f64;
            score[i as usize] += 0.5f64.powf(age);
        }
        let max = score.iter().copied().fold(0.0, f64::max);
        score
            .iter()
            .map(|&s| {
                if max > 0.0 {
                    (s / max * 65535.0).round() as u16
                } else {
                    0
                }
            })
            .collect()
    }
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
            let row = row
                .into_iter()
                .map(|(j, w)| {
                    let q = if max > 0.0 {
                        (w / max * 255.0).round().clamp(1.0, 255.0) as u8
                    } else {
                        1
                    };
                    (j, q)
                })
                .collect();
            (max, row)
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

    #[test]
    fn support_gates_pairs() {
        let mut b = ModelBuilder::new();
        b.add_session(&session(&["a", "b"]));
        b.add_session(&session(&["a", "b", "c"]));
        b.min_support(2);
        let m = b.build();
        let a = m.index_of("a").unwrap();
        let next: Vec<_> = m
            .neighbors(Relation::Next, a)
            .map(|(j, _)| m.id(j).unwrap())
            .collect();
        assert_eq!(next, vec!["b"]);
        b.min_support(1);
        let m = b.build();
        assert_eq!(m.neighbors(Relation::Next, a).count(), 2);
        assert_eq!(m.neighbors(Relation::ViewedTogether, a).count(), 2);
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
        assert_eq!(r, vec![(m.index_of("b").unwrap(), 1.0)]);
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
        assert_eq!(m.popularity(old), 2);
        assert!(m.trending(new) > m.trending(old));
        let x = m.index_of("x").unwrap();
        let bt: Vec<_> = m
            .neighbors(Relation::BoughtTogether, x)
            .map(|(j, _)| m.id(j).unwrap())
            .collect();
        assert_eq!(bt, vec!["y"]);
    }
}
