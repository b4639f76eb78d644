//! Recovery and rejection rates of the noise-aware geometry test on synthetic studies with known
//! geometry and known noise (the numbers quoted in the README):
//! `cargo run --release --example noise_validation [SEEDS]`.

use geoplast::analysis::noise::MeasurementNoise;
use geoplast::analysis::noise_aware::{NoiseAwareOptions, test};
use geoplast::geometry::{MirrorMap, Potential};
use rand::RngExt;
use rand_distr::StandardNormal;

fn main() {
    let seeds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let pots = [
        Potential::NegEntropy,
        Potential::PNorm { p: 1.5 },
        Potential::PNorm { p: 2.0 },
    ];
    println!(
        "| truth | noise | synapses | NE not rejected | p1.5 not rejected | p2 not rejected |\n|---|---|---|---|---|---|"
    );
    for truth in [Potential::NegEntropy, Potential::PNorm { p: 2.0 }] {
        for noise in ["add=0,mult=0", "add=0.005,mult=0.05", "add=0.02,mult=0.2"] {
            let noise: MeasurementNoise = noise.parse().unwrap();
            let n = 2000;
            let mut kept = [0usize; 3];
            for seed in 0..seeds {
                let mut rng = geoplast::rng::named(seed, "noise-validation");
                let w0: Vec<f64> = (0..n)
                    .map(|_| (rng.sample::<f64, _>(StandardNormal) * 0.7 - 1.0).exp())
                    .collect();
                // A dual change whose sd is 30 % of the typical ψ(w0) spread of each geometry.
                let change = if truth == Potential::NegEntropy {
                    0.3
                } else {
                    0.3 * 0.45
                };
                let w1: Vec<f64> = w0
                    .iter()
                    .map(|&w| {
                        let z: f64 = rng.sample(StandardNormal);
                        truth.inverse(truth.mirror(w) + change * z, 1.0)
                    })
                    .collect();
                let (a, b) = (noise.observe(&w0, &mut rng), noise.observe(&w1, &mut rng));
                let opts = NoiseAwareOptions {
                    noise,
                    reps: 200,
                    alpha: 0.05,
                    seed,
                };
                let r = test(&a, &b, &pots, &opts, &|| {});
                for (k, c) in r.candidates.iter().enumerate() {
                    kept[k] += (c.delta_cdf.is_some() && !c.rejected) as usize;
                }
            }
            let f = |k: usize| format!("{}/{seeds}", kept[k]);
            println!(
                "| {} | {noise} | {n} | {} | {} | {} |",
                truth.label(),
                f(0),
                f(1),
                f(2)
            );
        }
    }
}
