//! The shifted-beta-geometric (sBG) model of contractual retention (Fader & Hardie 2007, "How to
//! project customer retention"; DERL from Fader & Hardie 2010).
//!
//! Each customer renews every period with a constant churn probability θ ~ Beta(a, b), so
//! P(T = t) = B(a+1, b+t−1)/B(a, b) and S(t) = B(a, b+t)/B(a, b), computed here with the paper's
//! recursions P(1) = a/(a+b), P(t) = (b+t−2)/(a+b+t−1) · P(t−1), S(t) = S(t−1) − P(t).

#[allow(unused_imports)]
use crate::prelude::*;

use super::fit_positive;
use super::Fitted;
use crate::error::invalid;
use crate::Error;

/// sBG parameters: churn probabilities across customers are Beta(`a`, `b`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sbg {
    /// First Beta parameter of the churn probability.
    pub a: f64,
    /// Second Beta parameter of the churn probability.
    pub b: f64,
}

/// Periods a discounted lifetime sums at most (it converges geometrically for a positive rate).
const LIFETIME_TERMS: u32 = 1_000_000;

impl Sbg {
    /// Maximum-likelihood fit to a cohort's survivor counts: `alive[0]` customers at the start,
    /// `alive[t]` still active after period t (non-increasing, at least two entries).
    pub fn fit(alive: &[f64]) -> Result<Fitted<Sbg>, Error> {
        if alive.len() < 2 {
            return Err(invalid!(
                "fc10",
                "the sBG model needs the cohort size and at least one period's survivors"
            ));
        }
        if alive.iter().any(|n| !(n.is_finite() && *n >= 0.0))
            || alive.windows(2).any(|w| w[1] > w[0])
        {
            return Err(invalid!(
                "fc11",
                "survivor counts must be non-negative and never increase"
            ));
        }
        let model = |v: &[f64]| Sbg { a: v[0], b: v[1] };
        fit_positive(&[1.0; 2], model, |m| m.log_likelihood(alive))
    }

    /// Log-likelihood of survivor counts: Σₜ (alive\[t−1\] − alive\[t\]) ln P(T=t) + alive\[n\] ln S(n).
    pub fn log_likelihood(&self, alive: &[f64]) -> f64 {
        let mut ll = 0.0;
        let mut p = 0.0;
        let mut s = 1.0;
        for t in 1..alive.len() {
            p = self.next_churn(t as u32, p);
            s -= p;
            let churned = alive[t - 1] - alive[t];
            if churned > 0.0 {
                ll += churned * p.ln();
            }
        }
        ll + alive[alive.len() - 1] * s.ln()
    }

    /// P(T = t) from P(T = t−1) (the recursion; `previous` is ignored for t = 1).
    fn next_churn(&self, t: u32, previous: f64) -> f64 {
        let (a, b, t) = (self.a, self.b, f64::from(t));
        if t <= 1.0 {
            a / (a + b)
        } else {
            previous * (b + t - 2.0) / (a + b + t - 1.0)
        }
    }

    /// P(T = t): the probability a new customer churns at the end of period t (t ≥ 1).
    pub fn churn_probability(&self, t: u32) -> f64 {
        (1..=t).fold(0.0, |p, k| self.next_churn(k, p))
    }

    /// S(t): the probability a new customer is still active after t periods.
    pub fn survival(&self, t: u32) -> f64 {
        let mut p = 0.0;
        let mut s = 1.0;
        for k in 1..=t {
            p = self.next_churn(k, p);
            s -= p;
        }
        s.max(0.0)
    }

    /// rₜ = S(t)/S(t−1) = (b+t−1)/(a+b+t−1): the share of period t−1's survivors who renew.
    pub fn retention(&self, t: u32) -> f64 {
        let t = f64::from(t);
        (self.b + t - 1.0) / (self.a + self.b + t - 1.0)
    }

    /// Expected survivors of a cohort of `initial` after each of periods 0..=`periods`.
    pub fn project(&self, initial: f64, periods: u32) -> Vec<f64> {
        let mut out = Vec::with_capacity(periods as usize + 1);
        let mut p = 0.0;
        let mut s = 1.0;
        out.push(initial);
        for k in 1..=periods {
            p = self.next_churn(k, p);
            s -= p;
            out.push(initial * s.max(0.0));
        }
        out
    }

    /// DERL: the discounted expected residual lifetime, in payments, of a customer who has just
    /// made their `renewals`-th payment (1 = just acquired), at discount rate `rate` (> 0) per
    /// period: Σ_{t≥n} S(t)/S(n−1) / (1+d)^(t−n). Multiply by the value per period for the CLV.
    pub fn discounted_residual_lifetime(&self, rate: f64, renewals: u32) -> f64 {
        let n = renewals.max(1);
        let mut sum = 0.0;
        let mut conditional = 1.0;
        let mut factor = 1.0;
        // S(t)/S(t−1) = retention(t): the conditional survival is a product of retentions.
        for t in n..n + LIFETIME_TERMS {
            conditional *= self.retention(t);
            sum += conditional * factor;
            factor /= 1.0 + rate;
            if conditional * factor < 1e-16 * sum {
                break;
            }
        }
        sum
    }
}
