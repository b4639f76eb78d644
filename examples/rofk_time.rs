use geoplast::experiments::r_of_k::*;
fn main() {
    let p = Protocol::paper();
    let t = std::time::Instant::now();
    let jobs = run_all(&p, &|| {});
    let rows = select(&p, &jobs);
    println!("{:.2}s", t.elapsed().as_secs_f64());
    for r in &rows {
        println!(
            "N={} GD lr {} {:.1} [{:.1},{:.1}]  EG lr {} {:.1} [{:.1},{:.1}]",
            r.n,
            r.gd.lr,
            r.gd.test_acc_mean,
            r.gd.test_acc_min,
            r.gd.test_acc_max,
            r.eg.lr,
            r.eg.test_acc_mean,
            r.eg.test_acc_min,
            r.eg.test_acc_max
        );
    }
    for c in checks(&rows) {
        println!("{} {:.2} {}", c.what, c.measured, c.pass);
    }
}
