//! The security gate: one fail-closed verdict for a branch.
//!
//! [`security`] computes `merge-base(base, head)` from the branch as it is (before any
//! rebase), scans `merge_base..head` for secrets, audits the lockfiles that range changes,
//! writes a Markdown report whose YAML frontmatter (schema `portcullis/security-report/v1`)
//! holds the verdict, then reads that file back with the fail-closed reader
//! [`read_verdict`] and returns what it read. The file is the
//! single source of truth; gate failures (scanner errors, panics, timeouts, bad settings) are
//! FAIL verdicts, never `Err`.
//!
//! Policy:
//! * secrets: any finding or any scanner error is FAIL;
//! * dependencies: any vulnerability the branch introduces, or an audit error, is FAIL; a
//!   degraded audit (advisory source unreachable) is PASS with a loud warning unless
//!   `dep_audit_fail_closed` is set;
//! * a panic below the gate is caught at the boundary and is FAIL with its message;
//!   `timeout_s` bounds the whole gate and is FAIL when exceeded;
//! * a disabled or out-of-scope gate writes a PASS with `skipped: true` and the reason.
//!
//! The gitleaks configuration and `.gitleaksignore` are read from the merge-base commit (the
//! version main had when the branch forked) unless a configuration is given explicitly, so a
//! branch cannot allowlist its own findings.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::report::frontmatter::write_report;
use crate::report::verdict::SECURITY_SCHEMA;
use crate::report::{Outcome, Verdict, read_verdict};
use crate::settings::{Settings, repo_in_scope};

mod backend;
pub mod guard;
pub mod model;
mod render;

pub use crate::report::redact::{Redactor as Scrubber, redact};
pub use model::{
    DependenciesStatus, DepsPart, SecretsPart, SecretsStatus, SecurityFrontmatter, SourceEntry,
    Vulnerability,
};

use model::{DependenciesSection, PolicySection, SecretsSection, ToolSection};

/// Default base revision.
pub const DEFAULT_BASE: &str = "origin/main";
/// Default head revision.
pub const DEFAULT_HEAD: &str = "HEAD";
/// At most this many findings/vulnerabilities are spelled out in `reasons` (all of them are
/// in the body).
const MAX_LISTED_REASONS: usize = 20;

/// Settings given on the command line; each `Some` overrides the settings file and the
/// `PORTCULLIS_*` environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingsOverrides {
    /// Overrides `enabled`.
    pub enabled: Option<bool>,
    /// Overrides `repos`.
    pub repos: Option<Vec<String>>,
    /// Overrides `dep_audit_fail_closed`.
    pub dep_audit_fail_closed: Option<bool>,
    /// Overrides `timeout_s`.
    pub timeout_s: Option<u64>,
    /// Overrides `max_target_megabytes`.
    pub max_target_megabytes: Option<u64>,
    /// Overrides `block_confidence`.
    pub block_confidence: Option<crate::report::Confidence>,
}

/// Dependency-audit inputs of the gate (see `portcullis audit`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditInputs {
    /// Advisory databases to use instead of the embedded snapshot and the cache.
    pub dbs: Vec<PathBuf>,
    /// Also query the OSV API.
    pub online: bool,
    /// OSV API base URL (default: the public API).
    pub osv_api_url: Option<String>,
    /// Advisory ids to ignore.
    pub ignore: Vec<String>,
    /// Lockfiles to leave out: repository-relative paths or directory prefixes (e.g.
    /// `testdata/` for test fixtures that pin vulnerable versions on purpose).
    pub exclude: Vec<String>,
}

