//! A dense layer `y = x·Wᵀ + b`, W stored (out × in) as in PyTorch's `nn.Linear`.

use super::bias::{Bias, BiasKind};
use super::init::Init;
use super::module::{Module, Saved};
use super::{Grads, Mat, Param, SignSpec};
use crate::kernels::gemm::Operand;
use crate::kernels::{Backend, Real};
use rand::Rng;

#[derive(Clone, Debug)]
pub struct Linear<T> {
    pub weight: Param<T>,
    pub bias: Bias<T>,
}

impl<T: Real> Linear<T> {
    pub fn new(
        name: &str,
        inputs: usize,
        outputs: usize,
        init: Init,
        bias: BiasKind,
        rng: &mut impl Rng,
    ) -> Self {
        let w = init.sample(outputs, inputs, rng);
        Self {
            weight: Param::new(
                format!("{name}.weight"),
                vec![outputs, inputs],
                w,
                SignSpec::Free,
            ),
            bias: Bias::new(
                bias,
                name,
                outputs,
                1.0 / (inputs.max(1) as f64).sqrt(),
                rng,
            ),
        }
    }
    pub fn outputs(&self) -> usize {
        self.weight.shape[0]
    }
    pub fn inputs(&self) -> usize {
        self.weight.shape[1]
    }
}

/// `y = x·Wᵀ` into a new matrix (W is out × in).
pub(crate) fn x_wt<T: Real>(be: &dyn Backend<T>, x: &Mat<T>, w: &[T], outputs: usize) -> Mat<T> {
    let mut y = Mat::zeros(x.rows, outputs);
    be.gemm(
        &mut y.data,
        x.op(),
        Operand::new(w, outputs, x.cols).t(),
        T::zero(),
    );
    y
}

/// `gw += scale·dyᵀ·x` (gw is out × in).
pub(crate) fn acc_dyt_x<T: Real>(
    be: &dyn Backend<T>,
    gw: &mut [T],
    dy: &Mat<T>,
    x: &Mat<T>,
    scale: T,
) {
    be.gemm_acc(gw, dy.op().t(), x.op(), scale);
}

/// `dx = dy·W` (W is out × in).
pub(crate) fn dy_w<T: Real>(be: &dyn Backend<T>, dy: &Mat<T>, w: &[T], inputs: usize) -> Mat<T> {
    let mut dx = Mat::zeros(dy.rows, inputs);
    be.gemm(
        &mut dx.data,
        dy.op(),
        Operand::new(w, dy.cols, inputs),
        T::zero(),
    );
    dx
}

impl<T: Real> Module<T> for Linear<T> {
    fn forward(&self, be: &dyn Backend<T>, x: &Mat<T>) -> (Mat<T>, Saved<T>) {
        assert_eq!(x.cols, self.inputs(), "{}: input width", self.weight.name);
        let mut y = x_wt(be, x, &self.weight.value, self.outputs());
        self.bias.add_to(be, &mut y);
        (y, vec![])
    }
    fn backward(
        &self,
        be: &dyn Backend<T>,
        x: &Mat<T>,
        _saved: &Saved<T>,
        dy: &Mat<T>,
        need_dx: bool,
        grads: &mut Grads<T>,
    ) -> Option<Mat<T>> {
        let inputs = self.inputs();
        let w = &self.weight;
        let grad = grads.of(w);
        let mut dx = None;
        if need_dx {
            be.join(&mut || acc_dyt_x(be, grad, dy, x, T::one()), &mut || {
                dx = Some(dy_w(be, dy, &w.value, inputs))
            });
        } else {
            acc_dyt_x(be, grad, dy, x, T::one());
        }
        self.bias.backward(be, dy, grads);
        dx
    }
    fn params(&self) -> Vec<&Param<T>> {
        self.bias.after(&self.weight)
    }
    fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        self.bias.after_mut(&mut self.weight)
    }
}
