//! The geometry test as one library call on in-memory pairs, without file reading: the Rust
//! side of the Python package's speed comparison.
//! `cargo run --release --example geometry_call PAIRS.npy [ROUNDS]` prints the median seconds.

use geoplast::analysis::paired::{PairedOptions, default_candidates, infer_checked};
use std::path::Path;

fn main() {
    let mut args = std::env::args().skip(1);
    let file = args
        .next()
        .expect("usage: geometry_call PAIRS.npy [ROUNDS]");
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3);
    let t = geoplast::io::weights::read_table(Path::new(&file), Default::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let (w0, w1) = (t.column(0).to_vec(), t.column(1).to_vec());
    let mut times = Vec::new();
    for _ in 0..rounds {
        let start = std::time::Instant::now();
        let opts = PairedOptions::new(default_candidates(&w0));
        let r = infer_checked(w0.clone(), w1.clone(), &opts, &|| {}).unwrap();
        times.push(start.elapsed().as_secs_f64());
        eprintln!("best {} in {:.2} s", r.best, times.last().unwrap());
    }
    times.sort_by(f64::total_cmp);
    println!("median {:.2} s over {rounds} rounds", times[rounds / 2]);
}
