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
        Self {
            rows,
            cols,
            words,
            data: vec![0; rows * words],
        }
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

/// Selected rows of a [`BitMatrix`] stored word-major (`[word][row]`), so the kernels below read
/// memory sequentially. Gathered once per batch and shared by the forward and backward pass:
/// reading random rows in place cost a cache miss per row and word block.
#[derive(Clone, Debug, Default)]
pub struct BitBatch {
    pub rows: usize,
    pub cols: usize,
    words: usize,
    data: Vec<u64>,
}

impl BitBatch {
    /// Gathers `rows` of `x`, reusing this buffer's allocation.
    pub fn gather(&mut self, x: &BitMatrix, rows: &[usize]) {
        self.rows = rows.len();
        self.cols = x.cols;
        self.words = x.words;
        self.data.resize(rows.len() * x.words, 0);
        for (s, &r) in rows.iter().enumerate() {
            for (wb, &word) in x.row_words(r).iter().enumerate() {
                self.data[wb * self.rows + s] = word;
            }
        }
    }
    fn words_of_block(&self, wb: usize) -> &[u64] {
        &self.data[wb * self.rows..(wb + 1) * self.rows]
    }
}

/// Lane vectors indexed by [nibble within a 64-bit word][nibble value]. Each table has one
/// unused entry of padding: tables 1 KiB apart put every fourth one at a 4 KiB distance, where
/// loads falsely wait on stores (4K aliasing).
type NibbleTables = [[[f32; LANES]; 17]; 16];

/// The lane vector of feature `i`, or zeros past the last feature (a row's padding bits are 0,
/// so those entries are never used, but the tables are built for whole words).
#[inline(always)]
fn lane_or_zero(w: &[f32], i: usize) -> [f32; LANES] {
    if (i + 1) * LANES <= w.len() {
        w[i * LANES..(i + 1) * LANES].try_into().unwrap()
    } else {
        [0.0; LANES]
    }
}

#[inline(always)]
fn add(a: [f32; LANES], b: [f32; LANES]) -> [f32; LANES] {
    std::array::from_fn(|l| a[l] + b[l])
}

/// `out[s] = Σ_{i ∈ x_s} w[i]` for each row of the batch: logits of all lanes (`out` is
/// `rows × LANES`).
///
/// Method of four Russians: for each 64-bit word of features, tables of the 16 subset sums of
/// each 4-feature nibble (16 KB, in L1) turn 64 bit tests into 16 lookups per row. Summing set
/// bits one by one was memory-bound on the N×16 weight matrix (10 cycles per bit, measured).
pub fn forward(x: &BitBatch, w: &[f32], out: &mut [f32]) {
    assert_eq!(w.len(), x.cols * LANES);
    assert_eq!(out.len(), x.rows * LANES);
    out.fill(0.0);
    let mut t: Box<NibbleTables> = Box::new([[[0.0; LANES]; 17]; 16]);
    crate::dispatch!(for wb in 0..x.words {
        for (j, tj) in t.iter_mut().enumerate() {
            let base = wb * 64 + j * 4;
            for v in 1..16usize {
                tj[v] = add(
                    tj[v & (v - 1)],
                    lane_or_zero(w, base + v.trailing_zeros() as usize),
                );
            }
        }
        for (s, &word) in x.words_of_block(wb).iter().enumerate() {
            if word == 0 {
                continue;
            }
            let look = |j: usize| t[j][(word >> (4 * j)) as usize & 15];
            // Four independent sums hide the latency of the vector adds.
            let mut a = [look(0), look(1), look(2), look(3)];
            for j in (4..16).step_by(4) {
                a = [
                    add(a[0], look(j)),
                    add(a[1], look(j + 1)),
                    add(a[2], look(j + 2)),
                    add(a[3], look(j + 3)),
                ];
            }
            let o: &mut [f32; LANES] = (&mut out[s * LANES..(s + 1) * LANES]).try_into().unwrap();
            *o = add(*o, add(add(a[0], a[1]), add(a[2], a[3])));
        }
    })
}

/// `grad[i] = Σ_s x_{s,i}·err[s]` (overwrites `grad`, `N × LANES`): the weight gradient of all
/// lanes given the per-row errors ∂L/∂logit (`rows × LANES`).
///
/// Per 64-bit word of features, each row adds its error to one of 16 bins per nibble
/// (histograms in L1); each feature's gradient is then the sum of the 8 bins whose value has
/// its bit set.
pub fn backward(x: &BitBatch, err: &[f32], grad: &mut [f32]) {
    assert_eq!(grad.len(), x.cols * LANES);
    assert_eq!(err.len(), x.rows * LANES);
    let mut h: Box<NibbleTables> = Box::new([[[0.0; LANES]; 17]; 16]);
    crate::dispatch!(for wb in 0..x.words {
        for hj in h.iter_mut() {
            *hj = [[0.0; LANES]; 17];
        }
        for (s, &word) in x.words_of_block(wb).iter().enumerate() {
            if word == 0 {
                continue;
            }
            let e: [f32; LANES] = err[s * LANES..(s + 1) * LANES].try_into().unwrap();
            for (j, hj) in h.iter_mut().enumerate() {
                let bin = &mut hj[(word >> (4 * j)) as usize & 15];
                *bin = add(*bin, e);
            }
        }
        for (j, hj) in h.iter().enumerate() {
            for bit in 0..4 {
                let i = wb * 64 + j * 4 + bit;
                if i >= x.cols {
                    break;
                }
                let mut g = [0f32; LANES];
                for (v, hv) in hj.iter().take(16).enumerate() {
                    if v >> bit & 1 == 1 {
                        g = add(g, *hv);
                    }
                }
                grad[i * LANES..(i + 1) * LANES].copy_from_slice(&g);
            }
        }
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
        let w: Vec<f32> = (0..cols * LANES)
            .map(|i| ((i * 37) % 101) as f32 / 101.0 - 0.5)
            .collect();
        let sel = [3usize, 0, 8, 3];
        let mut out = vec![0.0; sel.len() * LANES];
        let mut batch = BitBatch::default();
        batch.gather(&x, &sel);
        forward(&batch, &w, &mut out);
        for (s, &r) in sel.iter().enumerate() {
            for l in 0..LANES {
                let want: f32 = (0..cols)
                    .filter(|&c| x.get(r, c))
                    .map(|c| w[c * LANES + l])
                    .sum();
                assert!((out[s * LANES + l] - want).abs() < 1e-4);
            }
        }
        let err: Vec<f32> = (0..sel.len() * LANES).map(|i| (i as f32).sin()).collect();
        let mut g = vec![1.0; cols * LANES];
        backward(&batch, &err, &mut g);
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
