//! The dual-space change `Δ_i = ψ(w1_i) − ψ(w0_i)` of paired weights under a candidate potential,
//! with its moments and the change magnitude `M = ‖Δ‖/‖ψ(w0)‖` (science.md §4.2).
//!
//! Logarithms of |w| are computed once per data set ([`Prepared`]); each candidate is then one
//! vectorised pass (p-norms use `|w|^(p−1) = exp((p−1)·ln|w|)`). Chunk statistics are merged in
//! chunk order, so the numbers do not depend on the thread count.

use crate::geometry::{MirrorMap, PNorm, Potential};
use crate::kernels::exp::exp_f64;
use rayon::prelude::*;

const CHUNK: usize = 1 << 15;

/// Paired weights with their signs and log-magnitudes.
pub struct Prepared {
    pub w0: Vec<f64>,
    pub w1: Vec<f64>,
    /// Score negative entropy on every nonzero pair, sign changes included (the geometry
    /// paper's synthetic studies do; the geometry test excludes such pairs, science.md §4.5).
    pub ne_across_signs: bool,
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
            ne_across_signs: false,
        }
    }
    pub fn len(&self) -> usize {
        self.w0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.w0.is_empty()
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
    /// Sums of the 2nd, 3rd and 4th powers of deviations from `mean`.
    m2: f64,
    m3: f64,
    m4: f64,
    psi0_sq: f64,
    delta_sq: f64,
}

impl Acc {
    /// Merges two partial moment sets (Chan et al. for M2; Pébay 2008 for M3 and M4).
    fn merge(self, b: Acc) -> Acc {
        if self.n == 0.0 {
            return b;
        }
        if b.n == 0.0 {
            return self;
        }
        let (na, nb) = (self.n, b.n);
        let n = na + nb;
        let d = b.mean - self.mean;
        let (d2, d3, d4) = (d * d, d * d * d, d * d * d * d);
        Acc {
            n,
            mean: self.mean + d * nb / n,
            m2: self.m2 + b.m2 + d2 * na * nb / n,
            m3: self.m3
                + b.m3
                + d3 * na * nb * (na - nb) / (n * n)
                + 3.0 * d * (na * b.m2 - nb * self.m2) / n,
            m4: self.m4
                + b.m4
                + d4 * na * nb * (na * na - na * nb + nb * nb) / (n * n * n)
                + 6.0 * d2 * (na * na * b.m2 + nb * nb * self.m2) / (n * n)
                + 4.0 * d * (na * b.m3 - nb * self.m3) / n,
            psi0_sq: self.psi0_sq + b.psi0_sq,
            delta_sq: self.delta_sq + b.delta_sq,
        }
    }
}

/// Δ for every pair and its statistics. Under negative entropy only the pairs where it is
/// defined count (nonzero weights of the same sign, or any nonzero pair with
/// `ne_across_signs`; see [`chunk_pass`]); the others are dropped, or kept as NaN when
/// `keep_positions` (so that Δ stays aligned with the pairs, for a paired bootstrap).
pub fn dual_change_aligned(
    data: &Prepared,
    pot: Potential,
    keep_positions: bool,
) -> (Vec<f64>, DualStats) {
    let n = data.len();
    let mut delta = vec![0.0; n];
    let same_sign = pot.same_sign_only();
    let partial: Vec<Acc> = delta
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(c, out)| {
            let r = c * CHUNK..c * CHUNK + out.len();
            let mut psi0_sq = vec![0.0; out.len()];
            fill_delta(data, pot, r, out, &mut psi0_sq);
            chunk_moments(out, &psi0_sq)
        })
        .collect();
    let acc = partial.into_iter().fold(Acc::default(), Acc::merge);
    if same_sign && !keep_positions {
        delta.retain(|v| !v.is_nan());
    }
    let stats = finish(acc);
    (delta, stats)
}

/// Δ of the pairs where `pot` is defined, and its statistics.
pub fn dual_change(data: &Prepared, pot: Potential) -> (Vec<f64>, DualStats) {
    dual_change_aligned(data, pot, false)
}

/// Lanes of the partial sums: 8 independent accumulators (one AVX-512 register of f64) let
/// the reductions vectorise; a single f64 accumulator is a serial chain of dependent adds.
const L: usize = 8;

