//! The DANN layer (Cornford et al. 2021): excitatory outputs with a separate population of
//! inhibitory interneurons, subtractive and divisive (shunting) inhibition.
//!
//! ```text
//! z_E = W_EE·x ;  z_I = W_IE·x ;  ẑ = z_E − W_EI·z_I
//! γ = W_EI·(e^α ⊙ z_I) + 1e-8 ;  z = g ⊙ ẑ/γ + b        (subtractive only: z = ẑ + b)
//! ```
//!
//! `W_EE`, `W_IE`, `W_EI` and `g` are non-negative; inputs must be non-negative (pixels or the
//! output of a ReLU layer), so `z_I ≥ 0` and `γ > 0`. At initialisation inhibition cancels the
//! mean excitatory drive and γ ≈ std(ẑ): the layer starts out like LayerNorm.

use super::bias::{Bias, BiasKind};
use super::init::Init;
use super::linear::{acc_dyt_x, dy_w, x_wt};
use super::module::{Module, Saved};
use super::{Grads, Mat, Param, SignSpec};
use crate::kernels::gemm::Operand;
use crate::kernels::{Backend, Real};
use rand::Rng;

const GAMMA_EPS: f64 = 1e-8;

#[derive(Clone, Debug)]
pub struct Dann<T> {
    pub w_ee: Param<T>,
    pub w_ie: Param<T>,
    pub w_ei: Param<T>,
    /// Gain `g` (divisive layers only).
    pub gain: Option<Param<T>>,
    /// Log inhibitory scale `α` (divisive layers only).
    pub alpha: Option<Param<T>>,
    pub bias: Bias<T>,
}

impl<T: Real> Dann<T> {
    /// A layer of `n_e` excitatory outputs and `n_i` interneurons on `d` inputs. `after_relu`
    /// selects the W_EE scale: `√(2π/(d(2π−1)))` after a ReLU layer, `√(1/(2d))` on raw inputs.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        d: usize,
        n_e: usize,
        n_i: usize,
        after_relu: bool,
        divisive: bool,
        bias: BiasKind,
        rng: &mut impl Rng,
    ) -> Self {
        assert!(
            n_e > 0 && n_i > 0 && d > 0,
            "DANN layer sizes must be positive"
        );
        let tau = std::f64::consts::TAU;
        let df = d as f64;
        let sigma = if after_relu {
            (tau / (df * (tau - 1.0))).sqrt()
        } else {
            (1.0 / (2.0 * df)).sqrt()
        };
        let w_ee: Vec<T> = Init::Exponential { scale: sigma }.sample(n_e, d, rng);
        let (w_ie, w_ei) = if n_i == 1 {
            let mean: Vec<T> = (0..d)
                .map(|c| (0..n_e).map(|r| w_ee[r * d + c]).sum::<T>() / T::c(n_e as f64))
                .collect();
            (mean, vec![T::one(); n_e])
        } else {
            (
                Init::Exponential { scale: sigma }.sample(n_i, d, rng),
                vec![T::c(1.0 / n_i as f64); n_e * n_i],
            )
        };
        let nn = |s: &str, shape: Vec<usize>, v: Vec<T>| {
            Param::new(format!("{name}.{s}"), shape, v, SignSpec::NonNegative)
        };
        let alpha0 = T::c(((tau - 1.0) / df).sqrt().ln());
        // Corrected SGD's gradient scales (applied by the optimiser's `dann_corrections`
        // transform): ∇W_IE/√n_E, ∇W_EI/d, ∇α/(√n_E·d).
        let sq = (n_e as f64).sqrt();
        let corrected = |mut p: Param<T>, c: f64| {
            p.correction = c;
            p
        };
        Self {
            w_ee: nn("w_ee", vec![n_e, d], w_ee),
            w_ie: corrected(nn("w_ie", vec![n_i, d], w_ie), 1.0 / sq),
            w_ei: corrected(nn("w_ei", vec![n_e, n_i], w_ei), 1.0 / df),
            gain: divisive.then(|| nn("g", vec![n_e], vec![T::one(); n_e])),
            alpha: divisive.then(|| {
                let a = Param::new(
                    format!("{name}.alpha"),
                    vec![n_i],
                    vec![alpha0; n_i],
                    SignSpec::Free,
                );
                corrected(a, 1.0 / (sq * df))
            }),
            bias: Bias::new(bias, name, n_e, 1.0 / df.sqrt(), rng),
        }
    }

    pub fn n_e(&self) -> usize {
        self.w_ee.shape[0]
    }
    pub fn n_i(&self) -> usize {
        self.w_ie.shape[0]
    }
    pub fn inputs(&self) -> usize {
        self.w_ee.shape[1]
    }

    /// The mean row sum of the effective matrix `W_EE − W_EI·W_IE` (≈ 0 at initialisation).
    pub fn mean_row_sum(&self) -> f64 {
        let (ne, ni, d) = (self.n_e(), self.n_i(), self.inputs());
        let ie_sums: Vec<f64> = (0..ni)
            .map(|k| {
                self.w_ie.value[k * d..(k + 1) * d]
                    .iter()
                    .map(|v| v.f64())
                    .sum()
            })
            .collect();
        let total: f64 = (0..ne)
            .map(|j| {
                let ee: f64 = self.w_ee.value[j * d..(j + 1) * d]
                    .iter()
                    .map(|v| v.f64())
                    .sum();
                ee - (0..ni)
                    .map(|k| self.w_ei.value[j * ni + k].f64() * ie_sums[k])
                    .sum::<f64>()
            })
            .sum();
        total / ne as f64
    }

    /// `e^α` and `a = z_I ⊙ e^α`, the inhibition that divides.
    fn scaled_inhibition(&self, be: &dyn Backend<T>, z_i: &Mat<T>) -> (Vec<T>, Mat<T>) {
        let alpha = self.alpha.as_ref().expect("divisive layer");
        let mut exp_alpha = vec![T::zero(); alpha.len()];
        be.exp(&alpha.value, &mut exp_alpha);
        let mut a = z_i.clone();
        be.scale_columns(&mut a.data, &exp_alpha);
        (exp_alpha, a)
    }
}

