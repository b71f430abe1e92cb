//! The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987), in the forms of Fader & Hardie's
//! note "A note on deriving the Pareto/NBD model and related expressions" (2005).
//!
//! While active a customer buys at Poisson rate λ ~ Gamma(r, α) and stays active for an
//! exponential lifetime with rate μ ~ Gamma(s, β). The likelihood's A₀ term has a ₂F₁ whose
//! series converges slowly near 1; Euler's transformation turns it into ₂F₁(1, ·; ·; z), a series
//! of positive, shrinking terms, and every term is combined in logarithms.

#[allow(unused_imports)]
use crate::prelude::*;

use super::special::{hyp2f1, ln_gamma};
use super::{fit_positive, Customer, Fitted, RepeatBuying, Rows};
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
        let rows = Rows::new(customers)?;
        let model = |p: &[f64]| ParetoNbd {
            r: p[0],
            alpha: p[1],
            s: p[2],
            beta: p[3],
        };
        fit_positive(&[1.0; 4], model, |m| m.rows_log_likelihood(&rows))
    }

    /// Log-likelihood of the summaries (equation 2 of the note, summed).
    pub fn log_likelihood(&self, customers: &[Customer]) -> Result<f64, Error> {
        Ok(self.rows_log_likelihood(&Rows::new(customers)?))
    }

    fn rows_log_likelihood(&self, rows: &Rows) -> f64 {
        let mut total = 0.0;
        let mut cached: Option<(u32, f64)> = None;
        let head = self.r * self.alpha.ln() + self.s * self.beta.ln() - ln_gamma(self.r);
        for (c, n) in &rows.rows {
            let gamma = match cached {
                Some((x, g)) if x == c.frequency => g,
                _ => {
                    let g = ln_gamma(self.r + f64::from(c.frequency));
                    cached = Some((c.frequency, g));
                    g
                }
            };
            let (l0, la) = self.log_parts(c);
            let body = match la {
                Some(la) => super::log_add(l0, la),
                None => l0,
            };
            total += n * (head + gamma + body);
        }
        total
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
