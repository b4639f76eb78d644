//! A recurrent layer with leaky dynamics, run a whole sequence at a time (science.md §6.4, the
//! EG paper's cell at α = 1):
//!
//! ```text
//! x_t = (1−α)·x_{t−1} + α·(W_hh·r_{t−1} + W_ih·u_t + b_ih + b_hh) + n_t ,   r_t = f(x_t)
//! ```
//!
//! with α = dt/τ ∈ (0, 1] and `n_t = √(2α)·σ_rec·ξ_t` a noise sequence the caller draws (seeded;
//! none at evaluation). α = 1 without noise is `h_t = f(W_ih·x_t + b_ih + W_hh·h_{t−1} + b_hh)`,
//! `torch.nn.RNN`'s cell, whose tensor names and layout the parameters use
//! (`rnn.weight_ih_l0` is H × in).
//!
//! Sequences are time-major, `[T, B, ·]` as row blocks of one matrix (`torch.nn.RNN`'s default,
//! NeuroGym's layout). [`Rnn::seq`] keeps every state in buffers allocated once for the whole
//! sequence and projects the inputs of all T·B rows with one product; only `W_hh·r_{t−1}` is
//! sequential. [`Rnn::step`] appends one step to the same record (closed-loop tasks, where the
//! next input depends on the output), and [`Rnn::backward`] runs backpropagation through time
//! over whatever was recorded, with ∂L/∂W_hh and ∂L/∂W_ih each one product over all steps. A
//! truncated window starts from the last state of the previous one ([`Record::state`]), which
//! carries no gradient.
//!
//! The dynamics do not depend on how the matrices are parametrised: each is a [`Synapses`]
//! (free, column-EI, `|W|·D` or DANN), whose effective matrix is formed once per sequence.

use super::bias::{Bias, BiasKind};
use super::init::Init;
use super::synapses::Synapses;
use super::{Activation, Grads, Mat, Param, SignSpec};
use crate::kernels::gemm::Operand;
use crate::kernels::{Backend, Real};
use rand::Rng;

#[derive(Clone, Debug)]
pub struct Rnn<T> {
    /// H × in.
    pub w_ih: Synapses<T>,
    /// H × H.
    pub w_hh: Synapses<T>,
    pub b_ih: Bias<T>,
    pub b_hh: Bias<T>,
    pub activation: Activation,
    /// α = dt/τ ∈ (0, 1].
    pub alpha: f64,
}

/// What a forward pass recorded: the inputs, and every state `x_t` and rate `r_t` with block 0
/// the initial state (B × H blocks).
#[derive(Clone, Debug)]
pub struct Record<T> {
    pub batch: usize,
    inputs: usize,
    hidden: usize,
    u: Vec<T>,
    x: Vec<T>,
    r: Vec<T>,
    /// BPTT's ∂L/∂(pre-activation) of every step, kept to be reused by the next sequence.
    g: Vec<T>,
    /// The effective input and recurrent matrices of a parametrised cell (empty for free
    /// ones), formed when the record starts, and the scratch of their gradients.
    w_in: Vec<T>,
    w_rec: Vec<T>,
    dw: Vec<T>,
    /// ∂L/∂r of every step, the scratch of a readout's backward pass.
    pub(super) d_r: Vec<T>,
}

impl<T: Real> Record<T> {
    /// Steps recorded.
    pub fn steps(&self) -> usize {
        self.x.len() / (self.batch * self.hidden) - 1
    }
    fn block(&self) -> usize {
        self.batch * self.hidden
    }
    /// The rates of every step, `[T·B, H]` (what a readout reads), as a new matrix.
    pub fn rates(&self) -> Mat<T> {
        Mat::from_vec(
            self.steps() * self.batch,
            self.hidden,
            self.all_rates().to_vec(),
        )
    }
    /// The rates of every step, `[T·B, H]`, borrowed.
    pub fn all_rates(&self) -> &[T] {
        &self.r[self.block()..]
    }
    /// The rates of step `t` (1-based; 0 is the initial state).
    pub fn rates_at(&self, t: usize) -> &[T] {
        let b = self.block();
        &self.r[t * b..(t + 1) * b]
    }
    /// The last state `x_T`: the initial state of the next window (detached).
    pub fn state(&self) -> Vec<T> {
        let b = self.block();
        self.x[self.x.len() - b..].to_vec()
    }
}

