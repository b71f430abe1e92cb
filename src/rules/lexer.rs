//! Splits rule text into tokens with their byte positions (edge and dashboard only).

#[allow(unused_imports)]
use crate::prelude::*;

use super::error::{Error, ErrorKind};

/// A token of the rule language.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A word: a keyword or a property name segment (as written).
    Word(String),
    /// Text in double quotes, escapes resolved.
    Text(String),
    /// A number.
    Number(f64),
    /// `(`
    Open,
    /// `)`
    Close,
    /// `[`
    OpenList,
    /// `]`
    CloseList,
    /// `,`
    Comma,
    /// `.`
    Dot,
    /// `%`
    Percent,
    /// `=` or `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// End of the text.
    End,
}

/// A token and where it is: bytes `start..end`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

/// True for characters that may continue a word.
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// True for characters that may start a word.
pub(crate) fn is_word_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

/// Splits `src` into tokens, ending with [`Tok::End`]. `#` starts a comment to the end of the line.
pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, Error> {
    let mut out = Vec::new();
    let mut chars = src.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '#' {
            while chars.next_if(|&(_, c)| c != '\n').is_some() {}
            continue;
        }
        let symbol = match c {
            '(' => Some(Tok::Open),
            ')' => Some(Tok::Close),
            '[' => Some(Tok::OpenList),
            ']' => Some(Tok::CloseList),
            ',' => Some(Tok::Comma),
            '.' => Some(Tok::Dot),
            '%' => Some(Tok::Percent),
            _ => None,
        };
        if let Some(tok) = symbol {
            chars.next();
            out.push(Token {
                tok,
                start,
                end: start + 1,
            });
            continue;
        }
        let tok = match c {
            '=' | '!' | '<' | '>' => {
                chars.next();
                let eq = chars.next_if(|&(_, c)| c == '=').is_some();
                match (c, eq) {
                    ('=', _) => Tok::Eq,
                    ('!', true) => Tok::Ne,
                    ('<', false) => Tok::Lt,
                    ('<', true) => Tok::Le,
                    ('>', false) => Tok::Gt,
                    ('>', true) => Tok::Ge,
                    _ => {
                        return Err(Error::at(
                            ErrorKind::Syntax,
                            "`!` must be followed by `=` (not equal); to negate a condition, write `not`",
                            src,
                            start,
                            start + 1,
                        ))
                    }
                }
            }
            '"' => {
                chars.next();
                Tok::Text(text(src, start, &mut chars)?)
            }
            '\'' | '“' | '”' | '‘' | '’' | '„' | '«' | '»' => {
                return Err(Error::at(
                    ErrorKind::Syntax,
                    "write text in straight double quotes, like \"Shoes\"",
                    src,
                    start,
                    start + c.len_utf8(),
                ))
            }
            '-' | '0'..='9' => {
                let mut end = start;
                while let Some((i, c)) = chars.next_if(|&(i, c)| {
                    c.is_ascii_digit() || c == '.' || is_word_char(c) || (i == start && c == '-')
                }) {
                    end = i + c.len_utf8();
                }
                let raw = &src[start..end];
                number(src, raw, start, end)?
            }
            c if is_word_start(c) => {
                let mut end = start;
                while let Some((i, c)) = chars.next_if(|&(_, c)| is_word_char(c)) {
                    end = i + c.len_utf8();
                }
                Tok::Word(src[start..end].to_string())
            }
            _ => {
                return Err(Error::at(
                    ErrorKind::Syntax,
                    format!("unexpected character `{}`", c.escape_debug()),
                    src,
                    start,
                    start + c.len_utf8(),
                ))
            }
        };
        let end = chars.peek().map_or(src.len(), |&(i, _)| i);
        out.push(Token { tok, start, end });
    }
    out.push(Token {
        tok: Tok::End,
        start: src.len(),
        end: src.len(),
    });
    Ok(out)
}

