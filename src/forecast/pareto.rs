//! The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987), in the forms of Fader & Hardie's
//! note "A note on deriving the Pareto/NBD model and related expressions" (2005).
//!
//! While active a customer buys at Poisson rate λ ~ Gamma(r, α) and stays active for an
//! exponential lifetime with rate μ ~ Gamma(s, β). The likelihood's A₀ term has a ₂F₁ whose
//! series converges slowly near 1; Euler's transformation turns it into ₂F₁(1, ·; ·; z), a series
//! of positive, shrinking terms, and every term is combined in logarithms.

#[allow(unused_imports)]
use crate::prelude::*;

use super::special::{hyp2f1, integrate_unit, ln_gamma};
use super::{fit_summaries, Customer, Fitted, RepeatBuying, Rows};
use crate::Error;

/// Pareto/NBD parameters: purchase-rate Gamma(`r`, `alpha`), dropout-rate Gamma(`s`, `beta`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParetoNbd {
    /// Shape of the Gamma distribution of purchase rates.
    pub r: f64,
    /// Scale (rate) of the Gamma distribution of purchase rates, in the time unit.
    pub alpha: f64,
    /// Shape of the Gamma distribution of dropout rates.
    pub s: f64,
    /// Scale (rate) of the Gamma distribution of dropout rates, in the time unit.
    pub beta: f64,
}

impl ParetoNbd {
    /// Maximum-likelihood fit to customer summaries.
    pub fn fit(customers: &[Customer]) -> Result<Fitted<ParetoNbd>, Error> {
        fit_summaries(
            customers,
            |p: &[f64]| ParetoNbd {
                r: p[0],
                alpha: p[1],
                s: p[2],
                beta: p[3],
            },
            ParetoNbd::rows_log_likelihood,
        )
    }

    /// Log-likelihood of the summaries (equation 2 of the note, summed).
    pub fn log_likelihood(&self, customers: &[Customer]) -> Result<f64, Error> {
        Ok(self.rows_log_likelihood(&Rows::new(customers)?))
    }

    fn rows_log_likelihood(&self, rows: &Rows) -> f64 {
        let head = self.r * self.alpha.ln() + self.s * self.beta.ln() - ln_gamma(self.r);
        rows.sum_by_frequency(
            |x| ln_gamma(self.r + x),
            |c, gamma| {
                let body = match self.log_parts(c) {
                    (l0, Some(la)) => super::log_add(l0, la),
                    (l0, None) => l0,
                };
                head + gamma + body
            },
        )
    }

    /// ln of the two parts of the likelihood's bracket: the "still active at T" part
    /// 1/((α+T)^(r+x) (β+T)^s) and s/(r+s+x) · A₀ (`None` when A₀ = 0, i.e. tₓ = T).
    fn log_parts(&self, c: &Customer) -> (f64, Option<f64>) {
        let x = f64::from(c.frequency);
        let (r, s) = (self.r, self.s);
        let l0 = -(r + x) * (self.alpha + c.age).ln() - s * (self.beta + c.age).ln();
        let l1 = self.log_a0_term(x, c.recency);
        let l2 = self.log_a0_term(x, c.age);
        let gap = l2 - l1;
        if gap >= 0.0 || !gap.is_finite() {
            return (l0, None);
        }
        // ln(e^l1 − e^l2) = l1 + ln(1 − e^(l2−l1))
        let la = (s / (r + s + x)).ln() + l1 + (-gap.exp()).ln_1p();
        (l0, Some(la))
    }

    /// ln of one A₀ term at time u (u = tₓ or T):
    /// α ≥ β: ₂F₁(r+s+x, s+1; r+s+x+1; (α−β)/(α+u)) / (α+u)^(r+s+x)
    ///        = ₂F₁(1, r+x; r+s+x+1; z) (β+u)^(−s) (α+u)^(−(r+x));
    /// α < β: ₂F₁(r+s+x, r+x; r+s+x+1; (β−α)/(β+u)) / (β+u)^(r+s+x)
    ///        = ₂F₁(1, s+1; r+s+x+1; z) (α+u)^(1−r−x) (β+u)^(−(s+1)).
    fn log_a0_term(&self, x: f64, u: f64) -> f64 {
        let (r, s, alpha, beta) = (self.r, self.s, self.alpha, self.beta);
        let m = r + s + x;
        if alpha >= beta {
            let z = (alpha - beta) / (alpha + u);
            hyp2f1(1.0, r + x, m + 1.0, z).ln() - s * (beta + u).ln() - (r + x) * (alpha + u).ln()
        } else {
            let z = (beta - alpha) / (beta + u);
            hyp2f1(1.0, s + 1.0, m + 1.0, z).ln() + (1.0 - r - x) * (alpha + u).ln()
                - (s + 1.0) * (beta + u).ln()
        }
    }
}

