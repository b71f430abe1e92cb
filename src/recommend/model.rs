//! The item model: what the edge builds and ships, and what the page ranks with.

use std::collections::HashMap;

/// Which item→item relation of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// Directed: items clicked *after* the key item in the same session, weighted by step distance.
    Next,
    /// Undirected: items viewed in the same session, cosine-normalised.
    ViewedTogether,
    /// Undirected: items bought in the same order, cosine-normalised.
    BoughtTogether,
}

/// Optional display metadata for one item, so the page can render a card.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemMeta {
    /// Product name.
    pub name: String,
    /// Price in the shop's minor unit (cents), when known.
    pub price_cents: Option<u32>,
    /// Category, when known.
    pub category: Option<String>,
    /// Brand, when known.
    pub brand: Option<String>,
    /// Product page URL (may be empty).
    pub url: String,
    /// Image URL (may be empty).
    pub image: String,
    /// False when the item cannot be bought now.
    pub in_stock: bool,
}

/// The blend weights used by [`Model::recommend`] for the for-you strategy; shipped inside the
/// model so the edge can tune them per shop without a new page build.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreParams {
    /// Weight of the sequential (next-click) relation.
    pub next: f32,
    /// Weight of the viewed-together relation.
    pub together: f32,
    /// Weight of the session's own items (repeat consumption).
    pub repeat: f32,
    /// Weight of popularity (a weak tie-break).
    pub popularity: f32,
    /// Recency decay per step back in the session: the last item weighs 1, the one before `decay`, ...
    pub decay: f32,
    /// Weight of the bought-together relation for session items and cart items.
    pub bought: f32,
    /// Weight of two-step transitions (next of next) from the most recent items: widens the
    /// candidate set beyond direct neighbours.
    pub hop: f32,
}

impl Default for ScoreParams {
    /// The weights tuned on yoochoose-100k train_tr → train_valid (see `docs/recommend.md`).
    fn default() -> Self {
        ScoreParams {
            next: 1.0,
            together: 0.05,
            repeat: 1.0,
            popularity: 0.0,
            decay: 0.3,
            bought: 1.0,
            hop: 0.2,
        }
    }
}

/// A sparse relation in compressed rows: row `i` holds `(neighbour, weight)` pairs sorted by
/// neighbour index; each weight is `scale[i] * q / 255` with an 8-bit `q`.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Rows {
    pub(crate) start: Vec<u32>,
    pub(crate) items: Vec<u32>,
    pub(crate) q: Vec<u8>,
    pub(crate) scale: Vec<f32>,
}

impl Rows {
    pub(crate) fn empty(n: usize) -> Rows {
        Rows {
            start: vec![0; n + 1],
            items: Vec::new(),
            q: Vec::new(),
            scale: vec![0.0; n],
        }
    }

    /// Neighbours of `item` with their weights; empty for an unknown item.
    pub(crate) fn row(&self, item: u32) -> impl Iterator<Item = (u32, f32)> + '_ {
        let i = item as usize;
        let (lo, hi, s) = match (self.start.get(i), self.start.get(i + 1), self.scale.get(i)) {
            (Some(&lo), Some(&hi), Some(&s)) => (lo as usize, hi as usize, s / 255.0),
            _ => (0, 0, 0.0),
        };
        let items = self.items.get(lo..hi).unwrap_or(&[]);
        let q = self.q.get(lo..hi).unwrap_or(&[]);
        items
            .iter()
            .zip(q)
            .map(move |(&j, &q)| (j, s * f32::from(q)))
    }

    pub(crate) fn nnz(&self) -> usize {
        self.items.len()
    }
}

/// The item model: item ids, popularity, trending, sparse relations and optional metadata.
///
/// Items are addressed by a dense index `0..len()`; [`Model::index_of`] and [`Model::id`]
/// translate to and from the shop's ids.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub(crate) ids: Vec<String>,
    pub(crate) index: HashMap<String, u32>,
    pub(crate) pop: Vec<u32>,
    pub(crate) trend: Vec<u16>,
    pub(crate) next: Rows,
    pub(crate) together: Rows,
    pub(crate) bought: Rows,
    pub(crate) meta: Vec<ItemMeta>,
    pub(crate) params: ScoreParams,
    /// Items by popularity (desc), ties by index.
    pub(crate) pop_order: Vec<u32>,
    /// Items by trending score (desc), then popularity, then index.
    pub(crate) trend_order: Vec<u32>,
    pub(crate) ln_max_pop: f32,
}

