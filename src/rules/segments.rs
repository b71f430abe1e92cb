//! A set of named segments evaluated together, with `in segment` resolved inside the set.
//!
//! Part of the page build: the set can be built from decoded rules ([`SegmentSet::decode`]) with
//! no parser.

#[allow(unused_imports)]
use crate::prelude::*;

use super::ast::Rule;
use super::codec::{DecodeError, DecodeErrorKind, Reader, Writer, SEGMENT_SET_MAGIC};
use super::error::{Error, ErrorKind};
use super::eval::Ctx;
use super::facts::Facts;
use core::cell::Cell;

/// Named segments compiled together: references resolved, cycles rejected, evaluation order
/// fixed so that a segment is evaluated after the segments it refers to.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentSet {
    names: Vec<String>,
    rules: Vec<Rule>,
    /// Indexes into `names`, sorted by name: the name lookup is a binary search (no map code in
    /// the page).
    index: Vec<usize>,
    /// Indexes into `names`, dependencies first.
    order: Vec<usize>,
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

    /// `(name, member)` for every segment, in the order the set was given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, bool)> + '_ {
        self.set
            .names
            .iter()
            .map(String::as_str)
            .zip(self.member.iter().copied())
    }

    /// Names of the segments the customer is in, in the order the set was given.
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
    /// Compiles named rules into a set.
    ///
    /// Fails when two segments share a name, when `in segment` names a segment not in the set, or
    /// when segments refer to each other in a circle.
    pub fn new(segments: Vec<(String, Rule)>) -> Result<SegmentSet, Error> {
        SegmentSet::compile(segments).map_err(|invalid| match invalid {
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

    /// The checks of [`SegmentSet::new`] without the error text, so that
    /// [`SegmentSet::decode`] (the page) links no message formatting.
    fn compile(segments: Vec<(String, Rule)>) -> Result<SegmentSet, Invalid> {
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
        let mut deps = Vec::with_capacity(rules.len());
        for (i, rule) in rules.iter().enumerate() {
            let mut d = Vec::new();
            for r in rule.segment_references() {
                match position(&names, &index, r) {
                    Some(j) => d.push(j),
                    None => {
                        return Err(Invalid::Unknown {
                            segment: i,
                            reference: r.to_string(),
                            names,
                        })
                    }
                }
            }
            deps.push(d);
        }
        let order = match topological_order(names.len(), &deps) {
            Ok(order) => order,
            Err(path) => return Err(Invalid::Cycle { path, names }),
        };
        Ok(SegmentSet {
            names,
            rules,
            index,
            order,
        })
    }

    /// The position of segment `name` in [`SegmentSet::names`].
    fn position(&self, name: &str) -> Option<usize> {
        position(&self.names, &self.index, name)
    }

    /// Segment names, in the order given.
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
        for &i in &self.order {
            results[i].set(ctx.rule(&self.rules[i]));
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

    /// Encodes the whole set in the compact binary form (magic byte `S`).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::header(SEGMENT_SET_MAGIC);
        w.uint(self.names.len() as u64);
        for (name, rule) in self.names.iter().zip(&self.rules) {
            w.text(name);
            w.rule(rule);
        }
        w.0
    }

    /// Decodes a set written by [`SegmentSet::encode`], checking references and cycles again.
    pub fn decode(bytes: &[u8]) -> Result<SegmentSet, DecodeError> {
        let mut r = Reader::open(bytes, SEGMENT_SET_MAGIC)?;
        let n = r.count()?;
        let mut segments = Vec::with_capacity(n);
        for _ in 0..n {
            let name = r.text()?;
            let rule = r.rule(0)?;
            segments.push((name, rule));
        }
        r.finish()?;
        SegmentSet::compile(segments)
            .map_err(|_| DecodeError::new(DecodeErrorKind::Invalid, bytes.len()))
    }
}

/// Why [`SegmentSet::compile`] refused a set (the names are kept for the error text).
enum Invalid {
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
        let pos = |n: &str| set.order.iter().position(|&i| set.names[i] == n);
        assert!(pos("a") < pos("b") && pos("b") < pos("c"));
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
        assert_eq!(set.order.len(), n);
    }
}
