//! Customer groups found automatically: k-means++ on standardised features (for example
//! recency, frequency, spend and category shares), k chosen by the mean silhouette, each group
//! described in plain words and expressible as a rule.
//!
//! Deterministic for a seed (a SplitMix64 generator drives the k-means++ seeding). A group is
//! the set of customers nearest to its centroid in standardised units, so the exact rule is
//! `predicted.group = g` with the centroids and the standardisation documented by [`Groups`];
//! [`Groups::conditions`] gives the approximate plain-words conditions.

#[allow(unused_imports)]
use crate::prelude::*;

use crate::error::invalid;
use crate::Error;

/// One feature's name and the words for a group that is high or low on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// Name as used in conditions, e.g. `recency_weeks`.
    pub name: String,
    /// Word for groups well above average, e.g. "big spenders" or "in Tents".
    pub high: String,
    /// Word for groups well below average, e.g. "lapsed" (empty: say nothing).
    pub low: String,
}

impl Feature {
    /// A feature with its words.
    pub fn new(name: &str, high: &str, low: &str) -> Feature {
        Feature {
            name: name.to_owned(),
            high: high.to_owned(),
            low: low.to_owned(),
        }
    }
}

/// Groups found in a set of customers.
#[derive(Debug, Clone, PartialEq)]
pub struct Groups {
    /// Feature means used to standardise.
    pub means: Vec<f64>,
    /// Feature standard deviations used to standardise (1 where a feature is constant).
    pub scales: Vec<f64>,
    /// Centroids in standardised units, one per group.
    pub centroids: Vec<Vec<f64>>,
    /// The group of each input row.
    pub assignments: Vec<usize>,
    /// Mean silhouette of the chosen clustering (on a sample of at most 2,000 rows).
    pub silhouette: f64,
    /// Mean silhouette of every k tried, as (k, silhouette).
    pub tried: Vec<(usize, f64)>,
}

/// Rows the silhouette is computed on at most (it is quadratic in the rows).
const SILHOUETTE_SAMPLE: usize = 2_000;
/// k-means restarts from fresh k-means++ seeds; the lowest within-group sum of squares wins.
const RESTARTS: usize = 8;
/// A group stands out on a feature when its centroid is this many standard deviations away.
const DISTINCT: f64 = 0.5;

/// SplitMix64: small, fast, and the same numbers on every platform.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn distance2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn nearest(point: &[f64], centroids: &[Vec<f64>]) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (i, c) in centroids.iter().enumerate() {
        let d = distance2(point, c);
        if d < best.1 {
            best = (i, d);
        }
    }
    best
}

/// k-means++ seeding then Lloyd iterations; returns (centroids, assignments, sum of squares).
fn kmeans_once(points: &[Vec<f64>], k: usize, rng: &mut Rng) -> (Vec<Vec<f64>>, Vec<usize>, f64) {
    let n = points.len();
    let mut centroids = vec![points[(rng.next() % n as u64) as usize].clone()];
    let mut d2: Vec<f64> = points.iter().map(|p| distance2(p, &centroids[0])).collect();
    while centroids.len() < k {
        let total: f64 = d2.iter().sum();
        let mut target = rng.unit() * total;
        let mut pick = n - 1;
        for (i, d) in d2.iter().enumerate() {
            target -= d;
            if target < 0.0 {
                pick = i;
                break;
            }
        }
        centroids.push(points[pick].clone());
        for (d, p) in d2.iter_mut().zip(points) {
            *d = d.min(distance2(p, &points[pick]));
        }
    }
    let dim = points[0].len();
    let mut assign = vec![usize::MAX; n];
    for _ in 0..300 {
        let mut changed = false;
        for (a, p) in assign.iter_mut().zip(points) {
            let (g, _) = nearest(p, &centroids);
            if *a != g {
                *a = g;
                changed = true;
            }
        }
        if !changed {
            break;
        }
        let mut sums = vec![vec![0.0; dim]; k];
        let mut counts = vec![0usize; k];
        for (a, p) in assign.iter().zip(points) {
            counts[*a] += 1;
            for (s, v) in sums[*a].iter_mut().zip(p) {
                *s += v;
            }
        }
        for g in 0..k {
            if counts[g] > 0 {
                centroids[g] = sums[g].iter().map(|s| s / counts[g] as f64).collect();
            }
        }
    }
    let inertia = assign
        .iter()
        .zip(points)
        .map(|(a, p)| distance2(p, &centroids[*a]))
        .sum();
    (centroids, assign, inertia)
}

