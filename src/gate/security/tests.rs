//! Gate-boundary tests with injected work: panics, timeouts, policy, redaction, skipping.
//! (End-to-end tests on real repositories are in `tests/security_gate*.rs`.)

use super::*;
use crate::report::Finding;

const RAW: &str = "ghp_R4wS3cr3tT0k3nV4lu3xxxxxxxxxxxxxxxxx";

fn repo() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join(".git")).unwrap();
    t
}

fn clean() -> WorkOutput {
    WorkOutput {
        merge_base: Some("a".repeat(40)),
        head_commit: Some("b".repeat(40)),
        secrets: SecretsPart {
            status: SecretsStatus::Ok,
            findings: Vec::new(),
            errors: Vec::new(),
            warnings: Vec::new(),
            commits_scanned: 3,
            bytes_scanned: 100,
        },
        deps: DepsPart {
            status: DependenciesStatus::Ok,
            vulnerabilities: Vec::new(),
            warnings: Vec::new(),
            errors: Vec::new(),
            sources: vec![SourceEntry {
                name: "rustsec".into(),
                kind: "embedded".into(),
                location: "embedded".into(),
                snapshot_date: Some("2026-11-20".into()),
            }],
        },
        config: Some("embedded default".into()),
        config_sha256: Some("0".repeat(64)),
        timings: Default::default(),
    }
}

fn report_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("security-report.md")).unwrap()
}

#[test]
fn clean_work_passes_and_the_file_says_so() {
    let t = repo();
    let v = gate_with(&SecurityRequest::new(t.path()), |_| clean());
    assert_eq!(v.outcome, Outcome::Pass, "{v:?}");
    assert_eq!(v.schema, SECURITY_SCHEMA);
    let text = report_text(t.path());
    assert!(text.starts_with("---\nschema: portcullis/security-report/v1\nverdict: PASS\n"));
    assert!(text.contains(&format!("range: {}..{}", "a".repeat(40), "b".repeat(40))));
    assert!(text.contains("snapshot_date: 2026-11-20"));
}

#[test]
fn panic_below_the_gate_is_a_fail_with_its_message() {
    let t = repo();
    let v = gate_with(&SecurityRequest::new(t.path()), |_| -> WorkOutput {
        panic!("lockfile parser exploded at line 7")
    });
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(
        v.reasons
            .iter()
            .any(|r| r.contains("lockfile parser exploded at line 7")),
        "{v:?}"
    );
    // Reported once, not once per scanner.
    assert_eq!(v.reasons.len(), 1, "{v:?}");
    assert!(report_text(t.path()).contains("status: error"));
}

#[test]
fn work_past_timeout_is_a_fail() {
    let t = repo();
    let mut req = SecurityRequest::new(t.path());
    req.overrides.timeout_s = Some(1);
    let t0 = Instant::now();
    // The work blocks until the test lets it go (no fixed sleep; capped by a deadline).
    let (release, hold) = std::sync::mpsc::channel::<()>();
    let v = gate_with(&req, move |_| {
        let _ = hold.recv_timeout(Duration::from_secs(60));
        clean()
    });
    drop(release);
    assert!(t0.elapsed() < Duration::from_secs(3));
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(
        v.reasons[0].contains("timed out after 1 s"),
        "{:?}",
        v.reasons
    );
}

fn finding() -> Finding {
    Finding {
        rule_id: "github-pat".into(),
        description: "GitHub PAT".into(),
        start_line: 3,
        end_line: 3,
        r#match: format!("token = \"{RAW}\""),
        secret: RAW.into(),
        file: "config/app.env".into(),
        commit: "c".repeat(40),
        message: format!("add token {RAW}\n\nbody mentions {RAW} too"),
        line: format!("token = \"{RAW}\""),
        ..Finding::default()
    }
}

#[test]
fn secret_finding_fails_names_rule_and_location_and_never_stores_the_raw_secret() {
    let t = repo();
    let v = gate_with(&SecurityRequest::new(t.path()), |_| {
        let mut o = clean();
        o.secrets.findings.push(finding());
        // An error message that happens to quote the secret is scrubbed too.
        o.secrets.warnings.push(format!("odd blob near {RAW}"));
        o
    });
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(
        v.reasons[0].contains("github-pat in config/app.env:3"),
        "{v:?}"
    );
    let text = report_text(t.path());
    assert!(!text.contains(RAW), "raw secret in report:\n{text}");
    assert!(!text.contains(&RAW[..20]));
    assert!(text.contains("ghp_…[REDACTED, 40 chars]"));
    assert!(text.contains("`config/app.env:3`"));
    assert!(text.contains(&"c".repeat(12)));
    assert!(text.contains("Rotate every secret"));
    assert!(text.contains("findings: 1"));
}

