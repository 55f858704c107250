//! Plain data of one security gate run: what the two scanners found, and the frontmatter of
//! the `portcullis/security-report/v1` report built from it.

use serde::Serialize;

use crate::report::Finding;

/// Status of the secret scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SecretsStatus {
    /// The range was scanned completely.
    Ok,
    /// Something could not be scanned (missing object, invalid config, panic, timeout).
    Error,
    /// The gate did not run (disabled or out of scope).
    Skipped,
}

/// Status of the dependency audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DependenciesStatus {
    /// Every advisory source was available.
    Ok,
    /// An advisory source was unreachable or unreadable; the result may be incomplete.
    Degraded,
    /// The audit could not run (unparsable lockfile, unreadable repository, ...).
    Error,
    /// The gate did not run.
    Skipped,
}

/// Result of the secret scan of `merge_base..head`.
#[derive(Debug, Clone)]
pub struct SecretsPart {
    /// Overall status.
    pub status: SecretsStatus,
    /// Findings with raw secrets (kept in memory only; the report redacts them).
    pub findings: Vec<Finding>,
    /// Scanner errors, one line each.
    pub errors: Vec<String>,
    /// Scanner warnings (shallow boundary, skipped blobs, config warnings).
    pub warnings: Vec<String>,
    /// Commits scanned.
    pub commits_scanned: u64,
    /// Bytes scanned.
    pub bytes_scanned: u64,
}

impl SecretsPart {
    /// A scan that could not run at all.
    pub fn error(msg: impl Into<String>) -> SecretsPart {
        SecretsPart {
            status: SecretsStatus::Error,
            findings: Vec::new(),
            errors: vec![msg.into()],
            warnings: Vec::new(),
            commits_scanned: 0,
            bytes_scanned: 0,
        }
    }
}

/// One vulnerable package version introduced by the branch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Vulnerability {
    /// Advisory kind (`vulnerability`, or an informational kind that was denied).
    pub kind: String,
    /// Advisory id (RUSTSEC-…, GHSA-…, PYSEC-…).
    pub id: String,
    /// Other ids of the same advisory.
    pub aliases: Vec<String>,
    /// Package name.
    pub package: String,
    /// Locked version the branch introduces.
    pub version: String,
    /// Ecosystem (`crates.io`, `PyPI`, ...).
    pub ecosystem: String,
    /// Lockfile path in the repository.
    pub lockfile: String,
    /// Smallest fixed version, if any.
    pub fixed_in: Option<String>,
    /// Severity, if the advisory gives one.
    pub severity: Option<String>,
    /// One-line summary.
    pub summary: String,
}

/// One advisory source used by the audit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceEntry {
    /// Source name (e.g. `rustsec`, `osv`, `osv-api`).
    pub name: String,
    /// Layout / kind (`embedded`, `cache`, `rustsec-dir`, `osv-api`, ...).
    pub kind: String,
    /// Where it came from (path or URL).
    pub location: String,
    /// Snapshot date (`YYYY-MM-DD`) when known.
    pub snapshot_date: Option<String>,
}

/// Result of the dependency audit of the lockfiles `merge_base..head` changes.
#[derive(Debug, Clone)]
pub struct DepsPart {
    /// Overall status.
    pub status: DependenciesStatus,
    /// Vulnerabilities introduced by the branch (after `ignore`).
    pub vulnerabilities: Vec<Vulnerability>,
    /// Warnings (degraded sources, stale snapshots, informational advisories).
    pub warnings: Vec<String>,
    /// Errors that made the audit fail.
    pub errors: Vec<String>,
    /// Advisory sources with their snapshot dates.
    pub sources: Vec<SourceEntry>,
}

impl DepsPart {
    /// An audit that could not run at all.
    pub fn error(msg: impl Into<String>) -> DepsPart {
        DepsPart {
            status: DependenciesStatus::Error,
            vulnerabilities: Vec::new(),
            warnings: Vec::new(),
            errors: vec![msg.into()],
            sources: Vec::new(),
        }
    }
}

