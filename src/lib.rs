//! # geoplast — the geometry of plasticity
//!
//! Train dense, E/I and recurrent networks with any mirror-descent geometry and any Dale's-law
//! flavour, reproduce the figures of the exponentiated-gradient and geometry-of-plasticity
//! papers, and test which geometry is consistent with weights measured before and after learning.
//!
//! Data flow one way: `tasks → nn → optim(geometry) → io/report`, and
//! `io → analysis(geometry) → report`.
//!
//! * [`geometry`] — potentials φ and their mirror maps (shared by training and analysis).
//! * [`optim`] — the optimiser: direction transforms → clipping → geometry step → constraints.
//! * [`nn`] — modules with explicit forward/backward, Dale's-law layers, losses, initialisers.
//! * [`kernels`] — all heavy arithmetic (GEMM, vectorised exp, fused updates, bit kernels).
//! * [`tasks`] — data sources (r-of-k, IDX files, Toeplitz linear regression).
//! * [`analysis`] — the geometry test (paired ΔCDF with null and bootstrap; unpaired fits).
//! * [`experiments`] — one module per paper figure, with reference numbers.
//! * [`io`] — configs, checkpoints (safetensors), metrics, weight tables (CSV, npy/npz).
//! * [`report`] — plots (PNG + SVG) and run reports.
//! * [`train`] — `geoplast train`: configs, models, checkpoints and resume.

pub mod analysis;
pub mod error;
pub mod experiments;
pub mod geometry;
pub mod io;
pub mod kernels;
pub mod nn;
pub mod optim;
pub mod report;
pub mod rng;
pub mod sweep;
pub mod tasks;
pub mod train;