/// Δ of one chunk into `out` (NaN where negative entropy is undefined) and ψ(w0)² into
/// `psi0_sq` (0 there): a pure map, which vectorises; the sums come after, in lanes.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn chunk_pass<M: MirrorMap>(
    w0: &[f64],
    w1: &[f64],
    l0: &[f64],
    l1: &[f64],
    out: &mut [f64],
    psi0_sq: &mut [f64],
    across: bool,
    m: M,
) {
    let same_sign = m.same_sign_only();
    let n = out.len();
    let (w0, w1, l0, l1, psi0_sq) = (&w0[..n], &w1[..n], &l0[..n], &l1[..n], &mut psi0_sq[..n]);
    for k in 0..n {
        let p0 = m.mirror_cached(w0[k], l0[k]);
        let p1 = m.mirror_cached(w1[k], l1[k]);
        let prod = w0[k] * w1[k];
        let valid = !same_sign || prod > 0.0 || (across && prod != 0.0);
        out[k] = if valid { p1 - p0 } else { f64::NAN };
        psi0_sq[k] = if valid { p0 * p0 } else { 0.0 };
    }
}

/// Δ of the pairs `r` into `out` and ψ(w0)² into `psi0_sq` (see [`chunk_pass`]).
fn fill_delta(
    data: &Prepared,
    pot: Potential,
    r: std::ops::Range<usize>,
    out: &mut [f64],
    psi0_sq: &mut [f64],
) {
    let (w0, w1, l0, l1) = (
        &data.w0[r.clone()],
        &data.w1[r.clone()],
        &data.l0[r.clone()],
        &data.l1[r],
    );
    let across = data.ne_across_signs;
    crate::with_potential!(pot, |m| crate::dispatch!(chunk_pass(
        w0, w1, l0, l1, out, psi0_sq, across, m
    )));
}

/// The moments of one chunk of Δ (in cache): sums in lanes, then deviations from the chunk mean.
fn chunk_moments(delta: &[f64], psi0_sq: &[f64]) -> Acc {
    let [n, sum, delta_sq, psi0_sq] = crate::dispatch!(lane_sums(delta, psi0_sq));
    let mean = if n > 0.0 { sum / n } else { 0.0 };
    let [m2, m3, m4] = crate::dispatch!(power_sums(delta, mean));
    Acc {
        n,
        mean,
        m2,
        m3,
        m4,
        psi0_sq,
        delta_sq,
    }
}

/// |w|^(p−1) of one chunk for the last p-norm scored, so that the next p of a grid costs one
/// multiply per weight (`|w|^(p+h−1) = |w|^(p−1)·|w|^h`) instead of an `exp`. Relative error
/// after 20 steps ≈ 20 ulp, far below what ΔCDF resolves.
#[derive(Default)]
struct PowerCache {
    p: f64,
    a0: Vec<f64>,
    a1: Vec<f64>,
    step: f64,
    f0: Vec<f64>,
    f1: Vec<f64>,
}

/// [`fill_delta`] for a p-norm through the cache (the same Δ as `with_psi!` up to rounding).
fn fill_delta_pnorm(
    data: &Prepared,
    p: f64,
    r: std::ops::Range<usize>,
    out: &mut [f64],
    psi0_sq: &mut [f64],
    c: &mut PowerCache,
) {
    let (w0, w1, l0, l1) = (
        &data.w0[r.clone()],
        &data.w1[r.clone()],
        &data.l0[r.clone()],
        &data.l1[r],
    );
    let n = out.len();
    let step = p - c.p;
    let valid = c.a0.len() == n && step > 0.0 && step < 1.0;
    let refresh = valid && (c.f0.len() != n || (c.step - step).abs() > 1e-12);
    if !valid {
        c.a0.resize(n, 0.0);
        c.a1.resize(n, 0.0);
    }
    if refresh {
        c.f0.resize(n, 0.0);
        c.f1.resize(n, 0.0);
        c.step = step;
    }
    c.p = p;
    // Length-matched local slices: indexing through `c` re-reads each Vec's length every
    // iteration (the stores might alias it), which kept these loops scalar.
    let (w0, w1, l0, l1, psi0_sq) = (&w0[..n], &w1[..n], &l0[..n], &l1[..n], &mut psi0_sq[..n]);
    let (a0, a1) = (&mut c.a0[..n], &mut c.a1[..n]);
    let (f0, f1) = (&mut c.f0[..], &mut c.f1[..]);
    crate::dispatch!({
        if !valid {
            for k in 0..n {
                a0[k] = exp_f64((p - 1.0) * l0[k]);
                a1[k] = exp_f64((p - 1.0) * l1[k]);
            }
        } else {
            let (f0, f1) = (&mut f0[..n], &mut f1[..n]);
            if refresh {
                for k in 0..n {
                    f0[k] = exp_f64(step * l0[k]);
                    f1[k] = exp_f64(step * l1[k]);
                }
            }
            for k in 0..n {
                a0[k] *= f0[k];
                a1[k] *= f1[k];
            }
        }
        for k in 0..n {
            let p0 = PNorm::mirror_from_power(w0[k], a0[k]);
            out[k] = PNorm::mirror_from_power(w1[k], a1[k]) - p0;
            psi0_sq[k] = p0 * p0;
        }
    });
}

