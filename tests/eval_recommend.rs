//! Offline evaluation of the recommender on real session data (session-rec "next item" protocol).
//!
//! ```text
//! cargo test --profile eval --test eval_recommend            # validation only (asserts)
//! cargo test --profile eval --test eval_recommend -- --full  # + the validation tuning grid
//! cargo test --profile eval --test eval_recommend -- --test  # the test split, for the report
//! cargo test --profile eval --test eval_recommend -- --tune-baselines  # STAN/VSTAN search
//! ```
//!
//! Data: `$AFFINITY_DATA` or `../shared/data` beside the crate (yoochoose-100k, diginetica-sample).
//! The "Affinity" row is the shipped recommender, scored through build → encode → decode → rank.
//! The baselines are re-implementations of session-rec's, written here for evaluation only: POP,
//! AR, SR, SKNN, V-SKNN untuned (session-rec's defaults), STAN and VSTAN tuned on validation
//! (`--tune-baselines`). They keep whole sessions and are never shipped.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

use affinity::recommend::metrics::{bootstrap, paired_bootstrap, rank_of, Interval, Tally};
use affinity::recommend::{Model, ModelBuilder, Query, ScoreParams, Strategy};

const CUTOFF: usize = 20;
const RESAMPLES: usize = 1000;
const SEED: u64 = 2015;

// ---------------------------------------------------------------- data

/// One session: items in click order with times in Unix milliseconds.
#[derive(Debug, Clone)]
struct Session {
    id: String,
    items: Vec<String>,
    times: Vec<i64>,
}

fn data_dir() -> PathBuf {
    std::env::var_os("AFFINITY_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data")))
}

fn read(path: &PathBuf) -> String {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e} (set AFFINITY_DATA)", path.display()))
}

/// Group `(session, item, time, line)` rows into sessions sorted by time; sessions by start time.
fn group(rows: Vec<(String, String, f64)>) -> Vec<Session> {
    let mut by: HashMap<String, Vec<(f64, usize, String)>> = HashMap::new();
    for (n, (s, i, t)) in rows.into_iter().enumerate() {
        by.entry(s).or_default().push((t, n, i));
    }
    let mut sessions: Vec<(f64, usize, Session)> = by
        .into_iter()
        .map(|(id, mut v)| {
            v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let start = (v[0].0, v[0].1);
            let times = v.iter().map(|x| (x.0 * 1000.0).round() as i64).collect();
            let items = v.into_iter().map(|x| x.2).collect();
            (start.0, start.1, Session { id, items, times })
        })
        .collect();
    sessions.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    sessions.into_iter().map(|x| x.2).collect()
}

fn load_yoochoose(split: &str) -> Vec<Session> {
    let path = data_dir().join(format!("yoochoose-100k/yoochoose-clicks-100k_{split}.txt"));
    let rows = read(&path)
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split('\t');
            let (s, i, t) = (f.next()?, f.next()?, f.next()?);
            Some((s.to_string(), i.to_string(), t.trim().parse::<f64>().ok()?))
        })
        .collect();
    group(rows)
}

