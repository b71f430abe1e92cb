//! Customer-base forecasting: how many more purchases, how likely still a customer, how much
//! spend, what lifetime value — and automatic customer groups.
//!
//! # Overview
//!
//! Probability models, each fitted by maximum likelihood on summaries the Worker can keep per
//! customer, with the quantities a merchant acts on:
//!
//! - [`BgNbd`] (Fader, Hardie & Lee 2005) and [`ParetoNbd`] (Schmittlein, Morrison & Colombo 1987)
//!   for non-contractual repeat buying: expected purchases in the next `t`, probability alive,
//!   the predictive distribution of the count (BG/NBD), and CLV via [`clv`].
//! - [`MbgCnbd`] (Reutterer, Platzer & Schröder 2021): BG/NBD-style dropout with Erlang-k
//!   inter-purchase times (regular buyers), P(alive) and P(at least one purchase in the next t);
//!   [`MbgGamma`], the same with gamma inter-purchase times of any fitted shape k (clumpy k < 1
//!   too).
//! - [`ParetoGamma`]: Pareto/NBD with gamma inter-purchase times of a common shape k (an ML
//!   relative of Platzer & Reutterer's Pareto/GGG), P(alive) and P(at least one purchase).
//! - [`GammaGamma`] (Fader, Hardie & Lee 2005, "RFM and CLV") for the spend per transaction.
//! - [`Sbg`] (Fader & Hardie 2007), the shifted-beta-geometric model of contractual retention:
//!   survival, retention rates, projected survivors and discounted expected lifetime.
//! - [`cluster`]: customer groups by k-means++ on standardised features, k chosen by silhouette,
//!   each group described in words and as a rule.
//!
//! A customer is summarised as a [`Customer`]: `frequency` x (repeat purchases: distinct purchase
//! periods after the first), `recency` tₓ (time of the last purchase, measured from the first) and
//! `age` T (time from the first purchase to the end of the calibration period), all in one time
//! unit (weeks in the published CDNOW figures). [`Customer::from_purchase_days`] builds it from
//! order dates.
//!
//! Fitting minimises the negative log-likelihood over the logarithms of the parameters with a
//! hand-written BFGS search (Nelder–Mead where it stops short); the special functions are
//! hand-written too (see `docs/forecast.md` for why, and for the measured fits, holdout accuracy
//! and fit times).
//!
//! # Example
//!
//! ```
//! use affinity::forecast::{BgNbd, Customer, RepeatBuying};
//!
//! // The published BG/NBD fit to the CDNOW cohort (Fader, Hardie & Lee 2005) …
//! let model = BgNbd { r: 0.243, alpha: 4.414, a: 0.793, b: 2.426 };
//! // … and their worked example: 2 repeat purchases, the last at week 30.43, observed 38.86 weeks.
//! let customer = Customer::new(2, 30.43, 38.86)?;
//! let next_39_weeks = model.expected_purchases(&customer, 39.0);
//! assert!((next_39_weeks - 1.226).abs() < 0.001);
//! assert!(model.probability_alive(&customer) > 0.5);
//! # Ok::<(), affinity::Error>(())
//! ```

#[allow(unused_imports)]
use crate::prelude::*;

mod bgnbd;
pub mod cluster;
mod gamma_gamma;
mod mbgcnbd;
mod optimize;
mod pareto;
mod pareto_gamma;
mod sbg;
pub mod special;

pub use bgnbd::BgNbd;
pub use gamma_gamma::{GammaGamma, Spend};
pub use mbgcnbd::{MbgCnbd, MbgGamma};
pub use pareto::ParetoNbd;
pub use pareto_gamma::ParetoGamma;
pub use sbg::Sbg;

use crate::error::invalid;
use crate::Error;

/// One customer's repeat-buying summary (time in any one unit, e.g. weeks).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Customer {
    /// x: repeat purchases (purchase occasions after the first).
    pub frequency: u32,
    /// tₓ: time from the first to the last purchase (0 when `frequency` is 0).
    pub recency: f64,
    /// T: time from the first purchase to the end of the observation period.
    pub age: f64,
}

impl Customer {
    /// A checked summary: `0 ≤ recency ≤ age`, both finite, and `recency = 0` when
    /// `frequency = 0`.
    pub fn new(frequency: u32, recency: f64, age: f64) -> Result<Customer, Error> {
        let c = Customer {
            frequency,
            recency,
            age,
        };
        c.check()?;
        Ok(c)
    }

