//! The backend seam: every piece of arithmetic a training step does, behind one interface.
//!
//! Modules (`nn`) and the optimiser (`optim`) decide *what* to compute and call a
//! `&dyn Backend<T>` to compute it; they hold no element loop of their own. Two backends exist:
//! [`Cpu`](super::cpu::Cpu), the fast one (the `gemm` crate, AVX-512 loops picked at run time,
//! fused optimiser updates), and [`Reference`](super::reference::Reference), plain loops with
//! no blocking, threads or vectorised `exp`, written separately so that the two check each other
//! (`tests/backends.rs`); the finite-difference gradient checks run on the reference.
//!
//! A dynamic call per layer and per parameter costs nothing next to the work inside it, and keeps
//! the modules free of a backend type parameter.
//!
//! What a CUDA backend must provide (README, design notes): device buffers behind the slices
//! below (today they are host memory), cuBLAS for [`Backend::gemm`] and [`Backend::gemm_acc`],
//! NVRTC kernels for every element-wise method (the fused updates once per potential, each
//! potential's step taken from its `geometry/` file), and reductions in a fixed order so that
//! results do not depend on the launch configuration.

use super::Real;
use super::activation::Activation;
use super::gemm::Operand;
use super::update::{AdamCoeffs, SgdCoeffs};
use crate::geometry::Potential;

/// What a layer adds to each row of its output.
#[derive(Clone, Copy, Debug)]
pub enum BiasValue<'a, T> {
    /// One value per column.
    Vector(&'a [T]),
    /// `b⁺ + b⁻` per column (the split bias of EG runs).
    Split(&'a [T], &'a [T]),
    /// The same constant everywhere (a fixed threshold).
    Constant(T),
}

/// The geometry step of an update: `w ← ψ⁻¹(ψ(w) − lr·d)` of `potential`, or the unsigned-EG
/// ablation `w ← w·exp(−lr·d)`.
#[derive(Clone, Copy, Debug)]
pub struct Geometry {
    pub potential: Potential,
    pub unsigned_eg: bool,
    pub lr: f64,
}

/// Matrices are row-major slices; "rows" are samples and "columns" features, as in
/// [`crate::nn::Mat`]. A method that takes per-column values (`bias`, `s`, `gain`) reads the
/// column count from their length.
pub trait Backend<T: Real>: Sync + std::fmt::Debug {
    /// `c = a·b + beta·c` (`beta` 0 or 1).
    fn gemm(&self, c: &mut [T], a: Operand<'_, T>, b: Operand<'_, T>, beta: T);
    /// `c += scale·a·b` (gradient accumulation).
    fn gemm_acc(&self, c: &mut [T], a: Operand<'_, T>, b: Operand<'_, T>, scale: T);
    /// Runs two independent pieces of work, in parallel where the backend can.
    fn join(&self, a: &mut (dyn FnMut() + Send), b: &mut (dyn FnMut() + Send));

    /// `y = f(x)`.
    fn activation(&self, f: Activation, x: &[T], y: &mut [T]);
    /// `dx = f'(x) ⊙ dy`, with f' written in terms of the saved output `y`.
    fn activation_backward(&self, f: Activation, y: &[T], dy: &[T], dx: &mut [T]);
    /// Adds `bias` to every row of `y`.
    fn add_bias(&self, y: &mut [T], bias: BiasValue<'_, T>);
    /// `g += Σ_rows dy` (a bias gradient).
    fn sum_rows(&self, g: &mut [T], dy: &[T]);
    /// `x *= c`.
    fn scale(&self, x: &mut [T], c: T);
    /// `x += c`.
    fn add_scalar(&self, x: &mut [T], c: T);
    /// `y += a·x` (the leak of a recurrent state, BPTT's carried gradient).
    fn axpy(&self, y: &mut [T], a: T, x: &[T]);
    /// `x[r, j] *= s[j]` (column-EI's presynaptic signs, DANN's `e^α`).
    fn scale_columns(&self, x: &mut [T], s: &[T]);
    /// `y = e^x` (exact, not the vectorised approximation).
    fn exp(&self, x: &[T], y: &mut [T]);
    /// Zeroes `v` where `keep` is false (pruned synapses).
    fn zero_pruned(&self, v: &mut [T], keep: &[bool]);
    /// `y = |x|` (the reparametrisation `|W|·D` of a Dale's-law matrix).
    fn abs(&self, x: &[T], y: &mut [T]);
    /// `d *= sign(w)`, 0 where `w` is 0 (∂|w|/∂w, as PyTorch takes it).
    fn mul_sign(&self, d: &mut [T], w: &[T]);

    /// DANN's divisive inhibition `z = g ⊙ ẑ / γ`.
    fn divide(&self, z: &mut [T], zhat: &[T], gamma: &[T], gain: &[T]);
    /// Its backward pass: writes `dẑ = dz·g/γ` and `dγ = −dz·g·ẑ/γ²`, adds `Σ_rows dz·ẑ/γ` into
    /// `dgain`.
    #[allow(clippy::too_many_arguments)]
    fn divide_backward(
        &self,
        dz: &[T],
        zhat: &[T],
        gamma: &[T],
        gain: &[T],
        dzhat: &mut [T],
        dgamma: &mut [T],
        dgain: &mut [T],
    );
    /// The backward pass of `a = z_I ⊙ e^α` given `da`: adds `Σ_rows da ⊙ a` into `dalpha` and
    /// `da ⊙ e^α` into `dz_i`.
    fn inhibition_scale_backward(
        &self,
        da: &[T],
        a: &[T],
        exp_alpha: &[T],
        dalpha: &mut [T],
        dz_i: &mut [T],
    );

    /// Mean softmax cross-entropy of `logits` (rows × `classes`), label smoothing, optional
    /// per-row weights; writes ∂mean/∂logits.
    fn softmax_cross_entropy(
        &self,
        logits: &[T],
        classes: usize,
        labels: &[u32],
        smoothing: f64,
        mask: Option<&[T]>,
        grad: &mut [T],
    ) -> T;
    /// Mean BCE with logits against 0/1 targets; writes ∂mean/∂logits.
    fn bce(&self, logits: &[T], targets: &[T], grad: &mut [T]) -> T;
    /// Masked mean squared error `Σ m·(x − y)² / Σ m`; writes ∂/∂x.
    fn mse(&self, pred: &[T], target: &[T], mask: Option<&[T]>, grad: &mut [T]) -> T;

    /// `Σ g²` in f64, the same value for any thread count.
    fn sum_squares(&self, g: &[T]) -> f64;
    /// One SGD-family update of `w` (weight decay, momentum, geometry step, constraints).
    fn sgd_update(
        &self,
        w: &mut [T],
        g: &[T],
        momentum: Option<&mut [T]>,
        c: &SgdCoeffs<T>,
        geometry: Geometry,
    );
    /// One Adam-family update; `geometry.lr` is already `η/(1 − β₁ᵗ)`.
    #[allow(clippy::too_many_arguments)]
    fn adam_update(
        &self,
        w: &mut [T],
        g: &[T],
        m: &mut [T],
        v: &mut [T],
        vmax: Option<&mut [T]>,
        c: &AdamCoeffs<T>,
        geometry: Geometry,
    );
}
