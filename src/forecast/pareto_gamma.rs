//! Pareto/NBD with gamma inter-purchase times of a common shape k: Pareto/NBD's exponential
//! lifetimes and gamma-distributed purchase rates, with the Poisson purchasing replaced by a
//! renewal process whose gaps are Gamma(k, λ) (k = 1: Pareto/NBD; k < 1: clumpy buying, bursts
//! and long pauses; k > 1: regular). The ML relative of Platzer & Reutterer's Pareto/GGG (2016),
//! where k varies by customer and the model is estimated by MCMC.
//!
//! Given λ and μ, x repeats at gaps Δᵢ (summing to tₓ), observed to T = tₓ + u:
//! L = ∏ λᵏΔᵢᵏ⁻¹e^(−λΔᵢ)/Γ(k) · [e^(−μT) Q(k, λu) + ∫ₜₓᵀ μe^(−μτ) Q(k, λ(τ−tₓ)) dτ],
//! Q the gamma survival. μ ~ Gamma(s, β) integrates in closed form, and so does λ ~ Gamma(r, α)
//! (an incomplete beta, as in [`super::MbgGamma`]): with R = r+kx, A = α+tₓ,
//!
//! L = C · αʳΓ(R)/(Γ(r)Aᴿ) · [(β/(β+T))ˢ I_{A/(A+u)}(R, k)
//!                            + ∫₀ᵘ sβˢ (β+tₓ+v)^(−s−1) I_{A/(A+v)}(R, k) dv],
//!
//! C = ∏Δᵢᵏ⁻¹/Γ(k)ˣ. The remaining integral is one dimension per customer, taken by tanh-sinh
//! after v = (β+tₓ)(e^(pℓ) − 1), ℓ = ln(1 + u/(β+tₓ)), which makes it smooth for any u.

#[allow(unused_imports)]
use crate::prelude::*;

use super::special::{integrate_unit, integrate_unit_coarse, ln_beta, ln_beta_inc_given, ln_gamma};
use super::{fit_positive, log_add, Customer, Fitted, Rows};
use crate::error::invalid;
use crate::Error;

/// Pareto/NBD with gamma timing: gap shape `k`, purchase-rate Gamma(`r`, `alpha`),
/// dropout-rate Gamma(`s`, `beta`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParetoGamma {
    /// Shape of the gamma inter-purchase times (1: Pareto/NBD).
    pub k: f64,
    /// Shape of the Gamma distribution of purchase-process rates.
    pub r: f64,
    /// Scale (rate) of that Gamma distribution, in the time unit.
    pub alpha: f64,
    /// Shape of the Gamma distribution of dropout rates.
    pub s: f64,
    /// Scale (rate) of the Gamma distribution of dropout rates, in the time unit.
    pub beta: f64,
}

impl ParetoGamma {
    /// Maximum-likelihood fit of (r, α, s, β) with the gap shape held at `k` (> 0), searched
    /// from all-ones. The reported log-likelihood leaves out the constant C (see the module
    /// notes).
    pub fn fit_given_k(customers: &[Customer], k: f64) -> Result<Fitted<ParetoGamma>, Error> {
        ParetoGamma::fit_from(
            customers,
            ParetoGamma {
                k,
                r: 1.0,
                alpha: 1.0,
                s: 1.0,
                beta: 1.0,
            },
        )
    }