impl<T: Real> Module<T> for Dann<T> {
    /// Saved: `[z_I, ẑ, γ]` (divisive) or `[z_I]`.
    fn forward(&self, be: &dyn Backend<T>, x: &Mat<T>) -> (Mat<T>, Saved<T>) {
        assert_eq!(x.cols, self.inputs(), "{}: input width", self.w_ee.name);
        let (ne, ni) = (self.n_e(), self.n_i());
        let z_e = x_wt(be, x, &self.w_ee.value, ne);
        let z_i = x_wt(be, x, &self.w_ie.value, ni);
        let mut zhat = z_e;
        be.gemm_acc(
            &mut zhat.data,
            z_i.op(),
            Operand::new(&self.w_ei.value, ne, ni).t(),
            -T::one(),
        );
        let Some(gain) = &self.gain else {
            let mut z = zhat;
            self.bias.add_to(be, &mut z);
            return (z, vec![z_i]);
        };
        let (_, a) = self.scaled_inhibition(be, &z_i);
        let mut gamma = Mat::zeros(x.rows, ne);
        be.gemm(
            &mut gamma.data,
            a.op(),
            Operand::new(&self.w_ei.value, ne, ni).t(),
            T::zero(),
        );
        be.add_scalar(&mut gamma.data, T::c(GAMMA_EPS));
        let mut z = Mat::zeros(x.rows, ne);
        be.divide(&mut z.data, &zhat.data, &gamma.data, &gain.value);
        self.bias.add_to(be, &mut z);
        (z, vec![z_i, zhat, gamma])
    }

    fn backward(
        &self,
        be: &dyn Backend<T>,
        x: &Mat<T>,
        saved: &Saved<T>,
        dz: &Mat<T>,
        need_dx: bool,
        grads: &mut Grads<T>,
    ) -> Option<Mat<T>> {
        let (ne, ni, d) = (self.n_e(), self.n_i(), self.inputs());
        self.bias.backward(be, dz, grads);
        let z_i = &saved[0];
        // dẑ, and for divisive layers dγ.
        let (dzhat, dgamma) = match &self.gain {
            None => (dz.clone(), None),
            Some(gain) => {
                let (zhat, gamma) = (&saved[1], &saved[2]);
                let mut dzhat = Mat::zeros(dz.rows, ne);
                let mut dgamma = Mat::zeros(dz.rows, ne);
                be.divide_backward(
                    &dz.data,
                    &zhat.data,
                    &gamma.data,
                    &gain.value,
                    &mut dzhat.data,
                    &mut dgamma.data,
                    grads.of(gain),
                );
                (dzhat, Some(dgamma))
            }
        };
        // ẑ = z_E − z_I·W_EIᵀ: ∂W_EI −= dẑᵀ·z_I ; ∂z_I = −dẑ·W_EI.
        acc_dyt_x(be, grads.of(&self.w_ei), &dzhat, z_i, -T::one());
        let mut dz_i = dy_w(be, &dzhat, &self.w_ei.value, ni);
        be.scale(&mut dz_i.data, -T::one());
        if let Some(dgamma) = dgamma {
            // γ = a·W_EIᵀ with a = z_I ⊙ e^α.
            let (exp_alpha, a) = self.scaled_inhibition(be, z_i);
            acc_dyt_x(be, grads.of(&self.w_ei), &dgamma, &a, T::one());
            let da = dy_w(be, &dgamma, &self.w_ei.value, ni);
            let alpha = self.alpha.as_ref().expect("divisive layer");
            be.inhibition_scale_backward(
                &da.data,
                &a.data,
                &exp_alpha,
                grads.of(alpha),
                &mut dz_i.data,
            );
        }
        let (w_ee, w_ie) = (&self.w_ee, &self.w_ie);
        let (ee_grad, ie_grad) = grads.two(w_ee, w_ie);
        let mut weight_grads = || {
            acc_dyt_x(be, ee_grad, &dzhat, x, T::one());
            acc_dyt_x(be, ie_grad, &dz_i, x, T::one());
        };
        if !need_dx {
            weight_grads();
            return None;
        }
        let mut dx = None;
        // Equal multiply-adds: the two run in parallel.
        be.join(&mut weight_grads, &mut || {
            let mut g = dy_w(be, &dzhat, &w_ee.value, d);
            be.gemm_acc(
                &mut g.data,
                dz_i.op(),
                Operand::new(&w_ie.value, ni, d),
                T::one(),
            );
            dx = Some(g);
        });
        dx
    }

    fn params(&self) -> Vec<&Param<T>> {
        let mut v = vec![&self.w_ee, &self.w_ie, &self.w_ei];
        v.extend(self.gain.iter());
        v.extend(self.alpha.iter());
        v.extend(self.bias.params());
        v
    }
    fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        let mut v = vec![&mut self.w_ee, &mut self.w_ie, &mut self.w_ei];
        v.extend(self.gain.iter_mut());
        v.extend(self.alpha.iter_mut());
        v.extend(self.bias.params_mut());
        v
    }
}
