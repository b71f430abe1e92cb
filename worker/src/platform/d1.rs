//! Running the [`store`](super::store)'s statements and queries on D1 (`DB` binding).

use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

use super::store::{Arg, Query, Stmt, BATCH_STATEMENTS};
use super::{Error, Result};

/// The value D1 binds for an [`Arg`].
pub fn js(arg: &Arg) -> JsValue {
    match arg {
        Arg::Null => JsValue::NULL,
        Arg::Num(n) => JsValue::from_f64(*n),
        Arg::Text(s) => JsValue::from_str(s),
    }
}

fn prepare(db: &D1Database, stmt: &Stmt) -> Result<D1PreparedStatement> {
    let values: Vec<JsValue> = stmt.args.iter().map(js).collect();
    Ok(db.prepare(&stmt.sql).bind(&values)?)
}

/// Runs one statement.
pub async fn run(db: &D1Database, stmt: &Stmt) -> Result<()> {
    let r = prepare(db, stmt)?.run().await?;
    match r.error() {
        Some(e) => Err(Error::Runtime(format!("D1: {e}"))),
        None => Ok(()),
    }
}

/// Runs statements in D1 batches of [`BATCH_STATEMENTS`] (each batch is one transaction).
pub async fn batch(db: &D1Database, stmts: &[Stmt]) -> Result<()> {
    for chunk in stmts.chunks(BATCH_STATEMENTS) {
        let prepared = chunk
            .iter()
            .map(|s| prepare(db, s))
            .collect::<Result<Vec<_>>>()?;
        for r in db.batch(prepared).await? {
            if let Some(e) = r.error() {
                return Err(Error::Runtime(format!("D1 batch: {e}")));
            }
        }
    }
    Ok(())
}

/// All rows of a query.
pub async fn all<T: DeserializeOwned>(db: &D1Database, q: &Query<T>) -> Result<Vec<T>> {
    let result = prepare(db, &q.stmt)?.all().await?;
    if let Some(e) = result.error() {
        return Err(Error::Runtime(format!("D1 query: {e}")));
    }
    Ok(result.results()?)
}

/// The first row of a query, if any.
pub async fn first<T: DeserializeOwned>(db: &D1Database, q: &Query<T>) -> Result<Option<T>> {
    Ok(prepare(db, &q.stmt)?.first(None).await?)
}
