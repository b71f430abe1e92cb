//! The store: every SQL statement the Worker runs, one function per statement, in one place.
//!
//! A statement is written with named parameters (`:shop`, `:day`, …) and built by a function
//! whose Rust parameters carry the same names; [`Stmt::named`] turns the names into positional
//! `?` placeholders with the values in order, which D1, the Durable Object's SQLite and native
//! SQLite (the tests) all accept. Reads are a [`Query`] with the typed row they produce.
//!
//! Nothing here talks to the runtime: [`crate::platform::d1`] runs statements on D1 and the
//! customer object runs [`object`]'s on its own SQLite storage. The D1 migrations and every
//! statement here are executed natively against SQLite by `cargo test -p affinity-worker`
//! (`worker/tests/store.rs`), with assertions on the rows they produce; the end-to-end tests are
//! the proof that D1 accepts them too.

use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

pub mod catalog;
pub mod dashboard;
pub mod events;
pub mod explore;
pub mod health;
pub mod models;
pub mod object;
pub mod recs;
pub mod rollups;
pub mod segments;
pub mod shops;

/// D1 binds at most this many parameters per statement.
pub const MAX_PARAMS: usize = 100;

/// Statements per D1 batch (one transaction each).
pub const BATCH_STATEMENTS: usize = 100;

/// A bound SQL parameter (numbers are f64: D1 binds JavaScript numbers). In JSON (the customer
/// object's outbox) it is the plain value: `null`, a number or a string.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Arg {
    /// NULL.
    Null,
    /// A number.
    Num(f64),
    /// Text.
    Text(String),
}

// Decoded by the value's own type. serde's derive for an untagged enum would buffer each value
// and try the variants in turn, formatting an error message for every miss: on the outbox path
// that was a tenth of the customer object's CPU under load.
impl<'de> Deserialize<'de> for Arg {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Arg, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Arg;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("null, a number or a string")
            }
            fn visit_unit<E>(self) -> Result<Arg, E> {
                Ok(Arg::Null)
            }
            fn visit_none<E>(self) -> Result<Arg, E> {
                Ok(Arg::Null)
            }
            fn visit_f64<E>(self, n: f64) -> Result<Arg, E> {
                Ok(Arg::Num(n))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Arg, E> {
                Ok(Arg::Num(n as f64))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Arg, E> {
                Ok(Arg::Num(n as f64))
            }
            fn visit_str<E>(self, s: &str) -> Result<Arg, E> {
                Ok(Arg::Text(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<Arg, E> {
                Ok(Arg::Text(s))
            }
        }
        d.deserialize_any(Visit)
    }
}

impl From<&str> for Arg {
    fn from(s: &str) -> Arg {
        Arg::Text(s.to_string())
    }
}
impl From<&String> for Arg {
    fn from(s: &String) -> Arg {
        Arg::Text(s.clone())
    }
}
impl From<String> for Arg {
    fn from(s: String) -> Arg {
        Arg::Text(s)
    }
}
impl From<f64> for Arg {
    fn from(n: f64) -> Arg {
        Arg::Num(n)
    }
}
impl From<i64> for Arg {
    fn from(n: i64) -> Arg {
        Arg::Num(n as f64)
    }
}
impl From<u32> for Arg {
    fn from(n: u32) -> Arg {
        Arg::Num(f64::from(n))
    }
}
impl From<usize> for Arg {
    fn from(n: usize) -> Arg {
        Arg::Num(n as f64)
    }
}
impl From<bool> for Arg {
    fn from(b: bool) -> Arg {
        Arg::Num(if b { 1.0 } else { 0.0 })
    }
}
impl<T: Into<Arg>> From<Option<T>> for Arg {
    fn from(v: Option<T>) -> Arg {
        v.map_or(Arg::Null, Into::into)
    }
}

/// One SQL statement with positional `?` parameters in order; serializable so a Durable Object
/// can keep statements it could not deliver yet (its outbox).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stmt {
    /// SQL with `?` placeholders.
    pub sql: String,
    /// Parameters, in order.
    pub args: Vec<Arg>,
}

impl Stmt {
    /// A statement from SQL with named parameters (`:name`, letters, digits and `_`) and their
    /// values. Each occurrence becomes a `?` with its value (a name used twice is bound twice).
    /// Text inside SQL string literals (`'a:b'`) is left alone.
    ///
    /// # Panics
    ///
    /// When the SQL names a parameter that `params` lacks, or `params` holds one the SQL never
    /// names: a programming error, caught by the native store tests that run every statement.
    pub fn named(sql: &str, params: &[(&str, Arg)]) -> Stmt {
        let mut out = String::with_capacity(sql.len());
        let mut args = Vec::with_capacity(params.len());
        let mut used = vec![false; params.len()];
        let bytes = sql.as_bytes();
        // Copies runs of plain SQL whole; only `'` and `:` are looked at (both ASCII, so every
        // slice boundary is a char boundary).
        let mut copied = 0;
        let mut i = 0;
        let mut in_literal = false;
        while i < bytes.len() {
            let c = bytes[i];
            if c == b'\'' {
                in_literal = !in_literal;
            }
            let starts_name = !in_literal
                && c == b':'
                && bytes
                    .get(i + 1)
                    .is_some_and(|b| b.is_ascii_lowercase() || *b == b'_');
            if !starts_name {
                i += 1;
                continue;
            }
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
                end += 1;
            }
            let name = &sql[start..end];
            let Some(at) = params.iter().position(|(n, _)| *n == name) else {
                panic!("SQL parameter :{name} is not bound in {sql:?}");
            };
            used[at] = true;
            out.push_str(&sql[copied..i]);
            out.push('?');
            copied = end;
            args.push(params[at].1.clone());
            i = end;
        }
        out.push_str(&sql[copied..]);
        if let Some(at) = used.iter().position(|u| !u) {
            panic!("parameter {} is not in {sql:?}", params[at].0);
        }
        assert!(
            args.len() <= MAX_PARAMS,
            "more than {MAX_PARAMS} parameters"
        );
        Stmt { sql: out, args }
    }

    /// A statement without parameters.
    pub fn plain(sql: &str) -> Stmt {
        Stmt {
            sql: sql.to_string(),
            args: Vec::new(),
        }
    }
}

