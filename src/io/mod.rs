//! Files a Python user can open: configs (TOML), checkpoints (safetensors), metrics (JSON lines).

pub mod checkpoint;
pub mod config;
pub mod durable;
pub mod lock;
pub mod npz;
pub mod pairs;
pub mod run;
pub mod tensorboard;
pub mod weights;

pub use run::{Mode, RunDir};
