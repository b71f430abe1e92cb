//! The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way").
//!
//! While active, a customer buys at Poisson rate λ ~ Gamma(r, α); after each purchase they drop
//! out with probability p ~ Beta(a, b). The formulas below are equations (3), (6) and (10) of the
//! paper and the P(alive) of its technical note, worked in logarithms so that large counts and
//! long histories neither overflow nor lose the small terms.

#[allow(unused_imports)]
use crate::prelude::*;

use super::special::{hyp2f1, integrate_unit, ln_beta, ln_gamma};
use super::{fit_summaries, log_add, Customer, Fitted, RepeatBuying, Rows};
use crate::Error;

/// BG/NBD parameters: purchase-rate shape `r` and scale `alpha`, dropout Beta(`a`, `b`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbd {
    /// Shape of the Gamma distribution of purchase rates.
    pub r: f64,
    /// Scale (rate) of the Gamma distribution of purchase rates, in the time unit.
    pub alpha: f64,
    /// First parameter of the Beta distribution of dropout probabilities.
    pub a: f64,
    /// Second parameter of the Beta distribution of dropout probabilities.
    pub b: f64,
}

/// Per-frequency gamma terms: ln Γ(r+x) − ln Γ(r) + r ln α and ln B(a, b+x) − ln B(a, b).
fn frequency_terms(m: &BgNbd, x: f64) -> (f64, f64) {
    let rate = ln_gamma(m.r + x) - ln_gamma(m.r) + m.r * m.alpha.ln();
    let beta = ln_gamma(m.a + m.b) + ln_gamma(m.b + x) - ln_gamma(m.b) - ln_gamma(m.a + m.b + x);
    (rate, beta)
}

impl BgNbd {
    /// Maximum-likelihood fit to customer summaries.
    pub fn fit(customers: &[Customer]) -> Result<Fitted<BgNbd>, Error> {
        fit_summaries(
            customers,
            |p: &[f64]| BgNbd {
                r: p[0],
                alpha: p[1],
                a: p[2],
                b: p[3],
            },
            BgNbd::rows_log_likelihood,
        )
    }

    /// Log-likelihood of the summaries (equation 6 of the paper, summed).
    pub fn log_likelihood(&self, customers: &[Customer]) -> Result<f64, Error> {
        Ok(self.rows_log_likelihood(&Rows::new(customers)?))
    }

    fn rows_log_likelihood(&self, rows: &Rows) -> f64 {
        rows.sum_by_frequency(
            |x| frequency_terms(self, x),
            |c, t| self.row_log_likelihood(c, t),
        )
    }

    fn row_log_likelihood(&self, c: &Customer, (rate, beta): (f64, f64)) -> f64 {
        let x = f64::from(c.frequency);
        let rx = self.r + x;
        let still = -rx * (self.alpha + c.age).ln();
        let body = if c.frequency > 0 {
            let gone = self.a.ln() - (self.b + x - 1.0).ln() - rx * (self.alpha + c.recency).ln();
            log_add(still, gone)
        } else {
            still
        };
        rate + beta + body
    }

    /// ln of the odds term a/(b+x−1) · ((α+T)/(α+tₓ))^(r+x) in P(alive); −∞ for x = 0.
    fn log_dead_odds(&self, c: &Customer) -> f64 {
        if c.frequency == 0 {
            return f64::NEG_INFINITY;
        }
        let x = f64::from(c.frequency);
        self.a.ln() - (self.b + x - 1.0).ln()
            + (self.r + x) * ((self.alpha + c.age).ln() - (self.alpha + c.recency).ln())
    }

    /// Expected purchases in a period of length `t` for a new customer (equation 7).
    pub fn expected_purchases_new(&self, t: f64) -> f64 {
        let new = Customer {
            frequency: 0,
            recency: 0.0,
            age: 0.0,
        };
        self.expected_purchases(&new, t)
    }

    /// Expected purchases in (T, T+t] for a customer still active at T.
    fn expected_if_alive(&self, c: &Customer, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let x = f64::from(c.frequency);
        let z = t / (self.alpha + c.age + t);
        let cc = self.a + self.b + x - 1.0;
        if cc > 0.5 && z < 0.98 && (self.a - 1.0).abs() > 1e-4 {
            self.expected_by_series(c, t)
        } else {
            self.expected_by_quadrature(c, t)
        }
    }