/// Diginetica sample with SR-GNN's preprocessing: (train sessions, test sessions).
fn load_diginetica() -> (Vec<Session>, Vec<Session>) {
    let path = data_dir().join("diginetica-sample/sample_train-item-views.csv");
    let mut rows = Vec::new();
    let mut date_of: HashMap<String, i64> = HashMap::new();
    for l in read(&path).lines().skip(1) {
        let f: Vec<&str> = l.split(';').collect();
        if f.len() < 5 {
            continue;
        }
        let Ok(tf) = f[3].parse::<f64>() else {
            continue;
        };
        rows.push((f[0].to_string(), f[2].to_string(), tf / 1000.0));
        date_of.insert(f[0].to_string(), day_number(f[4]));
    }
    let mut sessions: Vec<Session> = group(rows)
        .into_iter()
        .filter(|s| s.items.len() > 1)
        .collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for s in &sessions {
        for i in &s.items {
            *counts.entry(i.clone()).or_default() += 1;
        }
    }
    for s in &mut sessions {
        let keep: Vec<bool> = s.items.iter().map(|i| counts[i] >= 5).collect();
        let mut k = keep.iter();
        s.items.retain(|_| *k.next().unwrap_or(&false));
        let mut k = keep.iter();
        s.times.retain(|_| *k.next().unwrap_or(&false));
    }
    sessions.retain(|s| s.items.len() >= 2);
    let max = sessions.iter().map(|s| date_of[&s.id]).max().unwrap_or(0);
    let split = max - 7;
    let mut train: Vec<Session> = sessions
        .iter()
        .filter(|s| date_of[&s.id] < split)
        .cloned()
        .collect();
    train.retain(|s| s.items.len() >= 2);
    let known: HashSet<&String> = train.iter().flat_map(|s| &s.items).collect();
    let mut test: Vec<Session> = sessions
        .iter()
        .filter(|s| date_of[&s.id] > split)
        .cloned()
        .collect();
    for s in &mut test {
        let keep: Vec<bool> = s.items.iter().map(|i| known.contains(i)).collect();
        let mut k = keep.iter();
        s.items.retain(|_| *k.next().unwrap_or(&false));
        let mut k = keep.iter();
        s.times.retain(|_| *k.next().unwrap_or(&false));
    }
    test.retain(|s| s.items.len() >= 2);
    (train, test)
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (civil calendar).
fn day_number(date: &str) -> i64 {
    let p: Vec<i64> = date.split('-').filter_map(|x| x.parse().ok()).collect();
    if p.len() != 3 {
        return 0;
    }
    let (y, m, d) = (if p[1] <= 2 { p[0] - 1 } else { p[0] }, p[1], p[2]);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// ---------------------------------------------------------------- catalog + training view

/// Training items indexed in order of first appearance (session-rec's `unique()` order), which
/// also breaks score ties.
struct Train {
    ids: Vec<String>,
    index: HashMap<String, u32>,
    sessions: Vec<Vec<u32>>,
    times: Vec<i64>,
    /// Each session's distinct items, sorted (the kNN baselines' sets).
    sets: Vec<Vec<u32>>,
    /// Sessions holding each item.
    item_sessions: Vec<Vec<u32>>,
}

impl Train {
    fn new(sessions: &[Session]) -> Train {
        let mut t = Train {
            ids: Vec::new(),
            index: HashMap::new(),
            sessions: Vec::new(),
            times: Vec::new(),
            sets: Vec::new(),
            item_sessions: Vec::new(),
        };
        for s in sessions {
            let v = s
                .items
                .iter()
                .map(|i| {
                    let n = t.ids.len() as u32;
                    *t.index.entry(i.clone()).or_insert_with(|| {
                        t.ids.push(i.clone());
                        n
                    })
                })
                .collect();
            t.sessions.push(v);
            t.times.push(*s.times.last().unwrap_or(&0));
        }
        t.item_sessions = vec![Vec::new(); t.n()];
        for (n, s) in t.sessions.iter().enumerate() {
            let mut v = s.clone();
            v.sort_unstable();
            v.dedup();
            for &i in &v {
                t.item_sessions[i as usize].push(n as u32);
            }
            t.sets.push(v);
        }
        t
    }

    fn n(&self) -> usize {
        self.ids.len()
    }

    /// The sessions sharing an item with `items`, the `sample` most recent when there are more
    /// (session-rec's recent sampling); `mark` is a per-session scratch stamp.
    fn candidates(&self, items: &[u32], sample: usize, mark: &mut Stamp) -> Vec<u32> {
        mark.generation += 1;
        let mut cand = Vec::new();
        for &i in items {
            for &s in &self.item_sessions[i as usize] {
                if mark.seen[s as usize] != mark.generation {
                    mark.seen[s as usize] = mark.generation;
                    cand.push(s);
                }
            }
        }
        if cand.len() > sample {
            cand.sort_by_key(|&s| (std::cmp::Reverse(self.times[s as usize]), s));
            cand.truncate(sample);
        }
        cand
    }
}

/// Which sessions one prediction has seen already (a stamp per session, bumped per call).
struct Stamp {
    seen: Vec<u32>,
    generation: u32,
}

impl Stamp {
    fn new(t: &Train) -> Stamp {
        Stamp {
            seen: vec![0; t.sessions.len()],
            generation: 0,
        }
    }
}

/// Top `k` of sparse scores (desc, ties by index), filled with zero-score items by index.
fn top_k(scores: &mut Vec<(u32, f64)>, n: usize, k: usize) -> Vec<u32> {
    scores.retain(|&(_, s)| s > 0.0);
    scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut out: Vec<u32> = scores.iter().take(k).map(|x| x.0).collect();
    let mut i = 0u32;
    while out.len() < k && (i as usize) < n {
        if !out.contains(&i) {
            out.push(i);
        }
        i += 1;
    }
    out
}

trait Predictor {
    /// Top-`CUTOFF` training-item indices after the session prefix `items` (training indices; items
    /// unknown to training are already dropped).
    fn top(&mut self, items: &[u32], times: &[i64]) -> Vec<u32>;
}

// ---------------------------------------------------------------- baselines

struct Pop {
    list: Vec<u32>,
}

impl Pop {
    fn new(t: &Train) -> Pop {
        let mut c = vec![0f64; t.n()];
        for s in &t.sessions {
            for &i in s {
                c[i as usize] += 1.0;
            }
        }
        let mut v: Vec<(u32, f64)> = c
            .into_iter()
            .enumerate()
            .map(|(i, c)| (i as u32, c))
            .collect();
        Pop {
            list: top_k(&mut v, t.n(), CUTOFF),
        }
    }
}

impl Predictor for Pop {
    fn top(&mut self, _: &[u32], _: &[i64]) -> Vec<u32> {
        self.list.clone()
    }
}

/// Rules as session-rec keeps them: per item, neighbours in first-insertion order.
struct Rules {
    rows: Vec<Vec<(u32, f64)>>,
    n: usize,
}

impl Rules {
    fn new(n: usize) -> Rules {
        Rules {
            rows: vec![Vec::new(); n],
            n,
        }
    }

    fn add(&mut self, a: u32, b: u32, w: f64) {
        let row = &mut self.rows[a as usize];
        match row.iter_mut().find(|x| x.0 == b) {
            Some(x) => x.1 += w,
            None => row.push((b, w)),
        }
    }

    /// Keep the `keep` largest per row; ties keep insertion order (Counter.most_common).
    fn prune(&mut self, keep: usize) {
        for row in &mut self.rows {
            row.sort_by(|a, b| b.1.total_cmp(&a.1));
            row.truncate(keep);
        }
    }

    fn predict(&self, last: u32) -> Vec<u32> {
        let mut v = self.rows[last as usize].clone();
        top_k(&mut v, self.n, CUTOFF)
    }
}

/// AR: co-occurrence counts of every ordered pair in a session (both directions), pruned to 20.
fn association_rules(t: &Train) -> Rules {
    let mut r = Rules::new(t.n());
    for s in &t.sessions {
        for b in 1..s.len() {
            for a in 0..b {
                r.add(s[b], s[a], 1.0);
                r.add(s[a], s[b], 1.0);
            }
        }
    }
    r.prune(20);
    r
}

/// SR: `prev → item` within `steps`, weighted by distance (`quadratic` or div), pruned to 20.
fn sequential_rules(t: &Train, steps: usize, quadratic: bool) -> Rules {
    let mut r = Rules::new(t.n());
    for s in &t.sessions {
        for b in 1..s.len() {
            for i in 1..=steps.min(b) {
                let w = if quadratic {
                    1.0 / (i * i) as f64
                } else {
                    1.0 / i as f64
                };
                r.add(s[b - i], s[b], w);
            }
        }
    }
    r.prune(20);
    r
}

struct LastItem(Rules);

impl Predictor for LastItem {
    fn top(&mut self, items: &[u32], _: &[i64]) -> Vec<u32> {
        match items.last() {
            Some(&l) => self.0.predict(l),
            None => top_k(&mut Vec::new(), self.0.n, CUTOFF),
        }
    }
}

/// Session kNN (session-rec ContextKNN / VMContextKNN, recent sampling).
struct Knn<'a> {
    t: &'a Train,
    k: usize,
    sample: usize,
    vector: bool,
    /// V-SKNN's `weighting_score=div` (1/step of the most recent shared item); off = `same`.
    score_decay: bool,
    mark: Stamp,
    scores: Vec<f64>,
}

impl<'a> Knn<'a> {
    fn new(t: &'a Train, k: usize, sample: usize, vector: bool, score_decay: bool) -> Knn<'a> {
        Knn {
            t,
            k,
            sample,
            vector,
            score_decay,
            mark: Stamp::new(t),
            scores: vec![0.0; t.n()],
        }
    }
}

impl Predictor for Knn<'_> {
    fn top(&mut self, items: &[u32], _: &[i64]) -> Vec<u32> {
        let cand = self.t.candidates(items, self.sample, &mut self.mark);
        let mut cur: Vec<u32> = items.to_vec();
        cur.sort_unstable();
        cur.dedup();
        // V-SKNN position weights: i/len over the click list, later repeats overwrite.
        let mut pos: HashMap<u32, f64> = HashMap::new();
        for (n, &i) in items.iter().enumerate() {
            pos.insert(i, (n + 1) as f64 / items.len() as f64);
        }
        let mut nb: Vec<(u32, f64)> = cand
            .iter()
            .filter_map(|&s| {
                let set = &self.t.sets[s as usize];
                let sim = if self.vector {
                    let dot: f64 = cur
                        .iter()
                        .filter(|i| set.binary_search(i).is_ok())
                        .map(|i| pos[i])
                        .sum();
                    dot / pos.len() as f64
                } else {
                    let li = cur.iter().filter(|i| set.binary_search(i).is_ok()).count() as f64;
                    // session-rec's cosine as written: li / sqrt(la) * sqrt(lb).
                    li / (set.len() as f64).sqrt() * (cur.len() as f64).sqrt()
                };
                (sim > 0.0).then_some((s, sim))
            })
            .collect();
        let times = &self.t.times;
        nb.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(times[b.0 as usize].cmp(&times[a.0 as usize]))
                .then(a.0.cmp(&b.0))
        });
        nb.truncate(self.k);
        let mut touched = Vec::new();
        for &(s, sim) in &nb {
            let set = &self.t.sets[s as usize];
            let decay = if self.vector && self.score_decay {
                let step = items
                    .iter()
                    .rev()
                    .position(|i| set.binary_search(i).is_ok())
                    .map_or(1, |p| p + 1);
                1.0 / step as f64
            } else {
                1.0
            };
            for &i in set {
                if self.scores[i as usize] == 0.0 {
                    touched.push(i);
                }
                self.scores[i as usize] += sim * decay;
            }
        }
        let mut v: Vec<(u32, f64)> = touched
            .iter()
            .map(|&i| (i, self.scores[i as usize]))
            .collect();
        for &i in &touched {
            self.scores[i as usize] = 0.0;
        }
        top_k(&mut v, self.t.n(), CUTOFF)
    }
}

