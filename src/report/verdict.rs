//! Verdicts and the fail-closed verdict reader shared by both gates.
//!
//! The verdict of a gate lives only in the YAML frontmatter of its Markdown report. Programs
//! that consume the report call [`read_verdict`](super::read_verdict), which returns [`Outcome::Fail`] for anything
//! it cannot fully trust: a missing file, broken fences, YAML that does not parse, an unknown
//! schema, a missing or unknown `verdict`, or fields that contradict the verdict.

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::frontmatter::read_frontmatter_raw;

/// Schema id of security gate reports.
pub const SECURITY_SCHEMA: &str = "portcullis/security-report/v1";
/// Schema id of merge gate reports.
pub const MERGE_SCHEMA: &str = "portcullis/merge-report/v1";
/// Schema id of `gate all` reports.
pub const ALL_SCHEMA: &str = "portcullis/gate-all-report/v1";

/// Schema id of the JSON object the gates and `verdict` print with `--format json`.
pub const GATE_OUTPUT_SCHEMA: &str = "portcullis/gate-output/v1";

/// Short name of [`GateOutcome`] (the gates' own code and reports say "outcome").
pub type Outcome = GateOutcome;

/// Short name of [`GateVerdict`].
pub type Verdict = GateVerdict;

/// The outcome of a gate: PASS, FAIL or DEFER.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum GateOutcome {
    /// The gate passed.
    Pass,
    /// The gate failed (also: anything unreadable or contradictory).
    Fail,
    /// Merge gate only: the repository's lease is busy, retry later.
    Defer,
}