/// One run of the security gate.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityRequest {
    /// Repository (any directory inside the work tree).
    pub repo: PathBuf,
    /// Base revision (default `origin/main`).
    pub base: String,
    /// Head revision (default `HEAD`).
    pub head: String,
    /// Report path; relative paths are relative to `repo`. Default: the `report_file` setting.
    pub report_file: Option<PathBuf>,
    /// Settings file. Default: `portcullis.toml` as the `base` revision has it (never the
    /// work tree's copy, so a branch cannot turn its own gate off).
    pub settings_file: Option<PathBuf>,
    /// gitleaks configuration (default: `$PORTCULLIS_CONFIG`, `$GITLEAKS_CONFIG`,
    /// `.gitleaks.toml` of the merge-base commit, the embedded default).
    pub config: Option<PathBuf>,
    /// Extra `.gitleaksignore` files (trusted, given by the operator), applied together with
    /// the merge-base's `.gitleaksignore`.
    pub ignore_files: Vec<PathBuf>,
    /// Dependency audit inputs.
    pub audit: AuditInputs,
    /// Flag overrides of the settings.
    pub overrides: SettingsOverrides,
}

impl SecurityRequest {
    /// A request for `repo` with every other field at its default.
    pub fn new(repo: impl Into<PathBuf>) -> SecurityRequest {
        SecurityRequest {
            repo: repo.into(),
            base: DEFAULT_BASE.into(),
            head: DEFAULT_HEAD.into(),
            report_file: None,
            settings_file: None,
            config: None,
            ignore_files: Vec::new(),
            audit: AuditInputs::default(),
            overrides: SettingsOverrides::default(),
        }
    }
}

/// What the guarded part of the gate needs.
#[derive(Debug, Clone)]
pub(crate) struct WorkInput {
    pub repo: PathBuf,
    pub base: String,
    pub head: String,
    pub config: Option<PathBuf>,
    pub ignore_files: Vec<PathBuf>,
    pub audit: AuditInputs,
    pub max_target_megabytes: Option<u64>,
}

/// What the guarded part of the gate produces; every failure is data in here.
#[derive(Debug, Clone)]
pub(crate) struct WorkOutput {
    pub merge_base: Option<String>,
    pub head_commit: Option<String>,
    pub secrets: SecretsPart,
    pub deps: DepsPart,
    pub config: Option<String>,
    pub config_sha256: Option<String>,
    pub timings: model::Timings,
}

/// Run the security gate on a branch and return the verdict read back from its report.
///
/// ```
/// use std::process::Command;
/// use portcullis::gate::security::{security, SecurityRequest};
/// use portcullis::report::Outcome;
///
/// let dir = tempfile::tempdir().unwrap();
/// let git = |args: &[&str]| {
///     let ok = Command::new("git").current_dir(dir.path())
///         .args(["-c", "user.name=t", "-c", "user.email=t@example.com",
///                "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"])
///         .args(args).status().unwrap().success();
///     assert!(ok, "git {args:?}");
/// };
/// git(&["init", "-q"]);
/// std::fs::write(dir.path().join("README.md"), "hello\n").unwrap();
/// git(&["add", "."]);
/// git(&["commit", "-qm", "init"]);
/// git(&["checkout", "-qb", "task"]);
/// std::fs::write(dir.path().join("notes.txt"), "no secrets here\n").unwrap();
/// git(&["add", "."]);
/// git(&["commit", "-qm", "notes"]);
///
/// let mut req = SecurityRequest::new(dir.path());
/// req.base = "main".into();
/// let verdict = security(&req);
/// assert_eq!(verdict.outcome, Outcome::Pass, "{:?}", verdict.reasons);
/// assert!(dir.path().join("security-report.md").is_file());
/// ```
pub fn security(req: &SecurityRequest) -> Verdict {
    guarded(req, |r| gate_with(r, backend::run))
}

