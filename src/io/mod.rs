//! Files a Python user can open: configs (TOML), checkpoints (safetensors), metrics (JSON lines).

pub mod checkpoint;
pub mod config;
pub mod run;

pub use run::RunDir;