impl GateOutcome {
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

impl fmt::Display for GateOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A gate's verdict as read back from its report file.
#[derive(Debug, Clone, PartialEq)]
pub struct GateVerdict {
    /// PASS, FAIL or DEFER.
    pub outcome: Outcome,
    /// The report schema id (empty when the file could not be read).
    pub schema: String,
    /// Why: the report's own `reasons`, or what made the reader fail closed.
    pub reasons: Vec<String>,
    /// The whole frontmatter mapping, when it parsed.
    pub frontmatter: Option<serde_norway::Mapping>,
}

impl GateVerdict {
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

/// The check of a report's frontmatter for its schema id: the outcome and reasons, or why the
/// frontmatter cannot be trusted (an unknown schema included).
pub type SchemaCheck =
    dyn Fn(&str, &serde_norway::Mapping) -> Result<(Outcome, Vec<String>), SchemaError>;

/// Read a report's verdict, failing closed, with `validate` as the schema check: everything
/// [`read_verdict`](super::read_verdict) does except choosing the schema's validator.
pub fn read_verdict_checked(path: &Path, validate: &SchemaCheck) -> Verdict {
    let (fm, yaml) = match read_frontmatter_raw(path) {
        Ok(m) => m,
        Err(e) => return Verdict::fail(format!("unreadable report: {e}")),
    };
    if let Some(at) = find_tag(&serde_norway::Value::Mapping(fm.clone()), "") {
        return Verdict::fail(format!(
            "{}: frontmatter has a YAML tag at '{at}'; reports never use tags",
            path.display()
        ));
    }
    let schema = match fm.get("schema").and_then(|v| v.as_str()) {
        Some(s) => s.to_string(),
        None => {
            return Verdict::fail(format!(
                "{}: frontmatter has no 'schema' string",
                path.display()
            ));
        }
    };
    let checked = validate(&schema, &fm).and_then(|(outcome, reasons)| {
        // The verdict must be written as the writer writes it: a plain scalar on its own
        // top-level line (not quoted, not a block scalar, not built from an alias).
        let line = format!("verdict: {}", outcome.as_str());
        if yaml.lines().any(|l| l.trim_end() == line) {
            Ok((outcome, reasons))
        } else {
            Err(SchemaError::from(format!(
                "'verdict' is not written as the plain line '{line}'"
            )))
        }
    });
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

/// The path of the first YAML tag (`!tag value`) inside `v`, if any.
fn find_tag(v: &serde_norway::Value, at: &str) -> Option<String> {
    use serde_norway::Value;
    match v {
        Value::Tagged(_) => Some(if at.is_empty() {
            "(root)".into()
        } else {
            at.into()
        }),
        Value::Sequence(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_tag(item, &format!("{at}[{i}]"))),
        Value::Mapping(m) => m.iter().find_map(|(k, val)| {
            let name = k.as_str().map(str::to_string).unwrap_or_else(|| "?".into());
            let here = if at.is_empty() {
                name
            } else {
                format!("{at}.{name}")
            };
            find_tag(k, &here).or_else(|| find_tag(val, &here))
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => None,
    }
}

/// Why a report's frontmatter cannot be trusted (the reader turns it into FAIL); the
/// message is the reason the FAIL verdict gives.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// A field holds a value of the wrong type.
    #[error("'{key}' is not a {expected}")]
    WrongType {
        /// The field, dotted from the top level (`secrets.findings`).
        key: String,
        /// What it should be (`boolean`, `list`, `non-negative integer`, ...).
        expected: &'static str,
    },
    /// A report the frontmatter refers to could not be read.
    #[error("{key}: {source}")]
    Referenced {
        /// The field that names the report (`security_report`).
        key: String,
        /// Why it could not be read.
        #[source]
        source: Box<super::frontmatter::FrontmatterError>,
    },
    /// A missing field, an unknown value, or fields that contradict the verdict.
    #[error("{0}")]
    Untrusted(String),
}

impl SchemaError {
    /// `key` is not a value of type `expected`.
    pub fn not_a(key: impl Into<String>, expected: &'static str) -> Self {
        SchemaError::WrongType {
            key: key.into(),
            expected,
        }
    }
}

impl From<String> for SchemaError {
    fn from(reason: String) -> Self {
        SchemaError::Untrusted(reason)
    }
}

impl From<&str> for SchemaError {
    fn from(reason: &str) -> Self {
        SchemaError::Untrusted(reason.to_string())
    }
}

/// Read the `verdict` key and check it is one of `allowed`. Helper for schema validators.
pub fn verdict_field(
    fm: &serde_norway::Mapping,
    allowed: &[Outcome],
) -> Result<Outcome, SchemaError> {
    let raw = fm
        .get("verdict")
        .ok_or_else(|| SchemaError::from("frontmatter has no 'verdict'"))?
        .as_str()
        .ok_or_else(|| SchemaError::not_a("verdict", "string"))?;
    let outcome =
        Outcome::parse(raw).ok_or_else(|| SchemaError::from(format!("unknown verdict '{raw}'")))?;
    if !allowed.contains(&outcome) {
        return Err(SchemaError::from(format!(
            "verdict '{raw}' is not allowed by this schema"
        )));
    }
    Ok(outcome)
}

/// Read the `reasons` key as a list of strings (missing = empty). Helper for validators.
pub fn reasons_field(fm: &serde_norway::Mapping) -> Result<Vec<String>, SchemaError> {
    match fm.get("reasons") {
        None | Some(serde_norway::Value::Null) => Ok(Vec::new()),
        Some(serde_norway::Value::Sequence(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| SchemaError::from("'reasons' has a non-string entry"))
            })
            .collect(),
        Some(_) => Err(SchemaError::not_a("reasons", "list")),
    }
}
/// The `--format json` object of a gate or `verdict` run (schema [`GATE_OUTPUT_SCHEMA`]): the
/// verdict as read back from the report, so it says exactly what the report file says;
/// `frontmatter` is `null` when no report could be read.
pub fn verdict_json(
    command: &str,
    verdict: &Verdict,
    report_file: Option<&Path>,
    exit_code: i32,
) -> serde_json::Value {
    let frontmatter = verdict
        .frontmatter
        .as_ref()
        .and_then(|fm| serde_json::to_value(fm).ok())
        .unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "schema": GATE_OUTPUT_SCHEMA,
        "command": command,
        "verdict": verdict.outcome.as_str(),
        "exit_code": exit_code,
        "report_file": report_file.map(|p| p.display().to_string()),
        "report_schema": if verdict.schema.is_empty() { serde_json::Value::Null } else { serde_json::Value::from(verdict.schema.clone()) },
        "reasons": verdict.reasons,
        "frontmatter": frontmatter,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_report_prints_fail_with_null_frontmatter() {
        let v = Verdict::fail("boom");
        let j = verdict_json("verdict", &v, Some(Path::new("/x/r.md")), 1);
        assert_eq!(j["schema"], GATE_OUTPUT_SCHEMA);
        assert_eq!(j["verdict"], "FAIL");
        assert_eq!(j["exit_code"], 1);
        assert_eq!(j["report_schema"], serde_json::Value::Null);
        assert_eq!(j["frontmatter"], serde_json::Value::Null);
        assert_eq!(j["reasons"][0], "boom");
    }
}
