//! ΔCDF, the statistic of the geometry test (Pogodin et al. 2024; science.md §4.2):
//!
//! `ΔCDF = Σ_k |F̂(x_k) − Φ(x_k)|·dx` on the grid `x_k = −5 + 10k/999`, k = 0…999, where
//! `F̂(x) = #{i : z_i < x}/D` (strict) is the empirical CDF of the standardised dual change. It is
//! a truncated Riemann sum of the Wasserstein-1 distance to N(0, 1).
//!
//! Only the counts `#{z_i < x_k}` matter, so instead of sorting z each value is binned into the
//! first grid point above it: O(D), no sort. The bin is computed arithmetically and checked
//! against the grid exactly as defined wherever rounding could change it.

use super::normal;
use rayon::prelude::*;
use std::sync::OnceLock;

/// Grid points.
pub const GRID: usize = 1000;
/// Grid spacing `10/999`.
pub const DX: f64 = 10.0 / 999.0;

/// x_k exactly as the definition computes it.
#[inline(always)]
pub fn grid(k: usize) -> f64 {
    -5.0 + 10.0 * k as f64 / 999.0
}

fn phi_table() -> &'static [f64; GRID] {
    static T: OnceLock<[f64; GRID]> = OnceLock::new();
    T.get_or_init(|| std::array::from_fn(|k| normal::cdf(grid(k))))
}

/// The grid with sentinels, `[−∞, x_0, …, x_999, +∞]`, for the exact lookups below.
fn grid_table() -> &'static [f64; GRID + 2] {
    static T: OnceLock<[f64; GRID + 2]> = OnceLock::new();
    T.get_or_init(|| {
        std::array::from_fn(|i| match i {
            0 => f64::NEG_INFINITY,
            _ if i == GRID + 1 => f64::INFINITY,
            _ => grid(i - 1),
        })
    })
}

/// The index of the first grid point strictly above `z` (GRID if none): `z` is counted in
/// `F̂(x_k)` for every k ≥ this index. `t` is [`grid_table`]: `x_k = t[k + 1]`.
#[inline(always)]
fn first_above_in(t: &[f64; GRID + 2], z: f64) -> usize {
    // A guess from the uniform spacing (off by at most one), then corrections against the
    // exact grid values; the sentinels (t[0] = −∞, t[GRID + 1] = +∞) stop k at 0 and GRID.
    let mut k = ((z + 5.0) * 99.9).clamp(0.0, (GRID - 1) as f64) as usize + 1;
    k -= (t[k] > z) as usize;
    k += (t[k + 1] <= z) as usize;
    k -= (t[k] > z) as usize;
    k
}

/// Counts of values per "first grid point above" bin (length GRID + 1).
pub type Bins = Vec<u64>;

/// Bins `values` after the affine map `z = (v − shift)/scale`.
pub fn bin(values: &[f64], shift: f64, scale: f64) -> Bins {
    let [h] = bin_shifts(values, [shift], scale);
    h
}

/// Bins `values` under two shifts at once (uncentred and centred ΔCDF in one pass).
pub fn bin_two(values: &[f64], shifts: [f64; 2], scale: f64) -> (Bins, Bins) {
    let [u, c] = bin_shifts(values, shifts, scale);
    (u, c)
}

/// Bins `values` under each of `S` shifts, in parallel chunks (integer counts, so the merge
/// order does not matter).
fn bin_shifts<const S: usize>(values: &[f64], shifts: [f64; S], scale: f64) -> [Bins; S] {
    const CHUNK: usize = 1 << 16;
    values
        .par_chunks(CHUNK)
        .fold(Counts::<S>::new, |mut h, c| {
            h.add(c, shifts, scale);
            h
        })
        .reduce(Counts::new, Counts::merge)
        .into_bins()
}

/// Bin counts under `S` shifts, kept as four interleaved `u32` sub-histograms while values are
/// added: neighbouring values often share a bin, and increments of one counter would wait on
/// each other. Reuse one `Counts` for many [`Counts::add`] calls: creating and summing the
/// sub-histograms costs about as much as binning 8k values.
pub struct Counts<const S: usize> {
    /// `sub[k][s][lane]`; index GRID + 1 collects NaN (dropped).
    sub: Vec<[[u32; 4]; S]>,
    /// Totals flushed from `sub` before a `u32` could overflow.
    flushed: Vec<[u64; S]>,
    pending: u64,
}

