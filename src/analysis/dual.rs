//! The dual-space change `Δ_i = ψ(w1_i) − ψ(w0_i)` of paired weights under a candidate potential,
//! with its moments and the change magnitude `M = ‖Δ‖/‖ψ(w0)‖` (science.md §4.2).
//!
//! Logarithms of |w| are computed once per data set ([`Prepared`]); each candidate is then one
//! vectorised pass (p-norms use `|w|^(p−1) = exp((p−1)·ln|w|)`). Chunk statistics are merged in
//! chunk order, so the numbers do not depend on the thread count.

use crate::geometry::{MirrorMap, Potential};
use crate::kernels::exp::exp_f64;
use rayon::prelude::*;

const CHUNK: usize = 1 << 15;

/// Paired weights with their signs and log-magnitudes.
pub struct Prepared {
    pub w0: Vec<f64>,
    pub w1: Vec<f64>,
    l0: Vec<f64>,
    l1: Vec<f64>,
}

impl Prepared {
    pub fn new(w0: Vec<f64>, w1: Vec<f64>) -> Self {
        assert_eq!(w0.len(), w1.len(), "paired weights differ in length");
        let ln = |w: &Vec<f64>| w.par_iter().map(|v| v.abs().ln()).collect();
        Self {
            l0: ln(&w0),
            l1: ln(&w1),
            w0,
            w1,
        }
    }
    pub fn len(&self) -> usize {
        self.w0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.w0.is_empty()
    }
    /// Pairs where negative entropy is defined: both weights nonzero and of the same sign.
    pub fn ne_valid(&self, i: usize) -> bool {
        self.w0[i] * self.w1[i] > 0.0
    }
}

/// Moments of Δ and the change magnitude.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct DualStats {
    pub n: usize,
    pub mean: f64,
    /// Sample sd (ddof = 1).
    pub sd: f64,
    pub skewness: f64,
    /// Excess kurtosis (0 for a Gaussian).
    pub kurtosis: f64,
    /// `‖Δ‖₂/‖ψ(w0)‖₂`.
    pub magnitude: f64,
}

#[derive(Clone, Copy, Default)]
struct Acc {
    n: f64,
    mean: f64,
    m2: f64,
    psi0_sq: f64,
    delta_sq: f64,
}

impl Acc {
    /// Chan et al.'s merge of two partial (count, mean, M2).
    fn merge(self, b: Acc) -> Acc {
        if self.n == 0.0 {
            return b;
        }
        if b.n == 0.0 {
            return self;
        }
        let n = self.n + b.n;
        let d = b.mean - self.mean;
        Acc {
            n,
            mean: self.mean + d * b.n / n,
            m2: self.m2 + b.m2 + d * d * self.n * b.n / n,
            psi0_sq: self.psi0_sq + b.psi0_sq,
            delta_sq: self.delta_sq + b.delta_sq,
        }
    }
}

/// ψ of one weight given its sign and log-magnitude, for the vectorised loop.
#[inline(always)]
fn psi(pot: Potential, w: f64, l: f64) -> f64 {
    let s = if w > 0.0 {
        1.0
    } else if w < 0.0 {
        -1.0
    } else {
        0.0
    };
    match pot {
        Potential::Euclidean => w,
        Potential::PNorm { p } => s * exp_f64((p - 1.0) * l),
        Potential::NegEntropy => s * (l + 1.0),
        Potential::Hypentropy { beta } => (w / beta).asinh(),
    }
}

