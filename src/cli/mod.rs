//! The command-line front end: clap commands only. Each subcommand parses its flags, calls the
//! library, and maps results to exit codes (0 clean / PASS, 1 findings / FAIL, 2 errors).

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

pub mod audit;
pub mod completions;
pub mod gate_all;
pub mod gate_merge;
pub mod gate_security;
mod git_tuning;
pub mod hook;
pub mod lease;
pub mod output;
pub mod rules;
pub mod scan;
pub mod scan_common;
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
    /// Git hook entry points (pre-push range scan, audit of changed lockfiles).
    #[command(subcommand)]
    Hook(hook::HookCommand),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    Completions(completions::CompletionsArgs),
    /// Print the man page, or write every command's page into a directory.
    Man(completions::ManArgs),
    /// gitleaks' `git` command: `portcullis git --pre-commit --staged --redact -v` scans the
    /// staged changes, as gitleaks' pre-commit hook does. Same as `scan git`.
    Git(hook::GitleaksGitArgs),
    /// gitleaks' `protect` command: `--staged` scans the staged changes, otherwise the
    /// uncommitted ones.
    Protect(hook::ProtectArgs),
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

/// `--version` text: the crate version and the dates of the embedded advisory snapshot.
pub fn long_version() -> String {
    use crate::audit::advisory::snapshot;
    let mut text = env!("CARGO_PKG_VERSION").to_string();
    match snapshot::Snapshot::parse(snapshot::EMBEDDED) {
        Ok(snap) => {
            text.push_str("\nembedded advisory snapshot:");
            for s in snap.sources() {
                let commit: String = s.commit.chars().take(12).collect();
                text.push_str(&format!("\n  {} {} (commit {commit})", s.name, s.date));
            }
        }
        Err(e) => text.push_str(&format!("\nembedded advisory snapshot: unreadable ({e})")),
    }
    text
}

/// The clap command with `--version`'s long text (computed only when asked for, so that other
/// commands do not pay for reading the snapshot header).
fn command(wants_version: bool) -> clap::Command {
    let cmd = Cli::command();
    if !wants_version {
        return cmd;
    }
    static LONG_VERSION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    cmd.long_version(LONG_VERSION.get_or_init(long_version).as_str())
}

/// Parse the command line `args` (the first item is the program name), run the command, and
/// return the process exit status.
pub fn main_with<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let wants_version = args.iter().any(|a| a == "--version");
    let parsed = command(wants_version)
        .try_get_matches_from(args)
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
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
        Command::Hook(c) => hook::run(c),
        Command::Completions(a) => completions::run_completions(&a),
        Command::Man(a) => completions::run_man(&a),
        Command::Git(a) => hook::run_gitleaks_git(a),
        Command::Protect(a) => hook::run_protect(a),
    }
}

/// Print a one-line error to stderr and return [`EXIT_ERROR`].
pub fn fail(msg: impl std::fmt::Display) -> i32 {
    eprintln!("portcullis: error: {msg}");
    EXIT_ERROR
}
