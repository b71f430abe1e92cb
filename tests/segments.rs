//! Segments over real profiles, natively: the differential corpus (the Wasm build in Chromium must
//! produce the same matrix, see `tests/browser.rs`) and a replay of a history through time.

#[path = "corpus/segments.rs"]
mod corpus;

use std::path::Path;

/// Customers in the differential corpus.
pub const CUSTOMERS: u64 = 60;

#[test]
fn corpus_membership_matches_the_golden_matrix() {
    let matrix = corpus::matrix(CUSTOMERS);
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/segments.golden");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&golden, &matrix).expect("write the golden matrix");
    }
    let expected = std::fs::read_to_string(&golden).expect("tests/corpus/segments.golden exists");
    assert_eq!(
        matrix, expected,
        "rerun with BLESS=1 only if the change is intended"
    );
    // The corpus must exercise both outcomes of nearly every rule.
    let rows: Vec<&str> = matrix.lines().collect();
    let rules = rows[0].len();
    let decisive = (0..rules)
        .filter(|&r| {
            let ones = rows.iter().filter(|row| row.as_bytes()[r] == b'1').count();
            ones > 0 && ones < rows.len()
        })
        .count();
    assert!(
        decisive * 10 >= rules * 8,
        "only {decisive} of {rules} rules split the corpus"
    );
}
