//! A set of named segments evaluated together, with `in segment` resolved inside the set.
//!
//! Part of the page build: the set can be built from decoded rules ([`SegmentSet::decode`]) with
//! no parser. A set is held dependencies first (the edge orders it when it compiles, so the
//! compiled form is in that order too): the page only checks that every `in segment` names an
//! earlier segment, and evaluates in order.

#[allow(unused_imports)]
use crate::prelude::*;

use super::ast::Rule;
use super::codec::{
    DecodeError, DecodeErrorKind, Reader, Writer, SEGMENT_SET_MAGIC, SET_FORMAT_VERSION,
    SET_VERSION_1,
};
use super::error::{Error, ErrorKind};
use super::eval::Ctx;
use super::facts::Facts;
use core::cell::Cell;

/// Named segments compiled together: references resolved, cycles rejected, and the segments
/// held dependencies first, so that a segment is evaluated after the segments it refers to.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentSet {
    /// Dependencies first; otherwise in the order given.
    names: Vec<String>,
    rules: Vec<Rule>,
    /// Indexes into `names`, sorted by name: the name lookup is a binary search (no map code in
    /// the page).
    index: Vec<usize>,
}

/// Which segments of a [`SegmentSet`] a customer is in.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership<'s> {
    set: &'s SegmentSet,
    member: Vec<bool>,
}

impl Membership<'_> {
    /// True when the customer is in segment `name` (false for names not in the set).
    pub fn contains(&self, name: &str) -> bool {
        self.set.position(name).is_some_and(|i| self.member[i])
    }

    /// `(name, member)` for every segment, in the set's order ([`SegmentSet::names`]).
    pub fn iter(&self) -> impl Iterator<Item = (&str, bool)> + '_ {
        self.set
            .names
            .iter()
            .map(String::as_str)
            .zip(self.member.iter().copied())
    }

    /// Names of the segments the customer is in, in the set's order.
    pub fn members(&self) -> impl Iterator<Item = &str> + '_ {
        self.iter().filter(|(_, m)| *m).map(|(n, _)| n)
    }

    /// Membership flags aligned with [`SegmentSet::names`].
    pub fn as_slice(&self) -> &[bool] {
        &self.member
    }
}

fn closest<'a>(name: &str, names: &'a [String]) -> Option<&'a str> {
    names
        .iter()
        .find(|n| n.eq_ignore_ascii_case(name) || n.trim() == name.trim())
        .map(String::as_str)
}

impl SegmentSet {
    /// Compiles named rules into a set, dependencies first (otherwise in the order given).
    ///
    /// Fails when two segments share a name, when `in segment` names a segment not in the set, or
    /// when segments refer to each other in a circle.
    pub fn new(segments: Vec<(String, Rule)>) -> Result<SegmentSet, Error> {
        SegmentSet::compile(segments).map_err(|invalid| match invalid {
            // Only a compiled set is read in order.
            Invalid::Forward => Error::new(ErrorKind::Decode, "a segment refers to a later one"),
            Invalid::Duplicate(name) => Error::new(
                ErrorKind::DuplicateSegment,
                format!("two segments are named {name:?}; segment names must be unique"),
            )
            .in_segment(&name),
            Invalid::Unknown {
                segment,
                reference: r,
                names,
            } => {
                let hint = closest(&r, &names)
                    .map(|c| format!("; did you mean {c:?}?"))
                    .unwrap_or_default();
                Error::new(
                    ErrorKind::UnknownSegment,
                    format!("`in segment {r:?}` refers to a segment that does not exist{hint}"),
                )
                .in_segment(&names[segment])
            }
            Invalid::Cycle { path, names } => {
                let text: Vec<String> = path.iter().map(|&n| format!("{:?}", names[n])).collect();
                let last = path.last().map_or("", |&n| names[n].as_str());
                Error::new(
                    ErrorKind::Cycle,
                    format!(
                        "segments refer to each other in a circle: {}",
                        text.join(" → ")
                    ),
                )
                .in_segment(last)
            }
        })
    }

