//! `geoplast train`.
use std::path::Path;
pub fn run_cli(_c: &Path, _d: Option<&Path>, _o: Option<&Path>, _r: Option<&Path>) -> crate::error::Result<()> {
    Err(crate::error::Error::Config("not yet".into()))
}