/// STAN (Garg et al. 2019) and VSTAN (Ludewig et al. 2021) as session-rec's `knn/stan.py` and
/// `knn/vstan.py` compute them: a neighbour's similarity weighs the current session's items by
/// position (`spw`), decays with the neighbour's age (`snh`, days), and an item of a neighbour
/// scores by its distance to the last item shared with the current session (`inh`); VSTAN adds
/// the `vec` similarity option, the position of that shared item in the current session (`ipw`)
/// and an idf boost (`idf`). A λ of `None` switches that factor off.
#[derive(Debug, Clone, Copy, PartialEq)]
struct StanParams {
    k: usize,
    sample: usize,
    spw: f64,
    snh: f64,
    inh: f64,
    /// VSTAN only: `(vec similarity instead of cosine, ipw, idf)`.
    vstan: Option<(bool, Option<f64>, Option<f64>)>,
}

struct Stan<'a> {
    t: &'a Train,
    p: StanParams,
    idf: Vec<f64>,
    mark: Stamp,
}

impl<'a> Stan<'a> {
    fn new(t: &'a Train, p: StanParams) -> Stan<'a> {
        let mut clicks = vec![0f64; t.n()];
        t.sessions
            .iter()
            .flatten()
            .for_each(|&i| clicks[i as usize] += 1.0);
        // session-rec: log(sessions / rows of the item).
        let sessions = t.sessions.len() as f64;
        let idf = clicks
            .iter()
            .map(|&c| (sessions / c.max(1.0)).ln())
            .collect();
        Stan {
            t,
            p,
            idf,
            mark: Stamp::new(t),
        }
    }
}

impl Predictor for Stan<'_> {
    fn top(&mut self, items: &[u32], times: &[i64]) -> Vec<u32> {
        let p = self.p;
        let cand = self.t.candidates(items, p.sample, &mut self.mark);
        let times_of = &self.t.times;
        let len = items.len() as f64;
        // Position weights over the click list, later repeats overwrite (session-rec's pos_map).
        let mut pos: HashMap<u32, f64> = HashMap::new();
        for (n, &i) in items.iter().enumerate() {
            pos.insert(i, (((n + 1) as f64 - len) / p.spw).exp());
        }
        let current_sq: f64 = pos.values().map(|w| w * w).sum();
        let now = times.last().copied().unwrap_or(0);
        let mut nb: Vec<(u32, f64)> = cand
            .iter()
            .filter_map(|&s| {
                let set = &self.t.sets[s as usize];
                let dot: f64 = pos
                    .iter()
                    .filter(|(i, _)| set.binary_search(i).is_ok())
                    .map(|(_, w)| w)
                    .sum();
                let mut sim = match p.vstan {
                    Some((true, _, _)) => dot / pos.len() as f64,
                    _ => dot / (current_sq.sqrt() * (set.len() as f64).sqrt()),
                };
                let age_days = (now - times_of[s as usize]) as f64 / 86_400_000.0;
                sim *= (-age_days / p.snh).exp();
                (sim > 0.0).then_some((s, sim))
            })
            .collect();
        nb.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(times_of[b.0 as usize].cmp(&times_of[a.0 as usize]))
                .then(a.0.cmp(&b.0))
        });
        nb.truncate(p.k);
        let mut scores: HashMap<u32, f64> = HashMap::new();
        for &(s, sim) in &nb {
            let seq = &self.t.sessions[s as usize];
            let set = &self.t.sets[s as usize];
            let mut last: HashMap<u32, usize> = HashMap::new();
            let mut star = 0usize;
            for (n, &i) in seq.iter().enumerate() {
                if pos.contains_key(&i) {
                    star = n + 1;
                }
                last.insert(i, n + 1);
            }
            // VSTAN: the position (in the current session) of the last item it shares.
            let ipw = match p.vstan {
                Some((_, Some(l), _)) => items
                    .iter()
                    .rposition(|i| set.binary_search(i).is_ok())
                    .map_or(1.0, |n| (((n + 1) as f64 - len) / l).exp()),
                _ => 1.0,
            };
            for &i in set {
                let mut w = sim;
                w *= (-((last[&i] as f64 - star as f64).abs()) / p.inh).exp();
                if let Some((_, _, Some(l))) = p.vstan {
                    w += w * self.idf[i as usize] * l;
                }
                w *= ipw;
                *scores.entry(i).or_insert(0.0) += w;
            }
        }
        let mut v: Vec<(u32, f64)> = scores.into_iter().collect();
        top_k(&mut v, self.t.n(), CUTOFF)
    }
}

