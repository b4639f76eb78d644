//! The network a training config describes: a feed-forward stack or a recurrent network.

use super::config::{Cell, Dale, ModelConfig, ModelKind};
use crate::io::checkpoint::Tensor;
use crate::kernels::Cpu;
use crate::nn::Bias;
use crate::nn::colei::ei_split;
use crate::nn::ei_cells::{self, EiReport};
use crate::nn::{
    BiasKind, ColEi, Dann, Fan, Grads, Layer, Linear, Param, RecurrentNet, Rnn, Sequential,
};
use crate::optim::OptimConfig;
use std::collections::BTreeMap;

/// A model of `geoplast train`.
#[derive(Clone, Debug)]
pub enum Model {
    Feedforward(Sequential<f32>),
    Recurrent(Box<RecurrentNet<f32>>),
}

impl Model {
    pub fn params(&self) -> Vec<&Param<f32>> {
        match self {
            Model::Feedforward(m) => m.params(),
            Model::Recurrent(m) => m.params(),
        }
    }
    pub fn params_mut(&mut self) -> Vec<&mut Param<f32>> {
        match self {
            Model::Feedforward(m) => m.params_mut(),
            Model::Recurrent(m) => m.params_mut(),
        }
    }
    /// A zeroed gradient store for every parameter.
    pub fn grads(&self) -> Grads<f32> {
        Grads::for_params(&self.params())
    }
    /// Per Dale's-law matrix, the mean row sum of its effective matrix (≈ 0 when balanced).
    pub fn ei_balance(&self) -> Vec<(String, f64)> {
        match self {
            Model::Feedforward(m) => m.ei_balance(),
            Model::Recurrent(m) => match &m.cell.w_hh {
                crate::nn::Synapses::Free(_) => vec![],
                w => vec![(
                    w.params()[0].name.clone(),
                    ei_cells::mean_row_sum(&Cpu, &m.cell),
                )],
            },
        }
    }
    /// The tensors a PyTorch user loads with `load_state_dict` as they are: a recurrent
    /// network at α = 1 as `torch.nn.RNN` (the effective matrices of a Dale's-law cell, both
    /// biases, split parts summed) + `torch.nn.Linear`, an MLP as its linear layers with split
    /// biases summed. `None` for models PyTorch has no layer for (column-EI and DANN stacks,
    /// leaky cells).
    pub fn torch_tensors(&self) -> Option<BTreeMap<String, Tensor>> {
        let be = &Cpu;
        let mut t = BTreeMap::new();
        let mut put = |name: &str, shape: Vec<usize>, data: Vec<f32>| {
            t.insert(name.to_string(), Tensor { shape, data });
        };
        let bias = |b: &Bias<f32>, n: usize| -> Vec<f32> {
            let mut v = vec![0.0; n];
            b.add_to_rows(be, &mut v);
            v
        };
        match self {
            Model::Recurrent(m) if m.cell.alpha == 1.0 => {
                let c = &m.cell;
                let (h, i) = (c.hidden(), c.inputs());
                let eff = |w: &crate::nn::Synapses<f32>| {
                    w.effective_f64(be).iter().map(|&v| v as f32).collect()
                };
                put("rnn.weight_ih_l0", vec![h, i], eff(&c.w_ih));
                put("rnn.weight_hh_l0", vec![h, h], eff(&c.w_hh));
                put("rnn.bias_ih_l0", vec![h], bias(&c.b_ih, h));
                put("rnn.bias_hh_l0", vec![h], bias(&c.b_hh, h));
                let r = &m.readout;
                put(
                    "readout.weight",
                    r.weight.shape.clone(),
                    r.weight.value.clone(),
                );
                put(
                    "readout.bias",
                    vec![r.outputs()],
                    bias(&r.bias, r.outputs()),
                );
            }
            Model::Feedforward(s) => {
                for (i, l) in s.layers.iter().enumerate() {
                    match l {
                        Layer::Linear(l) => {
                            let n = l.outputs();
                            put(
                                &format!("layers.{i}.weight"),
                                l.weight.shape.clone(),
                                l.weight.value.clone(),
                            );
                            put(&format!("layers.{i}.bias"), vec![n], bias(&l.bias, n));
                        }
                        Layer::Act(_) => {}
                        _ => return None,
                    }
                }
            }
            Model::Recurrent(_) => return None,
        }
        Some(t)
    }

