//! The fast CPU backend: products through the `gemm` crate, element loops compiled twice and
//! picked at run time (AVX-512 or portable, [`dispatch!`](crate::dispatch)), fused optimiser
//! updates in fixed parallel blocks (the same bits for any thread count).

use super::Real;
use super::activation::Activation;
use super::backend::{Backend, BiasValue, Geometry};
use super::gemm::{self, Operand};
use super::loss;
use super::update::{AdamCoeffs, SgdCoeffs, adam_step, sgd_step, sum_squares};
use crate::dispatch;
use crate::geometry::{MirrorMap, NegEntropy};

#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu;

/// Elements per parallel block of an update or a norm. Fixed, so that results do not depend on
/// the thread count.
pub(crate) const CHUNK: usize = 1 << 15;

/// Expands `$body` once per geometry with `$geo` bound to the step `(w, s, d) → w_new` (the
/// potential's own [`MirrorMap::step`], or the unsigned-EG ablation), so each fused loop is
/// monomorphised with no branch on the potential.
macro_rules! with_geometry {
    ($T:ty, $g:expr, |$geo:ident| $body:expr) => {{
        let lr = <$T>::c($g.lr);
        if $g.unsigned_eg {
            let $geo = move |w: $T, _s: $T, d: $T| NegEntropy::unsigned_step(w, d, lr);
            $body
        } else {
            $crate::with_potential!($g.potential, |m| {
                let $geo = move |w: $T, s: $T, d: $T| m.step(w, s, d, lr);
                $body
            })
        }
    }};
}

/// Runs the elementwise update `f` over matching blocks of `w`, `g` and `buf`, in parallel for
/// large parameters (two threads halve a memory-bound update).
fn chunked<T: Real>(
    w: &mut [T],
    g: &[T],
    buf: Option<&mut [T]>,
    f: impl Fn(&mut [T], &[T], Option<&mut [T]>) + Sync,
) {
    use rayon::prelude::*;
    if w.len() < 2 * CHUNK || rayon::current_num_threads() == 1 {
        return f(w, g, buf);
    }
    let pairs = w.par_chunks_mut(CHUNK).zip(g.par_chunks(CHUNK));
    match buf {
        Some(b) => pairs
            .zip(b.par_chunks_mut(CHUNK))
            .for_each(|((w, g), b)| f(w, g, Some(b))),
        None => pairs.for_each(|(w, g)| f(w, g, None)),
    }
}

/// Expands `$body` once per activation with `$a` bound to a constant, so that the loop in it has
/// no branch on the activation and vectorises (a `match` inside the loop did not: ReLU's
/// backward pass took 8 % of an MLP step).
macro_rules! with_activation {
    ($f:expr, |$a:ident| $body:expr) => {
        match $f {
            Activation::Relu => {
                const $a: Activation = Activation::Relu;
                $body
            }
            Activation::Tanh => {
                const $a: Activation = Activation::Tanh;
                $body
            }
            Activation::Sigmoid => {
                const $a: Activation = Activation::Sigmoid;
                $body
            }
            Activation::Identity => {
                const $a: Activation = Activation::Identity;
                $body
            }
        }
    };
}

#[inline(always)]
fn map<T: Real>(x: &[T], y: &mut [T], f: impl Fn(T) -> T) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y = f(x);
    }
}

#[inline(always)]
fn rows_mut<T: Real>(x: &mut [T], cols: usize, f: impl Fn(&mut [T])) {
    if cols > 0 {
        x.chunks_exact_mut(cols).for_each(f);
    }
}

impl<T: Real> Backend<T> for Cpu {
    fn gemm(&self, c: &mut [T], a: Operand<'_, T>, b: Operand<'_, T>, beta: T) {
        gemm::matmul(c, a, b, beta)
    }
    fn gemm_acc(&self, c: &mut [T], a: Operand<'_, T>, b: Operand<'_, T>, scale: T) {
        gemm::matmul_acc(c, a, b, scale)
    }
    fn join(&self, a: &mut (dyn FnMut() + Send), b: &mut (dyn FnMut() + Send)) {
        gemm::join(a, b);
    }

