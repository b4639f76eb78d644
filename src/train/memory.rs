//! What a run will need in memory, estimated with checked arithmetic before anything is
//! allocated, so that a width or size typed with too many digits is refused with the number
//! instead of aborting in the allocator.

use super::config::{DataConfig, ModelConfig, ModelKind};
use crate::error::{Error, Result};

/// Bytes per parameter: the f32 value, its gradient, up to four optimiser-state tensors
/// (momentum, Adam's m, v and v_max), the initial copy and the checkpoint being written.
const BYTES_PER_PARAM: u64 = 4 * 8;

/// An upper bound on the number of parameters of a model with `inputs` features and `outputs`
/// units (biases counted twice for split biases), or `None` if it overflows.
pub fn parameter_count(cfg: &ModelConfig, inputs: usize, outputs: usize) -> Option<u64> {
    let mut dims = vec![inputs as u64];
    dims.extend(cfg.hidden.iter().map(|&h| h as u64));
    dims.push(outputs as u64);
    // A DANN layer of d inputs and n_E outputs adds W_IE (n_I × d) and W_EI (n_E × n_I) to
    // W_EE (n_E × d), with n_I ≤ n_E; every other layer kind is one matrix plus a (split) bias.
    let rnn_dann = cfg
        .rnn
        .as_ref()
        .is_some_and(|r| r.cell == super::config::Cell::Dann);
    let dann = cfg.kind == ModelKind::Dann || rnn_dann;
    // An RNN adds its H × H recurrent matrix (three for a recurrent DANN).
    let recurrent = match (cfg.kind, cfg.hidden.first()) {
        (ModelKind::Rnn, Some(&h)) => (h as u64)
            .checked_mul(h as u64)?
            .checked_mul(if rnn_dann { 3 } else { 1 })?,
        _ => 0,
    };
    dims.windows(2).try_fold(recurrent, |acc, w| {
        let dense = w[0].checked_mul(w[1])?;
        let weights = if dann {
            dense.checked_mul(2)?.checked_add(w[1].checked_mul(w[1])?)?
        } else {
            dense
        };
        acc.checked_add(weights)?.checked_add(w[1].checked_mul(2)?)
    })
}

/// Bytes of generated data (the r-of-k task's bit-packed inputs and one label byte per sample),
/// or `None` on overflow. IDX data is checked against its file sizes when it is read.
pub fn data_bytes(data: &DataConfig) -> Option<u64> {
    match data {
        DataConfig::ROfK { task } => {
            let rows = (task.n_train as u64)
                .checked_add(task.n_val as u64)?
                .checked_add(task.n_test as u64)?;
            let words = (task.n as u64).div_ceil(64);
            rows.checked_mul(words.checked_mul(8)?.checked_add(1)?)
        }
        // Read from files whose headers are checked as they are read.
        DataConfig::Idx { .. } | DataConfig::Digits { .. } | DataConfig::Npz { .. } => Some(0),
        // Sequences of `steps` × 2 f32 inputs and one target.
        DataConfig::Adding { steps, train, test } => (*train as u64)
            .checked_add(*test as u64)?
            .checked_mul((*steps as u64).checked_mul(2)?.checked_add(1)?)?
            .checked_mul(4),
        // The held-out windows: held_out × steps × (up to 128 rules + 33 channels + targets).
        DataConfig::Tasks {
            steps, held_out, ..
        } => (*held_out as u64)
            .checked_mul(*steps as u64)?
            .checked_mul(170 * 4),
        // The held-out test set: n_test × (inputs + outputs) f32.
        DataConfig::Teacher { task } => (task.n_test as u64)
            .checked_mul((task.inputs as u64).checked_add(task.outputs as u64)?)?
            .checked_mul(4),
    }
}

/// The machine's physical memory in bytes, where the system says (Linux: /proc/meminfo).
fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kb.checked_mul(1024)
}

/// `Ok` when `need` bytes (`None`: more than 2^64) fit in physical memory; else the sentence.
fn fits(need: Option<u64>, what: &str, fix: &str) -> Result<()> {
    let limit = physical_memory().unwrap_or(u64::MAX);
    match need {
        Some(b) if b <= limit => Ok(()),
        _ => Err(Error::Config(format!(
            "{what} need about {} of memory, more than this machine's {}: {fix}",
            need.map_or("more than 2^64 bytes".into(), gib),
            gib(limit)
        ))),
    }
}

/// Refuses generated data (r-of-k) that cannot fit in memory, before it is drawn.
pub fn check_data(data: &DataConfig) -> Result<()> {
    fits(
        data_bytes(data),
        "the generated data",
        "reduce task.n or the sample counts task.n_train, task.n_val and task.n_test",
    )
}

/// Refuses a model that cannot fit in memory, before it is built.
pub fn check_model(cfg: &ModelConfig, inputs: usize, outputs: usize) -> Result<()> {
    let params = parameter_count(cfg, inputs, outputs);
    fits(
        params.and_then(|p| p.checked_mul(BYTES_PER_PARAM)),
        &format!(
            "the model's {} parameters (at {BYTES_PER_PARAM} bytes each for values, gradients and \
             optimiser state)",
            params.map_or("more than 2^64".into(), |p| p.to_string())
        ),
        "reduce model.hidden (or the number of inputs)",
    )
}

/// Refuses a recurrent run whose record of states cannot fit: the states, rates, BPTT's
/// pre-activation gradients and ∂L/∂r of every step, four `T·rows·H` f32 arrays, for the
/// larger of a training batch and an evaluation batch of `rows` sequences.
pub fn check_record(steps: usize, rows: usize, hidden: usize) -> Result<()> {
    let need = (steps as u64)
        .checked_mul(rows as u64)
        .and_then(|n| n.checked_mul(hidden as u64))
        .and_then(|n| n.checked_mul(16));
    fits(
        need,
        &format!("the recurrent states of {steps} steps × {rows} sequences × {hidden} units"),
        "reduce batch_size, model.hidden or the sequence length (or set model.rnn.window)",
    )
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_overflow() {
        let cfg = ModelConfig {
            hidden: vec![6],
            ..Default::default()
        };
        // 16·6 + 2·6 + 6·3 + 2·3.
        assert_eq!(parameter_count(&cfg, 16, 3), Some(96 + 12 + 18 + 6));
        let huge = ModelConfig {
            hidden: vec![usize::MAX],
            ..Default::default()
        };
        assert_eq!(parameter_count(&huge, 784, 10), None);
        let err = check_model(&huge, 784, 10).unwrap_err().to_string();
        assert!(err.contains("more than 2^64"), "{err}");
        let mut task = crate::tasks::r_of_k::ROfK::default();
        assert!(check_data(&DataConfig::ROfK { task }).is_ok());
        task.n = usize::MAX;
        assert!(check_data(&DataConfig::ROfK { task }).is_err());
    }
}