/// Run `gate` and turn a panic in the parts that run outside the worker thread (settings,
/// rendering, writing) into a FAIL report too: nothing escapes the gate boundary as a panic.
pub(crate) fn guarded(
    req: &SecurityRequest,
    gate: impl FnOnce(&SecurityRequest) -> Verdict,
) -> Verdict {
    let t0 = Instant::now();
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| gate(req))) {
        Ok(v) => v,
        Err(payload) => {
            let msg = format!(
                "panic in the gate: {}",
                guard::panic_message(payload.as_ref())
            );
            let path = std::panic::catch_unwind(|| report_path(req)).unwrap_or_else(|_| {
                crate::settings::repo_root_of(&req.repo).join("security-report.md")
            });
            let fm = SecurityFrontmatter {
                schema: SECURITY_SCHEMA.into(),
                verdict: Outcome::Fail.as_str().into(),
                reasons: vec![msg.clone()],
                skipped: false,
                repo: crate::settings::repo_root_of(&req.repo)
                    .display()
                    .to_string(),
                base: req.base.clone(),
                head: req.head.clone(),
                merge_base: None,
                head_commit: None,
                range: None,
                secrets: SecretsSection {
                    errors: vec![msg.clone()],
                    ..empty_secrets(SecretsStatus::Error)
                },
                dependencies: empty_deps(DependenciesStatus::Error),
                policy: PolicySection {
                    enabled: true,
                    repos: Vec::new(),
                    dep_audit_fail_closed: false,
                    timeout_s: 0,
                    max_target_megabytes: None,
                    settings_file: None,
                    dep_audit_exclude: Vec::new(),
                },
                tool: ToolSection::default(),
                config: None,
                config_sha256: None,
                started_at: now_rfc3339(),
                duration_ms: 0,
                timings_ms: None,
            };
            // No findings are known here, so there is nothing to scrub; never panic again.
            match std::panic::catch_unwind(|| finish(&path, fm, None, t0, Outcome::Fail)) {
                Ok(v) => v,
                Err(_) => Verdict::fail(msg),
            }
        }
    }
}

