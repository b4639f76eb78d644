//! Weight-distribution statistics and the geometry test (Pogodin et al. 2024).
//!
//! The paired test ([`paired`]) asks which potential φ makes the dual change
//! `ψ(w_after) − ψ(w_before)` look like zero-mean Gaussian noise; the unpaired fit ([`unpaired`])
//! can only exclude geometries from final weights.

pub mod delta_cdf;
pub mod dual;
pub mod ks;
pub mod noise;
pub mod noise_aware;
pub mod normal;
pub mod order_stats;
pub mod paired;
pub mod per_tensor;
pub mod power;
pub mod spearman;
pub mod unpaired;
pub mod weight_stats;
