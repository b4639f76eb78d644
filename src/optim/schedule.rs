//! Learning-rate schedules: `η_t = base_lr · factor(t)` with t the 0-based update index. The
//! factor is applied before update t and advanced after it, so a factor of 0 at t = 0 leaves the
//! weights unchanged but fills the momentum buffer (science.md §2.5).

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    #[default]
    Constant,
    /// Warmup–constant–cooldown WCC(P, C, T): linear through (0,0), (P,1), (T−C,1), (T,0), then
    /// its last value. P = 0 gives factor(0) = 1.
    Wcc {
        warmup: usize,
        cooldown: usize,
        total: usize,
    },
    /// `t/W` for t < W, then `½(1 + cos(π(t−W)/(T−W)))`.
    WarmupCosine { warmup: usize, total: usize },
    /// Per-epoch cosine annealing (the geometry paper): `½(1 + cos(π·e/E))` in epoch e.
    Cosine { epochs: usize },
}

impl Schedule {
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            Schedule::Wcc {
                warmup,
                cooldown,
                total,
            } if warmup + cooldown > total => Err(format!(
                "schedule wcc needs warmup + cooldown <= total (got {warmup} + {cooldown} > {total})"
            )),
            Schedule::WarmupCosine { warmup, total } if warmup >= total => Err(format!(
                "schedule warmup_cosine needs warmup < total (got {warmup} >= {total})"
            )),
            Schedule::Cosine { epochs: 0 } => Err("schedule cosine needs epochs >= 1".into()),
            _ => Ok(()),
        }
    }

    /// The factor for update `t` (0-based) taken during `epoch` (0-based).
    pub fn factor(&self, t: usize, epoch: usize) -> f64 {
        use std::f64::consts::PI;
        match *self {
            Schedule::Constant => 1.0,
            Schedule::Wcc {
                warmup,
                cooldown,
                total,
            } => {
                let t = t.min(total) as f64;
                let (p, c, tt) = (warmup as f64, cooldown as f64, total as f64);
                if t < p {
                    t / p
                } else if t <= tt - c || c == 0.0 {
                    1.0
                } else {
                    (tt - t) / c
                }
            }
            Schedule::WarmupCosine { warmup, total } => {
                if t < warmup {
                    t as f64 / warmup as f64
                } else {
                    0.5 * (1.0 + (PI * (t - warmup) as f64 / (total - warmup) as f64).cos())
                }
            }
            Schedule::Cosine { epochs } => 0.5 * (1.0 + (PI * epoch as f64 / epochs as f64).cos()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from science.md §2.5 (Mod-Cog WCC(500, 1000, 6000), pruning WCC(0, 1000, 1000),
    /// reach warmup(100) + cosine with T = 6001).
    #[test]
    fn documented_values() {
        let modcog = Schedule::Wcc {
            warmup: 500,
            cooldown: 1000,
            total: 6000,
        };
        assert_eq!(modcog.factor(0, 0), 0.0);
        assert_eq!(modcog.factor(250, 0), 0.5);
        assert_eq!(modcog.factor(500, 0), 1.0);
        assert_eq!(modcog.factor(5000, 0), 1.0);
        assert_eq!(modcog.factor(5500, 0), 0.5);
        assert_eq!(modcog.factor(6000, 0), 0.0);
        assert_eq!(modcog.factor(7000, 0), 0.0);
        let prune = Schedule::Wcc {
            warmup: 0,
            cooldown: 1000,
            total: 1000,
        };
        assert_eq!(prune.factor(0, 0), 1.0);
        assert!((prune.factor(250, 0) - 0.75).abs() < 1e-15);
        let reach = Schedule::WarmupCosine {
            warmup: 100,
            total: 6001,
        };
        assert_eq!(reach.factor(0, 0), 0.0);
        assert_eq!(reach.factor(50, 0), 0.5);
        assert_eq!(reach.factor(100, 0), 1.0);
        assert!(reach.factor(6000, 0) < 1e-6);
        let cos = Schedule::Cosine { epochs: 4 };
        assert_eq!(cos.factor(123, 0), 1.0);
        assert!((cos.factor(0, 2) - 0.5).abs() < 1e-15);
        let no_cool = Schedule::Wcc {
            warmup: 10,
            cooldown: 0,
            total: 100,
        };
        assert_eq!(no_cool.factor(100, 0), 1.0);
        assert_eq!(no_cool.factor(500, 0), 1.0);
    }
}
