//! The item model: what the edge builds and ships, and what the page ranks with.

#[allow(unused_imports)]
use crate::prelude::*;

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
    /// Weight of two-step viewed-together neighbours (viewed together with what was viewed
    /// together) of the most recent items: the candidates a session-kNN method reaches through
    /// neighbouring sessions, from aggregates only.
    pub hop_together: f32,
}

impl Default for ScoreParams {
    /// The weights tuned on yoochoose-100k train_tr → train_valid (see `docs/recommend.md`).
    fn default() -> Self {
        ScoreParams {
            next: 1.0,
            together: 0.35,
            repeat: 1.5,
            popularity: 0.0,
            decay: 0.3,
            bought: 1.0,
            hop: 0.1,
            hop_together: 0.3,
        }
    }
}

/// Read one LEB128 varint at `*pos` (at most 64 bits); `None` when truncated or too long.
#[cfg_attr(not(feature = "page"), inline(always))]
#[cfg_attr(feature = "page", inline)]
pub(crate) fn read_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0u32;
    loop {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        if shift == 63 && b > 1 {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
}

/// Where one row's body lies in [`Rows::data`] and how many pairs its header states.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RowRef {
    pub(crate) start: u32,
    pub(crate) end: u32,
    pub(crate) len: u32,
}

/// A sparse relation, kept in its encoded form and decoded one row at a time.
///
/// `data` is exactly the relation's section of the binary format: per row, the pair count `m`,
/// then when `m > 0` the body's byte length and the body (scale code u8, see [`scale_of`], then
/// `m` × (index delta varint, weight u8)). Opening a model checks only that every body lies
/// inside the section; a row whose body turns out malformed when read (index out of range or
/// not increasing, pairs not filling the body exactly) reads as empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Rows {
    /// Number of items: every neighbour index must be below it.
    pub(crate) n: u32,
    /// One entry per row.
    pub(crate) index: Vec<RowRef>,
    /// The encoded rows.
    pub(crate) data: Vec<u8>,
    /// Total pair count (as the row headers state).
    pub(crate) nnz: usize,
}

impl Rows {
    pub(crate) fn empty(n: usize) -> Rows {
        let mut rows = Rows {
            n: n as u32,
            ..Rows::default()
        };
        for _ in 0..n {
            rows.push_empty();
        }
        rows
    }

    fn push_empty(&mut self) {
        self.data.push(0);
        let at = self.data.len() as u32;
        self.index.push(RowRef {
            start: at,
            end: at,
            len: 0,
        });
    }

    /// Encode rows of `(neighbour, weight u8)` sorted by strictly increasing neighbour, each
    /// with its scale code (what the builder produces).
    pub(crate) fn from_rows(
        n: usize,
        rows: impl IntoIterator<Item = (u8, Vec<(u32, u8)>)>,
    ) -> Rows {
        let mut out = Rows {
            n: n as u32,
            ..Rows::default()
        };
        let mut body = Vec::new();
        for (scale, row) in rows {
            if row.is_empty() {
                out.push_empty();
                continue;
            }
            body.clear();
            body.push(scale);
            let mut prev: Option<u32> = None;
            for &(j, q) in &row {
                put_varint(&mut body, u64::from(prev.map_or(j, |p| j - p - 1)));
                body.push(q);
                prev = Some(j);
            }
            put_varint(&mut out.data, row.len() as u64);
            put_varint(&mut out.data, body.len() as u64);
            let start = out.data.len() as u32;
            out.data.extend_from_slice(&body);
            out.index.push(RowRef {
                start,
                end: out.data.len() as u32,
                len: row.len() as u32,
            });
            out.nnz += row.len();
        }
        out
    }

    /// The scale and pair bytes of row `i` when the row is well formed (all indices `< n`,
    /// strictly increasing, exactly `len` pairs filling the body); `None` otherwise.
    fn checked(&self, i: usize) -> Option<(f32, &[u8], u32)> {
        let r = *self.index.get(i)?;
        if r.len == 0 {
            return None;
        }
        let body = self.data.get(r.start as usize..r.end as usize)?;
        let (&code, pairs) = body.split_first()?;
        let scale = scale_of(code);
        let mut pos = 0;
        let mut prev: Option<u64> = None;
        for _ in 0..r.len {
            let d = read_varint(pairs, &mut pos)?;
            let j = match prev {
                None => d,
                Some(p) => p.checked_add(d)?.checked_add(1)?,
            };
            if j >= u64::from(self.n) {
                return None;
            }
            prev = Some(j);
            pos += 1;
        }
        (pos == pairs.len()).then_some((scale, pairs, r.len))
    }

