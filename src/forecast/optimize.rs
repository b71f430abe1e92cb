//! Minimisers for the maximum-likelihood fits: quasi-Newton BFGS on central-difference
//! gradients (or the model's own, [`minimize_with_gradient`]), and a Nelder–Mead search (adaptive coefficients of Gao & Han 2012) that starts
//! from the BFGS point and confirms it.
//!
//! The models fit two to four positive parameters; they minimise the negative log-likelihood
//! over the logarithms of the parameters. BFGS takes the fit most of the way in a few hundred
//! evaluations; the derivative-free Nelder–Mead run then either confirms the point (a handful of
//! evaluations on a small simplex) or keeps going where the surface is too flat or too rough
//! for finite differences (the Pareto/NBD valley). Non-finite values are treated as +∞, so both
//! simply step back from regions where a likelihood overflows.

#[allow(unused_imports)]
use crate::prelude::*;

/// The result of a minimisation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Minimum {
    /// The best point found.
    pub x: Vec<f64>,
    /// The objective at `x`.
    pub value: f64,
    /// Objective evaluations used.
    pub evaluations: usize,
}

/// Stop when the simplex spans at most this much in every coordinate and in value.
const X_TOL: f64 = 1e-7;
const F_TOL: f64 = 1e-10;

/// Minimises `f` from `start`: BFGS, then Nelder–Mead from its result.
pub(crate) fn minimize(
    f: impl FnMut(&[f64]) -> f64,
    start: &[f64],
    step: f64,
    max_evaluations: usize,
) -> Minimum {
    search(&mut Differenced(f), start, step, max_evaluations)
}

/// As [`minimize`] with the gradient supplied: `f` returns the value and the gradient at a
/// point together (one evaluation), so BFGS needs no finite differences.
pub(crate) fn minimize_with_gradient(
    f: impl FnMut(&[f64]) -> (f64, Vec<f64>),
    start: &[f64],
    step: f64,
    max_evaluations: usize,
) -> Minimum {
    search(
        &mut Analytic { f, last: None },
        start,
        step,
        max_evaluations,
    )
}

/// What BFGS needs of an objective: its value, and its gradient at the point last valued.
trait Objective {
    fn value(&mut self, x: &[f64]) -> f64;
    fn gradient(&mut self, x: &[f64], used: &mut usize) -> Vec<f64>;
}

/// An objective of values only, differentiated by central differences.
struct Differenced<F>(F);

impl<F: FnMut(&[f64]) -> f64> Objective for Differenced<F> {
    fn value(&mut self, x: &[f64]) -> f64 {
        (self.0)(x)
    }
    fn gradient(&mut self, x: &[f64], used: &mut usize) -> Vec<f64> {
        gradient(&mut self.0, x, used)
    }
}

/// An objective that returns its gradient with each value; the last one is kept, so the
/// gradient at the point the line search accepted costs nothing more.
struct Analytic<F> {
    f: F,
    last: Option<(Vec<f64>, Vec<f64>)>,
}

impl<F: FnMut(&[f64]) -> (f64, Vec<f64>)> Objective for Analytic<F> {
    fn value(&mut self, x: &[f64]) -> f64 {
        let (v, g) = (self.f)(x);
        self.last = Some((x.to_vec(), g));
        v
    }
    fn gradient(&mut self, x: &[f64], used: &mut usize) -> Vec<f64> {
        match &self.last {
            Some((at, g)) if at.as_slice() == x => g.clone(),
            _ => {
                *used += 1;
                let (_, g) = (self.f)(x);
                g
            }
        }
    }
}

fn search(f: &mut impl Objective, start: &[f64], step: f64, max_evaluations: usize) -> Minimum {
    let quasi = bfgs(f, start, max_evaluations / 2);
    if quasi.converged {
        return quasi.minimum;
    }
    let quasi = quasi.minimum;
    let (from, scale) = if quasi.value.is_finite() {
        (quasi.x.as_slice(), step * 0.02)
    } else {
        (start, step)
    };
    let mut m = nelder_mead(
        |x: &[f64]| f.value(x),
        from,
        scale,
        max_evaluations.saturating_sub(quasi.evaluations),
    );
    m.evaluations += quasi.evaluations;
    if quasi.value < m.value {
        m.x = quasi.x;
        m.value = quasi.value;
    }
    m
}

/// BFGS stops when every gradient component is below this share of 1 + |f| (per unit of
/// log-parameter: 1e-4 for a likelihood of 10⁴, whose finite-difference noise is near 1e-6).
const G_TOL: f64 = 1e-8;

fn flat(g: &[f64], f: f64) -> bool {
    g.iter().all(|v| v.abs() <= G_TOL * (1.0 + f.abs()))
}

/// The BFGS result, and whether it met the gradient tolerance.
struct Quasi {
    minimum: Minimum,
    converged: bool,
}