    /// Every weight matrix as the network uses it, `(name, rows, cols, values)`: a free matrix as
    /// it is, a Dale's-law one as its effective matrix (`W⁺·D`, `|W|·D`, `W_EE − W_EI·W_IE`),
    /// rebuilt from its parameters (a weights file holds the parts).
    pub fn effective_matrices(&self) -> Vec<(String, usize, usize, Vec<f64>)> {
        let f64s = |v: &[f32]| v.iter().map(|&x| x as f64).collect::<Vec<f64>>();
        let mut out = Vec::new();
        match self {
            Model::Feedforward(s) => {
                for l in &s.layers {
                    match l {
                        Layer::Linear(l) => {
                            let (r, c) = (l.outputs(), l.inputs());
                            out.push((l.weight.name.clone(), r, c, f64s(&l.weight.value)));
                        }
                        Layer::ColEi(l) => {
                            let (r, c) = (l.weight.shape[0], l.weight.shape[1]);
                            let eff = l
                                .weight
                                .value
                                .iter()
                                .enumerate()
                                .map(|(i, &w)| {
                                    let m = if l.reparam { w.abs() } else { w };
                                    (m * l.input_sign[i % c]) as f64
                                })
                                .collect();
                            let what = if l.reparam { "|W|·D" } else { "W⁺·D" };
                            out.push((format!("{} ({what})", l.weight.name), r, c, eff));
                        }
                        Layer::Dann(l) => {
                            let syn = crate::nn::Synapses::Dann {
                                ee: l.w_ee.clone(),
                                ei: l.w_ei.clone(),
                                ie: l.w_ie.clone(),
                            };
                            let (r, c) = syn.shape();
                            let name = l.w_ee.name.trim_end_matches(".w_ee").to_string();
                            out.push((
                                format!("{name} (W_EE − W_EI·W_IE)"),
                                r,
                                c,
                                syn.effective_f64(&Cpu),
                            ));
                        }
                        Layer::Act(_) => {}
                    }
                }
            }
            Model::Recurrent(m) => {
                for (base, w) in [
                    ("rnn.weight_ih_l0", &m.cell.w_ih),
                    ("rnn.weight_hh_l0", &m.cell.w_hh),
                ] {
                    let (r, c) = w.shape();
                    let name = match w {
                        crate::nn::Synapses::Free(p) => p.name.clone(),
                        _ => format!("{base} (effective)"),
                    };
                    out.push((name, r, c, w.effective_f64(&Cpu)));
                }
                let r = &m.readout.weight;
                out.push((r.name.clone(), r.shape[0], r.shape[1], f64s(&r.value)));
            }
        }
        out
    }

    /// The balance and spectral radius of a recurrent network's effective `W_rec`.
    pub fn recurrent_report(&self) -> Option<EiReport> {
        match self {
            Model::Feedforward(_) => None,
            Model::Recurrent(m) => Some(ei_cells::report(&Cpu, &m.cell)),
        }
    }
}

/// The bias kind of `cfg`: given, else split for sign-preserving optimisers (EG), zero for
/// DANN, uniform otherwise.
fn bias_kind(cfg: &ModelConfig, opt: &OptimConfig, dann: bool) -> BiasKind {
    cfg.bias.unwrap_or(if opt.keeps_signs() {
        BiasKind::Split
    } else if dann {
        BiasKind::Zero
    } else {
        BiasKind::Uniform
    })
}

/// Builds the network for `inputs` features (per step, for an RNN) and `outputs` units.
pub fn build(
    cfg: &ModelConfig,
    opt: &OptimConfig,
    inputs: usize,
    outputs: usize,
    input_mean: f64,
    seed: u64,
) -> Model {
    if cfg.kind == ModelKind::Rnn {
        return Model::Recurrent(Box::new(recurrent(
            cfg, opt, inputs, outputs, input_mean, seed,
        )));
    }
    let mut rng = crate::rng::named(seed, "train/init");
    let bias = bias_kind(cfg, opt, cfg.kind == ModelKind::Dann);
    let mut dims = vec![inputs];
    dims.extend(&cfg.hidden);
    dims.push(outputs);
    let mut layers = Vec::new();
    for i in 0..dims.len() - 1 {
        let name = format!("layers.{i}");
        let last = i + 2 == dims.len();
        let layer = match cfg.kind {
            ModelKind::Mlp => Layer::Linear(Linear::new(
                &name,
                dims[i],
                dims[i + 1],
                cfg.init,
                bias,
                &mut rng,
            )),
            ModelKind::Colei => {
                let layer = if i == 0 {
                    ColEi::first_layer(
                        &name,
                        dims[0],
                        dims[1],
                        input_mean,
                        bias == BiasKind::Split,
                        &mut rng,
                    )
                } else {
                    let (n_e, n_i) = ei_split(dims[i], cfg.ei_ratio);
                    ColEi::balanced(&name, n_e, n_i, dims[i + 1], bias, &mut rng)
                };
                Layer::ColEi(if cfg.dale == Some(Dale::Reparam) {
                    layer.reparametrised()
                } else {
                    layer
                })
            }
            ModelKind::Dann => {
                let n_i = if last {
                    1
                } else {
                    (dims[i + 1] / cfg.ei_ratio).max(1)
                };
                Layer::Dann(Dann::new(
                    &name,
                    dims[i],
                    dims[i + 1],
                    n_i,
                    i > 0,
                    cfg.dann_divisive,
                    bias,
                    &mut rng,
                ))
            }
            ModelKind::Rnn => unreachable!("built above"),
        };
        layers.push(layer);
        if !last {
            layers.push(Layer::Act(cfg.activation));
        }
    }
    Model::Feedforward(Sequential { layers })
}

