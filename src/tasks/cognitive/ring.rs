//! Ring encodings of an angle over units at `θ_k = 2πk/n` (science.md §6.1).

use std::f64::consts::{PI, TAU};

/// Units of a Yang-19 / Mod-Cog ring.
pub const UNITS: usize = 16;

/// The angle of ring position `i` of a 16-unit ring.
pub fn angle(i: usize) -> f64 {
    TAU * i as f64 / UNITS as f64
}

/// The Gaussian bump `0.8·a·exp(−d_k²/2)`, `d_k` the circular distance to `φ` in units of π/8.
pub fn gaussian(phi: f64, a: f64) -> [f32; UNITS] {
    let phi = phi.rem_euclid(TAU);
    std::array::from_fn(|k| {
        let d = (phi - angle(k)).abs();
        let d = d.min(TAU - d) / (PI / 8.0);
        (0.8 * a * (-d * d / 2.0).exp()) as f32
    })
}

/// The cosine encoding `offset + amp·cos(θ_k − φ)` over `n` units (`0.5 + (a/2)·cos` is the
/// ring's cosine bump; the classic tasks use their own amplitudes).
pub fn cosine(phi: f64, n: usize, offset: f64, amp: f64, out: &mut [f32]) {
    for (k, o) in out[..n].iter_mut().enumerate() {
        *o = (offset + amp * (TAU * k as f64 / n as f64 - phi).cos()) as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gaussian_bump_peaks_at_its_angle_and_wraps() {
        let b = gaussian(angle(3), 1.0);
        assert!((b[3] - 0.8).abs() < 1e-6);
        assert!((b[4] - 0.8 * (-0.5f32).exp()).abs() < 1e-6 && (b[2] - b[4]).abs() < 1e-6);
        let w = gaussian(angle(15) + TAU, 0.5);
        assert!((w[15] - 0.4).abs() < 1e-6 && (w[0] - w[14]).abs() < 1e-6);
    }
}