    /// The checks of [`SegmentSet::new`] without the error text, and the segments put
    /// dependencies first (edge and tools; the page reads sets already in order).
    fn compile(segments: Vec<(String, Rule)>) -> Result<SegmentSet, Invalid> {
        let set = SegmentSet::named(segments)?;
        let mut deps = Vec::with_capacity(set.rules.len());
        for (i, rule) in set.rules.iter().enumerate() {
            let mut d = Vec::new();
            for r in rule.segment_references() {
                match set.position(r) {
                    Some(j) => d.push(j),
                    None => {
                        return Err(Invalid::Unknown {
                            segment: i,
                            reference: r.to_string(),
                            names: set.names,
                        })
                    }
                }
            }
            deps.push(d);
        }
        let order = match topological_order(set.names.len(), &deps) {
            Ok(order) => order,
            Err(path) => {
                return Err(Invalid::Cycle {
                    path,
                    names: set.names,
                })
            }
        };
        // The depth-first order keeps the given order wherever dependencies allow.
        let mut slots: Vec<Option<(String, Rule)>> =
            set.names.into_iter().zip(set.rules).map(Some).collect();
        let ordered = order.iter().filter_map(|&i| slots[i].take()).collect();
        SegmentSet::named(ordered)
    }

    /// A set of `segments` as they are, with its name index; fails on a name given twice.
    fn named(segments: Vec<(String, Rule)>) -> Result<SegmentSet, Invalid> {
        let mut names = Vec::with_capacity(segments.len());
        let mut rules = Vec::with_capacity(segments.len());
        for (name, rule) in segments {
            names.push(name);
            rules.push(rule);
        }
        let mut index: Vec<usize> = (0..names.len()).collect();
        // Stable: equal names stay in the order given, so the first name given again is the
        // smallest later index of an equal pair.
        crate::sort::sort_by(&mut index, |&a, &b| names[a].cmp(&names[b]));
        let again = index
            .windows(2)
            .filter(|w| names[w[0]] == names[w[1]])
            .map(|w| w[1])
            .min();
        if let Some(i) = again {
            return Err(Invalid::Duplicate(names.swap_remove(i)));
        }
        Ok(SegmentSet {
            names,
            rules,
            index,
        })
    }

    /// The position of segment `name` in [`SegmentSet::names`].
    fn position(&self, name: &str) -> Option<usize> {
        position(&self.names, &self.index, name)
    }

    /// Segment names: dependencies first, otherwise in the order given.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The rule of segment `name`.
    pub fn rule(&self, name: &str) -> Option<&Rule> {
        self.position(name).map(|i| &self.rules[i])
    }

    /// Number of segments.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when the set has no segment.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Evaluates every segment for the customer described by `facts` at `now_ms`.
    ///
    /// The customer's events are read once for the whole set.
    pub fn evaluate<F: Facts + ?Sized>(&self, facts: &F, now_ms: i64) -> Membership<'_> {
        let results: Vec<Cell<bool>> = vec![Cell::new(false); self.names.len()];
        let lookup = |name: &str| self.position(name).is_some_and(|j| results[j].get());
        let ctx = Ctx::new(facts, now_ms, &lookup);
        // Dependencies first: a segment's references are answered before it.
        for (result, rule) in results.iter().zip(&self.rules) {
            result.set(ctx.rule(rule));
        }
        Membership {
            set: self,
            member: results.iter().map(Cell::get).collect(),
        }
    }

    /// The earliest time after `now_ms` at which any segment's time-windowed condition could
    /// change with no new event (see [`Rule::next_change_ms`]); `None` when none is
    /// time-dependent. The edge sets its alarm to this time.
    pub fn next_change_ms<F: Facts + ?Sized>(&self, facts: &F, now_ms: i64) -> Option<i64> {
        let never = |_: &str| false;
        let ctx = Ctx::new(facts, now_ms, &never);
        self.rules.iter().filter_map(|r| ctx.next_change(r)).min()
    }

    /// Encodes the whole set in the compact binary form (magic byte `S`, version
    /// [`SET_FORMAT_VERSION`](super::SET_FORMAT_VERSION)), dependencies first.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::header(SEGMENT_SET_MAGIC, SET_FORMAT_VERSION);
        w.uint(self.names.len() as u64);
        for (name, rule) in self.names.iter().zip(&self.rules) {
            w.text(name);
            w.rule(rule);
        }
        w.0
    }

    /// Decodes a set written by [`SegmentSet::encode`] (what the page does): every rule checked,
    /// names unique, and every `in segment` naming an earlier segment (so no cycle).
    pub fn decode(bytes: &[u8]) -> Result<SegmentSet, DecodeError> {
        let invalid = |_| DecodeError::new(DecodeErrorKind::Invalid, bytes.len());
        let set = SegmentSet::named(read_segments(bytes, SET_FORMAT_VERSION)?).map_err(invalid)?;
        for (i, rule) in set.rules.iter().enumerate() {
            for r in rule.segment_references() {
                if set.position(r).is_none_or(|j| j >= i) {
                    return Err(invalid(Invalid::Forward));
                }
            }
        }
        Ok(set)
    }

    /// Decodes a set of the current version, or of version 1 (segments in the order given),
    /// which it puts dependencies first: what the edge reads from its store, so a set stored
    /// before version 2 is still evaluated and ships re-encoded.
    pub fn decode_any_version(bytes: &[u8]) -> Result<SegmentSet, DecodeError> {
        if bytes.get(1) != Some(&SET_VERSION_1) {
            return SegmentSet::decode(bytes);
        }
        SegmentSet::compile(read_segments(bytes, SET_VERSION_1)?)
            .map_err(|_| DecodeError::new(DecodeErrorKind::Invalid, bytes.len()))
    }
}

