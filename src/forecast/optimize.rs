//! A Nelder–Mead minimiser (adaptive coefficients of Gao & Han 2012) with restarts.
//!
//! The models fit two to four positive parameters by maximum likelihood; they minimise the
//! negative log-likelihood over the logarithms of the parameters, where Nelder–Mead needs no
//! gradients and is robust to the flat valleys of the Pareto/NBD surface. Non-finite values are
//! treated as +∞, so the search simply steps back from regions where a likelihood overflows.

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
const X_TOL: f64 = 1e-10;
const F_TOL: f64 = 1e-11;

/// Minimises `f` from `start` (initial simplex: ±`step` along each axis), restarting from the
/// best point until a restart no longer improves it, within `max_evaluations`.
pub(crate) fn minimize(
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
    fn steps_back_from_non_finite_values() {
        // ln x is NaN below 0: the minimum of x − ln x is at x = 1.
        let m = minimize(|x: &[f64]| x[0] - x[0].ln(), &[3.0], 5.0, 5_000);
        assert!((m.x[0] - 1.0).abs() < 1e-6, "{m:?}");
    }
}
