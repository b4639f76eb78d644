//! What the integration tests share: running the binary.

use std::process::Command;

/// Runs `geoplast args…` and returns (success, stdout, stderr).
pub fn geoplast(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_geoplast"))
        .args(args)
        .output()
        .expect("binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}
