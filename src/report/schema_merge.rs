//! Validation of `portcullis/merge-report/v1` frontmatter (fields in docs/reports.md).
//!
//! Besides the verdict itself, the validator rejects reports whose fields contradict it:
//!
//! * PASS (unless `skipped: true`) must carry `base_sha` and `tested_sha` (full hex commit
//!   ids) and a positive `fencing_token`, must not carry a `reason`, conflict files, a
//!   non-zero test exit code, or `lease_held: false`.
//! * FAIL must carry a known `reason` ([`FAIL_REASONS`]); `conflict` needs a non-empty
//!   `conflict_files` list, `tests_failed` needs a `test_output_tail`; `lease_held` must not
//!   be true.
//! * DEFER must carry `holder` (non-empty), `held_since` and a positive `retry_after_s`, and
//!   must not claim `pushed: true` or `lease_held: true`.

use serde_norway::{Mapping, Value};

use super::verdict::{Outcome, SchemaError, reasons_field, verdict_field};

/// The FAIL reasons a merge report may give.
pub const FAIL_REASONS: &[&str] = &[
    "conflict",
    "tests_failed",
    "test_timeout",
    "push_rejected",
    "git_error",
    "lease_lost",
    "lease_error",
    "protected_ref",
    "config_error",
    "internal_error",
    "security",
];

fn get<'a>(fm: &'a Mapping, key: &str) -> Option<&'a Value> {
    match fm.get(key) {
        None | Some(Value::Null) => None,
        Some(v) => Some(v),
    }
}

fn is_commit_id(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn require_sha(fm: &Mapping, key: &str) -> Result<(), SchemaError> {
    match get(fm, key).and_then(Value::as_str) {
        Some(s) if is_commit_id(s) => Ok(()),
        Some(s) => Err(SchemaError::from(format!(
            "'{key}' is not a full commit id: '{s}'"
        ))),
        None => Err(SchemaError::from(format!("PASS without '{key}'"))),
    }
}

fn flag(fm: &Mapping, key: &str) -> Result<Option<bool>, SchemaError> {
    match get(fm, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(SchemaError::not_a(key, "boolean")),
    }
}

fn positive_int(fm: &Mapping, key: &str, verdict: &str) -> Result<u64, SchemaError> {
    match get(fm, key) {
        None => Err(SchemaError::from(format!("{verdict} without '{key}'"))),
        Some(v) => match v.as_u64() {
            Some(n) if n > 0 => Ok(n),
            _ => Err(SchemaError::not_a(key, "positive integer")),
        },
    }
}

fn conflict_files(fm: &Mapping) -> Result<Vec<String>, SchemaError> {
    match get(fm, "conflict_files") {
        None => Ok(Vec::new()),
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| SchemaError::from("'conflict_files' has a non-string entry"))
            })
            .collect(),
        Some(_) => Err(SchemaError::not_a("conflict_files", "list")),
    }
}

/// A PASS that relied on a security verdict must have relied on a PASS one; `mode: skipped`
/// is the recorded opt-out.
fn check_security_section(fm: &Mapping) -> Result<(), SchemaError> {
    let Some(sec) = get(fm, "security") else {
        return Ok(());
    };
    let mode = sec.get("mode").and_then(Value::as_str);
    match mode {
        Some("skipped") => Ok(()),
        Some("run" | "report") => match sec.get("verdict").and_then(Value::as_str) {
            Some("PASS") => Ok(()),
            other => Err(SchemaError::from(format!(
                "PASS with security verdict {}",
                other.unwrap_or("(none)")
            ))),
        },
        _ => Err(SchemaError::from(
            "'security.mode' is not run, report or skipped",
        )),
    }
}