/// Best of [`RESTARTS`] k-means++ runs.
fn kmeans(points: &[Vec<f64>], k: usize, rng: &mut Rng) -> (Vec<Vec<f64>>, Vec<usize>) {
    let mut best: Option<(Vec<Vec<f64>>, Vec<usize>, f64)> = None;
    for _ in 0..RESTARTS {
        let run = kmeans_once(points, k, rng);
        if best.as_ref().is_none_or(|b| run.2 < b.2) {
            best = Some(run);
        }
    }
    let (c, a, _) = best.expect("at least one restart");
    (c, a)
}

/// Mean silhouette over the rows `sample` (each row's distances to the sampled rows only).
fn silhouette(points: &[Vec<f64>], assign: &[usize], k: usize, sample: &[usize]) -> f64 {
    let mut total = 0.0;
    for &i in sample {
        let mut sum = vec![0.0; k];
        let mut count = vec![0usize; k];
        for &j in sample {
            if i != j {
                sum[assign[j]] += distance2(&points[i], &points[j]).sqrt();
                count[assign[j]] += 1;
            }
        }
        let own = assign[i];
        if count[own] == 0 {
            continue; // a singleton scores 0
        }
        let a = sum[own] / count[own] as f64;
        let b = (0..k)
            .filter(|g| *g != own && count[*g] > 0)
            .map(|g| sum[g] / count[g] as f64)
            .fold(f64::INFINITY, f64::min);
        if b.is_finite() {
            total += (b - a) / a.max(b);
        }
    }
    total / sample.len() as f64
}