/// ∂L/∂inputs (when asked for) and ∂L/∂x₀.
pub struct SeqGrads<T> {
    pub du: Option<Mat<T>>,
    pub dx0: Vec<T>,
}

impl<T: Real> Rnn<T> {
    /// A layer of `hidden` units on `inputs`, both matrices from `init`, biases as `bias` with
    /// scale B = 1/√H (PyTorch's), named as `torch.nn.RNN`'s first layer under `name`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        inputs: usize,
        hidden: usize,
        init: Init,
        bias: BiasKind,
        activation: Activation,
        alpha: f64,
        rng: &mut impl Rng,
    ) -> Self {
        let p = |n: &str, rows, cols, rng: &mut _| {
            Param::new(
                format!("{name}.{n}"),
                vec![rows, cols],
                init.sample(rows, cols, rng),
                SignSpec::Free,
            )
        };
        let w_ih = p("weight_ih_l0", hidden, inputs, rng);
        let w_hh = p("weight_hh_l0", hidden, hidden, rng);
        let scale = 1.0 / (hidden.max(1) as f64).sqrt();
        let b = |n: &str, rng: &mut _| {
            Bias::new(bias, name, hidden, scale, rng).renamed(&format!("{name}.{n}"))
        };
        Self {
            w_ih: Synapses::Free(w_ih),
            w_hh: Synapses::Free(w_hh),
            b_ih: b("bias_ih_l0", rng),
            b_hh: b("bias_hh_l0", rng),
            activation,
            alpha,
        }
    }

    pub fn hidden(&self) -> usize {
        self.w_hh.shape().0
    }
    pub fn inputs(&self) -> usize {
        self.w_ih.shape().1
    }

    /// The zero initial state of `batch` streams.
    pub fn zero_state(&self, batch: usize) -> Vec<T> {
        vec![T::zero(); batch * self.hidden()]
    }

    /// An empty record that starts from state `x0` (B × H), with room for `steps` steps.
    pub fn begin(&self, be: &dyn Backend<T>, x0: &[T], batch: usize, steps: usize) -> Record<T> {
        let mut rec = Record {
            batch,
            inputs: self.inputs(),
            hidden: self.hidden(),
            u: Vec::with_capacity(steps * batch * self.inputs()),
            x: Vec::with_capacity((steps + 1) * batch * self.hidden()),
            r: Vec::with_capacity((steps + 1) * batch * self.hidden()),
            g: Vec::new(),
            w_in: Vec::new(),
            w_rec: Vec::new(),
            dw: Vec::new(),
            d_r: Vec::new(),
        };
        self.restart(be, &mut rec, x0, batch);
        rec
    }

    /// Empties `rec` (keeping its buffers), forms the effective matrices of the current
    /// weights and starts it from state `x0`.
    fn restart(&self, be: &dyn Backend<T>, rec: &mut Record<T>, x0: &[T], batch: usize) {
        let h = self.hidden();
        assert_eq!(x0.len(), batch * h, "initial state size");
        self.w_ih.form(be, &mut rec.w_in);
        self.w_hh.form(be, &mut rec.w_rec);
        (rec.batch, rec.inputs, rec.hidden) = (batch, self.inputs(), h);
        rec.u.clear();
        rec.x.clear();
        rec.r.clear();
        rec.x.extend_from_slice(x0);
        rec.r.resize(x0.len(), T::zero());
        be.activation(self.activation, x0, &mut rec.r);
    }

    /// The recurrence of one step on a block of rows whose state `x_t` already holds the input
    /// projection with biases: adds `r_{t−1}·W_hhᵀ`, leaks, adds the noise, writes `r_t`.
    #[allow(clippy::too_many_arguments)]
    fn advance(
        &self,
        be: &dyn Backend<T>,
        w_rec: &[T],
        x_prev: &[T],
        x_t: &mut [T],
        r_prev: &[T],
        r_t: &mut [T],
        noise: Option<&[T]>,
    ) {
        let h = self.hidden();
        be.gemm_acc(
            x_t,
            Operand::new(r_prev, r_prev.len() / h, h),
            Operand::new(self.w_hh.matrix(w_rec), h, h).t(),
            T::one(),
        );
        if self.alpha != 1.0 {
            be.scale(x_t, T::c(self.alpha));
            be.axpy(x_t, T::c(1.0 - self.alpha), x_prev);
        }
        if let Some(n) = noise {
            be.axpy(x_t, T::one(), n);
        }
        be.activation(self.activation, x_t, r_t);
    }

    /// Every step of one shard of rows: `xs[t]` and `rs[t]` are its rows of step t's blocks.
    fn run_shard(
        &self,
        be: &dyn Backend<T>,
        w_rec: &[T],
        xs: &mut [&mut [T]],
        rs: &mut [&mut [T]],
        noise: Option<&[&[T]]>,
    ) {
        for t in 1..xs.len() {
            let (xp, xc) = xs.split_at_mut(t);
            let (rp, rc) = rs.split_at_mut(t);
            let n = noise.map(|n| n[t - 1]);
            self.advance(be, w_rec, xp[t - 1], xc[0], rp[t - 1], rc[0], n);
        }
    }

    /// The input projection with both biases of `rows` rows of `u`, written into `out`.
    fn project(&self, be: &dyn Backend<T>, w_in: &[T], u: &[T], rows: usize, out: &mut [T]) {
        be.gemm(
            out,
            Operand::new(u, rows, self.inputs()),
            Operand::new(self.w_ih.matrix(w_in), self.hidden(), self.inputs()).t(),
            T::zero(),
        );
        self.b_ih.add_to_rows(be, out);
        self.b_hh.add_to_rows(be, out);
    }

    /// Runs the whole sequence `u` (`[T·B, in]`, time-major) from state `x0`, with an optional
    /// noise sequence (`[T·B, H]`).
    pub fn seq(
        &self,
        be: &dyn Backend<T>,
        x0: Vec<T>,
        u: &Mat<T>,
        batch: usize,
        noise: Option<&[T]>,
    ) -> Record<T> {
        let mut rec = self.begin(be, &x0, batch, u.rows / batch.max(1));
        self.seq_into(be, &mut rec, &x0, u, batch, noise);
        rec
    }

    /// [`Rnn::seq`] into an existing record, reusing its buffers: a training loop keeps one
    /// record, and no sequence after the first allocates.
    pub fn seq_into(
        &self,
        be: &dyn Backend<T>,
        rec: &mut Record<T>,
        x0: &[T],
        u: &Mat<T>,
        batch: usize,
        noise: Option<&[T]>,
    ) {
        assert!(
            batch > 0 && u.rows.is_multiple_of(batch) && u.cols == self.inputs(),
            "{}: input of {}×{} rows for batch {batch}",
            self.w_ih.params()[0].name,
            u.rows,
            u.cols
        );
        let steps = u.rows / batch;
        self.restart(be, rec, x0, batch);
        let b = rec.block();
        rec.u.extend_from_slice(&u.data);
        rec.x.resize((steps + 1) * b, T::zero());
        rec.r.resize((steps + 1) * b, T::zero());
        // All input projections in one product, straight into the state blocks.
        let (_, states) = rec.x.split_at_mut(b);
        self.project(be, &rec.w_in, &u.data, u.rows, states);
        // Rows are independent in the recurrence: the batch runs as two shards, one per thread,
        // for the whole sequence (one fork per sequence, not one per step). The split is fixed,
        // so the numbers do not depend on the thread count.
        let split = (rec.batch / 2) * rec.hidden;
        let (mut xs, mut rs) = (
            shards_mut(&mut rec.x, b, split),
            shards_mut(&mut rec.r, b, split),
        );
        let ns = noise.map(|n| shards(n, b, split));
        let (x0s, x1s) = (&mut xs.0, &mut xs.1);
        let (r0s, r1s) = (&mut rs.0, &mut rs.1);
        let w = &rec.w_rec;
        be.join(
            &mut || self.run_shard(be, w, x0s, r0s, ns.as_ref().map(|n| &n.0[..])),
            &mut || self.run_shard(be, w, x1s, r1s, ns.as_ref().map(|n| &n.1[..])),
        );
    }

    /// Appends one step with input `u_t` (`[B, in]`) to `rec`; returns its rates.
    pub fn step<'r>(
        &self,
        be: &dyn Backend<T>,
        rec: &'r mut Record<T>,
        u_t: &[T],
        noise: Option<&[T]>,
    ) -> &'r [T] {
        let b = rec.block();
        let t = rec.steps() + 1;
        rec.u.extend_from_slice(u_t);
        rec.x.resize((t + 1) * b, T::zero());
        let (_, state) = rec.x.split_at_mut(t * b);
        self.project(be, &rec.w_in, u_t, rec.batch, state);
        rec.r.resize((t + 1) * b, T::zero());
        let (xp, xc) = rec.x.split_at_mut(t * b);
        let (rp, rc) = rec.r.split_at_mut(t * b);
        let w = &rec.w_rec;
        self.advance(be, w, &xp[(t - 1) * b..], xc, &rp[(t - 1) * b..], rc, noise);
        rec.rates_at(t)
    }

    /// Backpropagation through time over `rec` from ∂L/∂r of every step (`[T·B, H]`): adds
    /// every parameter's gradient into `grads`. Its scratch lives in `rec`, reused.
    pub fn backward(
        &self,
        be: &dyn Backend<T>,
        rec: &mut Record<T>,
        d_r: &[T],
        need_du: bool,
        grads: &mut Grads<T>,
    ) -> SeqGrads<T> {
        let (b, h, steps) = (rec.block(), rec.hidden, rec.steps());
        assert_eq!(d_r.len(), steps * b, "∂L/∂r size");
        // G_t = ∂L/∂(pre-activation input of step t) = α·∂L/∂x_t, for all steps.
        let mut g = Mat {
            rows: steps * rec.batch,
            cols: h,
            data: std::mem::take(&mut rec.g),
        };
        g.data.resize(steps * b, T::zero());
        // The sequential part, by shards of rows as in the forward pass.
        let split = (rec.batch / 2) * h;
        let mut gs = shards_mut(&mut g.data, b, split);
        let ds = shards(d_r, b, split);
        let rates = shards(&rec.r, b, split);
        let (g0, g1) = (&mut gs.0, &mut gs.1);
        let (mut dx0_a, mut dx0_b) = (Vec::new(), Vec::new());
        let w_rec = self.w_hh.matrix(&rec.w_rec);
        be.join(
            &mut || dx0_a = self.bptt_shard(be, w_rec, g0, &ds.0, &rates.0),
            &mut || dx0_b = self.bptt_shard(be, w_rec, g1, &ds.1, &rates.1),
        );
        let dx0 = [dx0_a, dx0_b].concat();
        // Weight gradients: one product each over all steps.
        let rows = steps * rec.batch;
        let r_prev = Operand::new(&rec.r[..steps * b], rows, h);
        weight_grad(be, &self.w_hh, g.op().t(), r_prev, &mut rec.dw, grads);
        let u = Operand::new(&rec.u, rows, rec.inputs);
        weight_grad(be, &self.w_ih, g.op().t(), u, &mut rec.dw, grads);
        self.b_ih.backward(be, &g, grads);
        self.b_hh.backward(be, &g, grads);
        let du = need_du.then(|| {
            let mut du = Mat::zeros(rows, rec.inputs);
            be.gemm(
                &mut du.data,
                g.op(),
                Operand::new(self.w_ih.matrix(&rec.w_in), h, rec.inputs),
                T::zero(),
            );
            du
        });
        rec.g = g.data;
        SeqGrads { du, dx0 }
    }

    /// BPTT's sequential loop over one shard of rows: fills `gs[t−1]` = G_t from `ds[t−1]` =
    /// ∂L/∂r_t and the rates `rs[t]`; returns the shard's ∂L/∂x₀.
    fn bptt_shard(
        &self,
        be: &dyn Backend<T>,
        w_rec: &[T],
        gs: &mut [&mut [T]],
        ds: &[&[T]],
        rs: &[&[T]],
    ) -> Vec<T> {
        let h = self.hidden();
        let n = rs[0].len();
        let (rows, steps) = (n / h, gs.len());
        let a = T::c(self.alpha);
        let hh = Operand::new(w_rec, h, h);
        let (mut dx_next, mut dr, mut dx) =
            (vec![T::zero(); n], vec![T::zero(); n], vec![T::zero(); n]);
        for t in (1..=steps).rev() {
            dr.copy_from_slice(ds[t - 1]);
            if t < steps {
                be.gemm_acc(&mut dr, Operand::new(gs[t], rows, h), hh, T::one());
            }
            be.activation_backward(self.activation, rs[t], &dr, &mut dx);
            if t < steps && self.alpha != 1.0 {
                be.axpy(&mut dx, T::one() - a, &dx_next);
            }
            gs[t - 1].copy_from_slice(&dx);
            if self.alpha != 1.0 {
                be.scale(gs[t - 1], a);
            }
            std::mem::swap(&mut dx_next, &mut dx);
        }
        // ∂L/∂x₀: through r₀ = f(x₀) into step 1, and through the leak.
        dr.fill(T::zero());
        if steps > 0 {
            be.gemm_acc(&mut dr, Operand::new(gs[0], rows, h), hh, T::one());
        }
        let mut dx0 = vec![T::zero(); n];
        be.activation_backward(self.activation, rs[0], &dr, &mut dx0);
        if steps > 0 && self.alpha != 1.0 {
            be.axpy(&mut dx0, T::one() - a, &dx_next);
        }
        dx0
    }

    pub fn params(&self) -> Vec<&Param<T>> {
        let mut v = self.w_ih.params();
        v.extend(self.w_hh.params());
        v.extend(self.b_ih.params());
        v.extend(self.b_hh.params());
        v
    }
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        let mut v = self.w_ih.params_mut();
        v.extend(self.w_hh.params_mut());
        v.extend(self.b_ih.params_mut());
        v.extend(self.b_hh.params_mut());
        v
    }
}

