//! Offline evaluation metrics for next-item prediction: HR@k, MRR@k and a bootstrap by session.
//!
//! The protocol (session-rec "next item"): for every position `p` of a test session, given items
//! `0..=p`, predict item `p + 1`. HR@k is the share of cases whose true next item is in the top
//! k; MRR@k is the mean of 1/rank, 0 beyond k.

#[allow(unused_imports)]
use crate::prelude::*;

/// 1-based rank of `target` in `list` within the first `cutoff` entries.
pub fn rank_of<T: PartialEq>(list: &[T], target: &T, cutoff: usize) -> Option<usize> {
    list.iter()
        .take(cutoff)
        .position(|x| x == target)
        .map(|p| p + 1)
}

/// Hits and reciprocal ranks summed over the cases of one session (or any group of cases).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tally {
    /// Number of prediction cases.
    pub cases: u32,
    /// Cases whose target was within the cutoff.
    pub hits: u32,
    /// Sum of 1/rank over the hits.
    pub reciprocal: f64,
}

impl Tally {
    /// Record one case with the target's 1-based rank (`None` when beyond the cutoff).
    pub fn add(&mut self, rank: Option<usize>) {
        self.cases += 1;
        if let Some(r) = rank {
            self.hits += 1;
            self.reciprocal += 1.0 / r as f64;
        }
    }

    /// Add another tally.
    pub fn merge(&mut self, other: &Tally) {
        self.cases += other.cases;
        self.hits += other.hits;
        self.reciprocal += other.reciprocal;
    }

    /// Hit rate (0 when there are no cases).
    pub fn hr(&self) -> f64 {
        if self.cases == 0 {
            0.0
        } else {
            f64::from(self.hits) / f64::from(self.cases)
        }
    }

    /// Mean reciprocal rank (0 when there are no cases).
    pub fn mrr(&self) -> f64 {
        if self.cases == 0 {
            0.0
        } else {
            self.reciprocal / f64::from(self.cases)
        }
    }
}

/// A two-sided percentile confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
}

/// Percentile bootstrap over sessions: resample the per-session tallies with replacement
/// `resamples` times (a fixed `seed` makes it reproducible) and return the `level` (e.g. 0.95)
/// intervals of (HR, MRR). Cases are pooled within each resample, as in the point estimate.
pub fn bootstrap(
    sessions: &[Tally],
    resamples: usize,
    level: f64,
    seed: u64,
) -> (Interval, Interval) {
    resample(sessions.len(), resamples, level, seed, |picks| {
        let mut t = Tally::default();
        picks.iter().for_each(|&i| t.merge(&sessions[i]));
        (t.hr(), t.mrr())
    })
}

/// Paired percentile bootstrap of the difference `a − b` of two methods scored on the same
/// sessions (`a[i]` and `b[i]` are one session's tallies): the same resampled sessions feed both
/// sides, so the interval is of the difference itself, not of two overlapping intervals.
/// Returns the `level` intervals of (HR difference, MRR difference).
pub fn paired_bootstrap(
    a: &[Tally],
    b: &[Tally],
    resamples: usize,
    level: f64,
    seed: u64,
) -> (Interval, Interval) {
    resample(a.len().min(b.len()), resamples, level, seed, |picks| {
        let (mut ta, mut tb) = (Tally::default(), Tally::default());
        for &i in picks {
            ta.merge(&a[i]);
            tb.merge(&b[i]);
        }
        (ta.hr() - tb.hr(), ta.mrr() - tb.mrr())
    })
}

/// `resamples` draws of `n` indices with replacement; the `level` intervals of the two figures
/// `stat` computes from each draw (zero intervals when there is nothing to draw).
fn resample(
    n: usize,
    resamples: usize,
    level: f64,
    seed: u64,
    stat: impl Fn(&[usize]) -> (f64, f64),
) -> (Interval, Interval) {
    if n == 0 || resamples == 0 {
        let zero = Interval {
            low: 0.0,
            high: 0.0,
        };
        return (zero, zero);
    }
    let mut rng = SplitMix64(seed);
    let mut hr = Vec::with_capacity(resamples);
    let mut mrr = Vec::with_capacity(resamples);
    let mut picks = vec![0usize; n];
    for _ in 0..resamples {
        picks
            .iter_mut()
            .for_each(|p| *p = rng.below(n as u64) as usize);
        let (h, m) = stat(&picks);
        hr.push(h);
        mrr.push(m);
    }
    (percentiles(&mut hr, level), percentiles(&mut mrr, level))
}