/// The recurrent network of `cfg`: the cell of `[model.rnn]` and a readout (`model.init` with
/// fan-in; from E units only for E/I cells).
fn recurrent(
    cfg: &ModelConfig,
    opt: &OptimConfig,
    inputs: usize,
    outputs: usize,
    input_mean: f64,
    seed: u64,
) -> RecurrentNet<f32> {
    let r = cfg.rnn.clone().unwrap_or_default();
    let h = cfg.hidden[0];
    let mut rng = crate::rng::named(seed, "train/init");
    let bias = bias_kind(cfg, opt, r.cell == Cell::Dann);
    let (act, alpha) = (cfg.activation, r.alpha());
    let n_i = r.n_i(h);
    let cell = match r.cell {
        Cell::Dense => Rnn::new(
            "rnn",
            inputs,
            h,
            cfg.init.with_fan(Fan::Out),
            bias,
            act,
            alpha,
            &mut rng,
        ),
        Cell::Colei => ei_cells::colei(
            &Cpu,
            inputs,
            h,
            n_i,
            input_mean,
            bias == BiasKind::Split,
            cfg.dale == Some(Dale::Reparam),
            r.spectral_radius.target(),
            act,
            alpha,
            &mut rng,
        ),
        Cell::Dann => ei_cells::dann(inputs, h, n_i.max(1), bias, act, alpha, &mut rng),
    };
    let readout_bias = if opt.keeps_signs() {
        BiasKind::Split
    } else {
        BiasKind::Uniform
    };
    let mut readout = Linear::new("readout", h, outputs, cfg.init, readout_bias, &mut rng);
    // PyTorch's names, with an EG split bias as `readout.bias.pos` / `.neg`.
    readout.bias = readout.bias.renamed("readout.bias");
    let net = RecurrentNet { cell, readout };
    match r.cell {
        Cell::Colei => net.read_excitatory_only(n_i),
        _ => net,
    }
}

/// The config and the model of a run folder, with the tensors of its `weights` file
/// (`weights_final.safetensors` or `weights_init.safetensors`).
pub fn of_run(
    dir: &std::path::Path,
    weights: &str,
) -> crate::error::Result<(super::config::TrainConfig, Model)> {
    use super::config::TrainConfig;
    use crate::error::Error;
    let cfg_path = dir.join("config.toml");
    let text = std::fs::read_to_string(&cfg_path).map_err(|e| Error::io(&cfg_path, e))?;
    let mut cfg: TrainConfig = crate::io::config::parse(&text, &cfg_path.display().to_string())?;
    cfg.apply_model_defaults();
    let file = dir.join(weights);
    let (t, _) = crate::io::checkpoint::load(&file)?;
    let bad = |m: String| Error::data(&file, m);
    // The model's input and output sizes, from its first and last matrices.
    let shape_of = |prefix: &str| -> Option<&[usize]> {
        [
            "weight",
            "weight_pos",
            "weight_raw",
            "w_ee",
            "weight_ih_l0",
            "weight_ih_l0_pos",
            "weight_ih_l0_raw",
            "weight_ih_l0_ee",
        ]
        .iter()
        .find_map(|s| t.get(&format!("{prefix}.{s}")))
        .map(|x| x.shape.as_slice())
    };
    let (inputs, outputs) = if cfg.model.kind == ModelKind::Rnn {
        let i = shape_of("rnn").ok_or_else(|| bad("no `rnn.weight_ih_l0…` tensor".into()))?;
        let o = shape_of("readout").ok_or_else(|| bad("no `readout.weight` tensor".into()))?;
        (i[1], o[0])
    } else {
        let last = cfg.model.hidden.len();
        let i = shape_of("layers.0").ok_or_else(|| bad("no `layers.0` weight".into()))?;
        let o = shape_of(&format!("layers.{}", 2 * last))
            .ok_or_else(|| bad(format!("no `layers.{}` weight", 2 * last)))?;
        (i[1], o[0])
    };
    let mut m = build(&cfg.model, &cfg.optimizer, inputs, outputs, 0.5, cfg.seed);
    super::init_from::apply(&mut m, &file)?;
    Ok((cfg, m))
}
