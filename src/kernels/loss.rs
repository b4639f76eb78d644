//! Losses with their gradients, the CPU backend's forms: softmax cross-entropy (label smoothing,
//! per-row masks), BCE with logits, MSE with masks. Each returns the mean loss and writes
//! ∂loss/∂input.

use super::Real;

/// Binary cross-entropy of one logit `z` against `y ∈ {0,1}`, computed stably:
/// `max(z,0) − z·y + ln(1 + e^{−|z|})`. Returns (loss, ∂loss/∂z = σ(z) − y).
#[inline(always)]
pub fn bce_with_logits<T: Real>(z: T, y: T) -> (T, T) {
    let zero = T::zero();
    let one = T::one();
    let e = (-z.abs()).exp();
    let loss = (if z > zero { z } else { zero }) - z * y + e.ln_1p();
    let sig = if z >= zero {
        one / (one + e)
    } else {
        e / (one + e)
    };
    (loss, sig - y)
}

/// Mean BCE over all `logits` against 0/1 `targets`; `grad` gets ∂mean/∂logits.
pub fn bce<T: Real>(logits: &[T], targets: &[T], grad: &mut [T]) -> T {
    let n = T::c(logits.len() as f64);
    let mut total = T::zero();
    for ((&z, &y), g) in logits.iter().zip(targets).zip(grad.iter_mut()) {
        let (l, d) = bce_with_logits(z, y);
        total += l;
        *g = d / n;
    }
    total / n
}

/// Softmax cross-entropy of `logits` (rows × `classes`) against class `labels`, with label
/// smoothing ε (target `(1−ε)·onehot + ε/C`) and optional per-row weights `mask` (the mean is over
/// rows with weight, as for decision-period masks). `grad` gets ∂mean/∂logits.
pub fn softmax_cross_entropy<T: Real>(
    logits: &[T],
    classes: usize,
    labels: &[u32],
    smoothing: f64,
    mask: Option<&[T]>,
    grad: &mut [T],
) -> T {
    let c = classes;
    let rows = logits.len() / c;
    let weight = |i: usize| mask.map_or(T::one(), |m| m[i]);
    let total_w: T = (0..rows).map(weight).sum();
    let denom = if total_w > T::zero() {
        total_w
    } else {
        T::one()
    };
    let eps = T::c(smoothing);
    let off = eps / T::c(c as f64);
    let mut total = T::zero();
    for (i, &label) in labels.iter().enumerate().take(rows) {
        let z = &logits[i * c..(i + 1) * c];
        let g = &mut grad[i * c..(i + 1) * c];
        let w = weight(i);
        let m = z.iter().fold(T::neg_infinity(), |a, &b| a.max(b));
        let sum: T = z.iter().map(|&v| (v - m).exp()).sum();
        let lse = m + sum.ln();
        let mut li = T::zero();
        for k in 0..c {
            let target = off
                + if k == label as usize {
                    T::one() - eps
                } else {
                    T::zero()
                };
            li -= target * (z[k] - lse);
            g[k] = w * ((z[k] - lse).exp() - target) / denom;
        }
        total += w * li;
    }
    total / denom
}

/// Mean squared error over masked elements: `Σ m·(x − y)² / Σ m` (mask of ones if `None`).
pub fn mse<T: Real>(pred: &[T], target: &[T], mask: Option<&[T]>, grad: &mut [T]) -> T {
    let m = |i: usize| mask.map_or(T::one(), |m| m[i]);
    let total_m: T = (0..pred.len()).map(m).sum();
    let denom = if total_m > T::zero() {
        total_m
    } else {
        T::one()
    };
    let mut total = T::zero();
    for (i, (&p, g)) in pred.iter().zip(grad.iter_mut()).enumerate() {
        let d = p - target[i];
        total += m(i) * d * d;
        *g = T::c(2.0) * m(i) * d / denom;
    }
    total / denom
}