/// One configuration drawn from session-rec's optimisation grids (`conf/save/rsc15/window/opt/
/// window_rsc15_{stan,vstan}.yml`); `0.00001` there is kept as is (an almost-off decay).
fn draw_stan(rng: &mut affinity::recommend::metrics::SplitMix64, vstan: bool) -> StanParams {
    let pick = |rng: &mut affinity::recommend::metrics::SplitMix64, xs: &[f64]| {
        xs[rng.below(xs.len() as u64) as usize]
    };
    let lambdas = [0.00001, 0.5, 1.0, 2.0, 4.0, 8.0];
    let k = [100.0, 200.0, 500.0, 1000.0, 1500.0, 2000.0];
    let sample = [1000.0, 2500.0, 5000.0, 10000.0];
    let snh: &[f64] = if vstan {
        &[0.00001, 2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 100.0]
    } else {
        &[2.5, 5.0, 10.0, 20.0, 40.0, 80.0, 100.0]
    };
    StanParams {
        k: pick(rng, &k) as usize,
        sample: pick(rng, &sample) as usize,
        spw: pick(rng, &lambdas),
        snh: pick(rng, snh),
        inh: pick(rng, &lambdas),
        vstan: vstan.then(|| {
            let vec = rng.below(2) == 1;
            let ipw = Some(pick(rng, &lambdas));
            let idf = [None, Some(1.0), Some(2.0), Some(5.0), Some(10.0)][rng.below(5) as usize];
            (vec, ipw, idf)
        }),
    }
}

