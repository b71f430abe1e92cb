//! The typed syntax tree of a segment rule.
//!
//! A [`Rule`] is what the parser produces, what the printer prints, what the compact binary form
//! encodes and what the evaluator reads. Every construct of the language has exactly one node, so
//! `print → parse` gives back the same tree.

#[allow(unused_imports)]
use crate::prelude::*;

/// Deepest nesting of `(`, `not`, `and` and `or` accepted by the parser and the decoder.
///
/// The bound keeps the recursive evaluator, printer and decoder far from the stack limit.
pub const MAX_DEPTH: usize = 32;

/// A segment rule: conditions combined with `and`, `or` and `not`.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// True when every part is true (two or more parts).
    And(Vec<Rule>),
    /// True when any part is true (two or more parts).
    Or(Vec<Rule>),
    /// True when the inner rule is false.
    Not(Box<Rule>),
    /// A single condition.
    Condition(Condition),
}

/// One condition: a property test, a segment reference, a bucket or a past-event test.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `total_spend > 100`: a profile or context property tested against literal values.
    Compare {
        /// The property, e.g. `traits.plan`.
        property: Path,
        /// The test applied to its value.
        test: Test,
    },
    /// `in segment "vip"`: membership of another segment.
    InSegment(String),
    /// `in 10% bucket "holdout-q4"`: a deterministic share of customers, via
    /// [`crate::bucket::in_percent`] with the bucket name as the purpose.
    Bucket {
        /// Share of customers in the bucket, `0.0..=100.0`.
        percent: f64,
        /// The bucket's name (the hashing purpose).
        name: String,
    },
    /// `performed "Product Viewed" ...`: a test over the customer's past events.
    Performed(Box<EventCondition>),
}

/// A dotted property path such as `affinity.category.shoes`.
///
/// Unquoted segments are stored lower-cased (property names ignore case); quoted segments, such as
/// `affinity.category."Running Shoes"`, are stored as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path {
    segments: Vec<String>,
}

impl Path {
    /// A path from its segments, stored as given.
    pub fn new<S: Into<String>>(segments: impl IntoIterator<Item = S>) -> Path {
        Path {
            segments: segments.into_iter().map(Into::into).collect(),
        }
    }

    /// A path from dotted text such as `"affinity.category.shoes"` (lower-cased; no quoting).
    pub fn dotted(text: &str) -> Path {
        Path::new(text.split('.').map(str::to_ascii_lowercase))
    }

    /// The segments, e.g. `["affinity", "category", "shoes"]`.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// Segment `i`, if present.
    pub fn get(&self, i: usize) -> Option<&str> {
        self.segments.get(i).map(String::as_str)
    }

    /// True when the path has exactly these segments, ignoring ASCII case.
    pub fn is(&self, segments: &[&str]) -> bool {
        self.segments.len() == segments.len()
            && self
                .segments
                .iter()
                .zip(segments)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }
}

/// A literal value written in a rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A number such as `100` or `4.5`.
    Number(f64),
    /// Text in double quotes.
    Text(String),
    /// `true` or `false`.
    Bool(bool),
}

/// A test applied to a value: the operator and its operands.
///
/// Negative tests (`!=`, `does not contain`, `not in`, `is not set`) are exactly the negation of
/// their positive twin, so a missing property satisfies `traits.plan != "pro"`.
#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// `= x` (also written `is x` or `==`).
    Eq(Literal),
    /// `!= x` (also written `is not x`).
    Ne(Literal),
    /// `< n`
    Lt(f64),
    /// `<= n`
    Le(f64),
    /// `> n`
    Gt(f64),
    /// `>= n`
    Ge(f64),
    /// `between a and b`, both ends included.
    Between(f64, f64),
    /// `contains "x"`: a substring of text, or an element of a list.
    Contains(String),
    /// `does not contain "x"`
    NotContains(String),
    /// `starts with "x"`
    StartsWith(String),
    /// `ends with "x"`
    EndsWith(String),
    /// `in ["a", "b"]`: equal to one of the values.
    In(Vec<Literal>),
    /// `not in ["a", "b"]`
    NotIn(Vec<Literal>),
    /// `is set`: present and not empty.
    IsSet,
    /// `is not set`
    IsNotSet,
}

/// A past-event condition: which events count, how many, when, and what must (not) follow.
///
/// An event *happened* when its time is at or before `now`. Events are counted when they match the
/// name (ignoring ASCII case) and every filter, fall in the [`Window`] and satisfy the
/// [`Sequence`]; the [`Count`] is then applied to that number.
#[derive(Debug, Clone, PartialEq)]
pub struct EventCondition {
    /// The event name, e.g. `Product Viewed`.
    pub event: String,
    /// `where category = "Shoes", price > 50`: tests on the event's properties, all must hold.
    pub filters: Vec<Filter>,
    /// `[not] followed by "Order Completed" within 1 day`.
    pub sequence: Option<Sequence>,
    /// How many matching events are required (default: at least 1).
    pub count: Count,
    /// When the events must have happened (default: ever).
    pub window: Window,
}

