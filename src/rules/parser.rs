//! The parser: rule text → [`Rule`], with errors that point at the place and say what was
//! expected. Used at the edge and in the dashboard; the page receives compiled rules instead.
//!
//! Grammar (keywords ignore case; `#` starts a comment):
//!
//! ```text
//! rule       = all ("or" all)*
//! all        = unary ("and" unary)*
//! unary      = "not" unary | "(" rule ")" | condition
//! condition  = property test
//!            | "in" "segment" TEXT
//!            | "in" NUMBER "%" "bucket" TEXT
//!            | "performed" TEXT clause*
//! property   = WORD ("." (WORD | TEXT))*
//! test       = ("=" | "==" | "is") literal | ("!=" | "is not") literal
//!            | ("<" | "<=" | ">" | ">=") NUMBER | "between" NUMBER "and" NUMBER
//!            | "contains" TEXT | "does not contain" TEXT
//!            | "starts with" TEXT | "ends with" TEXT
//!            | "in" list | "not in" list | "is set" | "is not set"
//! literal    = NUMBER | TEXT | "true" | "false"
//! list       = "[" literal ("," literal)* "]"
//! clause     = "where" filter ("," filter)*
//!            | ["not"] "followed by" TEXT "within" duration
//!            | ("at least" | "at most" | "exactly") (NUMBER ("time" | "times") | "once")
//!            | "in the" ("last" | "past") [NUMBER] unit
//!            | "between" NUMBER "and" NUMBER unit "ago"
//! filter     = (WORD | TEXT) test
//! duration   = NUMBER unit
//! unit       = minute(s) | hour(s) | day(s) | week(s) | month(s)
//! ```

#[allow(unused_imports)]
use crate::prelude::*;

use super::ast::{
    Condition, Count, Duration, EventCondition, Filter, Literal, Path, Rule, Sequence, Test, Unit,
    Window, MAX_AMOUNT, MAX_DEPTH,
};
use super::error::{Error, ErrorKind};
use super::lexer::{tokenize, Tok, Token};
use super::segments::SegmentSet;

/// Longest rule text accepted, in bytes.
pub const MAX_RULE_BYTES: usize = 64 * 1024;

/// Parses rule text into a [`Rule`].
///
/// ```
/// let rule = affinity::rules::parse(
///     r#"performed "Product Viewed" where category = "Shoes" at least 3 times in the last 7 days
///        and total_spend > 100
///        and not in segment "vip""#,
/// )?;
/// assert_eq!(rule.segment_references(), ["vip"]);
/// # Ok::<(), affinity::rules::Error>(())
/// ```
pub fn parse(src: &str) -> Result<Rule, Error> {
    if src.len() > MAX_RULE_BYTES {
        return Err(Error::new(
            ErrorKind::TooLong,
            format!(
                "the rule is {} bytes long; rules can be at most {MAX_RULE_BYTES} bytes",
                src.len()
            ),
        ));
    }
    let toks = tokenize(src)?;
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        depth: 0,
    };
    if p.peek().tok == Tok::End {
        return Err(p.error(
            ErrorKind::Syntax,
            "the rule is empty; write a condition such as `orders > 0`",
            0,
        ));
    }
    let rule = p.rule()?;
    let next = p.peek();
    if next.tok != Tok::End {
        let message = if next.tok == Tok::Close {
            "this `)` has no matching `(`".to_string()
        } else {
            format!(
                "expected `and`, `or` or the end of the rule, found {}",
                describe(&next.tok)
            )
        };
        return Err(p.error(ErrorKind::Syntax, message, 0));
    }
    Ok(rule)
}

impl core::str::FromStr for Rule {
    type Err = Error;

    fn from_str(s: &str) -> Result<Rule, Error> {
        parse(s)
    }
}