/// The gate with the guarded work supplied by the caller (tests inject panics here).
pub(crate) fn gate_with<W>(req: &SecurityRequest, work: W) -> Verdict
where
    W: FnOnce(WorkInput) -> WorkOutput + Send + 'static,
{
    let t0 = Instant::now();
    let started_at = now_rfc3339();
    let repo_root = crate::settings::repo_root_of(&req.repo);

    // Settings: file, then environment, then flags. A settings error is a FAIL report.
    let mut reasons_pre: Vec<String> = Vec::new();
    let (mut settings, settings_file, settings_desc) = match load_settings(&repo_root, req) {
        Ok(l) => l,
        Err(e) => {
            reasons_pre.push(format!("settings: {e}"));
            let desc = req.settings_file.as_ref().map(|p| p.display().to_string());
            (Settings::default(), req.settings_file.clone(), desc)
        }
    };
    apply_overrides(&mut settings, &req.overrides);

    let report_path = match &req.report_file {
        Some(p) => repo_root.join(p),
        None => repo_root.join(&settings.report_file),
    };
    // A stale report must never be read back as this run's verdict: remove it first, so a
    // crash before the write leaves no file (which reads as FAIL). Only a regular file is
    // ever removed or replaced: a device, FIFO or link at the path ends the run here.
    if let Err(e) = crate::report::frontmatter::remove_stale(&report_path) {
        if matches!(
            e,
            crate::report::frontmatter::FrontmatterError::NotRegular { .. }
        ) {
            return Verdict::fail(format!("cannot write the security report: {e}"));
        }
        reasons_pre.push(format!("cannot remove the previous report: {e}"));
    }

    let policy = PolicySection {
        enabled: settings.enabled,
        repos: settings.repos.clone(),
        dep_audit_fail_closed: settings.dep_audit_fail_closed,
        timeout_s: settings.timeout_s,
        max_target_megabytes: settings.max_target_megabytes,
        settings_file: settings_desc,
        dep_audit_exclude: req.audit.exclude.clone(),
    };
    let mut fm = SecurityFrontmatter {
        schema: SECURITY_SCHEMA.into(),
        verdict: String::new(),
        reasons: Vec::new(),
        skipped: false,
        repo: repo_root.display().to_string(),
        base: req.base.clone(),
        head: req.head.clone(),
        merge_base: None,
        head_commit: None,
        range: None,
        secrets: empty_secrets(SecretsStatus::Skipped),
        dependencies: empty_deps(DependenciesStatus::Skipped),
        policy,
        tool: ToolSection::default(),
        config: None,
        config_sha256: None,
        started_at,
        duration_ms: 0,
        timings_ms: None,
    };

    // Skipped (only when the settings themselves were readable).
    if reasons_pre.is_empty() {
        let skip = if !settings.enabled {
            Some("security gate disabled by settings (enabled = false)".to_string())
        } else if !repo_in_scope(&settings.repos, &repo_root, settings_file.as_deref()) {
            Some(format!(
                "repository {} is not in the security gate's scope (repos = {:?}{})",
                repo_root.display(),
                settings.repos,
                settings_file
                    .as_ref()
                    .map(|f| format!(", settings {}", f.display()))
                    .unwrap_or_default()
            ))
        } else {
            None
        };
        if let Some(reason) = skip {
            fm.verdict = Outcome::Pass.as_str().into();
            fm.reasons = vec![reason];
            fm.skipped = true;
            return finish(&report_path, fm, None, t0, Outcome::Pass);
        }
    }

    let (secrets, deps) = if reasons_pre.is_empty() {
        let input = WorkInput {
            repo: repo_root.clone(),
            base: req.base.clone(),
            head: req.head.clone(),
            config: req.config.clone(),
            ignore_files: req.ignore_files.clone(),
            audit: req.audit.clone(),
            max_target_megabytes: settings.max_target_megabytes,
        };
        let timeout = Duration::from_secs(settings.timeout_s);
        match guard::run_bounded(timeout, move || work(input)) {
            Ok(out) => {
                fm.merge_base = out.merge_base.clone();
                fm.head_commit = out.head_commit.clone();
                if let (Some(mb), Some(h)) = (&out.merge_base, &out.head_commit) {
                    fm.range = Some(format!("{mb}..{h}"));
                }
                fm.config = out.config.clone();
                fm.config_sha256 = out.config_sha256.clone();
                fm.timings_ms = Some(out.timings);
                (out.secrets, out.deps)
            }
            Err(e) => {
                let msg = match &e {
                    guard::GuardError::TimedOut(_) => {
                        format!("security gate {e} (timeout_s = {})", settings.timeout_s)
                    }
                    _ => e.to_string(),
                };
                (SecretsPart::error(msg.clone()), DepsPart::error(msg))
            }
        }
    } else {
        let msg = reasons_pre.join("; ");
        (SecretsPart::error(msg.clone()), DepsPart::error(msg))
    };

    let secrets = demote_below(secrets, settings.block_confidence);
    let (outcome, reasons) = evaluate(&secrets, &deps, settings.dep_audit_fail_closed);
    fm.verdict = outcome.as_str().into();
    fm.reasons = reasons;
    fm.secrets = SecretsSection {
        status: secrets.status,
        findings: secrets.findings.len() as u64,
        errors: secrets.errors.clone(),
        warnings: secrets.warnings.clone(),
        commits_scanned: secrets.commits_scanned,
        bytes_scanned: secrets.bytes_scanned,
    };
    fm.dependencies = DependenciesSection {
        status: deps.status,
        vulnerabilities: deps.vulnerabilities.len() as u64,
        warnings: deps.warnings.clone(),
        errors: deps.errors.clone(),
        sources: deps.sources.clone(),
    };
    finish(&report_path, fm, Some((&secrets, &deps)), t0, outcome)
}

/// Move the findings below `block` out of the blocking list: each becomes a warning line that
/// names rule, file, line, commit and confidence (never the secret). Warnings and errors are
/// scrubbed of every finding's secret here, while all of them are still known.
pub(crate) fn demote_below(
    mut secrets: SecretsPart,
    block: crate::report::Confidence,
) -> SecretsPart {
    let scrubber = Scrubber::new(secrets.findings.iter().map(|f| f.secret.as_str()));
    for w in secrets.warnings.iter_mut().chain(secrets.errors.iter_mut()) {
        *w = scrubber.scrub(w);
    }
    let (blocking, below): (Vec<_>, Vec<_>) = secrets
        .findings
        .into_iter()
        .partition(|f| f.confidence >= block);
    secrets.findings = blocking;
    for f in below {
        secrets.warnings.push(format!(
            "secret below block_confidence ({} < {block}), not blocking: {} in {}:{} (commit {})",
            f.confidence,
            f.rule_id,
            f.file,
            f.start_line,
            f.commit.get(..12).unwrap_or(&f.commit)
        ));
    }
    secrets
}

