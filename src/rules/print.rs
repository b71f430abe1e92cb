//! The printer: the one canonical text of a [`Rule`] (`Display`), which parses back to the same
//! tree.
//!
//! Canonical form: keywords and property names in lower case, `=` and `!=` rather than `is`,
//! counts of one as `once`, the default count (`at least once`) and window (ever) left out, the
//! parts of `performed` in the order `where`, `followed by`, count, window, and the top-level
//! `and`/`or` parts one per line. Comments are not kept.

#[allow(unused_imports)]
use crate::prelude::*;

use super::ast::{
    Condition, Count, Duration, EventCondition, Literal, Path, Rule, Sequence, Test, Unit, Window,
};
use super::lexer::{is_word_char, is_word_start};
use core::fmt::{self, Display, Formatter, Write};

/// The canonical text of `rule` (the same as `rule.to_string()`).
pub fn print(rule: &Rule) -> String {
    rule.to_string()
}

/// Writes `s` in double quotes with `\"`, `\\`, `\n`, `\t`, `\r` and `\u{…}` escapes.
struct Quoted<'a>(&'a str);

impl Display for Quoted<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for c in self.0.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '\t' => f.write_str("\\t")?,
                '\r' => f.write_str("\\r")?,
                c if c.is_control() => write!(f, "\\u{{{:x}}}", u32::from(c))?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
    }
}

/// A name written bare when it reads back the same, else quoted.
struct Name<'a>(&'a str);

impl Display for Name<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let s = self.0;
        let bare = s.chars().next().is_some_and(is_word_start)
            && s.chars().all(is_word_char)
            && !s.bytes().any(|b| b.is_ascii_uppercase());
        if bare {
            f.write_str(s)
        } else {
            Quoted(s).fmt(f)
        }
    }
}

impl Display for Path {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.segments().iter().enumerate() {
            if i > 0 {
                f.write_char('.')?;
            }
            Name(seg).fmt(f)?;
        }
        Ok(())
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Number(n) => write!(f, "{n}"),
            Literal::Text(s) => Quoted(s).fmt(f),
            Literal::Bool(b) => write!(f, "{b}"),
        }
    }
}

fn list(f: &mut Formatter<'_>, items: &[Literal]) -> fmt::Result {
    f.write_char('[')?;
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        item.fmt(f)?;
    }
    f.write_char(']')
}

impl Display for Test {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Test::Eq(l) => write!(f, "= {l}"),
            Test::Ne(l) => write!(f, "!= {l}"),
            Test::Lt(n) => write!(f, "< {n}"),
            Test::Le(n) => write!(f, "<= {n}"),
            Test::Gt(n) => write!(f, "> {n}"),
            Test::Ge(n) => write!(f, ">= {n}"),
            Test::Between(a, b) => write!(f, "between {a} and {b}"),
            Test::Contains(s) => write!(f, "contains {}", Quoted(s)),
            Test::NotContains(s) => write!(f, "does not contain {}", Quoted(s)),
            Test::StartsWith(s) => write!(f, "starts with {}", Quoted(s)),
            Test::EndsWith(s) => write!(f, "ends with {}", Quoted(s)),
            Test::In(items) => {
                f.write_str("in ")?;
                list(f, items)
            }
            Test::NotIn(items) => {
                f.write_str("not in ")?;
                list(f, items)
            }
            Test::IsSet => f.write_str("is set"),
            Test::IsNotSet => f.write_str("is not set"),
        }
    }
}

fn unit_name(unit: Unit, amount: u32) -> &'static str {
    let (one, many) = match unit {
        Unit::Minute => ("minute", "minutes"),
        Unit::Hour => ("hour", "hours"),
        Unit::Day => ("day", "days"),
        Unit::Week => ("week", "weeks"),
        Unit::Month => ("month", "months"),
    };
    if amount == 1 {
        one
    } else {
        many
    }
}

impl Display for Duration {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, unit_name(self.unit, self.amount))
    }
}

impl Display for Count {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let (word, n) = match *self {
            Count::AtLeast(n) => ("at least", n),
            Count::AtMost(n) => ("at most", n),
            Count::Exactly(n) => ("exactly", n),
        };
        match n {
            1 => write!(f, "{word} once"),
            n => write!(f, "{word} {n} times"),
        }
    }
}

impl Display for Window {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match *self {
            Window::Ever => Ok(()),
            Window::Last(d) => write!(f, "in the last {d}"),
            Window::Ago { newer, older, unit } => write!(
                f,
                "between {newer} and {older} {} ago",
                unit_name(unit, older)
            ),
        }
    }
}

impl Display for Sequence {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.absent {
            f.write_str("not ")?;
        }
        write!(
            f,
            "followed by {} within {}",
            Quoted(&self.event),
            self.within
        )
    }
}