/// Check a merge report's frontmatter; returns the outcome and reasons, or why it cannot be
/// trusted (which the reader turns into FAIL).
pub fn validate(fm: &Mapping) -> Result<(Outcome, Vec<String>), SchemaError> {
    let outcome = verdict_field(fm, &[Outcome::Pass, Outcome::Fail, Outcome::Defer])?;
    let reasons = reasons_field(fm)?;
    let reason = match get(fm, "reason") {
        None => None,
        Some(v) => Some(v.as_str().ok_or(SchemaError::not_a("reason", "string"))?),
    };
    let files = conflict_files(fm)?;
    let lease_held = flag(fm, "lease_held")?;
    let pushed = flag(fm, "pushed")?;
    match outcome {
        Outcome::Pass => {
            if let Some(r) = reason {
                return Err(SchemaError::from(format!(
                    "PASS with a failure reason '{r}'"
                )));
            }
            if flag(fm, "skipped")? == Some(true) {
                return Ok((outcome, reasons));
            }
            require_sha(fm, "base_sha")?;
            require_sha(fm, "tested_sha")?;
            positive_int(fm, "fencing_token", "PASS")?;
            if !files.is_empty() {
                return Err(SchemaError::from("PASS with conflict files"));
            }
            if lease_held == Some(false) {
                return Err(SchemaError::from("PASS without the lease held"));
            }
            check_security_section(fm)?;
            if let Some(code) = get(fm, "test_exit_code")
                && code.as_i64() != Some(0)
            {
                return Err(SchemaError::from("PASS with a non-zero test exit code"));
            }
        }
        Outcome::Fail => {
            let r = reason.ok_or(SchemaError::from("FAIL without 'reason'"))?;
            if !FAIL_REASONS.contains(&r) {
                return Err(SchemaError::from(format!("FAIL with unknown reason '{r}'")));
            }
            if r == "conflict" && files.is_empty() {
                return Err(SchemaError::from("FAIL conflict without 'conflict_files'"));
            }
            if r == "tests_failed"
                && get(fm, "test_output_tail")
                    .and_then(Value::as_str)
                    .is_none()
            {
                return Err(SchemaError::from(
                    "FAIL tests_failed without 'test_output_tail'",
                ));
            }
            if lease_held == Some(true) {
                return Err(SchemaError::from("FAIL while claiming to hold the lease"));
            }
        }
        Outcome::Defer => {
            if let Some(r) = reason {
                return Err(SchemaError::from(format!(
                    "DEFER with a failure reason '{r}'"
                )));
            }
            match get(fm, "holder").and_then(Value::as_str) {
                Some(h) if !h.trim().is_empty() => {}
                _ => return Err(SchemaError::from("DEFER without 'holder'")),
            }
            if get(fm, "held_since").and_then(Value::as_str).is_none() {
                return Err(SchemaError::from("DEFER without 'held_since'"));
            }
            positive_int(fm, "retry_after_s", "DEFER")?;
            if pushed == Some(true) {
                return Err(SchemaError::from("DEFER claims a push"));
            }
            if lease_held == Some(true) {
                return Err(SchemaError::from("DEFER claims to hold the lease"));
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

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn complete_pass_is_accepted_and_each_missing_field_rejects_it() {
        let ok = format!(
            "verdict: PASS\nbase_sha: {SHA}\ntested_sha: {SHA}\nfencing_token: 3\nlease_held: true\n"
        );
        assert_eq!(validate(&fm(&ok)).unwrap().0, Outcome::Pass);
        for drop in ["base_sha", "tested_sha", "fencing_token"] {
            let text: String = ok
                .lines()
                .filter(|l| !l.starts_with(drop))
                .map(|l| format!("{l}\n"))
                .collect();
            let e = validate(&fm(&text)).unwrap_err();
            assert!(e.to_string().contains(drop), "{e}");
        }
        assert!(validate(&fm(&ok.replace("fencing_token: 3", "fencing_token: 0"))).is_err());
        assert!(validate(&fm(&format!("{ok}reason: conflict\n"))).is_err());
        assert!(validate(&fm(&format!("{ok}test_exit_code: 1\n"))).is_err());
        assert!(validate(&fm(&ok.replace("lease_held: true", "lease_held: false"))).is_err());
        assert!(
            validate(&fm(
                &ok.replace(&format!("base_sha: {SHA}"), "base_sha: main")
            ))
            .is_err()
        );
        assert!(validate(&fm("verdict: PASS\nskipped: true\n")).is_ok());
    }

    #[test]
    fn pass_that_relied_on_a_failed_security_verdict_is_rejected() {
        let ok = format!(
            "verdict: PASS\nbase_sha: {SHA}\ntested_sha: {SHA}\nfencing_token: 3\n\
             security: {{mode: run, verdict: PASS}}\n"
        );
        assert!(validate(&fm(&ok)).is_ok());
        assert!(validate(&fm(&ok.replace("verdict: PASS}", "verdict: FAIL}"))).is_err());
        assert!(validate(&fm(&ok.replace("mode: run, verdict: PASS", "mode: skipped"))).is_ok());
        assert!(validate(&fm(&ok.replace("mode: run", "mode: maybe"))).is_err());
        assert!(validate(&fm("verdict: FAIL\nreason: security\n")).is_ok());
    }

    #[test]
    fn fail_needs_a_known_reason_with_its_evidence() {
        assert!(validate(&fm("verdict: FAIL\n")).is_err());
        assert!(validate(&fm("verdict: FAIL\nreason: cosmic_rays\n")).is_err());
        assert!(validate(&fm("verdict: FAIL\nreason: conflict\n")).is_err());
        assert!(
            validate(&fm(
                "verdict: FAIL\nreason: conflict\nconflict_files: [a.txt]\n"
            ))
            .is_ok()
        );
        assert!(validate(&fm("verdict: FAIL\nreason: tests_failed\n")).is_err());
        assert!(
            validate(&fm(
                "verdict: FAIL\nreason: tests_failed\ntest_output_tail: boom\n"
            ))
            .is_ok()
        );
        assert!(validate(&fm("verdict: FAIL\nreason: git_error\nlease_held: true\n")).is_err());
    }

    #[test]
    fn defer_needs_holder_since_and_retry() {
        let ok =
            "verdict: DEFER\nholder: a\nheld_since: '2026-01-01T00:00:00Z'\nretry_after_s: 31\n";
        assert_eq!(validate(&fm(ok)).unwrap().0, Outcome::Defer);
        assert!(validate(&fm(&ok.replace("holder: a", "holder: ''"))).is_err());
        assert!(validate(&fm(&ok.replace("retry_after_s: 31", "retry_after_s: 0"))).is_err());
        assert!(validate(&fm(&format!("{ok}pushed: true\n"))).is_err());
        assert!(validate(&fm(&format!("{ok}reason: git_error\n"))).is_err());
    }
}