/// Random search on validation (train_tr → train_valid) as session-rec's optimiser does it,
/// `iterations` draws each for STAN and VSTAN, selected by HR + MRR like Affinity's grid.
fn tune_stan(tr: &[Session], valid: &[Session], iterations: usize) {
    let train = Train::new(tr);
    let mut rng = affinity::recommend::metrics::SplitMix64(2019);
    for vstan in [false, true] {
        let mut results: Vec<(f64, f64, StanParams)> = Vec::new();
        for _ in 0..iterations {
            let p = draw_stan(&mut rng, vstan);
            let t = total(&alls(&evaluate(&mut Stan::new(&train, p), &train, valid)));
            results.push((t.hr(), t.mrr(), p));
        }
        results.sort_by(|a, b| (b.0 + b.1).total_cmp(&(a.0 + a.1)));
        let name = if vstan { "VSTAN" } else { "STAN" };
        println!("\n{name} random search on validation: {iterations} draws, top 5 by HR+MRR");
        for (hr, mrr, p) in results.iter().take(5) {
            println!("{hr:.4} / {mrr:.4}  {p:?}");
        }
    }
}

// ---------------------------------------------------------------- Affinity (the shipped model)

struct Built {
    model: Model,
    to_train: Vec<u32>,
    raw: usize,
    brotli: Option<usize>,
    build_ms: f64,
}

fn builder(train: &[Session], k: u32, next_norm: f32, params: ScoreParams) -> ModelBuilder {
    let mut b = ModelBuilder::new();
    b.min_support(k).next_norm(next_norm).params(params);
    // The shop's catalog is public: every item id of the training data is in it (a real shop
    // lists every product it sells), so items ship without support; everything learned from
    // the sessions is gated. Each session stands for one shopper and one source.
    for s in train {
        for i in &s.items {
            b.catalog_id(i);
        }
    }
    for s in train {
        let clicks: Vec<(&str, i64)> = s
            .items
            .iter()
            .map(String::as_str)
            .zip(s.times.iter().copied())
            .collect();
        b.add_session(&clicks);
    }
    b
}

/// Build → encode → decode: the page ranks with exactly these bytes.
fn ship(b: &ModelBuilder, t: &Train, started: Instant) -> Built {
    let model = b.build();
    let bytes = model.encode();
    let build_ms = started.elapsed().as_secs_f64() * 1000.0;
    let model = Model::decode(&bytes).expect("the model we just encoded decodes");
    let to_train = (0..model.len() as u32)
        .map(|i| {
            model
                .id(i)
                .and_then(|id| t.index.get(id).copied())
                .unwrap_or(u32::MAX)
        })
        .collect();
    Built {
        model,
        to_train,
        raw: bytes.len(),
        brotli: brotli_size(&bytes),
        build_ms,
    }
}

fn brotli_size(bytes: &[u8]) -> Option<usize> {
    let mut child = Command::new("brotli")
        .args(["-q", "11", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(bytes).ok()?;
    let out = child.wait_with_output().ok()?;
    out.status.success().then_some(out.stdout.len())
}

struct Affinity<'a> {
    built: &'a Built,
    train: &'a Train,
}

impl Predictor for Affinity<'_> {
    fn top(&mut self, items: &[u32], times: &[i64]) -> Vec<u32> {
        let mut q = Query::new(Strategy::ForYou, CUTOFF);
        q.history = items
            .iter()
            .zip(times)
            .map(|(&i, &t)| (self.train.ids[i as usize].clone(), t))
            .collect();
        self.built
            .model
            .recommend(&q)
            .iter()
            .map(|s| self.built.to_train[s.item as usize])
            .collect()
    }
}

// ---------------------------------------------------------------- protocol

/// One session's tallies: every next-item case, and only the cases whose target the session
/// has not shown before (the prefix does not hold it).
#[derive(Debug, Clone, Copy, Default)]
struct Scores {
    all: Tally,
    unseen: Tally,
}

/// Per-session tallies of one predictor over every next-item case of `test`.
fn evaluate(p: &mut dyn Predictor, t: &Train, test: &[Session]) -> Vec<Scores> {
    test.iter()
        .map(|s| {
            let mut tally = Scores::default();
            let mut items = Vec::new();
            let mut times = Vec::new();
            for pos in 0..s.items.len().saturating_sub(1) {
                if let Some(&i) = t.index.get(&s.items[pos]) {
                    items.push(i);
                    times.push(s.times[pos]);
                }
                let Some(&target) = t.index.get(&s.items[pos + 1]) else {
                    continue;
                };
                let top = p.top(&items, &times);
                let rank = rank_of(&top, &target, CUTOFF);
                tally.all.add(rank);
                if !s.items[..=pos].contains(&s.items[pos + 1]) {
                    tally.unseen.add(rank);
                }
            }
            tally
        })
        .collect()
}

fn alls(sessions: &[Scores]) -> Vec<Tally> {
    sessions.iter().map(|s| s.all).collect()
}

fn total(sessions: &[Tally]) -> Tally {
    let mut t = Tally::default();
    sessions.iter().for_each(|s| t.merge(s));
    t
}

struct Row {
    name: String,
    tally: Tally,
    unseen: Tally,
    ci: (Interval, Interval),
    sessions: Vec<Tally>,
}

fn row(name: &str, scores: &[Scores]) -> Row {
    let sessions = alls(scores);
    Row {
        name: name.to_string(),
        tally: total(&sessions),
        unseen: total(&scores.iter().map(|s| s.unseen).collect::<Vec<_>>()),
        ci: bootstrap(&sessions, RESAMPLES, 0.95, SEED),
        sessions,
    }
}