/// A read: a statement and the row type each result row decodes into.
#[derive(Debug, Clone, PartialEq)]
pub struct Query<Row> {
    /// The statement.
    pub stmt: Stmt,
    row: PhantomData<fn() -> Row>,
}

impl<Row> Query<Row> {
    /// A query from SQL with named parameters (see [`Stmt::named`]).
    pub fn named(sql: &str, params: &[(&str, Arg)]) -> Query<Row> {
        Query::from(Stmt::named(sql, params))
    }
}

impl<Row> From<Stmt> for Query<Row> {
    fn from(stmt: Stmt) -> Query<Row> {
        Query {
            stmt,
            row: PhantomData,
        }
    }
}

/// A one-number row (`SELECT COUNT(*) AS n …`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct Count {
    /// The number (NULL reads as 0).
    #[serde(default, deserialize_with = "null_as_zero")]
    pub n: f64,
}

fn null_as_zero<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(0.0))
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` prefix match.
pub fn like_prefix(prefix: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_parameters_become_positional() {
        let s = Stmt::named(
            "SELECT x FROM t WHERE a = :shop AND b LIKE 'affinity:%' AND c > :since AND d = :shop",
            &[("shop", "s1".into()), ("since", 5i64.into())],
        );
        assert_eq!(
            s.sql,
            "SELECT x FROM t WHERE a = ? AND b LIKE 'affinity:%' AND c > ? AND d = ?"
        );
        assert_eq!(
            s.args,
            vec![Arg::from("s1"), Arg::Num(5.0), Arg::from("s1")]
        );
    }

    #[test]
    #[should_panic(expected = "not bound")]
    fn a_missing_parameter_is_caught() {
        Stmt::named("SELECT :a, :b", &[("a", Arg::Null)]);
    }

    #[test]
    #[should_panic(expected = "is not in")]
    fn an_unused_parameter_is_caught() {
        Stmt::named("SELECT :a", &[("a", Arg::Null), ("b", Arg::Null)]);
    }

    #[test]
    fn text_around_parameters_is_kept_whole() {
        let s = Stmt::named(
            "SELECT 'café:x', :a || 'ü' FROM t WHERE n = :n_2",
            &[("a", "é".into()), ("n_2", 2i64.into())],
        );
        assert_eq!(s.sql, "SELECT 'café:x', ? || 'ü' FROM t WHERE n = ?");
    }

    #[test]
    fn statements_read_back_from_their_json() {
        let s = Stmt {
            sql: "INSERT INTO t VALUES (?, ?, ?, ?)".into(),
            args: vec![Arg::Null, Arg::Num(2.5), Arg::from("7"), Arg::from("")],
        };
        let text = serde_json::to_string(&[&s]).unwrap();
        assert_eq!(
            text,
            r#"[{"sql":"INSERT INTO t VALUES (?, ?, ?, ?)","args":[null,2.5,"7",""]}]"#
        );
        let back: Vec<Stmt> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, vec![s]);
        // Integers written by other tools read as numbers; anything else is an error.
        let ints: Vec<Arg> = serde_json::from_str("[3, -4]").unwrap();
        assert_eq!(ints, vec![Arg::Num(3.0), Arg::Num(-4.0)]);
        assert!(serde_json::from_str::<Vec<Arg>>("[true]").is_err());
        assert!(serde_json::from_str::<Vec<Arg>>("[[1]]").is_err());
    }

    #[test]
    fn like_prefixes_escape() {
        assert_eq!(like_prefix("a%b_c\\"), "a\\%b\\_c\\\\%");
    }
}
