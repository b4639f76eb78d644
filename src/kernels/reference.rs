//! The reference backend: the definition of every [`Backend`] method as the plainest loop, with
//! no blocking, threads, vectorised `exp` or fused passes, written apart from [`super::cpu`] so
//! that each checks the other. The f64 gradient checks run on it; its optimiser steps go through
//! each potential's f64 maps, `w ← ψ⁻¹(ψ(w) − η·d)`, not the fast f32 steps.

use super::Real;
use super::activation::Activation;
use super::backend::{Backend, BiasValue, Geometry};
use super::gemm::Operand;
use super::update::{AdamCoeffs, SgdCoeffs};
use crate::geometry::MirrorMap;

#[derive(Clone, Copy, Debug, Default)]
pub struct Reference;

/// The column of flat index `i` in rows of `cols`.
fn col(i: usize, cols: usize) -> usize {
    i % cols
}

/// The geometry step in f64 through the potential's maps.
fn step(g: Geometry, w: f64, dir: f64) -> f64 {
    if g.unsigned_eg {
        w * (-g.lr * dir).exp()
    } else {
        // Negative entropy's ψ(0) is undefined; its inverse maps sign 0 to 0, so a zero stays 0.
        g.potential
            .inverse(g.potential.mirror(w) - g.lr * dir, sign(w))
    }
}

/// Sign freeze (reset to `sign·freeze` after crossing zero) and the non-negative clamp.
fn constrain(s: f64, w: f64, freeze: f64, nonneg: bool) -> f64 {
    let w = if freeze > 0.0 && s * w < 0.0 {
        s * freeze
    } else {
        w
    };
    if nonneg && w < 0.0 { 0.0 } else { w }
}

fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

impl<T: Real> Backend<T> for Reference {
    fn gemm(&self, c: &mut [T], a: Operand<'_, T>, b: Operand<'_, T>, beta: T) {
        let (m, k) = a.shape();
        let (k2, n) = b.shape();
        assert!(k == k2 && c.len() == m * n, "product shapes");
        for i in 0..m {
            for j in 0..n {
                let mut sum = T::zero();
                for p in 0..k {
                    sum += a.at(i, p) * b.at(p, j);
                }
                let old = if beta == T::zero() {
                    T::zero()
                } else {
                    beta * c[i * n + j]
                };
                c[i * n + j] = old + sum;
            }
        }
    }
    fn gemm_acc(&self, c: &mut [T], a: Operand<'_, T>, b: Operand<'_, T>, scale: T) {
        let mut prod = vec![T::zero(); c.len()];
        self.gemm(&mut prod, a, b, T::zero());
        for (c, p) in c.iter_mut().zip(prod) {
            *c += scale * p;
        }
    }
    fn join(&self, a: &mut (dyn FnMut() + Send), b: &mut (dyn FnMut() + Send)) {
        a();
        b();
    }

    fn activation(&self, f: Activation, x: &[T], y: &mut [T]) {
        for i in 0..x.len() {
            let v = x[i].f64();
            y[i] = T::c(match f {
                Activation::Relu => v.max(0.0),
                Activation::Tanh => v.tanh(),
                Activation::Sigmoid => 1.0 / (1.0 + (-v).exp()),
                Activation::Identity => v,
            });
        }
    }
    fn activation_backward(&self, f: Activation, y: &[T], dy: &[T], dx: &mut [T]) {
        for i in 0..y.len() {
            let v = y[i].f64();
            let slope = match f {
                Activation::Relu => (v > 0.0) as u8 as f64,
                Activation::Tanh => 1.0 - v * v,
                Activation::Sigmoid => v * (1.0 - v),
                Activation::Identity => 1.0,
            };
            dx[i] = T::c(slope * dy[i].f64());
        }
    }
    fn add_bias(&self, y: &mut [T], bias: BiasValue<'_, T>) {
        for i in 0..y.len() {
            y[i] += match bias {
                BiasValue::Vector(b) => b[col(i, b.len())],
                BiasValue::Split(p, n) => p[col(i, p.len())] + n[col(i, n.len())],
                BiasValue::Constant(c) => c,
            };
        }
    }
    fn sum_rows(&self, g: &mut [T], dy: &[T]) {
        for i in 0..dy.len() {
            g[col(i, g.len())] += dy[i];
        }
    }
    fn scale(&self, x: &mut [T], c: T) {
        for v in x {
            *v *= c;
        }
    }
    fn add_scalar(&self, x: &mut [T], c: T) {
        for v in x {
            *v += c;
        }
    }
    fn axpy(&self, y: &mut [T], a: T, x: &[T]) {
        for i in 0..y.len() {
            y[i] = T::c(y[i].f64() + a.f64() * x[i].f64());
        }
    }
    fn scale_columns(&self, x: &mut [T], s: &[T]) {
        for i in 0..x.len() {
            x[i] *= s[col(i, s.len())];
        }
    }
    fn exp(&self, x: &[T], y: &mut [T]) {
        for i in 0..x.len() {
            y[i] = T::c(x[i].f64().exp());
        }
    }
    fn zero_pruned(&self, v: &mut [T], keep: &[bool]) {
        for i in 0..v.len() {
            if !keep[i] {
                v[i] = T::zero();
            }
        }
    }
    fn abs(&self, x: &[T], y: &mut [T]) {
        for i in 0..x.len() {
            y[i] = T::c(x[i].f64().abs());
        }
    }
    fn mul_sign(&self, d: &mut [T], w: &[T]) {
        for i in 0..d.len() {
            d[i] = T::c(d[i].f64() * Real::sign(w[i].f64()));
        }
    }

