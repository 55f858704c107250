//! `portcullis gate all`: security gate, merge gate and (with `--land`) the fast-forward of
//! main, with one verdict.
//!
//! Exit codes: 0 PASS, 1 FAIL, 3 DEFER (retry after `retry_after_s`), 2 usage error (bad
//! flags, no test command). Human output: the verdict, the report path and the steps; with
//! `--format json`, one JSON object (schema `portcullis/gate-output/v1`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::gate_merge::{EXIT_DEFER, MergeFlags};
use super::gate_security::SecurityOptions;
use super::output::{OutputFormat, print_json, verdict_json};
use crate::gate::all::{AllRequest, DEFAULT_MAX_ATTEMPTS, all};
use crate::gate::security::{AuditInputs, SettingsOverrides};
use crate::report::Outcome;
use crate::settings::Settings;

/// `gate all` flags.
#[derive(Debug, Args)]
#[command(
    after_help = "Exit status: 0 PASS, 1 FAIL, 2 usage error, 3 DEFER (retry after \
retry_after_s). Without --land the lease stays held after PASS, as after `gate merge`."
)]
pub struct AllArgs {
    /// The flags `gate all` shares with `gate merge`.
    #[command(flatten)]
    pub merge: MergeFlags,
    /// Fast-forward the remote's main to the tested commit, then release the lease.
    #[arg(long)]
    pub land: bool,
    /// Merge-and-land attempts when main moves before landing; then DEFER.
    #[arg(long, default_value_t = DEFAULT_MAX_ATTEMPTS)]
    pub max_attempts: u32,
    /// The combined report (default `<repo>/gate-report.md`).
    #[arg(long, value_name = "PATH")]
    pub report_file: Option<PathBuf>,
    /// The merge gate's report (default `<repo>/merge-report.md`).
    #[arg(long, value_name = "PATH")]
    pub merge_report: Option<PathBuf>,
    /// The security gate's report (default: `report_file` setting, `security-report.md`).
    #[arg(long, value_name = "PATH")]
    pub security_report: Option<PathBuf>,
    /// Settings file (default `<repo>/portcullis.toml`).
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// gitleaks configuration for the security gate.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Extra `.gitleaksignore` file (trusted); repeatable.
    #[arg(long = "ignore-file", value_name = "FILE")]
    pub ignore_files: Vec<PathBuf>,
    /// The security gate's audit and policy flags.
    #[command(flatten)]
    pub options: Box<SecurityOptions>,
    /// Output format: `human` or `json` (one object, schema `portcullis/gate-output/v1`).
    #[arg(long, value_enum, default_value = "human")]
    pub format: OutputFormat,
}

impl AllArgs {
    /// The library request these flags describe.
    pub fn to_request(&self) -> AllRequest {
        let abs = |p: &PathBuf| std::path::absolute(p).unwrap_or_else(|_| p.clone());
        let f = &self.merge;
        let mut req = AllRequest::new(f.repo.clone(), f.branch.clone());
        let m = &mut req.merge;
        m.main = f.main.clone();
        m.remote = f.remote.clone();
        m.test_command = f.test.clone();
        m.test_timeout = f.test_timeout.map(Duration::from_secs);
        m.worktree = f.worktree.clone();
        m.lease_dir = f.lease_dir.clone();
        m.lease_url = f.lease_url.clone();
        m.holder = f.holder.clone();
        m.lease_ttl = f.ttl.map(Duration::from_secs);
        m.report_file = self.merge_report.as_ref().map(abs);
        m.settings_file = self.settings.as_ref().map(abs);
        let o = &self.options;
        let s = &mut req.security;
        s.report_file = self.security_report.as_ref().map(abs);
        s.settings_file = self.settings.as_ref().map(abs);
        s.config = self.config.as_ref().map(abs);
        s.ignore_files = self.ignore_files.iter().map(abs).collect();
        s.audit = AuditInputs {
            dbs: o.dbs.iter().map(abs).collect(),
            online: o.online || o.osv_url.is_some(),
            osv_api_url: o.osv_url.clone(),
            ignore: o.ignore_advisories.clone(),
            exclude: o.audit_exclude.clone(),
        };
        s.overrides = SettingsOverrides {
            enabled: o.enabled,
            repos: o.repos.clone(),
            dep_audit_fail_closed: o.dep_audit_fail_closed,
            timeout_s: o.timeout,
            max_target_megabytes: o.max_target_megabytes,
            block_confidence: o.block_confidence,
        };
        req.land = self.land;
        req.max_attempts = self.max_attempts;
        req.report_file = self.report_file.as_ref().map(abs);
        req
    }
}

/// Run `gate all`; returns the exit status (see the module docs).
pub fn run(args: AllArgs) -> i32 {
    let settings = match Settings::load(&args.merge.repo, args.settings.as_deref()) {
        Ok(s) => s.settings,
        Err(e) => return super::fail(e),
    };
    let has_test = args
        .merge
        .test
        .as_deref()
        .is_some_and(|t| !t.trim().is_empty())
        || settings
            .test_command
            .as_deref()
            .is_some_and(|t| !t.trim().is_empty());
    if !has_test && settings.merge_gate_enabled {
        return super::fail("gate all: no test command (--test or settings test_command)");
    }
    let req = args.to_request();
    let verdict = all(&req);
    let code = match verdict.outcome {
        Outcome::Pass => 0,
        Outcome::Fail => 1,
        Outcome::Defer => EXIT_DEFER,
    };
    let path = req.report_path();
    if args.format == OutputFormat::Json {
        print_json(&verdict_json("gate all", &verdict, Some(&path), code));
    } else {
        println!("{}", verdict.outcome);
        if let Some(serde_norway::Value::Sequence(steps)) =
            verdict.frontmatter.as_ref().and_then(|f| f.get("steps"))
        {
            for s in steps {
                let get = |k: &str| {
                    s.get(k)
                        .map(|v| match v {
                            serde_norway::Value::String(t) => t.clone(),
                            other => serde_norway::to_string(other)
                                .unwrap_or_default()
                                .trim()
                                .to_string(),
                        })
                        .unwrap_or_default()
                };
                println!(
                    "  [{}] {:<8} {:<5} {}",
                    get("attempt"),
                    get("step"),
                    get("outcome"),
                    get("detail")
                );
            }
        }
        println!("report: {}", path.display());
    }
    for r in &verdict.reasons {
        eprintln!("portcullis: {r}");
    }
    code
}
