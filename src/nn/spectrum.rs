//! Spectra of square and rectangular matrices with `faer` (a maintained linear-algebra crate,
//! not a hand-written solver): eigenvalues and the spectral radius, singular values and the
//! normalised SVD entropy of Li et al. (2023).

/// A row-major `rows × cols` matrix in f64 for `faer`.
fn to_faer(m: &[f64], rows: usize, cols: usize) -> faer::Mat<f64> {
    faer::Mat::from_fn(rows, cols, |i, j| m[i * cols + j])
}

/// The eigenvalues (re, im) of the row-major `n × n` matrix `m` (`None` if the solver does not
/// converge).
pub fn eigenvalues(m: &[f64], n: usize) -> Option<Vec<(f64, f64)>> {
    let e = to_faer(m, n, n).eigenvalues().ok()?;
    Some(e.into_iter().map(|z| (z.re, z.im)).collect())
}

/// The largest |eigenvalue| of the row-major `n × n` matrix `m` (NaN if the solver fails).
pub fn spectral_radius(m: &[f64], n: usize) -> f64 {
    eigenvalues(m, n).map_or(f64::NAN, |e| {
        e.iter().map(|&(re, im)| re.hypot(im)).fold(0.0, f64::max)
    })
}

/// The singular values, largest first (`None` if the solver does not converge).
pub fn singular_values(m: &[f64], rows: usize, cols: usize) -> Option<Vec<f64>> {
    to_faer(m, rows, cols).singular_values().ok()
}

/// Normalised SVD entropy `−(1/ln n)·Σ σ̄ᵢ ln σ̄ᵢ` with `σ̄ᵢ = σᵢ/Σσ`: 1 when every singular
/// value is equal, 0 for rank one (science.md E10).
pub fn svd_entropy(sigma: &[f64]) -> f64 {
    let total: f64 = sigma.iter().sum();
    if sigma.len() < 2 || total <= 0.0 {
        return 0.0;
    }
    let h: f64 = sigma
        .iter()
        .map(|&s| s / total)
        .filter(|&p| p > 0.0)
        .map(|p| -p * p.ln())
        .sum();
    h / (sigma.len() as f64).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_spectra() {
        // A rotation: eigenvalues on the unit circle, all singular values 1.
        let (c, s) = (0.6, 0.8);
        let rot = [c, -s, s, c];
        assert!((spectral_radius(&rot, 2) - 1.0).abs() < 1e-12);
        let sv = singular_values(&rot, 2, 2).unwrap();
        assert!((svd_entropy(&sv) - 1.0).abs() < 1e-12);
        // Rank one: entropy 0.
        let r1 = [1.0, 2.0, 3.0, 2.0, 4.0, 6.0];
        let sv = singular_values(&r1, 2, 3).unwrap();
        assert!(sv[1].abs() < 1e-12 && svd_entropy(&sv).abs() < 1e-9);
        // Diagonal: the eigenvalues are the entries.
        let d = [3.0, 0.0, 0.0, 0.0, -5.0, 0.0, 0.0, 0.0, 1.0];
        assert!((spectral_radius(&d, 3) - 5.0).abs() < 1e-12);
        let mut sv = singular_values(&d, 3, 3).unwrap();
        sv.sort_by(f64::total_cmp);
        assert_eq!(
            sv.iter().map(|v| v.round()).collect::<Vec<_>>(),
            [1.0, 3.0, 5.0]
        );
    }
}
