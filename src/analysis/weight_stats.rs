//! Statistics of a weight matrix before and after learning, the numbers a modeller compares with
//! synapse data (EG paper, Fig 1 and S3): sign flips, the fraction of weights whose magnitude
//! grew, the multiplicative signature (OLS slope of |Δw| on |w_init|), the shape of ln|w|, and a
//! log-normal against half-normal likelihood comparison of the final magnitudes.

use super::normal;
use serde::Serialize;

/// Ordinary least squares of `y = a + b·x` with standard errors and two-sided p-values.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Ols {
    pub slope: f64,
    pub intercept: f64,
    pub slope_p: f64,
    pub intercept_p: f64,
    pub r2: f64,
}

/// OLS fit; p-values use the normal approximation to Student's t (weight matrices have
/// thousands of entries; below ~30 points treat them as indicative).
pub fn ols(x: &[f64], y: &[f64]) -> Ols {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxx: f64 = x.iter().map(|v| (v - mx).powi(2)).sum();
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let syy: f64 = y.iter().map(|v| (v - my).powi(2)).sum();
    let b = sxy / sxx;
    let a = my - b * mx;
    let sse: f64 = x.iter().zip(y).map(|(u, v)| (v - a - b * u).powi(2)).sum();
    let s2 = sse / (n - 2.0).max(1.0);
    let se_b = (s2 / sxx).sqrt();
    let se_a = (s2 * (1.0 / n + mx * mx / sxx)).sqrt();
    let p = |t: f64| 2.0 * (1.0 - normal::cdf(t.abs()));
    Ols {
        slope: b,
        intercept: a,
        slope_p: p(b / se_b),
        intercept_p: p(a / se_a),
        r2: 1.0 - sse / syy,
    }
}

/// The statistics of one matrix.
#[derive(Clone, Debug, Serialize)]
pub struct WeightStats {
    pub name: String,
    pub n: usize,
    /// Weights whose sign reversed: `w_init·w_end < 0`.
    pub sign_flips: usize,
    /// Nonzero weights that ended at exactly 0 (a Dale's-law matrix clamped at its bound).
    pub zeroed: usize,
    /// Fraction of weights with `|w_end| > |w_init|`.
    pub fraction_grown: f64,
    /// OLS of |Δw| on |w_init|, both divided by their population sd without centring.
    pub multiplicative: Ols,
    /// Skewness and excess kurtosis of ln|w_end| over nonzero weights.
    pub log_skewness: f64,
    pub log_kurtosis: f64,
    /// Log-likelihoods of |w_end| (nonzero) under fitted log-normal and half-normal
    /// distributions: the EG paper's claim is about magnitudes, and the half-normal is the
    /// magnitude of Gaussian weights (a normal fitted to |w| would favour the log-normal even
    /// for Gaussian weights).
    pub loglik_lognormal: f64,
    pub loglik_halfnormal: f64,
}

fn pop_sd(v: &[f64]) -> f64 {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt()
}