/// Finds groups among `rows` (one feature vector per customer): standardises every feature,
/// runs k-means++ for each k in `ks` and keeps the k with the highest mean silhouette.
pub fn discover(
    rows: &[Vec<f64>],
    ks: core::ops::RangeInclusive<usize>,
    seed: u64,
) -> Result<Groups, Error> {
    let dim = rows.first().map_or(0, Vec::len);
    if dim == 0
        || rows
            .iter()
            .any(|r| r.len() != dim || r.iter().any(|v| !v.is_finite()))
    {
        return Err(invalid!(
            "fc1",
            "every row needs the same number of finite features (at least one)"
        ));
    }
    if *ks.start() < 2 || ks.is_empty() || *ks.end() > rows.len() {
        return Err(invalid!(
            "fc2",
            "the group counts tried must lie between 2 and the number of rows"
        ));
    }
    let n = rows.len() as f64;
    let means: Vec<f64> = (0..dim)
        .map(|j| rows.iter().map(|r| r[j]).sum::<f64>() / n)
        .collect();
    let scales: Vec<f64> = (0..dim)
        .map(|j| {
            let var = rows.iter().map(|r| (r[j] - means[j]).powi(2)).sum::<f64>() / n;
            if var > 0.0 {
                var.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    let points: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| (0..dim).map(|j| (r[j] - means[j]) / scales[j]).collect())
        .collect();
    let mut rng = Rng(seed);
    // A seeded sample of rows for the silhouette (partial Fisher–Yates).
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let m = rows.len().min(SILHOUETTE_SAMPLE);
    for i in 0..m {
        let j = i + (rng.next() % (rows.len() - i) as u64) as usize;
        order.swap(i, j);
    }
    let sample = &order[..m];
    let mut best: Option<(f64, Vec<Vec<f64>>, Vec<usize>)> = None;
    let mut tried = Vec::new();
    for k in ks {
        let (c, a) = kmeans(&points, k, &mut rng);
        let s = silhouette(&points, &a, k, sample);
        tried.push((k, s));
        if best.as_ref().is_none_or(|b| s > b.0) {
            best = Some((s, c, a));
        }
    }
    let (silhouette, centroids, assignments) = best.expect("at least one k");
    Ok(Groups {
        means,
        scales,
        centroids,
        assignments,
        silhouette,
        tried,
    })
}

impl Groups {
    /// Number of groups.
    pub fn len(&self) -> usize {
        self.centroids.len()
    }

    /// True when there are no groups (never, for a successful [`discover`]).
    pub fn is_empty(&self) -> bool {
        self.centroids.is_empty()
    }

    /// The group of a new row of raw features: the nearest centroid in standardised units.
    pub fn assign(&self, row: &[f64]) -> usize {
        nearest(&self.standardise(row), &self.centroids).0
    }

    fn standardise(&self, row: &[f64]) -> Vec<f64> {
        row.iter()
            .zip(self.means.iter().zip(&self.scales))
            .map(|(v, (m, s))| (v - m) / s)
            .collect()
    }

    /// A group's centroid in raw feature units.
    pub fn centroid(&self, group: usize) -> Vec<f64> {
        self.centroids[group]
            .iter()
            .zip(self.means.iter().zip(&self.scales))
            .map(|(z, (m, s))| m + z * s)
            .collect()
    }

    /// Rows in each group.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.len()];
        for a in &self.assignments {
            sizes[*a] += 1;
        }
        sizes
    }

    /// The group in plain words from the features it stands out on (centroid at least half a
    /// standard deviation from the mean), e.g. "recent, frequent, big spenders in Tents".
    pub fn describe(&self, group: usize, features: &[Feature]) -> String {
        let mut words: Vec<&str> = Vec::new();
        let mut places: Vec<&str> = Vec::new();
        for (z, f) in self.centroids[group].iter().zip(features) {
            let word = if *z >= DISTINCT {
                f.high.as_str()
            } else if *z <= -DISTINCT {
                f.low.as_str()
            } else {
                ""
            };
            if word.starts_with("in ") {
                places.push(word);
            } else if !word.is_empty() {
                words.push(word);
            }
        }
        let mut text = if words.is_empty() {
            "typical customers".to_owned()
        } else {
            words.join(", ")
        };
        for p in places {
            text.push(' ');
            text.push_str(p);
        }
        text
    }

    /// The exact rule for a group, in the segment rule language.
    pub fn rule(&self, group: usize) -> String {
        format!("predicted.group = {group}")
    }

    /// Approximate plain conditions for a group over `rows` (the rows it was found on): for each
    /// feature it stands out on, the group's lower quartile (high) or upper quartile (low), e.g.
    /// `recency_weeks >= 30.1 and orders >= 4`.
    pub fn conditions(&self, group: usize, rows: &[Vec<f64>], features: &[Feature]) -> String {
        let mut parts = Vec::new();
        for (j, (z, f)) in self.centroids[group].iter().zip(features).enumerate() {
            if z.abs() < DISTINCT {
                continue;
            }
            let mut values: Vec<f64> = rows
                .iter()
                .zip(&self.assignments)
                .filter(|(_, a)| **a == group)
                .map(|(r, _)| r[j])
                .collect();
            values.sort_by(f64::total_cmp);
            if values.is_empty() {
                continue;
            }
            let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
            if *z > 0.0 {
                parts.push(format!("{} >= {:.2}", f.name, at(0.25)));
            } else {
                parts.push(format!("{} <= {:.2}", f.name, at(0.75)));
            }
        }
        if parts.is_empty() {
            "none stand out".to_owned()
        } else {
            parts.join(" and ")
        }
    }
}

/// The adjusted Rand index of two labelings of the same rows (1: identical up to renaming;
/// about 0: no better than chance). Hubert & Arabie (1985).
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> f64 {
    assert_eq!(a.len(), b.len(), "two labelings of the same rows");
    let ka = a.iter().max().map_or(0, |m| m + 1);
    let kb = b.iter().max().map_or(0, |m| m + 1);
    let mut table = vec![vec![0u64; kb]; ka];
    for (x, y) in a.iter().zip(b) {
        table[*x][*y] += 1;
    }
    let pairs = |n: u64| (n * n.saturating_sub(1) / 2) as f64;
    let index: f64 = table.iter().flatten().map(|n| pairs(*n)).sum();
    let rows: f64 = table.iter().map(|r| pairs(r.iter().sum())).sum();
    let cols: f64 = (0..kb)
        .map(|j| pairs(table.iter().map(|r| r[j]).sum()))
        .sum();
    let total = pairs(a.len() as u64);
    let expected = rows * cols / total;
    let max = 0.5 * (rows + cols);
    if max == expected {
        return 1.0;
    }
    (index - expected) / (max - expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ari_of_known_labelings() {
        // Identical up to renaming → 1.
        assert_eq!(adjusted_rand_index(&[0, 0, 1, 1], &[1, 1, 0, 0]), 1.0);
        // Hand computation: a = [0,0,0,1,1,1], b = [0,0,1,1,2,2]: table [[2,1,0],[0,1,2]],
        // Σ C(n_ij,2) = 2, rows 3+3 = 6, cols 1+1+1 = 3, C(6,2) = 15, expected 6·3/15 = 1.2,
        // max 4.5 → (2 − 1.2)/(4.5 − 1.2) = 0.2424…
        let ari = adjusted_rand_index(&[0, 0, 0, 1, 1, 1], &[0, 0, 1, 1, 2, 2]);
        assert!((ari - 0.8 / 3.3).abs() < 1e-12, "{ari}");
    }
}
