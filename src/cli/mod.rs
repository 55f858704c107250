//! The command-line front end: clap commands only. Each subcommand parses its flags, calls the
//! library, and maps results to exit codes (0 clean / PASS, 1 findings / FAIL, 2 errors).

use clap::{Parser, Subcommand};

pub mod audit;
pub mod gate_all;
pub mod gate_merge;
pub mod gate_security;
pub mod lease;
pub mod output;
pub mod rules;
pub mod scan;
pub mod scan_git;
pub mod verdict;

/// Exit status for usage, configuration and I/O errors.
pub const EXIT_ERROR: i32 = 2;

/// portcullis: secret scanner, dependency audit and fail-closed pre-merge gate.
#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan a directory, standard input or git history for secrets.
    #[command(subcommand)]
    Scan(scan::ScanCommand),
    /// List the rules of a configuration, or validate one and run its examples.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Audit lockfiles against RustSec and OSV advisories (offline first).
    Audit(audit::AuditArgs),
    /// Advisory database: show the embedded snapshot, update the cache.
    #[command(subcommand)]
    Db(audit::DbCommand),
    /// Run a gate and write its verdict report.
    #[command(subcommand)]
    Gate(GateCommand),
    /// Acquire, renew, release or inspect a repository's merge lease.
    #[command(subcommand)]
    Lease(lease::LeaseCommand),
    /// Print the verdict read from a portcullis report; exit 0 only for PASS.
    Verdict(verdict::VerdictArgs),
}

/// The gates.
#[allow(clippy::large_enum_variant)] // parsed once per process
#[derive(Debug, Subcommand)]
pub enum GateCommand {
    /// Security gate: secrets and vulnerable dependencies added by a branch.
    Security(gate_security::SecurityArgs),
    /// Merge gate: catch the branch up to main, re-test, serialise merges under a lease.
    Merge(gate_merge::MergeArgs),
    /// The whole edge: security gate, merge gate and, with --land, the fast-forward of main.
    All(gate_all::AllArgs),
}

/// Parse the command line, run the command, and return the process exit status.
pub fn main() -> i32 {
    main_with(std::env::args_os())
}

/// [`main`] with an explicit argument list (the first item is the program name); used by
/// embedders such as the Python package's `portcullis` console script.
pub fn main_with<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Scan(c) => scan::run(c),
        Command::Rules(c) => rules::run(c),
        Command::Audit(a) => audit::run(a),
        Command::Db(c) => audit::run_db(c),
        Command::Gate(GateCommand::Security(a)) => gate_security::run(a),
        Command::Gate(GateCommand::Merge(a)) => gate_merge::run(a),
        Command::Gate(GateCommand::All(a)) => gate_all::run(a),
        Command::Lease(c) => lease::run(c),
        Command::Verdict(a) => verdict::run(a),
    }
}

/// Print a one-line error to stderr and return [`EXIT_ERROR`].
pub fn fail(msg: impl std::fmt::Display) -> i32 {
    eprintln!("portcullis: error: {msg}");
    EXIT_ERROR
}
