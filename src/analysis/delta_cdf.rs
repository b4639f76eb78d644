//! ΔCDF, the statistic of the geometry test (Pogodin et al. 2024; science.md §4.2):
//!
//! `ΔCDF = Σ_k |F̂(x_k) − Φ(x_k)|·dx` on the grid `x_k = −5 + 10k/999`, k = 0…999, where
//! `F̂(x) = #{i : z_i < x}/D` (strict) is the empirical CDF of the standardised dual change. It is
//! a truncated Riemann sum of the Wasserstein-1 distance to N(0, 1).
//!
//! Only the counts `#{z_i < x_k}` matter, so instead of sorting z each value is binned into the
//! first grid point above it (checked against the grid exactly as defined): O(D), no sort.

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

/// The grid with sentinels, `[−∞, x_0, …, x_999, +∞]`, precomputed: computing `grid(k)`
/// divides by 999, which dominated the binning, and the sentinels make the lookups below
/// branch-free.
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
/// `F̂(x_k)` for every k ≥ this index.
#[inline(always)]
pub fn first_above(z: f64) -> usize {
    first_above_in(grid_table(), z)
}

/// `t` is [`grid_table`]: `x_k = t[k + 1]`.
#[inline(always)]
fn first_above_in(t: &[f64; GRID + 2], z: f64) -> usize {
    // A guess from the uniform spacing (off by at most one), then branch-free corrections
    // against the exact grid values.
    let mut k = ((z + 5.0) * 99.9).clamp(0.0, (GRID - 1) as f64) as usize + 1;
    // SAFETY: the guess is in 1..=GRID; each step moves k by at most one and the sentinels
    // (t[0] = −∞, t[GRID + 1] = +∞) stop it at 0 and GRID, so every index is in 0..=GRID + 1.
    // Unchecked reads let the loops that call this vectorise (gathers).
    unsafe {
        k -= (*t.get_unchecked(k) > z) as usize;
        k += (*t.get_unchecked(k + 1) <= z) as usize;
        k -= (*t.get_unchecked(k) > z) as usize;
    }
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
    let merged = values
        .par_chunks(CHUNK)
        .map(|c| {
            let mut h = vec![[0u64; S]; GRID + 1];
            bin_chunk(c, shifts, scale, &mut h);
            h
        })
        .reduce(
            || vec![[0u64; S]; GRID + 1],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(&b) {
                    for s in 0..S {
                        x[s] += y[s];
                    }
                }
                a
            },
        );
    std::array::from_fn(|s| merged.iter().map(|b| b[s]).collect())
}

/// Adds the bins of `values` (NaN skipped) under each of `S` shifts to `h` (length GRID + 1).
///
/// Bin indices are computed first, in blocks; the increments follow, into four interleaved
/// sub-histograms because neighbouring values often share a bin and increments of one counter
/// would otherwise wait on each other.
pub fn bin_chunk<const S: usize>(values: &[f64], shifts: [f64; S], scale: f64, h: &mut [[u64; S]]) {
    const BLOCK: usize = 1024;
    /// An index past the histogram marks a NaN (dropped).
    const SKIP: u32 = GRID as u32 + 1;
    let t = grid_table();
    let inv = 1.0 / scale;
    let mut sub = vec![[[0u32; 4]; S]; GRID + 2];
    let mut idx = [[0u32; BLOCK]; S];
    for block in values.chunks(BLOCK) {
        crate::dispatch!(for (s, shift) in shifts.iter().enumerate() {
            for (o, &v) in idx[s].iter_mut().zip(block) {
                let k = first_above_in(t, (v - shift) * inv) as u32;
                *o = if v.is_nan() { SKIP } else { k };
            }
        });
        for (s, ids) in idx.iter().enumerate() {
            for (i, &k) in ids.iter().take(block.len()).enumerate() {
                sub[k as usize][s][i & 3] += 1;
            }
        }
    }
    for (hk, sk) in h.iter_mut().zip(&sub) {
        for s in 0..S {
            hk[s] += sk[s].iter().map(|&c| c as u64).sum::<u64>();
        }
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
        z.extend([-7.0, 6.0, 5.0, -5.0]);
        assert!((from_bins(&bin(&z, 0.0, 1.0), z.len()) - reference(&z)).abs() < 1e-12);
    }
}
