//! Spearman's rank correlation and a permutation test of it: whether one quantity (say, the
//! SVD entropy of a network's recurrent matrix at initialisation) orders a handful of networks
//! as another (their final score) does. With a handful of points, no normal approximation
//! holds, so the p-value comes from the orders themselves: exactly over all n! of them for
//! n ≤ 8, else from seeded random orders.

use super::paired::mean_sd;
use rand::seq::SliceRandom;

/// Ranks from 0, ties at their mean rank.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        for &k in &idx[i..=j] {
            r[k] = (i + j) as f64 / 2.0;
        }
        i = j + 1;
    }
    r
}

/// Pearson's correlation (NaN when either side is constant).
fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let ((ma, sa), (mb, sb)) = (mean_sd(a), mean_sd(b));
    let cov: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - ma) * (y - mb))
        .sum::<f64>()
        / (a.len() as f64 - 1.0);
    cov / (sa * sb)
}

/// The ranks of the pairs where both values are finite.
fn ranked(x: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (a, b): (Vec<f64>, Vec<f64>) = x
        .iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(&a, &b)| (a, b))
        .unzip();
    (ranks(&a), ranks(&b))
}

/// Spearman's ρ of the pairs where both values are finite; NaN with fewer than 3.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    let (rx, ry) = ranked(x, y);
    if rx.len() < 3 {
        return f64::NAN;
    }
    pearson(&rx, &ry)
}

/// Spearman's ρ and its one-sided p-value `P(ρ* ≥ ρ)` under independence: over all orders of
/// `y`'s ranks for up to 8 pairs, else over the observed order and 20,000 seeded random ones.
/// NaN with fewer than 3 pairs.
pub fn spearman_test(x: &[f64], y: &[f64]) -> (f64, f64) {
    let (rx, mut ry) = ranked(x, y);
    let n = rx.len();
    if n < 3 {
        return (f64::NAN, f64::NAN);
    }
    let rho = pearson(&rx, &ry);
    // A permuted ρ equal to the observed one counts as at least as large (rounding aside).
    let at_least = |r: f64| (r >= rho - 1e-12) as usize;
    let (mut hits, mut total) = (0usize, 0usize);
    if n <= 8 {
        // Heap's algorithm: every order of `ry` once.
        let mut c = vec![0usize; n];
        hits += at_least(pearson(&rx, &ry));
        total += 1;
        let mut i = 0;
        while i < n {
            if c[i] < i {
                ry.swap(if i % 2 == 0 { 0 } else { c[i] }, i);
                hits += at_least(pearson(&rx, &ry));
                total += 1;
                c[i] += 1;
                i = 0;
            } else {
                c[i] = 0;
                i += 1;
            }
        }
    } else {
        // The observed order counts as one of the orders drawn, so p is never 0.
        let mut rng = crate::rng::named(0, "analysis/spearman");
        (hits, total) = (1, 1);
        for _ in 0..20_000 {
            ry.shuffle(&mut rng);
            hits += at_least(pearson(&rx, &ry));
            total += 1;
        }
    }
    (rho, hits as f64 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rho_of_known_orders() {
        let x = [1.0, 2.0, 3.0, 4.0];
        assert!((spearman(&x, &[10.0, 20.0, 30.0, 40.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&x, &[4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        // Monotone but not linear: still 1.
        assert!((spearman(&x, &[1.0, 8.0, 27.0, 1e6]) - 1.0).abs() < 1e-12);
        // Ties share their mean rank: ranks (0, 1.5, 1.5, 3) against (0, 1, 2, 3).
        let r = spearman(&[1.0, 2.0, 2.0, 3.0], &x);
        assert!((r - 0.9486832980505138).abs() < 1e-12, "{r}");
        // A non-finite value drops its pair; two pairs are too few.
        assert!((spearman(&[1.0, 2.0, f64::NAN, 3.0], &x) - 1.0).abs() < 1e-12);
        assert!(spearman(&[1.0, 2.0], &[1.0, 2.0]).is_nan());
    }

    #[test]
    fn permutation_p_values_match_the_exact_distribution() {
        // n = 4: 24 orders, one of which is the identity, so a perfect order has p = 1/24.
        let x = [1.0, 2.0, 3.0, 4.0];
        let (rho, p) = spearman_test(&x, &x);
        assert!((rho - 1.0).abs() < 1e-12 && p == 1.0 / 24.0, "{rho} {p}");
        // Σd² = 2 (one adjacent swap) gives ρ = 0.8; 4 of the 24 orders reach it (ρ = 1 and
        // the three adjacent swaps).
        let (rho, p) = spearman_test(&x, &[2.0, 1.0, 3.0, 4.0]);
        assert!((rho - 0.8).abs() < 1e-12);
        assert!((p - 4.0 / 24.0).abs() < 1e-12, "{p}");
        // n = 8: the one-sided 5 % critical value of tables is ρ = 0.643 (Σd² = 30).
        let y8: Vec<f64> = (0..8).map(|i| i as f64).collect();
        let (rho, p) = spearman_test(&y8, &y8);
        assert!((rho - 1.0).abs() < 1e-12 && p == 1.0 / 40320.0, "{rho} {p}");
        // Σd² = 30 (ρ = 0.643) and 32 (ρ = 0.619), either side of the one-sided 5 % critical
        // value of tables. The counts of orders at least as correlated, 1,939 and 2,318 of
        // 40,320, were counted independently by brute force over itertools.permutations in
        // Python.
        for (y, d2, count) in [
            ([0.0, 1.0, 2.0, 5.0, 6.0, 7.0, 3.0, 4.0], 30.0, 1939.0),
            ([0.0, 1.0, 2.0, 5.0, 6.0, 7.0, 4.0, 3.0], 32.0, 2318.0),
        ] {
            let (rho, p) = spearman_test(&y8, &y);
            assert!((rho - (1.0 - 6.0 * d2 / 504.0)).abs() < 1e-12, "{rho}");
            assert!((p - count / 40320.0).abs() < 1e-12, "{p}");
        }
        let (rho, p) = spearman_test(&y8, &[7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.0]);
        assert!((rho + 1.0).abs() < 1e-12 && p == 1.0, "{rho} {p}");
        // More than 8 pairs: random orders, none of which is as good as a perfect order of 10
        // (1 in 3.6 million); the observed order itself counts.
        let y10: Vec<f64> = (0..10).map(|i| i as f64).collect();
        let (rho, p) = spearman_test(&y10, &y10);
        assert!(
            (rho - 1.0).abs() < 1e-12 && p == 1.0 / 20_001.0,
            "{rho} {p}"
        );
    }
}