/// Central-difference step in the (logarithmic) parameters.
const H: f64 = 1e-5;

fn gradient(f: &mut impl FnMut(&[f64]) -> f64, x: &[f64], used: &mut usize) -> Vec<f64> {
    let mut g = vec![0.0; x.len()];
    let mut y = x.to_vec();
    for i in 0..x.len() {
        y[i] = x[i] + H;
        let up = finite(f(&y));
        y[i] = x[i] - H;
        let down = finite(f(&y));
        y[i] = x[i];
        *used += 2;
        g[i] = (up - down) / (2.0 * H);
    }
    g
}

/// BFGS with a backtracking (Armijo) line search; stops when a step no longer lowers `f`.
fn bfgs(f: &mut impl Objective, start: &[f64], budget: usize) -> Quasi {
    let n = start.len();
    let mut used = 1;
    let mut x = start.to_vec();
    let mut fx = finite(f.value(&x));
    let mut g = f.gradient(&x, &mut used);
    let mut inv: Vec<Vec<f64>> = (0..n)
        .map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect())
        .collect();
    while fx.is_finite() && used < budget && g.iter().all(|v| v.is_finite()) {
        if flat(&g, fx) {
            // Started at a minimum (a warm start from a previous fit): no line search.
            break;
        }
        let d: Vec<f64> = (0..n).map(|i| -dot(&inv[i], &g)).collect();
        let slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction: restart from steepest descent.
            inv = (0..n)
                .map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect())
                .collect();
            if dot(&g, &g) == 0.0 || used >= budget {
                break;
            }
            used += 1; // count the reset, so the loop always ends
            continue;
        }
        // At most one unit in any log-parameter per step (a factor e): the first steps on an
        // unscaled Hessian would otherwise leap to overflowing parameters.
        let longest = d.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut t = if longest > 1.0 { 1.0 / longest } else { 1.0 };
        let (next, fnext) = loop {
            let y: Vec<f64> = x.iter().zip(&d).map(|(x, d)| x + t * d).collect();
            let fy = finite(f.value(&y));
            used += 1;
            if fy <= fx + 1e-4 * t * slope || t < 1e-12 {
                break (y, fy);
            }
            t *= 0.5;
        };
        if fnext >= fx {
            break;
        }
        let gnext = f.gradient(&next, &mut used);
        let s: Vec<f64> = next.iter().zip(&x).map(|(a, b)| a - b).collect();
        let yv: Vec<f64> = gnext.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &yv);
        x = next;
        fx = fnext;
        g = gnext;
        if flat(&g, fx) {
            break;
        }
        if sy > 1e-12 {
            // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ
            let rho = 1.0 / sy;
            let hy: Vec<f64> = (0..n).map(|i| dot(&inv[i], &yv)).collect();
            let yhy = dot(&yv, &hy);
            for i in 0..n {
                for j in 0..n {
                    inv[i][j] += -rho * (hy[i] * s[j] + s[i] * hy[j])
                        + (rho * rho * yhy + rho) * s[i] * s[j];
                }
            }
        }
    }
    let converged = fx.is_finite() && flat(&g, fx);
    Quasi {
        minimum: Minimum {
            x,
            value: fx,
            evaluations: used,
        },
        converged,
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Nelder–Mead from `start` (initial simplex: ±`step` along each axis), restarting from the
/// best point until a restart no longer improves it, within `max_evaluations`.
fn nelder_mead(
    mut f: impl FnMut(&[f64]) -> f64,
    start: &[f64],
    step: f64,
    max_evaluations: usize,
) -> Minimum {
    let mut evaluations = 0;
    let mut best = start.to_vec();
    let mut value = f64::INFINITY;
    for round in 0..4 {
        let scale = if round == 0 { step } else { step * 0.1 };
        let (x, v, used) = run(
            &mut f,
            &best,
            scale,
            max_evaluations.saturating_sub(evaluations),
        );
        evaluations += used;
        let improved = value - v;
        if v <= value {
            best = x;
            value = v;
        }
        if round > 0 && improved.abs() <= F_TOL * (1.0 + value.abs()) {
            break;
        }
        if evaluations >= max_evaluations {
            break;
        }
    }
    Minimum {
        x: best,
        value,
        evaluations,
    }
}

fn finite(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        f64::INFINITY
    }
}