impl<const S: usize> Counts<S> {
    /// Empty counts; the arrays are allocated on the first [`Counts::add`], so identities of
    /// parallel folds and reductions cost nothing.
    pub fn new() -> Self {
        Self {
            sub: Vec::new(),
            flushed: Vec::new(),
            pending: 0,
        }
    }

    /// Adds the bins of `values` (NaN skipped) after `z = (v − shift)/scale`, for each shift.
    pub fn add(&mut self, values: &[f64], shifts: [f64; S], scale: f64) {
        self.add_with(values, shifts, scale, |_| 1, values.len() as u64);
    }

    /// [`Counts::add`] with value `i` counted `weights[i]` times (a bootstrap resample as
    /// multiplicities).
    pub fn add_weighted(&mut self, values: &[f64], weights: &[u32], shifts: [f64; S], scale: f64) {
        assert_eq!(values.len(), weights.len());
        let total = weights.iter().map(|&w| w as u64).sum();
        self.add_with(values, shifts, scale, |i| weights[i], total);
    }

    /// Adds value `i` with `weight(i)`; `total` bounds the sum of the weights.
    #[inline(always)]
    fn add_with(
        &mut self,
        values: &[f64],
        shifts: [f64; S],
        scale: f64,
        weight: impl Fn(usize) -> u32,
        total: u64,
    ) {
        const BLOCK: usize = 1024;
        /// An index past the histogram marks a NaN (dropped).
        const SKIP: u32 = GRID as u32 + 1;
        if self.sub.is_empty() {
            self.sub = vec![[[0; 4]; S]; GRID + 2];
        }
        if self.pending + total > u32::MAX as u64 {
            self.flush();
        }
        self.pending += total;
        let t = grid_table();
        let inv = 1.0 / scale;
        let mut idx = [[0u32; BLOCK]; S];
        for (b, block) in values.chunks(BLOCK).enumerate() {
            crate::dispatch!(for (s, shift) in shifts.iter().enumerate() {
                // Arithmetic first: `x_k ≤ z` ⇔ `k ≤ f` with `f = (z + 5)·99.9`, so the count
                // of grid points ≤ z is ⌊f⌋ + 1 (clamped). Rounding moves f by < 1e-12, which
                // can change the answer only when f is that close to an integer: such blocks
                // (almost never) are redone against the exact grid values. `max` maps NaN to −1.
                let mut near = false;
                for (o, &v) in idx[s].iter_mut().zip(block) {
                    let f = ((v - shift) * inv + 5.0) * 99.9;
                    let c = (f.floor() + 1.0).max(0.0).min(GRID as f64);
                    let frac = f - f.floor();
                    near |= ((frac - 0.5).abs() > 0.5 - 1e-9) & (f > -1.0) & (f < GRID as f64);
                    // SAFETY: c is an integer in [0, GRID]. (The saturating `as` does not
                    // vectorise; the block is already `unsafe` inside `dispatch!`, hence the
                    // allow.)
                    #[allow(unused_unsafe)]
                    let k = unsafe { c.to_int_unchecked::<u32>() };
                    *o = if v.is_nan() { SKIP } else { k };
                }
                if near {
                    for (o, &v) in idx[s].iter_mut().zip(block) {
                        let k = first_above_in(t, (v - shift) * inv) as u32;
                        *o = if v.is_nan() { SKIP } else { k };
                    }
                }
            });
            for i in 0..block.len() {
                let w = weight(b * BLOCK + i);
                for (s, ids) in idx.iter().enumerate() {
                    self.sub[ids[i] as usize][s][i & 3] += w;
                }
            }
        }
    }

    fn flush(&mut self) {
        if self.flushed.is_empty() {
            self.flushed = vec![[0; S]; GRID + 1];
        }
        for (f, sk) in self.flushed.iter_mut().zip(&mut self.sub) {
            for s in 0..S {
                f[s] += sk[s].iter().map(|&c| c as u64).sum::<u64>();
                sk[s] = [0; 4];
            }
        }
        self.pending = 0;
    }

