//! Modules with explicit forward and backward passes, written side by side.

pub mod param;

pub use param::{Param, SignSpec};