/// One Nelder–Mead run; returns (best point, value, evaluations).
fn run(
    f: &mut impl FnMut(&[f64]) -> f64,
    start: &[f64],
    step: f64,
    budget: usize,
) -> (Vec<f64>, f64, usize) {
    let n = start.len();
    let nf = n as f64;
    let (alpha, gamma, rho, sigma) = (1.0, 1.0 + 2.0 / nf, 0.75 - 0.5 / nf, 1.0 - 1.0 / nf);
    let mut used = 0;
    let mut eval = |x: &[f64], used: &mut usize| {
        *used += 1;
        finite(f(x))
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n + 1);
    let v0 = eval(start, &mut used);
    simplex.push((start.to_vec(), v0));
    for i in 0..n {
        let mut x = start.to_vec();
        x[i] += step;
        let v = eval(&x, &mut used);
        simplex.push((x, v));
    }
    let point = |c: &[f64], w: &[f64], t: f64| -> Vec<f64> {
        c.iter().zip(w).map(|(c, w)| c + t * (w - c)).collect()
    };
    while used < budget {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (lo, hi) = (simplex[0].1, simplex[n].1);
        let spread = simplex
            .iter()
            .flat_map(|(x, _)| x.iter().zip(&simplex[0].0).map(|(a, b)| (a - b).abs()))
            .fold(0.0, f64::max);
        if (hi - lo).abs() <= F_TOL * (1.0 + lo.abs()) && spread <= X_TOL {
            break;
        }
        // Centroid of all but the worst.
        let mut c = vec![0.0; n];
        for (x, _) in &simplex[..n] {
            for (ci, xi) in c.iter_mut().zip(x) {
                *ci += xi / nf;
            }
        }
        let worst = simplex[n].0.clone();
        let xr = point(&c, &worst, -alpha);
        let fr = eval(&xr, &mut used);
        if fr < simplex[0].1 {
            let xe = point(&c, &worst, -alpha * gamma);
            let fe = eval(&xe, &mut used);
            simplex[n] = if fe < fr { (xe, fe) } else { (xr, fr) };
        } else if fr < simplex[n - 1].1 {
            simplex[n] = (xr, fr);
        } else {
            // Outside (fr < worst) or inside contraction.
            let (xc, fc) = if fr < simplex[n].1 {
                let xc = point(&c, &xr, rho);
                let fc = eval(&xc, &mut used);
                (xc, fc)
            } else {
                let xc = point(&c, &worst, rho);
                let fc = eval(&xc, &mut used);
                (xc, fc)
            };
            if fc < fr.min(simplex[n].1) {
                simplex[n] = (xc, fc);
            } else {
                let best = simplex[0].0.clone();
                for (x, v) in simplex.iter_mut().skip(1) {
                    *x = point(&best, x, sigma);
                    *v = eval(x, &mut used);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (x, v) = simplex.swap_remove(0);
    (x, v, used)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_rosenbrock_minimum() {
        let rosen = |x: &[f64]| 100.0 * (x[1] - x[0] * x[0]).powi(2) + (1.0 - x[0]).powi(2);
        let m = minimize(rosen, &[-1.2, 1.0], 0.5, 20_000);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-6 && (m.x[1] - 1.0).abs() < 1e-6,
            "{m:?}"
        );
    }

    #[test]
    fn analytic_gradients_find_the_rosenbrock_minimum_in_fewer_evaluations() {
        let rosen = |x: &[f64]| 100.0 * (x[1] - x[0] * x[0]).powi(2) + (1.0 - x[0]).powi(2);
        let both = |x: &[f64]| {
            let d = x[1] - x[0] * x[0];
            let g = vec![-400.0 * x[0] * d - 2.0 * (1.0 - x[0]), 200.0 * d];
            (rosen(x), g)
        };
        let m = minimize_with_gradient(both, &[-1.2, 1.0], 0.5, 20_000);
        assert!(
            (m.x[0] - 1.0).abs() < 1e-6 && (m.x[1] - 1.0).abs() < 1e-6,
            "{m:?}"
        );
        let differenced = minimize(rosen, &[-1.2, 1.0], 0.5, 20_000);
        assert!(
            m.evaluations < differenced.evaluations,
            "{m:?} {differenced:?}"
        );
    }

    #[test]
    fn central_differences_match_the_analytic_gradient() {
        // f = x² y + e^y: ∂f/∂x = 2xy, ∂f/∂y = x² + e^y.
        let mut f = |v: &[f64]| v[0] * v[0] * v[1] + v[1].exp();
        let (x, y) = (1.3, -0.4);
        let mut used = 0;
        let g = gradient(&mut f, &[x, y], &mut used);
        assert!((g[0] - 2.0 * x * y).abs() < 1e-8, "{g:?}");
        assert!((g[1] - (x * x + f64::exp(y))).abs() < 1e-8, "{g:?}");
        assert_eq!(used, 4);
    }

    #[test]
    fn steps_back_from_non_finite_values() {
        // ln x is NaN below 0: the minimum of x − ln x is at x = 1.
        let m = minimize(|x: &[f64]| x[0] - x[0].ln(), &[3.0], 5.0, 5_000);
        assert!((m.x[0] - 1.0).abs() < 1e-6, "{m:?}");
    }
}