    fn check(&self) -> Result<(), Error> {
        if !(self.recency.is_finite() && self.age.is_finite()) {
            return Err(invalid!("fc6", "recency and age must be finite numbers"));
        }
        if self.recency < 0.0 || self.recency > self.age {
            return Err(invalid!(
                "fc5",
                "recency {} must lie between 0 and the age {}",
                self.recency,
                self.age
            ));
        }
        if self.frequency == 0 && self.recency != 0.0 {
            return Err(invalid!(
                "fc7",
                "a customer with no repeat purchase has recency 0"
            ));
        }
        Ok(())
    }

    /// The summary at the end of day `end` from the days of a customer's purchases (any order,
    /// repeats on one day count once), in units of `days_per_unit` days (7 for weeks). Purchases
    /// after `end` are ignored. `None` when there is no purchase on or before `end`.
    pub fn from_purchase_days(days: &[i64], end: i64, days_per_unit: f64) -> Option<Customer> {
        let mut seen: Vec<i64> = days.iter().copied().filter(|d| *d <= end).collect();
        seen.sort_unstable();
        seen.dedup();
        let (first, last) = (*seen.first()?, *seen.last()?);
        Some(Customer {
            frequency: (seen.len() - 1) as u32,
            recency: (last - first) as f64 / days_per_unit,
            age: (end - first) as f64 / days_per_unit,
        })
    }
}

/// A fitted model with its maximised log-likelihood.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fitted<M> {
    /// The maximum-likelihood parameters.
    pub model: M,
    /// The log-likelihood at `model` (summed over customers).
    pub log_likelihood: f64,
    /// Likelihood evaluations the search used.
    pub evaluations: usize,
}

/// A model of repeat buying that predicts a customer's purchases in the next `t`.
pub trait RepeatBuying {
    /// Expected purchases in (T, T + t] given the customer's summary.
    fn expected_purchases(&self, customer: &Customer, t: f64) -> f64;
    /// Probability the customer is still active at T.
    fn probability_alive(&self, customer: &Customer) -> f64;
}

/// How to discount future value: `periods` periods of `period` time units each, at `rate` per
/// period (0.01 a month ≈ 12.7% a year).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Discount {
    /// Discount rate per period (≥ 0).
    pub rate: f64,
    /// Length of one period in the model's time unit (e.g. 4.345 weeks for a month).
    pub period: f64,
    /// How many periods ahead (the horizon).
    pub periods: u32,
}

/// Customer lifetime value: the discounted sum over the horizon of expected purchases in each
/// period times `value_per_purchase` (e.g. [`GammaGamma::expected_spend`] × margin):
/// Σₖ (E[Y(kΔ)] − E[Y((k−1)Δ)]) · value / (1 + d)ᵏ.
pub fn clv(
    model: &impl RepeatBuying,
    customer: &Customer,
    value_per_purchase: f64,
    discount: Discount,
) -> f64 {
    let mut total = 0.0;
    let mut before = 0.0;
    let mut factor = 1.0;
    for k in 1..=discount.periods {
        let now = model.expected_purchases(customer, f64::from(k) * discount.period);
        factor /= 1.0 + discount.rate;
        total += (now - before) * factor;
        before = now;
    }
    total * value_per_purchase
}

/// Distinct customer summaries with their multiplicities, sorted by frequency, so a likelihood
/// evaluates each distinct row once and each frequency's gamma terms once.
#[derive(Debug, Clone)]
pub(crate) struct Rows {
    pub rows: Vec<(Customer, f64)>,
}

impl Rows {
    pub fn new(customers: &[Customer]) -> Result<Rows, Error> {
        if customers.is_empty() {
            return Err(invalid!("fc8", "cannot fit a model to no customers"));
        }
        let mut v: Vec<Customer> = Vec::with_capacity(customers.len());
        for c in customers {
            c.check()?;
            v.push(*c);
        }
        v.sort_by(|a, b| {
            a.frequency
                .cmp(&b.frequency)
                .then(a.recency.total_cmp(&b.recency))
                .then(a.age.total_cmp(&b.age))
        });
        let mut rows: Vec<(Customer, f64)> = Vec::new();
        for c in v {
            match rows.last_mut() {
                Some((last, n)) if *last == c => *n += 1.0,
                _ => rows.push((c, 1.0)),
            }
        }
        Ok(Rows { rows })
    }
}

impl Rows {
    /// Σ multiplicity × `row(customer, terms(x))`, computing the per-frequency `terms` once for
    /// each distinct frequency (the rows are sorted by it).
    pub fn sum_by_frequency<T: Copy>(
        &self,
        terms: impl Fn(f64) -> T,
        row: impl Fn(&Customer, T) -> f64,
    ) -> f64 {
        let mut cached: Option<(u32, T)> = None;
        let mut total = 0.0;
        for (c, n) in &self.rows {
            let t = match cached {
                Some((x, t)) if x == c.frequency => t,
                _ => {
                    let t = terms(f64::from(c.frequency));
                    cached = Some((c.frequency, t));
                    t
                }
            };
            total += n * row(c, t);
        }
        total
    }
}