/// Reads a number such as `12`, `-3` or `4.5`; `4.`, `1.2.3` and `1e5` are errors, and so is a
/// number too large for an `f64`.
fn number(src: &str, raw: &str, start: usize, end: usize) -> Result<Tok, Error> {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    let (int, frac) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int) || frac.is_some_and(|f| !all_digits(f)) {
        return Err(Error::at(
            ErrorKind::Syntax,
            format!(
                "`{raw}` is not a number; write numbers with digits and an optional decimal point, like 12 or 4.5"
            ),
            src,
            start,
            end,
        ));
    }
    match raw.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(Tok::Number(n)),
        _ => Err(Error::at(
            ErrorKind::Range,
            format!("the number `{raw}` is too large"),
            src,
            start,
            end,
        )),
    }
}

/// Reads text after its opening quote, resolving `\"`, `\\`, `\n`, `\t`, `\r` and `\u{…}`.
fn text(
    src: &str,
    open: usize,
    chars: &mut core::iter::Peekable<core::str::CharIndices<'_>>,
) -> Result<String, Error> {
    let mut out = String::new();
    loop {
        let Some((i, c)) = chars.next() else {
            return Err(Error::at(
                ErrorKind::Syntax,
                "this text is missing its closing quote `\"`",
                src,
                open,
                open + 1,
            ));
        };
        match c {
            '"' => return Ok(out),
            '\\' => {
                let bad = |len| {
                    Error::at(
                        ErrorKind::Syntax,
                        "unknown escape; inside quotes write \\\" for a quote and \\\\ for a backslash",
                        src,
                        i,
                        i + len,
                    )
                };
                match chars.next() {
                    Some((_, '"')) => out.push('"'),
                    Some((_, '\\')) => out.push('\\'),
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, 'u')) => {
                        if chars.next_if(|&(_, c)| c == '{').is_none() {
                            return Err(bad(2));
                        }
                        let mut code: u32 = 0;
                        let mut n = 0;
                        while let Some((_, h)) = chars.next_if(|&(_, c)| c.is_ascii_hexdigit()) {
                            code = code * 16 + h.to_digit(16).unwrap_or(0);
                            n += 1;
                            if n > 6 {
                                return Err(bad(2));
                            }
                        }
                        let close = chars.next_if(|&(_, c)| c == '}').is_some();
                        match char::from_u32(code) {
                            Some(ch) if close && n > 0 => out.push(ch),
                            _ => return Err(bad(2)),
                        }
                    }
                    _ => return Err(bad(1)),
                }
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s)
            .expect("tokens")
            .into_iter()
            .map(|t| t.tok)
            .collect()
    }

    #[test]
    fn symbols_words_numbers() {
        assert_eq!(
            toks("a.b >= -4.5, == != <= < > % ( ) [ ] # comment\n\"x\\\"\\u{e9}\""),
            vec![
                Tok::Word("a".into()),
                Tok::Dot,
                Tok::Word("b".into()),
                Tok::Ge,
                Tok::Number(-4.5),
                Tok::Comma,
                Tok::Eq,
                Tok::Ne,
                Tok::Le,
                Tok::Lt,
                Tok::Gt,
                Tok::Percent,
                Tok::Open,
                Tok::Close,
                Tok::OpenList,
                Tok::CloseList,
                Tok::Text("x\"é".into()),
                Tok::End
            ]
        );
    }

    #[test]
    fn spans() {
        let t = tokenize("ab  \"c\"").expect("tokens");
        assert_eq!((t[0].start, t[0].end), (0, 2));
        assert_eq!((t[1].start, t[1].end), (4, 7));
        assert_eq!((t[2].start, t[2].end), (7, 7));
    }

    #[test]
    fn bad_input() {
        assert!(tokenize("1e400").is_err_and(|e| e.is_syntax()));
        assert!(tokenize("1.").is_err());
        assert!(tokenize("-").is_err());
        assert!(tokenize("\"abc").is_err());
        assert!(tokenize("\"\\u{110000}\"").is_err());
        assert!(tokenize("\"\\u{1234567}\"").is_err());
        assert!(tokenize("!").is_err());
        assert!(tokenize("'x'").is_err());
        assert!(tokenize("@").is_err());
        let huge = format!("1{}", "0".repeat(400));
        assert!(tokenize(&huge).is_err_and(|e| e.is_range()));
        assert_eq!(
            toks("99999999999999999999999"),
            vec![Tok::Number(1e23), Tok::End]
        );
    }
}