/// Apply the policy to the scan results: the outcome and one reason per problem.
pub(crate) fn evaluate(
    secrets: &SecretsPart,
    deps: &DepsPart,
    dep_audit_fail_closed: bool,
) -> (Outcome, Vec<String>) {
    let mut reasons = Vec::new();
    if secrets.status != SecretsStatus::Ok && secrets.errors.is_empty() {
        reasons.push(format!("secret scan status {:?}", secrets.status).to_lowercase());
    }
    for e in &secrets.errors {
        reasons.push(format!("secret scan error: {e}"));
    }
    for f in secrets.findings.iter().take(MAX_LISTED_REASONS) {
        reasons.push(format!(
            "secret: {} in {}:{} (commit {})",
            f.rule_id,
            f.file,
            f.start_line,
            f.commit.get(..12).unwrap_or(&f.commit)
        ));
    }
    if secrets.findings.len() > MAX_LISTED_REASONS {
        reasons.push(format!(
            "... and {} more secret finding(s), see the report body",
            secrets.findings.len() - MAX_LISTED_REASONS
        ));
    }
    match deps.status {
        DependenciesStatus::Ok => {}
        DependenciesStatus::Degraded if dep_audit_fail_closed => {
            reasons.push(format!(
                "dependency audit degraded and dep_audit_fail_closed is set: {}",
                if deps.warnings.is_empty() {
                    "an advisory source was unavailable".to_string()
                } else {
                    deps.warnings.join("; ")
                }
            ));
        }
        DependenciesStatus::Degraded => {}
        DependenciesStatus::Error | DependenciesStatus::Skipped => {
            if deps.errors.is_empty() {
                reasons.push(format!("dependency audit status {:?}", deps.status).to_lowercase());
            }
        }
    }
    // Audit errors always fail, whatever the status says (a panic or timeout is reported once).
    for e in &deps.errors {
        if !secrets.errors.contains(e) {
            reasons.push(format!("dependency audit error: {e}"));
        }
    }
    for v in deps.vulnerabilities.iter().take(MAX_LISTED_REASONS) {
        reasons.push(format!(
            "vulnerable dependency: {} {} ({}), fixed in {}",
            v.package,
            v.version,
            v.id,
            v.fixed_in.as_deref().unwrap_or("no fixed version")
        ));
    }
    if deps.vulnerabilities.len() > MAX_LISTED_REASONS {
        reasons.push(format!(
            "... and {} more vulnerable dependencies, see the report body",
            deps.vulnerabilities.len() - MAX_LISTED_REASONS
        ));
    }
    let outcome = if reasons.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail
    };
    (outcome, reasons)
}

