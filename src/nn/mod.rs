//! Modules with explicit forward and backward passes, written side by side.

pub mod loss;
pub mod mat;
pub mod param;

pub use mat::Mat;
pub use param::{Param, SignSpec};
