//! The syntax-tree evaluator the byte evaluator replaced, kept as a test-only oracle (never in
//! a build): the byte evaluator must answer exactly as it did, on every rule and customer.

use super::ast::{Condition, Count, EventCondition, Literal, Rule, Sequence, Test, Window};
use super::codec::PathRef;
use super::eval::{between, window_bounds, Events};
use super::facts::{Facts, PastEvent, Value};
use core::cell::OnceCell;

/// Everything one evaluation needs: the facts, the moment, the events (read on first use) and how
/// to answer `in segment`.
struct Ctx<'a, F: Facts> {
    facts: &'a F,
    now: i64,
    events: OnceCell<Events<'a>>,
    segment: &'a dyn Fn(&str) -> bool,
}

impl<'a, F: Facts> Ctx<'a, F> {
    fn new(facts: &'a F, now: i64, segment: &'a dyn Fn(&str) -> bool) -> Self {
        Ctx {
            facts,
            now,
            events: OnceCell::new(),
            segment,
        }
    }

    fn events(&self) -> &Events<'a> {
        self.events.get_or_init(|| Events::read(self.facts))
    }

    fn rule(&self, rule: &Rule) -> bool {
        match rule {
            Rule::And(parts) => parts.iter().all(|p| self.rule(p)),
            Rule::Or(parts) => parts.iter().any(|p| self.rule(p)),
            Rule::Not(inner) => !self.rule(inner),
            Rule::Condition(c) => self.condition(c),
        }
    }

    fn condition(&self, c: &Condition) -> bool {
        match c {
            Condition::Compare { property, test } => {
                PathRef::with(property, |p| holds(test, &self.facts.property(p, self.now)))
            }
            Condition::InSegment(name) => (self.segment)(name),
            Condition::Bucket { percent, name } => crate::bucket::in_percent(
                self.facts.shop_id(),
                self.facts.customer_id(),
                name,
                *percent,
            ),
            Condition::Performed(ec) => self.performed(ec),
        }
    }

    fn performed(&self, ec: &EventCondition) -> bool {
        let (after, upto) = window_bounds(ec.window, self.now);
        let limit = match ec.count {
            Count::AtLeast(n) => n,
            Count::AtMost(n) | Count::Exactly(n) => n.saturating_add(1),
        };
        let mut seen: u32 = 0;
        for e in between(self.events().named(&ec.event), after, upto) {
            if seen >= limit {
                break;
            }
            if !filters_hold(ec, e.event) {
                continue;
            }
            if let Some(seq) = &ec.sequence {
                if !self.sequence_holds(seq, e.at) {
                    continue;
                }
            }
            seen += 1;
        }
        match ec.count {
            Count::AtLeast(n) => seen >= n,
            Count::AtMost(n) => seen <= n,
            Count::Exactly(n) => seen == n,
        }
    }

    fn sequence_holds(&self, seq: &Sequence, at: i64) -> bool {
        let end = at.saturating_add(seq.within.ms());
        let follows = self.events().named(&seq.event);
        if seq.absent {
            self.now >= end && between(follows, at, end).is_empty()
        } else {
            !between(follows, at, end.min(self.now)).is_empty()
        }
    }

    /// Earliest time after `now` at which a past-event condition of `rule` could change its
    /// answer with no new event.
    fn next_change(&self, rule: &Rule) -> Option<i64> {
        let mut best: Option<i64> = None;
        let now = self.now;
        let mut consider = |t: i64| {
            if t > now && best.is_none_or(|b| t < b) {
                best = Some(t);
            }
        };
        rule.for_each_condition(&mut |c| {
            let Condition::Performed(ec) = c else {
                return;
            };
            let (enter, leave) = match ec.window {
                Window::Ever => (0, None),
                Window::Last(d) => (0, Some(d.ms())),
                Window::Ago { newer, older, unit } => (
                    i64::from(newer).saturating_mul(unit.ms()),
                    Some(i64::from(older).saturating_mul(unit.ms())),
                ),
            };
            // Only events whose latest change time is still ahead can change anything.
            let reach = leave
                .unwrap_or(enter)
                .max(ec.sequence.as_ref().map_or(0, |s| s.within.ms()));
            let named = self.events().named(&ec.event);
            for e in between(named, now.saturating_sub(reach), i64::MAX) {
                if !filters_hold(ec, e.event) {
                    continue;
                }
                consider(e.at.saturating_add(enter));
                if let Some(leave) = leave {
                    consider(e.at.saturating_add(leave));
                }
                if let Some(seq) = &ec.sequence {
                    if seq.absent {
                        consider(e.at.saturating_add(seq.within.ms()));
                    }
                }
            }
            if let Some(seq) = &ec.sequence {
                if let Some(f) = between(self.events().named(&seq.event), now, i64::MAX).first() {
                    consider(f.at);
                }
            }
        });
        best
    }
}

