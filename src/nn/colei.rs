//! Column-EI dense layer (Song et al. 2016; "ColEI" in Cornford et al. 2021): `W = W⁺·D` with
//! `W⁺ ≥ 0` and `D = diag(+1 for E inputs, −1 for I inputs)` over the presynaptic (column) index.
//! The forward pass applies D to the input, `y = (x ⊙ d)·W⁺ᵀ + b`, so W is never formed.

use super::bias::{Bias, BiasKind};
use super::init::{Init, uniform};
use super::linear::{acc_dyt_x, dy_w, x_wt};
use super::module::{Module, Saved};
use super::{Grads, Mat, Param, SignSpec};
use crate::kernels::{Backend, Real};
use rand::Rng;

#[derive(Clone, Debug)]
pub struct ColEi<T> {
    /// Non-negative magnitudes `W⁺` (out × in).
    pub weight: Param<T>,
    pub bias: Bias<T>,
    /// ±1 per input column: the presynaptic unit's type.
    pub input_sign: Vec<T>,
    /// The reparametrisation `W = |W_raw|·D` (PsychRNN's): `weight` is a free `W_raw` and only
    /// its magnitude is used, instead of a non-negative `W⁺` kept so by clamping or EG.
    pub reparam: bool,
}

/// The feed-forward E/I split of `n` units at ratio r:1 (Cornford et al. 2021):
/// `n_I = ⌈n/(r+1)⌉`, `n_E = n − n_I`.
pub fn ei_split(n: usize, ratio: usize) -> (usize, usize) {
    let n_i = n.div_ceil(ratio + 1);
    (n - n_i, n_i)
}

impl<T: Real> ColEi<T> {
    /// A layer fed by `n_e` excitatory then `n_i` inhibitory units, initialised balanced:
    /// `W⁺_E ~ Exp(σ_E)`, `W⁺_I ~ Exp(σ_I)`, `σ_E = √(1/[((2π−1)/2π)(n_E + n_E²/n_I)])`,
    /// `σ_I = (n_E/n_I)·σ_E`, so every row has zero mean input in expectation.
    pub fn balanced(
        name: &str,
        n_e: usize,
        n_i: usize,
        outputs: usize,
        bias: BiasKind,
        rng: &mut impl Rng,
    ) -> Self {
        assert!(
            n_e > 0 && n_i > 0,
            "a balanced column-EI layer needs E and I inputs"
        );
        let tau = std::f64::consts::TAU;
        let (ne, ni) = (n_e as f64, n_i as f64);
        let sigma_e = (1.0 / (((tau - 1.0) / tau) * (ne + ne * ne / ni))).sqrt();
        let sigma_i = ne / ni * sigma_e;
        let we: Vec<T> = Init::Exponential { scale: sigma_e }.sample(outputs, n_e, rng);
        let wi: Vec<T> = Init::Exponential { scale: sigma_i }.sample(outputs, n_i, rng);
        let inputs = n_e + n_i;
        let mut w = Vec::with_capacity(outputs * inputs);
        for r in 0..outputs {
            w.extend_from_slice(&we[r * n_e..(r + 1) * n_e]);
            w.extend_from_slice(&wi[r * n_i..(r + 1) * n_i]);
        }
        let mut sign = vec![T::one(); n_e];
        sign.extend(vec![-T::one(); n_i]);
        Self {
            weight: Param::new(
                format!("{name}.weight_pos"),
                vec![outputs, inputs],
                w,
                SignSpec::NonNegative,
            ),
            bias: Bias::new(bias, name, outputs, 1.0 / (inputs as f64).sqrt(), rng),
            input_sign: sign,
            reparam: false,
        }
    }