/// A test on one property of a past event, e.g. `category = "Shoes"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// The event property key, lower-cased (e.g. `category`, `brand`, `price`, `revenue`).
    pub key: String,
    /// The test on its value.
    pub test: Test,
}

/// How many matching events a past-event condition needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// `at least n times` (the default is at least once).
    AtLeast(u32),
    /// `at most n times` (zero included).
    AtMost(u32),
    /// `exactly n times`.
    Exactly(u32),
}

/// A unit of time in a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// 60 000 ms.
    Minute,
    /// 3 600 000 ms.
    Hour,
    /// 86 400 000 ms.
    Day,
    /// 7 days.
    Week,
    /// 30 days.
    Month,
}

impl Unit {
    /// Length of one unit in milliseconds.
    pub fn ms(self) -> i64 {
        match self {
            Unit::Minute => 60_000,
            Unit::Hour => 3_600_000,
            Unit::Day => 86_400_000,
            Unit::Week => 7 * 86_400_000,
            Unit::Month => 30 * 86_400_000,
        }
    }
}

/// Largest amount accepted in a duration (about 27 years in days).
pub const MAX_AMOUNT: u32 = 10_000;

/// A length of time such as `7 days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duration {
    /// How many units (at most [`MAX_AMOUNT`]).
    pub amount: u32,
    /// The unit.
    pub unit: Unit,
}

impl Duration {
    /// The duration in milliseconds.
    pub fn ms(self) -> i64 {
        i64::from(self.amount).saturating_mul(self.unit.ms())
    }
}

/// When the counted events must have happened, relative to `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Any time up to now (no window written).
    Ever,
    /// `in the last 7 days`: `now − 7 days < time ≤ now` (the older edge is excluded).
    Last(Duration),
    /// `between 30 and 90 days ago`: `now − 90 days < time ≤ now − 30 days`.
    ///
    /// Together with `in the last 30 days` it splits `in the last 90 days` exactly.
    Ago {
        /// The newer edge (`30` in the example), included.
        newer: u32,
        /// The older edge (`90`), excluded; larger than `newer`.
        older: u32,
        /// The unit of both.
        unit: Unit,
    },
}

/// `followed by "Order Completed" within 1 day`, or with `not` before it, its absence.
///
/// For a counted event at time `t`, a follow-up is an event named `event` at a time in
/// `(t, t + within]`. With `absent`, the counted event qualifies only once the whole period is
/// over (`now ≥ t + within`) and no follow-up happened in it: an abandoned cart is known only when
/// the day has passed.
#[derive(Debug, Clone, PartialEq)]
pub struct Sequence {
    /// True for `not followed by`.
    pub absent: bool,
    /// The follow-up event name.
    pub event: String,
    /// How long after the counted event the follow-up may come.
    pub within: Duration,
}

impl Rule {
    /// Depth of the tree: 1 for a single condition.
    pub fn depth(&self) -> usize {
        match self {
            Rule::And(parts) | Rule::Or(parts) => {
                1 + parts.iter().map(Rule::depth).max().unwrap_or(0)
            }
            Rule::Not(inner) => 1 + inner.depth(),
            Rule::Condition(_) => 1,
        }
    }

    /// Calls `f` on every condition, left to right.
    pub fn for_each_condition<'a>(&'a self, f: &mut dyn FnMut(&'a Condition)) {
        match self {
            Rule::And(parts) | Rule::Or(parts) => {
                for p in parts {
                    p.for_each_condition(f);
                }
            }
            Rule::Not(inner) => inner.for_each_condition(f),
            Rule::Condition(c) => f(c),
        }
    }

    /// Names of the segments this rule refers to with `in segment`, in order of appearance.
    pub fn segment_references(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.for_each_condition(&mut |c| {
            if let Condition::InSegment(name) = c {
                out.push(name.as_str());
            }
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let d = Duration {
            amount: 7,
            unit: Unit::Day,
        };
        assert_eq!(d.ms(), 7 * 86_400_000);
        let huge = Duration {
            amount: u32::MAX,
            unit: Unit::Month,
        };
        assert!(huge.ms() > 0);
    }

    #[test]
    fn paths() {
        let p = Path::dotted("Affinity.Category.Shoes");
        assert_eq!(p.segments(), ["affinity", "category", "shoes"]);
        assert!(p.is(&["affinity", "CATEGORY", "shoes"]));
        assert_eq!(p.get(2), Some("shoes"));
        assert_eq!(p.get(3), None);
    }

    #[test]
    fn depth_and_references() {
        let r = Rule::And(vec![
            Rule::Condition(Condition::InSegment("a".into())),
            Rule::Not(Box::new(Rule::Condition(Condition::InSegment("b".into())))),
        ]);
        assert_eq!(r.depth(), 3);
        assert_eq!(r.segment_references(), ["a", "b"]);
    }
}
