//! The sweep's table: one row per run (CSV), and per group the settings ranked by the metric
//! averaged over seeds (markdown), read from the run folders so that skipped runs count too.

use super::exec::{Status, status};
use super::{Metric, Run, Sweep};
use crate::error::{Error, Result};
use serde::Serialize;
use std::path::Path;

/// One run's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub index: usize,
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub status: String,
    pub epochs: Option<usize>,
    pub test_acc: Option<f64>,
    pub test_loss: Option<f64>,
    pub train_loss_auc: Option<f64>,
    pub train_loss: Option<f64>,
    pub seconds: Option<f64>,
}

impl Row {
    pub fn metric(&self, m: Metric) -> Option<f64> {
        match m {
            Metric::TestAcc => self.test_acc,
            Metric::TestLoss => self.test_loss,
            Metric::TrainLossAuc => self.train_loss_auc,
            Metric::TrainLoss => self.train_loss,
        }
    }
}

/// One setting (every label but the seed and the group keys) of a group, over its seeds.
#[derive(Clone, Debug, Serialize)]
pub struct Setting {
    pub group: String,
    pub setting: String,
    pub runs: usize,
    pub complete: usize,
    pub diverged: usize,
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The run indices of this setting.
    pub indices: Vec<usize>,
}

/// Everything `summary.{csv,md,json}` holds.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub sweep: String,
    pub metric: Metric,
    pub rows: Vec<Row>,
    pub settings: Vec<Setting>,
    /// Per group, the index into `settings` of the best setting whose runs all completed.
    pub best: Vec<usize>,
}

