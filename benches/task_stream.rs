//! Benchmarks of the cognitive-task streams (the task-library issue's speed targets): one
//! Mod-Cog training window of 512 streams × 350 steps (115 inputs) without and with E2's
//! training input noise (20.6 M normal draws), the same at batch 64 (the CPU-scale training
//! batch), and batches of 16 × 100 steps of the two tasks NeuroGym also has, for
//! `bench/compare_tasks.sh` to set beside NeuroGym's `Dataset` (`bench/tasks_neurogym.py`).
//!
//! Also the 20.6 M normal draws alone, geoplast's counter-based generator against `rand_distr`'s
//! ziggurat on ChaCha8 (the reason the generator is written by hand).
//!
//! Prints `name: value` lines (medians in ms, single-threaded: generation is sequential).

use geoplast::tasks::cognitive::{LabelMode, Streams, TaskSet, Window};

fn median_ms(mut f: impl FnMut(), reps: usize) -> f64 {
    f();
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = std::time::Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn window_ms(set: &str, batch: usize, steps: usize, noise: bool, reps: usize) -> f64 {
    let set = TaskSet::named(set).expect("a known task set");
    let dt = set.default_dt();
    let mut s = Streams::new(set, dt, LabelMode::Reference, 1, "train", batch).expect("valid");
    let mut w = Window::default();
    let mut k = 0;
    median_ms(
        || {
            s.window(steps, &mut w);
            if noise {
                s.add_input_noise(&mut w, k);
            }
            k += 1;
            std::hint::black_box(&w);
        },
        reps,
    )
}

fn normals_ms(hand_written: bool) -> f64 {
    use rand::RngExt;
    let mut z = vec![0.0f32; 512 * 350 * 115];
    let mut rng = geoplast::rng::named(1, "bench/normal");
    let mut k = 0;
    median_ms(
        || {
            if hand_written {
                geoplast::kernels::normal::add(&mut z, 0.1, k, 0);
                k += 1;
            } else {
                for v in z.iter_mut() {
                    *v += 0.1 * rng.sample::<f32, _>(rand_distr::StandardNormal);
                }
            }
            std::hint::black_box(&z);
        },
        11,
    )
}

fn main() {
    println!("normal_20m_geoplast_ms: {:.2}", normals_ms(true));
    println!("normal_20m_rand_distr_ms: {:.2}", normals_ms(false));
    println!(
        "modcog_512x350_ms: {:.2}",
        window_ms("modcog", 512, 350, false, 21)
    );
    println!(
        "modcog_512x350_noise_ms: {:.2}",
        window_ms("modcog", 512, 350, true, 21)
    );
    println!(
        "modcog_64x350_noise_ms: {:.3}",
        window_ms("modcog", 64, 350, true, 51)
    );
    for task in ["perceptual_decision_making", "context_integration"] {
        println!(
            "{task}_16x100_ms: {:.4}",
            window_ms(task, 16, 100, false, 501)
        );
    }
}