#[test]
fn vulnerability_fails_with_fix_steps() {
    let t = repo();
    let v = gate_with(&SecurityRequest::new(t.path()), |_| {
        let mut o = clean();
        o.deps.vulnerabilities.push(Vulnerability {
            kind: "vulnerability".into(),
            id: "RUSTSEC-2099-0001".into(),
            aliases: vec!["GHSA-xxxx-yyyy-zzzz".into()],
            package: "smallvec".into(),
            version: "1.6.0".into(),
            ecosystem: "crates.io".into(),
            lockfile: "Cargo.lock".into(),
            fixed_in: Some("1.6.1".into()),
            severity: None,
            summary: "buffer overflow".into(),
        });
        o
    });
    assert_eq!(v.outcome, Outcome::Fail);
    assert_eq!(
        v.reasons,
        vec!["vulnerable dependency: smallvec 1.6.0 (RUSTSEC-2099-0001), fixed in 1.6.1"]
    );
    let text = report_text(t.path());
    assert!(
        text.contains("cargo update -p smallvec@1.6.0 --precise 1.6.1"),
        "{text}"
    );
    assert!(text.contains("vulnerabilities: 1"));
}

#[test]
fn degraded_audit_passes_loudly_unless_fail_closed() {
    let degraded = |_| {
        let mut o = clean();
        o.deps.status = DependenciesStatus::Degraded;
        o.deps
            .warnings
            .push("OSV API http://127.0.0.1:9/v1/querybatch unreachable".into());
        o
    };
    let t = repo();
    let v = gate_with(&SecurityRequest::new(t.path()), degraded);
    assert_eq!(v.outcome, Outcome::Pass, "{v:?}");
    let text = report_text(t.path());
    assert!(text.contains("WARNING: the dependency audit is degraded"));
    assert!(text.contains("status: degraded"));

    let mut req = SecurityRequest::new(t.path());
    req.overrides.dep_audit_fail_closed = Some(true);
    let v = gate_with(&req, degraded);
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(v.reasons[0].contains("dep_audit_fail_closed"), "{v:?}");
    assert!(v.reasons[0].contains("unreachable"), "{v:?}");
}

#[test]
fn scanner_errors_fail_even_without_findings() {
    let t = repo();
    let v = gate_with(&SecurityRequest::new(t.path()), |_| {
        let mut o = clean();
        o.secrets.status = SecretsStatus::Error;
        o.secrets
            .errors
            .push("object 1234 missing (path src/a.rs)".into());
        o
    });
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(v.reasons[0].contains("object 1234 missing"));
    let t = repo();
    let v = gate_with(&SecurityRequest::new(t.path()), |_| {
        let mut o = clean();
        o.deps = DepsPart::error("Cargo.lock:3: expected `=`");
        o
    });
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(v.reasons[0].contains("Cargo.lock:3"));
}

#[test]
fn disabled_and_out_of_scope_gates_write_skipped_passes_without_running() {
    let t = repo();
    let file = t.path().join("portcullis.toml");
    std::fs::write(&file, "enabled = false\n").unwrap();
    let mut req = SecurityRequest::new(t.path());
    req.settings_file = Some(file.clone());
    let v = gate_with(&req, |_| -> WorkOutput { panic!("must not run") });
    assert_eq!(v.outcome, Outcome::Pass, "{v:?}");
    assert!(v.reasons[0].contains("disabled"));
    assert!(report_text(t.path()).contains("skipped: true"));

    let t = repo();
    let file = t.path().join("portcullis.toml");
    std::fs::write(&file, "repos = [\"some-other-repo\"]\n").unwrap();
    let mut req = SecurityRequest::new(t.path());
    req.settings_file = Some(file.clone());
    let v = gate_with(&req, |_| -> WorkOutput { panic!("must not run") });
    assert_eq!(v.outcome, Outcome::Pass, "{v:?}");
    assert!(v.reasons[0].contains("not in the security gate's scope"));
    // The flag overrides the file.
    req.overrides.repos = Some(vec!["*".into()]);
    assert_eq!(gate_with(&req, |_| clean()).outcome, Outcome::Pass);
    assert!(report_text(t.path()).contains("skipped: false"));
}

