//! The MBG/CNBD-k model (Reutterer, Platzer & Schröder 2021, "Leveraging purchase regularity for
//! predicting customer behavior the easy way"): BG/NBD's dropout with regular purchase timing.
//!
//! While active a customer's inter-purchase times are Erlang-k with rate λ (every k-th event of
//! a Poisson process of rate λ, so the mean gap is k/λ and larger k means more regular timing),
//! λ ~ Gamma(r, α). At each purchase, the first included (the "M" of MBG, Batislam et al. 2007),
//! the customer drops out with probability p ~ Beta(a, b). k = 1 is the MBG/NBD.
//!
//! Given λ and p, a customer with x repeats at gaps Δ₁…Δₓ (summing to tₓ), observed to T, has
//! likelihood (1−p)ˣ ∏ λᵏΔᵢᵏ⁻¹e^(−λΔᵢ)/(k−1)! · [(1−p) S(T−tₓ) + p], with
//! S(u) = e^(−λu) Σⱼ₌₀^(k−1) (λu)ʲ/j! the chance of no k-th event within u. Integrating λ and p
//! out in closed form (Gamma and Beta integrals):
//!
//! L = C · αʳ/Γ(r) · { B(a, b+x+1)/B(a,b) · Σⱼ (T−tₓ)ʲ/j! · Γ(r+kx+j)/(α+T)^(r+kx+j)
//!                    + B(a+1, b+x)/B(a,b) · Γ(r+kx)/(α+tₓ)^(r+kx) },
//!
//! where C = ∏ Δᵢᵏ⁻¹ / ((k−1)!)ˣ does not involve (r, α, a, b): the fit for a given k ignores it,
//! and [`MbgCnbd::interval_log_term`] adds it back when likelihoods of different k are compared
//! (it needs Σ ln Δᵢ, a summary beyond (x, tₓ, T)). Every term is worked in logarithms.

#[allow(unused_imports)]
use crate::prelude::*;

use super::special::{ln_beta, ln_beta_inc, ln_gamma};
use super::{fit_positive, fit_summaries, log_add, Customer, Fitted, Rows};
use crate::error::invalid;
use crate::Error;

/// MBG/CNBD-k parameters: regularity `k`, purchase-rate Gamma(`r`, `alpha`), dropout
/// Beta(`a`, `b`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MbgCnbd {
    /// Erlang order of the inter-purchase times (1: Poisson purchasing, the MBG/NBD).
    pub k: u32,
    /// Shape of the Gamma distribution of the underlying event rates.
    pub r: f64,
    /// Scale (rate) of that Gamma distribution, in the time unit.
    pub alpha: f64,
    /// First parameter of the Beta distribution of dropout probabilities.
    pub a: f64,
    /// Second parameter of the Beta distribution of dropout probabilities.
    pub b: f64,
}

/// Per-frequency terms: ln Γ(r+kx), ln B(a, b+x+1) − ln B(a, b), ln B(a+1, b+x) − ln B(a, b).
#[derive(Debug, Clone, Copy)]
struct Terms {
    gamma: f64,
    alive: f64,
    dead: f64,
}

fn terms(m: &MbgCnbd, x: f64) -> Terms {
    frequency_terms(m.r, f64::from(m.k), m.a, m.b, x)
}

/// [`Terms`] for purchase-rate shape `r`, timing shape `k` and dropout Beta(`a`, `b`).
fn frequency_terms(r: f64, k: f64, a: f64, b: f64, x: f64) -> Terms {
    let ln_ab = ln_beta(a, b);
    Terms {
        gamma: ln_gamma(r + k * x),
        alive: ln_beta(a, b + x + 1.0) - ln_ab,
        dead: ln_beta(a + 1.0, b + x) - ln_ab,
    }
}

/// P(alive) from the logarithms of the two likelihood parts (0 where both vanish).
fn alive_share(alive: f64, dead: f64) -> f64 {
    let p = 1.0 / (1.0 + (dead - alive).exp());
    if p.is_nan() {
        0.0
    } else {
        p
    }
}

