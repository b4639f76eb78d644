//! What a finished run writes about itself: weight statistics, learning curves and `report.md`.

use super::Outcome;
use super::config::{DataConfig, TrainConfig};
use super::model::Model;
use crate::error::{Error, Result};
use crate::io::RunDir;
use crate::io::checkpoint;

/// Weight statistics of every matrix (parameters with two dimensions) against the run's
/// `weights_init.safetensors`, over its unmasked entries.
pub fn matrix_stats(
    run: &RunDir,
    model: &Model,
) -> Result<Vec<crate::analysis::weight_stats::WeightStats>> {
    let (init, _) = checkpoint::load(&run.file("weights_init.safetensors"))?;
    Ok(model
        .params()
        .iter()
        .filter(|p| p.shape.len() == 2)
        .filter_map(|p| {
            // Masked (pruned) synapses are not synapses: they are left out.
            let live = |i: &usize| p.mask.as_ref().is_none_or(|m| m[*i]);
            let init = &init.get(&p.name)?.data;
            let w0: Vec<f64> = (0..init.len())
                .filter(live)
                .map(|i| init[i] as f64)
                .collect();
            let w1: Vec<f64> = (0..p.value.len())
                .filter(live)
                .map(|i| p.value[i] as f64)
                .collect();
            Some(crate::analysis::weight_stats::weight_stats(
                &p.name, &w0, &w1,
            ))
        })
        .collect())
}

/// The `train_loss` of the last evaluation line of the run's `metrics.jsonl` (NaN if none).
pub fn last_train_loss(run: &RunDir) -> Result<f64> {
    let path = run.file("metrics.jsonl");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    Ok(text
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v["train_loss"].as_f64())
        .unwrap_or(f64::NAN))
}

