//! Splitting text at one ASCII byte, and small integers from text, without `core`'s generic
//! `char` pattern searchers (`split(',')`, `split_once('=')`, `rsplit('/')`: each pattern and
//! direction is its own instantiation of the `CharSearcher` code in the page module) or
//! `str::parse`.
//!
//! The separators are ASCII, so every position where one is found is a char boundary and the
//! pieces are the same `&str` slices the `char` versions return.

#[allow(unused_imports)]
use crate::prelude::*;

/// The text before and after the first `sep` byte, like `s.split_once(sep as char)`.
pub fn split_once(s: &str, sep: u8) -> Option<(&str, &str)> {
    let at = s.bytes().position(|b| b == sep)?;
    Some((s.get(..at)?, s.get(at + 1..)?))
}

/// The text before and after the last `sep` byte, like `s.rsplit_once(sep as char)`.
pub fn rsplit_once(s: &str, sep: u8) -> Option<(&str, &str)> {
    let at = s.bytes().rposition(|b| b == sep)?;
    Some((s.get(..at)?, s.get(at + 1..)?))
}

/// The parts one after the other, like `parts.concat()` (whose generic join code is larger).
pub fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// The pieces of `s` between `sep` bytes, like `s.split(sep as char)` (an empty `s` is one
/// empty piece).
pub fn split(s: &str, sep: u8) -> Split<'_> {
    Split { rest: Some(s), sep }
}

/// The iterator of [`split`].
#[derive(Debug, Clone)]
pub struct Split<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for Split<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match split_once(rest, self.sep) {
            Some((piece, after)) => {
                self.rest = Some(after);
                Some(piece)
            }
            None => self.rest.take(),
        }
    }
}

/// The non-negative integer `s` spells in ASCII digits (one leading `+` allowed), as
/// `s.parse::<u32>().ok()` reads it: `None` for anything else, or above `u32::MAX`. Only the
/// browser seam reads integers this way (slot counts, pin positions, number text exponents).
#[cfg_attr(
    not(all(feature = "browser", target_arch = "wasm32", target_os = "unknown")),
    allow(dead_code)
)]
pub fn parse_u32(s: &str) -> Option<u32> {
    let digits = match s.as_bytes() {
        [b'+', rest @ ..] => rest,
        all => all,
    };
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u32, |n, &b| {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n.checked_mul(10)?.checked_add(u32::from(d))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_the_char_versions() {
        for s in ["", ",", "a", "a,b", ",a,,b,", "é,ü,€", "x=1=2", "a/b/c"] {
            for sep in [b',', b'=', b'/'] {
                let c = sep as char;
                assert_eq!(
                    split(s, sep).collect::<Vec<_>>(),
                    s.split(c).collect::<Vec<_>>(),
                    "{s:?}"
                );
                assert_eq!(split_once(s, sep), s.split_once(c), "{s:?}");
                assert_eq!(rsplit_once(s, sep), s.rsplit_once(c), "{s:?}");
            }
        }
    }

    #[test]
    fn concat_like_std() {
        for parts in [
            &[][..],
            &[""],
            &["a"],
            &["affinity: ", "event", " ", "ev17"],
            &["é", "", "€"],
        ] {
            assert_eq!(concat(parts), parts.concat());
        }
    }

    #[test]
    fn integers_like_parse() {
        for s in [
            "",
            "+",
            "0",
            "7",
            "+7",
            "-7",
            "007",
            "4.0",
            " 4",
            "4 ",
            "4294967295",
            "4294967296",
            "99999999999",
            "٣",
        ] {
            assert_eq!(parse_u32(s), s.parse::<u32>().ok(), "{s:?}");
        }
    }
}
