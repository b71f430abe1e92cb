//! The compact binary form of rules, shipped to the page instead of rule text.
//!
//! The page decodes and evaluates; it never links the parser or its error text. Decoding checks
//! every length against the bytes left, the nesting depth against [`MAX_TREE_DEPTH`] and every
//! value against the limits the parser applies, so hostile or truncated bytes give a
//! [`DecodeError`], never a panic, an unbounded allocation or a deep recursion.
//!
//! Layout (version 1): a magic byte (`R` for a rule, `S` for a segment set), the version byte,
//! then the tree in prefix order. A segment set (version [`SET_FORMAT_VERSION`]) is a count, then
//! each segment's name and rule, dependencies first. Unsigned integers are LEB128; numbers are a tag byte followed by
//! a zig-zag LEB128 integer (whole numbers up to 2⁵³) or 8 little-endian IEEE-754 bytes; text is
//! a length and UTF-8 bytes.

#[allow(unused_imports)]
use crate::prelude::*;

use super::ast::{
    Condition, Count, Duration, EventCondition, Filter, Literal, Path, Rule, Sequence, Test, Unit,
    Window, MAX_AMOUNT,
};
use core::fmt;

/// Version of the binary form written by [`encode`]; [`decode`] reads this version only.
pub const FORMAT_VERSION: u8 = 1;

/// Version of a compiled segment set ([`SegmentSet::encode`](super::SegmentSet::encode)): the
/// rules are those of [`FORMAT_VERSION`]; since version 2 the segments come dependencies first,
/// so an `in segment` names an earlier segment and the page needs no ordering of its own.
/// [`SegmentSet::decode`](super::SegmentSet::decode) reads version 2; the edge also reads
/// version 1 ([`SegmentSet::decode_any_version`](super::SegmentSet::decode_any_version)).
pub const SET_FORMAT_VERSION: u8 = 2;

/// The set version before segments were written dependencies first.
pub(crate) const SET_VERSION_1: u8 = 1;

/// Deepest tree [`decode`] accepts. Any rule the parser accepts is shallower.
pub const MAX_TREE_DEPTH: usize = 100;

const RULE_MAGIC: u8 = b'R';
const SET_MAGIC: u8 = b'S';

/// Why compiled bytes could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The bytes end in the middle of a value.
    Truncated,
    /// The first byte is not the expected magic byte.
    NotRules,
    /// Written by a different version of the format.
    Version,
    /// A tag, number, name or limit that a valid encoding never holds.
    Invalid,
    /// Nested deeper than [`MAX_TREE_DEPTH`].
    TooDeep,
    /// Bytes left over after the end.
    Trailing,
}

/// An error decoding compiled rules, with the byte offset where it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    offset: usize,
}

impl DecodeError {
    pub(crate) fn new(kind: DecodeErrorKind, offset: usize) -> DecodeError {
        DecodeError { kind, offset }
    }

    /// What went wrong.
    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }

    /// Byte offset of the problem.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// True when the bytes end too early.
    pub fn is_truncated(&self) -> bool {
        self.kind == DecodeErrorKind::Truncated
    }

    /// True when the bytes were written by another format version.
    pub fn is_version(&self) -> bool {
        self.kind == DecodeErrorKind::Version
    }

    /// True when the bytes hold something no valid encoding holds (including a wrong magic byte,
    /// excess depth and trailing bytes).
    pub fn is_invalid(&self) -> bool {
        !self.is_truncated() && !self.is_version()
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            DecodeErrorKind::Truncated => "compiled rules end too early",
            DecodeErrorKind::NotRules => "not compiled rules",
            DecodeErrorKind::Version => "compiled rules of another format version",
            DecodeErrorKind::Invalid => "invalid compiled rules",
            DecodeErrorKind::TooDeep => "compiled rules nested too deeply",
            DecodeErrorKind::Trailing => "unexpected bytes after the compiled rules",
        };
        write!(f, "{what} (at byte {})", self.offset)
    }
}

impl core::error::Error for DecodeError {}