impl SegmentSet {
    /// Parses and compiles named segments given as `(name, rule text)`.
    ///
    /// Errors carry the segment's name ([`Error::segment`]).
    ///
    /// ```
    /// use affinity::rules::{MemoryFacts, SegmentSet};
    /// let set = SegmentSet::parse([
    ///     ("big spenders", "total_spend >= 500"),
    ///     ("vip", r#"in segment "big spenders" and orders >= 3"#),
    /// ])?;
    /// let facts = MemoryFacts::new("shop", "c1").with("total_spend", 900.0).with("orders", 4.0);
    /// assert!(set.evaluate(&facts, 0).contains("vip"));
    /// # Ok::<(), affinity::rules::Error>(())
    /// ```
    pub fn parse<'a>(
        segments: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<SegmentSet, Error> {
        let mut rules = Vec::new();
        for (name, text) in segments {
            let rule = parse(text).map_err(|e| e.in_segment(name))?;
            rules.push((name.to_string(), rule));
        }
        SegmentSet::new(rules)
    }
}

/// A readable name for a token in messages.
fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Word(w) => format!("`{w}`"),
        Tok::Text(t) => format!("the text {t:?}"),
        Tok::Number(n) => format!("the number {n}"),
        Tok::Open => "`(`".into(),
        Tok::Close => "`)`".into(),
        Tok::OpenList => "`[`".into(),
        Tok::CloseList => "`]`".into(),
        Tok::Comma => "`,`".into(),
        Tok::Dot => "`.`".into(),
        Tok::Percent => "`%`".into(),
        Tok::Eq => "`=`".into(),
        Tok::Ne => "`!=`".into(),
        Tok::Lt => "`<`".into(),
        Tok::Le => "`<=`".into(),
        Tok::Gt => "`>`".into(),
        Tok::Ge => "`>=`".into(),
        Tok::End => "the end of the rule".into(),
    }
}

/// What kind of value a property holds, for checking operators and literals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Text,
    Visitor,
    Any,
}

const NUMBER_PROPERTIES: &[&str] = &[
    "orders",
    "product_views",
    "page_views",
    "searches",
    "cart_adds",
    "checkouts",
    "sessions",
    "total_spend",
    "rfm.recency",
    "rfm.frequency",
    "rfm.monetary",
    "cart.value",
    "cart.items",
];

const TEXT_PROPERTIES: &[&str] = &[
    "page.url",
    "page.path",
    "page.referrer",
    "page.title",
    "utm.source",
    "utm.medium",
    "utm.campaign",
    "utm.term",
    "utm.content",
    "device.type",
];

/// Properties that take a name after them.
const FAMILIES: &[(&str, Kind, &str)] = &[
    ("traits", Kind::Any, "traits.plan"),
    ("predicted", Kind::Number, "predicted.clv"),
    ("affinity.category", Kind::Number, "affinity.category.shoes"),
    ("affinity.brand", Kind::Number, "affinity.brand.acme"),
];

