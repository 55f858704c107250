//! Dependency audit: lockfile parsers and advisory databases (RustSec, OSV), offline first.
//!
//! ```text
//! lockfile::discover/parse  →  LockedPackage  ─┐
//!                                              ├→ matching::match_packages → AuditFinding → AuditReport
//! advisory::sources (embedded | cache | --db | --online) → AdvisoryIndex ─┘
//! ```
//!
//! * [`lockfile`] reads `Cargo.lock`, `requirements*.txt`, `poetry.lock`, `Pipfile.lock`,
//!   `pdm.lock`, `uv.lock`, `pylock.toml`, `package-lock.json` and `go.mod` (`go.sum` stands
//!   for the `go.mod` beside it).
//! * A lockfile whose ecosystem no loaded source has advisory data for, or of a kind there is
//!   no parser for, is *not audited*: listed in [`AuditReport::not_audited`], and the result
//!   is degraded (an error under `--strict`).
//! * [`advisory`] loads advisories from a RustSec directory, OSV directories/zips, the PyPA
//!   YAML layout, the embedded snapshot, the update cache and the OSV API, indexed by package.
//! * [`matching`] evaluates versions (semver for crates, PEP 440 for PyPI, OSV ranges), merges
//!   aliases and computes the smallest fixed version.
//! * [`report`] renders the JSON schema, SARIF and the human table.
//! * [`range`] audits only what a git range changes (`--range BASE..HEAD`).

pub mod advisory;
pub mod lockfile;
pub mod matching;
pub mod range;
pub mod report;
pub mod version;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use range::audit_range;

/// Schema identifier written at the top of `--format json` output.
pub const AUDIT_SCHEMA: &str = "portcullis.audit/v1";

/// Age in days above which a source's snapshot triggers a staleness warning.
pub const STALE_AFTER_DAYS: i64 = 30;

/// Age in days above which the embedded snapshot or the `db update` cache is out of date: the
/// result is degraded (an error under `--strict`, a FAIL under `dep_audit_fail_closed`).
pub const MAX_SNAPSHOT_AGE_DAYS: i64 = 90;

/// Default OSV API base URL (the client posts to `<url>/v1/querybatch`).
pub const DEFAULT_OSV_API_URL: &str = "https://api.osv.dev";

/// Options of one audit run.
#[derive(Debug, Clone)]
pub struct AuditOptions {
    /// Exactly these advisory sources (layout detected) instead of the cache / embedded snapshot.
    pub dbs: Vec<PathBuf>,
    /// Also query the OSV API (`/v1/querybatch`).
    pub online: bool,
    /// Leave development-only packages out (where the lockfile records it).
    pub no_dev: bool,
    /// Advisory ids (or aliases) to ignore.
    pub ignore: Vec<String>,
    /// Informational kinds that fail the audit.
    pub deny: Vec<WarningKind>,
    /// A degraded result (a source could not be used) is an error.
    pub strict: bool,
    /// OSV API base URL for `--online`.
    pub osv_api_url: String,
    /// Timeout of each online request.
    pub timeout: Duration,
    /// Cache directory written by `db update`; `None` = the default location
    /// (`$PORTCULLIS_CACHE_DIR`, `$XDG_CACHE_HOME/portcullis`, `~/.cache/portcullis`).
    pub cache_dir: Option<PathBuf>,
    /// Do not use the update cache even if present (embedded snapshot only, unless `dbs`).
    pub no_cache: bool,
}

impl Default for AuditOptions {
    fn default() -> Self {
        AuditOptions {
            dbs: Vec::new(),
            online: false,
            no_dev: false,
            ignore: Vec::new(),
            deny: Vec::new(),
            strict: false,
            osv_api_url: DEFAULT_OSV_API_URL.to_string(),
            timeout: Duration::from_secs(20),
            cache_dir: None,
            no_cache: false,
        }
    }
}

/// Informational advisory kinds (RustSec `informational`), reported as warnings.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum WarningKind {
    /// The crate is no longer maintained.
    Unmaintained,
    /// The crate has unsound APIs.
    Unsound,
    /// A notice (e.g. a crate was renamed or compromised-and-removed).
    Notice,
}

/// What a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    /// A security vulnerability: always fails the audit.
    Vulnerability,
    /// Informational: unmaintained.
    Unmaintained,
    /// Informational: unsound.
    Unsound,
    /// Informational: notice.
    Notice,
}

