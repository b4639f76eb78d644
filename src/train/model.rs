//! The network a training config describes.

use super::config::{ModelConfig, ModelKind};
use crate::nn::colei::ei_split;
use crate::nn::{BiasKind, ColEi, Dann, Layer, Linear, Sequential};
use crate::optim::OptimConfig;

/// Builds the network for `inputs` features and `outputs` units.
pub fn build(
    cfg: &ModelConfig,
    opt: &OptimConfig,
    inputs: usize,
    outputs: usize,
    input_mean: f64,
    seed: u64,
) -> Sequential<f32> {
    let mut rng = crate::rng::named(seed, "train/init");
    let bias = cfg.bias.unwrap_or(if opt.keeps_signs() {
        BiasKind::Split
    } else if cfg.kind == ModelKind::Dann {
        BiasKind::Zero
    } else {
        BiasKind::Uniform
    });
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
            ModelKind::Colei if i == 0 => Layer::ColEi(ColEi::first_layer(
                &name,
                dims[0],
                dims[1],
                input_mean,
                bias == BiasKind::Split,
                &mut rng,
            )),
            ModelKind::Colei => {
                let (n_e, n_i) = ei_split(dims[i], cfg.ei_ratio);
                Layer::ColEi(ColEi::balanced(
                    &name,
                    n_e,
                    n_i,
                    dims[i + 1],
                    bias,
                    &mut rng,
                ))
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
        };
        layers.push(layer);
        if !last {
            layers.push(Layer::Act(cfg.activation));
        }
    }
    Sequential { layers }
}
