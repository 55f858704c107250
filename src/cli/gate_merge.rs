//! `portcullis gate merge`.
//!
//! Exit codes: 0 PASS, 1 FAIL, 3 DEFER (lease busy: retry after `retry_after_s`), 2 usage
//! error (bad flags, no test command). The verdict's frontmatter is printed as YAML on
//! stdout; the report file holds the same frontmatter plus a Markdown body.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::output::{OutputFormat, print_json, verdict_json};
use crate::gate::merge::{MergeRequest, SecurityCheck, merge};
use crate::report::Outcome;
use crate::settings::Settings;

/// Exit status for DEFER.
pub const EXIT_DEFER: i32 = 3;

/// The merge flags shared by `gate merge` and `gate all`.
#[derive(Debug, Args)]
pub struct MergeFlags {
    /// Repository (any worktree of it).
    #[arg(long)]
    pub repo: PathBuf,
    /// Task branch to catch up, re-test and push.
    #[arg(long)]
    pub branch: String,
    /// Main branch on the remote.
    #[arg(long, default_value = "main")]
    pub main: String,
    /// Remote.
    #[arg(long, default_value = "origin")]
    pub remote: String,
    /// Test command, run with `sh -c` in the branch's worktree (default: settings
    /// `test_command`).
    #[arg(long)]
    pub test: Option<String>,
    /// Test timeout in seconds (default: settings `test_timeout_s`).
    #[arg(long)]
    pub test_timeout: Option<u64>,
    /// The branch's worktree (created if missing).
    #[arg(long)]
    pub worktree: Option<PathBuf>,
    /// Lease directory (default: settings `lease_dir`, else the platform state dir).
    #[arg(long)]
    pub lease_dir: Option<PathBuf>,
    /// PostgreSQL lease database, `postgres://USER@HOST:PORT/DB`, to serialise merges
    /// across hosts (default: settings `lease_url` / `PORTCULLIS_LEASE_URL`; else file
    /// leases). Password from `PGPASSFILE`/`~/.pgpass` or `PGPASSWORD`.
    #[arg(long, conflicts_with = "lease_dir")]
    pub lease_url: Option<String>,
    /// Lease holder id (default `merge-gate:<branch>@<host>`).
    #[arg(long)]
    pub holder: Option<String>,
    /// Lease TTL in seconds (default: settings `lease_ttl_s`).
    #[arg(long)]
    pub ttl: Option<u64>,
}

/// `gate merge` flags.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 PASS (lease left held), 1 FAIL, 2 usage error, \
3 DEFER (lease busy; retry after retry_after_s). The verdict frontmatter is printed as YAML."
)]
pub struct MergeArgs {
    /// The flags `gate merge` shares with `gate all`.
    #[command(flatten)]
    pub merge: MergeFlags,
    /// Report file (default `<repo>/merge-report.md`).
    #[arg(long)]
    pub report_file: Option<PathBuf>,
    /// Settings file (default `<repo>/portcullis.toml` if present).
    #[arg(long)]
    pub settings: Option<PathBuf>,
    /// Accept this security report instead of running the security gate: only a PASS that
    /// names the same head commit and merge-base is accepted.
    #[arg(long, value_name = "FILE", conflicts_with = "no_security")]
    pub security_report: Option<PathBuf>,
    /// Do not settle the branch's security verdict first (recorded in the report).
    #[arg(long)]
    pub no_security: bool,
    /// Output format: `human` (frontmatter as YAML) or `json` (one object, schema
    /// `portcullis/gate-output/v1`).
    #[arg(long, value_enum, default_value = "human")]
    pub format: super::output::OutputFormat,
}

/// Run the merge gate; returns the exit status (see the module docs).
pub fn run(args: MergeArgs) -> i32 {
    let MergeArgs {
        merge: m,
        report_file,
        settings: settings_file,
        security_report,
        no_security,
        format,
    } = args;
    // Usage errors (exit 2) are decided before the gate runs; everything after is a verdict.
    let settings = match Settings::load(&m.repo, settings_file.as_deref()) {
        Ok(s) => s.settings,
        Err(e) => return super::fail(e),
    };
    let has_test = m.test.as_deref().is_some_and(|t| !t.trim().is_empty())
        || settings
            .test_command
            .as_deref()
            .is_some_and(|t| !t.trim().is_empty());
    if !has_test && settings.merge_gate_enabled {
        return super::fail("gate merge: no test command (--test or settings test_command)");
    }
    let security = match (&security_report, no_security) {
        (_, true) => SecurityCheck::Skip,
        (Some(p), false) => SecurityCheck::Report(std::path::absolute(p).unwrap_or(p.clone())),
        (None, false) => SecurityCheck::run_default(&m.repo),
    };

    let url = m.lease_url.as_deref().or(settings.lease_url.as_deref());
    if let Some(url) = url
        && let Err(e) = crate::lease::LeaseBackend::from_url(url)
    {
        return super::fail(format!("gate merge: --lease-url: {e}"));
    }
    let req = MergeRequest {
        security,
        repo: m.repo,
        branch: m.branch,
        main: m.main,
        remote: m.remote,
        test_command: m.test,
        test_timeout: m.test_timeout.map(Duration::from_secs),
        worktree: m.worktree,
        lease_dir: m.lease_dir,
        lease_url: m.lease_url,
        holder: m.holder,
        report_file,
        settings_file,
        lease_ttl: m.ttl.map(Duration::from_secs),
    };
    // A report path that is not a regular file (device, FIFO, link) is a usage error: it is
    // refused before anything runs, and left untouched.
    if let Err(e @ crate::report::frontmatter::FrontmatterError::NotRegular { .. }) =
        crate::report::frontmatter::check_replaceable(&req.report_path())
    {
        return super::fail(e);
    }
    let verdict = merge(&req);
    let code = match verdict.outcome {
        Outcome::Pass => 0,
        Outcome::Fail => 1,
        Outcome::Defer => EXIT_DEFER,
    };
    if format == OutputFormat::Json {
        let path = req.report_path();
        print_json(&verdict_json("gate merge", &verdict, Some(&path), code));
        for r in &verdict.reasons {
            eprintln!("portcullis: {r}");
        }
        return code;
    }
    match &verdict.frontmatter {
        Some(fm) => match serde_norway::to_string(fm) {
            Ok(y) => print!("{y}"),
            Err(_) => println!("verdict: {}", verdict.outcome),
        },
        None => println!("verdict: {}", verdict.outcome),
    }
    println!("report: {}", req.report_path().display());
    for r in &verdict.reasons {
        eprintln!("portcullis: {r}");
    }
    code
}