fn print_table(title: &str, rows: &[Row], expected: &[(&str, f64, f64)]) {
    println!("\n{title}");
    println!(
        "| method | HR@20 [95% CI] | MRR@20 [95% CI] | unseen HR@20 / MRR@20 | expected HR / MRR |"
    );
    println!("|---|---|---|---|---|");
    for r in rows {
        let exp = expected
            .iter()
            .find(|e| e.0 == r.name)
            .map_or(String::from("–"), |e| format!("{:.3} / {:.3}", e.1, e.2));
        println!(
            "| {} | {:.3} [{:.3}, {:.3}] | {:.3} [{:.3}, {:.3}] | {:.3} / {:.3} | {} |",
            r.name,
            r.tally.hr(),
            r.ci.0.low,
            r.ci.0.high,
            r.tally.mrr(),
            r.ci.1.low,
            r.ci.1.high,
            r.unseen.hr(),
            r.unseen.mrr(),
            exp
        );
    }
    if let Some(r) = rows.first() {
        println!(
            "({} prediction cases, {} with a target the session has not shown before)",
            r.tally.cases, r.unseen.cases
        );
    }
}

fn baselines(train: &Train, test: &[Session]) -> Vec<Row> {
    let mut rows = vec![row("POP", &evaluate(&mut Pop::new(train), train, test))];
    rows.push(row(
        "AR",
        &evaluate(&mut LastItem(association_rules(train)), train, test),
    ));
    rows.push(row(
        "SR",
        &evaluate(
            &mut LastItem(sequential_rules(train, 10, false)),
            train,
            test,
        ),
    ));
    rows.push(row(
        "SKNN",
        &evaluate(&mut Knn::new(train, 100, 500, false, false), train, test),
    ));
    rows.push(row(
        "V-SKNN",
        &evaluate(&mut Knn::new(train, 100, 1000, true, false), train, test),
    ));
    rows.push(row(
        "V-SKNN (score div)",
        &evaluate(&mut Knn::new(train, 100, 1000, true, true), train, test),
    ));
    rows.push(row(
        "STAN",
        &evaluate(&mut Stan::new(train, STAN), train, test),
    ));
    rows.push(row(
        "VSTAN",
        &evaluate(&mut Stan::new(train, VSTAN), train, test),
    ));
    rows
}

/// STAN as chosen on validation by `-- --tune-baselines` (random search over session-rec's grid,
/// 40 draws, seed 2019, best HR + MRR: 0.6482 / 0.3638).
const STAN: StanParams = StanParams {
    k: 200,
    sample: 10000,
    spw: 0.5,
    snh: 2.5,
    inh: 2.0,
    vstan: None,
};

/// VSTAN as chosen on validation by `-- --tune-baselines` (the same search: 0.6523 / 0.3684).
const VSTAN: StanParams = StanParams {
    k: 2000,
    sample: 1000,
    spw: 8.0,
    snh: 5.0,
    inh: 8.0,
    vstan: Some((false, Some(0.5), Some(5.0))),
};

fn affinity_row(name: &str, built: &Built, train: &Train, test: &[Session]) -> Row {
    row(name, &evaluate(&mut Affinity { built, train }, train, test))
}

// ---------------------------------------------------------------- regression vs session-rec lists

/// Top-1 agreement and mean top-20 overlap of our SR / AR with session-rec's saved lists.
fn regression(train: &Train, test: &[Session]) -> Vec<(String, usize, f64, f64)> {
    let by_id: HashMap<&str, &Session> = test.iter().map(|s| (s.id.as_str(), s)).collect();
    let mut out = Vec::new();
    let runs: [(&str, Rules); 2] = [
        ("sr", sequential_rules(train, 20, true)),
        ("ar", association_rules(train)),
    ];
    for (name, rules) in runs {
        let path = data_dir().join(format!(
            "yoochoose-100k/recommendations/recoms_rsc15_100k_{name}.csv"
        ));
        let (mut n, mut top1, mut overlap) = (0usize, 0usize, 0f64);
        for line in read(&path).lines().skip(1) {
            let f: Vec<&str> = line.split(';').collect();
            if f.len() < 3 {
                continue;
            }
            let (Some(s), Ok(pos)) = (by_id.get(f[0]), f[1].parse::<usize>()) else {
                continue;
            };
            let Some(last) = s.items.get(pos).and_then(|i| train.index.get(i)) else {
                continue;
            };
            let theirs: Vec<&str> = f[2].split(',').take(CUTOFF).collect();
            let ours: Vec<&str> = rules
                .predict(*last)
                .iter()
                .map(|&i| train.ids[i as usize].as_str())
                .collect();
            n += 1;
            top1 += usize::from(ours.first() == theirs.first());
            overlap += ours.iter().filter(|o| theirs.contains(o)).count() as f64 / CUTOFF as f64;
        }
        out.push((
            name.to_uppercase(),
            n,
            top1 as f64 / n.max(1) as f64,
            overlap / n.max(1) as f64,
        ));
    }
    out
}

// ---------------------------------------------------------------- tuning grid (validation only)