/// `secrets` section of the frontmatter.
#[derive(Debug, Clone, Serialize)]
pub struct SecretsSection {
    /// `ok`, `error` or `skipped`.
    pub status: SecretsStatus,
    /// Number of findings.
    pub findings: u64,
    /// Scanner errors (one line each).
    pub errors: Vec<String>,
    /// Scanner warnings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Commits scanned.
    pub commits_scanned: u64,
    /// Bytes scanned.
    pub bytes_scanned: u64,
}

/// `dependencies` section of the frontmatter.
#[derive(Debug, Clone, Serialize)]
pub struct DependenciesSection {
    /// `ok`, `degraded`, `error` or `skipped`.
    pub status: DependenciesStatus,
    /// Number of vulnerable package versions the branch introduces.
    pub vulnerabilities: u64,
    /// Warnings (a degraded audit says why here).
    pub warnings: Vec<String>,
    /// Errors that made the audit fail.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// Advisory sources and their snapshot dates.
    pub sources: Vec<SourceEntry>,
}

/// `policy` section: the effective settings the verdict was computed under.
#[derive(Debug, Clone, Serialize)]
pub struct PolicySection {
    /// `enabled` setting.
    pub enabled: bool,
    /// `repos` setting.
    pub repos: Vec<String>,
    /// `dep_audit_fail_closed` setting.
    pub dep_audit_fail_closed: bool,
    /// `timeout_s` setting.
    pub timeout_s: u64,
    /// `max_target_megabytes` setting.
    pub max_target_megabytes: Option<u64>,
    /// The settings file that was read, if any.
    pub settings_file: Option<String>,
    /// Lockfile paths/prefixes left out of the dependency audit (`--audit-exclude`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dep_audit_exclude: Vec<String>,
}

/// `tool` section.
#[derive(Debug, Clone, Serialize)]
pub struct ToolSection {
    /// Always `portcullis`.
    pub name: String,
    /// Crate version.
    pub version: String,
}

impl Default for ToolSection {
    fn default() -> Self {
        ToolSection {
            name: "portcullis".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// Where the gate's time went (`timings_ms` in the frontmatter), in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Timings {
    /// Resolving head and the merge-base.
    pub resolve_ms: u64,
    /// The secret scan (config, detector, history scan).
    pub secrets_ms: u64,
    /// The dependency audit (runs concurrently with the secret scan).
    pub dependencies_ms: u64,
}

/// The whole `portcullis/security-report/v1` frontmatter, in the order it is written.
#[derive(Debug, Clone, Serialize)]
pub struct SecurityFrontmatter {
    /// Always [`SECURITY_SCHEMA`](crate::report::verdict::SECURITY_SCHEMA).
    pub schema: String,
    /// `PASS` or `FAIL`.
    pub verdict: String,
    /// Why (one line each); empty only for a clean PASS.
    pub reasons: Vec<String>,
    /// True when the gate did not run (disabled or out of scope).
    pub skipped: bool,
    /// Repository work-tree root.
    pub repo: String,
    /// Base revision as given.
    pub base: String,
    /// Head revision as given.
    pub head: String,
    /// Merge-base of base and head (null when it could not be computed or the gate skipped).
    pub merge_base: Option<String>,
    /// Resolved head commit.
    pub head_commit: Option<String>,
    /// The scanned range `merge_base..head_commit`.
    pub range: Option<String>,
    /// Secret scan.
    pub secrets: SecretsSection,
    /// Dependency audit.
    pub dependencies: DependenciesSection,
    /// Effective settings.
    pub policy: PolicySection,
    /// Tool name and version.
    pub tool: ToolSection,
    /// Which gitleaks configuration the secret scan used.
    pub config: Option<String>,
    /// SHA-256 of that configuration's text.
    pub config_sha256: Option<String>,
    /// Start time, UTC RFC 3339.
    pub started_at: String,
    /// Wall time of the whole gate in milliseconds (up to writing the report).
    pub duration_ms: u64,
    /// Time per phase, when the gate ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timings_ms: Option<Timings>,
}