/// ln of the two parts of one customer's likelihood without C and without the αʳ/Γ(r) factor:
/// (still active at T, dropped out at the last purchase).
fn log_parts(m: &MbgCnbd, c: &Customer, f: Terms) -> (f64, f64) {
    let x = f64::from(c.frequency);
    let rkx = m.r + f64::from(m.k) * x;
    let gap = c.age - c.recency;
    // Σⱼ (T−tₓ)ʲ/j! Γ(r+kx+j)/(α+T)^(r+kx+j), term by term in logs.
    let mut sum = f.gamma - rkx * (m.alpha + c.age).ln();
    let mut term = sum;
    if gap > 0.0 {
        let ln_ratio = (gap / (m.alpha + c.age)).ln();
        for j in 1..m.k {
            let j = f64::from(j);
            // term_j / term_{j−1} = (T−tₓ)/(α+T) · (r+kx+j−1)/j
            term += ln_ratio + ((rkx + j - 1.0) / j).ln();
            sum = log_add(sum, term);
        }
    }
    let alive = f.alive + sum;
    let dead = f.dead + f.gamma - rkx * (m.alpha + c.recency).ln();
    (alive, dead)
}

impl MbgCnbd {
    /// Largest regularity accepted (the Erlang sums have k terms).
    pub const MAX_K: u32 = 64;

    /// Maximum-likelihood fit of (r, α, a, b) for a given regularity `k` (1 ≤ k ≤ [`MbgCnbd::MAX_K`]).
    /// The log-likelihood reported leaves out the constant C (see the module notes).
    pub fn fit(customers: &[Customer], k: u32) -> Result<Fitted<MbgCnbd>, Error> {
        if !(1..=Self::MAX_K).contains(&k) {
            return Err(invalid!(
                "fc10",
                "the regularity k must be between 1 and {}, not {k}",
                Self::MAX_K
            ));
        }
        fit_summaries(
            customers,
            |p: &[f64]| MbgCnbd {
                k,
                r: p[0],
                alpha: p[1],
                a: p[2],
                b: p[3],
            },
            MbgCnbd::rows_log_likelihood,
        )
    }

    /// Log-likelihood of the summaries without the constant C (summed).
    pub fn log_likelihood(&self, customers: &[Customer]) -> Result<f64, Error> {
        Ok(self.rows_log_likelihood(&Rows::new(customers)?))
    }

    /// ln C of one customer for regularity `k`: (k−1) Σ ln Δᵢ − x ln (k−1)!, from the sum of
    /// the logarithms of the x inter-purchase gaps (in the model's time unit). Add it to
    /// [`MbgCnbd::log_likelihood`] to compare fits of different k.
    pub fn interval_log_term(k: u32, frequency: u32, sum_log_gaps: f64) -> f64 {
        let k1 = f64::from(k.max(1) - 1);
        k1 * sum_log_gaps - f64::from(frequency) * ln_gamma(k1 + 1.0)
    }

    fn rows_log_likelihood(&self, rows: &Rows) -> f64 {
        let head = self.r * self.alpha.ln() - ln_gamma(self.r);
        rows.sum_by_frequency(
            |x| terms(self, x),
            |c, f| {
                let (alive, dead) = log_parts(self, c, f);
                head + log_add(alive, dead)
            },
        )
    }

    /// P(active at T | x, tₓ, T): the share of the likelihood in which the customer did not drop
    /// out at the last purchase (nor at the first).
    pub fn probability_alive(&self, customer: &Customer) -> f64 {
        let f = terms(self, f64::from(customer.frequency));
        let (alive, dead) = log_parts(self, customer, f);
        alive_share(alive, dead)
    }

