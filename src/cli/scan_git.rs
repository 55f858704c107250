//! `portcullis scan git`.

use std::path::PathBuf;

use clap::Args;

/// `scan git` flags.
#[derive(Debug, Args)]
pub struct GitArgs {
    /// Repository to scan.
    #[arg(default_value = ".")]
    pub repo: PathBuf,
    /// Shared scan flags.
    #[command(flatten)]
    pub common: super::scan::ScanCommon,
}

/// Run `scan git`.
pub fn run(_args: GitArgs) -> i32 {
    super::fail("scan git: not built yet")
}