/// Keys of event properties, for a hint when one is used outside `where`.
const EVENT_KEYS: &[&str] = &[
    "category",
    "brand",
    "product_id",
    "price",
    "revenue",
    "value",
    "quantity",
    "name",
    "sku",
];

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// The kind of `path`, or the message explaining why it is not a property.
fn property_kind(path: &Path, shown: &str) -> Result<Kind, String> {
    let segs = path.segments();
    let dotted = |n: usize| segs[..n.min(segs.len())].join(".");
    if segs.len() == 1 && segs[0] == "visitor" {
        return Ok(Kind::Visitor);
    }
    if NUMBER_PROPERTIES.contains(&shown) {
        return Ok(Kind::Number);
    }
    if TEXT_PROPERTIES.contains(&shown) {
        return Ok(Kind::Text);
    }
    for &(family, kind, example) in FAMILIES {
        let n = family.matches('.').count() + 1;
        if dotted(n) == family {
            return match segs.len() - n {
                0 => Err(format!(
                    "`{family}` needs a name after it, like `{example}`"
                )),
                1 => Ok(kind),
                _ if kind == Kind::Any => Ok(kind),
                _ => Err(format!(
                    "unknown property `{shown}`; `{family}` takes one name after it, like `{example}` (quote names with dots or spaces)"
                )),
            };
        }
    }
    if segs.len() == 1 && EVENT_KEYS.contains(&shown) {
        return Err(format!(
            "unknown property `{shown}`; `{shown}` is a property of events: to filter a `performed` condition by several properties, separate the filters with commas, like `where category = \"Shoes\", brand = \"Acme\"`"
        ));
    }
    let mut candidates: Vec<String> = NUMBER_PROPERTIES
        .iter()
        .chain(TEXT_PROPERTIES)
        .map(|s| s.to_string())
        .collect();
    candidates.push("visitor".into());
    for &(family, _, _) in FAMILIES {
        let n = family.matches('.').count() + 1;
        if segs.len() > n {
            candidates.push(format!("{family}.{}", segs[n..].join(".")));
        }
    }
    let best = candidates
        .iter()
        .map(|c| (edit_distance(shown, c), c))
        .min_by_key(|(d, _)| *d);
    match best {
        Some((d, c)) if d <= 2 => Err(format!("unknown property `{shown}`; did you mean `{c}`?")),
        _ if segs.len() == 1 => Err(format!(
            "unknown property `{shown}`; for a customer trait write `traits.{shown}`"
        )),
        _ => Err(format!(
            "unknown property `{shown}`; see the list of properties in the rule language reference"
        )),
    }
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

type R<T> = Result<T, Error>;

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        &self.toks[(self.pos + ahead).min(self.toks.len() - 1)].tok
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn is_word(tok: &Tok, kw: &str) -> bool {
        matches!(tok, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    fn at_word(&self, kw: &str) -> bool {
        Self::is_word(&self.peek().tok, kw)
    }

    fn eat_word(&mut self, kw: &str) -> bool {
        let yes = self.at_word(kw);
        if yes {
            self.bump();
        }
        yes
    }

    /// An error at the token `back` tokens before the current one (0: the current one).
    fn error(&self, kind: ErrorKind, message: impl Into<String>, back: usize) -> Error {
        let t = &self.toks[self.pos.saturating_sub(back).min(self.toks.len() - 1)];
        Error::at(kind, message, self.src, t.start, t.end)
    }

    fn error_span(
        &self,
        kind: ErrorKind,
        message: impl Into<String>,
        start: usize,
        end: usize,
    ) -> Error {
        Error::at(kind, message, self.src, start, end)
    }

    /// The text of the previous token, for "after `x`" in messages.
    fn prev_text(&self) -> &str {
        let t = &self.toks[self.pos.saturating_sub(1)];
        &self.src[t.start..t.end]
    }

    fn expect_word(&mut self, kw: &str, message: &str) -> R<()> {
        if self.eat_word(kw) {
            Ok(())
        } else {
            Err(self.error(ErrorKind::Syntax, message, 0))
        }
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(
                ErrorKind::TooDeep,
                format!("rules can nest parentheses and `not` at most {MAX_DEPTH} levels deep"),
                0,
            ));
        }
        Ok(())
    }

    fn rule(&mut self) -> R<Rule> {
        let mut parts = vec![self.all()?];
        while self.eat_word("or") {
            parts.push(self.all()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Rule::Or(parts)
        })
    }

    fn all(&mut self) -> R<Rule> {
        let mut parts = vec![self.unary()?];
        while self.eat_word("and") {
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Rule::And(parts)
        })
    }

    fn unary(&mut self) -> R<Rule> {
        if self.at_word("not") {
            self.enter()?;
            self.bump();
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Rule::Not(Box::new(inner)));
        }
        let t = self.peek().clone();
        match &t.tok {
            Tok::Open => {
                self.enter()?;
                self.bump();
                let inner = self.rule()?;
                if self.peek().tok != Tok::Close {
                    let open = Error::at(ErrorKind::Syntax, "", self.src, t.start, t.end);
                    let found = describe(&self.peek().tok);
                    return Err(self.error(
                        ErrorKind::Syntax,
                        format!(
                            "expected `)` to close the `(` on line {}, column {}, found {found}",
                            open.line().unwrap_or(1),
                            open.column().unwrap_or(1)
                        ),
                        0,
                    ));
                }
                self.bump();
                self.depth -= 1;
                Ok(inner)
            }
            Tok::Word(w) if w.eq_ignore_ascii_case("in") => self.membership(),
            Tok::Word(w) if w.eq_ignore_ascii_case("performed") => self.performed(),
            Tok::Word(w)
                if ["and", "or", "where", "at", "between", "followed"]
                    .iter()
                    .any(|k| w.eq_ignore_ascii_case(k)) =>
            {
                Err(self.error(
                    ErrorKind::Syntax,
                    format!("expected a condition, found `{w}`"),
                    0,
                ))
            }
            Tok::Word(_) => self.comparison(),
            Tok::Text(_) => Err(self.error(
                ErrorKind::Syntax,
                "expected a condition; to test an event write `performed \"Event Name\"`, to test a property write e.g. `traits.plan = \"pro\"`",
                0,
            )),
            other => Err(self.error(
                ErrorKind::Syntax,
                format!(
                    "expected a condition (a property test, `performed`, `in segment` or `not`), found {}",
                    describe(other)
                ),
                0,
            )),
        }
    }

    fn text(&mut self, message: &str) -> R<String> {
        match self.peek().tok.clone() {
            Tok::Text(t) => {
                self.bump();
                if t.is_empty() {
                    return Err(self.error(ErrorKind::Syntax, "this name is empty", 1));
                }
                Ok(t)
            }
            _ => Err(self.error(ErrorKind::Syntax, message, 0)),
        }
    }

    fn membership(&mut self) -> R<Rule> {
        self.bump();
        if self.eat_word("segment") {
            let name = self.text(
                "expected the segment name in quotes after `in segment`, like `in segment \"vip\"`",
            )?;
            return Ok(Rule::Condition(Condition::InSegment(name)));
        }
        if let Tok::Number(percent) = self.peek().tok {
            self.bump();
            if !(0.0..=100.0).contains(&percent) {
                return Err(self.error(
                    ErrorKind::Range,
                    "a percentage must be between 0 and 100",
                    1,
                ));
            }
            if self.peek().tok != Tok::Percent {
                return Err(self.error(
                    ErrorKind::Syntax,
                    format!(
                        "expected `%` after `{}`, like `in 10% bucket \"holdout\"`",
                        self.prev_text()
                    ),
                    0,
                ));
            }
            self.bump();
            self.expect_word(
                "bucket",
                "expected `bucket` after the percentage, like `in 10% bucket \"holdout\"`",
            )?;
            let name =
                self.text("expected the bucket name in quotes, like `in 10% bucket \"holdout\"`")?;
            return Ok(Rule::Condition(Condition::Bucket { percent, name }));
        }
        Err(self.error(
            ErrorKind::Syntax,
            "expected `segment` or a percentage after `in`, like `in segment \"vip\"` or `in 10% bucket \"holdout\"`",
            0,
        ))
    }

    fn path(&mut self) -> R<(Path, usize, usize)> {
        let first = self.bump();
        let start = first.start;
        let Tok::Word(w) = first.tok else {
            return Err(self.error(ErrorKind::Syntax, "expected a property name", 1));
        };
        let mut segs = vec![w.to_ascii_lowercase()];
        let mut end = first.end;
        while self.peek().tok == Tok::Dot {
            self.bump();
            let t = self.bump();
            match t.tok {
                Tok::Word(w) => segs.push(w.to_ascii_lowercase()),
                Tok::Text(s) if !s.is_empty() => segs.push(s),
                _ => {
                    return Err(self.error(
                        ErrorKind::Syntax,
                        "expected a name after `.` (use quotes for names with spaces, like affinity.category.\"Running Shoes\")",
                        1,
                    ))
                }
            }
            end = t.end;
        }
        Ok((Path::new(segs), start, end))
    }

    fn comparison(&mut self) -> R<Rule> {
        let (property, start, end) = self.path()?;
        let shown = self.src[start..end].to_ascii_lowercase();
        let kind = property_kind(&property, &shown)
            .map_err(|m| self.error_span(ErrorKind::UnknownProperty, m, start, end))?;
        let subject = self.src[start..end].to_string();
        let test = self.test(&subject)?;
        self.check(kind, &test.0, &shown, test.1, test.2)?;
        Ok(Rule::Condition(Condition::Compare {
            property,
            test: test.0,
        }))
    }

    /// Checks that a test fits the property's kind; `op`/`val` are the token indexes of the
    /// operator and the (first) operand.
    fn check(&self, kind: Kind, test: &Test, name: &str, op: usize, val: usize) -> R<()> {
        let at = |i: usize, m: String| {
            let t = &self.toks[i.min(self.toks.len() - 1)];
            Err(Error::at(ErrorKind::Type, m, self.src, t.start, t.end))
        };
        let number_needed = |lit: &Literal, i: usize| match lit {
            Literal::Number(_) => Ok(()),
            Literal::Text(t) if t.trim().parse::<f64>().is_ok() => at(
                i,
                format!(
                    "`{name}` is a number: write the number without quotes, like {}",
                    t.trim()
                ),
            ),
            _ => at(
                i,
                format!("`{name}` is a number: compare it with a number, like `{name} > 3`"),
            ),
        };
        let text_needed = |lit: &Literal, i: usize| match lit {
            Literal::Text(t) if kind == Kind::Visitor && t != "new" && t != "returning" => at(
                i,
                "`visitor` is either \"new\" or \"returning\"".to_string(),
            ),
            Literal::Text(_) => Ok(()),
            _ => at(
                i,
                format!("`{name}` is text: put the value in double quotes"),
            ),
        };
        match (kind, test) {
            (Kind::Any, _) | (_, Test::IsSet | Test::IsNotSet) => Ok(()),
            (Kind::Number, Test::Eq(l) | Test::Ne(l)) => number_needed(l, val),
            (Kind::Number, Test::In(ls) | Test::NotIn(ls)) => ls
                .iter()
                .enumerate()
                .try_for_each(|(i, l)| number_needed(l, val + 2 * i)),
            (
                Kind::Number,
                Test::Contains(_) | Test::NotContains(_) | Test::StartsWith(_) | Test::EndsWith(_),
            ) => at(
                op,
                format!("`{name}` is a number: compare it with =, !=, <, <=, >, >=, between or in [...]"),
            ),
            (Kind::Number, _) => Ok(()),
            (_, Test::Eq(l) | Test::Ne(l)) => text_needed(l, val),
            (_, Test::In(ls) | Test::NotIn(ls)) => ls
                .iter()
                .enumerate()
                .try_for_each(|(i, l)| text_needed(l, val + 2 * i)),
            (_, Test::Lt(_) | Test::Le(_) | Test::Gt(_) | Test::Ge(_) | Test::Between(..)) => at(
                op,
                format!("`{name}` is text: compare it with =, !=, contains, starts with, ends with or in [...]"),
            ),
            (Kind::Visitor, _) => at(
                op,
                "`visitor` is either \"new\" or \"returning\": compare it with = or !=".to_string(),
            ),
            (Kind::Text, _) => Ok(()),
        }
    }

    fn number(&mut self, after: &str) -> R<f64> {
        match self.peek().tok {
            Tok::Number(n) => {
                self.bump();
                Ok(n)
            }
            Tok::Text(ref t) if t.trim().parse::<f64>().is_ok_and(f64::is_finite) => Err(self
                .error(
                    ErrorKind::Type,
                    format!("write numbers without quotes: `{after} {}`", t.trim()),
                    0,
                )),
            ref other => Err(self.error(
                ErrorKind::Syntax,
                format!(
                    "expected a number after `{after}`, found {}",
                    describe(other)
                ),
                0,
            )),
        }
    }

    fn whole(&mut self, after: &str, min: u32, max: u32) -> R<u32> {
        let n = self.number(after)?;
        if n.fract() != 0.0 || n < f64::from(min) || n > f64::from(max) {
            return Err(self.error(
                ErrorKind::Range,
                format!("expected a whole number from {min} to {max}"),
                1,
            ));
        }
        Ok(n as u32)
    }

    fn literal(&mut self, after: &str) -> R<Literal> {
        let t = self.peek().tok.clone();
        let lit = match t {
            Tok::Number(n) => Literal::Number(n),
            Tok::Text(s) => Literal::Text(s),
            Tok::Word(w) if w.eq_ignore_ascii_case("true") => Literal::Bool(true),
            Tok::Word(w) if w.eq_ignore_ascii_case("false") => Literal::Bool(false),
            Tok::Word(w) => {
                return Err(self.error(
                    ErrorKind::Syntax,
                    format!("put text in double quotes: \"{w}\""),
                    0,
                ))
            }
            other => {
                return Err(self.error(
                    ErrorKind::Syntax,
                    format!(
                        "expected a value (a number, text in double quotes, true or false) after `{after}`, found {}",
                        describe(&other)
                    ),
                    0,
                ))
            }
        };
        self.bump();
        Ok(lit)
    }

    fn list(&mut self, after: &str) -> R<Vec<Literal>> {
        if self.peek().tok != Tok::OpenList {
            return Err(self.error(
                ErrorKind::Syntax,
                format!("expected a list in square brackets after `{after}`, like [\"a\", \"b\"]"),
                0,
            ));
        }
        self.bump();
        if self.peek().tok == Tok::CloseList {
            return Err(self.error(ErrorKind::Syntax, "the list is empty", 0));
        }
        let mut items = vec![self.literal("[")?];
        loop {
            match self.peek().tok {
                Tok::Comma => {
                    self.bump();
                    items.push(self.literal(",")?);
                }
                Tok::CloseList => {
                    self.bump();
                    return Ok(items);
                }
                ref other => {
                    return Err(self.error(
                        ErrorKind::Syntax,
                        format!("expected `,` or `]` in the list, found {}", describe(other)),
                        0,
                    ))
                }
            }
        }
    }

    fn text_operand(&mut self, op: &str) -> R<String> {
        match self.peek().tok.clone() {
            Tok::Text(s) => {
                self.bump();
                Ok(s)
            }
            other => Err(self.error(
                ErrorKind::Type,
                format!(
                    "`{op}` needs text in double quotes after it, found {}",
                    describe(&other)
                ),
                0,
            )),
        }
    }

    /// Parses an operator and its operands; returns the test and the token indexes of the operator
    /// and the first operand.
    fn test(&mut self, subject: &str) -> R<(Test, usize, usize)> {
        let op = self.pos;
        let t = self.bump();
        let word = |kw: &str| Self::is_word(&t.tok, kw);
        let test = match t.tok {
            Tok::Eq => Test::Eq(self.literal("=")?),
            Tok::Ne => Test::Ne(self.literal("!=")?),
            Tok::Lt => Test::Lt(self.number("<")?),
            Tok::Le => Test::Le(self.number("<=")?),
            Tok::Gt => Test::Gt(self.number(">")?),
            Tok::Ge => Test::Ge(self.number(">=")?),
            _ if word("is") => {
                if self.eat_word("not") {
                    if self.eat_word("set") {
                        Test::IsNotSet
                    } else {
                        Test::Ne(self.literal("is not")?)
                    }
                } else if self.eat_word("set") {
                    Test::IsSet
                } else {
                    Test::Eq(self.literal("is")?)
                }
            }
            _ if word("contains") => Test::Contains(self.text_operand("contains")?),
            _ if word("does") => {
                self.expect_word("not", "expected `does not contain`")?;
                self.expect_word("contain", "expected `does not contain`")?;
                Test::NotContains(self.text_operand("does not contain")?)
            }
            _ if word("starts") => {
                self.expect_word("with", "expected `starts with`")?;
                Test::StartsWith(self.text_operand("starts with")?)
            }
            _ if word("ends") => {
                self.expect_word("with", "expected `ends with`")?;
                Test::EndsWith(self.text_operand("ends with")?)
            }
            _ if word("in") => Test::In(self.list("in")?),
            _ if word("not") => {
                self.expect_word(
                    "in",
                    "expected `not in [...]`; to negate a whole condition, put `not` before it",
                )?;
                Test::NotIn(self.list("not in")?)
            }
            _ if word("between") => {
                let a = self.number("between")?;
                self.expect_word(
                    "and",
                    "expected `and` between the two numbers, like `between 10 and 20`",
                )?;
                let b = self.number("and")?;
                if a > b {
                    return Err(self.error(
                        ErrorKind::Range,
                        format!("the first number must not be larger than the second: write `between {b} and {a}`"),
                        1,
                    ));
                }
                Test::Between(a, b)
            }
            _ => {
                self.pos = op;
                return Err(self.error(
                    ErrorKind::Syntax,
                    format!("expected a comparison operator (=, !=, <, >, contains, ...) after `{subject}`"),
                    0,
                ));
            }
        };
        let val = if matches!(test, Test::In(_) | Test::NotIn(_)) {
            op + 2 + usize::from(matches!(test, Test::NotIn(_)))
        } else {
            self.pos - 1
        };
        Ok((test, op, val))
    }

    fn unit(&mut self) -> R<Unit> {
        let unit = match &self.peek().tok {
            Tok::Word(w) => match w.to_ascii_lowercase().as_str() {
                "minute" | "minutes" => Some(Unit::Minute),
                "hour" | "hours" => Some(Unit::Hour),
                "day" | "days" => Some(Unit::Day),
                "week" | "weeks" => Some(Unit::Week),
                "month" | "months" => Some(Unit::Month),
                _ => None,
            },
            _ => None,
        };
        match unit {
            Some(u) => {
                self.bump();
                Ok(u)
            }
            None => Err(self.error(
                ErrorKind::Syntax,
                format!(
                    "expected a time unit (minutes, hours, days, weeks or months) after `{}`",
                    self.prev_text()
                ),
                0,
            )),
        }
    }

    fn duplicate(&self, what: &str) -> Error {
        self.error(
            ErrorKind::Syntax,
            format!("this `performed` condition already has {what}"),
            0,
        )
    }

    fn performed(&mut self) -> R<Rule> {
        self.bump();
        let event = self.text(
            "expected the event name in quotes after `performed`, like `performed \"Order Completed\"`",
        )?;
        let mut filters: Option<Vec<Filter>> = None;
        let mut sequence = None;
        let mut count = None;
        let mut window = None;
        loop {
            if self.at_word("where") {
                if filters.is_some() {
                    return Err(self.duplicate("a `where` part (separate filters with commas)"));
                }
                self.bump();
                let mut list = vec![self.filter()?];
                while self.peek().tok == Tok::Comma {
                    self.bump();
                    list.push(self.filter()?);
                }
                filters = Some(list);
            } else if self.at_word("followed")
                || (self.at_word("not") && Self::is_word(self.peek_at(1), "followed"))
            {
                if sequence.is_some() {
                    return Err(self.duplicate("a `followed by` part"));
                }
                let absent = self.eat_word("not");
                self.bump();
                self.expect_word("by", "expected `by` after `followed`")?;
                let next = self.text(
                    "expected the event name in quotes after `followed by`, like `followed by \"Order Completed\"`",
                )?;
                self.expect_word(
                    "within",
                    "expected `within` and a time after the event, like `within 1 day`",
                )?;
                let amount = self.whole("within", 1, MAX_AMOUNT)?;
                let unit = self.unit()?;
                sequence = Some(Sequence {
                    absent,
                    event: next,
                    within: Duration { amount, unit },
                });
            } else if self.at_word("at") || self.at_word("exactly") {
                if count.is_some() {
                    return Err(self.duplicate("a count"));
                }
                let first = self.bump();
                let make: fn(u32) -> Count = if Self::is_word(&first.tok, "exactly") {
                    Count::Exactly
                } else if self.eat_word("least") {
                    Count::AtLeast
                } else if self.eat_word("most") {
                    Count::AtMost
                } else {
                    return Err(self.error(
                        ErrorKind::Syntax,
                        "expected `at least` or `at most`",
                        0,
                    ));
                };
                let n = if self.eat_word("once") {
                    1
                } else {
                    let after = self.prev_text().to_string();
                    let n = self.whole(&after, 0, 1_000_000)?;
                    if !(self.eat_word("times") || self.eat_word("time")) {
                        return Err(self.error(
                            ErrorKind::Syntax,
                            format!("expected `times` after `{n}`"),
                            0,
                        ));
                    }
                    n
                };
                count = Some(make(n));
            } else if self.at_word("in") || self.at_word("between") {
                if window.is_some() {
                    return Err(self.duplicate("a time window"));
                }
                if self.eat_word("in") {
                    self.expect_word("the", "expected `in the last`, like `in the last 7 days`")?;
                    if !(self.eat_word("last") || self.eat_word("past")) {
                        return Err(self.error(
                            ErrorKind::Syntax,
                            "expected `in the last`, like `in the last 7 days`",
                            0,
                        ));
                    }
                    let amount = if matches!(self.peek().tok, Tok::Number(_)) {
                        self.whole("last", 1, MAX_AMOUNT)?
                    } else {
                        1
                    };
                    let unit = self.unit()?;
                    window = Some(Window::Last(Duration { amount, unit }));
                } else {
                    self.bump();
                    let newer = self.whole("between", 0, MAX_AMOUNT)?;
                    self.expect_word(
                        "and",
                        "expected `and` between the two numbers, like `between 30 and 90 days ago`",
                    )?;
                    let older = self.whole("and", 1, MAX_AMOUNT)?;
                    if older <= newer {
                        return Err(self.error(
                            ErrorKind::Range,
                            format!("the first number must be smaller than the second: write `between {older} and {newer}`"),
                            1,
                        ));
                    }
                    let unit = self.unit()?;
                    self.expect_word(
                        "ago",
                        "expected `ago` after the time, like `between 30 and 90 days ago`",
                    )?;
                    window = Some(Window::Ago { newer, older, unit });
                }
            } else {
                break;
            }
        }
        Ok(Rule::Condition(Condition::Performed(Box::new(
            EventCondition {
                event,
                filters: filters.unwrap_or_default(),
                sequence,
                count: count.unwrap_or(Count::AtLeast(1)),
                window: window.unwrap_or(Window::Ever),
            },
        ))))
    }

    fn filter(&mut self) -> R<Filter> {
        let t = self.bump();
        let key =
            match t.tok {
                Tok::Word(w) => w.to_ascii_lowercase(),
                Tok::Text(s) if !s.is_empty() => s,
                _ => return Err(self.error(
                    ErrorKind::Syntax,
                    "expected an event property after `where`, like `where category = \"Shoes\"`",
                    1,
                )),
            };
        let shown = self.src[t.start..t.end].to_string();
        let (test, _, _) = self.test(&shown)?;
        Ok(Filter { key, test })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> String {
        match parse(src) {
            Ok(r) => panic!("parsed: {r:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn precedence_and_grouping() {
        let r = parse("orders > 1 or orders < 0 and not visitor = \"new\"").expect("parses");
        let Rule::Or(parts) = r else {
            panic!("or at the top")
        };
        assert!(matches!(&parts[1], Rule::And(v) if matches!(v[1], Rule::Not(_))));
        let r = parse("(orders > 1 or orders < 0) and sessions = 2").expect("parses");
        assert!(matches!(r, Rule::And(ref v) if matches!(v[0], Rule::Or(_))));
        let r = parse("((orders > 1))").expect("parses");
        assert!(matches!(r, Rule::Condition(_)));
    }

    #[test]
    fn keywords_and_names_ignore_case() {
        let a = parse("Total_Spend > 1 AND NOT In Segment \"x\"").expect("parses");
        let b = parse("total_spend > 1 and not in segment \"x\"").expect("parses");
        assert_eq!(a, b);
    }

    #[test]
    fn performed_clauses_any_order() {
        let a = parse(r#"performed "A" in the last 7 days at least 3 times where brand = "x""#)
            .expect("parses");
        let b = parse(r#"performed "A" where brand = "x" at least 3 times in the last 7 days"#)
            .expect("parses");
        assert_eq!(a, b);
        let c = parse(r#"performed "A" in the past day"#).expect("parses");
        let Rule::Condition(Condition::Performed(ec)) = c else {
            panic!()
        };
        assert_eq!(
            ec.window,
            Window::Last(Duration {
                amount: 1,
                unit: Unit::Day
            })
        );
    }

    #[test]
    fn messages() {
        insta::assert_snapshot!(err("orders > 1 )"), @r"
        error: this `)` has no matching `(`
         --> line 1, column 12
          |
        1 | orders > 1 )
          |            ^
        ");
        insta::assert_snapshot!(err("  # only a comment"), @r"
        error: the rule is empty; write a condition such as `orders > 0`
         --> line 1, column 19
          |
        1 |   # only a comment
          |                   ^
        ");
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("totl_spend", "total_spend"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