    /// P(at least one purchase in (T, T + t] | x, tₓ, T).
    ///
    /// Active at T, the customer has had m ∈ {0, …, k−1} events of the underlying Poisson
    /// process since the last purchase, with posterior weight ∝ (T−tₓ)ᵐ/m! · Γ(r+kx+m)/(α+T)ᵐ,
    /// and given m, λ ~ Gamma(r+kx+m, α+T). The next purchase comes within t when at least k−m
    /// events fall in t; the number that do is negative binomial with shape r+kx+m and
    /// success probability (α+T)/(α+T+t). Dropout only happens at purchases, so
    /// P = P(alive) · Σₘ wₘ · P(NB(r+kx+m) ≥ k−m).
    pub fn probability_any_purchase(&self, customer: &Customer, t: f64) -> f64 {
        if t.is_nan() || t <= 0.0 {
            return 0.0;
        }
        let c = customer;
        let rkx = self.r + f64::from(self.k) * f64::from(c.frequency);
        let a_t = self.alpha + c.age;
        let gap = c.age - c.recency;
        // ln q and ln(1 − q) of the negative binomial, q = (α+T)/(α+T+t).
        let ln_q = -(t / a_t).ln_1p();
        let ln_1q = (t / (a_t + t)).ln();
        let mut log_w = 0.0; // ln wₘ up to a constant (m = 0: 1)
        let mut total_w = f64::NEG_INFINITY;
        let mut none = f64::NEG_INFINITY; // ln Σₘ wₘ P(NB < k−m)
        for m in 0..self.k {
            let mf = f64::from(m);
            if m > 0 {
                if gap <= 0.0 {
                    break;
                }
                log_w += (gap / a_t).ln() + ((rkx + mf - 1.0) / mf).ln();
            }
            total_w = log_add(total_w, log_w);
            let shape = rkx + mf;
            // P(NB(shape) = i) for i < k − m: q^shape, then × (shape+i)/(i+1) (1 − q).
            let mut ln_pmf = shape * ln_q;
            let mut below = ln_pmf;
            for i in 1..(self.k - m) {
                let i = f64::from(i);
                ln_pmf += ((shape + i - 1.0) / i).ln() + ln_1q;
                below = log_add(below, ln_pmf);
            }
            none = log_add(none, log_w + below);
        }
        let p_none_alive = (none - total_w).exp().clamp(0.0, 1.0);
        (self.probability_alive(c) * (1.0 - p_none_alive)).clamp(0.0, 1.0)
    }
}

/// MBG/CNBD-k with the regularity relaxed to any k > 0 and fitted with the other parameters:
/// gamma inter-purchase times of shape k and rate λ, the same k for every customer (so k < 1,
/// clumpy buying, is allowed as well as regular k > 1), λ ~ Gamma(r, α), dropout as in MBG.
///
/// A simpler, maximum-likelihood relative of Platzer & Reutterer's Pareto/GGG (2016), whose
/// regularity varies by customer and which is estimated by MCMC. With S(u) = Q(k, λu) the gamma
/// survival, the λ-integral of the "still active" part is an incomplete beta function:
/// E[λᵏˣ e^(−λtₓ) Q(k, λ(T−tₓ))] = αʳ Γ(r+kx) / (Γ(r) (α+tₓ)^(r+kx)) · I_z(r+kx, k) with
/// z = (α+tₓ)/(α+T), which at integer k is [`MbgCnbd`]'s Erlang sum. The interval constant now
/// depends on a fitted parameter, so the fit needs the cohort's Σ ln Δ over all gaps; the
/// log-likelihood includes it, (k−1) Σ ln Δ − (Σ x) ln Γ(k).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MbgGamma {
    /// Shape of the gamma inter-purchase times (1: Poisson purchasing, > 1 regular, < 1 clumpy).
    pub k: f64,
    /// Shape of the Gamma distribution of the purchase-process rates.
    pub r: f64,
    /// Scale (rate) of that Gamma distribution, in the time unit.
    pub alpha: f64,
    /// First parameter of the Beta distribution of dropout probabilities.
    pub a: f64,
    /// Second parameter of the Beta distribution of dropout probabilities.
    pub b: f64,
}

impl MbgGamma {
    /// Maximum-likelihood fit of (k, r, α, a, b) to customer summaries and the sum over all of
    /// them of the logarithms of their inter-purchase gaps (in the summaries' time unit).
    pub fn fit(customers: &[Customer], total_log_gaps: f64) -> Result<Fitted<MbgGamma>, Error> {
        if !total_log_gaps.is_finite() {
            return Err(invalid!(
                "fc11",
                "the sum of log inter-purchase gaps must be a finite number"
            ));
        }
        let rows = Rows::new(customers)?;
        let repeats: f64 = customers.iter().map(|c| f64::from(c.frequency)).sum();
        let model = |p: &[f64]| MbgGamma {
            k: p[0],
            r: p[1],
            alpha: p[2],
            a: p[3],
            b: p[4],
        };
        fit_positive(&[1.0; 5], model, |m| {
            m.rows_log_likelihood(&rows) + m.interval_log_likelihood(repeats, total_log_gaps)
        })
    }

