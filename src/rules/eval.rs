//! The evaluator: a [`Rule`] against [`Facts`] at a moment `now_ms`, and the next moment its
//! answer could change on its own ([`Rule::next_change_ms`]).
//!
//! This module is part of the page build: it depends on the syntax tree and the facts only, never
//! on the parser, the printer or error text.
//!
//! Cost: one pass over the customer's events to sort them by name and time (`O(n log n)`), then
//! per past-event condition a binary search plus a scan of the events with that name inside the
//! window (each with one more binary search for `followed by`); every other condition is one
//! property read.

#[allow(unused_imports)]
use crate::prelude::*;

use super::ast::{Condition, Count, EventCondition, Literal, Rule, Sequence, Test, Window};
use super::facts::{Facts, PastEvent, Value};
use core::cell::OnceCell;
use core::cmp::Ordering;

/// One event of the snapshot: its name and time read once.
struct Entry<'a> {
    name: &'a str,
    at: i64,
    event: &'a dyn PastEvent,
}

/// The customer's events, sorted by name ignoring ASCII case and then by time, so a condition
/// finds the events of its name and window by binary search.
pub(crate) struct Events<'a> {
    entries: Vec<Entry<'a>>,
}

/// A total order in which names equal ignoring ASCII case are equal: by length first (cheap, and
/// event names mostly differ in length), then by lower-cased bytes.
fn cmp_ignore_case(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| {
        let a = a.bytes().map(|c| c.to_ascii_lowercase());
        let b = b.bytes().map(|c| c.to_ascii_lowercase());
        a.cmp(b)
    })
}

impl<'a> Events<'a> {
    fn read<F: Facts + ?Sized>(facts: &'a F) -> Events<'a> {
        let mut entries = Vec::new();
        facts.for_each_event(&mut |e| {
            entries.push(Entry {
                name: e.name(),
                at: e.at_ms(),
                event: e,
            })
        });
        crate::sort::sort_by(&mut entries, |x, y| {
            cmp_ignore_case(x.name, y.name).then(x.at.cmp(&y.at))
        });
        Events { entries }
    }

    fn named(&self, name: &str) -> &[Entry<'a>] {
        let start = self
            .entries
            .partition_point(|e| cmp_ignore_case(e.name, name) == Ordering::Less);
        let len = self.entries[start..]
            .partition_point(|e| cmp_ignore_case(e.name, name) == Ordering::Equal);
        &self.entries[start..start + len]
    }
}

/// Everything one evaluation needs: the facts, the moment, the events (read on first use) and how
/// to answer `in segment`.
pub(crate) struct Ctx<'a, F: Facts + ?Sized> {
    facts: &'a F,
    now: i64,
    events: OnceCell<Events<'a>>,
    segment: &'a dyn Fn(&str) -> bool,
}

