//! The compact binary model format (what `GET /v1/model` serves).
//!
//! Layout, all integers LEB128 varints unless noted:
//!
//! ```text
//! "AFYM" (4 bytes) · version (1 byte, = 5) · flags (bit 0: metadata section)
//! params: 8 × f32 little-endian (next, together, repeat, popularity, decay, bought, hop,
//!   hop_together)
//! n items · n × (bytes shared with the previous id, suffix length, suffix bytes): ids strictly
//!   increasing (byte order), so item indices follow the ids, never the order of clicks
//! n × popularity level (u8) · n × trending level (u8)
//! 3 relations (next, viewed together, bought together), each n rows of:
//!   row length m · [if m > 0: body byte length · body = scale code u8 · m × (index delta, weight u8)]
//!   (first index as is, then each next index − previous − 1: strictly increasing)
//! [metadata: string table (count, strings) · n × (flags byte · name · price? · category? ·
//!  brand? · url · image) with category/brand as string-table indices]
//! ```
//!
//! Version 2 added the body byte length to every non-empty row, so that a reader can find each
//! row without decoding the rows before it: [`Model::decode`] checks the layout of every section
//! but leaves row bodies encoded until a row is read (see [`Model::neighbors`]). Version 3 stores
//! the items in id order with front-coded ids: no sort when a model is opened, the duplicate
//! check is a comparison with the previous id, and the table reveals no click order. Version 4
//! releases popularity and trending as one-byte levels (four per doubling of the distinct
//! shoppers, see [`crate::recommend::level`]) instead of exact counts, and stores each row's
//! scale as a one-byte code (`2^((code − 128) / 8)`) instead of an f32. Version 5 adds the
//! weight of two-step viewed-together neighbours (`hop_together`) to the params.

#[allow(unused_imports)]
use crate::prelude::*;

use super::error::{Error, ErrorKind};
use super::model::{put_varint, Meta, MetaItem, Model, RowRef, Rows, ScoreParams};
use crate::error::message;

const MAGIC: &[u8; 4] = b"AFYM";
/// Version of the binary model format that [`Model::encode`] writes and [`Model::decode`] reads.
/// Stored models of another version must be rebuilt.
pub const FORMAT_VERSION: u8 = 5;
const VERSION: u8 = FORMAT_VERSION;
const FLAG_META: u64 = 1;

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

impl Model {
    /// Serialise to the compact binary format (see the module docs for the layout).
    pub fn encode(&self) -> Vec<u8> {
        let n = self.len();
        let rows = [&self.next, &self.together, &self.bought];
        let mut out = Vec::with_capacity(
            64 + self.id_text.len() + n * 8 + rows.iter().map(|r| r.data.len()).sum::<usize>(),
        );
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        put_varint(&mut out, if self.has_meta() { FLAG_META } else { 0 });
        let p = self.params;
        for f in [
            p.next,
            p.together,
            p.repeat,
            p.popularity,
            p.decay,
            p.bought,
            p.hop,
            p.hop_together,
        ] {
            out.extend_from_slice(&f.to_le_bytes());
        }
        put_varint(&mut out, n as u64);
        // Items are numbered in id order (the builder does it), so each id shares a prefix with
        // the one before.
        let mut prev: &[u8] = &[];
        for i in 0..n as u32 {
            let id = self.id(i).unwrap_or("").as_bytes();
            let shared = prev.iter().zip(id).take_while(|(a, b)| a == b).count();
            put_varint(&mut out, shared as u64);
            put_varint(&mut out, (id.len() - shared) as u64);
            out.extend_from_slice(&id[shared..]);
            prev = id;
        }
        out.extend_from_slice(&self.pop);
        out.extend_from_slice(&self.trend);
        for rows in rows {
            // The in-memory rows are the encoded section.
            out.extend_from_slice(&rows.data);
        }
        if self.has_meta() {
            let meta = &self.meta;
            // Renumber the string table in order of first use (drops strings no item uses).
            let mut table: Vec<&str> = Vec::new();
            let mut lookup = HashMap::new();
            let mut intern = |k: u32| -> u64 {
                match meta.table_str(k) {
                    None => 0,
                    Some(s) => *lookup.entry(s).or_insert_with(|| {
                        table.push(s);
                        table.len() as u64
                    }),
                }
            };
            let refs: Vec<(u64, u64)> = meta
                .items
                .iter()
                .map(|m| {
                    let c = intern(m.cat);
                    (c, intern(m.brand))
                })
                .collect();
            put_varint(&mut out, table.len() as u64);
            for s in &table {
                put_str(&mut out, s);
            }
            for (m, &(cat, brand)) in meta.items.iter().zip(&refs) {
                let flags = u8::from(m.in_stock) | (u8::from(m.price.is_some()) << 1);
                out.push(flags);
                put_str(&mut out, meta.str(m.name));
                if let Some(p) = m.price {
                    put_varint(&mut out, u64::from(p));
                }
                put_varint(&mut out, cat);
                put_varint(&mut out, brand);
                put_str(&mut out, meta.str(m.url));
                put_str(&mut out, meta.str(m.image));
            }
        }
        out
    }