    /// Maximum-likelihood fit of (r, α, a, b) with the timing shape held at `k` (> 0, finite);
    /// the reported log-likelihood leaves out the interval constant, as [`MbgCnbd::fit`] does.
    pub fn fit_given_k(customers: &[Customer], k: f64) -> Result<Fitted<MbgGamma>, Error> {
        if !(k.is_finite() && k > 0.0) {
            return Err(invalid!(
                "fc12",
                "the timing shape k must be a positive number"
            ));
        }
        fit_summaries(
            customers,
            |p: &[f64]| MbgGamma {
                k,
                r: p[0],
                alpha: p[1],
                a: p[2],
                b: p[3],
            },
            MbgGamma::rows_log_likelihood,
        )
    }

    /// Log-likelihood of the summaries, the interval constant included (`total_log_gaps` as in
    /// [`MbgGamma::fit`]).
    pub fn log_likelihood(
        &self,
        customers: &[Customer],
        total_log_gaps: f64,
    ) -> Result<f64, Error> {
        let repeats: f64 = customers.iter().map(|c| f64::from(c.frequency)).sum();
        Ok(self.rows_log_likelihood(&Rows::new(customers)?)
            + self.interval_log_likelihood(repeats, total_log_gaps))
    }

    fn interval_log_likelihood(&self, repeats: f64, total_log_gaps: f64) -> f64 {
        (self.k - 1.0) * total_log_gaps - repeats * ln_gamma(self.k)
    }

    fn rows_log_likelihood(&self, rows: &Rows) -> f64 {
        let head = self.r * self.alpha.ln() - ln_gamma(self.r);
        rows.sum_by_frequency(
            |x| frequency_terms(self.r, self.k, self.a, self.b, x),
            |c, terms| {
                let (alive, dead) = self.log_parts(c, terms);
                head + log_add(alive, dead)
            },
        )
    }

    /// (still active at T, dropped out at the last purchase), without αʳ/Γ(r).
    fn log_parts(&self, c: &Customer, f: Terms) -> (f64, f64) {
        let rkx = self.r + self.k * f64::from(c.frequency);
        let common = f.gamma - rkx * (self.alpha + c.recency).ln();
        let z = (self.alpha + c.recency) / (self.alpha + c.age);
        (
            f.alive + common + ln_beta_inc(rkx, self.k, z),
            f.dead + common,
        )
    }

    fn parts(&self, c: &Customer) -> (f64, f64) {
        let f = frequency_terms(self.r, self.k, self.a, self.b, f64::from(c.frequency));
        self.log_parts(c, f)
    }

    /// P(active at T | x, tₓ, T).
    pub fn probability_alive(&self, customer: &Customer) -> f64 {
        let (alive, dead) = self.parts(customer);
        alive_share(alive, dead)
    }