fn filters_hold(ec: &EventCondition, event: &dyn PastEvent) -> bool {
    ec.filters
        .iter()
        .all(|f| holds(&f.test, &event.property(&f.key)))
}

/// True when `f` holds for the value, or for any element when the value is a list.
fn any(v: &Value<'_>, f: &dyn Fn(&Value<'_>) -> bool) -> bool {
    match v {
        Value::List(items) => items.iter().any(f),
        _ => f(v),
    }
}

fn equals(v: &Value<'_>, lit: &Literal) -> bool {
    match (v, lit) {
        (Value::Text(t), Literal::Text(s)) => t.eq_ignore_ascii_case(s),
        (Value::Bool(a), Literal::Bool(b)) => a == b,
        (_, Literal::Number(n)) => v.as_number() == Some(*n),
        (Value::Number(a), Literal::Text(s)) => crate::platform::parse_f64(s.trim()) == Some(*a),
        (Value::Text(t), Literal::Bool(b)) => {
            t.eq_ignore_ascii_case(if *b { "true" } else { "false" })
        }
        _ => false,
    }
}

fn number_test(v: &Value<'_>, f: &dyn Fn(f64) -> bool) -> bool {
    any(v, &|x| x.as_number().is_some_and(f))
}

fn text_test(v: &Value<'_>, f: &dyn Fn(&[u8]) -> bool) -> bool {
    any(v, &|x| x.as_text().is_some_and(|t| f(t.as_bytes())))
}

