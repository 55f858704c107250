//! Verdicts and the fail-closed verdict reader shared by both gates.
//!
//! The verdict of a gate lives only in the YAML frontmatter of its Markdown report. Programs
//! that consume the report call [`read_verdict`], which returns [`Outcome::Fail`] for anything
//! it cannot fully trust: a missing file, broken fences, YAML that does not parse, an unknown
//! schema, a missing or unknown `verdict`, or fields that contradict the verdict.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::frontmatter::read_frontmatter;

/// Schema id of security gate reports.
pub const SECURITY_SCHEMA: &str = "portcullis/security-report/v1";
/// Schema id of merge gate reports.
pub const MERGE_SCHEMA: &str = "portcullis/merge-report/v1";
/// Schema id of `gate all` reports.
pub const ALL_SCHEMA: &str = "portcullis/gate-all-report/v1";

/// A gate outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Outcome {
    /// The gate passed.
    Pass,
    /// The gate failed (also: anything unreadable or contradictory).
    Fail,
    /// Merge gate only: the repository's lease is busy, retry later.
    Defer,
}

impl Outcome {
    /// The upper-case spelling used in reports (`PASS`, `FAIL`, `DEFER`).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::Defer => "DEFER",
        }
    }

    /// Parse the exact upper-case spelling; anything else is `None`.
    pub fn parse(s: &str) -> Option<Outcome> {
        match s {
            "PASS" => Some(Outcome::Pass),
            "FAIL" => Some(Outcome::Fail),
            "DEFER" => Some(Outcome::Defer),
            _ => None,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A verdict as read back from a report file.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// PASS, FAIL or DEFER.
    pub outcome: Outcome,
    /// The report schema id (empty when the file could not be read).
    pub schema: String,
    /// Why: the report's own `reasons`, or what made the reader fail closed.
    pub reasons: Vec<String>,
    /// The whole frontmatter mapping, when it parsed.
    pub frontmatter: Option<serde_norway::Mapping>,
}

impl Verdict {
    /// A FAIL verdict with one reason and no frontmatter.
    pub fn fail(reason: impl Into<String>) -> Verdict {
        Verdict {
            outcome: Outcome::Fail,
            schema: String::new(),
            reasons: vec![reason.into()],
            frontmatter: None,
        }
    }

    /// True only for PASS.
    pub fn is_pass(&self) -> bool {
        self.outcome == Outcome::Pass
    }
}

/// Read the verdict of any portcullis report, failing closed.
///
/// ```
/// use portcullis::report::{read_verdict, Outcome};
/// let v = read_verdict(std::path::Path::new("/nonexistent/report.md"));
/// assert_eq!(v.outcome, Outcome::Fail);
///
/// // A security report whose PASS its own counts contradict reads back as FAIL.
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("security-report.md");
/// let report = "---\nschema: portcullis/security-report/v1\nverdict: PASS\nreasons: []\n\
///     skipped: false\nsecrets: {status: ok, findings: 2, errors: []}\n\
///     dependencies: {status: ok, vulnerabilities: 0, warnings: []}\n\
///     policy: {dep_audit_fail_closed: false}\n---\n\n# Security gate: PASS\n";
/// std::fs::write(&path, report).unwrap();
/// let v = read_verdict(&path);
/// assert_eq!(v.outcome, Outcome::Fail);
/// assert!(v.reasons[0].contains("secrets.findings = 2"));
///
/// std::fs::write(&path, report.replace("findings: 2", "findings: 0")).unwrap();
/// assert_eq!(read_verdict(&path).outcome, Outcome::Pass);
/// ```
pub fn read_verdict(path: &Path) -> Verdict {
    let fm = match read_frontmatter(path) {
        Ok(m) => m,
        Err(e) => return Verdict::fail(format!("unreadable report: {e}")),
    };
    let schema = match fm.get("schema").and_then(|v| v.as_str()) {
        Some(s) => s.to_string(),
        None => {
            return Verdict::fail(format!(
                "{}: frontmatter has no 'schema' string",
                path.display()
            ));
        }
    };
    let checked = match schema.as_str() {
        SECURITY_SCHEMA => super::schema_security::validate(&fm),
        MERGE_SCHEMA => super::schema_merge::validate(&fm),
        ALL_SCHEMA => super::schema_all::validate(&fm),
        other => Err(format!("unknown schema '{other}'")),
    };
    match checked {
        Ok((outcome, reasons)) => Verdict {
            outcome,
            schema,
            reasons,
            frontmatter: Some(fm),
        },
        Err(msg) => Verdict {
            outcome: Outcome::Fail,
            schema,
            reasons: vec![format!("{}: {msg}", path.display())],
            frontmatter: Some(fm),
        },
    }
}

/// Read the `verdict` key and check it is one of `allowed`. Helper for schema validators.
pub fn verdict_field(fm: &serde_norway::Mapping, allowed: &[Outcome]) -> Result<Outcome, String> {
    let raw = fm
        .get("verdict")
        .ok_or("frontmatter has no 'verdict'")?
        .as_str()
        .ok_or("'verdict' is not a string")?;
    let outcome = Outcome::parse(raw).ok_or_else(|| format!("unknown verdict '{raw}'"))?;
    if !allowed.contains(&outcome) {
        return Err(format!("verdict '{raw}' is not allowed by this schema"));
    }
    Ok(outcome)
}

/// Read the `reasons` key as a list of strings (missing = empty). Helper for validators.
pub fn reasons_field(fm: &serde_norway::Mapping) -> Result<Vec<String>, String> {
    match fm.get("reasons") {
        None | Some(serde_norway::Value::Null) => Ok(Vec::new()),
        Some(serde_norway::Value::Sequence(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| "'reasons' has a non-string entry".to_string())
            })
            .collect(),
        Some(_) => Err("'reasons' is not a list".into()),
    }
}