impl FindingKind {
    /// The warning kind, for informational findings.
    pub fn warning_kind(self) -> Option<WarningKind> {
        match self {
            FindingKind::Vulnerability => None,
            FindingKind::Unmaintained => Some(WarningKind::Unmaintained),
            FindingKind::Unsound => Some(WarningKind::Unsound),
            FindingKind::Notice => Some(WarningKind::Notice),
        }
    }

    /// Lower-case name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Vulnerability => "vulnerability",
            FindingKind::Unmaintained => "unmaintained",
            FindingKind::Unsound => "unsound",
            FindingKind::Notice => "notice",
        }
    }
}

/// Package ecosystems understood by the auditor (OSV ecosystem names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Ecosystem {
    /// Rust crates (`crates.io`).
    #[serde(rename = "crates.io")]
    CratesIo,
    /// Python (`PyPI`).
    #[serde(rename = "PyPI")]
    PyPI,
    /// JavaScript (`npm`).
    #[serde(rename = "npm")]
    Npm,
    /// Go modules (`Go`).
    #[serde(rename = "Go")]
    Go,
}

impl Ecosystem {
    /// The OSV ecosystem string.
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::CratesIo => "crates.io",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Npm => "npm",
            Ecosystem::Go => "Go",
        }
    }

    /// Parse an OSV ecosystem string (`PyPI`, `crates.io`, ...); suffixes such as `:x` are not ours.
    pub fn from_osv(s: &str) -> Option<Ecosystem> {
        match s {
            "crates.io" => Some(Ecosystem::CratesIo),
            "PyPI" => Some(Ecosystem::PyPI),
            "npm" => Some(Ecosystem::Npm),
            "Go" => Some(Ecosystem::Go),
            _ => None,
        }
    }

    /// Normalise a package name for lookups (PEP 503 for PyPI, verbatim otherwise).
    pub fn normalize_name(self, name: &str) -> String {
        match self {
            Ecosystem::PyPI => lockfile::pep503_normalize(name),
            _ => name.to_string(),
        }
    }
}

/// Overall result of an audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditStatus {
    /// Every source was used.
    Ok,
    /// At least one source could not be used; the result may miss advisories.
    Degraded,
    /// The audit could not be trusted (no usable source, or degraded under `--strict`).
    Error,
}

/// One advisory source used (or attempted) by a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Short name (`rustsec`, `pypa`, `osv`, `osv-api`, ...).
    pub name: String,
    /// Layout / kind: `embedded`, `cache`, `rustsec-dir`, `osv-dir`, `osv-zip`, `pypa-dir`, `osv-api`.
    pub kind: String,
    /// Where it came from (path or URL).
    pub location: String,
    /// Upstream commit of the snapshot, when known.
    pub commit: Option<String>,
    /// Snapshot date (RFC 3339 or `YYYY-MM-DD`), when known.
    pub date: Option<String>,
    /// Licence of the advisory data, when known.
    pub license: Option<String>,
    /// Number of advisories in the source, when known without reading all of it.
    pub advisories: Option<usize>,
    /// Ecosystems this source holds advisory data for (a lockfile of any other ecosystem is
    /// not audited unless another source covers it).
    #[serde(default)]
    pub ecosystems: Vec<Ecosystem>,
    /// `true` when the source was read successfully.
    pub ok: bool,
    /// `true` when the source is the embedded snapshot or the update cache and its data is
    /// older than [`MAX_SNAPSHOT_AGE_DAYS`] (or undated): the result is then degraded.
    #[serde(default)]
    pub stale: bool,
    /// Why the source could not be used.
    pub error: Option<String>,
}

impl SourceInfo {
    /// A source that was read successfully, with nothing else known yet.
    pub fn new(
        name: impl Into<String>,
        kind: impl Into<String>,
        location: impl Into<String>,
    ) -> SourceInfo {
        SourceInfo {
            name: name.into(),
            kind: kind.into(),
            location: location.into(),
            commit: None,
            date: None,
            license: None,
            advisories: None,
            ecosystems: Vec::new(),
            ok: true,
            stale: false,
            error: None,
        }
    }

    /// The same source, declared to hold advisory data for `ecosystems`.
    pub fn covering(mut self, ecosystems: impl IntoIterator<Item = Ecosystem>) -> SourceInfo {
        let mut v: Vec<Ecosystem> = ecosystems.into_iter().collect();
        v.sort();
        v.dedup();
        self.ecosystems = v;
        self
    }

