//! Sequence metrics of E2: Acc (every step; the target is class 0 outside decisions), Dec Acc
//! (decision steps only) and Dec Acc per task, counted over decision steps by the `task` array
//! because windows cut trials, each beside its chance level.

#[derive(Clone, Debug, serde::Serialize)]
pub struct TaskScore {
    pub name: String,
    /// Decision steps of this task in the windows.
    pub decisions: usize,
    /// NaN when the task had no decision step.
    pub dec_acc: f64,
    pub chance: f64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct Scores {
    pub acc: f64,
    pub dec_acc: f64,
    pub per_task: Vec<TaskScore>,
}

/// Scores of the predicted classes `pred` against per-step `label`, `decision` and `task`
/// (all `[T·B]`, any common order); `tasks` holds each task's name and chance level.
pub fn score(
    tasks: &[(String, f64)],
    pred: &[u32],
    label: &[u32],
    decision: &[bool],
    task: &[u16],
) -> Scores {
    let n = tasks.len();
    let (mut hits, mut dec_hits, mut decs) = (0usize, 0usize, 0usize);
    let mut per = vec![(0usize, 0usize); n];
    for i in 0..pred.len() {
        let ok = pred[i] == label[i];
        hits += ok as usize;
        if decision[i] {
            decs += 1;
            dec_hits += ok as usize;
            let e = &mut per[task[i] as usize];
            e.0 += ok as usize;
            e.1 += 1;
        }
    }
    let ratio = |h: usize, n: usize| {
        if n == 0 {
            f64::NAN
        } else {
            h as f64 / n as f64
        }
    };
    Scores {
        acc: ratio(hits, pred.len()),
        dec_acc: ratio(dec_hits, decs),
        per_task: tasks
            .iter()
            .zip(per)
            .map(|((name, chance), (h, d))| TaskScore {
                name: name.clone(),
                decisions: d,
                dec_acc: ratio(h, d),
                chance: *chance,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_decision_steps_per_task() {
        let set = super::super::TaskSet::named("yang19").unwrap();
        let tasks: Vec<(String, f64)> = set
            .tasks
            .iter()
            .map(|t| (t.name.clone(), t.chance))
            .collect();
        let label = [0, 3, 3, 0, 5, 5];
        let decision = [false, true, true, false, true, true];
        let task = [0, 0, 0, 7, 7, 7];
        let pred = [0, 3, 1, 2, 5, 5];
        let s = score(&tasks, &pred, &label, &decision, &task);
        assert!((s.acc - 4.0 / 6.0).abs() < 1e-12);
        assert!((s.dec_acc - 0.75).abs() < 1e-12);
        assert_eq!(s.per_task[0].decisions, 2);
        assert!((s.per_task[0].dec_acc - 0.5).abs() < 1e-12);
        assert!((s.per_task[7].dec_acc - 1.0).abs() < 1e-12);
        assert!(s.per_task[1].dec_acc.is_nan());
        assert_eq!(s.per_task[16].chance, 0.5);
        assert_eq!(s.per_task[0].chance, 1.0 / 16.0);
    }
}
