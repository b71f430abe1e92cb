//! The compact binary model format (what `GET /v1/model` serves).
//!
//! Layout, all integers LEB128 varints unless noted:
//!
//! ```text
//! "AFYM" (4 bytes) · version (1 byte, = 1) · flags (bit 0: metadata section)
//! params: 7 × f32 little-endian (next, together, repeat, popularity, decay, bought, hop)
//! n items · n × (id length, UTF-8 id bytes)
//! n × popularity · n × trending (u16 little-endian)
//! 3 relations (next, viewed together, bought together), each n rows of:
//!   row length m · [if m > 0: scale f32 LE · m × (index delta, weight u8)]
//!   (first index as is, then each next index − previous − 1: strictly increasing)
//! [metadata: string table (count, strings) · n × (flags byte · name · price? · category? ·
//!  brand? · url · image) with category/brand as string-table indices]
//! ```

use super::error::{Error, ErrorKind};
use super::model::{ItemMeta, Model, Rows, ScoreParams};

const MAGIC: &[u8; 4] = b"AFYM";
const VERSION: u8 = 1;
const FLAG_META: u64 = 1;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Index (1-based, 0 = none) of `s` in the metadata string table, adding it when new.
fn intern<'a>(
    s: &'a Option<String>,
    table: &mut Vec<&'a str>,
    lookup: &mut std::collections::HashMap<&'a str, u64>,
) -> u64 {
    match s {
        None => 0,
        Some(s) => *lookup.entry(s.as_str()).or_insert_with(|| {
            table.push(s.as_str());
            table.len() as u64
        }),
    }
}

fn put_rows(out: &mut Vec<u8>, rows: &Rows, n: usize) {
    for i in 0..n {
        let (lo, hi) = (rows.start[i] as usize, rows.start[i + 1] as usize);
        put_varint(out, (hi - lo) as u64);
        if hi == lo {
            continue;
        }
        out.extend_from_slice(&rows.scale[i].to_le_bytes());
        let mut prev: Option<u32> = None;
        for k in lo..hi {
            let j = rows.items[k];
            put_varint(out, u64::from(prev.map_or(j, |p| j - p - 1)));
            out.push(rows.q[k]);
            prev = Some(j);
        }
    }
}

impl Model {
    /// Serialise to the compact binary format (see the module docs for the layout).
    pub fn encode(&self) -> Vec<u8> {
        let n = self.ids.len();
        let mut out = Vec::with_capacity(16 + n * 64);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        put_varint(&mut out, if self.meta.is_empty() { 0 } else { FLAG_META });
        let p = self.params;
        for f in [
            p.next,
            p.together,
            p.repeat,
            p.popularity,
            p.decay,
            p.bought,
            p.hop,
        ] {
            out.extend_from_slice(&f.to_le_bytes());
        }
        put_varint(&mut out, n as u64);
        for id in &self.ids {
            put_str(&mut out, id);
        }
        for &c in &self.pop {
            put_varint(&mut out, u64::from(c));
        }
        for &t in &self.trend {
            out.extend_from_slice(&t.to_le_bytes());
        }
        for rows in [&self.next, &self.together, &self.bought] {
            put_rows(&mut out, rows, n);
        }
        if !self.meta.is_empty() {
            let mut table: Vec<&str> = Vec::new();
            let mut lookup = std::collections::HashMap::new();
            let mut refs: Vec<(u64, u64)> = Vec::with_capacity(self.meta.len());
            for m in &self.meta {
                let c = intern(&m.category, &mut table, &mut lookup);
                refs.push((c, intern(&m.brand, &mut table, &mut lookup)));
            }
            put_varint(&mut out, table.len() as u64);
            for s in &table {
                put_str(&mut out, s);
            }
            for (m, &(cat, brand)) in self.meta.iter().zip(&refs) {
                let flags = u8::from(m.in_stock) | (u8::from(m.price_cents.is_some()) << 1);
                out.push(flags);
                put_str(&mut out, &m.name);
                if let Some(p) = m.price_cents {
                    put_varint(&mut out, u64::from(p));
                }
                put_varint(&mut out, cat);
                put_varint(&mut out, brand);
                put_str(&mut out, &m.url);
                put_str(&mut out, &m.image);
            }
        }
        out
    }

