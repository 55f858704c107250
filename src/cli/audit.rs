//! `portcullis audit` and `portcullis db`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

/// `audit` flags.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// A lockfile, or a directory searched recursively.
    #[arg(default_value = ".")]
    pub path: PathBuf,
}

/// `db` commands.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Show the advisory sources in use.
    Info,
}

/// Run `audit`.
pub fn run(_args: AuditArgs) -> i32 {
    super::fail("audit: not built yet")
}

/// Run a `db` command.
pub fn run_db(_cmd: DbCommand) -> i32 {
    super::fail("db: not built yet")
}