    /// P(at least one purchase in (T, T + t] | x, tₓ, T): active at T, the open gap exceeds
    /// T − tₓ; it ends within t with probability 1 − E[Q(k, λ(T−tₓ+t))] / E[Q(k, λ(T−tₓ))]
    /// under the λ-weights of the history, i.e. 1 − I_z′(r+kx, k) / I_z(r+kx, k) with
    /// z′ = (α+tₓ)/(α+T+t).
    pub fn probability_any_purchase(&self, customer: &Customer, t: f64) -> f64 {
        if t.is_nan() || t <= 0.0 {
            return 0.0;
        }
        let c = customer;
        let rkx = self.r + self.k * f64::from(c.frequency);
        let near = self.alpha + c.recency;
        let now = ln_beta_inc(rkx, self.k, near / (self.alpha + c.age));
        let later = ln_beta_inc(rkx, self.k, near / (self.alpha + c.age + t));
        let none = (later - now).exp();
        let p = if none.is_finite() {
            1.0 - none.min(1.0)
        } else {
            1.0
        };
        (self.probability_alive(c) * p).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::special::integrate_unit;
    use super::*;

    fn gamma_pdf(v: f64, shape: f64, rate: f64) -> f64 {
        (shape * rate.ln() + (shape - 1.0) * v.ln() - rate * v - ln_gamma(shape)).exp()
    }

    fn beta_pdf(p: f64, q: f64, a: f64, b: f64) -> f64 {
        ((a - 1.0) * p.ln() + (b - 1.0) * q.ln() - ln_beta(a, b)).exp()
    }

    /// P(no k-th event within u | λ) = e^(−λu) Σⱼ<k (λu)ʲ/j!.
    fn erlang_survival(k: u32, lu: f64) -> f64 {
        let mut term = (-lu).exp();
        let mut sum = term;
        for j in 1..k {
            term *= lu / f64::from(j);
            sum += term;
        }
        sum
    }

    /// E over λ ~ Gamma(r, α) and p ~ Beta(a, b) of f(λ, p), by a plain double integral.
    fn double_integral(m: &MbgCnbd, f: impl Fn(f64, f64, f64) -> f64) -> f64 {
        integrate_unit(|u, v| {
            let (l, dl) = (u / v, 1.0 / (v * v));
            dl * gamma_pdf(l, m.r, m.alpha)
                * integrate_unit(|p, q| beta_pdf(p, q, m.a, m.b) * f(l, p, q))
        })
    }

    const MODEL: MbgCnbd = MbgCnbd {
        k: 3,
        r: 1.3,
        alpha: 6.0,
        a: 1.7,
        b: 3.5,
    };

    /// [`MODEL`] with gamma timing of shape `k`.
    fn gamma_model(k: f64) -> MbgGamma {
        MbgGamma {
            k,
            r: MODEL.r,
            alpha: MODEL.alpha,
            a: MODEL.a,
            b: MODEL.b,
        }
    }

    const CASES: [(u32, f64, f64); 4] = [
        (0, 0.0, 30.0),
        (2, 20.0, 38.0),
        (5, 30.0, 30.0),
        (1, 3.0, 35.0),
    ];

    #[test]
    fn likelihood_matches_a_double_integral() {
        for k in [1, 2, 3, 5] {
            let m = MbgCnbd { k, ..MODEL };
            for (x, tx, age) in CASES {
                let c = Customer::new(x, tx, age).unwrap();
                let xf = f64::from(x);
                let want = double_integral(&m, |l, p, q| {
                    q.powf(xf)
                        * l.powf(f64::from(k) * xf)
                        * (-l * tx).exp()
                        * (q * erlang_survival(k, l * (age - tx)) + p)
                })
                .ln();
                let got = m.log_likelihood(&[c]).unwrap();
                assert!((got - want).abs() < 1e-7, "k {k} x {x}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn alive_and_any_purchase_match_double_integrals() {
        let t = 13.0;
        for k in [1, 3] {
            let m = MbgCnbd { k, ..MODEL };
            for (x, tx, age) in CASES {
                let c = Customer::new(x, tx, age).unwrap();
                let (xf, kf, gap) = (f64::from(x), f64::from(k), age - tx);
                let past = |l: f64, q: f64| q.powf(xf) * l.powf(kf * xf) * (-l * tx).exp();
                let total = double_integral(&m, |l, p, q| {
                    past(l, q) * (q * erlang_survival(k, l * gap) + p)
                });
                let alive =
                    double_integral(&m, |l, _, q| past(l, q) * q * erlang_survival(k, l * gap));
                // Active at T with m events since the last purchase (weight e^(−λu)(λu)ᵐ/m!),
                // a purchase within t needs k − m more events: 1 − P(Poisson(λt) < k − m).
                let buys = double_integral(&m, |l, _, q| {
                    let mut phase = (-l * gap).exp();
                    let mut s = 0.0;
                    for j in 0..k {
                        if j > 0 {
                            phase *= l * gap / f64::from(j);
                        }
                        s += phase * (1.0 - erlang_survival(k - j, l * t));
                    }
                    past(l, q) * q * s
                });
                let (pa, pb) = (m.probability_alive(&c), m.probability_any_purchase(&c, t));
                assert!((pa - alive / total).abs() < 1e-7, "alive k {k} x {x}: {pa}");
                assert!((pb - buys / total).abs() < 1e-7, "buys k {k} x {x}: {pb}");
            }
        }
    }

    #[test]
    fn alive_at_a_purchase_on_the_last_day_is_the_beta_posterior() {
        // A customer whose last purchase is at T is alive unless they dropped out at it: the
        // posterior mean of 1 − p, (b+x)/(a+b+x) (λ integrates out of both parts alike).
        let m = MODEL;
        let c = Customer::new(4, 30.0, 30.0).unwrap();
        let want = (MODEL.b + 4.0) / (MODEL.a + MODEL.b + 4.0);
        assert!((m.probability_alive(&c) - want).abs() < 1e-12);
    }

    #[test]
    fn gamma_timing_at_integer_k_is_the_erlang_model() {
        let customers: Vec<Customer> = CASES
            .iter()
            .map(|(x, tx, age)| Customer::new(*x, *tx, *age).unwrap())
            .collect();
        let total_log_gaps = 7.5;
        let repeats: u32 = customers.iter().map(|c| c.frequency).sum();
        for k in [1u32, 2, 4] {
            let erlang = MbgCnbd { k, ..MODEL };
            let gamma = gamma_model(f64::from(k));
            // Σ over customers of the interval term is (k−1) Σ ln Δ − (Σ x) ln (k−1)!.
            let want = erlang.log_likelihood(&customers).unwrap()
                + MbgCnbd::interval_log_term(k, repeats, total_log_gaps);
            let got = gamma.log_likelihood(&customers, total_log_gaps).unwrap();
            assert!((got - want).abs() < 1e-9, "k {k}: {got} vs {want}");
            for c in &customers {
                let (a, b) = (erlang.probability_alive(c), gamma.probability_alive(c));
                assert!((a - b).abs() < 1e-10, "alive k {k}: {a} vs {b}");
                let (a, b) = (
                    erlang.probability_any_purchase(c, 13.0),
                    gamma.probability_any_purchase(c, 13.0),
                );
                assert!((a - b).abs() < 1e-10, "any k {k}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn gamma_timing_likelihood_matches_a_double_integral_at_fractional_k() {
        // The λ-integral of the "still active" part, E[λᵏˣ e^(−λtₓ) Q(k, λu)], with Q written as
        // ∫_λu^∞ y^(k−1) e^(−y)/Γ(k) dy: a double integral over λ and y, at k = 0.6 (clumpy) and
        // 1.7. The dropout part integrates in Beta functions.
        for k in [0.6, 1.7] {
            let m = gamma_model(k);
            for (x, tx, age) in CASES {
                let c = Customer::new(x, tx, age).unwrap();
                let (xf, u) = (f64::from(x), age - tx);
                let active = integrate_unit(|p, q| {
                    let (l, dl) = (p / q, 1.0 / (q * q));
                    let survival = if u > 0.0 {
                        // y = λu + v/(1−v)
                        integrate_unit(|v, w| {
                            let y = l * u + v / w;
                            ((k - 1.0) * y.ln() - y - ln_gamma(k)).exp() / (w * w)
                        })
                    } else {
                        1.0
                    };
                    dl * gamma_pdf(l, m.r, m.alpha) * l.powf(k * xf) * (-l * tx).exp() * survival
                });
                let gone = (m.r * m.alpha.ln() - ln_gamma(m.r) + ln_gamma(m.r + k * xf)
                    - (m.r + k * xf) * (m.alpha + tx).ln())
                .exp();
                let ln_ab = ln_beta(m.a, m.b);
                let want = ((ln_beta(m.a, m.b + xf + 1.0) - ln_ab).exp() * active
                    + (ln_beta(m.a + 1.0, m.b + xf) - ln_ab).exp() * gone)
                    .ln();
                // No gaps to add here: the interval constant is checked through the fit's total.
                let got = m.log_likelihood(&[c], 0.0).unwrap() + xf * ln_gamma(k);
                assert!((got - want).abs() < 1e-7, "k {k} x {x}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn gamma_timing_is_continuous_in_k() {
        // Between the Erlang orders the answers move smoothly: k = 1 ± 1e-6 against k = 1.
        let at = gamma_model;
        for (x, tx, age) in CASES {
            let c = Customer::new(x, tx, age).unwrap();
            let one = at(1.0).probability_any_purchase(&c, 13.0);
            for k in [1.0 - 1e-6, 1.0 + 1e-6] {
                let p = at(k).probability_any_purchase(&c, 13.0);
                assert!((p - one).abs() < 1e-5, "x {x} k {k}: {p} vs {one}");
            }
        }
    }

    #[test]
    fn interval_term_is_the_erlang_constant() {
        // k = 3, gaps 2 and 5: 2 ln 2 + 2 ln 5 − 2 ln 2! .
        let got = MbgCnbd::interval_log_term(3, 2, 2f64.ln() + 5f64.ln());
        let want = 2.0 * 2f64.ln() + 2.0 * 5f64.ln() - 2.0 * 2f64.ln();
        assert!((got - want).abs() < 1e-12);
        assert!(MbgCnbd::interval_log_term(1, 7, 3.0).abs() < 1e-12);
        assert!(MbgCnbd::fit(&[Customer::new(0, 0.0, 1.0).unwrap()], 0).is_err());
    }
}
