//! What a person looks at: plots (PNG + SVG) and the markdown report of a run.

pub mod activity;
pub mod fit;
pub mod geometry;
pub mod plot;
pub mod spectrum;
pub mod tasks;

pub use plot::{Figure, Panel, PanelKind, Series};
