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
//! after v = (β+tₓ)(e^(pℓ) − 1), ℓ = ln(1 + u/(β+tₓ)), which makes it smooth for any u
//! ([`ParetoGamma::probability_alive`] uses this form).
//!
//! The fit uses the same bracket integrated by parts, with no incomplete beta inside the
//! integral. With G(v) = ((β+tₓ)/(β+tₓ+v))ˢ (alive at v) and f(v) the density of the open gap
//! (−∂I/∂v), the bracket is (β/(β+tₓ))ˢ · S, S = I_{A/(A+u)}(R, k) + ∫₀ᵘ f(v)(1 − G(v)) dv
//! (no purchase in (tₓ, T]: the gap outlasted u, or it did not but the customer had left).
//! In t = v/(A+v) the gap is Beta(k, R) and G = ((1−t)/(1+ct))ˢ, c = (α−β)/(β+tₓ); with
//! t = Yy, Y = u/(A+u):
//!
//! ∫₀ᵘ f(1−G) dv = Yᵏ/B(k, R) ∫₀¹ yᵏ⁻¹ (1−Yy)^(R−1) (1 − ((1−Yy)/(1+cYy))ˢ) dy,
//!
//! both parts of S positive (no cancellation), the yᵏ⁻¹ folded into the weights of rules computed
//! once per fit (Gauss–Jacobi or tanh-sinh, [`Rules`]), two logarithms and two exponentials per
//! node (1 + cYy = (1−Yy)(1 + Yy(A/(β+tₓ))/(1−Yy)), so G takes one logarithm). The gradient is analytic: S = 1 − P
//! with P = Yᵏ/B(k, R) ∫ yᵏ⁻¹ (1−Yy)^(R+s−1) (1+cYy)^(−s) dy, whose integrand differentiates
//! in closed form (∂ ln B(k, R)/∂R = ψ(R) − ψ(R+k)); where S < 1e-6 that difference would lose
//! digits, and that row's gradient is taken by central differences of its value instead.

#[allow(unused_imports)]
use crate::prelude::*;

use super::special::{
    digamma, gauss_power_nodes, integrate_unit, ln_beta, ln_beta_inc_given, ln_gamma, power_nodes,
    Node,
};
use super::{fit_positive_with_gradient, log_add, Customer, Fitted, Rows};
use crate::error::invalid;
use crate::Error;

/// The quadrature rules for ∫₀¹ yᵏ⁻¹ φ(y) dy of one fit (one k), and which row takes which.
///
/// φ = (1−Yy)^(R−1)·(…) is smooth in (0, 1) but for three things: a branch point at y = 1/Y
/// (near 1 when u ≫ A), one at y = −1/(cY) (near 0 when α ≫ β + tₓ), and a decay on the scale
/// 1/λ, λ = (R+s−1)Y (many purchases). Away from those (Y ≤ 0.8, cY ≤ 2, λ ≤ 20, where 1,003
/// of CDNOW's 1,016 distinct rows lie at the k = 0.7 optimum) 16 Gauss–Jacobi nodes agree with
/// the 1/32-step tanh-sinh rule to about 1e-13; elsewhere tanh-sinh, which copes with end singularities, at step 1/8 (λ ≤ 20),
/// 1/16 (λ ≤ 300) or 1/32. Measured in `the_rules_agree_with_the_finest_rule`.
struct Rules {
    gauss: Vec<Node>,
    coarse: Vec<Node>,
    fine: Vec<Node>,
    finest: Vec<Node>,
}

impl Rules {
    fn new(k: f64) -> Rules {
        Rules {
            gauss: gauss_power_nodes(k - 1.0, 16),
            coarse: power_nodes(k - 1.0, 8),
            fine: power_nodes(k - 1.0, 16),
            finest: power_nodes(k - 1.0, 32),
        }
    }

    fn pick(&self, span: f64, decay: f64, pole: f64) -> &[Node] {
        if span <= 0.8 && decay <= 20.0 && pole <= 2.0 {
            &self.gauss
        } else if decay <= 20.0 {
            &self.coarse
        } else if decay <= 300.0 {
            &self.fine
        } else {
            &self.finest
        }
    }
}