/// Δ for every pair and its statistics. Under negative entropy only the pairs where it is
/// defined count ([`Prepared::ne_valid`]); the others are dropped, or kept as NaN when
/// `keep_positions` (so that Δ stays aligned with the pairs, for a paired bootstrap).
pub fn dual_change_aligned(
    data: &Prepared,
    pot: Potential,
    keep_positions: bool,
) -> (Vec<f64>, DualStats) {
    let n = data.len();
    let mut delta = vec![0.0; n];
    let ne = pot == Potential::NegEntropy;
    let partial: Vec<Acc> = delta
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(c, out)| {
            let start = c * CHUNK;
            let (mut n, mut sum, mut psi0_sq, mut delta_sq) = (0.0, 0.0, 0.0, 0.0);
            for (j, o) in out.iter_mut().enumerate() {
                let i = start + j;
                let p0 = psi(pot, data.w0[i], data.l0[i]);
                let p1 = psi(pot, data.w1[i], data.l1[i]);
                let valid = !ne || data.ne_valid(i);
                let d = if valid { p1 - p0 } else { 0.0 };
                *o = if valid { d } else { f64::NAN };
                n += if valid { 1.0 } else { 0.0 };
                sum += d;
                psi0_sq += if valid { p0 * p0 } else { 0.0 };
                delta_sq += d * d;
            }
            let mean = if n > 0.0 { sum / n } else { 0.0 };
            // Second pass over the chunk (in cache): M2 about the chunk mean, numerically stable.
            let m2 = out
                .iter()
                .filter(|v| !v.is_nan())
                .map(|&v| (v - mean) * (v - mean))
                .sum();
            Acc {
                n,
                mean,
                m2,
                psi0_sq,
                delta_sq,
            }
        })
        .collect();
    let acc = partial.into_iter().fold(Acc::default(), Acc::merge);
    if ne && !keep_positions {
        delta.retain(|v| !v.is_nan());
    }
    let (m3, m4) = central_moments(&delta, acc.mean);
    let stats = finish(acc, m3, m4);
    (delta, stats)
}

/// Δ of the pairs where `pot` is defined, and its statistics.
pub fn dual_change(data: &Prepared, pot: Potential) -> (Vec<f64>, DualStats) {
    dual_change_aligned(data, pot, false)
}

fn finish(acc: Acc, m3: f64, m4: f64) -> DualStats {
    let sd = if acc.n > 1.0 {
        (acc.m2 / (acc.n - 1.0)).sqrt()
    } else {
        f64::NAN
    };
    let var_pop = acc.m2 / acc.n.max(1.0);
    let denom = acc.psi0_sq.sqrt();
    DualStats {
        n: acc.n as usize,
        mean: acc.mean,
        sd,
        skewness: m3 / var_pop.powf(1.5),
        kurtosis: m4 / (var_pop * var_pop) - 3.0,
        magnitude: acc.delta_sq.sqrt() / if denom < 1e-10 { denom + 1e-10 } else { denom },
    }
}

/// Third and fourth central moments (population).
fn central_moments(v: &[f64], mean: f64) -> (f64, f64) {
    let parts: Vec<(f64, f64)> = v
        .par_chunks(CHUNK)
        .map(|c| {
            c.iter()
                .filter(|x| !x.is_nan())
                .fold((0.0, 0.0), |(a, b), &x| {
                    let d = x - mean;
                    let d2 = d * d;
                    (a + d2 * d, b + d2 * d2)
                })
        })
        .collect();
    let (s3, s4) = parts
        .into_iter()
        .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    let n = v.iter().filter(|x| !x.is_nan()).count().max(1) as f64;
    (s3 / n, s4 / n)
}

/// The mirror map of one weight through the potential's own definition (used by tests to check
/// the fast path above).
pub fn psi_reference(pot: Potential, w: f64) -> f64 {
    pot.mirror(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_mirror_maps_agree_with_the_potentials() {
        let w0: Vec<f64> = (0..200).map(|i| ((i as f64) * 0.37).sin() * 2.0).collect();
        let w1: Vec<f64> = w0.iter().map(|w| w * 1.1 + 0.01).collect();
        let data = Prepared::new(w0.clone(), w1.clone());
        for pot in [
            Potential::Euclidean,
            Potential::PNorm { p: 1.5 },
            Potential::PNorm { p: 3.0 },
            Potential::Hypentropy { beta: 0.3 },
        ] {
            let (d, _) = dual_change(&data, pot);
            for i in 0..w0.len() {
                let want = psi_reference(pot, w1[i]) - psi_reference(pot, w0[i]);
                assert!(
                    (d[i] - want).abs() < 1e-12 * (1.0 + want.abs()),
                    "{pot:?} {i}"
                );
            }
        }
        let (d, s) = dual_change(&data, Potential::NegEntropy);
        let valid: Vec<usize> = (0..w0.len()).filter(|&i| w0[i] * w1[i] > 0.0).collect();
        assert_eq!(d.len(), valid.len());
        assert_eq!(s.n, valid.len());
        for (k, &i) in valid.iter().enumerate() {
            let want = psi_reference(Potential::NegEntropy, w1[i])
                - psi_reference(Potential::NegEntropy, w0[i]);
            assert!((d[k] - want).abs() < 1e-12);
        }
    }
}
