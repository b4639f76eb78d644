//! Cognitive tasks for recurrent networks (science.md §6): the 82 Mod-Cog tasks in their
//! rule-index order (the first 20 of the Yang-19 families among them), and the classic NeuroGym
//! tasks, generated on the fly into seeded streams of back-to-back trials.

pub mod classic;
pub mod metrics;
pub mod ring;
pub mod stream;
pub mod task;
pub mod trial;
pub mod yang;

pub use stream::{Streams, Window};
pub use task::Task;
pub use trial::LabelMode;

use yang::{Dm, Go, Match};

/// The 82 Mod-Cog tasks in exactly the rule-index order of science.md §6.3.
pub fn modcog() -> Vec<Task> {
    let go = |anti, rt, delayed, int, seq| {
        Go {
            anti,
            rt,
            delayed,
            int,
            seq,
        }
        .task()
    };
    let (f, t) = (false, true);
    let mut v = vec![
        go(f, f, f, 0, 0),
        go(f, t, f, 0, 0),
        go(f, f, t, 0, 0),
        go(t, f, f, 0, 0),
        go(t, t, f, 0, 0),
        go(t, f, t, 0, 0),
        go(f, f, t, -1, 0),
        go(f, f, t, 1, 0),
        go(t, f, t, -1, 0),
        go(t, f, t, 1, 0),
        go(f, f, f, 0, -1),
        go(f, f, f, 0, 1),
        go(f, f, t, 0, -1),
        go(f, f, t, 0, 1),
        go(f, t, f, 0, 1),
        go(f, t, f, 0, -1),
        go(t, f, f, 0, 1),
        go(t, f, f, 0, -1),
        go(t, f, t, 0, 1),
        go(t, f, t, 0, -1),
        go(t, t, f, 0, 1),
        go(t, t, f, 0, -1),
    ];
    for (delayed, int, seq) in [
        (f, 0, 0),
        (t, 0, 0),
        (t, -1, 0),
        (t, 1, 0),
        (f, 0, 1),
        (f, 0, -1),
        (t, 0, 1),
        (t, 0, -1),
    ] {
        v.extend(Dm::five(delayed, int, seq));
    }
    // (category, go on match): dms, dnms, dmc, dnmc; the extension groups swap the last two.
    let base = [(f, t), (f, f), (t, t), (t, f)];
    let ext = [(f, t), (f, f), (t, f), (t, t)];
    v.extend(Match::four(base, 0, 0));
    for (int, seq) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
        v.extend(Match::four(ext, int, seq));
    }
    v
}

/// The 20 Yang-19 tasks (go, DM, delayed DM and match families) in Mod-Cog's order.
pub fn yang19() -> Vec<Task> {
    let all = modcog();
    let (go, rest) = all.split_at(22);
    let (dm, matching) = rest.split_at(40);
    go[..6]
        .iter()
        .chain(&dm[..10])
        .chain(&matching[..4])
        .cloned()
        .collect()
}

/// The classic single tasks.
pub fn classic() -> Vec<Task> {
    classic::Classic::ALL.iter().map(|c| c.task()).collect()
}

/// Every task geoplast generates: the Mod-Cog list, then the classic tasks.
pub fn all() -> Vec<Task> {
    let mut v = modcog();
    v.extend(classic());
    v
}

/// What a stream draws from: one task (repeated, no rule input) or a collection (a rule one-hot
/// after the task channels).
#[derive(Clone, Debug)]
pub struct TaskSet {
    pub name: String,
    pub tasks: Vec<Task>,
    pub rules: bool,
}

impl TaskSet {
    /// `yang19`, `modcog`, or the name of one task; an unknown name gets the nearest one.
    pub fn named(name: &str) -> Result<Self, String> {
        let (tasks, rules) = match name {
            "modcog" => (modcog(), true),
            "yang19" => (yang19(), true),
            _ => {
                let all = all();
                match all.iter().find(|t| t.name == name) {
                    Some(t) => (vec![t.clone()], false),
                    None => {
                        let nearest = all
                            .iter()
                            .map(|t| t.name.as_str())
                            .chain(["modcog", "yang19"])
                            .min_by_key(|n| crate::io::config::levenshtein(name, n))
                            .unwrap_or("modcog");
                        return Err(format!(
                            "unknown task `{name}`; did you mean `{nearest}`? \
                             (`geoplast tasks list` shows every task)"
                        ));
                    }
                }
            }
        };
        Ok(Self {
            name: name.to_string(),
            tasks,
            rules,
        })
    }