    /// The counts of both, for a parallel reduction.
    pub fn merge(mut self, mut other: Self) -> Self {
        self.flush();
        other.flush();
        for (a, b) in self.flushed.iter_mut().zip(&other.flushed) {
            for s in 0..S {
                a[s] += b[s];
            }
        }
        self
    }

    /// Counts per "first grid point above" bin (length GRID + 1), one vector per shift.
    pub fn into_bins(mut self) -> [Bins; S] {
        self.flush();
        std::array::from_fn(|s| self.flushed.iter().map(|b| b[s]).collect())
    }
}

impl<const S: usize> Default for Counts<S> {
    fn default() -> Self {
        Self::new()
    }
}

/// ΔCDF from bin counts of `n` values.
pub fn from_bins(bins: &[u64], n: usize) -> f64 {
    let phi = phi_table();
    let mut below = 0u64;
    let mut total = 0.0;
    for (k, &p) in phi.iter().enumerate() {
        below += bins[k];
        total += (below as f64 / n as f64 - p).abs();
    }
    total * DX
}

/// Standardisation of the dual change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Centring {
    /// `z = Δ/sd`: the zero-mean prediction is part of the test (the default).
    Uncentred,
    /// `z = (Δ − mean)/sd`.
    Centred,
}

/// ΔCDF of `values` with the given mean and sd (ddof = 1).
pub fn delta_cdf(values: &[f64], mean: f64, sd: f64, centring: Centring) -> f64 {
    let shift = if centring == Centring::Centred {
        mean
    } else {
        0.0
    };
    from_bins(&bin(values, shift, sd), values.len())
}

/// (uncentred, centred) ΔCDF of `values` in one pass.
pub fn delta_cdf_both(values: &[f64], mean: f64, sd: f64) -> (f64, f64) {
    let (u, c) = bin_two(values, [0.0, mean], sd);
    (from_bins(&u, values.len()), from_bins(&c, values.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, computed literally: sort, count strictly-below with a binary search.
    fn reference(z: &[f64]) -> f64 {
        let mut s = z.to_vec();
        s.sort_by(f64::total_cmp);
        (0..GRID)
            .map(|k| {
                let below = s.partition_point(|&v| v < grid(k));
                (below as f64 / s.len() as f64 - normal::cdf(grid(k))).abs() * DX
            })
            .sum()
    }

    #[test]
    fn binning_equals_sorting_including_values_on_grid_points() {
        let mut z: Vec<f64> = (0..5000)
            .map(|i| ((i as f64) * 0.7123).sin() * 4.0)
            .collect();
        z.extend((0..GRID).step_by(7).map(grid)); // exactly on grid points: strict inequality
        // One ulp either side of grid points: the arithmetic bin index must defer to the grid.
        z.extend(
            (0..GRID)
                .step_by(5)
                .flat_map(|k| [grid(k).next_up(), grid(k).next_down()]),
        );
        z.extend([-7.0, 6.0, 5.0, -5.0]);
        assert!((from_bins(&bin(&z, 0.0, 1.0), z.len()) - reference(&z)).abs() < 1e-12);
    }

    /// Counting value i `times[i]` times gives the bins of the copy with value i repeated that
    /// often (a bootstrap resample); NaN is dropped either way.
    #[test]
    fn weighted_counts_equal_counts_of_the_resampled_copy() {
        let v: Vec<f64> = (0..3000)
            .map(|i| match i % 97 {
                0 => f64::NAN,
                _ => ((i as f64) * 0.377).sin() * 3.0,
            })
            .collect();
        let times: Vec<u32> = (0..v.len()).map(|i| ((i * 7919) % 5) as u32).collect();
        let copy: Vec<f64> = v
            .iter()
            .zip(&times)
            .flat_map(|(&x, &t)| std::iter::repeat_n(x, t as usize))
            .collect();
        let mut w = Counts::<2>::new();
        w.add_weighted(&v, &times, [0.0, 0.4], 1.3);
        let mut c = Counts::<2>::new();
        c.add(&copy, [0.0, 0.4], 1.3);
        assert_eq!(w.into_bins(), c.into_bins());
    }
}
