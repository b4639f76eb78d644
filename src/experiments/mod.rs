//! One module per paper figure, each with its default protocol and reference numbers.

pub mod dann_fmnist;
pub mod linreg;
pub mod r_of_k;
pub mod robustness;

/// A tolerance or claim check of a reproduction and whether it passed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Check {
    pub what: String,
    pub measured: f64,
    pub pass: bool,
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verdict = if self.pass { "PASS" } else { "FAIL" };
        write!(f, "{verdict} {}: {:.2}", self.what, self.measured)
    }
}
