//! Validation of `portcullis/security-report/v1` frontmatter (fields in docs/reports.md).
//!
//! The validator is the second half of the gate's fail-closed contract: the gate writes its
//! verdict to a file and trusts only what this validator accepts when the file is read back.
//! A FAIL is always accepted (FAIL from any part is authoritative) as long as it says why.
//! A PASS is accepted only when every field that could contradict it agrees with it:
//!
//! * `skipped: true` — a PASS with at least one reason (why the gate did not run);
//! * otherwise `secrets.status` is `ok` with `findings: 0` and no `errors`,
//!   `dependencies.status` is `ok` or `degraded` with `vulnerabilities: 0`, and `degraded`
//!   only when `policy.dep_audit_fail_closed` is `false`.
//!
//! Anything else (a missing section, a count that is not a non-negative integer, a status
//! outside its set) is reported as a reason the file cannot be trusted, which
//! [`read_verdict`](super::read_verdict) turns into FAIL.

use serde_norway::{Mapping, Value};

use super::verdict::{Outcome, SchemaError, reasons_field, verdict_field};

/// Values allowed in `secrets.status`.
pub const SECRETS_STATUSES: &[&str] = &["ok", "error", "skipped"];
/// Values allowed in `dependencies.status`.
pub const DEPENDENCIES_STATUSES: &[&str] = &["ok", "degraded", "error", "skipped"];

/// Check a security report's frontmatter; returns the outcome and reasons, or why it cannot be
/// trusted (which the reader turns into FAIL).
pub fn validate(fm: &Mapping) -> Result<(Outcome, Vec<String>), SchemaError> {
    let outcome = verdict_field(fm, &[Outcome::Pass, Outcome::Fail])?;
    let reasons = reasons_field(fm)?;
    if outcome == Outcome::Fail {
        if reasons.is_empty() {
            return Err(SchemaError::from("verdict FAIL with no reasons"));
        }
        return Ok((outcome, reasons));
    }
    // PASS from here on: every field must agree.
    let skipped = match fm.get("skipped") {
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(SchemaError::not_a("skipped", "boolean")),
        None => {
            return Err(SchemaError::from(
                "verdict PASS but frontmatter has no 'skipped'",
            ));
        }
    };
    if skipped {
        if reasons.is_empty() {
            return Err(SchemaError::from(
                "skipped PASS does not say why it was skipped",
            ));
        }
        check_skipped_counts(fm)?;
        return Ok((outcome, reasons));
    }
    check_pass_secrets(fm)?;
    check_pass_dependencies(fm)?;
    Ok((outcome, reasons))
}

fn section<'a>(fm: &'a Mapping, key: &str) -> Result<&'a Mapping, SchemaError> {
    match fm.get(key) {
        Some(Value::Mapping(m)) => Ok(m),
        Some(_) => Err(SchemaError::not_a(key, "mapping")),
        None => Err(SchemaError::from(format!(
            "verdict PASS but frontmatter has no '{key}'"
        ))),
    }
}

fn status<'a>(m: &'a Mapping, key: &str, allowed: &[&str]) -> Result<&'a str, SchemaError> {
    let s = m
        .get("status")
        .ok_or_else(|| SchemaError::from(format!("'{key}' has no 'status'")))?
        .as_str()
        .ok_or_else(|| SchemaError::not_a(format!("{key}.status"), "string"))?;
    if !allowed.contains(&s) {
        return Err(SchemaError::from(format!("unknown {key}.status '{s}'")));
    }
    Ok(s)
}

fn count(m: &Mapping, section: &str, key: &str) -> Result<u64, SchemaError> {
    match m.get(key) {
        Some(v) => v
            .as_u64()
            .ok_or_else(|| SchemaError::not_a(format!("{section}.{key}"), "non-negative integer")),
        None => Err(SchemaError::from(format!("'{section}' has no '{key}'"))),
    }
}

fn list_len(m: &Mapping, section: &str, key: &str) -> Result<usize, SchemaError> {
    match m.get(key) {
        Some(Value::Sequence(items)) => Ok(items.len()),
        Some(Value::Null) | None => Ok(0),
        Some(_) => Err(SchemaError::not_a(format!("{section}.{key}"), "list")),
    }
}

/// A skipped report has nothing to count; any count it does carry must be zero.
fn check_skipped_counts(fm: &Mapping) -> Result<(), SchemaError> {
    for (sec, key) in [("secrets", "findings"), ("dependencies", "vulnerabilities")] {
        if let Some(Value::Mapping(m)) = fm.get(sec)
            && m.get(key).is_some()
            && count(m, sec, key)? > 0
        {
            return Err(SchemaError::from(format!(
                "skipped PASS contradicts {sec}.{key} > 0"
            )));
        }
    }
    Ok(())
}

