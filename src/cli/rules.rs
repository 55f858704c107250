//! `portcullis rules list|check`.

use clap::Subcommand;

/// Rule commands.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Print the rules of the effective configuration.
    List,
}

/// Run a rules command.
pub fn run(_cmd: RulesCommand) -> i32 {
    super::fail("rules: not built yet")
}
