//! The standard normal distribution: CDF, density and quantile function.

/// Φ(x) = ½(1 + erf(x/√2)).
pub fn cdf(x: f64) -> f64 {
    0.5 * (1.0 + libm::erf(x / std::f64::consts::SQRT_2))
}

/// φ(x).
pub fn pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Φ⁻¹(p) for p ∈ (0, 1): bisection on Φ, to 1e-12 (used for QQ plots, not in hot loops).
pub fn quantile(p: f64) -> f64 {
    let (mut lo, mut hi) = (-40.0, 40.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if cdf(mid) < p { lo = mid } else { hi = mid }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_values() {
        assert!((super::cdf(1.959_963_984_540_054) - 0.975).abs() < 1e-12);
        assert!((super::quantile(0.975) - 1.959_963_984_540_054).abs() < 1e-9);
        assert_eq!(super::cdf(0.0), 0.5);
    }
}
