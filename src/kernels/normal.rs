//! Normal noise in bulk: a counter-based generator that LLVM vectorises. `rand_distr`'s ziggurat
//! draws one value at a time from a sequential generator and branches per draw; the task streams
//! add about 20 M normals to a Mod-Cog batch, so that loop would cost more than the task itself.
//!
//! Pair `j` of a stream keyed `key` comes from the SplitMix64 output `mix64(key + (j+1)·γ)` — the
//! same sequence SplitMix64 produces from state `key`, which passes BigCrush — split into two
//! 24-bit uniforms and sent through Box–Muller with polynomial `ln`, `sin` and `cos`. Being a
//! pure function of (key, counter), any part of a stream can be produced on its own: a window of
//! a task stream regenerates exactly the noise it had when generated in one piece.
//!
//! The radius uses u₁ ∈ (0, 1] in steps of 2⁻²⁴, so |z| ≤ 5.77: the tail beyond it has
//! probability 8·10⁻⁹ and is cut. Values are accurate to about 1e-6 relative.

use crate::dispatch;
use crate::rng::mix64;

const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;
/// Pairs per block: a fixed length that the compiler unrolls into vector lanes.
const PAIRS: usize = 16;

/// ln(x) for x in (0, 1]: `x = m·2^e`, m ∈ [√½, √2), `ln m = 2·atanh(s)` to s⁹.
#[inline(always)]
fn ln_unit(x: f32) -> f32 {
    let bits = x.to_bits();
    let e = ((bits >> 23) & 0xff) as i32 - 127;
    let m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let big = m > std::f32::consts::SQRT_2;
    let m = if big { m * 0.5 } else { m };
    let e = if big { e + 1 } else { e } as f32;
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let p = 1.0 + s2 * (1.0 / 3.0 + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0))));
    2.0 * s * p + e * std::f32::consts::LN_2
}

/// (cos 2πt, sin 2πt) for t in [0, 1): the quadrant from 4t, then Taylor series on
/// [−π/4, π/4) around the quadrant's centre.
#[inline(always)]
fn cos_sin_turn(t: f32) -> (f32, f32) {
    let q4 = 4.0 * t;
    let q = q4.floor();
    let psi = (q4 - q - 0.5) * std::f32::consts::FRAC_PI_2;
    let p2 = psi * psi;
    let s = psi * (1.0 + p2 * (-1.0 / 6.0 + p2 * (1.0 / 120.0 + p2 * (-1.0 / 5040.0))));
    let c = 1.0 + p2 * (-0.5 + p2 * (1.0 / 24.0 + p2 * (-1.0 / 720.0 + p2 * (1.0 / 40320.0))));
    // The angle within the quadrant is ψ + π/4.
    let h = std::f32::consts::FRAC_1_SQRT_2;
    let (c0, s0) = ((c - s) * h, (s + c) * h);
    // Rotate by q quarter turns: (c, s) → (−s, c) → (−c, −s) → (s, −c).
    let qi = q as i32;
    let (c1, s1) = if qi & 1 == 1 { (-s0, c0) } else { (c0, s0) };
    if qi & 2 == 2 { (-c1, -s1) } else { (c1, s1) }
}

/// Block `b` of stream `key`: 2·PAIRS values, the cosines first and then the sines.
#[inline(always)]
fn block(key: u64, b: u64, out: &mut [f32; 2 * PAIRS]) {
    let base = key.wrapping_add(b.wrapping_mul(PAIRS as u64).wrapping_mul(GAMMA));
    for j in 0..PAIRS {
        let h = mix64(base.wrapping_add((j as u64 + 1).wrapping_mul(GAMMA)));
        let u1 = ((h >> 40) + 1) as f32 * (1.0 / 16_777_216.0);
        let u2 = ((h >> 8) & 0x00ff_ffff) as f32 * (1.0 / 16_777_216.0);
        let r = (-2.0 * ln_unit(u1)).sqrt();
        let (c, s) = cos_sin_turn(u2);
        out[j] = r * c;
        out[PAIRS + j] = r * s;
    }
}

/// Adds `sd·z` to every element of `out`, where `z` is element `first + i` of the standard
/// normal stream keyed `key`.
pub fn add(out: &mut [f32], sd: f32, key: u64, first: u64) {
    dispatch!(add_impl(out, sd, key, first))
}

#[inline(always)]
fn add_impl(out: &mut [f32], sd: f32, key: u64, first: u64) {
    const N: u64 = 2 * PAIRS as u64;
    let mut buf = [0.0f32; 2 * PAIRS];
    let mut i = 0usize;
    let mut pos = first;
    while i < out.len() {
        let (b, skip) = (pos / N, (pos % N) as usize);
        block(key, b, &mut buf);
        let take = (2 * PAIRS - skip).min(out.len() - i);
        for (o, z) in out[i..i + take].iter_mut().zip(&buf[skip..skip + take]) {
            *o += sd * z;
        }
        i += take;
        pos += take as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_and_distribution_are_standard_normal() {
        let n = 1 << 20;
        let mut z = vec![0.0f32; n];
        add(&mut z, 1.0, 12345, 0);
        let m = z.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
        let v = z.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / n as f64;
        let k = z.iter().map(|&x| (x as f64 - m).powi(4)).sum::<f64>() / n as f64 / (v * v);
        // Standard errors at n = 2²⁰: mean 0.001, variance 0.0014, kurtosis 0.0048.
        assert!(m.abs() < 0.005, "mean {m}");
        assert!((v - 1.0).abs() < 0.007, "variance {v}");
        assert!((k - 3.0).abs() < 0.03, "kurtosis {k}");
        // Kolmogorov–Smirnov distance against Φ (the 0.1 % critical value is 1.95/√n = 0.0019).
        let mut s: Vec<f64> = z.iter().map(|&x| x as f64).collect();
        s.sort_by(f64::total_cmp);
        let phi = |x: f64| 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2);
        let d = s
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = phi(x);
                (f - i as f64 / n as f64)
                    .abs()
                    .max((f - (i + 1) as f64 / n as f64).abs())
            })
            .fold(0.0, f64::max);
        assert!(d < 0.0019, "KS distance {d}");
    }

    #[test]
    fn any_part_of_a_stream_is_the_same_numbers() {
        let mut whole = vec![0.0f32; 1000];
        add(&mut whole, 0.5, 7, 0);
        let mut parts = vec![0.0f32; 1000];
        let (a, b) = parts.split_at_mut(333);
        add(a, 0.5, 7, 0);
        add(b, 0.5, 7, 333);
        assert_eq!(whole, parts);
        let mut other = vec![0.0f32; 1000];
        add(&mut other, 0.5, 8, 0);
        assert!(whole.iter().zip(&other).filter(|(a, b)| a == b).count() < 5);
    }

    #[test]
    fn polynomial_pieces_match_libm() {
        for i in 1..=1000 {
            let x = i as f32 / 1000.0;
            assert!((ln_unit(x) - x.ln()).abs() < 2e-6, "ln {x}");
            let (c, s) = cos_sin_turn(x - 0.001);
            let t = std::f32::consts::TAU * (x - 0.001);
            assert!(
                (c - t.cos()).abs() < 2e-6 && (s - t.sin()).abs() < 2e-6,
                "turn {x}"
            );
        }
    }
}
