use geoplast::experiments::r_of_k::*;
fn main() {
    let p = Protocol::paper();
    let t = std::time::Instant::now();
    let j = run_job(&p, 20000, 1, &|| {});
    println!("{:.2}s {}", t.elapsed().as_secs_f64(), j.runs.len());
}
