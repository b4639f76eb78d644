//! Fused, in-place optimiser updates: one pass over memory per parameter.
//!
//! Every SGD-family step (plain, momentum, Nesterov; coupled, signed or unsigned weight decay;
//! any geometry; sign freeze and non-negativity) is the same loop, [`sgd_step`], with the geometry
//! passed in as an inlined closure `(w, s, d) → w_new`. Adam-family steps are [`adam_step`].
//! The `optim` module decides *what* to do; this file only does it fast.

use super::Real;

/// Σ g² in f64 with 8 independent accumulators, so it vectorises (one f64 accumulator is a
/// serial chain of dependent adds: it took a fifth of an EG step on 10⁷ weights).
#[inline(always)]
pub fn sum_squares<T: Real>(g: &[T]) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = g.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for j in 0..8 {
            let v = c[j].f64();
            acc[j] += v * v;
        }
    }
    for (j, v) in tail.iter().enumerate() {
        acc[j] += v.f64() * v.f64();
    }
    acc.iter().sum()
}

/// Coefficients of one SGD-family step, resolved by the optimiser for this update.
#[derive(Clone, Copy, Debug)]
pub struct SgdCoeffs<T> {
    /// Factor applied to the raw gradient (global clipping, corrections).
    pub grad_scale: T,
    /// Weight decay on `w` (coupled, `gd`), on `sign(w)` (`eg`) and on `|sign(w)|` (`eg_unsigned`).
    pub wd_w: T,
    pub wd_sign: T,
    pub wd_abs_sign: T,
    /// Momentum buffer: `buf = mom_buf·buf + mom_d·d` (first step: 0 and 1).
    pub mom_buf: T,
    pub mom_d: T,
    /// Direction after momentum: `dir_d·d + dir_buf·buf` (Nesterov: 1 and μ; heavy ball: 0 and 1).
    pub dir_d: T,
    pub dir_buf: T,
    /// Projected GD: elements that crossed zero are reset to `sign·freeze` (0 = off).
    pub freeze: T,
    /// Clamp at zero after the step (non-negative parameters under GD).
    pub nonneg: bool,
}

/// One fused SGD-family step. `buf` is the momentum buffer (None without momentum).
/// `geometry(w, s, d)` returns the new weight for direction `d`, with `s = sign(w)` before the step.
#[inline(always)]
pub fn sgd_step<T: Real, G: Fn(T, T, T) -> T>(
    w: &mut [T],
    g: &[T],
    buf: Option<&mut [T]>,
    c: &SgdCoeffs<T>,
    geometry: G,
) {
    assert_eq!(w.len(), g.len());
    let zero = T::zero();
    let finish = |s: T, wn: T| {
        let crossed = c.freeze > zero && s * wn < zero;
        let wn = if crossed { s * c.freeze } else { wn };
        if c.nonneg && wn < zero { zero } else { wn }
    };
    let with_momentum = |w: &mut [T], g: &[T], buf: &mut [T]| {
        for ((wi, &gi), bi) in w.iter_mut().zip(g).zip(buf.iter_mut()) {
            let x = *wi;
            let s = x.sign();
            let d = c.grad_scale * gi + c.wd_w * x + c.wd_sign * s + c.wd_abs_sign * s.abs();
            let b = c.mom_buf * *bi + c.mom_d * d;
            *bi = b;
            let dir = c.dir_d * d + c.dir_buf * b;
            *wi = finish(s, geometry(x, s, dir));
        }
    };
    let plain = |w: &mut [T], g: &[T]| {
        for (wi, &gi) in w.iter_mut().zip(g) {
            let x = *wi;
            let s = x.sign();
            let d = c.grad_scale * gi + c.wd_w * x + c.wd_sign * s + c.wd_abs_sign * s.abs();
            *wi = finish(s, geometry(x, s, d));
        }
    };
    // Fixed blocks of UNROLL elements: the compiler vectorises each block into several
    // independent registers, whose `exp` chains then overlap. One register per iteration left
    // the update bound by the latency of the `exp` polynomial (about 6 cycles per weight).
    const UNROLL: usize = 64;
    let split = w.len() - w.len() % UNROLL;
    let (w_main, w_tail) = w.split_at_mut(split);
    let (g_main, g_tail) = g.split_at(split);
    match buf {
        Some(buf) => {
            assert_eq!(buf.len(), w_main.len() + w_tail.len());
            let (b_main, b_tail) = buf.split_at_mut(split);
            for ((w, g), b) in w_main
                .chunks_exact_mut(UNROLL)
                .zip(g_main.chunks_exact(UNROLL))
                .zip(b_main.chunks_exact_mut(UNROLL))
            {
                with_momentum(&mut w[..UNROLL], &g[..UNROLL], &mut b[..UNROLL]);
            }
            with_momentum(w_tail, g_tail, b_tail);
        }
        None => {
            for (w, g) in w_main
                .chunks_exact_mut(UNROLL)
                .zip(g_main.chunks_exact(UNROLL))
            {
                plain(&mut w[..UNROLL], &g[..UNROLL]);
            }
            plain(w_tail, g_tail);
        }
    }
}

/// Coefficients of one Adam-family step (AdamW, AdamW-EG), t ≥ 1.
#[derive(Clone, Copy, Debug)]
pub struct AdamCoeffs<T> {
    pub grad_scale: T,
    /// Decoupled decay factor `1 − η·wd`, applied before the step.
    pub decay: T,
    pub beta1: T,
    pub beta2: T,
    pub eps: T,
    /// `√(1 − β₂ᵗ)`.
    pub sqrt_bias2: T,
    /// Projected steps: elements that crossed zero are reset to `sign·freeze` (0 = off). The
    /// sign is the weight's before the step, so this works whatever the direction is.
    pub freeze: T,
    pub nonneg: bool,
}

/// One fused Adam-family step; `geometry(w, s, d)` receives `d = m/(√v/√b₂ + ε)` and must use
/// the learning rate `η/b₁`. `vmax` enables AMSGrad.
#[inline(always)]
pub fn adam_step<T: Real, G: Fn(T, T, T) -> T>(
    w: &mut [T],
    g: &[T],
    m: &mut [T],
    v: &mut [T],
    mut vmax: Option<&mut [T]>,
    c: &AdamCoeffs<T>,
    geometry: G,
) {
    let one = T::one();
    let zero = T::zero();
    for i in 0..w.len() {
        let gi = c.grad_scale * g[i];
        let x = w[i] * c.decay;
        let mi = c.beta1 * m[i] + (one - c.beta1) * gi;
        let vi = c.beta2 * v[i] + (one - c.beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        let vuse = match vmax.as_deref_mut() {
            Some(vm) => {
                let mx = if vm[i] > vi { vm[i] } else { vi };
                vm[i] = mx;
                mx
            }
            None => vi,
        };
        let d = mi / (vuse.sqrt() / c.sqrt_bias2 + c.eps);
        let s = x.sign();
        let wn = geometry(x, s, d);
        let wn = if c.freeze > zero && s * wn < zero {
            s * c.freeze
        } else {
            wn
        };
        w[i] = if c.nonneg && wn < zero { zero } else { wn };
    }
}