impl ParetoNbd {
    /// P(at least one purchase in (T, T + t] | x, tₓ, T): the question "will this customer buy
    /// again" asks, where [`RepeatBuying::expected_purchases`] answers "how many".
    ///
    /// Active at T, the posterior rates are independent, λ ~ Gamma(r+x, α+T) and
    /// μ ~ Gamma(s, β+T); given them the first event after T is a purchase before dropout and
    /// before T + t with probability ∫₀ᵗ λ e^(−(λ+μ)u) du. Taking the expectation inside,
    ///
    /// P = P(alive) · ∫₀ᵗ (r+x)/(α+T) · ((α+T)/(α+T+u))^(r+x+1) · ((β+T)/(β+T+u))^s du,
    ///
    /// evaluated with w = ln(α+T+u) (a smooth integrand even for t ≫ T) by tanh-sinh quadrature.
    /// Its derivative at t = 0 is the purchase rate P(alive)·(r+x)/(α+T), like the expectation's.
    pub fn probability_any_purchase(&self, customer: &Customer, t: f64) -> f64 {
        if t.is_nan() || t <= 0.0 {
            return 0.0;
        }
        let c = customer;
        let rx = self.r + f64::from(c.frequency);
        let (a, b) = (self.alpha + c.age, self.beta + c.age);
        // w runs over [ln A, ln(A + t)]: u = A (e^(pL) − 1) for p in [0, 1], L = ln(1 + t/A).
        let span = (t / a).ln_1p();
        let conditional = integrate_unit(|p, _| {
            let w = p * span;
            let u = a * w.exp_m1();
            span * rx * (-rx * w - self.s * (u / b).ln_1p()).exp()
        });
        (conditional.clamp(0.0, 1.0) * self.probability_alive(c)).clamp(0.0, 1.0)
    }
}

impl RepeatBuying for ParetoNbd {
    /// E[Y(t) | x, tₓ, T] = (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)] · P(alive)
    /// (the limit (r+x)(β+T)/(α+T) · ln((β+T+t)/(β+T)) · P(alive) at s = 1).
    fn expected_purchases(&self, customer: &Customer, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let c = customer;
        let x = f64::from(c.frequency);
        let ln_ratio = ((self.beta + c.age) / (self.beta + c.age + t)).ln();
        let s1 = self.s - 1.0;
        // (1 − q^(s−1)) / (s − 1) → −ln q as s → 1
        let shape = if s1.abs() < 1e-9 {
            -ln_ratio
        } else {
            -(s1 * ln_ratio).exp_m1() / s1
        };
        (self.r + x) * (self.beta + c.age) / (self.alpha + c.age)
            * shape
            * self.probability_alive(c)
    }

    /// P(active at T | x, tₓ, T) = 1 / (1 + s/(r+s+x) (α+T)^(r+x) (β+T)^s A₀).
    fn probability_alive(&self, customer: &Customer) -> f64 {
        match self.log_parts(customer) {
            (l0, Some(la)) => 1.0 / (1.0 + (la - l0).exp()),
            (_, None) => 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gamma(shape, rate) density.
    fn gamma_pdf(v: f64, shape: f64, rate: f64) -> f64 {
        (shape * rate.ln() + (shape - 1.0) * v.ln() - rate * v - ln_gamma(shape)).exp()
    }

    /// E[f(λ, μ)] over independent λ ~ Gamma(a1, b1), μ ~ Gamma(a2, b2) by a plain double
    /// integral (v = p/(1 − p) on each axis), independent of the one-dimensional form.
    fn double_integral(a1: f64, b1: f64, a2: f64, b2: f64, f: impl Fn(f64, f64) -> f64) -> f64 {
        integrate_unit(|p, q| {
            let (l, dl) = (p / q, 1.0 / (q * q));
            dl * gamma_pdf(l, a1, b1)
                * integrate_unit(|p2, q2| {
                    let (m, dm) = (p2 / q2, 1.0 / (q2 * q2));
                    dm * gamma_pdf(m, a2, b2) * f(l, m)
                })
        })
    }

    /// The published CDNOW fit, rounded (Fader & Hardie 2005).
    const MODEL: ParetoNbd = ParetoNbd {
        r: 0.55,
        alpha: 10.58,
        s: 0.61,
        beta: 11.67,
    };

    #[test]
    fn any_purchase_matches_a_double_integral_over_the_posterior() {
        let model = MODEL;
        for (x, tx, age, t) in [
            (0, 0.0, 30.0, 39.0),
            (2, 30.43, 38.86, 39.0),
            (7, 20.0, 35.0, 13.0),
        ] {
            let c = Customer::new(x, tx, age).unwrap();
            let rx = model.r + f64::from(x);
            let (a, b) = (model.alpha + age, model.beta + age);
            let want = model.probability_alive(&c)
                * double_integral(rx, a, model.s, b, |l, m| {
                    l / (l + m) * -(-(l + m) * t).exp_m1()
                });
            let got = model.probability_any_purchase(&c, t);
            assert!((got - want).abs() < 1e-6, "x {x}: {got} vs {want}");
        }
    }

    #[test]
    fn any_purchase_is_a_probability_below_the_expectation() {
        let model = MODEL;
        let c = Customer::new(3, 25.0, 38.0).unwrap();
        let mut last = 0.0;
        for t in [0.5, 1.0, 13.0, 39.0, 520.0, 1e6] {
            let p = model.probability_any_purchase(&c, t);
            assert!(p > last && p < 1.0, "t {t}: {p}");
            // P(N ≥ 1) ≤ E[N] (Markov)
            assert!(p <= model.expected_purchases(&c, t) + 1e-12, "t {t}");
            last = p;
        }
        // Near t = 0 both grow at the purchase rate P(alive)·(r+x)/(α+T).
        let h = 1e-4;
        let rate = model.probability_alive(&c) * (model.r + 3.0) / (model.alpha + 38.0);
        assert!((model.probability_any_purchase(&c, h) / h - rate).abs() < 1e-4 * rate);
        assert_eq!(model.probability_any_purchase(&c, 0.0), 0.0);
    }
}
