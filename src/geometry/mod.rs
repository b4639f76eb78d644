//! The geometry of plasticity: potentials φ(w) = Σᵢ f(wᵢ) and their mirror maps ψ = f'.
//!
//! Each potential lives in its own file with all of its maths, in both forms the project runs:
//! the f64 functions (value, ψ, ψ⁻¹, f'', Bregman divergence), the f64 scoring form
//! [`MirrorMap::mirror_cached`] that the geometry test evaluates from a shared ln|w| cache (one
//! logarithm pass serves every candidate), and the in-place optimiser step [`MirrorMap::step`] in
//! training precision (a closed form with the vectorised `exp` where one exists). No other module
//! writes a mirror map: `optim` and `analysis` reach these through [`with_potential!`](crate::with_potential), the one
//! dispatch, which monomorphises the caller's loop per potential.
//!
//! `PNorm { p: 2 }` and `Euclidean` are one geometry: [`Potential::canonical`] maps the first to
//! the second, configs and candidate lists accept both (`euclid`, `p2`), equality compares the
//! canonical forms, and the geometry is shown as `p2 (Euclidean)`.

mod euclidean;
mod hypentropy;
mod negentropy;
mod pnorm;

pub use euclidean::Euclidean;
pub use hypentropy::Hypentropy;
pub use negentropy::NegEntropy;
pub use pnorm::PNorm;

use crate::kernels::Real;
use serde::{Deserialize, Serialize};

/// The per-coordinate functions of a separable potential.
pub trait MirrorMap: Copy + Send + Sync {
    /// Whether Δ = ψ(w1) − ψ(w0) is defined only for nonzero pairs of one sign (negative
    /// entropy: ψ lives on each orthant separately).
    #[inline(always)]
    fn same_sign_only(&self) -> bool {
        false
    }
    /// f(w).
    fn value(&self, w: f64) -> f64;
    /// ψ(w) = f'(w), the mirror map.
    fn mirror(&self, w: f64) -> f64;
    /// ψ⁻¹(u). `sign` is the sign of the weight before the step; only negative entropy needs it,
    /// because its mirror map is defined separately on each orthant.
    fn inverse(&self, u: f64, sign: f64) -> f64;
    /// f''(w), the Hessian diagonal; `1/f''(w)` is the synapse's effective learning rate.
    fn hessian(&self, w: f64) -> f64;
    /// D(w, w′) = f(w) − f(w′) − ψ(w′)(w − w′).
    fn bregman(&self, w: f64, w_prime: f64) -> f64 {
        self.value(w) - self.value(w_prime) - self.mirror(w_prime) * (w - w_prime)
    }
    /// ψ(w) from `w` and `ln_abs = ln|w|`, written for vectorised scoring loops (the geometry
    /// test computes ln|w| once and reuses it for every candidate).
    fn mirror_cached(&self, w: f64, ln_abs: f64) -> f64;
    /// The mirror-descent step `w ← ψ⁻¹(ψ(w) − η·d)` for a weight `w` of sign `s`, in training
    /// precision, inside the fused optimiser loops. The default goes through the f64 maps.
    #[inline(always)]
    fn step<T: Real>(&self, w: T, s: T, d: T, lr: T) -> T {
        T::c(self.inverse(self.mirror(w.f64()) - (lr * d).f64(), s.f64()))
    }
}

/// A potential, as a closed set so the optimiser can specialise its fused loops.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Potential {
    /// φ = ½‖w‖²: gradient descent (the p-norm with p = 2).
    #[serde(alias = "euclid")]
    Euclidean,
    /// φ = Σ|w|ᵖ/p, p > 1.
    #[serde(rename = "pnorm")]
    PNorm { p: f64 },
    /// φ = Σ|w|ln|w|: exponentiated gradient (sign-preserving).
    #[serde(rename = "negentropy", alias = "neg_entropy")]
    NegEntropy,
    /// φ = Σ w·asinh(w/β) − √(w²+β²) (Ghai et al. 2020).
    Hypentropy { beta: f64 },
}

/// Calls `$body` with `$m` bound to the concrete [`MirrorMap`] of the potential `$pot`, so that
/// the code in `$body` is compiled once per potential with no branch inside its loops. The only
/// dispatch from a [`Potential`] to its maths.
#[macro_export]
macro_rules! with_potential {
    ($pot:expr, |$m:ident| $body:expr) => {{
        use $crate::geometry::{Euclidean, Hypentropy, NegEntropy, PNorm, Potential};
        match $pot.canonical() {
            Potential::Euclidean => {
                let $m = Euclidean;
                $body
            }
            Potential::PNorm { p } => {
                let $m = PNorm { p };
                $body
            }
            Potential::NegEntropy => {
                let $m = NegEntropy;
                $body
            }
            Potential::Hypentropy { beta } => {
                let $m = Hypentropy { beta };
                $body
            }
        }
    }};
}

impl PartialEq for Potential {
    /// Equality of geometries: `PNorm { p: 2 }` equals `Euclidean`.
    fn eq(&self, other: &Self) -> bool {
        match (self.canonical(), other.canonical()) {
            (Potential::PNorm { p: a }, Potential::PNorm { p: b }) => a == b,
            (Potential::Hypentropy { beta: a }, Potential::Hypentropy { beta: b }) => a == b,
            (a, b) => std::mem::discriminant(&a) == std::mem::discriminant(&b),
        }
    }
}

impl Potential {
    /// The p-norm potential, `Euclidean` for p = 2.
    pub fn pnorm(p: f64) -> Self {
        Potential::PNorm { p }.canonical()
    }

