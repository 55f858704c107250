//! The fail-closed reader: every corrupt or self-contradicting report in
//! `testdata/reports/` reads back as FAIL (library and `portcullis verdict`), and the valid
//! fixtures read back as exactly what they say.

use std::path::{Path, PathBuf};
use std::process::Command;

use portcullis::report::{Outcome, read_verdict};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/reports")
}

/// Each corrupt fixture with a fragment the FAIL reason must contain, so a fixture fails for
/// the reason it was written for and not by accident.
const CORRUPT: &[(&str, &str)] = &[
    ("corrupt-empty.md", "empty"),
    ("corrupt-no-opening-fence.md", "opening"),
    ("corrupt-no-closing-fence.md", "closing"),
    ("corrupt-truncated-write.md", "closing"),
    ("corrupt-repeated-fence.md", "repeated"),
    ("corrupt-yaml-syntax.md", "YAML"),
    ("corrupt-not-a-mapping.md", "not a mapping"),
    ("corrupt-missing-verdict.md", "no 'verdict'"),
    ("corrupt-unknown-verdict.md", "unknown verdict 'OK'"),
    ("corrupt-lowercase-verdict.md", "unknown verdict 'pass'"),
    ("corrupt-verdict-not-string.md", "not a string"),
    ("corrupt-defer-verdict.md", "not allowed"),
    ("corrupt-duplicate-verdict-key.md", "duplicate"),
    ("corrupt-wrong-schema.md", "unknown schema"),
    ("corrupt-missing-schema.md", "no 'schema'"),
    (
        "corrupt-pass-with-secret-findings.md",
        "secrets.findings = 3",
    ),
    (
        "corrupt-pass-with-secrets-error.md",
        "secrets.status 'error'",
    ),
    ("corrupt-pass-with-scan-errors.md", "scan error"),
    (
        "corrupt-pass-with-vulnerabilities.md",
        "vulnerabilities = 1",
    ),
    (
        "corrupt-pass-degraded-fail-closed.md",
        "dep_audit_fail_closed",
    ),
    (
        "corrupt-pass-dependencies-error.md",
        "dependencies.status 'error'",
    ),
    ("corrupt-fail-empty-reasons.md", "no reasons"),
    ("corrupt-pass-missing-secrets.md", "no 'secrets'"),
    ("corrupt-count-as-string.md", "non-negative integer"),
    ("corrupt-skipped-not-bool.md", "'skipped' is not a boolean"),
    ("corrupt-skipped-without-reason.md", "why it was skipped"),
    ("corrupt-not-utf8.md", "UTF-8"),
];

#[test]
fn every_corrupt_fixture_reads_back_as_fail_for_its_own_reason() {
    for (name, needle) in CORRUPT {
        let v = read_verdict(&fixtures().join(name));
        assert_eq!(v.outcome, Outcome::Fail, "{name} read as {v:?}");
        let all = v.reasons.join(" | ");
        assert!(
            all.contains(needle),
            "{name}: reason {all:?} lacks {needle:?}"
        );
    }
}

#[test]
fn fixture_table_covers_every_corrupt_file_and_at_least_ten() {
    let mut on_disk: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("corrupt-"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = CORRUPT.iter().map(|(n, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
    assert!(listed.len() >= 10);
}

#[test]
fn valid_fixtures_read_back_as_written() {
    let pass = read_verdict(&fixtures().join("valid-pass.md"));
    assert_eq!(pass.outcome, Outcome::Pass, "{pass:?}");
    assert_eq!(pass.schema, "portcullis/security-report/v1");
    assert!(pass.reasons.is_empty());
    let fail = read_verdict(&fixtures().join("valid-fail.md"));
    assert_eq!(fail.outcome, Outcome::Fail);
    assert_eq!(fail.reasons.len(), 1);
    assert!(fail.reasons[0].contains("github-pat"));
    let skipped = read_verdict(&fixtures().join("valid-skipped.md"));
    assert_eq!(skipped.outcome, Outcome::Pass, "{skipped:?}");
    assert!(skipped.reasons[0].contains("disabled"));
}

#[test]
fn missing_file_and_directory_read_back_as_fail() {
    let v = read_verdict(&fixtures().join("no-such-report.md"));
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(v.reasons[0].contains("no-such-report.md"), "{v:?}");
    assert_eq!(read_verdict(&fixtures()).outcome, Outcome::Fail);
}

fn verdict_cli(path: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .arg("verdict")
        .arg(path)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

#[test]
fn verdict_command_exits_zero_only_for_pass() {
    assert_eq!(
        verdict_cli(&fixtures().join("valid-pass.md")),
        (0, "PASS".into())
    );
    assert_eq!(
        verdict_cli(&fixtures().join("valid-fail.md")),
        (1, "FAIL".into())
    );
    for (name, _) in CORRUPT {
        assert_eq!(
            verdict_cli(&fixtures().join(name)),
            (1, "FAIL".into()),
            "{name}"
        );
    }
    assert_eq!(
        verdict_cli(&fixtures().join("missing.md")),
        (1, "FAIL".into())
    );
}
