//! Special functions the models need: log-gamma, log-beta, the Gauss hypergeometric series and a
//! tanh-sinh quadrature. Hand-written (no dependency) so the engine stays dependency-free and
//! compiles unchanged for `wasm32-unknown-unknown`; each is checked against published values in
//! the tests below.

#[allow(unused_imports)]
use crate::prelude::*;

use core::f64::consts::PI;

/// Lanczos coefficients for g = 7, n = 9 (the widely published set; |error| < 2e-15 in Γ).
const LANCZOS_G: f64 = 7.0;
const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

/// ln |Γ(x)| (Lanczos approximation, reflection below 1/2). `+∞` at the poles 0, −1, −2, …
pub fn ln_gamma(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.5 {
        let s = (PI * x).sin();
        if s == 0.0 {
            return f64::INFINITY;
        }
        // Γ(x) Γ(1 − x) = π / sin(π x)
        return (PI / s.abs()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + LANCZOS_G + 0.5;
    let mut sum = LANCZOS[0];
    for (i, c) in LANCZOS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b), for a, b > 0.
pub fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// Most terms a hypergeometric series may take before it is cut (reached only as z → 1).
const SERIES_TERMS: usize = 200_000;

/// The Gauss hypergeometric series ₂F₁(a, b; c; z) = Σ (a)ₙ (b)ₙ / ((c)ₙ n!) zⁿ for 0 ≤ z < 1
/// and c > 0. Callers transform their arguments first (Euler's identity) so that the series
/// converges quickly; it stops when a term is below 1e-16 of the sum, or after 200,000 terms.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 1.0;
    // A negative a or b makes a term pass near zero before the series settles; do not stop
    // before the index has gone past it.
    let past = (-a).max(-b).max(0.0);
    for n in 0..SERIES_TERMS {
        let n = n as f64;
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        if term.abs() <= 1e-16 * sum.abs() && n >= past {
            break;
        }
    }
    sum
}

/// ∫₀¹ f(p) dp by tanh-sinh (double-exponential) quadrature, which copes with integrable
/// singularities at both ends. `f` receives `(p, 1 − p)`, both computed without cancellation.
pub fn integrate_unit(mut f: impl FnMut(f64, f64) -> f64) -> f64 {
    // Step 1/32 over |τ| ≤ 4.5: the abscissae reach within 1e-300 of the ends.
    const H: f64 = 1.0 / 32.0;
    const STEPS: i32 = 144;
    let mut sum = 0.0;
    for k in -STEPS..=STEPS {
        let tau = f64::from(k) * H;
        let u = 0.5 * PI * tau.sinh();
        // p = (1 + tanh u)/2 = 1/(1 + e^{−2u}); 1 − p = 1/(1 + e^{2u}).
        let p = 1.0 / (1.0 + (-2.0 * u).exp());
        let q = 1.0 / (1.0 + (2.0 * u).exp());
        if p <= 0.0 || q <= 0.0 {
            continue;
        }
        // dp/dτ = (π/2) cosh τ · p · q · 2
        let w = PI * tau.cosh() * p * q;
        let v = f(p, q);
        if v.is_finite() {
            sum += w * v;
        }
    }
    sum * H
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol * b.abs().max(1.0), "{a} vs {b}");
    }

    #[test]
    fn ln_gamma_known_values() {
        // Γ(1) = Γ(2) = 1, Γ(1/2) = √π, Γ(10) = 9! = 362880, Γ(−1/2) = −2√π.
        close(ln_gamma(1.0), 0.0, 1e-14);
        close(ln_gamma(2.0), 0.0, 1e-14);
        close(ln_gamma(0.5), PI.sqrt().ln(), 1e-14);
        close(ln_gamma(10.0), 362_880f64.ln(), 1e-14);
        close(ln_gamma(-0.5), (2.0 * PI.sqrt()).ln(), 1e-13);
        // ln Γ(100) = ln 99! = 359.13420536957539878 (tables).
        close(ln_gamma(100.0), 359.134_205_369_575_4, 1e-14);
        // Stirling at 1e10: (x − ½) ln x − x + ½ ln 2π + 1/(12x).
        let x = 1e10f64;
        close(
            ln_gamma(x),
            (x - 0.5) * x.ln() - x + 0.5 * (2.0 * PI).ln() + 1.0 / (12.0 * x),
            1e-14,
        );
        assert_eq!(ln_gamma(0.0), f64::INFINITY);
    }

    #[test]
    fn hyp2f1_closed_forms() {
        // ₂F₁(1, 1; 2; z) = −ln(1 − z)/z; ₂F₁(a, b; b; z) = (1 − z)^(−a).
        let z = 0.7;
        close(hyp2f1(1.0, 1.0, 2.0, z), -(1.0f64 - z).ln() / z, 1e-13);
        close(hyp2f1(0.3, 2.5, 2.5, z), (1.0f64 - z).powf(-0.3), 1e-13);
        // A large parameter converges at once: ₂F₁(1, b; b; z) = 1/(1 − z) for b = 10⁶.
        close(hyp2f1(1.0, 1e6, 1e6, 0.5), 2.0, 1e-12);
        // Terminating series: ₂F₁(−2, b; c; z) = 1 − 2bz/c + b(b+1)z²/(c(c+1)).
        let (b, c) = (1.5, 3.0);
        close(
            hyp2f1(-2.0, b, c, z),
            1.0 - 2.0 * b * z / c + b * (b + 1.0) * z * z / (c * (c + 1.0)),
            1e-14,
        );
    }

    #[test]
    fn quadrature_handles_end_singularities() {
        // ∫ p^(−1/2) (1 − p)^(−1/2) dp = B(½, ½) = π; ∫ p² dp = 1/3.
        close(integrate_unit(|p, q| 1.0 / (p * q).sqrt()), PI, 1e-9);
        close(integrate_unit(|p, _| p * p), 1.0 / 3.0, 1e-12);
    }
}