/// The `(name, rule)` pairs of a compiled set of `version`, every rule checked.
fn read_segments(bytes: &[u8], version: u8) -> Result<Vec<(String, Rule)>, DecodeError> {
    let mut r = Reader::open(bytes, SEGMENT_SET_MAGIC, version)?;
    let n = r.count()?;
    let mut segments = Vec::with_capacity(n);
    for _ in 0..n {
        let name = r.text()?;
        let rule = r.rule(0)?;
        segments.push((name, rule));
    }
    r.finish()?;
    Ok(segments)
}

/// Why [`SegmentSet::compile`] refused a set (the names are kept for the error text).
enum Invalid {
    /// A compiled set refers to a later segment (or an unknown one).
    Forward,
    /// Two segments share this name.
    Duplicate(String),
    /// Segment `segment` refers to `reference`, which is not in `names`.
    Unknown {
        segment: usize,
        reference: String,
        names: Vec<String>,
    },
    /// Segments refer to each other along `path` (its last entry repeats an earlier one).
    Cycle {
        path: Vec<usize>,
        names: Vec<String>,
    },
}

/// Dependencies first; a cycle is reported with its path (segment indices, the first segment
/// repeated at the end). Iterative, so long chains of segments cannot overflow the stack.
/// The position of `name` in `names`, through `index` (positions sorted by name).
fn position(names: &[String], index: &[usize], name: &str) -> Option<usize> {
    let k = index
        .binary_search_by(|&i| names[i].as_str().cmp(name))
        .ok()?;
    index.get(k).copied()
}