    /// Read a model written by [`Model::encode`]. Hostile or truncated bytes give an error,
    /// never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Model, Error> {
        let mut r = Reader { bytes, pos: 0 };
        if bytes.len() < 4 || &bytes[..4] != MAGIC {
            return Err(Error::new(
                ErrorKind::NotAModel,
                "these bytes are not an Affinity item model (bad magic)",
            ));
        }
        r.pos = 4;
        let version = r.byte()?;
        if version != VERSION {
            return Err(Error::new(
                ErrorKind::Version,
                format!("item model format version {version} is not supported (this build reads version {VERSION})"),
            ));
        }
        let flags = r.varint()?;
        let mut f = [0f32; 7];
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
        };
        // Every item takes at least 4 bytes (id length, popularity, trending), so a count larger
        // than the remaining bytes is corrupt: this bounds every allocation below.
        let n = r.count(4)?;
        let mut ids = Vec::with_capacity(n);
        let mut seen = std::collections::HashSet::with_capacity(n);
        for _ in 0..n {
            let id = r.string()?;
            if !seen.insert(id.clone()) {
                return Err(r.corrupt(format!("item id {id:?} appears twice")));
            }
            ids.push(id);
        }
        let mut pop = Vec::with_capacity(n);
        for _ in 0..n {
            pop.push(
                u32::try_from(r.varint()?).map_err(|_| r.corrupt("popularity count too large"))?,
            );
        }
        let mut trend = Vec::with_capacity(n);
        for _ in 0..n {
            let b = r.take(2)?;
            trend.push(u16::from_le_bytes([b[0], b[1]]));
        }
        let next = r.rows(n)?;
        let together = r.rows(n)?;
        let bought = r.rows(n)?;
        let mut meta = Vec::new();
        if flags & FLAG_META != 0 {
            let t = r.count(1)?;
            let mut table = Vec::with_capacity(t);
            for _ in 0..t {
                table.push(r.string()?);
            }
            let lookup = |r: &Reader, v: u64| -> Result<Option<String>, Error> {
                if v == 0 {
                    return Ok(None);
                }
                table
                    .get(v as usize - 1)
                    .cloned()
                    .map(Some)
                    .ok_or_else(|| r.corrupt("metadata string index out of range"))
            };
            meta.reserve(n);
            for _ in 0..n {
                let fl = r.byte()?;
                let name = r.string()?;
                let price_cents = if fl & 2 != 0 {
                    Some(u32::try_from(r.varint()?).map_err(|_| r.corrupt("price too large"))?)
                } else {
                    None
                };
                let c = r.varint()?;
                let category = lookup(&r, c)?;
                let b = r.varint()?;
                let brand = lookup(&r, b)?;
                meta.push(ItemMeta {
                    name,
                    price_cents,
                    category,
                    brand,
                    url: r.string()?,
                    image: r.string()?,
                    in_stock: fl & 1 != 0,
                });
            }
        }
        if r.pos != bytes.len() {
            return Err(r.corrupt(format!(
                "{} unexpected bytes after the model",
                bytes.len() - r.pos
            )));
        }
        Ok(Model::from_parts(
            ids, pop, trend, next, together, bought, meta, params,
        ))
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn truncated(&self) -> Error {
        Error::new(
            ErrorKind::Truncated,
            format!(
                "item model is truncated: it ends at byte {} before its last section",
                self.bytes.len()
            ),
        )
    }

    fn corrupt(&self, what: impl core::fmt::Display) -> Error {
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
        Err(self.corrupt("integer longer than 64 bits"))
    }

    /// A count of things that take at least `min_bytes` each in the rest of the input.
    fn count(&mut self, min_bytes: usize) -> Result<usize, Error> {
        let v = self.varint()?;
        let left = (self.bytes.len() - self.pos) / min_bytes.max(1);
        if v > left as u64 {
            return Err(self.corrupt(format!(
                "count {v} exceeds what the remaining bytes can hold"
            )));
        }
        Ok(v as usize)
    }

    fn f32(&mut self) -> Result<f32, Error> {
        let b = self.take(4)?;
        let v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        if !v.is_finite() {
            return Err(self.corrupt("a weight is not a finite number"));
        }
        Ok(v)
    }

    fn string(&mut self) -> Result<String, Error> {
        let len = self.count(1)?;
        let b = self.take(len)?;
        String::from_utf8(b.to_vec()).map_err(|_| self.corrupt("text is not valid UTF-8"))
    }

    fn rows(&mut self, n: usize) -> Result<Rows, Error> {
        let mut rows = Rows::empty(0);
        rows.start.clear();
        rows.scale.clear();
        rows.start.push(0);
        for _ in 0..n {
            let m = self.count(2)?;
            let mut scale = 0.0;
            if m > 0 {
                scale = self.f32()?;
                if scale < 0.0 {
                    return Err(self.corrupt("negative weight scale"));
                }
                let mut prev: Option<u64> = None;
                for _ in 0..m {
                    let d = self.varint()?;
                    let j = match prev {
                        None => Some(d),
                        Some(p) => p.checked_add(d).and_then(|x| x.checked_add(1)),
                    };
                    let j = j
                        .filter(|&j| j < n as u64)
                        .ok_or_else(|| self.corrupt("neighbour index out of range"))?;
                    prev = Some(j);
                    rows.items.push(j as u32);
                    rows.q.push(self.byte()?);
                }
            }
            rows.scale.push(scale);
            rows.start.push(rows.items.len() as u32);
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::ModelBuilder;

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
            "item model format version 9 is not supported (this build reads version 1)"
        );
        // A huge item count in a tiny buffer is rejected before allocating.
        let mut b = b"AFYM\x01\x00".to_vec();
        b.extend_from_slice(&[0; 28]);
        b.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(Model::decode(&b).unwrap_err().is_corrupt());
        // A varint that never ends.
        let mut b = b"AFYM\x01".to_vec();
        b.extend_from_slice(&[0xff; 11]);
        assert!(Model::decode(&b).is_err());
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
                // Whatever decodes must be internally consistent enough to rank with.
                let q = crate::recommend::Query::new(crate::recommend::Strategy::ForYou, 5);
                let _ = m.recommend(&q);
            }
        }
    }
}
