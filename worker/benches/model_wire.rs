//! The item model on the wire: what a shopper downloads from `GET /v1/model/<version>`, built and
//! compressed by the Worker's own code (`config::build`, `config::compress`) outside workerd.
//!
//! `cargo bench -p affinity-worker --bench model_wire` prints, for the yoochoose-100k training
//! sessions fed as the edge would read them from D1 (one customer and one source per session, the
//! catalog every item of the file, k = 2) and for the 10,000-item bench fixture
//! (`benches/fixtures.rs`, with demo-catalog-shaped metadata): raw bytes, the stored brotli bytes
//! that are sent with `Content-Encoding: br`, and the compression time (median of 3). The demo shop's wire bytes are measured through
//! `wrangler dev` by `tests/e2e/recs.test.mjs` ("model on the wire").

#[path = "../../benches/fixtures.rs"]
mod fixtures;

use std::collections::BTreeSet;
use std::time::Instant;

use affinity_worker::config::{build, compress, ClickRow, MetaRow};

fn main() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    let path = data.join("yoochoose-100k/yoochoose-clicks-100k_train_full.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (the shared data sets)", path.display()));
    let mut rows: Vec<ClickRow> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split('\t');
            let (s, i, t) = (f.next()?, f.next()?, f.next()?);
            Some(ClickRow {
                c: s.to_string(),
                p: i.to_string(),
                t: (t.trim().parse::<f64>().ok()? * 1000.0).round(),
                s: Some(s.to_string()),
            })
        })
        .collect();
    // As the edge reads them: by customer, then time.
    rows.sort_by(|a, b| a.c.cmp(&b.c).then(a.t.total_cmp(&b.t)));
    let catalog: Vec<MetaRow> = rows
        .iter()
        .map(|r| r.p.as_str())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|id| MetaRow {
            id: id.to_string(),
            ..MetaRow::default()
        })
        .collect();
    let end = rows.iter().map(|r| r.t as i64).max().unwrap_or(0) + 1;
    let yoochoose = build("bench", &rows, &[], &catalog, 2, end).bytes;
    let fixture = fixtures::synthetic_model(10_000).encode();
    println!("model                           raw  wire (stored br)  compress ms");
    for (name, bytes) in [
        ("yoochoose-100k train_full", &yoochoose),
        ("10k-item bench fixture", &fixture),
    ] {
        let mut times = Vec::new();
        let mut wire = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            wire = compress(bytes);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name:<25} {:>9} {:>17} {:>12.1}",
            bytes.len(),
            wire.len(),
            times[1]
        );
    }
}