/// ln 1e-6: below S = 1e-6 a row's gradient is taken by differences (see the module notes).
const LN_SMALL_S: f64 = -13.815_510_557_964_274;

/// What the likelihood needs per distinct frequency x, at the model's r and k.
#[derive(Debug, Clone, Copy)]
struct Frequency {
    /// R = r + kx.
    rkx: f64,
    /// ln Γ(R).
    ln_gamma_rkx: f64,
    /// ln B(R, k).
    ln_beta: f64,
    /// ψ(R) and ψ(R + k) (NaN unless the gradient is wanted).
    digamma_rkx: f64,
    digamma_rkx_k: f64,
}

impl Frequency {
    fn new(m: &ParetoGamma, x: u32, gradient: bool) -> Frequency {
        let rkx = m.r + m.k * f64::from(x);
        let (digamma_rkx, digamma_rkx_k) = if gradient {
            (digamma(rkx), digamma(rkx + m.k))
        } else {
            (f64::NAN, f64::NAN)
        };
        Frequency {
            rkx,
            ln_gamma_rkx: ln_gamma(rkx),
            ln_beta: ln_beta(rkx, m.k),
            digamma_rkx,
            digamma_rkx_k,
        }
    }
}

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
        let rules = Rules::new(k);
        let model = |p: &[f64]| ParetoGamma {
            k,
            r: p[0],
            alpha: p[1],
            s: p[2],
            beta: p[3],
        };
        fit_positive_with_gradient(&from, model, |m| {
            let (ll, g) = m.rows_log_likelihood(&rows, &rules, true);
            (ll, g.to_vec())
        })
    }

    /// Log-likelihood of the summaries without the constant C (summed).
    pub fn log_likelihood(&self, customers: &[Customer]) -> Result<f64, Error> {
        let rules = Rules::new(self.k);
        Ok(self
            .rows_log_likelihood(&Rows::new(customers)?, &rules, false)
            .0)
    }

    /// The summed log-likelihood and, if `gradient`, its gradient in (r, α, s, β).
    fn rows_log_likelihood(&self, rows: &Rows, rules: &Rules, gradient: bool) -> (f64, [f64; 4]) {
        let head = self.r * self.alpha.ln() - ln_gamma(self.r);
        let head_slope = [self.alpha.ln() - digamma(self.r), self.r / self.alpha];
        let mut cached: Option<(u32, Frequency)> = None;
        let mut total = 0.0;
        let mut sum = [0.0; 4];
        for (c, n) in &rows.rows {
            let f = match cached {
                Some((x, f)) if x == c.frequency => f,
                _ => {
                    let f = Frequency::new(self, c.frequency, gradient);
                    cached = Some((c.frequency, f));
                    f
                }
            };
            let (ll, g) = self.row(c, &f, rules, gradient);
            total += n * (head + ll);
            if gradient {
                let g = if g[0].is_nan() {
                    self.row_differenced(c, rules)
                } else {
                    g
                };
                for (s, g) in sum.iter_mut().zip(g) {
                    *s += n * g;
                }
                sum[0] += n * head_slope[0];
                sum[1] += n * head_slope[1];
            }
        }
        (total, sum)
    }

    /// One row's log-likelihood without the head r ln α − ln Γ(r), and (if `gradient`) its
    /// gradient in (r, α, s, β); NaN in the gradient where S < 1e-6 (see the module notes).
    fn row(&self, c: &Customer, f: &Frequency, rules: &Rules, gradient: bool) -> (f64, [f64; 4]) {
        let (k, s, rkx) = (self.k, self.s, f.rkx);
        let near = self.alpha + c.recency;
        let b0 = self.beta + c.recency;
        let u = c.age - c.recency;
        let kept = (self.beta / b0).ln();
        let head = f.ln_gamma_rkx - rkx * near.ln() + s * kept;
        let mut g = [
            f.digamma_rkx - near.ln(),
            -rkx / near,
            kept,
            s / self.beta - s / b0,
        ];
        if u <= 0.0 {
            return (head, g);
        }
        let span = u / (near + u); // Y
        let rest = near / (near + u); // 1 − Y
        let cc = (self.alpha - self.beta) / b0;
        let ratio = near / b0; // 1 + c, without c's cancellation when β ≫ α
        let nodes = rules.pick(span, (rkx + s - 1.0) * span, cc * span);
        // Σ weight·(1−Yy)^(R−1) (for I_Y(k, R)), the same times 1 − G (for J), and, for the
        // gradient, times G: alone (P) and with each log-derivative of the integrand.
        let (mut mass, mut lost) = (0.0, 0.0);
        let (mut p, mut p_r, mut p_y, mut p_c, mut p_s) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for n in nodes {
            let t = span * n.y;
            let one_t = rest + span * n.q;
            let l1 = one_t.ln();
            // 1 + ct = (1−t)(1 + t(1+c)/(1−t)): ln G = s·ln((1−t)/(1+ct)) in one logarithm.
            let ct = one_t + t * ratio;
            let ln_kept = -(t * ratio / one_t).ln_1p();
            let base = n.weight * ((rkx - 1.0) * l1).exp();
            let gone = (s * ln_kept).exp_m1(); // G − 1
            mass += base;
            lost -= base * gone;
            if gradient {
                let kept = base * (1.0 + gone);
                p += kept;
                p_r += kept * l1;
                p_y -= kept * n.y * ((rkx + s - 1.0) / one_t + s * cc / ct);
                p_c -= kept * s * t / ct;
                p_s += kept * ln_kept;
            }
        }
        let ln_front = k * span.ln() - f.ln_beta;
        let front = ln_front.exp();
        let below = front * mass; // I_Y(k, R) = 1 − I_{1−Y}(R, k)
        let ln_alive = if below <= 0.5 {
            (-below).ln_1p()
        } else {
            ln_beta_inc_given(rkx, k, rest, f.ln_beta)
        };
        let ln_s = log_add(ln_alive, ln_front + lost.ln());
        if !gradient {
            return (head + ln_s, g);
        }
        if ln_s < LN_SMALL_S {
            return (head + ln_s, [f64::NAN; 4]);
        }
        let scale = (ln_front - ln_s).exp(); // Yᵏ/B(k, R) / S
        let d_r = scale * (p_r - (f.digamma_rkx - f.digamma_rkx_k) * p);
        let d_y = scale * (k / span * p + p_y);
        let (d_c, d_s) = (scale * p_c, scale * p_s);
        // ∂ ln S = −∂P/S; Y = u/(A+u), c = A/(β+tₓ) − 1.
        g[0] -= d_r;
        g[1] -= -d_y * span / (near + u) + d_c / b0;
        g[2] -= d_s;
        g[3] -= -d_c * near / (b0 * b0);
        (head + ln_s, g)
    }

    /// One row's gradient by central differences of its log-likelihood in the parameters'
    /// logarithms (for rows where S is too small for the analytic form), head included.
    fn row_differenced(&self, c: &Customer, rules: &Rules) -> [f64; 4] {
        const H: f64 = 1e-5;
        let at = |i: usize, h: f64| {
            let mut m = *self;
            let p = [&mut m.r, &mut m.alpha, &mut m.s, &mut m.beta];
            *p[i] *= h.exp();
            let f = Frequency::new(&m, c.frequency, false);
            m.r * m.alpha.ln() - ln_gamma(m.r) + m.row(c, &f, rules, false).0
        };
        let p = [self.r, self.alpha, self.s, self.beta];
        let mut g = [0.0; 4];
        for (i, g) in g.iter_mut().enumerate() {
            *g = (at(i, H) - at(i, -H)) / (2.0 * H * p[i]);
        }
        // The caller adds the head's slope to every row; take it back out here.
        g[0] -= self.alpha.ln() - digamma(self.r);
        g[1] -= self.r / self.alpha;
        g
    }

    /// ln of the bracket's two parts: active at T, and dropped out in (tₓ, T]; `fine` takes the
    /// integral with the 289-point rule, else the 73-point one.
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
            super::special::integrate_unit_coarse(integrand)
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
    use super::super::fit_positive_with_gradient;
    use super::super::special::ln_beta_inc;
    use super::super::{ParetoNbd, RepeatBuying};
    use super::*;

    const PN: ParetoNbd = ParetoNbd {
        r: 0.55,
        alpha: 10.58,
        s: 0.61,
        beta: 11.67,
    };

    /// `m` with its `i`-th parameter (r, α, s, β) multiplied by `exp(h)`: a step of `h` in that
    /// log-parameter, for the central differences below.
    fn stepped(m: &ParetoGamma, i: usize, h: f64) -> ParetoGamma {
        let mut p = [m.r, m.alpha, m.s, m.beta];
        p[i] *= h.exp();
        ParetoGamma {
            k: m.k,
            r: p[0],
            alpha: p[1],
            s: p[2],
            beta: p[3],
        }
    }

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

    /// The likelihood as it was fitted before the integration by parts: the bracket's two parts
    /// with an incomplete beta at every node of the 289-point rule (`fine`, slow and accurate)
    /// or of the 73-point rule the fit used until f6fd038.
    fn reference_rows(m: &ParetoGamma, rows: &Rows, fine: bool) -> f64 {
        rows.rows
            .iter()
            .map(|(c, n)| {
                let rkx = m.r + m.k * f64::from(c.frequency);
                let (alive, dead) = m.log_parts(c, fine);
                n * (m.r * m.alpha.ln() - ln_gamma(m.r) + ln_gamma(rkx)
                    - rkx * (m.alpha + c.recency).ln()
                    + log_add(alive, dead))
            })
            .sum()
    }

    fn reference_log_likelihood(m: &ParetoGamma, customers: &[Customer]) -> f64 {
        reference_rows(m, &Rows::new(customers).unwrap(), true)
    }

    /// The CDNOW summary cohort (`../shared/data`).
    fn cdnow() -> Vec<Customer> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/data/cdnow/cdnow_customers_summary_with_transactions.csv"
        );
        std::fs::read_to_string(path)
            .expect("the CDNOW summary file")
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<f64> = l.split(',').map(|v| v.parse().unwrap()).collect();
                Customer::new(f[1] as u32, f[2], f[3]).unwrap()
            })
            .collect()
    }

    /// Each lever of the fit's cost on its own, in one process (median of 15 interleaved fits
    /// at k = 0.7): the rules (tanh-sinh 1/8 for every row; 20 and 16 Gauss–Jacobi nodes), and
    /// the analytic gradient against central differences of the same likelihood. In release:
    /// `cargo test --release -p affinity --lib fit_levers -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn fit_levers_on_cdnow() {
        let customers = cdnow();
        let rows = Rows::new(&customers).unwrap();
        let k = 0.7;
        let model = |p: &[f64]| ParetoGamma {
            k,
            r: p[0],
            alpha: p[1],
            s: p[2],
            beta: p[3],
        };
        let with_gauss = |n: usize| Rules {
            gauss: gauss_power_nodes(k - 1.0, n),
            ..Rules::new(k)
        };
        let tanh_sinh = Rules {
            gauss: power_nodes(k - 1.0, 8),
            ..Rules::new(k)
        };
        let variants: [(&str, Rules, bool); 4] = [
            (
                "tanh-sinh 1/8 (52 nodes) everywhere, analytic gradient",
                tanh_sinh,
                true,
            ),
            (
                "20 Gauss-Jacobi nodes, analytic gradient",
                with_gauss(20),
                true,
            ),
            (
                "16 Gauss-Jacobi nodes, analytic gradient (this fit)",
                with_gauss(16),
                true,
            ),
            (
                "16 Gauss-Jacobi nodes, central differences",
                with_gauss(16),
                false,
            ),
        ];
        let mut times = vec![Vec::new(); variants.len()];
        let mut fits = Vec::new();
        for round in 0..15 {
            for (i, (_, rules, analytic)) in variants.iter().enumerate() {
                let started = std::time::Instant::now();
                let fit = if *analytic {
                    fit_positive_with_gradient(&[1.0; 4], model, |m| {
                        let (ll, g) = m.rows_log_likelihood(&rows, rules, true);
                        (ll, g.to_vec())
                    })
                } else {
                    super::super::fit_positive(&[1.0; 4], model, |m| {
                        m.rows_log_likelihood(&rows, rules, false).0
                    })
                }
                .unwrap();
                times[i].push(started.elapsed().as_secs_f64() * 1e3);
                if round == 0 {
                    fits.push(fit);
                }
            }
        }
        for (((name, _, _), t), fit) in variants.iter().zip(&mut times).zip(&fits) {
            t.sort_by(f64::total_cmp);
            println!(
                "{name}: median {:.1} ms (min {:.1}), {} evaluations, LL {:.6}, r {:.7} α {:.6} s {:.6} β {:.5}",
                t[7], t[0], fit.evaluations, fit.log_likelihood, fit.model.r, fit.model.alpha, fit.model.s, fit.model.beta
            );
        }
    }

    /// The fit as it was until f6fd038 (73-point rule, central differences, Nelder–Mead) beside
    /// this one on the CDNOW cohort, with the fine reference's slopes at both optima and the rule
    /// each row takes. Seconds in release, so not in the default run:
    /// `cargo test --release -p affinity --lib earlier_fit -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn earlier_fit_beside_this_one_on_cdnow() {
        let customers = cdnow();
        let rows = Rows::new(&customers).unwrap();
        for k in [0.7, 1.5] {
            let model = |p: &[f64]| ParetoGamma {
                k,
                r: p[0],
                alpha: p[1],
                s: p[2],
                beta: p[3],
            };
            let started = std::time::Instant::now();
            let new = ParetoGamma::fit_given_k(&customers, k).unwrap();
            let new_s = started.elapsed().as_secs_f64();
            let started = std::time::Instant::now();
            let old =
                super::super::fit_positive(&[1.0; 4], model, |m| reference_rows(m, &rows, false))
                    .unwrap();
            let old_s = started.elapsed().as_secs_f64();
            println!("k {k}: this fit {new:?} in {new_s:.3} s\n  earlier {old:?} in {old_s:.3} s");
            for (name, m) in [("this", new.model), ("earlier", old.model)] {
                let slopes: Vec<String> = (0..4)
                    .map(|i| {
                        let at = |h: f64| reference_rows(&stepped(&m, i, h), &rows, true);
                        format!("{:.1e}", (at(1e-4) - at(-1e-4)) / 2e-4)
                    })
                    .collect();
                println!(
                    "  {name}: reference LL {:.6}, its slopes in the log-parameters {slopes:?}",
                    reference_rows(&m, &rows, true)
                );
            }
            let (m, rules) = (new.model, Rules::new(k));
            let mut gauss = 0;
            for (c, _) in &rows.rows {
                let f = Frequency::new(&m, c.frequency, false);
                let (near, u) = (m.alpha + c.recency, c.age - c.recency);
                let span = u / (near + u);
                let cc = (m.alpha - m.beta) / (m.beta + c.recency);
                let nodes = rules.pick(span, (f.rkx + m.s - 1.0) * span, cc * span);
                gauss += usize::from(u > 0.0 && nodes.len() == rules.gauss.len());
            }
            println!(
                "  rows {}, on the Gauss–Jacobi rule {gauss}",
                rows.rows.len()
            );
        }
    }

    /// Customers spread over CDNOW's ranges (weeks) and past them.
    fn spread() -> Vec<Customer> {
        let mut v = Vec::new();
        for (i, x) in [0u32, 1, 2, 3, 5, 8, 14, 30].into_iter().enumerate() {
            for (j, age) in [0.5, 7.0, 27.3, 38.9, 77.0].into_iter().enumerate() {
                let tx = if x == 0 {
                    0.0
                } else {
                    age * [0.05, 0.4, 0.93, 1.0][(i + j) % 4]
                };
                v.push(Customer::new(x, tx, age).unwrap());
            }
        }
        v
    }

    /// Parameter points around and far from the CDNOW optimum (α ≫ β and β ≫ α too).
    fn points() -> Vec<ParetoGamma> {
        let mut v = Vec::new();
        for k in [0.3, 0.7, 1.0, 2.3] {
            for (r, alpha, s, beta) in [
                (0.55, 10.58, 0.61, 11.67),
                (1.0, 1.0, 1.0, 1.0),
                (0.2, 40.0, 2.5, 0.8),
                (3.0, 2.0, 0.1, 90.0),
            ] {
                v.push(ParetoGamma {
                    k,
                    r,
                    alpha,
                    s,
                    beta,
                });
            }
        }
        v
    }

    #[test]
    fn fit_likelihood_matches_the_reference() {
        let customers = spread();
        for m in points() {
            for c in &customers {
                let got = m.log_likelihood(&[*c]).unwrap();
                let want = reference_log_likelihood(&m, &[*c]);
                assert!(
                    (got - want).abs() < 1e-9 * want.abs().max(1.0),
                    "{m:?} {c:?}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn the_rules_agree_with_the_finest_rule() {
        // Every row of `spread` at every parameter point, through the rule `Rules::pick`
        // chooses, against the 1/32-step tanh-sinh rule for all rows: the log-likelihood and
        // the analytic gradient.
        let customers = spread();
        let mut picked = [0usize; 2];
        for m in points() {
            let rules = Rules::new(m.k);
            let only_finest = Rules {
                gauss: rules.finest.clone(),
                coarse: rules.finest.clone(),
                fine: rules.finest.clone(),
                finest: rules.finest.clone(),
            };
            for c in &customers {
                let f = Frequency::new(&m, c.frequency, true);
                let (l, g) = m.row(c, &f, &rules, true);
                let (l0, g0) = m.row(c, &f, &only_finest, true);
                assert!(
                    (l - l0).abs() < 1e-11 * l0.abs().max(1.0),
                    "{m:?} {c:?}: {l} {l0}"
                );
                for i in 0..4 {
                    assert!(
                        g0[i].is_nan() || (g[i] - g0[i]).abs() < 1e-8 * g0[i].abs().max(1.0),
                        "{m:?} {c:?} d{i}: {} {}",
                        g[i],
                        g0[i]
                    );
                }
                let (near, u) = (m.alpha + c.recency, c.age - c.recency);
                let span = u / (near + u);
                let cc = (m.alpha - m.beta) / (m.beta + c.recency);
                let nodes = rules.pick(span, (f.rkx + m.s - 1.0) * span, cc * span);
                picked[usize::from(nodes.len() == rules.gauss.len())] += 1;
            }
        }
        // Both kinds of rule were exercised.
        assert!(picked[0] > 100 && picked[1] > 100, "{picked:?}");
    }

    #[test]
    fn analytic_gradient_matches_central_differences() {
        let customers = spread();
        let rows = Rows::new(&customers).unwrap();
        for m in points() {
            let rules = Rules::new(m.k);
            let (_, g) = m.rows_log_likelihood(&rows, &rules, true);
            let p = [m.r, m.alpha, m.s, m.beta];
            for i in 0..4 {
                let at = |h: f64| {
                    stepped(&m, i, h)
                        .rows_log_likelihood(&rows, &rules, false)
                        .0
                };
                let h = 1e-5;
                let want = (at(h) - at(-h)) / (2.0 * h) / p[i];
                assert!(
                    (g[i] - want).abs() < 1e-6 * want.abs().max(1.0),
                    "{m:?} d{i}: {} vs {want}",
                    g[i]
                );
            }
        }
    }

    #[test]
    fn the_fit_is_at_the_reference_optimum() {
        // The reference likelihood's slope at the fitted point is flat in every log-parameter,
        // and no step of 1e-3 in any of them raises the reference likelihood.
        let customers = spread();
        for k in [0.7, 2.3] {
            let fit = ParetoGamma::fit_given_k(&customers, k).unwrap();
            let m = fit.model;
            let want = reference_log_likelihood(&m, &customers);
            assert!((fit.log_likelihood - want).abs() < 1e-8 * want.abs());
            for i in 0..4 {
                let at = |h: f64| reference_log_likelihood(&stepped(&m, i, h), &customers);
                let slope = (at(1e-4) - at(-1e-4)) / 2e-4;
                assert!(slope.abs() < 1e-4, "k {k} d{i}: slope {slope} at {m:?}");
                assert!(at(1e-3) <= want && at(-1e-3) <= want, "k {k} d{i}");
            }
        }
    }

    #[test]
    fn small_s_rows_take_the_differenced_gradient() {
        // Many purchases in a short spell, then a long silence: S far below 1e-6.
        let c = Customer::new(40, 5.0, 60.0).unwrap();
        let m = ParetoGamma {
            s: 0.01,
            beta: 1e5,
            ..with_k(0.7)
        };
        let rows = Rows::new(&[c]).unwrap();
        let rules = Rules::new(m.k);
        let f = Frequency::new(&m, c.frequency, true);
        let (ll, g) = m.row(&c, &f, &rules, true);
        assert!(ll.is_finite() && g[0].is_nan(), "{ll} {g:?}");
        let (_, g) = m.rows_log_likelihood(&rows, &rules, true);
        assert!(g.iter().all(|v| v.is_finite()), "{g:?}");
        let want = reference_log_likelihood(&m, &[c]);
        let got = m.log_likelihood(&[c]).unwrap();
        assert!((got - want).abs() < 1e-8 * want.abs(), "{got} vs {want}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Over CDNOW-like and wider ranges of rows and parameters the fit's likelihood is the
        /// reference's, and its gradient is finite.
        #[test]
        fn fit_path_matches_the_reference_anywhere(
            x in 0u32..80,
            share in 0.0f64..=1.0,
            age in 0.0f64..300.0,
            k in 0.2f64..3.0,
            r in 0.05f64..5.0,
            alpha in 0.1f64..100.0,
            s in 0.05f64..5.0,
            beta in 0.1f64..100.0,
        ) {
            let tx = if x == 0 { 0.0 } else { age * share };
            let c = Customer::new(x, tx, age).unwrap();
            let m = ParetoGamma { k, r, alpha, s, beta };
            let got = m.log_likelihood(&[c]).unwrap();
            let want = reference_log_likelihood(&m, &[c]);
            proptest::prop_assert!(
                (got - want).abs() < 1e-8 * want.abs().max(1.0),
                "{:?} {:?}: {} vs {}", m, c, got, want
            );
            let (rows, rules) = (Rows::new(&[c]).unwrap(), Rules::new(k));
            let (ll, g) = m.rows_log_likelihood(&rows, &rules, true);
            proptest::prop_assert!(ll.is_finite() && g.iter().all(|v| v.is_finite()), "{:?}", g);
            // The gradient against central differences in the log-parameters.
            let p = [r, alpha, s, beta];
            for i in 0..4 {
                let at = |h: f64| stepped(&m, i, h).rows_log_likelihood(&rows, &rules, false).0;
                let want = (at(1e-5) - at(-1e-5)) / 2e-5;
                let got = g[i] * p[i];
                proptest::prop_assert!(
                    (got - want).abs() < 1e-5 * want.abs().max(1.0),
                    "{:?} {:?} d{}: {} vs {}", m, c, i, got, want
                );
            }
        }

        /// Zero repeats, huge T, huge x: a finite log-likelihood and gradient.
        #[test]
        fn fit_path_is_finite_at_extremes(
            x in 0u32..2_000_000,
            share in 0.0f64..=1.0,
            age in 0.0f64..1e8,
            k in 0.2f64..12.0,
        ) {
            let tx = if x == 0 { 0.0 } else { age * share };
            let c = Customer::new(x, tx, age).unwrap();
            let m = with_k(k);
            let (ll, g) = m.rows_log_likelihood(&Rows::new(&[c]).unwrap(), &Rules::new(k), true);
            proptest::prop_assert!(ll.is_finite() && g.iter().all(|v| v.is_finite()), "{:?} {} {:?}", c, ll, g);
        }
    }

    #[test]
    fn a_fit_started_at_its_optimum_stays_there() {
        let customers = spread();
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