impl Display for EventCondition {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "performed {}", Quoted(&self.event))?;
        for (i, filter) in self.filters.iter().enumerate() {
            f.write_str(if i == 0 { " where " } else { ", " })?;
            write!(f, "{} {}", Name(&filter.key), filter.test)?;
        }
        if let Some(seq) = &self.sequence {
            write!(f, " {seq}")?;
        }
        if self.count != Count::AtLeast(1) {
            write!(f, " {}", self.count)?;
        }
        if self.window != Window::Ever {
            write!(f, " {}", self.window)?;
        }
        Ok(())
    }
}

impl Display for Condition {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Compare { property, test } => write!(f, "{property} {test}"),
            Condition::InSegment(name) => write!(f, "in segment {}", Quoted(name)),
            Condition::Bucket { percent, name } => {
                write!(f, "in {percent}% bucket {}", Quoted(name))
            }
            Condition::Performed(ec) => ec.fmt(f),
        }
    }
}

/// Writes a rule inside another: `and`/`or` groups get parentheses.
fn nested(rule: &Rule, f: &mut Formatter<'_>) -> fmt::Result {
    match rule {
        Rule::And(_) | Rule::Or(_) => {
            f.write_char('(')?;
            inline(rule, f, " ")?;
            f.write_char(')')
        }
        _ => inline(rule, f, " "),
    }
}

fn inline(rule: &Rule, f: &mut Formatter<'_>, sep: &str) -> fmt::Result {
    match rule {
        Rule::And(parts) | Rule::Or(parts) => {
            let word = if matches!(rule, Rule::And(_)) {
                "and "
            } else {
                "or "
            };
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    f.write_str(sep)?;
                    f.write_str(word)?;
                }
                nested(part, f)?;
            }
            Ok(())
        }
        Rule::Not(inner) => {
            f.write_str("not ")?;
            nested(inner, f)
        }
        Rule::Condition(c) => c.fmt(f),
    }
}

impl Display for Rule {
    /// The canonical text; the top-level `and`/`or` parts go one per line.
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        inline(self, f, "\n")
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn canon(src: &str) -> String {
        parse(src).expect("parses").to_string()
    }

    #[test]
    fn canonical_forms() {
        insta::assert_snapshot!(canon(r#"Performed "Product Viewed" WHERE Category IS "Shoes"
            in the past 7 days at least 3 time and total_spend>100 AND NOT in segment "vip""#), @r#"
        performed "Product Viewed" where category = "Shoes" at least 3 times in the last 7 days
        and total_spend > 100
        and not in segment "vip"
        "#);
        insta::assert_snapshot!(canon("not (traits.X = 1)"), @"not traits.x = 1");
        insta::assert_snapshot!(canon(r#"(orders > 1 or (sessions >= 2 and cart.value between 1 and 2.5)) and not not visitor is not "new""#), @r#"
        (orders > 1 or (sessions >= 2 and cart.value between 1 and 2.5))
        and not not visitor != "new"
        "#);
        insta::assert_snapshot!(canon(r#"affinity.category."Running Shoes" >= 0.5 or affinity.brand.acme > 0 or utm.source in ["a", "b\"c"] or traits.tags contains "x\ty""#), @r#"
        affinity.category."Running Shoes" >= 0.5
        or affinity.brand.acme > 0
        or utm.source in ["a", "b\"c"]
        or traits.tags contains "x\ty"
        "#);
        insta::assert_snapshot!(canon(r#"performed "Product Added" not followed by "Order Completed" within 1 day in the last 1 month exactly 1 time"#), @r#"performed "Product Added" not followed by "Order Completed" within 1 day exactly once in the last 1 month"#);
        insta::assert_snapshot!(canon(r#"performed "Order Completed" between 30 and 90 days ago and not performed "Order Completed" in the last 30 days"#), @r#"
        performed "Order Completed" between 30 and 90 days ago
        and not performed "Order Completed" in the last 30 days
        "#);
        insta::assert_snapshot!(canon(r#"in 2.5% bucket "holdout-q4" or traits.email is set or page.path does not contain "/sale" or page.url starts with "https" or page.referrer ends with ".com" or device.type not in ["bot"] or traits.vip = true or predicted.clv < -3"#), @r#"
        in 2.5% bucket "holdout-q4"
        or traits.email is set
        or page.path does not contain "/sale"
        or page.url starts with "https"
        or page.referrer ends with ".com"
        or device.type not in ["bot"]
        or traits.vip = true
        or predicted.clv < -3
        "#);
    }

    #[test]
    fn quoting() {
        assert_eq!(Quoted("a\u{1}\r\n").to_string(), "\"a\\u{1}\\r\\n\"");
        assert_eq!(Name("ok_name-2").to_string(), "ok_name-2");
        assert_eq!(Name("Upper").to_string(), "\"Upper\"");
        assert_eq!(Name("2x").to_string(), "\"2x\"");
        assert_eq!(Name("").to_string(), "\"\"");
    }
}