fn topological_order(n: usize, deps: &[Vec<usize>]) -> Result<Vec<usize>, Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; n];
    let mut order = Vec::with_capacity(n);
    for root in 0..n {
        if mark[root] != Mark::New {
            continue;
        }
        // (node, next dependency to visit)
        let mut stack = vec![(root, 0usize)];
        mark[root] = Mark::Open;
        while let Some(top) = stack.last_mut() {
            let (node, next) = *top;
            if let Some(&dep) = deps[node].get(next) {
                top.1 += 1;
                match mark[dep] {
                    Mark::Done => {}
                    Mark::New => {
                        mark[dep] = Mark::Open;
                        stack.push((dep, 0));
                    }
                    Mark::Open => {
                        let start = stack.iter().position(|&(n, _)| n == dep).unwrap_or(0);
                        let mut path: Vec<usize> = stack[start..].iter().map(|&(n, _)| n).collect();
                        path.push(dep);
                        return Err(path);
                    }
                }
            } else {
                mark[node] = Mark::Done;
                order.push(node);
                stack.pop();
            }
        }
    }
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::super::ast::Condition;
    use super::*;

    fn refs(names: &[&str]) -> Rule {
        match names {
            [] => Rule::Condition(Condition::Bucket {
                percent: 100.0,
                name: "all".into(),
            }),
            [one] => Rule::Condition(Condition::InSegment(one.to_string())),
            many => Rule::And(
                many.iter()
                    .map(|n| Rule::Condition(Condition::InSegment(n.to_string())))
                    .collect(),
            ),
        }
    }

    #[test]
    fn order_puts_dependencies_first() {
        let set = SegmentSet::new(vec![
            ("c".into(), refs(&["a", "b"])),
            ("b".into(), refs(&["a"])),
            ("a".into(), refs(&[])),
        ])
        .expect("compiles");
        assert_eq!(set.names(), ["a", "b", "c"]);
        // Otherwise the order given is kept.
        let set = SegmentSet::new(vec![
            ("x".into(), refs(&[])),
            ("c".into(), refs(&["a"])),
            ("y".into(), refs(&[])),
            ("a".into(), refs(&[])),
        ])
        .expect("compiles");
        assert_eq!(set.names(), ["x", "a", "c", "y"]);
    }

    /// `(name, rule)` pairs written as a compiled set of `version`, in the order given.
    fn written(version: u8, segments: &[(&str, Rule)]) -> Vec<u8> {
        let mut w = Writer::header(SEGMENT_SET_MAGIC, version);
        w.uint(segments.len() as u64);
        for (name, rule) in segments {
            w.text(name);
            w.rule(rule);
        }
        w.0
    }

    #[test]
    fn compiled_sets_come_dependencies_first() {
        let forward = [("vip", refs(&["big"])), ("big", refs(&[]))];
        // Version 2 must name earlier segments only: a later (or unknown) one is refused.
        let e = SegmentSet::decode(&written(2, &forward)).expect_err("forward");
        assert_eq!(e.kind(), DecodeErrorKind::Invalid);
        let unknown = [("vip", refs(&["nope"]))];
        assert!(SegmentSet::decode(&written(2, &unknown)).is_err());
        let back = [("big", refs(&[])), ("vip", refs(&["big"]))];
        let set = SegmentSet::decode(&written(2, &back)).expect("in order");
        assert_eq!(set.names(), ["big", "vip"]);
        assert_eq!(set.encode(), written(2, &back));
        // Version 1 (any order) is another version for the page; the edge reads it and puts it
        // dependencies first, re-encoded as version 2.
        let old = written(1, &forward);
        assert!(SegmentSet::decode(&old).expect_err("v1").is_version());
        let upgraded = SegmentSet::decode_any_version(&old).expect("v1 reads");
        assert_eq!(upgraded, set);
        assert_eq!(SegmentSet::decode_any_version(&upgraded.encode()), Ok(set));
        let cycle = [("a", refs(&["b"])), ("b", refs(&["a"]))];
        assert!(SegmentSet::decode_any_version(&written(1, &cycle)).is_err());
    }

    #[test]
    fn errors() {
        let e = SegmentSet::new(vec![
            ("a".into(), refs(&["b"])),
            ("b".into(), refs(&["c"])),
            ("c".into(), refs(&["a"])),
        ])
        .expect_err("cycle");
        assert!(e.is_cycle());
        insta::assert_snapshot!(e, @r#"error in segment "a": segments refer to each other in a circle: "a" → "b" → "c" → "a""#);
        let e = SegmentSet::new(vec![("a".into(), refs(&["a"]))]).expect_err("self");
        assert!(e.is_cycle());
        let e = SegmentSet::new(vec![
            ("VIP".into(), refs(&[])),
            ("x".into(), refs(&["vip"])),
        ])
        .expect_err("unknown");
        assert!(e.is_unknown_segment());
        insta::assert_snapshot!(e, @r#"error in segment "x": `in segment "vip"` refers to a segment that does not exist; did you mean "VIP"?"#);
        let e = SegmentSet::new(vec![("a".into(), refs(&[])), ("a".into(), refs(&[]))])
            .expect_err("duplicate");
        assert!(e.is_duplicate_segment());
        // The first name given a second time, in the order given ("b" at 2, before "a" at 3).
        let named = |n: &[&str]| n.iter().map(|n| (n.to_string(), refs(&[]))).collect();
        let e = SegmentSet::new(named(&["b", "a", "b", "a"])).expect_err("duplicates");
        assert_eq!(e.segment(), Some("b"));
        let e = SegmentSet::new(named(&["c", "a", "b", "a", "c"])).expect_err("duplicates");
        assert_eq!(e.segment(), Some("a"));
    }

    #[test]
    fn long_chains_do_not_recurse() {
        let n = 50_000;
        let segs = (0..n)
            .map(|i| {
                let deps = if i + 1 < n {
                    vec![format!("s{}", i + 1)]
                } else {
                    vec![]
                };
                let rule = match deps.first() {
                    Some(d) => Rule::Condition(Condition::InSegment(d.clone())),
                    None => refs(&[]),
                };
                (format!("s{i}"), rule)
            })
            .collect();
        let set = SegmentSet::new(segs).expect("compiles");
        assert_eq!(set.names()[0], format!("s{}", n - 1));
        assert_eq!(set.names().len(), n);
    }
}