    fn divide(&self, z: &mut [T], zhat: &[T], gamma: &[T], gain: &[T]) {
        for i in 0..z.len() {
            z[i] = gain[col(i, gain.len())] * (zhat[i] / gamma[i]);
        }
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
        for i in 0..dz.len() {
            let j = col(i, gain.len());
            let q = zhat[i] / gamma[i];
            dgain[j] += dz[i] * q;
            dzhat[i] = dz[i] * gain[j] / gamma[i];
            dgamma[i] = -(dz[i] * gain[j] * q / gamma[i]);
        }
    }
    fn inhibition_scale_backward(
        &self,
        da: &[T],
        a: &[T],
        exp_alpha: &[T],
        dalpha: &mut [T],
        dz_i: &mut [T],
    ) {
        for i in 0..da.len() {
            let k = col(i, exp_alpha.len());
            dalpha[k] += da[i] * a[i];
            dz_i[i] += da[i] * exp_alpha[k];
        }
    }

    /// Probabilities first, then `−Σ t·ln p` per row: the textbook form, in f64.
    fn softmax_cross_entropy(
        &self,
        logits: &[T],
        classes: usize,
        labels: &[u32],
        smoothing: f64,
        mask: Option<&[T]>,
        grad: &mut [T],
    ) -> T {
        let rows = logits.len() / classes;
        let w = |i: usize| mask.map_or(1.0, |m| m[i].f64());
        let total_w: f64 = (0..rows).map(w).sum();
        let denom = if total_w > 0.0 { total_w } else { 1.0 };
        let mut total = 0.0;
        for i in 0..rows {
            let z: Vec<f64> = (0..classes)
                .map(|k| logits[i * classes + k].f64())
                .collect();
            let max = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let norm: f64 = z.iter().map(|v| (v - max).exp()).sum();
            for k in 0..classes {
                let p = (z[k] - max).exp() / norm;
                let onehot = if k == labels[i] as usize { 1.0 } else { 0.0 };
                let t = (1.0 - smoothing) * onehot + smoothing / classes as f64;
                total -= w(i) * t * p.ln();
                grad[i * classes + k] = T::c(w(i) * (p - t) / denom);
            }
        }
        T::c(total / denom)
    }
    /// `−y·ln σ(z) − (1−y)·ln(1 − σ(z))` through `ln σ(z) = −ln(1 + e^{−z})`.
    fn bce(&self, logits: &[T], targets: &[T], grad: &mut [T]) -> T {
        let n = logits.len() as f64;
        let softplus = |x: f64| x.max(0.0) + (-x.abs()).exp().ln_1p();
        let mut total = 0.0;
        for i in 0..logits.len() {
            let (z, y) = (logits[i].f64(), targets[i].f64());
            total += y * softplus(-z) + (1.0 - y) * softplus(z);
            grad[i] = T::c((1.0 / (1.0 + (-z).exp()) - y) / n);
        }
        T::c(total / n)
    }
    fn mse(&self, pred: &[T], target: &[T], mask: Option<&[T]>, grad: &mut [T]) -> T {
        let m = |i: usize| mask.map_or(1.0, |m| m[i].f64());
        let total_m: f64 = (0..pred.len()).map(m).sum();
        let denom = if total_m > 0.0 { total_m } else { 1.0 };
        let mut total = 0.0;
        for i in 0..pred.len() {
            let d = pred[i].f64() - target[i].f64();
            total += m(i) * d * d;
            grad[i] = T::c(2.0 * m(i) * d / denom);
        }
        T::c(total / denom)
    }

    fn sum_squares(&self, g: &[T]) -> f64 {
        g.iter().map(|v| v.f64() * v.f64()).sum()
    }
    fn sgd_update(
        &self,
        w: &mut [T],
        g: &[T],
        mut momentum: Option<&mut [T]>,
        c: &SgdCoeffs<T>,
        geometry: Geometry,
    ) {
        for i in 0..w.len() {
            let x = w[i].f64();
            let s = sign(x);
            let d = c.grad_scale.f64() * g[i].f64()
                + c.wd_w.f64() * x
                + c.wd_sign.f64() * s
                + c.wd_abs_sign.f64() * s.abs();
            let dir = match momentum.as_deref_mut() {
                Some(buf) => {
                    let b = c.mom_buf.f64() * buf[i].f64() + c.mom_d.f64() * d;
                    buf[i] = T::c(b);
                    c.dir_d.f64() * d + c.dir_buf.f64() * b
                }
                None => d,
            };
            let wn = step(geometry, x, dir);
            w[i] = T::c(constrain(s, wn, c.freeze.f64(), c.nonneg));
        }
    }
    fn adam_update(
        &self,
        w: &mut [T],
        g: &[T],
        m: &mut [T],
        v: &mut [T],
        mut vmax: Option<&mut [T]>,
        c: &AdamCoeffs<T>,
        geometry: Geometry,
    ) {
        let (b1, b2) = (c.beta1.f64(), c.beta2.f64());
        for i in 0..w.len() {
            let gi = c.grad_scale.f64() * g[i].f64();
            let x = w[i].f64() * c.decay.f64();
            let mi = b1 * m[i].f64() + (1.0 - b1) * gi;
            let vi = b2 * v[i].f64() + (1.0 - b2) * gi * gi;
            m[i] = T::c(mi);
            v[i] = T::c(vi);
            let vuse = match vmax.as_deref_mut() {
                Some(vm) => {
                    let mx = vm[i].f64().max(vi);
                    vm[i] = T::c(mx);
                    mx
                }
                None => vi,
            };
            let d = mi / (vuse.sqrt() / c.sqrt_bias2.f64() + c.eps.f64());
            let s = sign(x);
            let wn = step(geometry, x, d);
            w[i] = T::c(constrain(s, wn, c.freeze.f64(), c.nonneg));
        }
    }
}