impl From<DecodeError> for super::Error {
    fn from(e: DecodeError) -> Self {
        super::Error::new(super::ErrorKind::Decode, e.to_string())
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

pub(crate) struct Writer(pub(crate) Vec<u8>);

impl Writer {
    pub(crate) fn header(magic: u8, version: u8) -> Writer {
        Writer(vec![magic, version])
    }

    pub(crate) fn uint(&mut self, mut n: u64) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.0.push(byte);
                return;
            }
            self.0.push(byte | 0x80);
        }
    }

    fn len(&mut self, n: usize) {
        self.uint(n as u64);
    }

    fn number(&mut self, n: f64) {
        const LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53
        if n.fract() == 0.0 && n.abs() <= LIMIT && !(n == 0.0 && n.is_sign_negative()) {
            let i = n as i64;
            self.0.push(0);
            self.uint(((i << 1) ^ (i >> 63)) as u64);
        } else {
            self.0.push(1);
            self.0.extend_from_slice(&n.to_le_bytes());
        }
    }

    pub(crate) fn text(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }

    fn literal(&mut self, l: &Literal) {
        match l {
            Literal::Number(n) => {
                self.0.push(0);
                self.number(*n);
            }
            Literal::Text(s) => {
                self.0.push(1);
                self.text(s);
            }
            Literal::Bool(b) => self.0.push(2 + u8::from(*b)),
        }
    }

    fn list(&mut self, items: &[Literal]) {
        self.len(items.len());
        for l in items {
            self.literal(l);
        }
    }

    fn test(&mut self, t: &Test) {
        match t {
            Test::Eq(l) => {
                self.0.push(0);
                self.literal(l);
            }
            Test::Ne(l) => {
                self.0.push(1);
                self.literal(l);
            }
            Test::Lt(n) | Test::Le(n) | Test::Gt(n) | Test::Ge(n) => {
                self.0.push(match t {
                    Test::Lt(_) => 2,
                    Test::Le(_) => 3,
                    Test::Gt(_) => 4,
                    _ => 5,
                });
                self.number(*n);
            }
            Test::Between(a, b) => {
                self.0.push(6);
                self.number(*a);
                self.number(*b);
            }
            Test::Contains(s) | Test::NotContains(s) | Test::StartsWith(s) | Test::EndsWith(s) => {
                self.0.push(match t {
                    Test::Contains(_) => 7,
                    Test::NotContains(_) => 8,
                    Test::StartsWith(_) => 9,
                    _ => 10,
                });
                self.text(s);
            }
            Test::In(items) => {
                self.0.push(11);
                self.list(items);
            }
            Test::NotIn(items) => {
                self.0.push(12);
                self.list(items);
            }
            Test::IsSet => self.0.push(13),
            Test::IsNotSet => self.0.push(14),
        }
    }

    fn duration(&mut self, d: Duration) {
        self.unit(d.unit);
        self.uint(u64::from(d.amount));
    }

    fn unit(&mut self, u: Unit) {
        self.0.push(match u {
            Unit::Minute => 0,
            Unit::Hour => 1,
            Unit::Day => 2,
            Unit::Week => 3,
            Unit::Month => 4,
        });
    }

    fn event(&mut self, ec: &EventCondition) {
        self.text(&ec.event);
        self.len(ec.filters.len());
        for f in &ec.filters {
            self.text(&f.key);
            self.test(&f.test);
        }
        match &ec.sequence {
            None => self.0.push(0),
            Some(s) => {
                self.0.push(1 + u8::from(s.absent));
                self.text(&s.event);
                self.duration(s.within);
            }
        }
        let (tag, n) = match ec.count {
            Count::AtLeast(n) => (0, n),
            Count::AtMost(n) => (1, n),
            Count::Exactly(n) => (2, n),
        };
        self.0.push(tag);
        self.uint(u64::from(n));
        match ec.window {
            Window::Ever => self.0.push(0),
            Window::Last(d) => {
                self.0.push(1);
                self.duration(d);
            }
            Window::Ago { newer, older, unit } => {
                self.0.push(2);
                self.unit(unit);
                self.uint(u64::from(newer));
                self.uint(u64::from(older));
            }
        }
    }

    pub(crate) fn rule(&mut self, r: &Rule) {
        match r {
            Rule::And(parts) | Rule::Or(parts) => {
                self.0.push(if matches!(r, Rule::And(_)) { 0 } else { 1 });
                self.len(parts.len());
                for p in parts {
                    self.rule(p);
                }
            }
            Rule::Not(inner) => {
                self.0.push(2);
                self.rule(inner);
            }
            Rule::Condition(Condition::Compare { property, test }) => {
                self.0.push(3);
                self.len(property.segments().len());
                for s in property.segments() {
                    self.text(s);
                }
                self.test(test);
            }
            Rule::Condition(Condition::InSegment(name)) => {
                self.0.push(4);
                self.text(name);
            }
            Rule::Condition(Condition::Bucket { percent, name }) => {
                self.0.push(5);
                self.number(*percent);
                self.text(name);
            }
            Rule::Condition(Condition::Performed(ec)) => {
                self.0.push(6);
                self.event(ec);
            }
        }
    }
}