fn tune(tr: &[Session], valid: &[Session], k: u32) -> (f32, ScoreParams) {
    let train = Train::new(tr);
    let mut results: Vec<(f64, f64, f32, ScoreParams)> = Vec::new();
    for next_norm in [0.5f32, 0.75, 1.0] {
        let b = builder(tr, k, next_norm, ScoreParams::default());
        let mut built = ship(&b, &train, Instant::now());
        for together in [0.05f32, 0.2, 0.35] {
            for repeat in [1.5f32, 2.5] {
                for decay in [0.2f32, 0.3, 0.45] {
                    for (hop, hop_together) in [0.1f32, 0.2]
                        .into_iter()
                        .flat_map(|h| [0.0f32, 0.15, 0.3, 0.45].map(|t| (h, t)))
                    {
                        let params = ScoreParams {
                            next: 1.0,
                            together,
                            repeat,
                            popularity: 0.0,
                            decay,
                            bought: 1.0,
                            hop,
                            hop_together,
                        };
                        built.model.set_params(params);
                        let t = total(&alls(&evaluate(
                            &mut Affinity {
                                built: &built,
                                train: &train,
                            },
                            &train,
                            valid,
                        )));
                        results.push((t.hr(), t.mrr(), next_norm, params));
                    }
                }
            }
        }
    }
    // Select by HR + MRR (both targets matter equally).
    results.sort_by(|a, b| (b.0 + b.1).total_cmp(&(a.0 + a.1)));
    println!(
        "\nValidation grid (train_tr → train_valid, k = {k}): {} configurations, top 10 by HR+MRR",
        results.len()
    );
    println!("| next_norm | together | repeat | decay | hop | hop_together | HR@20 | MRR@20 |");
    println!("|---|---|---|---|---|---|---|---|");
    for (hr, mrr, nn, p) in results.iter().take(10) {
        println!(
            "| {nn} | {} | {} | {} | {} | {} | {hr:.4} | {mrr:.4} |",
            p.together, p.repeat, p.decay, p.hop, p.hop_together
        );
    }
    (results[0].2, results[0].3)
}