/// Fits a repeat-buying model of four positive parameters to customer summaries from all-ones,
/// `model` building it from the parameters, `log_likelihood` scoring it on the merged rows.
pub(crate) fn fit_summaries<M>(
    customers: &[Customer],
    model: impl Fn(&[f64]) -> M,
    log_likelihood: impl Fn(&M, &Rows) -> f64,
) -> Result<Fitted<M>, Error> {
    let rows = Rows::new(customers)?;
    fit_positive(&[1.0; 4], model, |m| log_likelihood(m, &rows))
}

/// Fits a model of positive parameters by maximising `log_likelihood` over their logarithms,
/// from `start`; `model` builds the model from a parameter vector.
pub(crate) fn fit_positive<M>(
    start: &[f64],
    model: impl Fn(&[f64]) -> M,
    log_likelihood: impl Fn(&M) -> f64,
) -> Result<Fitted<M>, Error> {
    let logs: Vec<f64> = start.iter().map(|v| v.ln()).collect();
    let mut params = vec![0.0; start.len()];
    let m = optimize::minimize(
        |z| {
            for (p, z) in params.iter_mut().zip(z) {
                *p = z.exp();
            }
            -log_likelihood(&model(&params))
        },
        &logs,
        0.5,
        20_000,
    );
    fitted(m, model)
}

/// As [`fit_positive`] for a model that supplies its gradient: `log_likelihood` returns the
/// log-likelihood and its gradient with respect to the parameters themselves (not their
/// logarithms; the chain rule to the search's log scale is applied here).
pub(crate) fn fit_positive_with_gradient<M>(
    start: &[f64],
    model: impl Fn(&[f64]) -> M,
    log_likelihood: impl Fn(&M) -> (f64, Vec<f64>),
) -> Result<Fitted<M>, Error> {
    let logs: Vec<f64> = start.iter().map(|v| v.ln()).collect();
    let mut params = vec![0.0; start.len()];
    let m = optimize::minimize_with_gradient(
        |z| {
            for (p, z) in params.iter_mut().zip(z) {
                *p = z.exp();
            }
            let (ll, g) = log_likelihood(&model(&params));
            let g = g.iter().zip(&params).map(|(g, p)| -g * p).collect();
            (-ll, g)
        },
        &logs,
        0.5,
        20_000,
    );
    fitted(m, model)
}

/// The fit at a minimum of the negative log-likelihood over log-parameters.
fn fitted<M>(m: optimize::Minimum, model: impl Fn(&[f64]) -> M) -> Result<Fitted<M>, Error> {
    if !m.value.is_finite() {
        return Err(invalid!(
            "fc9",
            "the likelihood is not finite anywhere the search went; check the summaries"
        ));
    }
    let x: Vec<f64> = m.x.iter().map(|z| z.exp()).collect();
    Ok(Fitted {
        model: model(&x),
        log_likelihood: -m.value,
        evaluations: m.evaluations,
    })
}

/// ln(eᵃ + eᵇ) without overflow.
pub(crate) fn log_add(a: f64, b: f64) -> f64 {
    let m = a.max(b);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + ((a - m).exp() + (b - m).exp()).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_from_days_merges_same_day_orders() {
        // First order day 10, again day 10 and 24, one after the end (ignored); weeks.
        let c = Customer::from_purchase_days(&[24, 10, 10, 60], 52, 7.0).unwrap();
        assert_eq!(c.frequency, 1);
        assert_eq!(c.recency, 2.0);
        assert_eq!(c.age, 6.0);
        assert!(Customer::from_purchase_days(&[60], 52, 7.0).is_none());
    }

    #[test]
    fn invalid_summaries_are_errors() {
        assert!(Customer::new(1, 5.0, 4.0).is_err());
        assert!(Customer::new(0, 1.0, 4.0).is_err());
        assert!(Customer::new(1, f64::NAN, 4.0).is_err());
        assert!(Rows::new(&[]).is_err());
    }

    #[test]
    fn log_add_does_not_overflow() {
        assert!((log_add(1000.0, 1000.0) - (1000.0 + 2f64.ln())).abs() < 1e-12);
        assert_eq!(log_add(f64::NEG_INFINITY, 3.0), 3.0);
    }
}