    /// Neighbours of `item` with their weights; empty for an unknown item or a malformed row.
    pub(crate) fn row(&self, item: u32) -> RowIter<'_> {
        match self.checked(item as usize) {
            Some((scale, pairs, m)) => RowIter {
                pairs,
                pos: 0,
                left: m,
                prev: None,
                s: scale / 255.0,
            },
            None => RowIter {
                pairs: &[],
                pos: 0,
                left: 0,
                prev: None,
                s: 0.0,
            },
        }
    }

    pub(crate) fn nnz(&self) -> usize {
        self.nnz
    }
}

/// Iterator over one decoded row: `(neighbour, weight)` by increasing neighbour.
#[derive(Debug, Clone)]
pub(crate) struct RowIter<'a> {
    pairs: &'a [u8],
    pos: usize,
    left: u32,
    prev: Option<u32>,
    s: f32,
}

impl Iterator for RowIter<'_> {
    type Item = (u32, f32);

    // Always inlined natively, where the evaluator ranks many times (inlining it everywhere
    // would only add weight to the page).
    #[cfg_attr(not(feature = "page"), inline(always))]
    #[cfg_attr(feature = "page", inline)]
    fn next(&mut self) -> Option<(u32, f32)> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // The row was checked when the iterator was made: these reads cannot fail.
        let d = read_varint(self.pairs, &mut self.pos)? as u32;
        let j = self.prev.map_or(d, |p| p + d + 1);
        let q = *self.pairs.get(self.pos)?;
        self.pos += 1;
        self.prev = Some(j);
        Some((j, self.s * f32::from(q)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

/// The scale of a row from its one-byte code: `2^((code − 128) / 8)` (steps of 9 %, from
/// 2^-15.9 to 2^15.9), and 0 for code 0.
pub(crate) fn scale_of(code: u8) -> f32 {
    // 2^(k/8) for k = 0..8, times a power of two built from its bits: no `exp2` in the page.
    const EIGHTHS: [f32; 8] = [
        1.0,
        1.090_507_7,
        1.189_207_1,
        1.296_839_6,
        core::f32::consts::SQRT_2,
        1.542_210_8,
        1.681_792_8,
        1.834_008,
    ];
    if code == 0 {
        return 0.0;
    }
    let k = i32::from(code) - 128;
    let whole = f32::from_bits(((k.div_euclid(8) + 127) as u32) << 23);
    whole * EIGHTHS[k.rem_euclid(8) as usize]
}

/// The code of the nearest scale at or above `s` (so quantised weights stay ≤ 255), see
/// [`scale_of`]; 0 for 0 or a non-finite value.
pub(crate) fn scale_code(s: f32) -> u8 {
    if !s.is_finite() || s <= 0.0 {
        return 0;
    }
    ((8.0 * s.log2()).ceil() + 128.0).clamp(1.0, 255.0) as u8
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Display metadata of one item in compact form: strings as byte ranges into [`Meta::text`],
/// category and brand as 1-based string-table indices (0 = none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MetaItem {
    pub(crate) in_stock: bool,
    pub(crate) price: Option<u32>,
    pub(crate) cat: u32,
    pub(crate) brand: u32,
    pub(crate) name: (u32, u32),
    pub(crate) url: (u32, u32),
    pub(crate) image: (u32, u32),
}

/// The metadata section: ranking reads stock, price and category from the compact per-item
/// facts, the page's cards borrow names and URLs; an [`ItemMeta`] is built only when asked for.
#[derive(Debug, Clone, Default)]
pub(crate) struct Meta {
    /// Category and brand strings.
    pub(crate) table: Vec<String>,
    pub(crate) items: Vec<MetaItem>,
    /// UTF-8 text holding names, urls and images (every range was checked at open).
    pub(crate) text: Vec<u8>,
}

impl Meta {
    pub(crate) fn new(table: Vec<String>, items: Vec<MetaItem>, text: Vec<u8>) -> Meta {
        Meta { table, items, text }
    }

    fn from_metas(metas: Vec<ItemMeta>) -> Meta {
        let mut meta = Meta::new(Vec::new(), Vec::new(), Vec::new());
        let mut lookup = HashMap::new();
        for m in metas {
            meta.push(m, &mut lookup);
        }
        meta
    }

    fn push(&mut self, m: ItemMeta, lookup: &mut HashMap<String, u32>) {
        let item = self.compact(&m, lookup);
        self.items.push(item);
    }

    fn compact(&mut self, m: &ItemMeta, lookup: &mut HashMap<String, u32>) -> MetaItem {
        let mut text = |s: &str| {
            let lo = self.text.len() as u32;
            self.text.extend_from_slice(s.as_bytes());
            (lo, self.text.len() as u32)
        };
        let (name, url, image) = (text(&m.name), text(&m.url), text(&m.image));
        let mut intern = |s: &Option<String>| match s {
            None => 0,
            Some(s) => *lookup.entry(s.clone()).or_insert_with(|| {
                self.table.push(s.clone());
                self.table.len() as u32
            }),
        };
        MetaItem {
            in_stock: m.in_stock,
            price: m.price_cents,
            cat: intern(&m.category),
            brand: intern(&m.brand),
            name,
            url,
            image,
        }
    }

    fn set(&mut self, i: usize, m: ItemMeta) {
        let mut lookup = self
            .table
            .iter()
            .enumerate()
            .map(|(k, s)| (s.clone(), k as u32 + 1))
            .collect();
        self.items[i] = self.compact(&m, &mut lookup);
    }

    pub(crate) fn str(&self, range: (u32, u32)) -> &str {
        let bytes = self
            .text
            .get(range.0 as usize..range.1 as usize)
            .unwrap_or(&[]);
        core::str::from_utf8(bytes).unwrap_or("")
    }

    pub(crate) fn table_str(&self, k: u32) -> Option<&str> {
        k.checked_sub(1)
            .and_then(|k| self.table.get(k as usize))
            .map(String::as_str)
    }

    fn get(&self, i: usize) -> Option<ItemMeta> {
        let m = *self.items.get(i)?;
        Some(ItemMeta {
            name: self.str(m.name).to_string(),
            price_cents: m.price,
            category: self.table_str(m.cat).map(str::to_string),
            brand: self.table_str(m.brand).map(str::to_string),
            url: self.str(m.url).to_string(),
            image: self.str(m.image).to_string(),
            in_stock: m.in_stock,
        })
    }
}

impl PartialEq for Meta {
    fn eq(&self, other: &Meta) -> bool {
        self.items.len() == other.items.len()
            && (0..self.items.len()).all(|i| self.get(i) == other.get(i))
    }
}

/// The item model: item ids, popularity, trending, sparse relations and optional metadata.
///
/// Items are addressed by a dense index `0..len()`; [`Model::index_of`] and [`Model::id`]
/// translate to and from the shop's ids. A decoded model keeps the relations and the metadata
/// texts in their encoded form and decodes a row (or an item's metadata) when it is read, so
/// opening a model costs little more than reading its item table.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// All item ids, concatenated.
    pub(crate) id_text: String,
    /// End offset of each item's id in `id_text`.
    pub(crate) id_end: Vec<u32>,
    /// Popularity levels ([`crate::recommend::level`] of the distinct shoppers).
    pub(crate) pop: Vec<u8>,
    /// Trending levels (the same scale, in sixteenths of a shopper).
    pub(crate) trend: Vec<u8>,
    pub(crate) next: Rows,
    pub(crate) together: Rows,
    pub(crate) bought: Rows,
    pub(crate) meta: Meta,
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
        pop: Vec<u8>,
        trend: Vec<u8>,
        next: Rows,
        together: Rows,
        bought: Rows,
        meta: Vec<ItemMeta>,
        params: ScoreParams,
    ) -> Model {
        let mut id_text = String::new();
        let mut id_end = Vec::with_capacity(ids.len());
        for id in &ids {
            id_text.push_str(id);
            id_end.push(id_text.len() as u32);
        }
        debug_assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ids in increasing order"
        );
        Model::from_raw(
            id_text,
            id_end,
            pop,
            trend,
            [next, together, bought],
            Meta::from_metas(meta),
            params,
        )
    }

    /// Assemble a model from its parts (ids strictly increasing in byte order: item indices
    /// follow the ids, which [`Model::index_of`] searches).
    pub(crate) fn from_raw(
        id_text: String,
        id_end: Vec<u32>,
        pop: Vec<u8>,
        trend: Vec<u8>,
        [next, together, bought]: [Rows; 3],
        meta: Meta,
        params: ScoreParams,
    ) -> Model {
        let n = id_end.len() as u32;
        // By popularity (desc), ties by index: one packed integer key per item.
        let mut pop_order: Vec<u32> = (0..n).collect();
        crate::sort::sort_by_u64(&mut pop_order, |&i| {
            u64::from(u8::MAX - pop[i as usize]) << 32 | u64::from(i)
        });
        // By trending (desc), then popularity order: a stable sort of the popularity order.
        let mut trend_order = pop_order.clone();
        crate::sort::sort_by_u64(&mut trend_order, |&i| {
            u64::from(u8::MAX - trend[i as usize])
        });
        let mut top = 0;
        for &l in &pop {
            top = top.max(l);
        }
        let max_pop = crate::recommend::level_value(top);
        Model {
            id_text,
            id_end,
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

    fn id_at(&self, item: u32) -> &str {
        self.id(item).unwrap_or("")
    }

    /// An empty model (a new shop): every strategy returns an empty list.
    pub fn empty() -> Model {
        Model {
            id_text: String::new(),
            id_end: Vec::new(),
            pop: Vec::new(),
            trend: Vec::new(),
            next: Rows::empty(0),
            together: Rows::empty(0),
            bought: Rows::empty(0),
            meta: Meta::default(),
            params: ScoreParams::default(),
            pop_order: Vec::new(),
            trend_order: Vec::new(),
            ln_max_pop: 1e-6,
        }
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.id_end.len()
    }

    /// True when the model has no items.
    pub fn is_empty(&self) -> bool {
        self.id_end.is_empty()
    }

    /// The shop's id of item `item`.
    pub fn id(&self, item: u32) -> Option<&str> {
        let i = item as usize;
        let hi = *self.id_end.get(i)? as usize;
        let lo = if i == 0 {
            0
        } else {
            self.id_end[i - 1] as usize
        };
        self.id_text.get(lo..hi)
    }

    /// The dense index of the shop's item id.
    pub fn index_of(&self, id: &str) -> Option<u32> {
        // Item indices follow the ids (byte order).
        let (mut lo, mut hi) = (0, self.len() as u32);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.id_at(mid).cmp(id) {
                core::cmp::Ordering::Less => lo = mid + 1,
                core::cmp::Ordering::Greater => hi = mid,
                core::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// Display metadata of `item`, when the model carries metadata (a copy built from the
    /// compact form; the page's cards use the borrowing accessors such as [`Model::name`]).
    pub fn meta(&self, item: u32) -> Option<ItemMeta> {
        self.meta.get(item as usize)
    }

    /// True when the model carries a metadata section.
    pub fn has_meta(&self) -> bool {
        !self.meta.items.is_empty()
    }

    /// Popularity of `item`: the distinct shoppers who clicked it, released coarsely (the lower
    /// edge of its level, four levels per doubling; 0 below the minimum support).
    pub fn popularity(&self, item: u32) -> u32 {
        self.pop
            .get(item as usize)
            .map_or(0, |&l| crate::recommend::level_value(l).round() as u32)
    }

    /// Time-decayed trending level of `item`, in `0.0..=1.0` (level / 255; 0 below the minimum
    /// support). Only the order of these values carries meaning.
    pub fn trending(&self, item: u32) -> f32 {
        self.trend
            .get(item as usize)
            .map_or(0.0, |&t| f32::from(t) / 255.0)
    }

    /// The neighbours of `item` in `relation`, as `(item, weight)` sorted by item index.
    ///
    /// Rows are decoded on demand; a row whose encoded body is malformed (which opening the
    /// model does not check, see [`Model::decode`]) reads as empty.
    pub fn neighbors(
        &self,
        relation: Relation,
        item: u32,
    ) -> impl Iterator<Item = (u32, f32)> + '_ {
        self.rows(relation).row(item)
    }

    /// Number of stored `(item, neighbour)` pairs in `relation` (as the rows' headers state).
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
        if self.meta.items.is_empty() {
            self.meta = Meta::from_metas(vec![ItemMeta::default(); self.len()]);
        }
        self.meta.set(i as usize, meta);
        true
    }

    /// Popularity in `0.0..=1.0` on a log scale.
    pub(crate) fn pop_score(&self, item: u32) -> f32 {
        (1.0 + self.popularity(item) as f32).ln() / self.ln_max_pop
    }

    fn meta_item(&self, item: u32) -> Option<&MetaItem> {
        self.meta.items.get(item as usize)
    }

    pub(crate) fn category(&self, item: u32) -> Option<&str> {
        self.meta_item(item)
            .and_then(|m| self.meta.table_str(m.cat))
    }

    /// `Some(in_stock)` when the item has metadata.
    pub(crate) fn in_stock(&self, item: u32) -> Option<bool> {
        self.meta_item(item).map(|m| m.in_stock)
    }

    /// The item's price in the shop's minor unit (cents), when its metadata has one.
    pub fn price_cents(&self, item: u32) -> Option<u32> {
        self.meta_item(item).and_then(|m| m.price)
    }

    /// The item's display name from the metadata (possibly empty).
    pub fn name(&self, item: u32) -> Option<&str> {
        self.meta_item(item).map(|m| self.meta.str(m.name))
    }

    /// The item's product page URL from the metadata (possibly empty), borrowed from the model
    /// (unlike [`Model::meta`], nothing is copied).
    pub fn url(&self, item: u32) -> Option<&str> {
        self.meta_item(item).map(|m| self.meta.str(m.url))
    }

    /// The item's image URL from the metadata (possibly empty), borrowed from the model.
    pub fn image(&self, item: u32) -> Option<&str> {
        self.meta_item(item).map(|m| self.meta.str(m.image))
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
    fn scale_codes() {
        assert_eq!(scale_of(0), 0.0);
        assert_eq!(scale_of(128), 1.0);
        assert_eq!(scale_of(136), 2.0);
        assert_eq!(scale_code(1.0), 128);
        assert_eq!(scale_code(2.0), 136);
        // Rounded up: the stored scale is never below the row's largest weight.
        assert_eq!(scale_code(1.01), 129);
        for s in [1e-3f32, 0.3, 0.77, 5.0, 900.0] {
            let back = scale_of(scale_code(s));
            assert!(back >= s && back <= s * 1.091, "{s} → {back}");
        }
        assert_eq!(scale_code(0.0), 0);
        assert_eq!(scale_code(f32::NAN), 0);
        // The table and the bits agree with a plain power over every code.
        for c in 1..=255u8 {
            let want = ((f32::from(c) - 128.0) / 8.0).exp2();
            assert!((scale_of(c) - want).abs() <= want * 1e-6, "{c}");
        }
    }

    #[test]
    fn rows_dequantise() {
        // Scale code 136 = 2.0.
        let rows = Rows::from_rows(6, [(136, vec![(1, 255), (5, 51)]), (0, vec![])]);
        let r: Vec<_> = rows.row(0).collect();
        assert_eq!((r[0], r[1].0), ((1, 2.0), 5));
        assert!((r[1].1 - 0.4).abs() < 1e-6);
        assert_eq!(rows.row(1).count(), 0);
        assert_eq!(rows.row(9).count(), 0);
        assert_eq!(rows.nnz(), 2);
    }

    #[test]
    fn malformed_row_reads_as_empty() {
        let good = Rows::from_rows(6, [(136, vec![(1, 255), (5, 51)]), (128, vec![(0, 9)])]);
        assert_eq!(good.row(0).count(), 2);
        // Index out of range: only this row is lost.
        let mut bad = good.clone();
        bad.n = 5;
        assert_eq!(bad.row(0).count(), 0);
        assert_eq!(bad.row(1).count(), 1);
        // A pair count the body cannot hold.
        let mut bad = good.clone();
        bad.index[0].len = 3;
        assert_eq!(bad.row(0).count(), 0);
        // A varint running past the body.
        let mut bad = good.clone();
        let at = bad.index[0].start as usize + 1;
        bad.data[at] = 0x80;
        bad.data[at + 1] = 0x80;
        assert_eq!(bad.row(0).count(), 0);
    }
}