    /// Equation (10) after Euler's transformation,
    /// (1−z)^(r+x) ₂F₁(r+x, b+x; c; z) = (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; c; z) with
    /// c = a+b+x−1 and z = t/(α+T+t): the series then converges fast for any x and T.
    fn expected_by_series(&self, c: &Customer, t: f64) -> f64 {
        let x = f64::from(c.frequency);
        let (a, b) = (self.a, self.b);
        let z = t / (self.alpha + c.age + t);
        let cc = a + b + x - 1.0;
        let f = hyp2f1(a + b - 1.0 - self.r, a - 1.0, cc, z);
        // (1 − (1−z)^(a−1) F) / (a − 1), keeping the digits where (1−z)^(a−1) F ≈ 1.
        let one_minus = -((a - 1.0) * (1.0 - z).ln() + f.ln()).exp_m1();
        cc / (a - 1.0) * one_minus
    }

    /// The same expectation straight from the model, for the corners the series does not cover
    /// (a ≈ 1, a+b+x ≤ 1.5, t ≫ T): given λ and p, E = (1 − e^(−λpt))/p; over λ ~ Gamma(r+x, α+T)
    /// it is (1 − (1 + pt/(α+T))^(−(r+x)))/p, integrated over p ~ Beta(a, b+x).
    fn expected_by_quadrature(&self, c: &Customer, t: f64) -> f64 {
        let x = f64::from(c.frequency);
        let (r1, a1, b1) = (self.r + x, self.alpha + c.age, self.b + x);
        let lb = ln_beta(self.a, b1);
        integrate_unit(|p, q| {
            let inner = -(-r1 * (p * t / a1).ln_1p()).exp_m1() / p;
            inner * ((self.a - 1.0) * p.ln() + (b1 - 1.0) * q.ln() - lb).exp()
        })
    }

    /// Probabilities of 0, 1, …, `max` purchases in (T, T+t] (the last entry is the probability
    /// of `max` or more). Derived from the model: given activity at T, λ ~ Gamma(r+x, α+T) and
    /// p ~ Beta(a, b+x) independently, and Y = min(N(t), G) for the Poisson count N and the
    /// geometric purchase G after which the customer drops out.
    pub fn purchase_probabilities(&self, customer: &Customer, t: f64, max: u32) -> Vec<f64> {
        let c = customer;
        let x = f64::from(c.frequency);
        let alive = 1.0 / (1.0 + self.log_dead_odds(c).exp());
        let (r1, a1, b1) = (self.r + x, self.alpha + c.age, self.b + x);
        let ln_q0 = r1 * (a1 / (a1 + t)).ln();
        let ln_z = (t / (a1 + t)).ln();
        let lb = ln_beta(self.a, b1);
        let mut out = Vec::with_capacity(max as usize + 1);
        let p0 = ln_q0.exp();
        out.push(1.0 - alive + alive * p0);
        let mut cdf = p0;
        let mut ln_nb = ln_q0;
        let mut used = out[0];
        for k in 1..max {
            let kf = f64::from(k);
            ln_nb += (r1 + kf - 1.0).ln() - kf.ln() + ln_z;
            let nb = ln_nb.exp();
            cdf += nb;
            let survive = (ln_beta(self.a, b1 + kf - 1.0) - lb).exp();
            let stop = (ln_beta(self.a + 1.0, b1 + kf - 1.0) - lb).exp();
            let pk = alive * (nb * survive + (1.0 - cdf).max(0.0) * stop);
            out.push(pk);
            used += pk;
        }
        if max > 0 {
            out.push((1.0 - used).max(0.0));
        }
        out
    }
}

impl RepeatBuying for BgNbd {
    /// Equation (10): E[Y(t) | x, tₓ, T].
    fn expected_purchases(&self, customer: &Customer, t: f64) -> f64 {
        self.probability_alive(customer) * self.expected_if_alive(customer, t)
    }

    /// P(active at T | x, tₓ, T) = 1 / (1 + δₓ₍>0₎ a/(b+x−1) ((α+T)/(α+tₓ))^(r+x)); 1 when x = 0.
    fn probability_alive(&self, customer: &Customer) -> f64 {
        1.0 / (1.0 + self.log_dead_odds(customer).exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLISHED: BgNbd = BgNbd {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    };

    #[test]
    fn series_and_quadrature_agree() {
        for (x, tx, age, t) in [
            (2, 30.43, 38.86, 39.0),
            (0, 0.0, 20.0, 10.0),
            (40, 30.0, 39.0, 100.0),
        ] {
            let c = Customer::new(x, tx, age).unwrap();
            let series = PUBLISHED.expected_by_series(&c, t);
            let quad = PUBLISHED.expected_by_quadrature(&c, t);
            assert!((series - quad).abs() < 1e-8 * series, "{series} vs {quad}");
        }
    }
}