#[test]
fn invalid_settings_fail_and_name_the_file() {
    let t = repo();
    let file = t.path().join("portcullis.toml");
    std::fs::write(&file, "enabeld = false\n").unwrap();
    let mut req = SecurityRequest::new(t.path());
    req.settings_file = Some(file);
    let v = gate_with(&req, |_| clean());
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(v.reasons[0].contains("portcullis.toml"), "{v:?}");
}

#[test]
fn a_rerun_replaces_the_previous_pass_and_an_unwritable_report_fails() {
    let t = repo();
    let mut req = SecurityRequest::new(t.path());
    req.report_file = Some("out/r.md".into());
    assert_eq!(gate_with(&req, |_| clean()).outcome, Outcome::Pass);
    // The previous PASS is replaced by this run's FAIL (timeout), never read back.
    req.overrides.timeout_s = Some(1);
    let (release, hold) = std::sync::mpsc::channel::<()>();
    let v = gate_with(&req, move |_| {
        let _ = hold.recv_timeout(Duration::from_secs(60));
        clean()
    });
    drop(release);
    assert_eq!(v.outcome, Outcome::Fail);
    // Report path is a directory: cannot write, FAIL.
    std::fs::create_dir_all(t.path().join("dir.md")).unwrap();
    req.report_file = Some("dir.md".into());
    let v = gate_with(&req, |_| clean());
    assert_eq!(v.outcome, Outcome::Fail, "{v:?}");
}

#[test]
fn panic_outside_the_worker_is_still_a_fail_report() {
    let t = repo();
    let req = SecurityRequest::new(t.path());
    let v = guarded(&req, |_| -> Verdict { panic!("renderer blew up") });
    assert_eq!(v.outcome, Outcome::Fail);
    assert!(v.reasons[0].contains("renderer blew up"), "{v:?}");
    let text = report_text(t.path());
    assert!(text.contains("verdict: FAIL") && text.contains("renderer blew up"));
}

#[test]
fn findings_below_block_confidence_pass_as_redacted_warnings() {
    let t = repo();
    let v = gate_with(&SecurityRequest::new(t.path()), |_| {
        let mut o = clean();
        let mut low = finding();
        low.confidence = crate::report::Confidence::Low;
        o.secrets.findings.push(low);
        o.secrets.warnings.push(format!("odd blob near {RAW}"));
        o
    });
    assert_eq!(v.outcome, Outcome::Pass, "{v:?}");
    let text = report_text(t.path());
    assert!(!text.contains(RAW), "raw secret in report:\n{text}");
    assert!(!text.contains(&RAW[..20]));
    assert!(
        text.contains("secret below block_confidence (low < medium), not blocking: github-pat in config/app.env:3"),
        "{text}"
    );
    assert!(text.contains("findings: 0"));
}

#[test]
fn block_confidence_low_blocks_low_findings() {
    let t = repo();
    let mut req = SecurityRequest::new(t.path());
    req.overrides.block_confidence = Some(crate::report::Confidence::Low);
    let v = gate_with(&req, |_| {
        let mut o = clean();
        let mut low = finding();
        low.confidence = crate::report::Confidence::Low;
        o.secrets.findings.push(low);
        o
    });
    assert_eq!(v.outcome, Outcome::Fail, "{v:?}");
    assert!(v.reasons[0].contains("github-pat"), "{v:?}");
}

/// A base revision whose `portcullis.toml` is not UTF-8 is [`SettingsLoadError::NotUtf8`]
/// naming `<base>:portcullis.toml`; the gate fails with `settings: <that message>`.
#[test]
fn base_settings_not_utf8_is_a_typed_error_and_fails_the_gate() {
    use crate::source::git::test_support::git;
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    git(d, &["init", "-q", "-b", "main"]);
    std::fs::write(d.join("portcullis.toml"), b"enabled = true\n# \xff\n").unwrap();
    git(d, &["add", "."]);
    git(d, &["commit", "-q", "-m", "settings"]);
    let mut req = SecurityRequest::new(d);
    req.base = "main".into();
    let Err(err) = load_settings(d, &req) else {
        panic!("not UTF-8 is an error");
    };
    assert!(
        matches!(&err, SettingsLoadError::NotUtf8(e) if e.origin == "main:portcullis.toml"),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.starts_with("main:portcullis.toml: not UTF-8: "),
        "{message}"
    );
    let v = gate_with(&req, |_| clean());
    assert_eq!(v.outcome, Outcome::Fail, "{v:?}");
    assert!(
        v.reasons
            .iter()
            .any(|r| r.ends_with(&format!("settings: {message}"))),
        "{:?}",
        v.reasons
    );
}
