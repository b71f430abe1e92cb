//! The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV",
//! after Colombo & Jiang 1999).
//!
//! A customer's transaction values are Gamma(p, ν) with ν ~ Gamma(q, γ) across customers; the
//! mean z̄ of x transactions then has the likelihood
//! Γ(px+q) / (Γ(px) Γ(q)) · γ^q x^(px) z̄^(px−1) / (γ + x z̄)^(px+q).

#[allow(unused_imports)]
use crate::prelude::*;

use super::fit_positive;
use super::special::ln_gamma;
use super::Fitted;
use crate::error::invalid;
use crate::Error;

/// A customer's spend summary: the mean value of `frequency` transactions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spend {
    /// x: the number of transactions averaged (in CDNOW, the repeat transactions).
    pub frequency: u32,
    /// z̄: their mean value (> 0 when `frequency` > 0).
    pub mean_value: f64,
}

/// Gamma-Gamma parameters: shape `p` of transaction values, Gamma(`q`, `gamma`) of their scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaGamma {
    /// Shape of each customer's Gamma distribution of transaction values.
    pub p: f64,
    /// Shape of the Gamma distribution of the scale parameter across customers.
    pub q: f64,
    /// Scale (rate) of the Gamma distribution of the scale parameter, in money.
    pub gamma: f64,
}

impl GammaGamma {
    /// Maximum-likelihood fit; customers with `frequency` 0 carry no spend and are skipped.
    pub fn fit(spends: &[Spend]) -> Result<Fitted<GammaGamma>, Error> {
        let mut used = Vec::with_capacity(spends.len());
        for s in spends.iter().filter(|s| s.frequency > 0) {
            if !(s.mean_value.is_finite() && s.mean_value > 0.0) {
                return Err(invalid!(
                    "fc3",
                    "a mean transaction value must be a positive number, not {}",
                    s.mean_value
                ));
            }
            used.push(*s);
        }
        if used.is_empty() {
            return Err(invalid!(
                "fc4",
                "the Gamma-Gamma model needs customers with at least one transaction"
            ));
        }
        let model = |v: &[f64]| GammaGamma {
            p: v[0],
            q: v[1],
            gamma: v[2],
        };
        fit_positive(&[1.0; 3], model, |m| {
            used.iter().map(|s| m.spend_log_likelihood(s)).sum()
        })
    }

    fn spend_log_likelihood(&self, s: &Spend) -> f64 {
        let x = f64::from(s.frequency);
        let px = self.p * x;
        ln_gamma(px + self.q) - ln_gamma(px) - ln_gamma(self.q)
            + self.q * self.gamma.ln()
            + px * x.ln()
            + (px - 1.0) * s.mean_value.ln()
            - (px + self.q) * (self.gamma + x * s.mean_value).ln()
    }

    /// Log-likelihood of the spend summaries with `frequency` > 0.
    pub fn log_likelihood(&self, spends: &[Spend]) -> f64 {
        spends
            .iter()
            .filter(|s| s.frequency > 0)
            .map(|s| self.spend_log_likelihood(s))
            .sum()
    }

    /// E[M | p, q, γ, x, z̄] = (p (γ + x z̄)) / (p x + q − 1): the expected value of the customer's
    /// future transactions, a weighted mean of the population mean p γ/(q−1) and z̄ (for x = 0,
    /// the population mean; infinite when q ≤ 1, where that mean does not exist).
    pub fn expected_spend(&self, spend: &Spend) -> f64 {
        let x = f64::from(spend.frequency);
        let mean = if spend.frequency > 0 {
            spend.mean_value
        } else {
            0.0
        };
        let denominator = self.p * x + self.q - 1.0;
        if denominator <= 0.0 {
            return f64::INFINITY;
        }
        self.p * (self.gamma + x * mean) / denominator
    }
}
