//! The fail-closed reader: every corrupt or self-contradicting report in
//! `testdata/reports/` reads back as FAIL (library and `portcullis verdict`), and the valid
//! fixtures read back as exactly what they say.

use std::path::{Path, PathBuf};
use std::process::Command;

use portcullis::report::{Outcome, read_verdict, read_verdict_for_head};

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
    ("corrupt-tagged-verdict.md", "YAML tag at 'verdict'"),
    ("corrupt-tagged-policy-field.md", "YAML tag at 'skipped'"),
    ("corrupt-quoted-verdict.md", "plain line 'verdict: PASS'"),
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

#[cfg(unix)]
#[test]
fn verdict_reader_refuses_a_fifo_instead_of_blocking_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("report.md");
    let st = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(st.success());
    // Run in a thread with a deadline: the old reader blocked forever on open().
    let (tx, rx) = std::sync::mpsc::channel();
    let p = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send(read_verdict(&p));
    });
    let v = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("the reader blocked on a FIFO");
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(v.reasons[0].contains("not a regular file"), "{v:?}");
}

#[cfg(unix)]
#[test]
fn verdict_reader_refuses_a_character_device_through_a_symlink_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("report.md");
    // /dev/zero is only read here, never written; the old reader read it until memory ran out.
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let v = read_verdict(&link);
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(v.reasons[0].contains("character device"), "{v:?}");
}

#[test]
fn verdict_reader_refuses_a_report_larger_than_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("report.md");
    let mut text = std::fs::read_to_string(fixtures().join("valid-pass.md")).unwrap();
    text.push_str(&"x".repeat(17 << 20));
    std::fs::write(&p, text).unwrap();
    let v = read_verdict(&p);
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(v.reasons[0].contains("larger than"), "{v:?}");
}

const PASS_HEAD: &str = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";

#[test]
fn pass_bound_to_another_head_commit_reads_fail() {
    let p = fixtures().join("valid-pass.md");
    assert_eq!(read_verdict_for_head(&p, PASS_HEAD).outcome, Outcome::Pass);
    assert_eq!(
        read_verdict_for_head(&p, &PASS_HEAD[..7]).outcome,
        Outcome::Pass
    );
    let other = read_verdict_for_head(&p, "1111111111111111111111111111111111111111");
    assert_eq!(other.outcome, Outcome::Fail);
    assert!(other.reasons[0].contains("not 1111111"), "{other:?}");
    // Too short or not hex: never a PASS.
    assert_eq!(read_verdict_for_head(&p, "0a1b").outcome, Outcome::Fail);
    assert_eq!(read_verdict_for_head(&p, "HEAD").outcome, Outcome::Fail);
    // A skipped report names no commit: it cannot vouch for one.
    let skipped = read_verdict_for_head(&fixtures().join("valid-skipped.md"), PASS_HEAD);
    assert_eq!(skipped.outcome, Outcome::Fail);
}

#[test]
fn verdict_command_with_head_reads_fail_for_a_report_of_another_commit() {
    let p = fixtures().join("valid-pass.md");
    let run = |head: &str| {
        Command::new(env!("CARGO_BIN_EXE_portcullis"))
            .arg("verdict")
            .arg(&p)
            .args(["--head", head])
            .output()
            .unwrap()
    };
    let ok = run(PASS_HEAD);
    assert_eq!(ok.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "PASS");
    let stale = run("2222222222222222222222222222222222222222");
    assert_eq!(stale.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&stale.stdout).trim(), "FAIL");
}