/// Learning curves from `metrics.jsonl` (all epochs, also those before a resume) and report.md.
pub fn write_report(run: &RunDir, cfg: &TrainConfig, o: &Outcome) -> Result<()> {
    use crate::report::{Figure, Panel, PanelKind, Series, plot};
    let path = run.file("metrics.jsonl");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let (mut ep, mut acc, mut tl, mut trl) = (vec![], vec![], vec![], vec![]);
    // Evaluation lines carry `test_loss`; the x axis is the epoch for epoch runs, the update
    // for streams.
    let by_epoch = o.epochs > 0;
    let x_label = if by_epoch { "epoch" } else { "update" };
    for v in text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
    {
        let x = if by_epoch { &v["epoch"] } else { &v["step"] };
        if let (Some(x), Some(l)) = (x.as_f64(), v["test_loss"].as_f64()) {
            ep.push(x);
            acc.push(v["test_acc"].as_f64().unwrap_or(f64::NAN));
            tl.push(l);
            trl.push(v["train_loss"].as_f64().unwrap_or(f64::NAN));
        }
    }
    let fig = Figure {
        title: format!(
            "{:?} model, {} potential",
            cfg.model.kind, cfg.optimizer.potential
        ),
        cols: 2,
        panels: vec![
            Panel {
                title: "loss".into(),
                x_label: x_label.into(),
                y_label: "loss".into(),
                kind: PanelKind::Lines(vec![
                    Series {
                        name: "train".into(),
                        x: ep.clone(),
                        y: trl,
                    },
                    Series {
                        name: "test".into(),
                        x: ep.clone(),
                        y: tl,
                    },
                ]),
            },
            Panel {
                title: "test accuracy".into(),
                x_label: x_label.into(),
                y_label: "accuracy (%)".into(),
                kind: PanelKind::Lines(vec![Series {
                    name: "test".into(),
                    x: ep,
                    y: acc,
                }]),
            },
        ],
    };
    plot::save(&fig, &run.file("curves"))?;
    let (length, unit) = cfg.length();
    let result = if o.test_acc.is_nan() {
        format!("Final test loss **{:.4}**", o.test_loss)
    } else {
        format!(
            "Final test accuracy **{:.2} %**, test loss {:.4}",
            o.test_acc, o.test_loss
        )
    };
    let mut report = format!(
        "# Training run\n\nModel {:?} (hidden {:?}), optimiser potential {}, lr {}, {length} {}, batch {}, seed {}.\n\n\
         {result} ({:.1} s); mean training loss over the run {:.4}.\n\n![curves](curves.png)\n\n\
         Files: `config.toml`, `metrics.jsonl`, `weights_init.safetensors`, `weights_final.safetensors`, \
         `checkpoint.safetensors`.\n",
        cfg.model.kind,
        cfg.model.hidden,
        cfg.optimizer.potential,
        cfg.optimizer.lr,
        unit.key(),
        cfg.batch_size,
        cfg.seed,
        o.seconds,
        o.train_loss_auc,
    );
    if let DataConfig::Idx {
        validation: Some(n),
        ..
    } = &cfg.data
    {
        report += &format!(
            "\n\"Test\" numbers are on the last {n} training samples, held out for validation; the test files were not used.\n"
        );
    }
    if !o.weight_stats.is_empty() {
        report += "\n## Weights after training\n\n| matrix | n | sign flips | set to 0 | fraction grown | slope of abs(Δw) on abs(w_init) (p) | R² | skewness / excess kurtosis of ln abs(w) | log-lik. log-normal − half-normal |\n|---|---|---|---|---|---|---|---|---|\n";
        for w in &o.weight_stats {
            report += &format!(
                "| {} | {} | {} | {} | {:.3} | {:.3} ({:.2e}) | {:.3} | {:.2} / {:.2} | {:.1} |\n",
                w.name,
                w.n,
                w.sign_flips,
                w.zeroed,
                w.fraction_grown,
                w.multiplicative.slope,
                w.multiplicative.slope_p,
                w.multiplicative.r2,
                w.log_skewness,
                w.log_kurtosis,
                w.loglik_lognormal - w.loglik_halfnormal
            );
        }
        report += "\nA positive slope is the multiplicative signature of EG; sign flips are 0 under EG by construction.\n";
    }
    if !o.ei_balance_at_init.is_empty() {
        report += "\n## E/I balance at initialisation\n\n| layer | mean row sum of the effective matrix |\n|---|---|\n";
        for (name, v) in &o.ei_balance_at_init {
            report += &format!("| {name} | {v:.4} |\n");
        }
        report += "\nA balanced Dale initialisation has row sums near 0; a large value means an outlier \
                   eigenvalue and saturated units. The first column-EI layer is centred by its bias instead.\n";
    }
    if let Some(r) = &o.recurrent_at_init {
        report += &format!(
            "\n## Recurrent matrix at initialisation\n\nThe effective W_rec has mean row sum {:.4} \
             and spectral radius {:.4} (largest |eigenvalue|, from faer).\n",
            r.mean_row_sum, r.spectral_radius
        );
    }
    if let Some(s) = &o.per_task {
        let above = s
            .per_task
            .iter()
            .filter(|t| t.dec_acc >= 3.0 * t.chance)
            .count();
        report += &format!(
            "\n## Dec Acc per task (held-out set)\n\nAcc {:.4}, Dec Acc {:.4}. {above} of {} tasks \
             reach 3× their chance level (`per_task.csv`, `per_task.png`).\n\n\
             | task | decision steps | Dec Acc | chance |\n|---|---|---|---|\n",
            s.acc,
            s.dec_acc,
            s.per_task.len()
        );
        for t in &s.per_task {
            report += &format!(
                "| {} | {} | {:.4} | {:.4} |\n",
                t.name, t.decisions, t.dec_acc, t.chance
            );
        }
    }
    run.write_text("report.md", &report)?;
    Ok(())
}

/// `per_task.csv` and a plot of Dec Acc per task against its chance level.
pub fn per_task_files(run: &RunDir, s: &crate::tasks::cognitive::metrics::Scores) -> Result<()> {
    let mut csv = String::from("task,decision_steps,dec_acc,chance\n");
    for t in &s.per_task {
        csv += &format!("{},{},{},{}\n", t.name, t.decisions, t.dec_acc, t.chance);
    }
    run.write_text("per_task.csv", &csv)?;
    let x: Vec<f64> = (0..s.per_task.len()).map(|i| i as f64).collect();
    let series = |name: &str, y: Vec<f64>| crate::report::plot::Series {
        name: name.into(),
        x: x.clone(),
        y,
    };
    let fig = crate::report::plot::Figure {
        title: format!("Dec Acc per task (held-out set; mean {:.3})", s.dec_acc),
        cols: 1,
        panels: vec![crate::report::plot::Panel {
            title: "tasks in rule order".into(),
            x_label: "task (rule index)".into(),
            y_label: "Dec Acc".into(),
            kind: crate::report::plot::PanelKind::Points(vec![
                series("Dec Acc", s.per_task.iter().map(|t| t.dec_acc).collect()),
                series("chance", s.per_task.iter().map(|t| t.chance).collect()),
            ]),
        }],
    };
    crate::report::plot::save(&fig, &run.file("per_task"))?;
    Ok(())
}
