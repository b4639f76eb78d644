//! Typed errors of the library; the CLI adds context and exits non-zero, never panicking on bad
//! user input.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value is invalid; the message names the field and the fix.
    #[error("{0}")]
    Config(String),
    /// A data file is missing, truncated or malformed.
    #[error("{}: {msg}", path.display())]
    Data { path: PathBuf, msg: String },
    /// The loss became NaN or infinite.
    #[error(
        "training diverged: the loss is {value} at step {step} (epoch {epoch}); \
         lower the learning rate or add clipping. The last good checkpoint is kept in {}",
        dir.display()
    )]
    Diverged {
        step: usize,
        epoch: usize,
        value: f64,
        dir: PathBuf,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    pub fn data(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        Error::Data {
            path: path.into(),
            msg: msg.into(),
        }
    }
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
