//! The fail-closed verdict reader of every portcullis report: chooses the schema's validator
//! and reads the verdict with [`read_verdict_checked`].

use std::path::Path;

use super::verdict::{
    ALL_SCHEMA, MERGE_SCHEMA, Outcome, SECURITY_SCHEMA, SchemaError, Verdict, read_verdict_checked,
};

/// The validator of any known schema.
fn validate_any(
    schema: &str,
    fm: &serde_norway::Mapping,
) -> Result<(Outcome, Vec<String>), SchemaError> {
    match schema {
        SECURITY_SCHEMA => super::schema_security::validate(fm),
        MERGE_SCHEMA => super::schema_merge::validate(fm),
        ALL_SCHEMA => super::schema_all::validate(fm),
        other => Err(SchemaError::from(format!("unknown schema '{other}'"))),
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
    read_verdict_checked(path, &validate_any)
}

/// The commit a report vouches for: `head_commit` of a security report, `tested_sha` of a
/// merge report (the commit to merge).
pub fn report_head(v: &Verdict) -> Option<&str> {
    let fm = v.frontmatter.as_ref()?;
    let key = match v.schema.as_str() {
        SECURITY_SCHEMA => "head_commit",
        MERGE_SCHEMA => "tested_sha",
        _ => return None,
    };
    fm.get(key).and_then(|h| h.as_str())
}

/// [`read_verdict`] bound to a commit: a PASS counts only if the report names `head` (a full
/// commit id, or an abbreviation of at least 7 hex digits) as the commit it checked;
/// otherwise the verdict is FAIL. A pipeline that gates commit X reads the report with X,
/// so a report left over from an earlier run on another commit never passes it.
///
/// ```
/// use portcullis::report::{read_verdict_for_head, Outcome};
/// let v = read_verdict_for_head(std::path::Path::new("/nonexistent.md"), "0123456");
/// assert_eq!(v.outcome, Outcome::Fail);
/// ```
pub fn read_verdict_for_head(path: &Path, head: &str) -> Verdict {
    let v = read_verdict(path);
    if v.outcome != Outcome::Pass {
        return v;
    }
    let wanted = head.trim().to_ascii_lowercase();
    if wanted.len() < 7 || wanted.len() > 64 || !wanted.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Verdict {
            outcome: Outcome::Fail,
            reasons: vec![format!(
                "--head '{head}' is not a commit id (at least 7 hex digits)"
            )],
            ..v
        };
    }
    match report_head(&v).map(str::to_ascii_lowercase) {
        Some(named) if named.starts_with(&wanted) => v,
        Some(named) => Verdict {
            outcome: Outcome::Fail,
            reasons: vec![format!(
                "{}: the report is for commit {named}, not {wanted}",
                path.display()
            )],
            ..v
        },
        None => Verdict {
            outcome: Outcome::Fail,
            reasons: vec![format!(
                "{}: the report names no commit it checked, so it cannot vouch for {wanted}",
                path.display()
            )],
            ..v
        },
    }
}