    /// The first layer on non-negative pixels: all inputs excitatory, `W⁺ ~ Exp(√(1/d))`, and a
    /// bias `c = −d·σ·pixel_mean` that centres the pre-activations. With `split` (EG runs, which
    /// cannot move a bias through zero) the bias is `b⁺ + b⁻` with `b⁺ ~ U(0, √2/√d)` (the
    /// split-bias range, science.md §2.3) and `b⁻ = c − b⁺ < 0`, so it starts at `c` exactly.
    pub fn first_layer(
        name: &str,
        d: usize,
        outputs: usize,
        pixel_mean: f64,
        split: bool,
        rng: &mut impl Rng,
    ) -> Self {
        let sigma = (1.0 / d as f64).sqrt();
        let w = Init::Exponential { scale: sigma }.sample(outputs, d, rng);
        let centre = -(d as f64) * sigma * pixel_mean;
        let bias_param = |suffix: &str, v: Vec<T>| {
            Param::new(format!("{name}.{suffix}"), vec![outputs], v, SignSpec::Free)
        };
        let bias = if split {
            let pos: Vec<T> = uniform(outputs, 0.0, 2f64.sqrt() * sigma, rng);
            let neg = pos.iter().map(|&p| T::c(centre) - p).collect();
            Bias::Split {
                pos: bias_param("bias_pos", pos),
                neg: bias_param("bias_neg", neg),
            }
        } else {
            Bias::Trained(bias_param("bias", vec![T::c(centre); outputs]))
        };
        Self {
            weight: Param::new(
                format!("{name}.weight_pos"),
                vec![outputs, d],
                w,
                SignSpec::NonNegative,
            ),
            bias,
            input_sign: vec![T::one(); d],
            reparam: false,
        }
    }

    /// The same layer as `|W_raw|·D` with `W_raw` starting at the magnitudes drawn, named
    /// `…weight_raw`.
    pub fn reparametrised(mut self) -> Self {
        self.weight.name = self.weight.name.replace("weight_pos", "weight_raw");
        self.weight.sign = SignSpec::Free;
        self.reparam = true;
        self
    }

    /// The magnitudes the layer uses: `W⁺`, or `|W_raw|` (a new matrix) under `reparam`.
    fn magnitudes(&self, be: &dyn Backend<T>) -> std::borrow::Cow<'_, [T]> {
        if self.reparam {
            let mut m = vec![T::zero(); self.weight.len()];
            be.abs(&self.weight.value, &mut m);
            m.into()
        } else {
            self.weight.value.as_slice().into()
        }
    }

    /// The mean row sum of the effective matrix `W⁺·D` (≈ 0 when balanced).
    pub fn mean_row_sum(&self) -> f64 {
        let cols = self.input_sign.len();
        let total: f64 = self
            .weight
            .value
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let m = if self.reparam { w.abs() } else { *w };
                (m * self.input_sign[i % cols]).f64()
            })
            .sum();
        total / self.weight.shape[0] as f64
    }
}

impl<T: Real> Module<T> for ColEi<T> {
    fn forward(&self, be: &dyn Backend<T>, x: &Mat<T>) -> (Mat<T>, Saved<T>) {
        assert_eq!(
            x.cols,
            self.input_sign.len(),
            "{}: input width",
            self.weight.name
        );
        let mut xs = x.clone();
        be.scale_columns(&mut xs.data, &self.input_sign);
        let mut y = x_wt(be, &xs, &self.magnitudes(be), self.weight.shape[0]);
        self.bias.add_to(be, &mut y);
        (y, vec![xs])
    }
    fn backward(
        &self,
        be: &dyn Backend<T>,
        _x: &Mat<T>,
        saved: &Saved<T>,
        dy: &Mat<T>,
        need_dx: bool,
        grads: &mut Grads<T>,
    ) -> Option<Mat<T>> {
        if self.reparam {
            // ∂L/∂W_raw = ∂L/∂|W_raw| ⊙ sign(W_raw).
            let mut d = vec![T::zero(); self.weight.len()];
            acc_dyt_x(be, &mut d, dy, &saved[0], T::one());
            be.mul_sign(&mut d, &self.weight.value);
            be.axpy(grads.of(&self.weight), T::one(), &d);
        } else {
            acc_dyt_x(be, grads.of(&self.weight), dy, &saved[0], T::one());
        }
        self.bias.backward(be, dy, grads);
        need_dx.then(|| {
            let mut dx = dy_w(be, dy, &self.magnitudes(be), self.input_sign.len());
            be.scale_columns(&mut dx.data, &self.input_sign);
            dx
        })
    }
    fn params(&self) -> Vec<&Param<T>> {
        self.bias.after(&self.weight)
    }
    fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        self.bias.after_mut(&mut self.weight)
    }
}
