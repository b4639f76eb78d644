//! One module per paper figure, each with its default protocol and reference numbers.

pub mod dann_fmnist;
pub mod linreg;
pub mod r_of_k;
pub mod robustness;
