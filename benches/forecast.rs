//! Fit cost of the forecasting models on the CDNOW 2,357-customer cohort (budget: ≤ 100 ms each).
//!
//! `cargo bench -p affinity --bench forecast` (criterion prints the median as the middle of
//! `time: [..]`). Reads `../shared/data/cdnow/cdnow_customers_summary_with_transactions.csv`
//! (or `$AFFINITY_DATA`). The bench profile inherits the release profile (`opt-level = "z"`,
//! LTO), the settings the page module is built with.

use affinity::forecast::{
    BgNbd, Customer, GammaGamma, MbgCnbd, MbgGamma, ParetoGamma, ParetoNbd, Sbg, Spend,
};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::path::PathBuf;

fn cohort() -> (Vec<Customer>, Vec<Spend>) {
    let dir = std::env::var_os("AFFINITY_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data")));
    let path = dir.join("cdnow/cdnow_customers_summary_with_transactions.csv");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e} (set AFFINITY_DATA)", path.display()));
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<f64> = line
                .split(',')
                .map(|v| v.parse().expect("number"))
                .collect();
            let x = f[1] as u32;
            let c = Customer::new(x, f[2], f[3]).expect("summary");
            (
                c,
                Spend {
                    frequency: x,
                    mean_value: f[4],
                },
            )
        })
        .unzip()
}

fn fits(c: &mut Criterion) {
    let (customers, spends) = cohort();
    let survivors = [1000.0, 631.0, 468.0, 382.0, 326.0, 289.0, 262.0, 241.0];
    c.bench_function("fit BG/NBD (2,357 customers)", |b| {
        b.iter(|| BgNbd::fit(black_box(&customers)))
    });
    c.bench_function("fit Pareto/NBD (2,357 customers)", |b| {
        b.iter(|| ParetoNbd::fit(black_box(&customers)))
    });
    c.bench_function("fit MBG/CNBD-1 (2,357 customers)", |b| {
        b.iter(|| MbgCnbd::fit(black_box(&customers), 1))
    });
    c.bench_function("fit MBG/CNBD-3 (2,357 customers)", |b| {
        b.iter(|| MbgCnbd::fit(black_box(&customers), 3))
    });
    c.bench_function("fit Gamma-Gamma (946 customers)", |b| {
        b.iter(|| GammaGamma::fit(black_box(&spends)))
    });
    c.bench_function("fit sBG (7 years)", |b| {
        b.iter(|| Sbg::fit(black_box(&survivors)))
    });
}

/// Affinity's ranking model (Pareto/NBD with gamma timing at the k the eval chooses) and its
/// MBG relative at the same k (tens of ms per fit: criterion's fewest samples).
fn slow_fits(c: &mut Criterion) {
    let (customers, _) = cohort();
    c.bench_function("fit Pareto/gamma-k, k 0.7 (2,357 customers)", |b| {
        b.iter(|| ParetoGamma::fit_given_k(black_box(&customers), 0.7))
    });
    c.bench_function("fit MBG/gamma-k, k 0.7 (2,357 customers)", |b| {
        b.iter(|| MbgGamma::fit_given_k(black_box(&customers), 0.7))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = fits
}
criterion_group! {
    name = slow;
    config = Criterion::default().sample_size(10);
    targets = slow_fits
}
criterion_main!(benches, slow);
