//! The one bucketing function.
//!
//! Every holdout group and percentage rule in Affinity — segment `bucket` conditions,
//! recommendation holdouts, campaign splits — calls [`bucket`]. The same shop, customer and purpose
//! always land in the same bucket, in the browser, at the edge and offline, so the page and the
//! dashboard agree on who was held out without ever exchanging the assignment.

#[allow(unused_imports)]
use crate::prelude::*;

/// Number of buckets: results are basis points, `0..BUCKETS`.
pub const BUCKETS: u32 = 10_000;

/// Stable bucket in `0..BUCKETS` for `(shop, customer, purpose)`.
///
/// The hash is 64-bit FNV-1a over the three strings separated by a zero byte, then the SplitMix64
/// finaliser to spread the low bits; it is fixed forever (changing it would reshuffle every
/// running holdout).
///
/// ```
/// use affinity::bucket::{bucket, BUCKETS};
/// let b = bucket("shop1", "cust42", "recs-holdout");
/// assert!(b < BUCKETS);
/// assert_eq!(b, bucket("shop1", "cust42", "recs-holdout"));
/// ```
pub fn bucket(shop: &str, customer: &str, purpose: &str) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in [shop, customer, purpose].iter().enumerate() {
        if i > 0 {
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        for &b in part.as_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    (h % u64::from(BUCKETS)) as u32
}

/// True when `(shop, customer, purpose)` falls in the first `percent` percent of buckets.
///
/// `percent` is clamped to `0.0..=100.0`; fractional percentages are honoured to 0.01 %.
pub fn in_percent(shop: &str, customer: &str, purpose: &str, percent: f64) -> bool {
    let limit = (percent.clamp(0.0, 100.0) * 100.0).round() as u32;
    bucket(shop, customer, purpose) < limit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separator_matters() {
        // "ab"+"c" and "a"+"bc" must not collide by construction.
        assert_ne!(bucket("ab", "c", "p"), bucket("a", "bc", "p"));
    }

    #[test]
    fn spread_is_roughly_uniform() {
        let n = 20_000;
        let inside = (0..n)
            .filter(|i| in_percent("s", &format!("c{i}"), "holdout", 10.0))
            .count();
        let share = inside as f64 / n as f64;
        assert!((0.09..0.11).contains(&share), "share {share}");
    }

    #[test]
    fn purposes_are_independent() {
        let n = 10_000;
        let both = (0..n)
            .filter(|i| {
                let c = format!("c{i}");
                in_percent("s", &c, "a", 50.0) && in_percent("s", &c, "b", 50.0)
            })
            .count();
        let share = both as f64 / n as f64;
        assert!((0.22..0.28).contains(&share), "share {share}");
    }

    #[test]
    fn edges() {
        assert!(!in_percent("s", "c", "p", 0.0));
        assert!(in_percent("s", "c", "p", 100.0));
        assert!(in_percent("s", "c", "p", 250.0));
    }
}
