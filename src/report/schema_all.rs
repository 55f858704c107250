//! Validation of `portcullis/gate-all-report/v1` frontmatter (the report of `gate all`).
//!
//! Besides the verdict itself, the validator rejects reports whose fields contradict it:
//!
//! * PASS must not carry a `reason`, must name `security_report` and `merge_report`, and both
//!   must read back (with their own validators) as PASS; with `land: true` it must carry
//!   `tested_sha` and a `landed_sha` equal to it, and must not claim `lease_held`.
//! * FAIL must carry a non-empty `reason` and must not claim `lease_held` or `landed_sha`.
//! * DEFER must carry a positive `retry_after_s` and must not claim `lease_held` or
//!   `landed_sha`.

use std::path::Path;

use serde_norway::{Mapping, Value};

use super::frontmatter::read_frontmatter;
use super::verdict::{
    MERGE_SCHEMA, Outcome, SECURITY_SCHEMA, SchemaError, read_verdict_checked, reasons_field,
    verdict_field,
};

/// Read a sub-report (a security or merge report) as the reader does.
fn read_verdict(path: &Path) -> super::Verdict {
    read_verdict_checked(path, &|schema, fm| match schema {
        SECURITY_SCHEMA => super::schema_security::validate(fm),
        MERGE_SCHEMA => super::schema_merge::validate(fm),
        other => Err(SchemaError::from(format!("unknown schema '{other}'"))),
    })
}

fn get<'a>(fm: &'a Mapping, key: &str) -> Option<&'a Value> {
    match fm.get(key) {
        None | Some(Value::Null) => None,
        Some(v) => Some(v),
    }
}

fn text<'a>(fm: &'a Mapping, key: &str) -> Result<Option<&'a str>, SchemaError> {
    match get(fm, key) {
        None => Ok(None),
        Some(v) => v
            .as_str()
            .map(Some)
            .ok_or_else(|| SchemaError::not_a(key, "string")),
    }
}

fn flag(fm: &Mapping, key: &str) -> Result<bool, SchemaError> {
    match get(fm, key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(SchemaError::not_a(key, "boolean")),
    }
}

fn is_commit_id(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The named gate report must be of `schema` and read back as PASS.
fn referenced_pass(fm: &Mapping, key: &str, schema: &str) -> Result<(), SchemaError> {
    let path = text(fm, key)?.ok_or_else(|| SchemaError::from(format!("PASS without '{key}'")))?;
    let path = Path::new(path);
    let inner = read_frontmatter(path).map_err(|source| SchemaError::Referenced {
        key: key.to_string(),
        source: Box::new(source),
    })?;
    if inner.get("schema").and_then(Value::as_str) != Some(schema) {
        return Err(SchemaError::from(format!(
            "{key} {} is not a {schema} report",
            path.display()
        )));
    }
    let v = read_verdict(path);
    if !v.is_pass() {
        return Err(SchemaError::from(format!(
            "PASS contradicts {key} {} ({}: {})",
            path.display(),
            v.outcome,
            v.reasons.first().map(String::as_str).unwrap_or("")
        )));
    }
    Ok(())
}

/// Check a `gate all` report's frontmatter; returns the outcome and reasons, or why it cannot
/// be trusted (which the reader turns into FAIL).
pub fn validate(fm: &Mapping) -> Result<(Outcome, Vec<String>), SchemaError> {
    let outcome = verdict_field(fm, &[Outcome::Pass, Outcome::Fail, Outcome::Defer])?;
    let reasons = reasons_field(fm)?;
    let reason = text(fm, "reason")?;
    let land = flag(fm, "land")?;
    let lease_held = flag(fm, "lease_held")?;
    let landed = text(fm, "landed_sha")?;
    let tested = text(fm, "tested_sha")?;
    match outcome {
        Outcome::Pass => {
            if let Some(r) = reason {
                return Err(SchemaError::from(format!(
                    "PASS with a failure reason '{r}'"
                )));
            }
            referenced_pass(fm, "security_report", SECURITY_SCHEMA)?;
            referenced_pass(fm, "merge_report", MERGE_SCHEMA)?;
            if land {
                let t = tested.ok_or(SchemaError::from("landed PASS without 'tested_sha'"))?;
                if !is_commit_id(t) {
                    return Err(SchemaError::from(format!(
                        "'tested_sha' is not a full commit id: '{t}'"
                    )));
                }
                if landed != Some(t) {
                    return Err(SchemaError::from(
                        "landed PASS whose 'landed_sha' is not 'tested_sha'",
                    ));
                }
                if lease_held {
                    return Err(SchemaError::from(
                        "landed PASS still claims to hold the lease",
                    ));
                }
            } else if landed.is_some() {
                return Err(SchemaError::from("'landed_sha' without 'land: true'"));
            }
        }
        Outcome::Fail | Outcome::Defer => {
            if outcome == Outcome::Fail {
                match reason {
                    Some(r) if !r.trim().is_empty() => {}
                    _ => return Err(SchemaError::from("FAIL without 'reason'")),
                }
            } else {
                if let Some(r) = reason {
                    return Err(SchemaError::from(format!(
                        "DEFER with a failure reason '{r}'"
                    )));
                }
                match get(fm, "retry_after_s").and_then(Value::as_u64) {
                    Some(n) if n > 0 => {}
                    _ => {
                        return Err(SchemaError::from(
                            "DEFER without a positive 'retry_after_s'",
                        ));
                    }
                }
            }
            if lease_held {
                return Err(SchemaError::from(format!(
                    "{outcome} while claiming to hold the lease"
                )));
            }
            if landed.is_some() {
                return Err(SchemaError::from(format!("{outcome} with a 'landed_sha'")));
            }
        }
    }
    Ok((outcome, reasons))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fm(yaml: &str) -> Mapping {
        serde_norway::from_str(yaml).unwrap()
    }

    #[test]
    fn pass_needs_readable_passing_gate_reports() {
        let e = validate(&fm("verdict: PASS\nland: false\n")).unwrap_err();
        assert!(e.to_string().contains("security_report"), "{e}");
        let e = validate(&fm(
            "verdict: PASS\nsecurity_report: /nonexistent/s.md\nmerge_report: /nonexistent/m.md\n",
        ))
        .unwrap_err();
        assert!(e.to_string().contains("security_report"), "{e}");
    }

    #[test]
    fn fail_and_defer_need_their_evidence() {
        assert!(validate(&fm("verdict: FAIL\n")).is_err());
        assert!(validate(&fm("verdict: FAIL\nreason: security\n")).is_ok());
        assert!(validate(&fm("verdict: FAIL\nreason: security\nlease_held: true\n")).is_err());
        assert!(validate(&fm("verdict: DEFER\n")).is_err());
        assert!(validate(&fm("verdict: DEFER\nretry_after_s: 30\n")).is_ok());
        assert!(
            validate(&fm(
                "verdict: DEFER\nretry_after_s: 30\nlanded_sha: 0123456789abcdef0123456789abcdef01234567\n"
            ))
            .is_err()
        );
    }
}