fn check_pass_secrets(fm: &Mapping) -> Result<(), SchemaError> {
    let s = section(fm, "secrets")?;
    match status(s, "secrets", SECRETS_STATUSES)? {
        "ok" => {}
        other => {
            return Err(SchemaError::from(format!(
                "verdict PASS contradicts secrets.status '{other}'"
            )));
        }
    }
    let findings = count(s, "secrets", "findings")?;
    if findings > 0 {
        return Err(SchemaError::from(format!(
            "verdict PASS contradicts secrets.findings = {findings}"
        )));
    }
    let errors = list_len(s, "secrets", "errors")?;
    if errors > 0 {
        return Err(SchemaError::from(format!(
            "verdict PASS contradicts {errors} secret scan error(s)"
        )));
    }
    Ok(())
}

fn check_pass_dependencies(fm: &Mapping) -> Result<(), SchemaError> {
    let d = section(fm, "dependencies")?;
    let st = status(d, "dependencies", DEPENDENCIES_STATUSES)?;
    let vulns = count(d, "dependencies", "vulnerabilities")?;
    if vulns > 0 {
        return Err(SchemaError::from(format!(
            "verdict PASS contradicts dependencies.vulnerabilities = {vulns}"
        )));
    }
    list_len(d, "dependencies", "warnings")?;
    match st {
        "ok" => Ok(()),
        "degraded" => {
            let policy = section(fm, "policy")?;
            match policy.get("dep_audit_fail_closed") {
                Some(Value::Bool(false)) => Ok(()),
                Some(Value::Bool(true)) => Err(
                    "verdict PASS contradicts dependencies.status 'degraded' under \
                     policy.dep_audit_fail_closed"
                        .into(),
                ),
                Some(_) => Err(SchemaError::not_a(
                    "policy.dep_audit_fail_closed",
                    "boolean",
                )),
                None => Err(SchemaError::from("'policy' has no 'dep_audit_fail_closed'")),
            }
        }
        other => Err(SchemaError::from(format!(
            "verdict PASS contradicts dependencies.status '{other}'"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fm(yaml: &str) -> Mapping {
        serde_norway::from_str(yaml).unwrap()
    }

    const PASS: &str = "verdict: PASS\nreasons: []\nskipped: false\n\
        secrets: {status: ok, findings: 0, errors: []}\n\
        dependencies: {status: ok, vulnerabilities: 0, warnings: []}\n\
        policy: {dep_audit_fail_closed: false}\n";

    #[test]
    fn consistent_pass_is_accepted() {
        assert_eq!(validate(&fm(PASS)).unwrap().0, Outcome::Pass);
    }

    #[test]
    fn degraded_pass_depends_on_policy() {
        let ok = PASS.replace(
            "status: ok, vulnerabilities",
            "status: degraded, vulnerabilities",
        );
        assert_eq!(validate(&fm(&ok)).unwrap().0, Outcome::Pass);
        let closed = ok.replace(
            "dep_audit_fail_closed: false",
            "dep_audit_fail_closed: true",
        );
        let e = validate(&fm(&closed)).unwrap_err();
        assert!(e.to_string().contains("degraded"), "{e}");
    }

    #[test]
    fn contradicting_counts_are_rejected() {
        for (from, to, needle) in [
            ("findings: 0", "findings: 2", "secrets.findings"),
            ("findings: 0", "findings: -1", "non-negative"),
            ("findings: 0", "findings: '0'", "non-negative"),
            ("errors: []", "errors: [boom]", "scan error"),
            (
                "status: ok, findings",
                "status: error, findings",
                "secrets.status",
            ),
            (
                "vulnerabilities: 0",
                "vulnerabilities: 1",
                "vulnerabilities",
            ),
            (
                "status: ok, vulnerabilities",
                "status: error, vulnerabilities",
                "dependencies.status",
            ),
            ("skipped: false", "skipped: maybe", "skipped"),
        ] {
            let text = PASS.replacen(from, to, 1);
            assert_ne!(text, PASS);
            let e = validate(&fm(&text)).unwrap_err();
            assert!(e.to_string().contains(needle), "{to}: {e}");
        }
    }

    #[test]
    fn fail_needs_reasons_and_skipped_pass_needs_a_reason() {
        assert!(validate(&fm("verdict: FAIL\nreasons: []\nskipped: false\n")).is_err());
        let (o, r) = validate(&fm("verdict: FAIL\nreasons: [x]\nskipped: false\n")).unwrap();
        assert_eq!((o, r), (Outcome::Fail, vec!["x".to_string()]));
        assert!(validate(&fm("verdict: PASS\nreasons: []\nskipped: true\n")).is_err());
        assert_eq!(
            validate(&fm("verdict: PASS\nreasons: [disabled]\nskipped: true\n"))
                .unwrap()
                .0,
            Outcome::Pass
        );
        assert!(validate(&fm("verdict: DEFER\nreasons: [x]\nskipped: false\n")).is_err());
    }
}
