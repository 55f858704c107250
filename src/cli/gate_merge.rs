//! `portcullis gate merge`.

use std::path::PathBuf;

use clap::Args;

/// `gate merge` flags.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Repository.
    #[arg(long)]
    pub repo: PathBuf,
}

/// Run the merge gate.
pub fn run(_args: MergeArgs) -> i32 {
    super::fail("gate merge: not built yet")
}