/// Scrub, write atomically, read back; the read-back verdict is the result (a FAIL decided
/// here stays FAIL whatever the file says).
///
/// The last pass before writing ([`crate::report::redact::scrub_report`]) replaces every
/// secret a finding names and every secret the default rules find in the report itself, raw
/// and encoded, in the frontmatter and the body; the verdict returned (what the CLI prints)
/// is scrubbed the same way.
fn finish(
    path: &Path,
    mut fm: SecurityFrontmatter,
    parts: Option<(&SecretsPart, &DepsPart)>,
    t0: Instant,
    intended: Outcome,
) -> Verdict {
    use crate::report::redact::{Redactor, scrub_report};
    let known = Redactor::new(
        parts
            .map(|(s, _)| {
                s.findings
                    .iter()
                    .flat_map(|f| [f.secret.as_str(), f.r#match.as_str()])
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default(),
    );
    fm.duration_ms = t0.elapsed().as_millis() as u64;
    let body = render::body(&render::BodyInput {
        fm: &fm,
        secrets: parts.map(|p| p.0),
        deps: parts.map(|p| p.1),
    });
    let value = match serde_norway::to_value(&fm) {
        Ok(v) => v,
        Err(e) => return Verdict::fail(format!("cannot serialise the security report: {e}")),
    };
    let (value, body, redactor) = match scrub_report(known.clone(), &value, &body) {
        Ok(done) => done,
        Err(e) => {
            // Nothing unchecked is written: a FAIL that names only the problem.
            return write_withheld(path, &fm, &e.to_string(), &known);
        }
    };
    if let Err(e) = write_report(path, &value, &body) {
        return scrub_verdict(
            Verdict::fail(format!("cannot write the security report: {e}")),
            &redactor,
        );
    }
    let read = read_verdict(path);
    if intended == Outcome::Fail && read.outcome != Outcome::Fail {
        let mut v = Verdict::fail(format!(
            "{}: the gate decided FAIL but the file reads {}; it was changed after writing",
            path.display(),
            read.outcome
        ));
        v.reasons.extend(fm.reasons);
        return scrub_verdict(v, &redactor);
    }
    scrub_verdict(read, &redactor)
}

/// The reasons of a verdict (printed by the CLI) through the same redaction as the report.
fn scrub_verdict(mut v: Verdict, redactor: &crate::report::redact::Redactor) -> Verdict {
    for r in &mut v.reasons {
        *r = crate::report::redact::scrub_line(redactor, r);
    }
    v
}

/// When the report cannot be redacted: write a FAIL report that holds no text from the run.
fn write_withheld(
    path: &Path,
    fm: &SecurityFrontmatter,
    why: &str,
    known: &crate::report::redact::Redactor,
) -> Verdict {
    let mut bare = fm.clone();
    bare.verdict = Outcome::Fail.as_str().into();
    bare.reasons = vec![format!("report withheld: {why}")];
    bare.secrets.errors = vec![format!("report withheld: {why}")];
    bare.secrets.warnings.clear();
    bare.dependencies.warnings.clear();
    bare.dependencies.errors.clear();
    bare.dependencies.sources.clear();
    bare.head = "[withheld]".into();
    bare.base = "[withheld]".into();
    bare.repo = "[withheld]".into();
    let body = format!("# Security gate: FAIL\n\nThe report was withheld: {why}.\n");
    if let Err(e) = write_report(path, &bare, &body) {
        return Verdict::fail(format!("cannot write the security report: {e}"));
    }
    let mut v = read_verdict(path);
    if v.outcome != Outcome::Fail {
        v = Verdict::fail(format!("report withheld: {why}"));
    }
    scrub_verdict(v, known)
}

/// Where [`security`] writes its report for `req`: `req.report_file`, else the
/// `report_file` setting (file, environment), relative to the repository's work-tree root.
pub fn report_path(req: &SecurityRequest) -> PathBuf {
    let root = crate::settings::repo_root_of(&req.repo);
    let setting = load_settings(&root, req)
        .map(|l| l.0.report_file)
        .unwrap_or_else(|_| Settings::default().report_file);
    root.join(
        req.report_file
            .clone()
            .unwrap_or_else(|| PathBuf::from(setting)),
    )
}

/// The settings of a run, with the settings file (for the scope rule) and a description of
/// where they came from.
///
/// `--settings FILE` is read as given. Otherwise `portcullis.toml` is read **as the base
/// revision has it** (e.g. `origin/main:portcullis.toml`), never from the work tree, so a
/// branch cannot disable or narrow its own gate; with no such file (or a base that does not
/// resolve, which fails the gate later anyway) the defaults apply. `PORTCULLIS_*` variables
/// override either.
fn load_settings(
    repo_root: &Path,
    req: &SecurityRequest,
) -> Result<(Settings, Option<PathBuf>, Option<String>), SettingsLoadError> {
    if let Some(file) = &req.settings_file {
        let l = Settings::load(repo_root, Some(file))?;
        return Ok((l.settings, l.file, Some(file.display().to_string())));
    }
    let origin = format!("{}:{}", req.base, crate::settings::SETTINGS_FILE);
    let (mut settings, desc) = match settings_blob_at(repo_root, &req.base)? {
        Some(bytes) => {
            let text = utf8_at(&bytes, &origin)?;
            let s = Settings::from_toml_str(text, Path::new(&origin))?;
            (s, Some(origin))
        }
        None => (Settings::default(), None),
    };
    settings.apply_env(|k| std::env::var(k).ok())?;
    Ok((settings, None, desc))
}

/// Why the gate's settings could not be loaded (the run then fails with `settings: ...`).
#[derive(Debug, thiserror::Error)]
enum SettingsLoadError {
    /// The settings file or a `PORTCULLIS_*` variable is invalid.
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    /// The base revision's `portcullis.toml` is not UTF-8.
    #[error(transparent)]
    NotUtf8(#[from] NotUtf8),
    /// The base revision's `portcullis.toml` exists but cannot be read.
    #[error("{origin}: {source}")]
    Git {
        /// `<base>:portcullis.toml`.
        origin: String,
        /// gix's error.
        #[source]
        source: gix::Error,
    },
}

/// A file of the base revision (settings, rules, ignore file) that is not UTF-8.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: not UTF-8: {source}")]
struct NotUtf8 {
    /// `<revision>:<file>`.
    origin: String,
    /// The decoding error.
    #[source]
    source: std::str::Utf8Error,
}

/// `bytes` as text; `origin` (`<revision>:<file>`) names them in the error.
fn utf8_at<'a>(bytes: &'a [u8], origin: &str) -> Result<&'a str, NotUtf8> {
    std::str::from_utf8(bytes).map_err(|source| NotUtf8 {
        origin: origin.to_string(),
        source,
    })
}

/// `portcullis.toml` in the tree of `base`. A repository that cannot be opened or a base that
/// does not resolve gives `None` (the gate then fails on the merge-base); a file that exists
/// but cannot be read is an error.
fn settings_blob_at(repo_root: &Path, base: &str) -> Result<Option<Vec<u8>>, SettingsLoadError> {
    let Ok(repo) = gix::open(repo_root) else {
        return Ok(None);
    };
    let Some(commit) = repo
        .rev_parse_single(base)
        .ok()
        .and_then(|id| id.object().ok())
        .and_then(|o| o.peel_to_commit().ok())
    else {
        return Ok(None);
    };
    let name = crate::settings::SETTINGS_FILE;
    let err = |source| SettingsLoadError::Git {
        origin: format!("{base}:{name}"),
        source,
    };
    let tree = commit.tree().map_err(err)?;
    match tree.lookup_entry_by_path(name).map_err(err)? {
        Some(entry) if entry.mode().is_blob() => {
            Ok(Some(entry.object().map_err(err)?.data.clone()))
        }
        _ => Ok(None),
    }
}

fn apply_overrides(s: &mut Settings, o: &SettingsOverrides) {
    if let Some(v) = o.enabled {
        s.enabled = v;
    }
    if let Some(v) = &o.repos {
        s.repos = v.clone();
    }
    if let Some(v) = o.dep_audit_fail_closed {
        s.dep_audit_fail_closed = v;
    }
    if let Some(v) = o.timeout_s {
        s.timeout_s = v;
    }
    if let Some(v) = o.max_target_megabytes {
        s.max_target_megabytes = Some(v);
    }
    if let Some(v) = o.block_confidence {
        s.block_confidence = v;
    }
}

fn empty_secrets(status: SecretsStatus) -> SecretsSection {
    SecretsSection {
        status,
        findings: 0,
        errors: Vec::new(),
        warnings: Vec::new(),
        commits_scanned: 0,
        bytes_scanned: 0,
    }
}

fn empty_deps(status: DependenciesStatus) -> DependenciesSection {
    DependenciesSection {
        status,
        vulnerabilities: 0,
        warnings: Vec::new(),
        errors: Vec::new(),
        sources: Vec::new(),
    }
}

fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[cfg(test)]
mod tests;
