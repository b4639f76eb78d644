//! The r-of-k task (EG paper, Fig 4B; Kivinen & Warmuth 1997): learning from sparsely relevant
//! inputs.
//!
//! `x ∈ {0,1}ᴺ` i.i.d. Bernoulli(0.5); `w*` is 1 on the first k coordinates and 0 elsewhere;
//! `y = 1[w*·x + ν ≥ r]`. Training labels carry noise ν ∈ {−1, 0, +1} with probabilities
//! (0.05, 0.9, 0.05); validation and test labels are clean. Inputs are stored as bits.

use crate::kernels::bits::BitMatrix;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

/// Parameters of the task.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ROfK {
    /// Number of inputs N.
    pub n: usize,
    /// Relevant inputs k (the first k coordinates).
    pub k: usize,
    /// Threshold r.
    pub r: usize,
    /// Probability of each of ν = −1 and ν = +1 on training labels.
    pub label_noise: f64,
    pub n_train: usize,
    pub n_val: usize,
    pub n_test: usize,
}

impl Default for ROfK {
    fn default() -> Self {
        Self {
            n: 2000,
            k: 100,
            r: 50,
            label_noise: 0.05,
            n_train: 10_000,
            n_val: 1000,
            n_test: 1000,
        }
    }
}

/// One split: bit-packed inputs and 0/1 labels.
#[derive(Clone, Debug)]
pub struct BitSplit {
    pub x: BitMatrix,
    pub y: Vec<u8>,
}

/// Train, validation and test splits sharing one `w*`.
#[derive(Clone, Debug)]
pub struct ROfKData {
    pub train: BitSplit,
    pub val: BitSplit,
    pub test: BitSplit,
}

impl ROfK {
    pub fn validate(&self) -> Result<(), String> {
        if self.k == 0 || self.k > self.n {
            return Err(format!(
                "task.k must be in 1..=n (got k = {}, n = {})",
                self.k, self.n
            ));
        }
        if self.r > self.k {
            return Err(format!(
                "task.r must be <= k (got r = {}, k = {})",
                self.r, self.k
            ));
        }
        if !(0.0..=0.5).contains(&self.label_noise) {
            return Err(format!(
                "task.label_noise must be in [0, 0.5] (got {})",
                self.label_noise
            ));
        }
        if self.n_train == 0 || self.n_test == 0 {
            return Err("task.n_train and task.n_test must be >= 1".into());
        }
        Ok(())
    }

    /// The initial weight that makes the expected initial logit zero: `r / (0.5·N)`.
    pub fn init_weight(&self) -> f64 {
        self.r as f64 / (0.5 * self.n as f64)
    }

    /// Draws the three splits from `rng`.
    pub fn generate(&self, rng: &mut impl Rng) -> ROfKData {
        let split = |rows: usize, noise: f64, rng: &mut dyn FnMut() -> u64| {
            let mut x = BitMatrix::zeros(rows, self.n);
            let mut y = vec![0u8; rows];
            let tail = self.n % 64;
            for (r, label) in y.iter_mut().enumerate() {
                let words = x.row_words_mut(r);
                for w in words.iter_mut() {
                    *w = rng();
                }
                if tail != 0 {
                    *words.last_mut().unwrap() &= (1u64 << tail) - 1;
                }
                let relevant: u32 = (0..self.k)
                    .map(|c| (words[c / 64] >> (c % 64) & 1) as u32)
                    .sum();
                // ν from one uniform draw: −1 below p, +1 above 1 − p.
                let u = (rng() >> 11) as f64 / (1u64 << 53) as f64;
                let nu = if u < noise {
                    -1
                } else if u >= 1.0 - noise {
                    1
                } else {
                    0
                };
                *label = (relevant as i64 + nu >= self.r as i64) as u8;
            }
            BitSplit { x, y }
        };
        let mut draw = || rng.random::<u64>();
        ROfKData {
            train: split(self.n_train, self.label_noise, &mut draw),
            val: split(self.n_val, 0.0, &mut draw),
            test: split(self.n_test, 0.0, &mut draw),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_rule_and_noise_rate() {
        let task = ROfK {
            n: 300,
            n_train: 20_000,
            ..ROfK::default()
        };
        let data = task.generate(&mut crate::rng::named(1, "test"));
        let clean = |s: &BitSplit, i: usize| {
            ((0..task.k).filter(|&c| s.x.get(i, c)).count() >= task.r) as u8
        };
        for i in 0..task.n_test {
            assert_eq!(data.test.y[i], clean(&data.test, i));
        }
        let flipped = (0..task.n_train)
            .filter(|&i| data.train.y[i] != clean(&data.train, i))
            .count();
        // Noise flips a label only when the relevant count sits at the threshold edge (r−1 or r):
        // roughly 2·P(count ∈ {49, 50})·0.05 ≈ 0.8 % of labels.
        let rate = flipped as f64 / task.n_train as f64;
        assert!(rate > 0.004 && rate < 0.012, "flip rate {rate}");
        let ones = (0..task.n).filter(|&c| data.train.x.get(0, c)).count();
        assert!(ones > 100 && ones < 200);
    }
}