    /// Input channels: the task channels (the same for every task of a collection), then one
    /// rule unit per task of a collection.
    pub fn inputs(&self) -> usize {
        self.tasks[0].channels.len() + if self.rules { self.tasks.len() } else { 0 }
    }

    pub fn outputs(&self) -> usize {
        self.tasks.iter().map(|t| t.classes).max().unwrap_or(1)
    }

    /// The set's default step: its tasks' (one task) or 100 ms (the collections).
    pub fn default_dt(&self) -> u32 {
        self.tasks.iter().map(|t| t.default_dt).max().unwrap_or(100)
    }

    pub fn check_dt(&self, dt: u32) -> Result<(), String> {
        self.tasks.iter().try_for_each(|t| t.check_dt(dt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_82_tasks_are_in_the_rule_index_order() {
        let names: Vec<String> = modcog().into_iter().map(|t| t.name).collect();
        let expected = "go rtgo dlygo anti rtanti dlyanti dlygointl dlygointr dlyantiintl \
            dlyantiintr goseql goseqr dlygoseql dlygoseqr rtgoseqr rtgoseql antiseqr antiseql \
            dlyantiseqr dlyantiseql rtantiseqr rtantiseql \
            dm1 dm2 ctxdm1 ctxdm2 multidm dlydm1 dlydm2 ctxdlydm1 ctxdlydm2 multidlydm \
            dlydm1intl dlydm2intl ctxdlydm1intl ctxdlydm2intl multidlydmintl \
            dlydm1intr dlydm2intr ctxdlydm1intr ctxdlydm2intr multidlydmintr \
            dm1seqr dm2seqr ctxdm1seqr ctxdm2seqr multidmseqr \
            dm1seql dm2seql ctxdm1seql ctxdm2seql multidmseql \
            dlydm1seqr dlydm2seqr ctxdlydm1seqr ctxdlydm2seqr multidlydmseqr \
            dlydm1seql dlydm2seql ctxdlydm1seql ctxdlydm2seql multidlydmseql \
            dms dnms dmc dnmc dmsintr dnmsintr dnmcintr dmcintr dmsintl dnmsintl dnmcintl \
            dmcintl dmsseqr dnmsseqr dnmcseqr dmcseqr dmsseql dnmsseql dnmcseql dmcseql";
        let expected: Vec<&str> = expected.split_whitespace().collect();
        assert_eq!(names, expected);
        let yang: Vec<String> = yang19().into_iter().map(|t| t.name).collect();
        assert_eq!(yang.len(), 20);
        assert_eq!(&yang[..6], &expected[..6]);
        assert_eq!(&yang[6..16], &expected[22..32]);
        assert_eq!(&yang[16..], &expected[62..66]);
    }

    #[test]
    fn sets_have_the_documented_sizes_and_unknown_names_get_a_suggestion() {
        let m = TaskSet::named("modcog").unwrap();
        assert_eq!((m.inputs(), m.outputs()), (115, 17));
        let y = TaskSet::named("yang19").unwrap();
        assert_eq!((y.inputs(), y.outputs()), (53, 17));
        let one = TaskSet::named("dlygo").unwrap();
        assert_eq!((one.inputs(), one.tasks.len()), (33, 1));
        let e = TaskSet::named("dlygoo").unwrap_err();
        assert!(e.contains("did you mean `dlygo`"), "{e}");
        let cdi = TaskSet::named("context_integration").unwrap();
        assert_eq!(cdi.default_dt(), 50);
        let e = cdi.check_dt(100).unwrap_err();
        assert!(
            e.contains("750 ms stimulus") && e.contains("e.g. 50"),
            "{e}"
        );
        assert!(m.check_dt(100).is_ok() && m.check_dt(0).is_err());
    }
}
