//! One-sample Kolmogorov–Smirnov test against N(0, 1).

use super::normal;

/// The KS distance of sorted values to N(0, 1) and its asymptotic p-value
/// (Kolmogorov distribution with Stephens' small-sample correction).
pub fn ks_normal(sorted: &[f64]) -> (f64, f64) {
    use rayon::prelude::*;
    let n = sorted.len() as f64;
    // The max over order statistics; evaluated in parallel (10⁷ erf calls otherwise dominate).
    let d = sorted
        .par_iter()
        .enumerate()
        .map(|(i, &z)| {
            let f = normal::cdf(z);
            ((i + 1) as f64 / n - f).max(f - i as f64 / n)
        })
        .reduce(|| 0.0, f64::max);
    (d, kolmogorov_sf((n.sqrt() + 0.12 + 0.11 / n.sqrt()) * d))
}

/// P(K > x) for the Kolmogorov distribution: `2 Σ (−1)^{k−1} e^{−2k²x²}`.
pub fn kolmogorov_sf(x: f64) -> f64 {
    if x < 0.2 {
        return 1.0;
    }
    let s: f64 = (1..100)
        .map(|k| {
            let k = k as f64;
            (if k as i64 % 2 == 1 { 2.0 } else { -2.0 }) * (-2.0 * k * k * x * x).exp()
        })
        .sum();
    s.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_values() {
        // The 5 % critical value of √n·D is 1.358 (Kolmogorov).
        assert!((kolmogorov_sf(1.358) - 0.05).abs() < 1e-3);
        let z: Vec<f64> = (1..=999)
            .map(|i| normal::quantile(i as f64 / 1000.0))
            .collect();
        let (d, p) = ks_normal(&z);
        assert!(d < 0.002 && p > 0.99);
    }
}
