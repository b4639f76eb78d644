//! Optimiser state, kept by parameter name (not by position), so that a checkpoint can store
//! every buffer under its parameter's name and check each one's shape on load.

/// The buffers of one parameter; each is empty until the rule that needs it first runs.
#[derive(Clone, Debug, Default)]
pub struct State<T> {
    pub momentum: Vec<T>,
    pub adam_m: Vec<T>,
    pub adam_v: Vec<T>,
    pub adam_vmax: Vec<T>,
}

/// The kinds of buffer, as named in checkpoints (`optimizer.{param}.{kind}`).
pub const KINDS: [&str; 4] = ["momentum", "adam_m", "adam_v", "adam_vmax"];

impl<T> State<T> {
    /// (kind, buffer) for every kind, in [`KINDS`] order.
    pub fn buffers(&self) -> [(&'static str, &Vec<T>); 4] {
        [
            (KINDS[0], &self.momentum),
            (KINDS[1], &self.adam_m),
            (KINDS[2], &self.adam_v),
            (KINDS[3], &self.adam_vmax),
        ]
    }
    /// The buffer of `kind`, if it is one of [`KINDS`].
    pub fn buffer_mut(&mut self, kind: &str) -> Option<&mut Vec<T>> {
        match kind {
            "momentum" => Some(&mut self.momentum),
            "adam_m" => Some(&mut self.adam_m),
            "adam_v" => Some(&mut self.adam_v),
            "adam_vmax" => Some(&mut self.adam_vmax),
            _ => None,
        }
    }
}
