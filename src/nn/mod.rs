//! Modules with explicit forward and backward passes, written side by side (see [`Module`]).
//!
//! Dale's-law flavours: per-synapse sign constancy is a property of the optimiser (EG, or GD with
//! sign freeze) on any [`Linear`]; [`ColEi`] fixes the presynaptic sign of every column;
//! [`Dann`] has separate excitatory and inhibitory populations.

pub mod activation;
pub mod bias;
pub mod colei;
pub mod dann;
pub mod ei_cells;
pub mod grads;
pub mod init;
pub mod linear;
pub mod mat;
pub mod module;
pub mod param;
pub mod recurrent;
pub mod rnn;
pub mod sequential;
pub mod spectrum;
pub mod synapses;

pub use activation::Activation;
pub use bias::{Bias, BiasKind};
pub use colei::ColEi;
pub use dann::Dann;
pub use grads::Grads;
pub use init::{Fan, Init};
pub use linear::Linear;
pub use mat::Mat;
pub use module::{Module, Saved};
pub use param::{Param, SignSpec};
pub use recurrent::RecurrentNet;
pub use rnn::{Record, Rnn};
pub use sequential::{Layer, Sequential, Tape};
pub use synapses::Synapses;