    fn activation(&self, f: Activation, x: &[T], y: &mut [T]) {
        with_activation!(f, |A| dispatch!(map(x, y, |v| A.f(v))))
    }
    fn activation_backward(&self, f: Activation, y: &[T], dy: &[T], dx: &mut [T]) {
        with_activation!(f, |A| dispatch!(
            for ((dx, &y), &d) in dx.iter_mut().zip(y).zip(dy) {
                *dx = A.df(y) * d;
            }
        ))
    }
    fn add_bias(&self, y: &mut [T], bias: BiasValue<'_, T>) {
        match bias {
            BiasValue::Vector(b) => dispatch!(rows_mut(y, b.len(), |row| {
                for (v, &b) in row.iter_mut().zip(b) {
                    *v += b;
                }
            })),
            BiasValue::Split(p, n) => dispatch!(rows_mut(y, p.len(), |row| {
                for ((v, &p), &n) in row.iter_mut().zip(p).zip(n) {
                    *v += p + n;
                }
            })),
            BiasValue::Constant(c) => self.add_scalar(y, c),
        }
    }
    fn sum_rows(&self, g: &mut [T], dy: &[T]) {
        let cols = g.len();
        if cols == 0 {
            return;
        }
        dispatch!(for row in dy.chunks_exact(cols) {
            for (g, &d) in g.iter_mut().zip(row) {
                *g += d;
            }
        })
    }
    fn scale(&self, x: &mut [T], c: T) {
        dispatch!(x.iter_mut().for_each(|v| *v *= c))
    }
    fn add_scalar(&self, x: &mut [T], c: T) {
        dispatch!(x.iter_mut().for_each(|v| *v += c))
    }
    fn axpy(&self, y: &mut [T], a: T, x: &[T]) {
        dispatch!(for (y, &x) in y.iter_mut().zip(x) {
            *y += a * x;
        })
    }
    fn scale_columns(&self, x: &mut [T], s: &[T]) {
        dispatch!(rows_mut(x, s.len(), |row| {
            for (v, &s) in row.iter_mut().zip(s) {
                *v *= s;
            }
        }))
    }
    fn exp(&self, x: &[T], y: &mut [T]) {
        map(x, y, |v| v.exp())
    }
    fn zero_pruned(&self, v: &mut [T], keep: &[bool]) {
        dispatch!(for (x, &k) in v.iter_mut().zip(keep) {
            if !k {
                *x = T::zero();
            }
        })
    }
    fn abs(&self, x: &[T], y: &mut [T]) {
        dispatch!(map(x, y, |v| v.abs()))
    }
    fn mul_sign(&self, d: &mut [T], w: &[T]) {
        dispatch!(for (d, &w) in d.iter_mut().zip(w) {
            *d *= w.sign();
        })
    }

    fn divide(&self, z: &mut [T], zhat: &[T], gamma: &[T], gain: &[T]) {
        let ne = gain.len();
        dispatch!(for (i, z) in z.iter_mut().enumerate() {
            *z = gain[i % ne] * zhat[i] / gamma[i];
        })
    }
    fn divide_backward(
        &self,
        dz: &[T],
        zhat: &[T],
        gamma: &[T],
        gain: &[T],
        dzhat: &mut [T],
        dgamma: &mut [T],
        dgain: &mut [T],
    ) {
        let ne = gain.len();
        let rows = dz.len().checked_div(ne).unwrap_or(0);
        dispatch!(for s in 0..rows {
            for (j, gg) in dgain.iter_mut().enumerate() {
                let i = s * ne + j;
                let (g, h, gm, d) = (gain[j], zhat[i], gamma[i], dz[i]);
                *gg += d * h / gm;
                dzhat[i] = d * g / gm;
                dgamma[i] = -d * g * h / (gm * gm);
            }
        })
    }
    fn inhibition_scale_backward(
        &self,
        da: &[T],
        a: &[T],
        exp_alpha: &[T],
        dalpha: &mut [T],
        dz_i: &mut [T],
    ) {
        let ni = exp_alpha.len();
        let rows = da.len().checked_div(ni).unwrap_or(0);
        dispatch!(for s in 0..rows {
            for (k, ga) in dalpha.iter_mut().enumerate() {
                let i = s * ni + k;
                *ga += da[i] * a[i];
                dz_i[i] += da[i] * exp_alpha[k];
            }
        })
    }

    fn softmax_cross_entropy(
        &self,
        logits: &[T],
        classes: usize,
        labels: &[u32],
        smoothing: f64,
        mask: Option<&[T]>,
        grad: &mut [T],
    ) -> T {
        loss::softmax_cross_entropy(logits, classes, labels, smoothing, mask, grad)
    }
    fn bce(&self, logits: &[T], targets: &[T], grad: &mut [T]) -> T {
        loss::bce(logits, targets, grad)
    }
    fn mse(&self, pred: &[T], target: &[T], mask: Option<&[T]>, grad: &mut [T]) -> T {
        loss::mse(pred, target, mask, grad)
    }

    /// Large gradients in fixed blocks, summed in order, in parallel.
    fn sum_squares(&self, g: &[T]) -> f64 {
        use rayon::prelude::*;
        let sum_sq = |g: &[T]| dispatch!(sum_squares(g));
        if g.len() < 2 * CHUNK {
            sum_sq(g)
        } else {
            let parts: Vec<f64> = g.par_chunks(CHUNK).map(sum_sq).collect();
            parts.iter().sum()
        }
    }
    fn sgd_update(
        &self,
        w: &mut [T],
        g: &[T],
        momentum: Option<&mut [T]>,
        c: &SgdCoeffs<T>,
        geometry: Geometry,
    ) {
        with_geometry!(T, geometry, |geo| chunked(w, g, momentum, |w, g, buf| {
            dispatch!(sgd_step(w, g, buf, c, geo))
        }));
    }
    fn adam_update(
        &self,
        w: &mut [T],
        g: &[T],
        m: &mut [T],
        v: &mut [T],
        vmax: Option<&mut [T]>,
        c: &AdamCoeffs<T>,
        geometry: Geometry,
    ) {
        with_geometry!(T, geometry, |geo| dispatch!(adam_step(
            w, g, m, v, vmax, c, geo
        )));
    }
}
