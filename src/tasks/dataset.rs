//! An in-memory supervised dataset with dense f32 inputs, the form `geoplast train` consumes.

/// `n` samples of `dim` features (row-major) with class labels.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub x: Vec<f32>,
    pub y: Vec<u32>,
    pub dim: usize,
    pub classes: usize,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.y.len()
    }
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }
    pub fn row(&self, i: usize) -> &[f32] {
        &self.x[i * self.dim..(i + 1) * self.dim]
    }
    /// The index of the first sample with a non-finite feature, if any.
    pub fn first_non_finite(&self) -> Option<usize> {
        self.x
            .iter()
            .position(|v| !v.is_finite())
            .map(|p| p / self.dim)
    }
}