/// Encodes a rule in the compact binary form (layout in `docs/rules.md`).
///
/// ```
/// use affinity::rules::{decode, encode, parse};
/// let rule = parse(r#"performed "Order Completed" in the last 30 days and total_spend > 100"#)?;
/// let bytes = encode(&rule);
/// assert!(bytes.len() < 50); // the text is 71 bytes
/// assert_eq!(decode(&bytes)?, rule);
/// # Ok::<(), affinity::rules::Error>(())
/// ```
pub fn encode(rule: &Rule) -> Vec<u8> {
    let mut w = Writer::header(RULE_MAGIC, FORMAT_VERSION);
    w.rule(rule);
    w.0
}

// ---------------------------------------------------------------------------------------------
// Reading

pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

type R<T> = Result<T, DecodeError>;

impl<'a> Reader<'a> {
    /// Checks the magic byte and version.
    pub(crate) fn open(bytes: &'a [u8], magic: u8, version: u8) -> R<Reader<'a>> {
        let mut r = Reader { bytes, pos: 0 };
        if r.byte()? != magic {
            return Err(DecodeError::new(DecodeErrorKind::NotRules, 0));
        }
        if r.byte()? != version {
            return Err(DecodeError::new(DecodeErrorKind::Version, 1));
        }
        Ok(r)
    }

    fn fail<T>(&self, kind: DecodeErrorKind) -> R<T> {
        Err(DecodeError::new(kind, self.pos))
    }

    pub(crate) fn finish(&self) -> R<()> {
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            self.fail(DecodeErrorKind::Trailing)
        }
    }