/// Δ of one chunk for any potential, p-norms through the power cache.
fn fill_delta_cached(
    data: &Prepared,
    pot: Potential,
    r: std::ops::Range<usize>,
    out: &mut [f64],
    psi0_sq: &mut [f64],
    c: &mut PowerCache,
) {
    match pot.canonical() {
        Potential::PNorm { p } => fill_delta_pnorm(data, p, r, out, psi0_sq, c),
        // A grid of p passes through p = 2 (Euclidean) inside the cache, so that the grid's next
        // p still costs one multiply per weight.
        Potential::Euclidean if c.a0.len() == out.len() && c.p > 1.0 && c.p < 2.0 => {
            fill_delta_pnorm(data, 2.0, r, out, psi0_sq, c)
        }
        _ => fill_delta(data, pot, r, out, psi0_sq),
    }
}

/// (count, Σ v, Σ v², Σ extra) over the non-NaN values of `v`, L lanes at a time.
#[inline(always)]
fn lane_sums(v: &[f64], extra: &[f64]) -> [f64; 4] {
    let mut acc = [[0.0; L]; 4];
    let add = |acc: &mut [[f64; L]; 4], j: usize, x: f64, e: f64| {
        let ok = !x.is_nan();
        let x = if ok { x } else { 0.0 };
        acc[0][j] += if ok { 1.0 } else { 0.0 };
        acc[1][j] += x;
        acc[2][j] += x * x;
        acc[3][j] += e;
    };
    let (vb, eb) = (v.chunks_exact(L), extra.chunks_exact(L));
    let (vt, et) = (vb.remainder(), eb.remainder());
    for (bv, be) in vb.zip(eb) {
        for j in 0..L {
            add(&mut acc, j, bv[j], be[j]);
        }
    }
    for j in 0..vt.len() {
        add(&mut acc, j, vt[j], et[j]);
    }
    acc.map(|a| a.iter().sum())
}

/// Σ (v − mean)^p for p = 2, 3, 4 over the non-NaN values, L lanes at a time.
#[inline(always)]
fn power_sums(v: &[f64], mean: f64) -> [f64; 3] {
    let mut acc = [[0.0; L]; 3];
    let add = |acc: &mut [[f64; L]; 3], j: usize, x: f64| {
        let d = if x.is_nan() { 0.0 } else { x - mean };
        let d2 = d * d;
        acc[0][j] += d2;
        acc[1][j] += d2 * d;
        acc[2][j] += d2 * d2;
    };
    let chunks = v.chunks_exact(L);
    let tail = chunks.remainder();
    for block in chunks {
        for (j, &x) in block.iter().enumerate() {
            add(&mut acc, j, x);
        }
    }
    for (j, &x) in tail.iter().enumerate() {
        add(&mut acc, j, x);
    }
    acc.map(|a| a.iter().sum())
}