impl Model {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_parts(
        ids: Vec<String>,
        pop: Vec<u32>,
        trend: Vec<u16>,
        next: Rows,
        together: Rows,
        bought: Rows,
        meta: Vec<ItemMeta>,
        params: ScoreParams,
    ) -> Model {
        let index = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i as u32))
            .collect();
        let mut pop_order: Vec<u32> = (0..ids.len() as u32).collect();
        pop_order.sort_by_key(|&i| (std::cmp::Reverse(pop[i as usize]), i));
        let mut trend_order = pop_order.clone();
        trend_order.sort_by_key(|&i| {
            (
                std::cmp::Reverse(trend[i as usize]),
                std::cmp::Reverse(pop[i as usize]),
                i,
            )
        });
        let max_pop = pop.iter().copied().max().unwrap_or(0);
        Model {
            ids,
            index,
            pop,
            trend,
            next,
            together,
            bought,
            meta,
            params,
            pop_order,
            trend_order,
            ln_max_pop: (1.0 + max_pop as f32).ln().max(1e-6),
        }
    }

    /// An empty model (a new shop): every strategy returns an empty list.
    pub fn empty() -> Model {
        Model::from_parts(
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Rows::empty(0),
            Rows::empty(0),
            Rows::empty(0),
            Vec::new(),
            ScoreParams::default(),
        )
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when the model has no items.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The shop's id of item `item`.
    pub fn id(&self, item: u32) -> Option<&str> {
        self.ids.get(item as usize).map(String::as_str)
    }

    /// The dense index of the shop's item id.
    pub fn index_of(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }

    /// Display metadata of `item`, when the model carries metadata.
    pub fn meta(&self, item: u32) -> Option<&ItemMeta> {
        self.meta.get(item as usize)
    }

    /// True when the model carries a metadata section.
    pub fn has_meta(&self) -> bool {
        !self.meta.is_empty()
    }

    /// Popularity count (clicks) of `item`.
    pub fn popularity(&self, item: u32) -> u32 {
        self.pop.get(item as usize).copied().unwrap_or(0)
    }

    /// Time-decayed trending score of `item`, in `0.0..=1.0` (1 = the hottest item).
    pub fn trending(&self, item: u32) -> f32 {
        self.trend
            .get(item as usize)
            .map_or(0.0, |&t| f32::from(t) / 65535.0)
    }

    /// The neighbours of `item` in `relation`, as `(item, weight)` sorted by item index.
    pub fn neighbors(
        &self,
        relation: Relation,
        item: u32,
    ) -> impl Iterator<Item = (u32, f32)> + '_ {
        self.rows(relation).row(item)
    }

    /// Number of stored `(item, neighbour)` pairs in `relation`.
    pub fn pairs(&self, relation: Relation) -> usize {
        self.rows(relation).nnz()
    }

    pub(crate) fn rows(&self, relation: Relation) -> &Rows {
        match relation {
            Relation::Next => &self.next,
            Relation::ViewedTogether => &self.together,
            Relation::BoughtTogether => &self.bought,
        }
    }

    /// The blend weights the for-you strategy uses.
    pub fn params(&self) -> ScoreParams {
        self.params
    }

    /// Replace the blend weights (the edge may tune them per shop before encoding).
    pub fn set_params(&mut self, params: ScoreParams) {
        self.params = params;
    }

    /// Attach or replace display metadata for the shop's item `id`; false when the model does not
    /// know the item.
    pub fn set_meta(&mut self, id: &str, meta: ItemMeta) -> bool {
        let Some(i) = self.index_of(id) else {
            return false;
        };
        if self.meta.is_empty() {
            self.meta = vec![ItemMeta::default(); self.ids.len()];
        }
        self.meta[i as usize] = meta;
        true
    }

    /// Popularity in `0.0..=1.0` on a log scale.
    pub(crate) fn pop_score(&self, item: u32) -> f32 {
        (1.0 + self.popularity(item) as f32).ln() / self.ln_max_pop
    }

    pub(crate) fn category(&self, item: u32) -> Option<&str> {
        self.meta(item).and_then(|m| m.category.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_model_is_safe() {
        let m = Model::empty();
        assert!(m.is_empty());
        assert_eq!(m.id(0), None);
        assert_eq!(m.popularity(7), 0);
        assert_eq!(m.neighbors(Relation::Next, 3).count(), 0);
        assert_eq!(m.trending(1), 0.0);
    }

    #[test]
    fn rows_dequantise() {
        let rows = Rows {
            start: vec![0, 2, 2],
            items: vec![1, 5],
            q: vec![255, 51],
            scale: vec![2.0, 0.0],
        };
        let r: Vec<_> = rows.row(0).collect();
        assert_eq!((r[0], r[1].0), ((1, 2.0), 5));
        assert!((r[1].1 - 0.4).abs() < 1e-6);
        assert_eq!(rows.row(1).count(), 0);
        assert_eq!(rows.row(9).count(), 0);
    }
}
