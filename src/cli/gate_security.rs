//! `portcullis gate security`.

use std::path::PathBuf;

use clap::Args;

/// `gate security` flags.
#[derive(Debug, Args)]
pub struct SecurityArgs {
    /// Repository.
    #[arg(default_value = ".")]
    pub repo: PathBuf,
}

/// Run the security gate.
pub fn run(_args: SecurityArgs) -> i32 {
    super::fail("gate security: not built yet")
}