    fn byte(&mut self) -> R<u8> {
        match self.bytes.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => self.fail(DecodeErrorKind::Truncated),
        }
    }

    fn take(&mut self, n: usize) -> R<&'a [u8]> {
        if n > self.bytes.len() - self.pos {
            return self.fail(DecodeErrorKind::Truncated);
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn uint(&mut self) -> R<u64> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            let part = u64::from(b & 0x7f);
            if shift == 63 && part > 1 {
                return self.fail(DecodeErrorKind::Invalid);
            }
            n |= part << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        self.fail(DecodeErrorKind::Invalid)
    }

    fn small(&mut self, max: u32) -> R<u32> {
        match self.uint()? {
            n if n <= u64::from(max) => Ok(n as u32),
            _ => self.fail(DecodeErrorKind::Invalid),
        }
    }

    /// A count of items, each at least one byte long, so never more than the bytes left.
    pub(crate) fn count(&mut self) -> R<usize> {
        let n = self.uint()?;
        if n > (self.bytes.len() - self.pos) as u64 {
            return self.fail(DecodeErrorKind::Truncated);
        }
        Ok(n as usize)
    }

    fn number(&mut self) -> R<f64> {
        let n = match self.byte()? {
            0 => {
                let z = self.uint()?;
                let i = ((z >> 1) as i64) ^ -((z & 1) as i64);
                if i.unsigned_abs() > 1 << 53 {
                    return self.fail(DecodeErrorKind::Invalid);
                }
                i as f64
            }
            1 => {
                let raw = self.take(8)?;
                let mut b = [0u8; 8];
                b.copy_from_slice(raw);
                f64::from_le_bytes(b)
            }
            _ => return self.fail(DecodeErrorKind::Invalid),
        };
        if n.is_finite() {
            Ok(n)
        } else {
            self.fail(DecodeErrorKind::Invalid)
        }
    }

    pub(crate) fn text(&mut self) -> R<String> {
        let n = self.count()?;
        let raw = self.take(n)?;
        match core::str::from_utf8(raw) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => self.fail(DecodeErrorKind::Invalid),
        }
    }

    fn name(&mut self) -> R<String> {
        let s = self.text()?;
        if s.is_empty() {
            return self.fail(DecodeErrorKind::Invalid);
        }
        Ok(s)
    }

    fn literal(&mut self) -> R<Literal> {
        Ok(match self.byte()? {
            0 => Literal::Number(self.number()?),
            1 => Literal::Text(self.text()?),
            2 => Literal::Bool(false),
            3 => Literal::Bool(true),
            _ => return self.fail(DecodeErrorKind::Invalid),
        })
    }

    fn list(&mut self) -> R<Vec<Literal>> {
        let n = self.count()?;
        if n == 0 {
            return self.fail(DecodeErrorKind::Invalid);
        }
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(self.literal()?);
        }
        Ok(items)
    }

    fn test(&mut self) -> R<Test> {
        Ok(match self.byte()? {
            0 => Test::Eq(self.literal()?),
            1 => Test::Ne(self.literal()?),
            2 => Test::Lt(self.number()?),
            3 => Test::Le(self.number()?),
            4 => Test::Gt(self.number()?),
            5 => Test::Ge(self.number()?),
            6 => {
                let a = self.number()?;
                let b = self.number()?;
                if a > b {
                    return self.fail(DecodeErrorKind::Invalid);
                }
                Test::Between(a, b)
            }
            7 => Test::Contains(self.text()?),
            8 => Test::NotContains(self.text()?),
            9 => Test::StartsWith(self.text()?),
            10 => Test::EndsWith(self.text()?),
            11 => Test::In(self.list()?),
            12 => Test::NotIn(self.list()?),
            13 => Test::IsSet,
            14 => Test::IsNotSet,
            _ => return self.fail(DecodeErrorKind::Invalid),
        })
    }

    fn unit(&mut self) -> R<Unit> {
        Ok(match self.byte()? {
            0 => Unit::Minute,
            1 => Unit::Hour,
            2 => Unit::Day,
            3 => Unit::Week,
            4 => Unit::Month,
            _ => return self.fail(DecodeErrorKind::Invalid),
        })
    }

    fn duration(&mut self) -> R<Duration> {
        let unit = self.unit()?;
        let amount = self.small(MAX_AMOUNT)?;
        if amount == 0 {
            return self.fail(DecodeErrorKind::Invalid);
        }
        Ok(Duration { amount, unit })
    }

    fn event(&mut self) -> R<EventCondition> {
        let event = self.name()?;
        let n = self.count()?;
        let mut filters = Vec::with_capacity(n);
        for _ in 0..n {
            let key = self.name()?;
            let test = self.test()?;
            filters.push(Filter { key, test });
        }
        let sequence = match self.byte()? {
            0 => None,
            t @ (1 | 2) => Some(Sequence {
                absent: t == 2,
                event: self.name()?,
                within: self.duration()?,
            }),
            _ => return self.fail(DecodeErrorKind::Invalid),
        };
        let tag = self.byte()?;
        let n = self.small(u32::MAX)?;
        let count = match tag {
            0 => Count::AtLeast(n),
            1 => Count::AtMost(n),
            2 => Count::Exactly(n),
            _ => return self.fail(DecodeErrorKind::Invalid),
        };
        let window = match self.byte()? {
            0 => Window::Ever,
            1 => Window::Last(self.duration()?),
            2 => {
                let unit = self.unit()?;
                let newer = self.small(MAX_AMOUNT)?;
                let older = self.small(MAX_AMOUNT)?;
                if older <= newer {
                    return self.fail(DecodeErrorKind::Invalid);
                }
                Window::Ago { newer, older, unit }
            }
            _ => return self.fail(DecodeErrorKind::Invalid),
        };
        Ok(EventCondition {
            event,
            filters,
            sequence,
            count,
            window,
        })
    }

    pub(crate) fn rule(&mut self, depth: usize) -> R<Rule> {
        if depth >= MAX_TREE_DEPTH {
            return self.fail(DecodeErrorKind::TooDeep);
        }
        Ok(match self.byte()? {
            tag @ (0 | 1) => {
                let n = self.count()?;
                if n < 2 {
                    return self.fail(DecodeErrorKind::Invalid);
                }
                let mut parts = Vec::with_capacity(n);
                for _ in 0..n {
                    parts.push(self.rule(depth + 1)?);
                }
                if tag == 0 {
                    Rule::And(parts)
                } else {
                    Rule::Or(parts)
                }
            }
            2 => Rule::Not(Box::new(self.rule(depth + 1)?)),
            3 => {
                let n = self.count()?;
                if n == 0 {
                    return self.fail(DecodeErrorKind::Invalid);
                }
                let mut segs = Vec::with_capacity(n);
                for _ in 0..n {
                    segs.push(self.name()?);
                }
                let test = self.test()?;
                Rule::Condition(Condition::Compare {
                    property: Path::new(segs),
                    test,
                })
            }
            4 => Rule::Condition(Condition::InSegment(self.name()?)),
            5 => {
                let percent = self.number()?;
                if !(0.0..=100.0).contains(&percent) {
                    return self.fail(DecodeErrorKind::Invalid);
                }
                let name = self.name()?;
                Rule::Condition(Condition::Bucket { percent, name })
            }
            6 => Rule::Condition(Condition::Performed(Box::new(self.event()?))),
            _ => return self.fail(DecodeErrorKind::Invalid),
        })
    }
}