    /// The one representation of each geometry: `PNorm { p: 2 }` becomes `Euclidean`.
    #[inline(always)]
    pub fn canonical(self) -> Self {
        match self {
            Potential::PNorm { p: 2.0 } => Potential::Euclidean,
            pot => pot,
        }
    }

    /// Checks parameters; the error names the field and the fix.
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            Potential::PNorm { p } if !(p > 1.0 && p.is_finite()) => Err(format!(
                "p-norm potential needs p > 1 (got p = {p}); p = 2 is gradient descent, \
                 use negentropy for the p → 1 limit"
            )),
            Potential::Hypentropy { beta } if !(beta > 0.0 && beta.is_finite()) => {
                Err(format!("hypentropy needs beta > 0 (got beta = {beta})"))
            }
            _ => Ok(()),
        }
    }

    /// A short name used as an identifier: in tables, JSON, file names and generator streams
    /// (`NE`, `p2.5`, `p2`, `hyp(0.01)`). [`std::fmt::Display`] is the longer `p2 (Euclidean)`.
    pub fn label(&self) -> String {
        match self.canonical() {
            Potential::Euclidean => "p2".into(),
            Potential::PNorm { p } => format!("p{}", (p * 100.0).round() / 100.0),
            Potential::NegEntropy => "NE".into(),
            Potential::Hypentropy { beta } => format!("hyp({})", short(beta)),
        }
    }

    /// Whether a mirror step can never change a weight's sign.
    pub fn preserves_sign(&self) -> bool {
        matches!(self, Potential::NegEntropy)
    }
}

impl std::fmt::Display for Potential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.canonical() {
            Potential::Euclidean => f.write_str("p2 (Euclidean)"),
            pot => f.write_str(&pot.label()),
        }
    }
}

/// The sign with sign(0) = 0.
#[inline(always)]
fn sign(w: f64) -> f64 {
    if w > 0.0 {
        1.0
    } else if w < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// A number in at most 4 significant digits, without float noise (`11.2`, not `11.200000000000001`).
fn short(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return x.to_string();
    }
    let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The f64 functions of whichever potential this is (one dispatch per call: for scalar use; loops
/// dispatch once outside with [`with_potential!`](crate::with_potential)).
impl MirrorMap for Potential {
    fn value(&self, w: f64) -> f64 {
        with_potential!(self, |m| m.value(w))
    }
    fn mirror(&self, w: f64) -> f64 {
        with_potential!(self, |m| m.mirror(w))
    }
    fn inverse(&self, u: f64, sign: f64) -> f64 {
        with_potential!(self, |m| m.inverse(u, sign))
    }
    fn hessian(&self, w: f64) -> f64 {
        with_potential!(self, |m| m.hessian(w))
    }
    fn bregman(&self, w: f64, w_prime: f64) -> f64 {
        with_potential!(self, |m| m.bregman(w, w_prime))
    }
    fn mirror_cached(&self, w: f64, ln_abs: f64) -> f64 {
        with_potential!(self, |m| m.mirror_cached(w, ln_abs))
    }
    fn same_sign_only(&self) -> bool {
        with_potential!(self, |m| m.same_sign_only())
    }
    fn step<T: Real>(&self, w: T, s: T, d: T, lr: T) -> T {
        with_potential!(self, |m| m.step(w, s, d, lr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Potential; 6] = [
        Potential::Euclidean,
        Potential::PNorm { p: 1.3 },
        Potential::PNorm { p: 3.0 },
        Potential::NegEntropy,
        Potential::Hypentropy { beta: 0.05 },
        Potential::Hypentropy { beta: 2.0 },
    ];

    fn weights() -> impl Iterator<Item = f64> {
        (1..400).map(|i| {
            let x = (i as f64 * 0.737).sin();
            x.signum() * 10f64.powf(4.0 * x.abs() - 3.0)
        })
    }

    /// The two forms of each potential agree: the scoring form equals ψ (to a few ulp), and the
    /// f32 step equals the f64 mirror step `ψ⁻¹(ψ(w) − η·d)` to f32 precision.
    #[test]
    fn fast_forms_agree_with_the_f64_maps() {
        for pot in ALL {
            for w in weights() {
                let (want, got) = (pot.mirror(w), pot.mirror_cached(w, w.abs().ln()));
                assert!(
                    (want - got).abs() <= 1e-13 * want.abs().max(1e-300),
                    "{pot}: ψ({w}) = {want}, cached {got}"
                );
                for (d, lr) in [(0.3, 0.1), (-1.7, 0.02), (4.0, 0.5)] {
                    let want = pot.inverse(pot.mirror(w) - lr * d, w.signum());
                    let w32 = w as f32;
                    let got = pot.step(w32, w32.sign(), d as f32, lr as f32) as f64;
                    let tol = 2e-6 * want.abs().max(w.abs()) + 1e-30;
                    assert!(
                        (want - got).abs() <= tol,
                        "{pot}: step from {w} with d {d}, lr {lr}: {want} vs {got}"
                    );
                }
            }
        }
    }

    #[test]
    fn p2_and_euclidean_are_one_geometry() {
        let p2 = Potential::PNorm { p: 2.0 };
        assert_eq!(p2, Potential::Euclidean);
        assert_eq!(Potential::pnorm(2.0).label(), "p2");
        assert_eq!(Potential::Euclidean.to_string(), "p2 (Euclidean)");
        assert_ne!(Potential::pnorm(2.5), Potential::Euclidean);
        let from = |s: &str| toml::from_str::<std::collections::BTreeMap<String, Potential>>(s);
        for text in [
            "x = { kind = \"euclid\" }",
            "x = { kind = \"euclidean\" }",
            "x = { kind = \"pnorm\", p = 2.0 }",
        ] {
            assert_eq!(from(text).unwrap()["x"], Potential::Euclidean, "{text}");
        }
    }
}
