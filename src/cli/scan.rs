//! `portcullis scan dir|stdin|git`: flags in, [`crate::scan::run`] called, report out.
//!
//! Configuration, `.gitleaksignore`, baselines, reports, the summary and exit codes are
//! handled identically for every target ([`super::scan_common`]).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::scan_common::{ScanCommon, emit, request, run_request};
use crate::scan::{DirTarget, Target};

/// Scan targets.
#[derive(Debug, Subcommand)]
pub enum ScanCommand {
    /// Scan files under a directory (or one file).
    Dir(DirArgs),
    /// Scan standard input.
    Stdin(StdinArgs),
    /// Scan git history (commits, ranges, staged or uncommitted changes).
    Git(super::scan_git::GitArgs),
}

/// `scan dir` flags.
#[derive(Debug, Args)]
pub struct DirArgs {
    /// Directory or file to scan.
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Follow symbolic links to files.
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Also scan what `.gitignore` ignores (by default, inside a git work tree, ignored paths
    /// are left out, as ripgrep does; their count is in the summary).
    #[arg(long)]
    pub no_ignore: bool,
    /// Shared scan flags.
    #[command(flatten)]
    pub common: ScanCommon,
}

/// `scan stdin` flags.
#[derive(Debug, Args)]
pub struct StdinArgs {
    /// Shared scan flags.
    #[command(flatten)]
    pub common: ScanCommon,
}

/// Run a scan command.
pub fn run(cmd: ScanCommand) -> i32 {
    match cmd {
        ScanCommand::Git(a) => super::scan_git::run(a),
        ScanCommand::Dir(a) => run_dir(&a),
        ScanCommand::Stdin(a) => run_stdin(&a),
    }
}

/// `portcullis scan dir [PATH]`.
pub fn run_dir(args: &DirArgs) -> i32 {
    let target = Target::Dir(DirTarget {
        path: args.path.clone(),
        follow_symlinks: args.follow_symlinks,
        respect_gitignore: !args.no_ignore,
    });
    let req = request(&args.common, target);
    match run_request(&args.common, &req) {
        Ok(report) => emit(&args.common, report),
        Err(e) => super::fail(e),
    }
}

/// `portcullis scan stdin`.
pub fn run_stdin(args: &StdinArgs) -> i32 {
    let req = request(&args.common, Target::Stdin);
    match run_request(&args.common, &req) {
        Ok(report) => emit(&args.common, report),
        Err(e) => super::fail(e),
    }
}
