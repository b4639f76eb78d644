//! Linear-regression data of the geometry paper (Fig 2): `x = L·z + u` with `L·Lᵀ = C`, the
//! Toeplitz correlation `C_ij = (−1)^|i−j| / (1 + |i−j|^p_c)`, `u ~ U(−0.5, 0.5)`, and random ±1
//! labels independent of x.
//!
//! Gaussian vectors with covariance C are drawn by circulant embedding: C's first row is
//! mirrored into a circulant of size 2(D−1), whose eigenvalues are the FFT of that row; when they
//! are non-negative (checked), `F(√(λ/M)·ε)` for complex white ε gives two independent exact
//! samples (real and imaginary parts). O(D log D) per sample and no D×D factor in memory, so D =
//! 20,000 is cheap. Samples equal those of `L·z` in distribution, not draw by draw.

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;
use rustfft::{FftPlanner, num_complex::Complex};
use std::sync::Arc;

/// Draws correlated input vectors of dimension D.
pub struct ToeplitzSampler {
    d: usize,
    sqrt_eig: Vec<f64>,
    fft: Arc<dyn rustfft::Fft<f64>>,
}

impl ToeplitzSampler {
    /// The sampler for dimension `d` and decay exponent `pc`; an error when the embedding is not
    /// positive semi-definite.
    pub fn new(d: usize, pc: f64) -> Result<Self, String> {
        let c =
            |k: usize| (if k.is_multiple_of(2) { 1.0 } else { -1.0 }) / (1.0 + (k as f64).powf(pc));
        let m = (2 * (d.max(2) - 1)).max(2);
        let row: Vec<Complex<f64>> = (0..m)
            .map(|k| Complex::new(c(if k < d { k } else { m - k }), 0.0))
            .collect();
        let fft = FftPlanner::new().plan_fft_forward(m);
        let mut eig = row;
        fft.process(&mut eig);
        let min = eig.iter().map(|z| z.re).fold(f64::INFINITY, f64::min);
        let max = eig.iter().map(|z| z.re).fold(0.0f64, f64::max);
        if min < -1e-9 * max {
            return Err(format!(
                "circulant embedding of the Toeplitz matrix is not PSD (min eigenvalue {min})"
            ));
        }
        let sqrt_eig = eig
            .iter()
            .map(|z| (z.re.max(0.0) / m as f64).sqrt())
            .collect();
        Ok(Self { d, sqrt_eig, fft })
    }

    /// Fills `out` (n rows × D, row-major) with samples `x = L·z + u`.
    pub fn sample(&self, n: usize, rng: &mut impl Rng, out: &mut [f64]) {
        assert_eq!(out.len(), n * self.d);
        let m = self.sqrt_eig.len();
        let mut buf = vec![Complex::new(0.0, 0.0); m];
        let mut row = 0;
        while row < n {
            for (b, s) in buf.iter_mut().zip(&self.sqrt_eig) {
                let (a, c): (f64, f64) = (rng.sample(StandardNormal), rng.sample(StandardNormal));
                *b = Complex::new(a * s, c * s);
            }
            self.fft.process(&mut buf);
            for part in 0..2 {
                if row == n {
                    break;
                }
                let dst = &mut out[row * self.d..(row + 1) * self.d];
                for (o, z) in dst.iter_mut().zip(&buf) {
                    *o = if part == 0 { z.re } else { z.im } + rng.random_range(-0.5..0.5);
                }
                row += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_covariance_matches_the_toeplitz_matrix() {
        let (d, n) = (6, 40_000);
        let s = ToeplitzSampler::new(d, 2.0).unwrap();
        let mut x = vec![0.0; n * d];
        s.sample(n, &mut crate::rng::named(1, "toeplitz"), &mut x);
        for (i, j) in [(0, 0), (0, 1), (1, 3), (2, 5)] {
            let k = (j as i64 - i as i64).unsigned_abs() as f64;
            // Covariance of L·z plus the uniform noise's variance 1/12 on the diagonal.
            let want = (if (k as usize).is_multiple_of(2) {
                1.0
            } else {
                -1.0
            }) / (1.0 + k * k)
                + if i == j { 1.0 / 12.0 } else { 0.0 };
            let got = (0..n).map(|r| x[r * d + i] * x[r * d + j]).sum::<f64>() / n as f64;
            assert!((got - want).abs() < 0.03, "C[{i},{j}] = {got}, want {want}");
        }
        assert!(
            ToeplitzSampler::new(20_000, 1.0).is_ok(),
            "p_c = 1 embeds at D = 20,000"
        );
    }
}
