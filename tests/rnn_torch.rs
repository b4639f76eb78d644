//! `weights_torch.safetensors` is what `torch.nn.RNN` + `torch.nn.Linear` load as they are: for
//! two fixture runs (a dense cell under EG with split biases, and a column-EI cell whose file
//! holds the effective matrices `W⁺·D`), geoplast's own model, rebuilt from the run's config and
//! final weights, gives the outputs PyTorch gave on a fixed batch. The PyTorch outputs were
//! written by `tests/golden/torch_rnn/make.py` in a throwaway venv with torch (never in CI).

use geoplast::io::weights::parse_nd;
use geoplast::kernels::{Backend, Cpu};
use geoplast::nn::Mat;
use geoplast::nn::recurrent::Readout;
use geoplast::train::model::{self, Model};
use std::path::Path;

fn array(path: &Path) -> geoplast::io::weights::NdArray {
    parse_nd(&std::fs::read(path).unwrap(), "fixture", path).unwrap()
}

#[test]
fn geoplast_and_pytorch_give_the_same_outputs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/torch_rnn");
    let x = array(&dir.join("batch.npy"));
    let [t_n, b, inp] = x.shape[..] else {
        panic!("batch shape {:?}", x.shape)
    };
    let u = Mat::from_vec(t_n * b, inp, x.data.iter().map(|&v| v as f32).collect());
    for name in ["dense", "colei"] {
        let run = dir.join(name);
        let cfg = geoplast::train::load_config(&run.join("config.toml"), None, None, &[]).unwrap();
        let want = array(&dir.join(format!("out_{name}.npy")));
        let outputs = want.shape[1];
        let mut m = model::build(&cfg.model, &cfg.optimizer, inp, outputs, 0.3, cfg.seed);
        geoplast::train::init_from::apply(&mut m, &run.join("weights_final.safetensors")).unwrap();
        let Model::Recurrent(net) = &m else {
            panic!("{name} is not recurrent")
        };
        let be: &dyn Backend<f32> = &Cpu;
        let x0 = net.cell.zero_state(b);
        let mut rec = net.cell.begin(be, &x0, b, t_n);
        let y = net.forward(be, &mut rec, &x0, &u, b, None, Readout::Every);
        assert_eq!(y.data.len(), want.data.len());
        for (i, (a, w)) in y.data.iter().zip(&want.data).enumerate() {
            assert!(
                (*a as f64 - w).abs() <= 1e-5 * (1.0 + w.abs()),
                "{name}[{i}]: geoplast {a} vs PyTorch {w}"
            );
        }
    }
}
