//! Data sources. Each generator is seeded explicitly and reads like the methods section of its
//! paper.

pub mod cognitive;
pub mod dataset;
pub mod idx;
pub mod linreg;
pub mod r_of_k;
pub mod teacher;

pub use dataset::Dataset;