    /// As [`ParetoGamma::fit_given_k`] with `start.k` held, searched from `start`'s (r, α, s, β):
    /// last night's fit, or the Pareto/NBD fit of the same customers (the k = 1 member), saves
    /// most of the likelihood evaluations when the optimum is near.
    pub fn fit_from(
        customers: &[Customer],
        start: ParetoGamma,
    ) -> Result<Fitted<ParetoGamma>, Error> {
        let k = start.k;
        let from = [start.r, start.alpha, start.s, start.beta];
        if !(k.is_finite() && k > 0.0) || from.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(invalid!(
                "fc13",
                "the timing shape k and the starting parameters must be positive numbers"
            ));
        }
        let rows = Rows::new(customers)?;
        let model = |p: &[f64]| ParetoGamma {
            k,
            r: p[0],
            alpha: p[1],
            s: p[2],
            beta: p[3],
        };
        fit_positive(&from, model, |m| m.rows_log_likelihood(&rows))
    }

    /// Log-likelihood of the summaries without the constant C (summed).
    pub fn log_likelihood(&self, customers: &[Customer]) -> Result<f64, Error> {
        Ok(self.rows_log_likelihood(&Rows::new(customers)?))
    }

    fn rows_log_likelihood(&self, rows: &Rows) -> f64 {
        let head = self.r * self.alpha.ln() - ln_gamma(self.r);
        rows.sum_by_frequency(
            |x| ln_gamma(self.r + self.k * x),
            |c, gamma| {
                let rkx = self.r + self.k * f64::from(c.frequency);
                let (alive, dead) = self.log_parts(c, false);
                head + gamma - rkx * (self.alpha + c.recency).ln() + log_add(alive, dead)
            },
        )
    }

    /// ln of the bracket's two parts: active at T, and dropped out in (tₓ, T]; `fine` takes the
    /// integral with the 289-point rule (one customer), else the 73-point one (the fit).
    fn log_parts(&self, c: &Customer, fine: bool) -> (f64, f64) {
        let rkx = self.r + self.k * f64::from(c.frequency);
        let near = self.alpha + c.recency;
        let ln_b = ln_beta(rkx, self.k);
        let u = c.age - c.recency;
        let alive = self.s * (self.beta / (self.beta + c.age)).ln()
            + ln_beta_inc_given(rkx, self.k, near / (self.alpha + c.age), ln_b);
        if u <= 0.0 {
            return (alive, f64::NEG_INFINITY);
        }
        let b0 = self.beta + c.recency;
        let span = (u / b0).ln_1p();
        // ∫₀¹ e^(−s p ℓ) I_{A/(A+v)}(R, k) dp with v = b0 (e^(pℓ) − 1); the integrand is at most 1.
        let integrand = |p: f64, _: f64| {
            let v = b0 * (p * span).exp_m1();
            (-self.s * p * span + ln_beta_inc_given(rkx, self.k, near / (near + v), ln_b)).exp()
        };
        let inner = if fine {
            integrate_unit(integrand)
        } else {
            integrate_unit_coarse(integrand)
        };
        let dead = self.s.ln() + span.ln() + self.s * (self.beta / b0).ln() + inner.ln();
        (alive, dead)
    }

    /// P(active at T | x, tₓ, T).
    pub fn probability_alive(&self, customer: &Customer) -> f64 {
        let (alive, dead) = self.log_parts(customer, true);
        let p = 1.0 / (1.0 + (dead - alive).exp());
        if p.is_nan() {
            0.0
        } else {
            p
        }
    }

    /// P(at least one purchase in (T, T + t] | x, tₓ, T).
    ///
    /// Active at T, the open gap has lasted u = T − tₓ; under the history's λ-weights its
    /// remaining length W has survival J(w) = I_{A/(A+u+w)}(R, k) / I_{A/(A+u)}(R, k), whose
    /// density follows from ∂I_z(R, k)/∂z = z^(R−1)(1−z)^(k−1)/B(R, k). The customer buys in the
    /// period if W comes before both t and the end of their life:
    /// P = P(alive) · ∫₀ᵗ ((β+T)/(β+T+w))ˢ · (−J′(w)) dw (one integral, no cancellation).
    pub fn probability_any_purchase(&self, customer: &Customer, t: f64) -> f64 {
        if t.is_nan() || t <= 0.0 {
            return 0.0;
        }
        let c = customer;
        let rkx = self.r + self.k * f64::from(c.frequency);
        let near = self.alpha + c.recency;
        let u = c.age - c.recency;
        let ln_b = ln_beta(rkx, self.k);
        let ln_now = ln_beta_inc_given(rkx, self.k, near / (self.alpha + c.age), ln_b);
        let b1 = self.beta + c.age;
        // w = (A+u)(e^(pℓ) − 1), ℓ = ln(1 + t/(A+u)); dw = (A+u+w) ℓ dp.
        let start = near + u;
        let span = (t / start).ln_1p();
        let conditional = integrate_unit(|p, _| {
            let w = start * (p * span).exp_m1();
            let end = start + w; // A + u + w
            let ln_z = (near / end).ln();
            let ln_1z = ((u + w) / end).ln();
            let ln_density = (rkx - 1.0) * ln_z + (self.k - 1.0) * ln_1z - ln_b + near.ln()
                - 2.0 * end.ln()
                - ln_now;
            let ln_lives = -self.s * (w / b1).ln_1p();
            (ln_density + ln_lives + end.ln() + span.ln()).exp()
        });
        (self.probability_alive(c) * conditional.clamp(0.0, 1.0)).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::super::special::ln_beta_inc;
    use super::super::{ParetoNbd, RepeatBuying};
    use super::*;

    const PN: ParetoNbd = ParetoNbd {
        r: 0.55,
        alpha: 10.58,
        s: 0.61,
        beta: 11.67,
    };

    fn with_k(k: f64) -> ParetoGamma {
        ParetoGamma {
            k,
            r: PN.r,
            alpha: PN.alpha,
            s: PN.s,
            beta: PN.beta,
        }
    }

    const CASES: [(u32, f64, f64); 5] = [
        (0, 0.0, 30.0),
        (2, 30.43, 38.86),
        (5, 30.0, 30.0),
        (1, 3.0, 35.0),
        (12, 20.0, 38.0),
    ];

    #[test]
    fn at_k_one_it_is_the_pareto_nbd() {
        for (x, tx, age) in CASES {
            let c = Customer::new(x, tx, age).unwrap();
            let (m, pn) = (with_k(1.0), PN);
            let (a, b) = (
                m.log_likelihood(&[c]).unwrap(),
                pn.log_likelihood(&[c]).unwrap(),
            );
            assert!((a - b).abs() < 1e-8, "LL x {x}: {a} vs {b}");
            let (a, b) = (m.probability_alive(&c), pn.probability_alive(&c));
            assert!((a - b).abs() < 1e-10, "alive x {x}: {a} vs {b}");
            let (a, b) = (
                m.probability_any_purchase(&c, 39.0),
                pn.probability_any_purchase(&c, 39.0),
            );
            assert!((a - b).abs() < 1e-9, "any x {x}: {a} vs {b}");
            assert!(pn.expected_purchases(&c, 39.0) >= b);
        }
    }

    #[test]
    fn a_fit_started_at_its_optimum_stays_there() {
        let customers: Vec<Customer> = CASES
            .iter()
            .map(|(x, tx, age)| Customer::new(*x, *tx, *age).unwrap())
            .collect();
        let cold = ParetoGamma::fit_given_k(&customers, 0.7).unwrap();
        let warm = ParetoGamma::fit_from(&customers, cold.model).unwrap();
        assert!((warm.log_likelihood - cold.log_likelihood).abs() < 1e-6);
        assert!(warm.evaluations < cold.evaluations);
        assert!(ParetoGamma::fit_from(
            &customers,
            ParetoGamma {
                s: 0.0,
                ..cold.model
            }
        )
        .is_err());
        assert!(ParetoGamma::fit_given_k(&customers, f64::NAN).is_err());
    }

    #[test]
    fn fractional_k_against_independent_forms() {
        for k in [0.4, 2.3] {
            let m = with_k(k);
            for (x, tx, age) in CASES {
                let c = Customer::new(x, tx, age).unwrap();
                let xf = f64::from(x);
                let (rkx, near, u) = (m.r + k * xf, m.alpha + tx, age - tx);
                let ib = |z: f64| ln_beta_inc(rkx, k, z).exp();
                // The likelihood's integral over v on a plain linear map with the fine rule.
                let dead = u * integrate_unit(|p, _| {
                    let v = u * p;
                    m.s * m.beta.powf(m.s)
                        * (m.beta + tx + v).powf(-m.s - 1.0)
                        * ib(near / (near + v))
                });
                let alive = (m.beta / (m.beta + age)).powf(m.s) * ib(near / (near + u));
                let want = m.r * m.alpha.ln() - ln_gamma(m.r) + ln_gamma(rkx) - rkx * near.ln()
                    + (alive + dead).ln();
                let got = m.log_likelihood(&[c]).unwrap();
                assert!((got - want).abs() < 1e-7, "LL k {k} x {x}: {got} vs {want}");
                // P(≥ 1) by parts: 1 − J(t)((β+T)/(β+T+t))ˢ − ∫₀ᵗ s(β+T)ˢ(β+T+w)^(−s−1) J(w) dw.
                let t = 13.0;
                let b1 = m.beta + age;
                let j = |w: f64| ib(near / (near + u + w)) / ib(near / (near + u));
                let by_parts = 1.0
                    - j(t) * (b1 / (b1 + t)).powf(m.s)
                    - t * integrate_unit(|p, _| {
                        let w = t * p;
                        m.s * b1.powf(m.s) * (b1 + w).powf(-m.s - 1.0) * j(w)
                    });
                let want = alive / (alive + dead) * by_parts;
                let got = m.probability_any_purchase(&c, t);
                assert!(
                    (got - want).abs() < 1e-8,
                    "any k {k} x {x}: {got} vs {want}"
                );
            }
        }
    }
}