fn percentiles(values: &mut [f64], level: f64) -> Interval {
    values.sort_by(f64::total_cmp);
    let tail = (1.0 - level.clamp(0.0, 1.0)) / 2.0;
    let at = |q: f64| {
        let i = (q * (values.len() - 1) as f64).round() as usize;
        values[i.min(values.len() - 1)]
    };
    Interval {
        low: at(tail),
        high: at(1.0 - tail),
    }
}

/// SplitMix64: a tiny deterministic generator for resampling.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`; 0 when `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Multiply-shift: unbiased enough for resampling indices.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_and_tally_by_hand() {
        let list = [5, 3, 9, 1];
        assert_eq!(rank_of(&list, &9, 20), Some(3));
        assert_eq!(rank_of(&list, &9, 2), None);
        assert_eq!(rank_of(&list, &7, 20), None);
        let mut t = Tally::default();
        t.add(Some(1)); // 1
        t.add(Some(4)); // 0.25
        t.add(None); // 0
        t.add(Some(2)); // 0.5
        assert_eq!(t.cases, 4);
        assert!((t.hr() - 0.75).abs() < 1e-12);
        assert!((t.mrr() - 1.75 / 4.0).abs() < 1e-12);
        assert_eq!(Tally::default().hr(), 0.0);
        assert_eq!(Tally::default().mrr(), 0.0);
    }

    #[test]
    fn bootstrap_of_identical_sessions_is_a_point() {
        let s = Tally {
            cases: 2,
            hits: 1,
            reciprocal: 0.5,
        };
        let (hr, mrr) = bootstrap(&[s; 10], 200, 0.95, 7);
        assert_eq!((hr.low, hr.high), (0.5, 0.5));
        assert_eq!((mrr.low, mrr.high), (0.25, 0.25));
    }

    #[test]
    fn bootstrap_brackets_the_estimate_and_is_deterministic() {
        // Half the sessions hit at rank 1, half miss: HR = MRR = 0.5.
        let sessions: Vec<Tally> = (0..200)
            .map(|i| Tally {
                cases: 1,
                hits: (i % 2) as u32,
                reciprocal: (i % 2) as f64,
            })
            .collect();
        let (hr, mrr) = bootstrap(&sessions, 1000, 0.95, 42);
        assert!(hr.low < 0.5 && hr.high > 0.5);
        // Binomial standard error sqrt(.25/200) = 0.035: the 95 % half-width is about 0.07.
        assert!((hr.high - hr.low - 0.139).abs() < 0.03, "{hr:?}");
        assert_eq!(hr, mrr);
        assert_eq!(bootstrap(&sessions, 1000, 0.95, 42), (hr, mrr));
    }

    #[test]
    fn splitmix_is_in_range() {
        let mut r = SplitMix64(1);
        assert!((0..1000).all(|_| r.below(7) < 7));
        assert_eq!(r.below(0), 0);
    }

    #[test]
    fn paired_bootstrap_of_a_difference() {
        let hit = Tally {
            cases: 1,
            hits: 1,
            reciprocal: 1.0,
        };
        let miss = Tally {
            cases: 1,
            hits: 0,
            reciprocal: 0.0,
        };
        // The same method against itself: the difference is exactly 0 in every resample.
        let a = vec![hit, miss, hit, miss];
        let (h, m) = paired_bootstrap(&a, &a, 200, 0.95, 1);
        assert_eq!((h.low, h.high, m.low, m.high), (0.0, 0.0, 0.0, 0.0));
        // `a` hits on every session where `b` hits, and one more: the difference is ≥ 0 in every
        // resample and 1/4 in the point estimate.
        let b = vec![hit, miss, miss, miss];
        let (h, _) = paired_bootstrap(&a, &b, 500, 0.95, 1);
        assert!(h.low >= 0.0 && h.high <= 1.0 && h.low <= 0.25 && 0.25 <= h.high);
        assert_eq!(paired_bootstrap(&[], &b, 10, 0.95, 1).0.high, 0.0);
    }
}