    /// The same source, marked as unusable for the reason `error`.
    pub fn failed(mut self, error: impl std::fmt::Display) -> SourceInfo {
        self.ok = false;
        self.error = Some(error.to_string());
        self
    }
}

/// One reported advisory for one locked package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFinding {
    /// `vulnerability`, `unmaintained`, `unsound` or `notice`.
    pub kind: FindingKind,
    /// Primary advisory id (RUSTSEC / PYSEC preferred, then GHSA, CVE, others).
    pub id: String,
    /// Every other id of the same vulnerability (merged over all sources).
    pub aliases: Vec<String>,
    /// Package name as written in the lockfile.
    pub package: String,
    /// Locked version.
    pub version: String,
    /// OSV ecosystem name (`crates.io`, `PyPI`, `npm`, `Go`).
    pub ecosystem: Ecosystem,
    /// Lockfile path (as given / relative to the audited directory or repository).
    pub lockfile: String,
    /// Smallest fixed version above the locked one, if any.
    pub fixed_in: Option<String>,
    /// Qualitative severity (`low`, `medium`, `high`, `critical`) when known.
    pub severity: Option<String>,
    /// One-line summary.
    pub summary: String,
    /// Advisory URL.
    pub url: Option<String>,
    /// Names of the sources that reported it.
    pub sources: Vec<String>,
    /// `true` if this finding fails the audit (vulnerabilities, and denied informational kinds).
    pub blocking: bool,
}

/// One lockfile that was audited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockfileInfo {
    /// Path as reported in findings.
    pub path: String,
    /// Format (`Cargo.lock`, `requirements.txt`, `poetry.lock`, ...).
    pub format: String,
    /// Packages audited from it (after `--no-dev`).
    pub packages: usize,
}

/// A lockfile that was found but not audited: its ecosystem has no loaded advisory data, or
/// its kind has no parser, or it could not be followed. Any entry makes the result degraded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotAudited {
    /// Path as reported in findings.
    pub path: String,
    /// Format, when it is one portcullis parses.
    pub format: Option<String>,
    /// Ecosystem, when known.
    pub ecosystem: Option<Ecosystem>,
    /// Why it was not audited.
    pub reason: String,
}

/// Result of an audit: the `--format json` schema (see docs/audit.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    /// Always [`AUDIT_SCHEMA`].
    pub schema: String,
    /// `ok`, `degraded` or `error`.
    pub status: AuditStatus,
    /// Every advisory source attempted.
    pub sources: Vec<SourceInfo>,
    /// Lockfiles audited.
    pub lockfiles: Vec<LockfileInfo>,
    /// Lockfiles found but not audited (the result is then degraded).
    #[serde(default)]
    pub not_audited: Vec<NotAudited>,
    /// Findings, sorted by lockfile, package, version, id.
    pub findings: Vec<AuditFinding>,
    /// Ids that matched but were ignored by `--ignore`.
    pub ignored: Vec<String>,
    /// Human-readable warnings (degraded sources, stale snapshots, unpinned requirements, ...).
    pub warnings: Vec<String>,
}

impl AuditReport {
    /// `true` when a blocking finding exists.
    pub fn has_blocking_findings(&self) -> bool {
        self.findings.iter().any(|f| f.blocking)
    }

    /// `true` when a source made the result degraded (unusable or out of date), as opposed
    /// to lockfiles that were not audited ([`AuditReport::not_audited`]).
    pub fn degraded_by_sources(&self) -> bool {
        self.sources.iter().any(|s| !s.ok || s.stale)
    }

    /// CLI exit code: 2 on error status, 1 on blocking findings, 0 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self.status {
            AuditStatus::Error => 2,
            _ if self.has_blocking_findings() => 1,
            _ => 0,
        }
    }
}

/// Errors that stop an audit.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// A lockfile (or included requirements file) could not be parsed.
    #[error("{file}{}: {message}", .line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        /// The file.
        file: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A `go.mod` file could not be parsed.
    #[error("{file}{}: {source}", .line.map(|l| format!(":{l}")).unwrap_or_default())]
    GoMod {
        /// The file.
        file: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// What is wrong.
        #[source]
        source: lockfile::GoModError,
    },
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An advisory source given with `--db` cannot be recognised.
    #[error("{path}: {message}")]
    Source {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The RustSec archive `db update` downloaded cannot be read or extracted.
    #[error("{url}: {source}")]
    RustsecArchive {
        /// Where the archive was downloaded from.
        url: String,
        /// What is wrong with it.
        #[source]
        source: advisory::RustsecArchiveError,
    },
    /// Git access failed in range mode.
    #[error("git: {0}")]
    Git(String),
    /// Anything else (bad option values, cache problems, ...).
    #[error("{0}")]
    Other(String),
}