    /// Read a model written by [`Model::encode`]. Hostile or truncated bytes give an error,
    /// never a panic.
    ///
    /// Opening is cheap: the item table, popularity and trending are read, every section's
    /// layout and every string is checked, but neighbour rows stay encoded until read and item
    /// metadata is built on first use. What is *not* checked here is the inside of a row body
    /// (neighbour indices and the pairs filling the body exactly): a row that fails those checks
    /// when it is read reads as empty, so a corrupt row can cost recommendations but never a
    /// panic or an out-of-bounds read.
    pub fn decode(bytes: &[u8]) -> Result<Model, Error> {
        let mut r = Reader { bytes, pos: 0 };
        if bytes.len() < 4 || &bytes[..4] != MAGIC {
            return Err(Error::new(
                ErrorKind::NotAModel,
                message!(
                    "md1",
                    "these bytes are not an Affinity item model (bad magic)"
                ),
            ));
        }
        r.pos = 4;
        let version = r.byte()?;
        if version != VERSION {
            return Err(Error::new(
                ErrorKind::Version,
                message!("md2", "item model format version {version} is not supported (this build reads version {VERSION})"),
            ));
        }
        let flags = r.varint()?;
        let mut f = [0f32; 8];
        for v in &mut f {
            *v = r.f32()?;
        }
        let params = ScoreParams {
            next: f[0],
            together: f[1],
            repeat: f[2],
            popularity: f[3],
            decay: f[4],
            bought: f[5],
            hop: f[6],
            hop_together: f[7],
        };
        // Every item takes at least 4 bytes (shared, suffix length, popularity, trending), so a count larger
        // than the remaining bytes is corrupt: this bounds every allocation below.
        let n = r.count(4)?;
        let mut ids: Vec<u8> = Vec::new();
        let mut id_end = Vec::with_capacity(n);
        let mut prev = 0..0;
        for k in 0..n {
            let shared = r.varint()?;
            let len = r.count(1)?;
            let suffix = r.take(len)?;
            if shared > prev.len() as u64 {
                return Err(r.corrupt(message!(
                    "md3",
                    "an id shares more bytes than the last id has"
                )));
            }
            let start = ids.len();
            ids.extend_from_within(prev.start..prev.start + shared as usize);
            ids.extend_from_slice(suffix);
            if k > 0 && ids[prev] >= ids[start..] {
                return Err(r.corrupt(message!(
                    "md15",
                    "item ids are not in increasing order (or repeat)"
                )));
            }
            id_end.push(ids.len() as u32);
            prev = start..ids.len();
        }
        // One UTF-8 check for all ids, then every id must end on a character boundary (so each
        // id is UTF-8 on its own).
        let id_text = String::from_utf8(ids)
            .ok()
            .filter(|t| id_end.iter().all(|&e| t.is_char_boundary(e as usize)))
            .ok_or_else(|| r.corrupt(message!("md10", "text is not valid UTF-8")))?;
        let pop = r.take(n)?.to_vec();
        let trend = r.take(n)?.to_vec();
        let next = r.rows(n)?;
        let together = r.rows(n)?;
        let bought = r.rows(n)?;
        let meta = if flags & FLAG_META != 0 {
            r.meta(n)?
        } else {
            Meta::default()
        };
        if r.pos != bytes.len() {
            return Err(r.corrupt(message!(
                "md5",
                "{} unexpected bytes after the model",
                bytes.len() - r.pos
            )));
        }
        Ok(Model::from_raw(
            id_text,
            id_end,
            pop,
            trend,
            [next, together, bought],
            meta,
            params,
        ))
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn truncated(&self) -> Error {
        Error::new(
            ErrorKind::Truncated,
            message!(
                "md6",
                "item model is truncated: it ends at byte {} before its last section",
                self.bytes.len()
            ),
        )
    }

    /// A corrupt-model error; `what` is a [`message!`] (a code in the page module).
    fn corrupt(&self, what: String) -> Error {
        #[cfg(all(feature = "browser", target_arch = "wasm32", target_os = "unknown"))]
        return Error::new(ErrorKind::Corrupt, what);
        #[cfg(not(all(feature = "browser", target_arch = "wasm32", target_os = "unknown")))]
        Error::new(
            ErrorKind::Corrupt,
            format!("item model is corrupt near byte {}: {what}", self.pos),
        )
    }

    fn take(&mut self, k: usize) -> Result<&[u8], Error> {
        let end = self
            .pos
            .checked_add(k)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| self.truncated())?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, Error> {
        Ok(self.take(1)?[0])
    }

    fn varint(&mut self) -> Result<u64, Error> {
        // Fast path: most integers in a model fit one byte.
        if let Some(&b) = self.bytes.get(self.pos) {
            if b < 0x80 {
                self.pos += 1;
                return Ok(u64::from(b));
            }
        }
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                if shift == 63 && b > 1 {
                    break;
                }
                return Ok(v);
            }
        }
        Err(self.corrupt(message!("md7", "integer longer than 64 bits")))
    }

    /// A count of things that take at least `min_bytes` each in the rest of the input.
    fn count(&mut self, min_bytes: usize) -> Result<usize, Error> {
        let v = self.varint()?;
        let left = (self.bytes.len() - self.pos) as u64;
        if v.saturating_mul(min_bytes.max(1) as u64) > left {
            return Err(self.corrupt(message!(
                "md8",
                "count {v} exceeds what the remaining bytes can hold"
            )));
        }
        Ok(v as usize)
    }

    fn f32(&mut self) -> Result<f32, Error> {
        let b = self.take(4)?;
        let v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        if !v.is_finite() {
            return Err(self.corrupt(message!("md9", "a weight is not a finite number")));
        }
        Ok(v)
    }

    /// A length-prefixed UTF-8 string, borrowed from the input.
    fn str(&mut self) -> Result<&'a str, Error> {
        let len = self.count(1)?;
        let (bytes, pos) = (self.bytes, self.pos);
        self.take(len)?;
        core::str::from_utf8(&bytes[pos..pos + len])
            .map_err(|_| self.corrupt(message!("md10", "text is not valid UTF-8")))
    }

    /// A string's byte range relative to `base`, checked to be UTF-8.
    fn range(&mut self, base: usize) -> Result<(u32, u32), Error> {
        let s = self.str()?;
        let hi = self.pos - base;
        Ok(((hi - s.len()) as u32, hi as u32))
    }

    /// One relation: every row header is read and every body's bounds are checked;
    /// the bodies themselves stay encoded (see [`Rows`]).
    fn rows(&mut self, n: usize) -> Result<Rows, Error> {
        let base = self.pos;
        let mut index = Vec::with_capacity(n);
        let mut nnz = 0usize;
        for _ in 0..n {
            let m = self.count(2)?;
            if m == 0 {
                let at = (self.pos - base) as u32;
                index.push(RowRef {
                    start: at,
                    end: at,
                    len: 0,
                });
                continue;
            }
            let len = self.count(1)?;
            if len < 1 + 2 * m {
                return Err(
                    self.corrupt(message!("md11", "a row of {m} neighbours in {len} bytes"))
                );
            }
            let start = self.pos - base;
            self.take(len)?;
            index.push(RowRef {
                start: start as u32,
                end: (self.pos - base) as u32,
                len: m as u32,
            });
            nnz += m;
        }
        Ok(Rows {
            n: n as u32,
            index,
            data: self.bytes[base..self.pos].to_vec(),
            nnz,
        })
    }

    /// The metadata section: the string table is decoded, every item's record is checked and
    /// kept as byte ranges into a copy of the section.
    fn meta(&mut self, n: usize) -> Result<Meta, Error> {
        let t = self.count(1)?;
        let mut table = Vec::with_capacity(t);
        for _ in 0..t {
            table.push(self.str()?.to_string());
        }
        let base = self.pos;
        let mut items = Vec::with_capacity(n);
        let table_ref = |r: &Reader, v: u64| -> Result<u32, Error> {
            if v > t as u64 {
                return Err(r.corrupt(message!("md13", "metadata string index out of range")));
            }
            Ok(v as u32)
        };
        for _ in 0..n {
            let fl = self.byte()?;
            let name = self.range(base)?;
            let price = if fl & 2 != 0 {
                Some(
                    u32::try_from(self.varint()?)
                        .map_err(|_| self.corrupt(message!("md14", "price too large")))?,
                )
            } else {
                None
            };
            let c = self.varint()?;
            let cat = table_ref(self, c)?;
            let b = self.varint()?;
            let brand = table_ref(self, b)?;
            items.push(MetaItem {
                in_stock: fl & 1 != 0,
                price,
                cat,
                brand,
                name,
                url: self.range(base)?,
                image: self.range(base)?,
            });
        }
        Ok(Meta::new(table, items, self.bytes[base..self.pos].to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::{ItemMeta, ModelBuilder, Relation};

    fn sample() -> Model {
        let mut b = ModelBuilder::new();
        b.min_support(1);
        b.add_session(&[("p1", 0), ("p2", 10), ("p3", 20), ("p1", 30)]);
        b.add_session(&[("p2", 40), ("p3", 50)]);
        b.add_order(&["p1", "p3"]);
        b.set_meta(
            "p1",
            ItemMeta {
                name: "Red shoe".into(),
                price_cents: Some(4_999),
                category: Some("Shoes".into()),
                brand: Some("Acme".into()),
                url: "/p1".into(),
                image: "/p1.jpg".into(),
                in_stock: true,
            },
        );
        b.build()
    }

    #[test]
    fn round_trip() {
        let m = sample();
        let bytes = m.encode();
        assert_eq!(&bytes[..4], b"AFYM");
        let back = Model::decode(&bytes).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.encode(), bytes);
        let empty = Model::empty();
        assert_eq!(Model::decode(&empty.encode()).unwrap(), empty);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = sample().encode();
        for cut in 0..bytes.len() {
            assert!(Model::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(Model::decode(&long).unwrap_err().is_corrupt());
    }

    #[test]
    fn header_errors() {
        assert!(Model::decode(b"").unwrap_err().is_not_a_model());
        assert!(Model::decode(b"{\"json\":1}").unwrap_err().is_not_a_model());
        let e = Model::decode(b"AFYM\x09").unwrap_err();
        assert!(e.is_version());
        assert_eq!(
            e.to_string(),
            "item model format version 9 is not supported (this build reads version 5)"
        );
        // A huge item count in a tiny buffer is rejected before allocating.
        let mut b = b"AFYM\x05\x00".to_vec();
        b.extend_from_slice(&[0; 32]);
        b.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(Model::decode(&b).unwrap_err().is_corrupt());
        // A varint that never ends.
        let mut b = b"AFYM\x05".to_vec();
        b.extend_from_slice(&[0xff; 11]);
        assert!(Model::decode(&b).is_err());
    }

    /// Item table bytes: `n`, then each id as (shared, suffix length, suffix).
    fn with_ids(ids: &[(u8, &str)]) -> Vec<u8> {
        let mut b = b"AFYM\x05\x00".to_vec();
        b.extend_from_slice(&[0; 32]);
        b.push(ids.len() as u8);
        for (shared, suffix) in ids {
            b.extend_from_slice(&[*shared, suffix.len() as u8]);
            b.extend_from_slice(suffix.as_bytes());
        }
        b
    }

    #[test]
    fn ids_are_front_coded_in_increasing_order() {
        // Items are numbered by id whatever order they were first clicked in.
        let mut builder = crate::recommend::ModelBuilder::new();
        builder.min_support(1);
        builder.add_session(&[("shoe-9", 0), ("hat", 1), ("shoe-10", 2)]);
        let bytes = builder.build().encode();
        let m = Model::decode(&bytes).unwrap();
        let ids: Vec<&str> = (0..3).map(|i| m.id(i).unwrap()).collect();
        assert_eq!(ids, ["hat", "shoe-10", "shoe-9"]);
        // "shoe-9" shares "shoe-" with "shoe-10": 5 bytes shared, suffix "9".
        let table = [3, 0, 3, b'h', b'a', b't', 0, 7];
        let at = 4 + 1 + 1 + 32;
        assert_eq!(&bytes[at..at + table.len()], &table);
        assert_eq!(&bytes[at + 15..at + 18], &[5, 1, b'9']);
        // Out of order, repeated, or sharing more than the last id has: corrupt.
        for bad in [
            with_ids(&[(0, "b"), (0, "a")]),
            with_ids(&[(0, "a"), (1, "")]),
            with_ids(&[(0, "a"), (2, "b")]),
        ] {
            let e = Model::decode(&bad).unwrap_err();
            assert!(e.is_corrupt(), "{e}");
        }
        // Ids "a\xc3" and "\xa9": increasing, and their concatenation "aé" is UTF-8, but
        // neither id is on its own.
        let mut split = with_ids(&[]);
        split.pop();
        split.extend_from_slice(&[2, 0, 2, b'a', 0xc3, 0, 1, 0xa9]);
        split.extend_from_slice(&[0; 2 + 2 + 6]);
        let e = Model::decode(&split).unwrap_err();
        assert!(e.is_corrupt(), "{e}");
        assert!(e.to_string().contains("UTF-8"), "{e}");
    }

    #[test]
    fn version_1_is_rejected() {
        let mut bytes = sample().encode();
        bytes[4] = 1;
        let e = Model::decode(&bytes).unwrap_err();
        assert!(e.is_version());
    }

    /// Where the Next relation's section starts in `bytes`, and row `i`'s body in it.
    fn next_row_body(bytes: &[u8], m: &Model, i: u32) -> usize {
        let data = &m.next.data;
        let at = bytes
            .windows(data.len())
            .position(|w| w == &data[..])
            .unwrap();
        at + m.next.index[i as usize].start as usize
    }

    #[test]
    fn corrupt_row_reads_as_empty() {
        let m = sample();
        let bytes = m.encode();
        let p2 = m.index_of("p2").unwrap();
        let p3 = m.index_of("p3").unwrap();
        assert!(m.neighbors(Relation::Next, p2).count() > 0);
        // The first neighbour index of p2's row points past the last item: the model opens,
        // that row reads as empty, every other row is intact.
        let mut b = bytes.clone();
        b[next_row_body(&bytes, &m, p2) + 1] = 0x7f;
        let bad = Model::decode(&b).unwrap();
        assert_eq!(bad.neighbors(Relation::Next, p2).count(), 0);
        assert_eq!(bad.pairs(Relation::Next), m.pairs(Relation::Next));
        for i in 0..m.len() as u32 {
            for rel in [Relation::ViewedTogether, Relation::BoughtTogether] {
                assert!(bad.neighbors(rel, i).eq(m.neighbors(rel, i)));
            }
            if i != p2 {
                assert!(bad
                    .neighbors(Relation::Next, i)
                    .eq(m.neighbors(Relation::Next, i)));
            }
        }
        let mut q = crate::recommend::Query::new(crate::recommend::Strategy::ForYou, 3);
        q.viewed("p2", 0);
        assert_eq!(bad.recommend(&q).len(), m.recommend(&q).len());
        // A continuation bit on the last weight's index runs the varint into the next row: the
        // pairs no longer fill the body.
        let mut b = bytes.clone();
        let body = next_row_body(&bytes, &m, p3);
        b[body + 1] |= 0x80;
        let bad = Model::decode(&b).unwrap();
        assert_eq!(bad.neighbors(Relation::Next, p3).count(), 0);
        // A body length too short for its pair count is caught at open.
        let mut b = bytes.clone();
        b[body - 1] = 2;
        assert!(Model::decode(&b).unwrap_err().is_corrupt());
    }

    #[test]
    fn lazy_metadata_matches() {
        let m = sample();
        let back = Model::decode(&m.encode()).unwrap();
        let p1 = back.index_of("p1").unwrap();
        assert_eq!(back.meta(p1), m.meta(p1));
        assert_eq!(back.meta(p1).unwrap().name, "Red shoe");
        assert_eq!(back.category(p1), Some("Shoes"));
        // The borrowed accessors the page renders cards from.
        assert_eq!(back.name(p1), Some("Red shoe"));
        assert_eq!(back.price_cents(p1), Some(4_999));
        assert_eq!(back.url(p1), Some("/p1"));
        assert_eq!(back.image(p1), Some("/p1.jpg"));
        let p2 = back.index_of("p2").unwrap();
        assert_eq!(back.meta(p2), Some(ItemMeta::default()));
        assert_eq!((back.url(p2), back.image(p2)), (Some(""), Some("")));
        assert_eq!(back.url(99), None);
        assert_eq!(back.meta(99), None);
        // Replacing metadata drops the old strings from the next encoding.
        let mut edited = back.clone();
        let mut shoe = m.meta(p1).unwrap();
        shoe.category = Some("Boots".into());
        assert!(edited.set_meta("p1", shoe.clone()));
        assert!(!edited.set_meta("nope", shoe.clone()));
        let again = Model::decode(&edited.encode()).unwrap();
        assert_eq!(again.meta(p1), Some(shoe));
        assert_eq!(again.meta.table, ["Boots", "Acme"]);
    }

    #[test]
    fn flipped_bytes_never_panic() {
        let bytes = sample().encode();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..5_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut b = bytes.clone();
            let at = (seed % b.len() as u64) as usize;
            b[at] ^= (seed >> 32) as u8 | 1;
            if let Ok(m) = Model::decode(&b) {
                // Whatever decodes must be internally consistent enough to rank with, with every
                // strategy, and to read every item's accessors.
                use crate::recommend::{Query, Strategy};
                for strategy in Strategy::ALL {
                    let mut q = Query::new(strategy, 5);
                    q.viewed("p1", 1).viewed("p2", 2);
                    q.anchor = Some("p3".into());
                    q.cart = vec!["p1".into()];
                    for s in m.recommend(&q) {
                        let _ = s.reason.text(&m);
                    }
                }
                for i in 0..m.len() as u32 + 1 {
                    let _ = (m.id(i), m.meta(i), m.name(i), m.url(i), m.image(i));
                    let _ = (m.price_cents(i), m.category(i), m.popularity(i));
                }
            }
        }
    }
}