/// Adds ∂L/∂W = `a·b` of the effective matrix of `w` into its parameters' gradients: straight
/// into a free matrix's gradient, else through `scratch` and [`Synapses::backward`].
fn weight_grad<T: Real>(
    be: &dyn Backend<T>,
    w: &Synapses<T>,
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    scratch: &mut Vec<T>,
    grads: &mut Grads<T>,
) {
    match w.free() {
        Some(p) => be.gemm_acc(grads.of(p), a, b, T::one()),
        None => {
            let (rows, cols) = w.shape();
            scratch.resize(rows * cols, T::zero());
            be.gemm(scratch, a, b, T::zero());
            w.backward(be, scratch, grads);
        }
    }
}

/// Each `block`-long block of `v` cut at `at`: the first and second shard's parts, in order.
fn shards_mut<T>(v: &mut [T], block: usize, at: usize) -> (Vec<&mut [T]>, Vec<&mut [T]>) {
    v.chunks_exact_mut(block)
        .map(|c| c.split_at_mut(at))
        .unzip()
}

/// [`shards_mut`] for reading.
fn shards<T>(v: &[T], block: usize, at: usize) -> (Vec<&[T]>, Vec<&[T]>) {
    v.chunks_exact(block).map(|c| c.split_at(at)).unzip()
}
