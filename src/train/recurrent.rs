//! One update of a recurrent network: the sequence through the cell, the readout where the
//! targets are (one per sequence: the last step; one per step: every step), the loss, and
//! backpropagation through time, optionally truncated to windows whose initial state is the
//! previous window's last state, carried without gradient.
//!
//! Recurrent noise `√(2α)·σ_rec·ξ` is drawn for update t from its own named generator
//! (`train/rnn/noise/{t}`), so a resumed run draws the same noise as an uninterrupted one.

use super::learner::loss_of;
use super::source::{Batch, Targets};
use crate::kernels::Backend;
use crate::nn::recurrent::Readout;
use crate::nn::{Grads, Mat, Record, RecurrentNet};
use rand_distr::{Distribution, StandardNormal};

/// How a recurrent network runs its sequences.
#[derive(Clone, Debug, Default)]
pub struct Sequences {
    /// σ_rec (0: no noise).
    pub noise: f64,
    /// α = dt/τ (scales the noise: `√(2α)·σ_rec`).
    pub alpha: f64,
    /// Keep the noise at evaluation (from the fixed generator `eval/rnn/noise`).
    pub noise_in_evaluation: bool,
    /// Truncated BPTT window in steps (`None`: the whole sequence).
    pub window: Option<usize>,
    pub seed: u64,
}

impl Sequences {
    /// The noise sequence of `n` values from the generator `name`, or `None` without noise.
    fn draw(&self, n: usize, name: &str) -> Option<Vec<f32>> {
        (self.noise > 0.0).then(|| {
            let sd = (2.0 * self.alpha).sqrt() * self.noise;
            let mut rng = crate::rng::named(self.seed, name);
            (0..n)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    (sd * z) as f32
                })
                .collect()
        })
    }
}

/// Rows of the targets of a batch (one per sequence, or one per step and sequence).
fn target_rows(t: &Targets, outputs: usize) -> usize {
    match t {
        Targets::Classes(l) | Targets::Decisions { labels: l, .. } => l.len(),
        Targets::Binary(v) => v.len(),
        Targets::Values(v) => v.len() / outputs.max(1),
    }
}

/// Where `batch`'s targets need the readout.
fn readout_of(net: &RecurrentNet<f32>, batch: &Batch) -> Readout {
    if target_rows(&batch.targets, net.readout.outputs()) == batch.samples() {
        Readout::Last
    } else {
        Readout::Every
    }
}

/// The targets (and mask) of the time-major rows `rows` of per-step targets (`cols` outputs).
fn slice(
    t: &Targets,
    mask: Option<&[f32]>,
    rows: std::ops::Range<usize>,
    cols: usize,
) -> (Targets, Option<Vec<f32>>) {
    let el = rows.start * cols..rows.end * cols;
    match t {
        Targets::Classes(l) => (
            Targets::Classes(l[rows.clone()].to_vec()),
            mask.map(|m| m[rows].to_vec()),
        ),
        Targets::Binary(v) => (
            Targets::Binary(v[rows.clone()].to_vec()),
            mask.map(|m| m[rows].to_vec()),
        ),
        Targets::Decisions {
            labels,
            decision,
            groups,
        } => (
            Targets::Decisions {
                labels: labels[rows.clone()].to_vec(),
                decision: decision[rows.clone()].to_vec(),
                groups: groups.as_ref().map(|g| g[rows.clone()].to_vec()),
            },
            mask.map(|m| m[rows].to_vec()),
        ),
        Targets::Values(v) => (
            Targets::Values(v[el.clone()].to_vec()),
            mask.map(|m| m[el].to_vec()),
        ),
    }
}

