//! The KS distance to N(0, 1) and chosen order statistics of a large sample, exactly as a full
//! sort gives them, without sorting the sample.
//!
//! One pass counts the values per fine bucket. The bucket index is a monotone function of the
//! value, so the buckets are ordered like the values and each bucket's cumulative count is the
//! sorted position of its first value. A bucket's KS contribution is then bounded from its edges
//! and its counts alone; only the buckets whose bound can reach the largest certain contribution,
//! and the buckets that hold a requested order statistic, are collected in a second pass and
//! sorted. At 10⁷ values this replaces a full sort and 10⁷ erf calls by two linear passes.

use super::normal;
use rayon::prelude::*;

/// Buckets cover [−ZMAX, ZMAX); two end buckets take the rest.
const ZMAX: f64 = 8.0;
/// How far (in value units) a value can sit outside its bucket's edges through rounding of the
/// bucket index; far above the real error (~1e-14).
const SLACK: f64 = 1e-9;

/// KS distance and asymptotic p-value, and the requested order statistics.
pub struct Resolved {
    pub ks_distance: f64,
    pub ks_p_value: f64,
    pub order_stats: Vec<f64>,
}

/// For the sample `map(v)` over `values` (finite; `map` is applied on the fly, so the sample is
/// never stored): the KS distance to N(0, 1), as [`super::ks::ks_normal`] computes it on the
/// sorted sample, and the values at the sorted `positions` (each < `values.len()`).
pub fn ks_and_order_stats(
    values: &[f64],
    map: impl Fn(f64) -> f64 + Sync,
    positions: &[usize],
) -> Resolved {
    let n = values.len();
    assert!(
        positions.iter().all(|&p| p < n),
        "order statistic out of range"
    );
    // About 32 values per bucket, so a bucket's share (c/n) stays far below the typical KS
    // distance (~1/√n) and few buckets need resolving.
    let nb = (n / 32).next_power_of_two().clamp(1024, 1 << 18);
    let scale = nb as f64 / (2.0 * ZMAX);
    let bucket = |z: f64| -> usize {
        // 0 below −ZMAX, nb + 1 at or above ZMAX (and NaN, which sorts last).
        if z.is_nan() {
            return nb + 1;
        }
        // Truncation is the floor here: the value is clamped to ≥ 0 first.
        ((z + ZMAX) * scale + 1.0).max(0.0).min((nb + 1) as f64) as usize
    };
    let parts = rayon::current_num_threads().max(1);
    let part_len = n.div_ceil(parts).max(1);

    // Pass 1: counts per bucket.
    let counts: Vec<u64> = values
        .par_chunks(part_len)
        .map(|c| {
            let mut h = vec![0u32; nb + 2];
            crate::dispatch!(for &v in c {
                h[bucket(map(v))] += 1;
            });
            h
        })
        .fold(
            || vec![0u64; nb + 2],
            |mut a, h| {
                a.iter_mut().zip(&h).for_each(|(x, &y)| *x += y as u64);
                a
            },
        )
        .reduce(
            || vec![0u64; nb + 2],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                a
            },
        );
    let mut before = vec![0u64; nb + 2];
    let mut acc = 0;
    for (b, &c) in before.iter_mut().zip(&counts) {
        *b = acc;
        acc += c;
    }

    // Bounds of each nonempty bucket's largest KS term: `hi` over its positions, and `lo`, a
    // value one of its terms certainly reaches. The sorted values of bucket j occupy positions
    // before[j] … before[j] + counts[j] − 1 and lie within its edges.
    let nf = n as f64;
    let edges = |j: usize| -> (f64, f64) {
        let lo = if j == 0 {
            f64::NEG_INFINITY
        } else {
            -ZMAX + (j - 1) as f64 / scale - SLACK
        };
        let hi = if j == nb + 1 {
            f64::INFINITY
        } else {
            -ZMAX + j as f64 / scale + SLACK
        };
        (lo, hi)
    };
    let bounds: Vec<(usize, f64, f64)> = (0..nb + 2)
        .into_par_iter()
        .filter(|&j| counts[j] > 0)
        .map(|j| {
            let (lo, hi) = edges(j);
            let (f_lo, f_hi) = (normal::cdf(lo), normal::cdf(hi));
            let (first, end) = (before[j] as f64, (before[j] + counts[j]) as f64);
            let upper = (end / nf - f_lo).max(f_hi - first / nf);
            let certain = (end / nf - f_hi).max(f_lo - first / nf);
            (j, upper, certain)
        })
        .collect();
    let floor = bounds.iter().map(|b| b.2).fold(0.0, f64::max);
    let mut wanted = vec![false; nb + 2];
    for &(j, upper, _) in &bounds {
        // The margin keeps rounding in the bounds from dropping a bucket that ties.
        wanted[j] = upper >= floor - 1e-12;
    }
    for &p in positions {
        let j = before.partition_point(|&b| b <= p as u64) - 1;
        wanted[j] = true;
    }

    // Pass 2: the values of the wanted buckets, sorted within their bucket.
    let mut picked: Vec<(usize, f64)> = values
        .par_chunks(part_len)
        .flat_map_iter(|c| {
            c.iter().filter_map(|&v| {
                let z = map(v);
                let j = bucket(z);
                wanted[j].then_some((j, z))
            })
        })
        .collect();
    picked.par_sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));

    let mut ks_distance: f64 = 0.0;
    let mut start = 0;
    let mut resolved: Vec<(usize, usize)> = Vec::new(); // (bucket, offset in `picked`)
    while start < picked.len() {
        let j = picked[start].0;
        let len = counts[j] as usize;
        for (r, &(_, z)) in picked[start..start + len].iter().enumerate() {
            let i = before[j] as usize + r;
            let f = normal::cdf(z);
            ks_distance = ks_distance.max(((i + 1) as f64 / nf - f).max(f - i as f64 / nf));
        }
        resolved.push((j, start));
        start += len;
    }
    let order_stats = positions
        .iter()
        .map(|&p| {
            let j = before.partition_point(|&b| b <= p as u64) - 1;
            let (_, off) = resolved[resolved.partition_point(|r| r.0 < j)];
            picked[off + p - before[j] as usize].1
        })
        .collect();
    Resolved {
        ks_distance,
        ks_p_value: super::ks::kolmogorov_sf((nf.sqrt() + 0.12 + 0.11 / nf.sqrt()) * ks_distance),
        order_stats,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    /// Equal, bit for bit, to sorting everything: Gaussian, heavy-tailed, tied, tiny and
    /// far-out samples.
    #[test]
    fn equals_a_full_sort() {
        let mut rng = crate::rng::named(7, "order_stats test");
        let gauss: Vec<f64> = (0..200_000)
            .map(|_| rng.sample::<f64, _>(rand_distr::StandardNormal))
            .collect();
        let cauchy: Vec<f64> = gauss.chunks(2).map(|p| p[0] / p[1]).collect();
        let tied: Vec<f64> = gauss
            .iter()
            .take(50_000)
            .map(|v| (v * 4.0).round() / 4.0)
            .collect();
        let shifted: Vec<f64> = gauss.iter().take(30_000).map(|v| v * 0.3 + 12.0).collect();
        let tiny = vec![0.5, -0.25, 0.5, 3.0];
        for (name, x) in [
            ("gauss", gauss),
            ("cauchy", cauchy),
            ("tied", tied),
            ("shifted", shifted),
            ("tiny", tiny),
        ] {
            let map = |v: f64| (v - 0.01) / 1.3;
            let mut z: Vec<f64> = x.iter().map(|&v| map(v)).collect();
            z.sort_by(f64::total_cmp);
            let positions: Vec<usize> = (0..z.len()).step_by(z.len().div_ceil(50)).collect();
            let r = ks_and_order_stats(&x, map, &positions);
            let (d, p) = super::super::ks::ks_normal(&z);
            assert_eq!(r.ks_distance.to_bits(), d.to_bits(), "{name}: KS");
            assert_eq!(r.ks_p_value.to_bits(), p.to_bits(), "{name}: p");
            for (k, &pos) in positions.iter().enumerate() {
                assert_eq!(
                    r.order_stats[k].to_bits(),
                    z[pos].to_bits(),
                    "{name}: {pos}"
                );
            }
        }
    }
}