/// Decodes a rule written by [`encode`].
pub fn decode(bytes: &[u8]) -> Result<Rule, DecodeError> {
    let mut r = Reader::open(bytes, RULE_MAGIC, FORMAT_VERSION)?;
    let rule = r.rule(0)?;
    r.finish()?;
    Ok(rule)
}

pub(crate) const SEGMENT_SET_MAGIC: u8 = SET_MAGIC;

#[cfg(test)]
mod tests {
    use super::*;

    fn nots(n: usize) -> Vec<u8> {
        let mut b = vec![RULE_MAGIC, FORMAT_VERSION];
        b.extend(core::iter::repeat_n(2u8, n));
        b.extend([4, 1, b'x']);
        b
    }

    #[test]
    fn numbers_round_trip() {
        for n in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            1e300,
            -9_007_199_254_740_992.0,
            123456.0,
        ] {
            let mut w = Writer(Vec::new());
            w.number(n);
            let mut r = Reader {
                bytes: &w.0,
                pos: 0,
            };
            let back = r.number().expect("number");
            assert_eq!(back.to_bits(), n.to_bits(), "{n}");
        }
    }

    #[test]
    fn depth_is_bounded() {
        assert!(decode(&nots(MAX_TREE_DEPTH - 1)).is_ok());
        let e = decode(&nots(MAX_TREE_DEPTH)).expect_err("too deep");
        assert_eq!(e.kind(), DecodeErrorKind::TooDeep);
        assert!(decode(&nots(1_000_000)).is_err());
    }

    #[test]
    fn hostile_lengths() {
        // A list claiming 2^60 items must not allocate.
        let mut w = Writer::header(RULE_MAGIC, FORMAT_VERSION);
        w.0.extend([3, 1, 1, b'a', 11]);
        w.uint(1 << 60);
        let e = decode(&w.0).expect_err("truncated");
        assert!(e.is_truncated());
        // Overlong LEB128.
        let e = decode(&[
            RULE_MAGIC,
            FORMAT_VERSION,
            4,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0xff,
            0x7f,
        ])
        .expect_err("invalid");
        assert_eq!(e.kind(), DecodeErrorKind::Invalid);
        assert!(decode(&[]).expect_err("empty").is_truncated());
        assert!(decode(&[b'R', 9]).expect_err("version").is_version());
        assert_eq!(
            decode(&[b'X', 1]).expect_err("magic").kind(),
            DecodeErrorKind::NotRules
        );
        let e = decode(&[RULE_MAGIC, FORMAT_VERSION, 4, 1, b'x', 0]).expect_err("trailing");
        assert_eq!((e.kind(), e.offset()), (DecodeErrorKind::Trailing, 5));
        assert!(e.to_string().contains("byte 5"));
        // Invalid UTF-8 in a name.
        assert!(decode(&[RULE_MAGIC, FORMAT_VERSION, 4, 1, 0xff]).is_err());
        // Infinite numbers.
        let mut w = Writer::header(RULE_MAGIC, FORMAT_VERSION);
        w.0.extend([3, 1, 1, b'a', 2, 1]);
        w.0.extend(f64::INFINITY.to_le_bytes());
        assert!(decode(&w.0).is_err());
    }
}