impl<'a, F: Facts + ?Sized> Ctx<'a, F> {
    pub(crate) fn new(facts: &'a F, now: i64, segment: &'a dyn Fn(&str) -> bool) -> Self {
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

    pub(crate) fn rule(&self, rule: &Rule) -> bool {
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
                holds(test, &self.facts.property(property, self.now))
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
    pub(crate) fn next_change(&self, rule: &Rule) -> Option<i64> {
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

/// The events of a name-group (sorted by time) with `after < time ≤ upto`.
fn between<'e, 'a>(events: &'e [Entry<'a>], after: i64, upto: i64) -> &'e [Entry<'a>] {
    let start = events.partition_point(|e| e.at <= after);
    let end = events.partition_point(|e| e.at <= upto).max(start);
    &events[start..end]
}

/// `(after, upto)`: an event is in the window when `after < time ≤ upto`.
fn window_bounds(window: Window, now: i64) -> (i64, i64) {
    match window {
        Window::Ever => (i64::MIN, now),
        Window::Last(d) => (now.saturating_sub(d.ms()), now),
        Window::Ago { newer, older, unit } => (
            now.saturating_sub(i64::from(older).saturating_mul(unit.ms())),
            now.saturating_sub(i64::from(newer).saturating_mul(unit.ms())),
        ),
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
pub(crate) fn holds(test: &Test, v: &Value<'_>) -> bool {
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

impl Rule {
    /// Evaluates the rule for the customer described by `facts` at `now_ms`.
    ///
    /// `in segment` conditions ask [`Facts::in_segment`]; use a
    /// [`SegmentSet`](super::SegmentSet) to evaluate segments that refer to each other.
    /// The answer depends only on the facts and `now_ms`.
    pub fn evaluate<F: Facts + ?Sized>(&self, facts: &F, now_ms: i64) -> bool {
        let segment = |name: &str| facts.in_segment(name);
        Ctx::new(facts, now_ms, &segment).rule(self)
    }

    /// The earliest time after `now_ms` at which a time-windowed condition could change its
    /// answer with no new event: an event entering or leaving a window, or a `not followed by`
    /// period closing. `None` when nothing in the rule depends on the passing of time.
    ///
    /// The answer is conservative (the rule may still give the same answer then), and it does
    /// not cover properties that change with time inside [`Facts`], such as `rfm.recency`.
    pub fn next_change_ms<F: Facts + ?Sized>(&self, facts: &F, now_ms: i64) -> Option<i64> {
        let segment = |name: &str| facts.in_segment(name);
        Ctx::new(facts, now_ms, &segment).next_change(self)
    }
}

#[cfg(test)]
mod tests {
    use super::super::ast::{Duration, Filter, Path, Unit};
    use super::super::facts::{MemoryEvent, MemoryFacts};
    use super::*;

    const DAY: i64 = 86_400_000;

    fn cmp(path: &str, test: Test) -> Rule {
        Rule::Condition(Condition::Compare {
            property: Path::dotted(path),
            test,
        })
    }

    fn text(s: &str) -> Literal {
        Literal::Text(s.into())
    }

    #[test]
    fn list_values_match_any_element() {
        let tags = Value::List(vec!["Sale".into(), "vip".into()]);
        assert!(holds(&Test::Eq(text("vip")), &tags));
        assert!(holds(&Test::Contains("sale".into()), &tags));
        assert!(!holds(&Test::Contains("sa".into()), &tags));
        assert!(holds(&Test::StartsWith("sa".into()), &tags));
        assert!(!holds(&Test::Ne(text("VIP")), &tags));
        assert!(holds(&Test::IsSet, &tags));
        assert!(!holds(&Test::IsSet, &Value::List(vec![])));
    }

    #[test]
    fn coercions() {
        assert!(holds(&Test::Eq(Literal::Number(42.0)), &"42".into()));
        assert!(holds(&Test::Eq(text("42")), &Value::Number(42.0)));
        assert!(holds(&Test::Eq(Literal::Bool(true)), &"TRUE".into()));
        assert!(!holds(&Test::Eq(Literal::Bool(true)), &Value::Number(1.0)));
        assert!(!holds(&Test::Gt(1.0), &Value::Null));
        assert!(holds(&Test::Ne(text("x")), &Value::Null));
    }

    #[test]
    fn events_are_grouped_by_name_ignoring_case() {
        let f = MemoryFacts::new("s", "c")
            .with_event(MemoryEvent::new("b", 1))
            .with_event(MemoryEvent::new("A", 2))
            .with_event(MemoryEvent::new("a", 3))
            .with_event(MemoryEvent::new("c", 4));
        let ev = Events::read(&f);
        assert_eq!(ev.named("a").len(), 2);
        assert_eq!(ev.named("B").len(), 1);
        assert_eq!(ev.named("zz").len(), 0);
        assert_eq!(ev.named("").len(), 0);
    }

    #[test]
    fn window_edges() {
        let now = 100 * DAY;
        let rule = |window| {
            Rule::Condition(Condition::Performed(Box::new(EventCondition {
                event: "X".into(),
                filters: vec![],
                sequence: None,
                count: Count::AtLeast(1),
                window,
            })))
        };
        let last7 = rule(Window::Last(Duration {
            amount: 7,
            unit: Unit::Day,
        }));
        let at = |t| MemoryFacts::new("s", "c").with_event(MemoryEvent::new("X", t));
        assert!(!last7.evaluate(&at(now - 7 * DAY), now));
        assert!(last7.evaluate(&at(now - 7 * DAY + 1), now));
        assert!(last7.evaluate(&at(now), now));
        assert!(!last7.evaluate(&at(now + 1), now));
        assert_eq!(
            last7.next_change_ms(&at(now - DAY), now),
            Some(now + 6 * DAY)
        );
        assert_eq!(last7.next_change_ms(&at(now + 5), now), Some(now + 5));
        assert_eq!(last7.next_change_ms(&at(now - 8 * DAY), now), None);
    }

    #[test]
    fn filters_and_compare() {
        let f = MemoryFacts::new("s", "c")
            .with("total_spend", 150.0)
            .with_event(MemoryEvent::new("Product Viewed", 1).with("category", "Shoes"));
        assert!(cmp("total_spend", Test::Between(150.0, 150.0)).evaluate(&f, 10));
        let viewed = |cat: &str| {
            Rule::Condition(Condition::Performed(Box::new(EventCondition {
                event: "product viewed".into(),
                filters: vec![Filter {
                    key: "category".into(),
                    test: Test::Eq(text(cat)),
                }],
                sequence: None,
                count: Count::Exactly(1),
                window: Window::Ever,
            })))
        };
        assert!(viewed("shoes").evaluate(&f, 10));
        assert!(!viewed("hats").evaluate(&f, 10));
        assert_eq!(viewed("shoes").next_change_ms(&f, 10), None);
    }
}
