//! `portcullis gate security`: run the security gate, write the report, print the verdict read
//! back from it. Exit 0 for PASS, 1 for FAIL (whatever the cause), 2 when no report could be
//! written at all.

use std::path::PathBuf;

use clap::Args;

use crate::gate::security::{
    AuditInputs, DEFAULT_BASE, DEFAULT_HEAD, SecurityRequest, SettingsOverrides, report_path,
    security,
};
use crate::report::Outcome;

/// `gate security` flags. Flags override `PORTCULLIS_*` variables, which override the
/// settings file.
#[derive(Debug, Args)]
pub struct SecurityArgs {
    /// Repository (any directory inside its work tree).
    #[arg(default_value = ".")]
    pub repo: PathBuf,
    /// Base revision; the scanned range starts at merge-base(base, head).
    #[arg(long, default_value = DEFAULT_BASE)]
    pub base: String,
    /// Head revision (the branch under test).
    #[arg(long, default_value = DEFAULT_HEAD)]
    pub head: String,
    /// Report path (default: `report_file` setting, `security-report.md` in the repository).
    /// A relative path is relative to the current directory.
    #[arg(long, value_name = "PATH")]
    pub report_file: Option<PathBuf>,
    /// Settings file (default: `portcullis.toml` as the base revision has it).
    #[arg(long, value_name = "FILE")]
    pub settings: Option<PathBuf>,
    /// gitleaks configuration (default: `$PORTCULLIS_CONFIG`, `$GITLEAKS_CONFIG`,
    /// `.gitleaks.toml` as of the merge-base, the embedded default rules).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Extra `.gitleaksignore` file (trusted), applied with the merge-base's; repeatable.
    #[arg(long = "ignore-file", value_name = "FILE")]
    pub ignore_files: Vec<PathBuf>,
    /// Audit and policy flags (boxed to keep the command enum small).
    #[command(flatten)]
    pub options: Box<SecurityOptions>,
    /// Print only the verdict line.
    #[arg(long, short)]
    pub quiet: bool,
    /// Output format: `human` (the verdict line) or `json` (one object, schema
    /// `portcullis/gate-output/v1`).
    #[arg(long, value_enum, default_value = "human")]
    pub format: super::output::OutputFormat,
}

/// The less common `gate security` flags: dependency audit inputs and settings overrides.
#[derive(Debug, Args)]
pub struct SecurityOptions {
    /// Advisory database (RustSec directory, OSV directory or zip, PyPA YAML); repeatable.
    /// Replaces the embedded snapshot and the cache.
    #[arg(long = "db", value_name = "PATH")]
    pub dbs: Vec<PathBuf>,
    /// Also query the OSV API for the packages the branch changes.
    #[arg(long)]
    pub online: bool,
    /// OSV API base URL (implies --online).
    #[arg(long, value_name = "URL")]
    pub osv_url: Option<String>,
    /// Ignore this advisory id; repeatable.
    #[arg(long = "ignore-advisory", value_name = "ID")]
    pub ignore_advisories: Vec<String>,
    /// Leave lockfiles at this repository-relative path or under this directory out of the
    /// audit (e.g. `testdata/`); repeatable.
    #[arg(long = "audit-exclude", value_name = "PATH")]
    pub audit_exclude: Vec<String>,
    /// Bound on the whole gate in seconds (setting `timeout_s`).
    #[arg(long, value_name = "S")]
    pub timeout: Option<u64>,
    /// Skip blobs larger than this (setting `max_target_megabytes`).
    #[arg(long, value_name = "MB")]
    pub max_target_megabytes: Option<u64>,
    /// Fail when the dependency audit is degraded (setting `dep_audit_fail_closed`);
    /// `--dep-audit-fail-closed=false` turns it off.
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub dep_audit_fail_closed: Option<bool>,
    /// Lowest finding confidence that fails the gate: high, medium or low (setting
    /// `block_confidence`, default medium); findings below it are listed as warnings.
    #[arg(long, value_name = "LEVEL", value_parser = |s: &str| s.parse::<crate::report::Confidence>())]
    pub block_confidence: Option<crate::report::Confidence>,
    /// Enable or disable the gate (setting `enabled`); a disabled gate writes a skipped PASS.
    #[arg(long, value_name = "BOOL")]
    pub enabled: Option<bool>,
    /// Repositories the gate applies to (setting `repos`), comma-separated; `*` for all.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub repos: Option<Vec<String>>,
}

impl SecurityArgs {
    /// The library request these flags describe.
    pub fn to_request(&self) -> SecurityRequest {
        let o = &self.options;
        let cwd_relative = |p: &PathBuf| std::path::absolute(p).unwrap_or_else(|_| p.clone());
        SecurityRequest {
            repo: self.repo.clone(),
            base: self.base.clone(),
            head: self.head.clone(),
            report_file: self.report_file.as_ref().map(cwd_relative),
            settings_file: self.settings.as_ref().map(cwd_relative),
            config: self.config.as_ref().map(cwd_relative),
            ignore_files: self.ignore_files.iter().map(cwd_relative).collect(),
            audit: AuditInputs {
                dbs: o.dbs.iter().map(cwd_relative).collect(),
                online: o.online || o.osv_url.is_some(),
                osv_api_url: o.osv_url.clone(),
                ignore: o.ignore_advisories.clone(),
                exclude: o.audit_exclude.clone(),
            },
            overrides: SettingsOverrides {
                enabled: o.enabled,
                repos: o.repos.clone(),
                dep_audit_fail_closed: o.dep_audit_fail_closed,
                timeout_s: o.timeout,
                max_target_megabytes: o.max_target_megabytes,
                block_confidence: o.block_confidence,
            },
        }
    }
}

/// Run the security gate; the exit status comes from the report as read back.
pub fn run(args: SecurityArgs) -> i32 {
    let req = args.to_request();
    let v = security(&req);
    if args.format == super::output::OutputFormat::Json {
        let code = match (&v.frontmatter, v.outcome) {
            (None, _) => super::EXIT_ERROR,
            (Some(_), Outcome::Pass) => 0,
            (Some(_), _) => 1,
        };
        let path = report_path(&req);
        super::output::print_json(&super::output::verdict_json(
            "gate security",
            &v,
            Some(&path),
            code,
        ));
        for r in &v.reasons {
            eprintln!("portcullis: {r}");
        }
        return code;
    }
    println!("{}", v.outcome);
    let Some(fm) = v.frontmatter.as_ref() else {
        // Nothing could be written or read back: an error, not a verdict on the branch.
        for r in &v.reasons {
            eprintln!("portcullis: error: {r}");
        }
        return super::EXIT_ERROR;
    };
    let deps = fm.get("dependencies");
    let degraded = deps.and_then(|d| d.get("status")).and_then(|s| s.as_str()) == Some("degraded");
    if degraded {
        eprintln!(
            "portcullis: WARNING: the dependency audit is DEGRADED (an advisory source was unavailable); vulnerabilities may have been missed"
        );
        if let Some(serde_norway::Value::Sequence(ws)) = deps.and_then(|d| d.get("warnings")) {
            for w in ws.iter().filter_map(|w| w.as_str()) {
                eprintln!("portcullis: WARNING: {w}");
            }
        }
    }
    if !args.quiet {
        for r in &v.reasons {
            eprintln!("  {r}");
        }
        eprintln!("report: {}", report_path(&req).display());
    }
    if v.outcome == Outcome::Pass { 0 } else { 1 }
}