/// Audit a lockfile, or every lockfile below a directory.
pub fn audit_path(path: &Path, opts: &AuditOptions) -> Result<AuditReport, AuditError> {
    let loaded = lockfile::load_path(path, opts.no_dev)?;
    run_audit(loaded.lockfiles, loaded.not_audited, opts, None)
}

/// Shared tail of [`audit_path`] and [`audit_range`]: load sources, match, build the report.
/// `only_new`, when given, keeps only findings for (lockfile, package, version) in that set.
pub(crate) fn run_audit(
    lockfiles: Vec<lockfile::ParsedLockfile>,
    mut not_audited: Vec<NotAudited>,
    opts: &AuditOptions,
    only_new: Option<&BTreeSet<(String, String, String)>>,
) -> Result<AuditReport, AuditError> {
    let mut warnings: Vec<String> = Vec::new();
    if lockfiles.is_empty() && not_audited.is_empty() {
        warnings.push("no lockfiles found; nothing to audit".into());
    }
    for lf in &lockfiles {
        warnings.extend(lf.warnings.iter().cloned());
    }
    let packages: Vec<&lockfile::LockedPackage> =
        lockfiles.iter().flat_map(|l| l.packages.iter()).collect();
    let loaded = advisory::load_sources(&packages, opts)?;
    let mut sources = loaded.infos.clone();
    for s in &sources {
        if let Some(err) = &s.error {
            warnings.push(format!(
                "DEGRADED: advisory source {} ({}) could not be used: {err}",
                s.name, s.location
            ));
        }
    }
    warnings.extend(loaded.warnings.iter().cloned());
    // A lockfile of an ecosystem no usable source has data for is not audited (in range mode:
    // only when the range changes it, i.e. introduces a package version).
    let covered: BTreeSet<Ecosystem> = sources
        .iter()
        .filter(|s| s.ok)
        .flat_map(|s| s.ecosystems.iter().copied())
        .collect();
    let (lockfiles, uncovered): (Vec<_>, Vec<_>) = lockfiles.into_iter().partition(|l| {
        let eco = l.format.ecosystem();
        covered.contains(&eco)
            || l.packages.is_empty()
            || only_new.is_some_and(|set| {
                !l.packages
                    .iter()
                    .any(|p| set.contains(&(l.display.clone(), p.name.clone(), p.version.clone())))
            })
    });
    for l in &uncovered {
        let eco = l.format.ecosystem();
        not_audited.push(NotAudited {
            path: l.display.clone(),
            format: Some(l.format.as_str().to_string()),
            ecosystem: Some(eco),
            reason: format!(
                "no advisory data loaded for {} ({} package(s) unchecked); pass a database with --db or run `portcullis db update --ecosystem {}`",
                eco.as_str(),
                l.packages.len(),
                eco.as_str()
            ),
        });
    }
    not_audited.sort_by(|a, b| a.path.cmp(&b.path));
    for n in &not_audited {
        warnings.push(format!("{}: NOT AUDITED: {}", n.path, n.reason));
    }
    let (findings, ignored) = matching::match_lockfiles(&lockfiles, &loaded.index, opts, only_new);
    let any_failed = sources.iter().any(|s| !s.ok || s.stale) || !not_audited.is_empty();
    let any_ok = sources.iter().any(|s| s.ok);
    let status = if !any_ok {
        warnings.push("ERROR: no advisory source could be used; nothing was audited".into());
        AuditStatus::Error
    } else if any_failed && opts.strict {
        warnings.push("ERROR: degraded result is an error under --strict".into());
        AuditStatus::Error
    } else if any_failed {
        AuditStatus::Degraded
    } else {
        AuditStatus::Ok
    };
    sources.sort_by(|a, b| a.name.cmp(&b.name).then(a.location.cmp(&b.location)));
    Ok(AuditReport {
        schema: AUDIT_SCHEMA.to_string(),
        status,
        sources,
        lockfiles: lockfiles
            .iter()
            .map(|l| LockfileInfo {
                path: l.display.clone(),
                format: l.format.as_str().to_string(),
                packages: l.packages.len(),
            })
            .collect(),
        not_audited,
        findings,
        ignored,
        warnings,
    })
}
