//! A branch-free single-precision `exp` that LLVM vectorises (libm's `expf` is a scalar call and
//! was the bottleneck of the EG update).
//!
//! Cody–Waite range reduction `x = n·ln2 + r`, |r| ≤ ln2/2, then a degree-6 Taylor/minimax
//! polynomial for `e^r` and the exponent `2^n` assembled from bits. Relative error < 2e-7 on
//! [-87, 88]; inputs beyond saturate to 0 or `f32::MAX`-scale values instead of `inf`.

const LOG2E: f32 = std::f32::consts::LOG2_E;
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;

/// `e^x` for `f32`, vectorisable.
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2E).round_ties_even();
    let r = x - n * LN2_HI - n * LN2_LO;
    // e^r on |r| <= 0.35: Taylor coefficients up to r^6 (truncation error < 1.1e-7 relative).
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // 2^n from bits. `n as i32` (a saturating cast) does not vectorise; adding 1.5·2²³ puts the
    // integer n in the low mantissa bits, read back with a reinterpretation.
    let ni = ((n + 12_582_912.0).to_bits() as i32).wrapping_sub(0x4B40_0000);
    let bits = ((ni + 127) as u32) << 23;
    p * f32::from_bits(bits)
}

/// `tanh x` for `f32`, vectorisable (libm's `tanhf` is a scalar call and was half of a small
/// tanh RNN's step): `(1 − e^{−2|x|})/(1 + e^{−2|x|})` with [`exp_f32`], and below |x| = 1/8,
/// where that cancels, the odd Taylor series to x⁷. Relative error < 1e-6.
#[inline(always)]
pub fn tanh_f32(x: f32) -> f32 {
    let a = x.abs();
    let e = exp_f32(-2.0 * a);
    let large = (1.0 - e) / (1.0 + e);
    let a2 = a * a;
    let small = a * (1.0 + a2 * (-1.0 / 3.0 + a2 * (2.0 / 15.0 + a2 * (-17.0 / 315.0))));
    let t = if a < 0.125 { small } else { large };
    t.copysign(x)
}

/// `e^x` for `f64`, vectorisable: the same reduction with a degree-12 Taylor polynomial
/// (relative error < 3e-16 on [-708, 709]); 0 below −745, like libm.
#[inline(always)]
pub fn exp_f64(x: f64) -> f64 {
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    let xc = x.clamp(-708.0, 709.0);
    let n = (xc * std::f64::consts::LOG2_E).round_ties_even();
    let r = xc - n * LN2_HI - n * LN2_LO;
    let mut p = 1.0 / 479_001_600.0;
    for k in (0..12).rev() {
        // Horner on Σ r^k/k!: coefficients 1/11!, …, 1/0!.
        p = p * r + 1.0 / FACT[k];
    }
    // 2^n from bits, with the same trick as `exp_f32` (1.5·2⁵² instead of a saturating cast).
    let ni = ((n + 6_755_399_441_055_744.0).to_bits() as i64).wrapping_sub(0x4338_0000_0000_0000);
    let bits = ((ni + 1023) as u64) << 52;
    let y = p * f64::from_bits(bits);
    if x < -745.0 { 0.0 } else { y }
}

const FACT: [f64; 12] = [
    1.0,
    1.0,
    2.0,
    6.0,
    24.0,
    120.0,
    720.0,
    5040.0,
    40320.0,
    362_880.0,
    3_628_800.0,
    39_916_800.0,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_libm_to_f32_precision() {
        let mut worst = 0.0f64;
        let mut x = -87.0f64;
        while x < 88.0 {
            let got = exp_f32(x as f32) as f64;
            let want = (x as f32 as f64).exp();
            worst = worst.max(((got - want) / want).abs());
            x += 0.001_7;
        }
        assert!(worst < 3e-7, "worst relative error {worst}");
    }

    #[test]
    fn f64_matches_libm() {
        let mut worst = 0.0f64;
        let mut x = -700.0f64;
        while x < 700.0 {
            let want = x.exp();
            worst = worst.max(((exp_f64(x) - want) / want).abs());
            x += 0.0137;
        }
        assert!(worst < 1e-15, "worst relative error {worst}");
        assert_eq!(exp_f64(f64::NEG_INFINITY), 0.0);
    }

    #[test]
    fn vector_path_equals_scalar_path() {
        let xs: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) * 0.173).collect();
        let mut v = xs.clone();
        crate::dispatch!(for x in v.iter_mut() {
            *x = exp_f32(*x);
        });
        for (x, e) in xs.iter().zip(&v) {
            assert_eq!(*e, exp_f32(*x));
        }
    }

    #[test]
    fn tanh_is_within_a_micro_of_libm() {
        let mut worst = 0f64;
        for i in -200_000..=200_000 {
            let x = i as f32 * 1e-4;
            let want = (x as f64).tanh();
            let got = tanh_f32(x) as f64;
            let rel = if want == 0.0 {
                got.abs()
            } else {
                ((got - want) / want).abs()
            };
            worst = worst.max(rel);
        }
        assert!(worst < 1e-6, "worst relative error {worst}");
        assert_eq!(tanh_f32(100.0), 1.0);
        assert_eq!(tanh_f32(-100.0), -1.0);
        assert_eq!(tanh_f32(0.0), 0.0);
    }
}