fn finish(acc: Acc) -> DualStats {
    let (m3, m4) = (acc.m3 / acc.n.max(1.0), acc.m4 / acc.n.max(1.0));
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

/// (count, mean, sd with ddof = 1) of the non-NaN values of `v`, value `i` counted `w[i]`
/// times (a bootstrap resample as multiplicities), in lanes.
pub fn weighted_mean_sd(v: &[f64], w: &[u32]) -> (f64, f64, f64) {
    assert_eq!(v.len(), w.len());
    // Full blocks of L (fixed-length inner loops vectorise), then the tail.
    let (vb, wb) = (v.chunks_exact(L), w.chunks_exact(L));
    let (vt, wt) = (vb.remainder(), wb.remainder());
    crate::dispatch!({
        let mut acc = [[0.0; L]; 2];
        let mut add = |j: usize, x: f64, wj: u32| {
            let (x, wj) = if x.is_nan() {
                (0.0, 0.0)
            } else {
                (x, wj as f64)
            };
            acc[0][j] += wj;
            acc[1][j] += wj * x;
        };
        for (bv, bw) in vb.clone().zip(wb.clone()) {
            for j in 0..L {
                add(j, bv[j], bw[j]);
            }
        }
        for j in 0..vt.len() {
            add(j, vt[j], wt[j]);
        }
        let [n, sum] = acc.map(|a| a.iter().sum::<f64>());
        let mean = sum / n;
        let mut m2 = [0.0; L];
        let mut add = |j: usize, x: f64, wj: u32| {
            let d = if x.is_nan() { 0.0 } else { x - mean };
            m2[j] += wj as f64 * d * d;
        };
        for (bv, bw) in vb.zip(wb) {
            for j in 0..L {
                add(j, bv[j], bw[j]);
            }
        }
        for j in 0..vt.len() {
            add(j, vt[j], wt[j]);
        }
        (n, mean, (m2.iter().sum::<f64>() / (n - 1.0)).sqrt())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::MirrorMap;

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
                let want = pot.mirror(w1[i]) - pot.mirror(w0[i]);
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
            let want = Potential::NegEntropy.mirror(w1[i]) - Potential::NegEntropy.mirror(w0[i]);
            assert!((d[k] - want).abs() < 1e-12);
        }
    }
}

/// Statistics and ΔCDF bins of one candidate, from [`score_all`].
pub struct Scored {
    pub stats: DualStats,
    /// Bins of the uncentred and the centred standardised change.
    pub bins: (super::delta_cdf::Bins, super::delta_cdf::Bins),
}

/// Scores every candidate in two passes over the data instead of two per candidate: pass 1
/// computes Δ of all candidates chunk by chunk (a chunk stays in L2) for their moments, pass 2
/// recomputes Δ and bins it. The data are read twice in all, not once per candidate, which
/// matters at 10⁷ pairs (memory-bound otherwise). Chunk statistics are merged in chunk order,
/// so results do not depend on the thread count.
pub fn score_all(data: &Prepared, pots: &[Potential]) -> Vec<Scored> {
    use super::delta_cdf::Counts;
    const SMALL: usize = 1 << 13;
    let n = data.len();
    let chunk_ranges: Vec<std::ops::Range<usize>> = (0..n.div_ceil(SMALL))
        .map(|c| c * SMALL..(c * SMALL + SMALL).min(n))
        .collect();
    // Pass 1: per chunk and candidate, (count, mean, M2, M3, M4, Σψ0², ΣΔ²).
    let partial: Vec<Vec<Acc>> = chunk_ranges
        .par_iter()
        .map(|r| {
            let (mut out, mut psi0) = (vec![0.0; r.len()], vec![0.0; r.len()]);
            let mut cache = PowerCache::default();
            pots.iter()
                .map(|&pot| {
                    fill_delta_cached(data, pot, r.clone(), &mut out, &mut psi0, &mut cache);
                    chunk_moments(&out, &psi0)
                })
                .collect()
        })
        .collect();
    let stats: Vec<DualStats> = (0..pots.len())
        .map(|k| finish(partial.iter().fold(Acc::default(), |a, p| a.merge(p[k]))))
        .collect();
    // Pass 2: bins of every candidate (integer counts: the merge order does not matter).
    let empty = || {
        (0..pots.len())
            .map(|_| Counts::new())
            .collect::<Vec<Counts<2>>>()
    };
    let bins = chunk_ranges
        .par_iter()
        .fold(empty, |mut h, r| {
            let (mut out, mut psi0) = (vec![0.0; r.len()], vec![0.0; r.len()]);
            let mut cache = PowerCache::default();
            for (k, &pot) in pots.iter().enumerate() {
                // Δ exactly as in pass 1 (same candidate order through the cache), then bins.
                fill_delta_cached(data, pot, r.clone(), &mut out, &mut psi0, &mut cache);
                let s = &stats[k];
                if s.sd.is_nan() || s.sd <= 0.0 {
                    continue;
                }
                h[k].add(&out, [0.0, s.mean], s.sd);
            }
            h
        })
        .reduce(empty, |a, b| {
            a.into_iter().zip(b).map(|(x, y)| x.merge(y)).collect()
        });
    stats
        .into_iter()
        .zip(bins)
        .map(|(stats, b)| {
            let [u, c] = b.into_bins();
            Scored {
                stats,
                bins: (u, c),
            }
        })
        .collect()
}

#[cfg(test)]
mod moment_merge_tests {
    use super::*;

    /// Moments with multiplicities equal those of the resampled copy (NaN skipped).
    #[test]
    fn weighted_moments_equal_moments_of_the_resampled_copy() {
        let v: Vec<f64> = (0..1001)
            .map(|i| match i % 50 {
                0 => f64::NAN,
                _ => ((i as f64) * 0.61).cos() + 0.2,
            })
            .collect();
        let w: Vec<u32> = (0..v.len()).map(|i| ((i * 31) % 4) as u32).collect();
        let copy: Vec<f64> = v
            .iter()
            .zip(&w)
            .filter(|(x, _)| !x.is_nan())
            .flat_map(|(&x, &t)| std::iter::repeat_n(x, t as usize))
            .collect();
        let n = copy.len() as f64;
        let mean = copy.iter().sum::<f64>() / n;
        let sd = (copy.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let (wn, wm, ws) = weighted_mean_sd(&v, &w);
        assert_eq!(wn, n);
        assert!((wm - mean).abs() < 1e-13 && (ws - sd).abs() < 1e-13 * sd);
    }

    /// The per-chunk moments merged across many chunks equal a direct two-pass computation.
    #[test]
    fn merged_moments_equal_direct_ones() {
        let n = 100_003;
        let w0: Vec<f64> = (0..n)
            .map(|i| 0.2 + ((i as f64) * 0.61).sin().abs())
            .collect();
        let w1: Vec<f64> = w0
            .iter()
            .enumerate()
            .map(|(i, w)| w * (0.3 * ((i as f64) * 1.7).sin()).exp() + 0.01)
            .collect();
        let data = Prepared::new(w0, w1);
        for pot in [
            Potential::PNorm { p: 1.5 },
            Potential::NegEntropy,
            Potential::Hypentropy { beta: 0.5 },
        ] {
            let (d, s) = dual_change(&data, pot);
            let all = score_all(&data, &[pot]);
            let m = d.iter().sum::<f64>() / d.len() as f64;
            let c = |k: i32| d.iter().map(|x| (x - m).powi(k)).sum::<f64>() / d.len() as f64;
            let (sd, skew, kurt) = (
                (c(2) * n as f64 / (n as f64 - 1.0)).sqrt(),
                c(3) / c(2).powf(1.5),
                c(4) / (c(2) * c(2)) - 3.0,
            );
            for st in [s, all[0].stats] {
                assert!(
                    (st.mean - m).abs() < 1e-12 && (st.sd - sd).abs() < 1e-10 * sd,
                    "{pot:?}"
                );
                assert!(
                    (st.skewness - skew).abs() < 1e-8 && (st.kurtosis - kurt).abs() < 1e-8,
                    "{pot:?}"
                );
            }
            let (u, _) = super::super::delta_cdf::bin_two(&d, [0.0, m], s.sd);
            assert_eq!(u, all[0].bins.0, "{pot:?}: fused binning differs");
        }
    }

    /// A p grid scored through the power cache agrees with scoring each p on its own.
    #[test]
    fn cached_p_grid_equals_direct_scoring() {
        let n = 50_001;
        let w0: Vec<f64> = (0..n)
            .map(|i| ((i as f64) * 0.37).sin() * 0.8 + 0.05 * (i % 7) as f64)
            .collect();
        let w1: Vec<f64> = w0
            .iter()
            .enumerate()
            .map(|(i, w)| w * 1.05 + 0.01 * ((i as f64) * 1.1).cos())
            .collect();
        let data = Prepared::new(w0, w1);
        let grid: Vec<Potential> = (11..=30)
            .map(|k| Potential::pnorm(k as f64 / 10.0))
            .collect();
        let together = score_all(&data, &grid);
        for (pot, t) in grid.iter().zip(&together) {
            let alone = &score_all(&data, &[*pot])[0];
            assert!(
                (t.stats.mean - alone.stats.mean).abs() <= 1e-12 * alone.stats.sd,
                "{pot:?}"
            );
            assert!((t.stats.sd / alone.stats.sd - 1.0).abs() < 1e-12, "{pot:?}");
            let (a, b) = (
                super::super::delta_cdf::from_bins(&t.bins.0, n),
                super::super::delta_cdf::from_bins(&alone.bins.0, n),
            );
            assert!((a - b).abs() < 1e-6, "{pot:?}: {a} vs {b}");
        }
    }
}
