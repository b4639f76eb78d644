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

/// The index of the first grid point strictly above `z` (GRID if none): `z` is counted in
/// `F̂(x_k)` for every k ≥ this index.
#[inline(always)]
pub fn first_above(z: f64) -> usize {
    if !(z >= -5.0) {
        return 0; // below the grid (NaN never reaches here: callers drop non-finite values)
    }
    if z >= 5.0 {
        return GRID;
    }
    let mut j = ((z + 5.0) * 99.9) as usize + 1;
    while j > 0 && grid(j - 1) > z {
        j -= 1;
    }
    while j < GRID && grid(j) <= z {
        j += 1;
    }
    j
}

/// Counts of values per "first grid point above" bin (length GRID + 1).
pub type Bins = Vec<u64>;

/// Bins `values` after the affine map `z = (v − shift)/scale`.
pub fn bin(values: &[f64], shift: f64, scale: f64) -> Bins {
    const CHUNK: usize = 1 << 16;
    let inv = 1.0 / scale;
    values
        .par_chunks(CHUNK)
        .map(|c| {
            let mut h = vec![0u64; GRID + 1];
            for &v in c {
                h[first_above((v - shift) * inv)] += 1;
            }
            h
        })
        .reduce(
            || vec![0u64; GRID + 1],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                a
            },
        )
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