/// Statistics of a matrix named `name` from its initial and final values.
pub fn weight_stats(name: &str, init: &[f64], end: &[f64]) -> WeightStats {
    let sign_flips = init.iter().zip(end).filter(|(a, b)| *a * *b < 0.0).count();
    let zeroed = init
        .iter()
        .zip(end)
        .filter(|(a, b)| **a != 0.0 && **b == 0.0)
        .count();
    let grown = init
        .iter()
        .zip(end)
        .filter(|(a, b)| b.abs() > a.abs())
        .count();
    let x: Vec<f64> = init.iter().map(|v| v.abs()).collect();
    let y: Vec<f64> = init.iter().zip(end).map(|(a, b)| (b - a).abs()).collect();
    let (sx, sy) = (pop_sd(&x).max(1e-300), pop_sd(&y).max(1e-300));
    let multiplicative = ols(
        &x.iter().map(|v| v / sx).collect::<Vec<_>>(),
        &y.iter().map(|v| v / sy).collect::<Vec<_>>(),
    );
    let mags: Vec<f64> = end.iter().map(|v| v.abs()).filter(|v| *v > 0.0).collect();
    let ln: Vec<f64> = mags.iter().map(|v| v.ln()).collect();
    let n = ln.len() as f64;
    let m = ln.iter().sum::<f64>() / n;
    let c = |k: i32| ln.iter().map(|v| (v - m).powi(k)).sum::<f64>() / n;
    // Maximum-likelihood half-normal (σ² = mean of |w|²; density 2·N(|w|; 0, σ²)) and
    // log-normal fits of the magnitudes, in closed form.
    let gauss_ll = |var: f64| -0.5 * n * ((2.0 * std::f64::consts::PI * var).ln() + 1.0);
    let mean_sq = mags.iter().map(|v| v * v).sum::<f64>() / n;
    let (loglik_halfnormal, loglik_lognormal) = if mags.len() >= 10 {
        (gauss_ll(mean_sq) + n * 2f64.ln(), gauss_ll(c(2)) - m * n)
    } else {
        (f64::NAN, f64::NAN)
    };
    WeightStats {
        name: name.to_string(),
        n: init.len(),
        sign_flips,
        zeroed,
        fraction_grown: grown as f64 / init.len().max(1) as f64,
        multiplicative,
        log_skewness: c(3) / c(2).powf(1.5),
        log_kurtosis: c(4) / (c(2) * c(2)) - 3.0,
        loglik_lognormal,
        loglik_halfnormal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    #[test]
    fn ols_on_a_line_and_fixed_values() {
        // y = 1 + 2x exactly: slope 2, intercept 1, R² = 1.
        let x = [0.0, 1.0, 2.0, 3.0];
        let f = ols(&x, &[1.0, 3.0, 5.0, 7.0]);
        assert!(
            (f.slope - 2.0).abs() < 1e-12
                && (f.intercept - 1.0).abs() < 1e-12
                && (f.r2 - 1.0).abs() < 1e-12
        );
        // Hand-computed: x = (1,2,3,4), y = (2,1,4,3): slope 0.6, intercept 1, R² = 0.36.
        let f = ols(&[1.0, 2.0, 3.0, 4.0], &[2.0, 1.0, 4.0, 3.0]);
        assert!(
            (f.slope - 0.6).abs() < 1e-12
                && (f.intercept - 1.0).abs() < 1e-12
                && (f.r2 - 0.36).abs() < 1e-12
        );
    }

    #[test]
    fn statistics_on_fixed_weights() {
        let init = [0.5, -0.2, 0.1, -0.4, 0.3];
        let end = [0.6, 0.1, 0.05, -0.5, 0.3];
        let s = weight_stats("w", &init, &end);
        assert_eq!(s.sign_flips, 1);
        assert_eq!(s.zeroed, 0);
        let z = weight_stats("z", &[0.5, 0.2, 0.0], &[0.0, -0.1, 0.3]);
        assert_eq!((z.sign_flips, z.zeroed), (1, 1));
        assert!((s.fraction_grown - 0.4).abs() < 1e-12);
        // Multiplicative changes (|Δw| ∝ |w|) give a positive slope; additive ones do not.
        let init: Vec<f64> = (1..=200)
            .map(|i| (i as f64 * 0.37).sin() * (1.0 + (i % 9) as f64))
            .collect();
        let mult: Vec<f64> = init
            .iter()
            .enumerate()
            .map(|(i, w)| w * (1.0 + 0.1 * ((i * 7 % 11) as f64 / 11.0 - 0.5)))
            .collect();
        let add: Vec<f64> = init
            .iter()
            .enumerate()
            .map(|(i, w)| w + 0.1 * ((i * 7 % 11) as f64 / 11.0 - 0.5))
            .collect();
        let (m, a) = (
            weight_stats("m", &init, &mult),
            weight_stats("a", &init, &add),
        );
        assert!(
            m.multiplicative.slope > 0.5 && m.multiplicative.slope_p < 1e-6,
            "{:?}",
            m.multiplicative
        );
        assert!(a.multiplicative.slope.abs() < 0.2, "{:?}", a.multiplicative);
        assert_eq!(m.sign_flips, 0);
        // The likelihoods equal the sum of log densities at the maximum-likelihood parameters.
        let x: Vec<f64> = mult.iter().map(|v| v.abs()).filter(|v| *v > 0.0).collect();
        let logpdf_sum = |v: &[f64], jac: f64| {
            let n = v.len() as f64;
            let mu = v.iter().sum::<f64>() / n;
            let sd = (v.iter().map(|a| (a - mu).powi(2)).sum::<f64>() / n).sqrt();
            v.iter()
                .map(|a| -0.5 * ((a - mu) / sd).powi(2) - (sd * (2.0 * PI).sqrt()).ln())
                .sum::<f64>()
                - jac
        };
        let ln: Vec<f64> = x.iter().map(|v| v.ln()).collect();
        let s2 = x.iter().map(|a| a * a).sum::<f64>() / x.len() as f64;
        let halfnormal: f64 = x
            .iter()
            .map(|a| (2.0f64).ln() - 0.5 * a * a / s2 - (2.0 * PI * s2).sqrt().ln())
            .sum();
        assert!((m.loglik_halfnormal - halfnormal).abs() < 1e-9);
        let jac: f64 = ln.iter().sum();
        assert!((m.loglik_lognormal - logpdf_sum(&ln, jac)).abs() < 1e-9);
    }

    /// The comparison says what it should: Gaussian weights favour the half-normal, log-normal
    /// magnitudes the log-normal (against a normal fitted to |w|, the log-normal had won for
    /// Gaussian weights too, by about 0.024 nats per weight).
    #[test]
    fn lognormal_loses_on_gaussian_weights_and_wins_on_lognormal_ones() {
        use rand::RngExt;
        let mut rng = crate::rng::named(5, "weight-stats");
        let n = 20_000;
        let gauss: Vec<f64> = (0..n)
            .map(|_| rng.sample::<f64, _>(rand_distr::StandardNormal))
            .collect();
        let logn: Vec<f64> = gauss.iter().map(|z| (0.5 * z - 1.0).exp()).collect();
        let init = vec![1.0; n];
        let g = weight_stats("g", &init, &gauss);
        let l = weight_stats("l", &init, &logn);
        let per = |s: &WeightStats| (s.loglik_lognormal - s.loglik_halfnormal) / n as f64;
        assert!(per(&g) < -0.05, "Gaussian weights: {}", per(&g));
        assert!(per(&l) > 0.05, "log-normal weights: {}", per(&l));
    }
}
