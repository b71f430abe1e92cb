//! The rule language's error type: a kind, a message for the merchant, and where in the text.

#[allow(unused_imports)]
use crate::prelude::*;

use core::fmt;

/// What went wrong, broadly. Grows over time, so match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text does not follow the grammar (something else was expected here).
    Syntax,
    /// A property name the language does not know.
    UnknownProperty,
    /// A value of the wrong kind for the property or operator (text where a number is needed…).
    Type,
    /// A number outside what is allowed (too large, a percentage above 100, a zero window…).
    Range,
    /// Parentheses, `not`, `and` and `or` nested deeper than [`MAX_DEPTH`](super::MAX_DEPTH).
    TooDeep,
    /// The rule text is longer than [`MAX_RULE_BYTES`](super::MAX_RULE_BYTES).
    TooLong,
    /// `in segment "x"` names a segment that is not defined.
    UnknownSegment,
    /// Segments refer to each other in a circle.
    Cycle,
    /// Two segments have the same name.
    DuplicateSegment,
    /// Compiled (binary) rules could not be decoded.
    Decode,
}

/// Where an error is in the rule text.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Location {
    line: usize,
    column: usize,
    width: usize,
    text: String,
}

/// An error from parsing, checking, compiling or decoding rules.
///
/// `Display` writes the message and, when the error has a place in the text, the line with a caret
/// under it:
///
/// ```text
/// error: expected a comparison operator (=, !=, <, >, contains, ...) after `total_spend`
///  --> line 2, column 17
///   |
/// 2 | and total_spend 100
///   |                 ^^^
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    location: Option<Location>,
    segment: Option<String>,
}

impl Error {
    /// An error with no place in the text.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            location: None,
            segment: None,
        }
    }

    /// An error at bytes `start..end` of `source`.
    pub(crate) fn at(
        kind: ErrorKind,
        message: impl Into<String>,
        source: &str,
        start: usize,
        end: usize,
    ) -> Error {
        let start = floor_char_boundary(source, start.min(source.len()));
        let end = floor_char_boundary(source, end.clamp(start, source.len()));
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = source[start..]
            .find('\n')
            .map_or(source.len(), |i| start + i);
        let line = source[..start].matches('\n').count() + 1;
        let column = source[line_start..start].chars().count() + 1;
        let width = source[start..end.min(line_end)].chars().count().max(1);
        let text = source[line_start..line_end]
            .trim_end_matches('\r')
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        Error {
            kind,
            message: message.into(),
            location: Some(Location {
                line,
                column,
                width,
                text,
            }),
            segment: None,
        }
    }

    /// The same error, said to be in segment `name`.
    pub(crate) fn in_segment(mut self, name: &str) -> Error {
        self.segment = Some(name.to_string());
        self
    }

    /// The broad kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The one-line message, without the location.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Line of the error in the rule text, from 1.
    pub fn line(&self) -> Option<usize> {
        self.location.as_ref().map(|l| l.line)
    }

    /// Column of the error in the rule text, from 1, counted in characters.
    pub fn column(&self) -> Option<usize> {
        self.location.as_ref().map(|l| l.column)
    }

    /// The segment the error is in, when compiling a [`SegmentSet`](super::SegmentSet).
    pub fn segment(&self) -> Option<&str> {
        self.segment.as_deref()
    }

    /// True when the text does not follow the grammar.
    pub fn is_syntax(&self) -> bool {
        self.kind == ErrorKind::Syntax
    }

    /// True for an unknown property name.
    pub fn is_unknown_property(&self) -> bool {
        self.kind == ErrorKind::UnknownProperty
    }

    /// True for a value of the wrong kind.
    pub fn is_type(&self) -> bool {
        self.kind == ErrorKind::Type
    }

    /// True for a number out of range.
    pub fn is_range(&self) -> bool {
        self.kind == ErrorKind::Range
    }

    /// True when nesting is too deep.
    pub fn is_too_deep(&self) -> bool {
        self.kind == ErrorKind::TooDeep
    }

    /// True when the rule text is too long.
    pub fn is_too_long(&self) -> bool {
        self.kind == ErrorKind::TooLong
    }

    /// True for a reference to an undefined segment.
    pub fn is_unknown_segment(&self) -> bool {
        self.kind == ErrorKind::UnknownSegment
    }

    /// True when segments refer to each other in a circle.
    pub fn is_cycle(&self) -> bool {
        self.kind == ErrorKind::Cycle
    }

    /// True when two segments share a name.
    pub fn is_duplicate_segment(&self) -> bool {
        self.kind == ErrorKind::DuplicateSegment
    }

    /// True when compiled rules could not be decoded.
    pub fn is_decode(&self) -> bool {
        self.kind == ErrorKind::Decode
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.segment {
            Some(name) => write!(f, "error in segment {name:?}: {}", self.message)?,
            None => write!(f, "error: {}", self.message)?,
        }
        if let Some(loc) = &self.location {
            let gutter = loc.line.to_string().len();
            let pad = "";
            write!(
                f,
                "\n{pad:gutter$}--> line {}, column {}\n{pad:gutter$} |\n{} | {}\n{pad:gutter$} | {pad:col$}{carets}",
                loc.line,
                loc.column,
                loc.line,
                loc.text,
                col = loc.column - 1,
                carets = "^".repeat(loc.width),
            )?;
        }
        Ok(())
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_with_caret() {
        let src = "orders > 1\nand total_spend 100";
        let e = Error::at(ErrorKind::Syntax, "expected an operator", src, 27, 30);
        insta::assert_snapshot!(e, @r"
        error: expected an operator
         --> line 2, column 17
          |
        2 | and total_spend 100
          |                 ^^^
        ");
        assert_eq!(e.line(), Some(2));
        assert_eq!(e.column(), Some(17));
        assert!(e.is_syntax());
        assert!(!e.is_type());
    }

    #[test]
    fn columns_count_characters_and_survive_bad_offsets() {
        let src = "traits.größe = \u{1}";
        let e = Error::at(ErrorKind::Syntax, "x", src, 16, 9999);
        assert_eq!(e.column(), Some(15));
        let e = Error::at(ErrorKind::Syntax, "x", src, 13, 12);
        assert!(e.to_string().contains("column 12"));
        let e = Error::new(ErrorKind::Cycle, "loop").in_segment("a");
        assert_eq!(e.to_string(), "error in segment \"a\": loop");
        assert_eq!(e.segment(), Some("a"));
        assert_eq!(e.line(), None);
    }
}
