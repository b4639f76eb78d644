//! Linear maps on bit-packed binary inputs, with [`LANES`] independent weight vectors at once.
//!
//! The r-of-k task has inputs in {0,1}ᴺ. Stored as bits they take 1/32 of the memory of f32, and
//! `x·w` is the sum of `w` over the set bits. Runs that share data but differ in learning rate
//! or optimiser are stacked as lanes: weights are an `N × LANES` row-major matrix, so one set bit
//! costs one 16-wide vector add (one AVX-512 instruction) for all runs together.

use super::Real;

/// Independent weight vectors processed together (one AVX-512 register of f32).
pub const LANES: usize = 16;

/// Binary rows (samples) × `cols` features, each row packed into 64-bit words.
#[derive(Clone, Debug, PartialEq)]
pub struct BitMatrix {
    pub rows: usize,
    pub cols: usize,
    words: usize,
    data: Vec<u64>,
}

impl BitMatrix {
    pub fn zeros(rows: usize, cols: usize) -> Self {
        let words = cols.div_ceil(64);
        Self { rows, cols, words, data: vec![0; rows * words] }
    }
    pub fn set(&mut self, r: usize, c: usize, v: bool) {
        let w = &mut self.data[r * self.words + c / 64];
        let m = 1u64 << (c % 64);
        if v { *w |= m } else { *w &= !m }
    }
    pub fn get(&self, r: usize, c: usize) -> bool {
        self.data[r * self.words + c / 64] >> (c % 64) & 1 == 1
    }
    pub fn row_words(&self, r: usize) -> &[u64] {
        &self.data[r * self.words..(r + 1) * self.words]
    }
    pub fn row_words_mut(&mut self, r: usize) -> &mut [u64] {
        &mut self.data[r * self.words..(r + 1) * self.words]
    }
    /// The row as 0/1 values of any float type.
    pub fn row_dense<T: Real>(&self, r: usize, out: &mut [T]) {
        for (c, o) in out.iter_mut().enumerate().take(self.cols) {
            *o = if self.get(r, c) { T::one() } else { T::zero() };
        }
    }
}

#[inline(always)]
fn for_each_set_bit(words: &[u64], mut f: impl FnMut(usize)) {
    for (wi, &word) in words.iter().enumerate() {
        let mut b = word;
        while b != 0 {
            f(wi * 64 + b.trailing_zeros() as usize);
            b &= b - 1;
        }
    }
}

#[inline(always)]
fn lane(v: &[f32], i: usize) -> &[f32; LANES] {
    v[i * LANES..(i + 1) * LANES].try_into().unwrap()
}

/// `out[s] = Σ_{i ∈ x_{rows[s]}} w[i]` for each selected row: logits of all lanes (`out` is
/// `rows.len() × LANES`).
pub fn forward(x: &BitMatrix, rows: &[usize], w: &[f32], out: &mut [f32]) {
    assert_eq!(w.len(), x.cols * LANES);
    assert_eq!(out.len(), rows.len() * LANES);
    crate::dispatch!(for (s, &r) in rows.iter().enumerate() {
        let mut acc = [0f32; LANES];
        for_each_set_bit(x.row_words(r), |i| {
            let wi = lane(w, i);
            for l in 0..LANES {
                acc[l] += wi[l];
            }
        });
        out[s * LANES..(s + 1) * LANES].copy_from_slice(&acc);
    })
}

/// `grad[i] = Σ_s x_{rows[s], i}·err[s]` (overwrites `grad`, `N × LANES`): the weight gradient of
/// all lanes given the per-sample errors ∂L/∂logit (`rows.len() × LANES`).
pub fn backward(x: &BitMatrix, rows: &[usize], err: &[f32], grad: &mut [f32]) {
    assert_eq!(grad.len(), x.cols * LANES);
    assert_eq!(err.len(), rows.len() * LANES);
    grad.fill(0.0);
    crate::dispatch!(for (s, &r) in rows.iter().enumerate() {
        let e = *lane(err, s);
        for_each_set_bit(x.row_words(r), |i| {
            let g: &mut [f32; LANES] = (&mut grad[i * LANES..(i + 1) * LANES]).try_into().unwrap();
            for l in 0..LANES {
                g[l] += e[l];
            }
        });
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_and_backward_match_dense_products() {
        let (rows, cols) = (9, 150);
        let mut x = BitMatrix::zeros(rows, cols);
        for r in 0..rows {
            for c in 0..cols {
                x.set(r, c, (r * 31 + c * 17) % 5 < 2);
            }
        }
        let w: Vec<f32> = (0..cols * LANES).map(|i| ((i * 37) % 101) as f32 / 101.0 - 0.5).collect();
        let sel = [3usize, 0, 8, 3];
        let mut out = vec![0.0; sel.len() * LANES];
        forward(&x, &sel, &w, &mut out);
        for (s, &r) in sel.iter().enumerate() {
            for l in 0..LANES {
                let want: f32 = (0..cols).filter(|&c| x.get(r, c)).map(|c| w[c * LANES + l]).sum();
                assert!((out[s * LANES + l] - want).abs() < 1e-4);
            }
        }
        let err: Vec<f32> = (0..sel.len() * LANES).map(|i| (i as f32).sin()).collect();
        let mut g = vec![1.0; cols * LANES];
        backward(&x, &sel, &err, &mut g);
        for c in 0..cols {
            for l in 0..LANES {
                let want: f32 = sel
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| x.get(**r, c))
                    .map(|(s, _)| err[s * LANES + l])
                    .sum();
                assert!((g[c * LANES + l] - want).abs() < 1e-4);
            }
        }
    }
}