// ---------------------------------------------------------------- main

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let full = args.iter().any(|a| a == "--full" || a == "--tune");
    // The test split is scored only when asked: tuning and every default run read validation.
    let on_test = args.iter().any(|a| a == "--test");
    let tune_baselines = args.iter().any(|a| a == "--tune-baselines");
    let started = Instant::now();
    let mut failures: Vec<String> = Vec::new();
    let mut check = |ok: bool, what: String| {
        println!("{} {what}", if ok { "ok  " } else { "FAIL" });
        if !ok {
            failures.push(what);
        }
    };

    let full_train = load_yoochoose("train_full");
    let test = load_yoochoose("test");
    let tr = load_yoochoose("train_tr");
    let valid = load_yoochoose("train_valid");

    if tune_baselines {
        tune_stan(&tr, &valid, 40);
    }
    if full {
        // The grid runs at the default k only (k = 1 was explored the same way: same shape).
        {
            let k = 2;
            let best = tune(&tr, &valid, k);
            println!(
                "best on validation at k = {k}: next_norm {} {:?}",
                best.0, best.1
            );
        }
    }

    // k = 2: the smallest minimum support the edge allows (a figure backed by one source never
    // ships); validation prefers k = 1 (see the k table), which the privacy claim rules out.
    // The weights are `ScoreParams::default()`, chosen on validation by the `--full` grid.
    let default_k = 2u32;
    let params = ScoreParams::default();
    let next_norm = 0.75;

    // ---- the main table: validation by default, test only with `--test`.
    let (fit, score, split) = if on_test {
        (&full_train, &test, "train_full → test")
    } else {
        (&tr, &valid, "train_tr → train_valid")
    };
    let train = Train::new(fit);
    let mut rows = baselines(&train, score);
    let t0 = Instant::now();
    let b = builder(fit, default_k, next_norm, params);
    let built = ship(&b, &train, t0);
    rows.push(affinity_row("Affinity", &built, &train, score));
    let expected = [
        ("POP", 0.089, 0.026),
        ("AR", 0.634, 0.324),
        ("SR", 0.618, 0.351),
        ("SKNN", 0.645, 0.321),
        ("V-SKNN", 0.672, 0.344),
    ];
    print_table(
        &format!("yoochoose-100k: {split} (Affinity k = {default_k})"),
        &rows,
        if on_test { &expected } else { &[] },
    );
    if on_test {
        for (name, hr, mrr) in expected {
            if let Some(r) = rows.iter().find(|r| r.name == name) {
                check(
                    (r.tally.hr() - hr).abs() <= 0.01 && (r.tally.mrr() - mrr).abs() <= 0.01,
                    format!(
                        "{name} reproduces {hr:.3}/{mrr:.3} within ±0.01: {:.3}/{:.3}",
                        r.tally.hr(),
                        r.tally.mrr()
                    ),
                );
            }
        }
    }
    let (aff, base) = rows.split_last().expect("rows");
    // What holds at the default privacy setting (k = 2 sources, bounded contributions), and is
    // asserted: ahead of POP, AR, SR, SKNN and V-SKNN on both metrics. V-SKNN with the `div`
    // decay, STAN and VSTAN lead HR@20 (VSTAN MRR@20 too) on validation: the paired intervals
    // below are the report (docs/recommend.md), not a check.
    for r in base
        .iter()
        .filter(|r| ["POP", "AR", "SR", "SKNN", "V-SKNN"].contains(&r.name.as_str()))
    {
        check(
            aff.tally.hr() > r.tally.hr() && aff.tally.mrr() > r.tally.mrr(),
            format!(
                "Affinity ahead of {} on both metrics ({split}): {:.4}/{:.4} vs {:.4}/{:.4}",
                r.name,
                aff.tally.hr(),
                aff.tally.mrr(),
                r.tally.hr(),
                r.tally.mrr()
            ),
        );
    }
    // Against every baseline: a paired bootstrap of the difference over the same resampled
    // sessions (the strongest is the one the headline names).
    println!(
        "\nAffinity − baseline ({split}; paired bootstrap, {RESAMPLES} resamples by session, 95 %)"
    );
    println!("| baseline | HR@20 difference [95 % CI] | MRR@20 difference [95 % CI] |");
    println!("|---|---|---|");
    for r in base {
        let (dh, dm) = paired_bootstrap(&aff.sessions, &r.sessions, RESAMPLES, 0.95, SEED);
        println!(
            "| {} | {:+.4} [{:+.4}, {:+.4}] | {:+.4} [{:+.4}, {:+.4}] |",
            r.name,
            aff.tally.hr() - r.tally.hr(),
            dh.low,
            dh.high,
            aff.tally.mrr() - r.tally.mrr(),
            dm.low,
            dm.high
        );
    }
    println!(
        "\nmodel ({split}, k = {default_k}): {} items, {} next / {} together pairs; {} bytes raw, {} bytes brotli -q 11; build + encode {:.0} ms",
        built.model.len(),
        built.model.pairs(affinity::recommend::Relation::Next),
        built.model.pairs(affinity::recommend::Relation::ViewedTogether),
        built.raw,
        built.brotli.map_or("n/a".into(), |b| b.to_string()),
        built.build_ms
    );
    if let Some(br) = built.brotli {
        check(br <= 300_000, format!("model ≤ 300 KB brotli: {br} bytes"));
    }
    let train_full = Train::new(&full_train);

    // ---- regression against session-rec's saved lists.
    println!("\nRegression vs session-rec's saved top lists (trained on train_full)");
    println!("| method | events | top-1 agreement | top-20 overlap |");
    println!("|---|---|---|---|");
    for (name, n, top1, overlap) in regression(&train_full, &test) {
        println!("| {name} | {n} | {:.1} % | {overlap:.3} |", top1 * 100.0);
        if name == "SR" {
            check(
                top1 >= 0.95,
                format!("SR top-1 agreement ≥ 95 %: {:.1} %", top1 * 100.0),
            );
        }
    }

    // ---- minimum support k: validation always, test only with `--test`; the model's pairs and
    // bytes are those of the train_full model (what a shop of this size would ship).
    println!("\nMinimum support k (a figure ships when ≥ k sources support it)");
    println!("| k | valid HR@20 | valid MRR@20 | test HR@20 | test MRR@20 | next pairs | together pairs | raw bytes | brotli bytes |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let tr_train = Train::new(&tr);
    let b_tr = builder(&tr, 1, next_norm, params);
    let mut b_full = builder(&full_train, 1, next_norm, params);
    for k in [1u32, 2, 3, 5] {
        let mut bt = b_tr.clone();
        bt.min_support(k);
        let v = ship(&bt, &tr_train, Instant::now());
        let vt = total(&alls(&evaluate(
            &mut Affinity {
                built: &v,
                train: &tr_train,
            },
            &tr_train,
            &valid,
        )));
        b_full.min_support(k);
        let f = ship(&b_full, &train_full, Instant::now());
        let ft = on_test.then(|| {
            total(&alls(&evaluate(
                &mut Affinity {
                    built: &f,
                    train: &train_full,
                },
                &train_full,
                &test,
            )))
        });
        let cell = |x: Option<f64>| x.map_or("–".to_string(), |x| format!("{x:.4}"));
        println!(
            "| {k} | {:.4} | {:.4} | {} | {} | {} | {} | {} | {} |",
            vt.hr(),
            vt.mrr(),
            cell(ft.map(|t| t.hr())),
            cell(ft.map(|t| t.mrr())),
            f.model.pairs(affinity::recommend::Relation::Next),
            f.model.pairs(affinity::recommend::Relation::ViewedTogether),
            f.raw,
            f.brotli.map_or("n/a".into(), |b| b.to_string())
        );
    }

    // ---- Diginetica smoke test.
    let (dtr, dte) = load_diginetica();
    let dtrain = Train::new(&dtr);
    let cases: usize = dte.iter().map(|s| s.items.len() - 1).sum();
    println!(
        "\nDiginetica sample (SR-GNN preprocessing): {} train sessions, {} test sessions, {} items, {} cases",
        dtr.len(),
        dte.len(),
        dtrain.n(),
        cases
    );
    let mut drows = baselines(&dtrain, &dte);
    let db = builder(&dtr, 1, next_norm, params);
    let dbuilt = ship(&db, &dtrain, Instant::now());
    drows.push(affinity_row("Affinity (k=1)", &dbuilt, &dtrain, &dte));
    print_table(
        "diginetica-sample: smoke test, far too small for quality claims",
        &drows,
        &[],
    );
    check(
        cases > 0 && drows.iter().all(|r| r.tally.cases as usize == cases),
        "diginetica pipeline runs".into(),
    );

    println!("\nevaluation took {:.1} s", started.elapsed().as_secs_f64());
    if !failures.is_empty() {
        eprintln!(
            "{} check(s) failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
        std::process::exit(1);
    }
}
