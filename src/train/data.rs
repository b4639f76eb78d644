//! The training data of a run: dense IDX images or bit-packed r-of-k inputs, served in batches.

use super::config::DataConfig;
use super::sequences::SeqSplit;
use crate::error::{Error, Result};
use crate::kernels::Real;
use crate::nn::Mat;
use crate::tasks::Dataset;
use crate::tasks::idx::{self, FASHION_MNIST_DIR};
use crate::tasks::r_of_k::BitSplit;
use std::path::{Path, PathBuf};

/// One split.
pub enum Split {
    Dense(Dataset),
    Bits(BitSplit),
    /// Sequences, for recurrent networks.
    Seq(SeqSplit),
}

impl Split {
    pub fn len(&self) -> usize {
        match self {
            Split::Dense(d) => d.len(),
            Split::Bits(b) => b.y.len(),
            Split::Seq(s) => s.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Input features (per step, for sequences).
    pub fn dim(&self) -> usize {
        match self {
            Split::Dense(d) => d.dim,
            Split::Bits(b) => b.x.cols,
            Split::Seq(s) => s.inputs,
        }
    }
    /// Copies the rows `idx` into a batch matrix.
    pub fn batch<T: Real>(&self, idx: &[usize]) -> Mat<T> {
        let dim = self.dim();
        let mut x = Mat::zeros(idx.len(), dim);
        for (r, &i) in idx.iter().enumerate() {
            match self {
                Split::Dense(d) => {
                    for (o, &v) in x.row_mut(r).iter_mut().zip(d.row(i)) {
                        *o = T::c(v as f64);
                    }
                }
                Split::Bits(b) => b.x.row_dense(i, x.row_mut(r)),
                Split::Seq(_) => unreachable!("sequences are batched by SeqSplit::batch"),
            }
        }
        x
    }
    pub fn label(&self, i: usize) -> u32 {
        match self {
            Split::Dense(d) => d.y[i],
            Split::Bits(b) => b.y[i] as u32,
            Split::Seq(_) => unreachable!("sequences are batched by SeqSplit::batch"),
        }
    }
    /// The mean input value (column-EI's first-layer centring bias uses it).
    pub fn mean_input(&self) -> f64 {
        match self {
            Split::Dense(d) => d.x.iter().map(|&v| v as f64).sum::<f64>() / d.x.len().max(1) as f64,
            Split::Bits(_) => 0.5,
            Split::Seq(s) => s.moments().0,
        }
    }
    pub fn min_input(&self) -> f64 {
        match self {
            Split::Dense(d) => d.x.iter().fold(f64::INFINITY, |a, &v| a.min(v as f64)),
            Split::Bits(_) => 0.0,
            Split::Seq(s) => s.min_input(),
        }
    }
}

/// Training and test data with the number of outputs the model needs.
pub struct Data {
    pub train: Split,
    pub test: Split,
    /// Output units: classes for IDX data, 1 (a logit) for binary tasks.
    pub outputs: usize,
    pub binary: bool,
}

/// The folder an IDX config reads: the config's `dir`, else `--data-dir`, else Fashion-MNIST.
pub fn resolve_dir(dir: &Option<PathBuf>, cli: Option<&Path>) -> Result<PathBuf> {
    if let Some(d) = cli.map(Path::to_path_buf).or_else(|| dir.clone()) {
        return Ok(canonical(d));
    }
    let fm = PathBuf::from(FASHION_MNIST_DIR);
    if fm.is_dir() {
        Ok(fm)
    } else {
        Err(Error::data(
            fm,
            "no data folder given and Fashion-MNIST is not installed: pass --data-dir DIR \
             or run `apt-get install dataset-fashion-mnist`",
        ))
    }
}

/// The absolute path of `d` with links resolved, so that two spellings of one folder are one
/// folder (kept as written when it does not exist: loading it then names it in the error).
pub fn canonical(d: PathBuf) -> PathBuf {
    std::fs::canonicalize(&d).unwrap_or(d)
}

fn truncate(mut d: Dataset, limit: Option<usize>) -> Dataset {
    if let Some(n) = limit.filter(|&n| n < d.len()) {
        d.x.truncate(n * d.dim);
        d.y.truncate(n);
    }
    d
}

fn check_finite(d: &Dataset, dir: &Path, split: &str) -> Result<()> {
    match d.first_non_finite() {
        Some(i) => Err(Error::data(
            dir,
            format!("{split} sample {i} contains NaN or Inf"),
        )),
        None => Ok(()),
    }
}

/// The number of outputs: `classes` if given (every label must be below it), else the largest
/// label + 1, with every class below it present in one of the splits.
fn check_labels(
    train: &Dataset,
    test: &Dataset,
    classes: Option<usize>,
    dir: &Path,
) -> Result<usize> {
    let labels = || train.y.iter().chain(&test.y).map(|&l| l as usize);
    let largest = labels().max().unwrap_or(0);
    let at = |l: usize| {
        let i = labels().position(|x| x == l).unwrap_or(0);
        if i < train.len() {
            format!("train sample {i}")
        } else {
            format!("test sample {}", i - train.len())
        }
    };
    if let Some(k) = classes {
        if largest >= k {
            return Err(Error::data(
                dir,
                format!(
                    "label {largest} ({}) is not below data.classes = {k}: raise data.classes or fix the labels",
                    at(largest)
                ),
            ));
        }
        return Ok(k);
    }
    let mut seen = vec![false; largest + 1];
    labels().for_each(|l| seen[l] = true);
    let missing: Vec<usize> = (0..=largest).filter(|&c| !seen[c]).collect();
    if let (Some(first), Some(last)) = (missing.first(), missing.last()) {
        return Err(Error::data(
            dir,
            format!(
                "the labels run up to {largest} ({}), but {} of the classes below it ({first}..={last}) \
                 have no sample in either split: fix the label files, or set data.classes = {} \
                 if the empty classes are intended",
                at(largest),
                missing.len(),
                largest + 1
            ),
        ));
    }
    Ok(largest + 1)
}

/// Loads the data of `cfg` (`seed` draws r-of-k data).
pub fn load(cfg: &DataConfig, seed: u64) -> Result<Data> {
    match cfg {
        DataConfig::Idx {
            dir,
            train_limit,
            test_limit,
            validation,
            classes,
        } => {
            let dir = dir.clone().expect("resolved before loading");
            let mut train = truncate(idx::load_split(&dir, "train")?, *train_limit);
            let test = match *validation {
                Some(n) if n >= train.len() => {
                    return Err(Error::data(
                        &dir,
                        format!(
                            "data.validation = {n} leaves no training samples (the training set has {})",
                            train.len()
                        ),
                    ));
                }
                Some(n) => {
                    let keep = train.len() - n;
                    Dataset {
                        x: train.x.split_off(keep * train.dim),
                        y: train.y.split_off(keep),
                        dim: train.dim,
                        classes: train.classes,
                    }
                }
                None => truncate(idx::load_split(&dir, "t10k")?, *test_limit),
            };
            check_finite(&train, &dir, "train")?;
            check_finite(&test, &dir, "test")?;
            if train.dim != test.dim {
                return Err(Error::data(
                    &dir,
                    format!(
                        "train images have {} pixels, test images {}",
                        train.dim, test.dim
                    ),
                ));
            }
            let outputs = check_labels(&train, &test, *classes, &dir)?;
            Ok(Data {
                train: Split::Dense(train),
                test: Split::Dense(test),
                outputs,
                binary: false,
            })
        }
        DataConfig::Digits { test_fraction } => {
            use rand::seq::SliceRandom;
            let all = super::sequences::digits();
            let mut order: Vec<usize> = (0..all.len()).collect();
            order.shuffle(&mut crate::rng::named(seed, "data/digits/split"));
            let n_test = ((all.len() as f64) * test_fraction).ceil() as usize;
            let pick = |idx: &[usize]| Dataset {
                x: idx.iter().flat_map(|&i| all.row(i).to_vec()).collect(),
                y: idx.iter().map(|&i| all.y[i]).collect(),
                dim: all.dim,
                classes: all.classes,
            };
            Ok(Data {
                train: Split::Dense(pick(&order[n_test..])),
                test: Split::Dense(pick(&order[..n_test])),
                outputs: 10,
                binary: false,
            })
        }
        DataConfig::Adding { steps, train, test } => {
            let generate = |n: usize, split: &str| {
                let mut rng = crate::rng::named(seed, &format!("data/adding/{split}"));
                Split::Seq(super::sequences::adding(n, *steps, &mut rng))
            };
            Ok(Data {
                train: generate(*train, "train"),
                test: generate(*test, "test"),
                outputs: 1,
                binary: false,
            })
        }
        DataConfig::Npz {
            path,
            test,
            validation,
            classes,
        } => {
            let mut train = super::sequences::read_npz(path)?;
            let test = match (test, validation) {
                (Some(t), _) => {
                    let t_split = super::sequences::read_npz(t)?;
                    if (t_split.steps, t_split.inputs) != (train.steps, train.inputs)
                        || t_split.classifies() != train.classifies()
                    {
                        return Err(Error::data(
                            t,
                            format!(
                                "the test archive has {} steps of {} inputs ({}), the training \
                                 one {} of {} ({}): they must agree",
                                t_split.steps,
                                t_split.inputs,
                                if t_split.classifies() {
                                    "classes"
                                } else {
                                    "values"
                                },
                                train.steps,
                                train.inputs,
                                if train.classifies() {
                                    "classes"
                                } else {
                                    "values"
                                },
                            ),
                        ));
                    }
                    t_split
                }
                (None, Some(f)) => {
                    let n = train.len();
                    let held = ((n as f64) * f).ceil() as usize;
                    if held >= n {
                        return Err(Error::data(
                            path,
                            format!("data.validation = {f} leaves no training sequences (of {n})"),
                        ));
                    }
                    train.split_off(n - held)
                }
                (None, None) => unreachable!("validated: a held-out split is required"),
            };
            let found = train.outputs().max(test.outputs());
            let outputs = match classes {
                Some(k) if train.classifies() && found > *k => {
                    return Err(Error::data(
                        path,
                        format!(
                            "a label is {} but data.classes = {k}: raise data.classes or fix the labels",
                            found - 1
                        ),
                    ));
                }
                Some(k) => *k,
                None => found,
            };
            if train.classifies() && outputs < 2 {
                return Err(Error::data(
                    path,
                    "the labels hold a single class: a classifier needs at least 2",
                ));
            }
            Ok(Data {
                train: Split::Seq(train),
                test: Split::Seq(test),
                outputs,
                binary: false,
            })
        }
        DataConfig::Teacher { .. } | DataConfig::Tasks { .. } => {
            unreachable!("a stream is not loaded as a data set")
        }
        DataConfig::ROfK { task } => {
            let d = task.generate(&mut crate::rng::named(seed, "train/r-of-k/data"));
            Ok(Data {
                train: Split::Bits(d.train),
                test: Split::Bits(d.test),
                outputs: 1,
                binary: true,
            })
        }
    }
}

/// Image data read row by row by a recurrent network (step t is row t), standardised by the
/// training set's mean and sd when `standardise` (the dense cell; Fashion-MNIST gives 0.2860 and
/// 0.3530); sequences pass through.
pub fn as_sequences(data: Data, standardise: bool) -> Result<Data> {
    let seq = |s: Split| -> Result<SeqSplit> {
        match s {
            Split::Dense(d) => SeqSplit::from_images(d).map_err(Error::Config),
            Split::Seq(s) => Ok(s),
            Split::Bits(_) => Err(Error::Config(
                "an rnn model reads sequences, not the r-of-k bits".into(),
            )),
        }
    };
    let images = matches!(data.train, Split::Dense(_));
    let (mut train, mut test) = (seq(data.train)?, seq(data.test)?);
    if standardise && images {
        let (mean, sd) = train.moments();
        train.standardise(mean, sd);
        test.standardise(mean, sd);
    }
    Ok(Data {
        train: Split::Seq(train),
        test: Split::Seq(test),
        ..data
    })
}
