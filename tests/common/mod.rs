//! What the integration tests share: running the binary and writing small input files. Each
//! test crate uses some of these.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// Runs `geoplast args…` and returns (success, stdout, stderr).
pub fn geoplast(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_geoplast"))
        .args(args)
        .output()
        .expect("binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// A tiny IDX data set: `n` 4×4 images of 3 classes; `nan` puts a NaN into a float32 image file.
pub fn write_idx(dir: &Path, n: usize, nan: bool) {
    for split in ["train", "t10k"] {
        let mut img = vec![0, 0, if nan { 0x0D } else { 0x08 }, 3];
        for v in [n as u32, 4, 4] {
            img.extend_from_slice(&v.to_be_bytes());
        }
        for i in 0..n * 16 {
            let label = (i / 16) % 3;
            let v = if (i % 16) / 5 == label {
                200u8
            } else {
                (i * 7 % 50) as u8
            };
            if nan {
                let f = if i == 21 { f32::NAN } else { v as f32 / 255.0 };
                img.extend_from_slice(&f.to_be_bytes());
            } else {
                img.push(v);
            }
        }
        let mut lab = vec![0, 0, 8, 1];
        lab.extend_from_slice(&(n as u32).to_be_bytes());
        lab.extend((0..n).map(|i| (i % 3) as u8));
        std::fs::write(dir.join(format!("{split}-images-idx3-ubyte")), img).unwrap();
        std::fs::write(dir.join(format!("{split}-labels-idx1-ubyte")), lab).unwrap();
    }
}

/// Multiplicative (EG-like) changes of positive log-normal-ish weights.
pub fn eg_pairs(n: usize) -> Vec<(f64, f64)> {
    (0..n)
        .map(|i| {
            let u = ((i as f64 * 0.618_034).fract() - 0.5) * 3.0;
            let v = ((i as f64 * 0.414_214).fract() - 0.5) * 0.2;
            let w0 = (u - 2.0).exp();
            (w0, w0 * v.exp())
        })
        .collect()
}

pub fn write_npy(path: &Path, rows: usize, cols: usize, data: &[f64]) {
    let body: Vec<u8> = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, npy("<f8", &format!("({rows}, {cols})"), &body)).unwrap();
}

/// A version-1 `.npy` file with any header text for `descr` and `shape`.
pub fn npy(descr: &str, shape: &str, body: &[u8]) -> Vec<u8> {
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(h.len() as u16).to_le_bytes());
    b.extend_from_slice(h.as_bytes());
    b.extend_from_slice(body);
    b
}

/// An IDX file: type byte (0x08 u8, 0x0D float32), dimensions, then the data bytes as given.
pub fn idx_file(ty: u8, dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, ty, dims.len() as u8];
    for d in dims {
        b.extend_from_slice(&d.to_be_bytes());
    }
    b.extend_from_slice(data);
    b
}

/// A tiny MLP run on the data `write_idx` makes (3 epochs, momentum SGD).
pub const MLP: &str = r#"
seed = 3
epochs = 3
batch_size = 8
log_every = 2

[data]
kind = "idx"

[model]
kind = "mlp"
hidden = [6]

[optimizer]
lr = 0.1
momentum = 0.9
"#;

/// A sweep of 8 tiny r-of-k runs (2 variants × 2 rates × 2 seeds); GD's second rate diverges.
pub const SWEEP: &str = r#"
[base]
seed = 1
epochs = 3
batch_size = 50
[base.data]
kind = "r_of_k"
task = { n = 60, k = 6, r = 3, n_train = 400, n_val = 50, n_test = 200 }
[base.model]
kind = "mlp"
init = { kind = "constant", value = 0.1 }
bias = { fixed = -3.0 }
[base.optimizer]
lr = 0.1

[grid]
seed = [1, 2]

[[variant]]
name = "gd"
grid = { "optimizer.lr" = [0.1, 1e38] }   # the second overflows: a diverged run

[[variant]]
name = "eg"
"optimizer.potential" = { kind = "negentropy" }
grid = { "optimizer.lr" = [0.3, 1.0] }
"#;

/// Writes `text` to `dir/name` and returns the path as a string (a config for the binary).
pub fn write_config(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into()
}

/// An `.npz` archive of `.npy` members: (name, dtype descr, shape text, little-endian bytes).
pub fn write_npz(path: &Path, members: &[(&str, &str, String, Vec<u8>)]) {
    use std::io::Write;
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, descr, shape, body) in members {
        z.start_file(
            format!("{name}.npy"),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        z.write_all(&npy(descr, shape, body)).unwrap();
    }
    z.finish().unwrap();
}