/// Reads the outcome of every run from `out`.
pub fn collect(sweep: &Sweep, runs: &[Run], out: &Path) -> Result<Summary> {
    let mut rows = Vec::new();
    for r in runs {
        let st = status(r, out)?;
        let mut row = Row {
            index: r.index,
            name: r.name.clone(),
            labels: r.labels.clone(),
            status: if matches!(st, Status::New | Status::Interrupted)
                && r.dir(out).join("failed.json").is_file()
            {
                "failed".into()
            } else {
                st.name().into()
            },
            epochs: None,
            test_acc: None,
            test_loss: None,
            train_loss_auc: None,
            train_loss: None,
            seconds: None,
        };
        if st == Status::Complete {
            let p = r.dir(out).join("summary.json");
            let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
            let v: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| Error::data(&p, e.to_string()))?;
            row.epochs = v["epochs"].as_u64().map(|e| e as usize);
            row.test_acc = v["test_acc"].as_f64();
            row.test_loss = v["test_loss"].as_f64();
            row.train_loss_auc = v["train_loss_auc"].as_f64();
            row.train_loss = v["train_loss"].as_f64();
            row.seconds = v["seconds"].as_f64();
        }
        rows.push(row);
    }
    let join = |r: &Run, keep: &dyn Fn(&str) -> bool| {
        r.labels
            .iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut settings: Vec<Setting> = Vec::new();
    for (r, row) in runs.iter().zip(&rows) {
        let group = join(r, &|k| sweep.group_by.iter().any(|g| g == k));
        let setting = join(r, &|k| {
            k != "seed" && !sweep.group_by.iter().any(|g| g == k)
        });
        let i = match settings
            .iter()
            .position(|s| s.group == group && s.setting == setting)
        {
            Some(i) => i,
            None => {
                settings.push(Setting {
                    group,
                    setting,
                    runs: 0,
                    complete: 0,
                    diverged: 0,
                    mean: None,
                    min: None,
                    max: None,
                    indices: vec![],
                });
                settings.len() - 1
            }
        };
        let s = &mut settings[i];
        s.runs += 1;
        s.indices.push(r.index);
        s.diverged += (row.status == "diverged") as usize;
        if let Some(v) = row.metric(sweep.metric) {
            s.complete += 1;
            s.mean = Some(s.mean.unwrap_or(0.0) + v);
            s.min = Some(s.min.map_or(v, |m| m.min(v)));
            s.max = Some(s.max.map_or(v, |m| m.max(v)));
        }
    }
    for s in &mut settings {
        s.mean = s.mean.map(|m| m / s.complete as f64);
    }
    let mut best: Vec<usize> = Vec::new();
    let mut groups: Vec<&str> = Vec::new();
    for s in &settings {
        if !groups.contains(&s.group.as_str()) {
            groups.push(&s.group);
        }
    }
    for g in groups {
        let pick = settings
            .iter()
            .enumerate()
            .filter(|(_, s)| s.group == g && s.complete == s.runs)
            .fold(None, |acc: Option<usize>, (i, s)| match acc {
                Some(a)
                    if !sweep.metric.better(
                        s.mean.unwrap_or(f64::NAN),
                        settings[a].mean.unwrap_or(f64::NAN),
                    ) =>
                {
                    Some(a)
                }
                _ => Some(i),
            });
        best.extend(pick);
    }
    Ok(Summary {
        sweep: sweep.name.clone(),
        metric: sweep.metric,
        rows,
        settings,
        best,
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn num(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{v}"))
}

impl Summary {
    /// One row per run.
    pub fn csv(&self) -> String {
        let cols: Vec<&str> = self.rows.first().map_or(vec![], |r| {
            r.labels.iter().map(|(k, _)| k.as_str()).collect()
        });
        let mut out = ["index", "name"]
            .iter()
            .copied()
            .chain(cols.iter().copied())
            .chain([
                "status",
                "epochs",
                "test_acc",
                "test_loss",
                "train_loss_auc",
                "train_loss",
                "seconds",
            ])
            .map(csv_field)
            .collect::<Vec<_>>()
            .join(",");
        out.push('\n');
        for r in &self.rows {
            let fields: Vec<String> = [r.index.to_string(), r.name.clone()]
                .into_iter()
                .chain(r.labels.iter().map(|(_, v)| v.clone()))
                .chain([
                    r.status.clone(),
                    r.epochs.map_or(String::new(), |e| e.to_string()),
                    num(r.test_acc),
                    num(r.test_loss),
                    num(r.train_loss_auc),
                    num(r.train_loss),
                    num(r.seconds),
                ])
                .map(|f| csv_field(&f))
                .collect();
            out += &fields.join(",");
            out.push('\n');
        }
        out
    }

    /// The best setting per group, then every setting.
    pub fn markdown(&self) -> String {
        let m = self.metric.name();
        let range = |s: &Setting| match (s.min, s.max) {
            (Some(a), Some(b)) => format!("{a:.4}–{b:.4}"),
            _ => "–".into(),
        };
        let mean = |s: &Setting| s.mean.map_or("–".into(), |v| format!("{v:.4}"));
        let mut out = format!(
            "# Sweep `{}`\n\n## Best setting per group (by mean {m} over seeds)\n\n| group | best setting | mean {m} | range | runs |\n|---|---|---|---|---|\n",
            self.sweep
        );
        for &b in &self.best {
            let s = &self.settings[b];
            out += &format!(
                "| {} | {} | {} | {} | {} |\n",
                s.group,
                s.setting,
                mean(s),
                range(s),
                s.runs
            );
        }
        out += &format!(
            "\n## Every setting\n\n| group | setting | mean {m} | range | complete / runs | diverged |\n|---|---|---|---|---|---|\n"
        );
        for s in &self.settings {
            out += &format!(
                "| {} | {} | {} | {} | {} / {} | {} |\n",
                s.group,
                s.setting,
                mean(s),
                range(s),
                s.complete,
                s.runs,
                s.diverged
            );
        }
        out
    }

    /// Writes `summary.csv`, `summary.md` and `summary.json` into `out`.
    pub fn write(&self, out: &Path) -> Result<()> {
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        for (name, text) in [
            ("summary.csv", self.csv()),
            ("summary.md", self.markdown()),
            (
                "summary.json",
                serde_json::to_string_pretty(self).expect("serialisable") + "\n",
            ),
        ] {
            let p = out.join(name);
            crate::io::durable::write(&p, text)?;
        }
        Ok(())
    }
}