/// The mean loss of `batch` with every gradient added into `grads` (none when it is not
/// finite). With a window, each window with targets contributes its own mean loss, and the
/// windows count equally.
#[allow(clippy::too_many_arguments)]
pub fn gradients(
    be: &dyn Backend<f32>,
    net: &RecurrentNet<f32>,
    seq: &Sequences,
    rec: &mut Record<f32>,
    batch: &Batch,
    smoothing: f64,
    update: usize,
    grads: &mut Grads<f32>,
) -> f64 {
    let (steps, b, h) = (batch.steps, batch.samples(), net.cell.hidden());
    let readout = readout_of(net, batch);
    let noise = seq.draw(steps * b * h, &format!("train/rnn/noise/{update}"));
    let w = seq.window.unwrap_or(steps).min(steps);
    let windows: Vec<(usize, usize)> = (0..steps)
        .step_by(w)
        .map(|t0| (t0, (t0 + w).min(steps)))
        .collect();
    // Windows that hold targets: all of them when every step is read, else the last one.
    let scored = match readout {
        Readout::Every => windows.len(),
        Readout::Last => 1,
    };
    let mut x0 = net.cell.zero_state(b);
    let mut loss = 0.0;
    let outputs = net.readout.outputs();
    for &(t0, t1) in &windows {
        let rows = t0 * b..t1 * b;
        let whole = windows.len() == 1;
        let part;
        let u = if whole {
            &batch.x
        } else {
            part = Mat::from_vec(
                rows.len(),
                batch.x.cols,
                batch.x.data[rows.start * batch.x.cols..rows.end * batch.x.cols].to_vec(),
            );
            &part
        };
        let n = noise.as_ref().map(|n| &n[rows.start * h..rows.end * h]);
        let last = t1 == steps;
        if readout == Readout::Last && !last {
            // No target in this window, so no gradient reaches it: run it forward only.
            net.cell.seq_into(be, rec, &x0, u, b, n);
            x0 = rec.state();
            continue;
        }
        let out = net.forward(be, rec, &x0, u, b, n, readout);
        // A window's own targets; the batch's, borrowed, when the window is the whole sequence
        // or the targets are at the last step.
        let sliced = (readout == Readout::Every && !whole)
            .then(|| slice(&batch.targets, batch.mask.as_deref(), rows, outputs));
        let (targets, mask) = match &sliced {
            Some((t, m)) => (t, m.as_deref()),
            None => (&batch.targets, batch.mask.as_deref()),
        };
        let mut grad = Mat::zeros(out.rows, out.cols);
        let l = loss_of(be, &out, targets, mask, smoothing, &mut grad) as f64;
        if !l.is_finite() {
            return l;
        }
        if scored > 1 {
            be.scale(&mut grad.data, 1.0 / scored as f32);
        }
        loss += l / scored as f64;
        net.backward(be, rec, &grad, readout, grads);
        x0 = rec.state();
    }
    loss
}

/// The outputs of `net` on `batch` (evaluation: the whole sequence, noise only if asked).
pub fn predict(
    be: &dyn Backend<f32>,
    net: &RecurrentNet<f32>,
    seq: &Sequences,
    batch: &Batch,
) -> Mat<f32> {
    evaluate(be, net, seq, batch).0
}

/// The outputs of `net` on `batch` and its hidden rates of every step, `[T·B, H]`
/// (time-major, as the inputs).
pub fn predict_with_rates(
    be: &dyn Backend<f32>,
    net: &RecurrentNet<f32>,
    seq: &Sequences,
    batch: &Batch,
) -> (Mat<f32>, Mat<f32>) {
    let (out, rec) = evaluate(be, net, seq, batch);
    (out, rec.rates())
}

fn evaluate(
    be: &dyn Backend<f32>,
    net: &RecurrentNet<f32>,
    seq: &Sequences,
    batch: &Batch,
) -> (Mat<f32>, crate::nn::rnn::Record<f32>) {
    let (steps, b, h) = (batch.steps, batch.samples(), net.cell.hidden());
    let noise = if seq.noise_in_evaluation {
        seq.draw(steps * b * h, "eval/rnn/noise")
    } else {
        None
    };
    let x0 = net.cell.zero_state(b);
    let mut rec = net.cell.begin(be, &x0, b, steps);
    let out = net.forward(
        be,
        &mut rec,
        &x0,
        &batch.x,
        b,
        noise.as_deref(),
        readout_of(net, batch),
    );
    (out, rec)
}

/// E2's loss on per-step outputs: cross-entropy (label smoothing `smoothing`) over the decision
/// steps plus the MSE between the outputs and one-hot(class 0) over the other steps' elements,
/// each averaged over its own (`mask`-weighted) steps. Writes ∂loss/∂out.
pub fn decision_loss(
    be: &dyn Backend<f32>,
    out: &Mat<f32>,
    labels: &[u32],
    decision: &[f32],
    mask: Option<&[f32]>,
    smoothing: f64,
    grad: &mut Mat<f32>,
) -> f32 {
    let weight = |r: usize| mask.map_or(1.0, |m| m[r]);
    let inside: Vec<f32> = (0..out.rows).map(|r| weight(r) * decision[r]).collect();
    let ce = be.softmax_cross_entropy(
        &out.data,
        out.cols,
        labels,
        smoothing,
        Some(&inside),
        &mut grad.data,
    );
    let mut fixate = vec![0.0f32; out.data.len()];
    let mut outside = vec![0.0f32; out.data.len()];
    for r in 0..out.rows {
        fixate[r * out.cols] = 1.0;
        outside[r * out.cols..(r + 1) * out.cols].fill(weight(r) * (1.0 - decision[r]));
    }
    let mut g2 = vec![0.0f32; out.data.len()];
    let mse = be.mse(&out.data, &fixate, Some(&outside), &mut g2);
    be.axpy(&mut grad.data, 1.0, &g2);
    ce + mse
}