fn contains_ignore_case(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || hay
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

fn contains(v: &Value<'_>, s: &str) -> bool {
    match v {
        Value::List(items) => items.iter().any(|x| equals(x, &Literal::Text(s.into()))),
        Value::Text(t) => contains_ignore_case(t.as_bytes(), s.as_bytes()),
        _ => false,
    }
}

fn is_set(v: &Value<'_>) -> bool {
    match v {
        Value::Null => false,
        Value::Text(t) => !t.is_empty(),
        Value::List(items) => !items.is_empty(),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

/// True when `test` holds for `v`. Text comparisons ignore the case of ASCII letters.
fn holds(test: &Test, v: &Value<'_>) -> bool {
    match test {
        Test::Eq(lit) => any(v, &|x| equals(x, lit)),
        Test::Ne(lit) => !any(v, &|x| equals(x, lit)),
        Test::Lt(n) => number_test(v, &|x| x < *n),
        Test::Le(n) => number_test(v, &|x| x <= *n),
        Test::Gt(n) => number_test(v, &|x| x > *n),
        Test::Ge(n) => number_test(v, &|x| x >= *n),
        Test::Between(a, b) => number_test(v, &|x| *a <= x && x <= *b),
        Test::Contains(s) => contains(v, s),
        Test::NotContains(s) => !contains(v, s),
        Test::StartsWith(s) => text_test(v, &|t| {
            t.len() >= s.len() && t[..s.len()].eq_ignore_ascii_case(s.as_bytes())
        }),
        Test::EndsWith(s) => text_test(v, &|t| {
            t.len() >= s.len() && t[t.len() - s.len()..].eq_ignore_ascii_case(s.as_bytes())
        }),
        Test::In(list) => any(v, &|x| list.iter().any(|l| equals(x, l))),
        Test::NotIn(list) => !any(v, &|x| list.iter().any(|l| equals(x, l))),
        Test::IsSet => is_set(v),
        Test::IsNotSet => !is_set(v),
    }
}

/// What the syntax-tree evaluator answered for `rule` (`in segment` through `segment`).
pub(crate) fn evaluate<F: Facts>(
    rule: &Rule,
    facts: &F,
    now: i64,
    segment: &dyn Fn(&str) -> bool,
) -> bool {
    Ctx::new(facts, now, segment).rule(rule)
}

/// What the syntax-tree evaluator gave as the next change time of `rule`.
pub(crate) fn next_change<F: Facts>(rule: &Rule, facts: &F, now: i64) -> Option<i64> {
    Ctx::new(facts, now, &|_| false).next_change(rule)
}

#[cfg(test)]
mod tests {
    //! The byte evaluator against this oracle on a broad generated fixture, and the compiled
    //! set's reader against random, truncated and mutated bytes.

    use super::super::ast::{Duration, Filter, Path, Unit};
    use super::super::facts::{MemoryEvent, MemoryFacts};
    use super::super::SegmentSet;
    use super::*;

    const DAY: i64 = 86_400_000;
    const NOW: i64 = 1_000 * DAY;

    /// xorshift64*: a fixed sequence, so a failure reproduces.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'v, T>(&mut self, items: &'v [T]) -> &'v T {
            &items[self.below(items.len())]
        }

        fn chance(&mut self, percent: u64) -> bool {
            self.next() % 100 < percent
        }
    }

    const EVENTS: [&str; 4] = [
        "Product Viewed",
        "product viewed",
        "Order Completed",
        "Cart",
    ];
    const TEXTS: [&str; 8] = ["Shoes", "shoes", "Tents", "sale", "42", "true", "", "x y"];
    const NUMBERS: [f64; 7] = [0.0, 1.0, 2.5, 42.0, 100.0, -3.0, 1e9];
    const PATHS: [&str; 7] = [
        "orders",
        "total_spend",
        "traits.plan",
        "traits.tags",
        "page.path",
        "flag",
        "missing",
    ];
    const KEYS: [&str; 3] = ["category", "brand", "price"];

    fn literal(g: &mut Rng) -> Literal {
        match g.below(3) {
            0 => Literal::Number(*g.pick(&NUMBERS)),
            1 => Literal::Text(g.pick(&TEXTS).to_string()),
            _ => Literal::Bool(g.chance(50)),
        }
    }

    fn test(g: &mut Rng) -> Test {
        let n = *g.pick(&NUMBERS);
        let s = g.pick(&TEXTS).to_string();
        let list = |g: &mut Rng| (0..1 + g.below(3)).map(|_| literal(g)).collect();
        match g.below(15) {
            0 => Test::Eq(literal(g)),
            1 => Test::Ne(literal(g)),
            2 => Test::Lt(n),
            3 => Test::Le(n),
            4 => Test::Gt(n),
            5 => Test::Ge(n),
            6 => {
                let m = *g.pick(&NUMBERS);
                Test::Between(n.min(m), n.max(m))
            }
            7 => Test::Contains(s),
            8 => Test::NotContains(s),
            9 => Test::StartsWith(s),
            10 => Test::EndsWith(s),
            11 => Test::In(list(g)),
            12 => Test::NotIn(list(g)),
            13 => Test::IsSet,
            _ => Test::IsNotSet,
        }
    }

    fn duration(g: &mut Rng) -> Duration {
        let unit = *g.pick(&[Unit::Minute, Unit::Hour, Unit::Day, Unit::Week, Unit::Month]);
        Duration {
            amount: 1 + g.below(10) as u32,
            unit,
        }
    }

    fn performed(g: &mut Rng) -> EventCondition {
        let filters = (0..g.below(3))
            .map(|_| Filter {
                key: g.pick(&KEYS).to_string(),
                test: test(g),
            })
            .collect();
        let sequence = g.chance(30).then(|| Sequence {
            absent: g.chance(50),
            event: g.pick(&EVENTS).to_string(),
            within: duration(g),
        });
        let n = g.below(4) as u32;
        let count = *g.pick(&[Count::AtLeast(n), Count::AtMost(n), Count::Exactly(n)]);
        let window = match g.below(3) {
            0 => Window::Ever,
            1 => Window::Last(duration(g)),
            _ => {
                let newer = g.below(20) as u32;
                Window::Ago {
                    newer,
                    older: newer + 1 + g.below(20) as u32,
                    unit: *g.pick(&[Unit::Hour, Unit::Day, Unit::Week]),
                }
            }
        };
        EventCondition {
            event: g.pick(&EVENTS).to_string(),
            filters,
            sequence,
            count,
            window,
        }
    }

    /// A rule; `in segment` names one of `segments` (none when empty).
    fn rule(g: &mut Rng, depth: usize, segments: &[String]) -> Rule {
        let leaf = depth >= 4 || g.chance(45);
        match if leaf { 3 + g.below(4) } else { g.below(3) } {
            0 => Rule::And(
                (0..2 + g.below(2))
                    .map(|_| rule(g, depth + 1, segments))
                    .collect(),
            ),
            1 => Rule::Or(
                (0..2 + g.below(2))
                    .map(|_| rule(g, depth + 1, segments))
                    .collect(),
            ),
            2 => Rule::Not(Box::new(rule(g, depth + 1, segments))),
            3 => Rule::Condition(Condition::Compare {
                property: Path::dotted(PATHS[g.below(PATHS.len())]),
                test: test(g),
            }),
            4 if !segments.is_empty() => {
                Rule::Condition(Condition::InSegment(g.pick(segments).clone()))
            }
            4 => Rule::Condition(Condition::Bucket {
                percent: *g.pick(&[0.0, 10.0, 50.0, 100.0]),
                name: g.pick(&TEXTS).to_string() + "b",
            }),
            _ => Rule::Condition(Condition::Performed(Box::new(performed(g)))),
        }
    }

    fn facts(g: &mut Rng) -> MemoryFacts {
        let mut f = MemoryFacts::new("shop", &format!("c{}", g.below(1000)));
        for path in PATHS.iter().take(6) {
            if g.chance(70) {
                let v: Value<'static> = match g.below(4) {
                    0 => Value::Number(*g.pick(&NUMBERS)),
                    1 => g.pick(&TEXTS).to_string().into(),
                    2 => Value::Bool(g.chance(50)),
                    _ => Value::List(
                        (0..g.below(3))
                            .map(|_| Value::from(g.pick(&TEXTS).to_string()))
                            .collect(),
                    ),
                };
                f.set(path, v);
            }
        }
        for _ in 0..g.below(14) {
            // Mostly the past 60 days, a few just ahead of now.
            let at = NOW - (g.below(60 * 24) as i64) * 3_600_000 + (g.below(10) as i64) * 60_000;
            let mut e = MemoryEvent::new(EVENTS[g.below(EVENTS.len())], at);
            for key in KEYS {
                if g.chance(60) {
                    e = if key == "price" {
                        e.with(key, *g.pick(&NUMBERS))
                    } else {
                        e.with(key, *g.pick(&TEXTS))
                    };
                }
            }
            f = f.with_event(e);
        }
        if g.chance(50) {
            f = f.with_segment("outside");
        }
        f
    }

    /// A set whose segments refer only to earlier ones (no cycles), as `(name, rule)`.
    fn segments(g: &mut Rng) -> Vec<(String, Rule)> {
        let mut out: Vec<(String, Rule)> = Vec::new();
        for i in 0..1 + g.below(6) {
            let earlier: Vec<String> = out.iter().map(|(n, _)| n.clone()).collect();
            out.push((format!("s{i}"), rule(g, 0, &earlier)));
        }
        out
    }

    /// Membership by the oracle: segments in the order given (each refers only to earlier ones).
    fn oracle_members(set: &[(String, Rule)], f: &MemoryFacts) -> Vec<bool> {
        let mut member: Vec<bool> = Vec::new();
        for (_, r) in set {
            let lookup = |name: &str| {
                set.iter()
                    .position(|(n, _)| n == name)
                    .is_some_and(|j| member[j])
            };
            let m = evaluate(r, f, NOW, &lookup);
            member.push(m);
        }
        member
    }

    #[test]
    fn byte_evaluator_answers_as_the_tree_evaluator() {
        let mut g = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut members, mut timed) = (0, 0);
        for case in 0..3_000 {
            let f = facts(&mut g);
            let r = rule(&mut g, 0, &["outside".to_string()]);
            let segment = |name: &str| f.in_segment(name);
            let want = evaluate(&r, &f, NOW, &segment);
            assert_eq!(r.evaluate(&f, NOW), want, "case {case}: {r}");
            let next = next_change(&r, &f, NOW);
            assert_eq!(r.next_change_ms(&f, NOW), next, "case {case}: {r}");
            members += usize::from(want);
            timed += usize::from(next.is_some());

            let named = segments(&mut g);
            let set = SegmentSet::new(named.clone()).expect("an acyclic set compiles");
            let back = SegmentSet::decode(&set.encode()).expect("its bytes decode");
            let want = oracle_members(&named, &f);
            assert_eq!(set.evaluate(&f, NOW).as_slice(), want, "case {case}");
            assert_eq!(back.evaluate(&f, NOW).as_slice(), want, "case {case}");
            let next = named
                .iter()
                .filter_map(|(_, r)| next_change(r, &f, NOW))
                .min();
            assert_eq!(back.next_change_ms(&f, NOW), next, "case {case}");
        }
        // The fixture is broad: both answers and time-dependent rules are common.
        assert!((600..2_400).contains(&members), "{members} of 3000 true");
        assert!(timed > 300, "{timed} of 3000 time-dependent");
    }

    /// Decoding never panics and every accepted set evaluates as its decoded tree does.
    fn check(bytes: &[u8], f: &MemoryFacts) {
        let Ok(set) = SegmentSet::decode(bytes) else {
            return;
        };
        let named: Vec<(String, Rule)> = set
            .names()
            .iter()
            .map(|n| {
                (
                    n.clone(),
                    set.rule(n).expect("an accepted set's rules decode"),
                )
            })
            .collect();
        let got = set.evaluate(f, NOW);
        for (i, (name, r)) in named.iter().enumerate() {
            let lookup = |n: &str| got.contains(n);
            assert_eq!(
                got.as_slice()[i],
                evaluate(r, f, NOW, &lookup),
                "{name}: {r}"
            );
        }
        let _ = set.next_change_ms(f, NOW);
    }

    #[test]
    fn hostile_sets_never_panic() {
        let mut g = Rng(0x2545_f491_4f6c_dd1d);
        for case in 0..400 {
            let f = facts(&mut g);
            let bytes = SegmentSet::new(segments(&mut g))
                .expect("compiles")
                .encode();
            for cut in 0..bytes.len() {
                let e = SegmentSet::decode(&bytes[..cut]).expect_err("a truncated set is refused");
                assert!(e.offset() <= cut, "case {case}, cut {cut}: {e:?}");
            }
            for _ in 0..20 {
                let mut b = bytes.clone();
                let i = g.below(b.len());
                b[i] = match g.below(3) {
                    0 => g.next() as u8,
                    1 => b[i].wrapping_add(1),
                    _ => b[i].wrapping_sub(1),
                };
                check(&b, &f);
            }
            let mut noise: Vec<u8> = vec![b'S', 1];
            noise.extend((0..g.below(40)).map(|_| g.below(16) as u8));
            check(&noise, &f);
        }
    }
}
