//! `portcullis lease acquire|renew|release|status`.

use clap::Subcommand;

/// Lease commands.
#[derive(Debug, Subcommand)]
pub enum LeaseCommand {
    /// Show the lease of a repository.
    Status,
}

/// Run a lease command.
pub fn run(_cmd: LeaseCommand) -> i32 {
    super::fail("lease: not built yet")
}
