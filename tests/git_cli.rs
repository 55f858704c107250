//! `portcullis scan git` end to end: the real binary, the real detector with a test config,
//! repositories built with the real git CLI.

use crate::git_common;

use std::process::Command;

use git_common::{TestRepo, secret};

const CONFIG: &str = r#"
title = "test"
[[rules]]
id = "test-secret"
description = "Test secret"
regex = '''SECRET_[A-Z0-9]{16}'''
keywords = ["secret_"]
"#;

struct Run {
    code: i32,
    findings: Vec<serde_json::Value>,
    stderr: String,
}

fn run(r: &TestRepo, extra: &[&str]) -> Run {
    let cfg = r.dir.path().join("..").join(format!(
        "{}-cfg.toml",
        r.dir.path().file_name().unwrap().to_string_lossy()
    ));
    std::fs::write(&cfg, CONFIG).unwrap();
    let report = tempfile::NamedTempFile::new().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["scan", "git"])
        .arg(r.path())
        .arg("--config")
        .arg(&cfg)
        .arg("--report-path")
        .arg(report.path())
        .args(["--report-format", "json"])
        .args(extra)
        .env_remove("PORTCULLIS_CONFIG")
        .env_remove("GITLEAKS_CONFIG")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&cfg);
    let text = std::fs::read_to_string(report.path()).unwrap_or_default();
    Run {
        code: out.status.code().unwrap_or(-1),
        findings: serde_json::from_str(&text).unwrap_or_default(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn field(f: &serde_json::Value, k: &str) -> String {
    match &f[k] {
        serde_json::Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

#[test]
fn range_scan_reports_only_feature_secret_with_exact_location() {
    let r = TestRepo::new();
    let (old, new) = (secret("MAINSIDE1"), secret("FEATSIDE2"));
    r.write("main.env", format!("A=1\nTOKEN={old}\n"));
    r.commit("main");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("svc/app.env", format!("X=1\nY=2\nZ=3\nKEY={new}\n"));
    let c = r.commit("feature: add key\n\nlonger body");

    let all = run(&r, &[]);
    assert_eq!(all.code, 1, "{}", all.stderr);
    assert_eq!(all.findings.len(), 2);

    let rng = run(&r, &["--range", "main..feature"]);
    assert_eq!(rng.code, 1, "{}", rng.stderr);
    assert_eq!(rng.findings.len(), 1, "{:?}", rng.findings);
    let f = &rng.findings[0];
    assert_eq!(field(f, "Commit"), c);
    assert_eq!(field(f, "File"), "svc/app.env");
    assert_eq!(field(f, "StartLine"), "4");
    assert_eq!(field(f, "Secret"), new);
    assert_eq!(field(f, "Message"), "feature: add key\n\nlonger body");
    assert_eq!(
        field(f, "Fingerprint"),
        format!("{c}:svc/app.env:test-secret:4")
    );
    assert!(field(f, "SecretFingerprint").starts_with("sfp:"));

    // Nothing in range -> exit 0; --exit-code is honoured.
    assert_eq!(run(&r, &["--range", "feature..main"]).code, 0);
    assert_eq!(
        run(&r, &["--range", "main..feature", "--exit-code", "7"]).code,
        7
    );
    // gitleaks' --log-opts: revisions and --all; unsupported options are errors.
    let lo = run(&r, &["--log-opts", "main..feature"]);
    assert_eq!(lo.code, 1, "{}", lo.stderr);
    assert_eq!(lo.findings.len(), 1, "{:?}", lo.findings);
    assert_eq!(field(&lo.findings[0], "Secret"), new);
    let lo_all = run(&r, &["--log-opts=--all"]);
    assert_eq!(lo_all.code, 1, "{}", lo_all.stderr);
    assert_eq!(lo_all.findings.len(), 2);
    let lo_bad = run(&r, &["--log-opts", "--since=2020-01-01"]);
    assert_eq!(lo_bad.code, 2);
    assert!(lo_bad.stderr.contains("--since"), "{}", lo_bad.stderr);

    // A missing ref is an error naming it.
    let bad = run(&r, &["--range", "main..nosuchbranch"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("nosuchbranch"), "{}", bad.stderr);
}

#[test]
fn gitleaksignore_and_baseline_suppress_history_findings() {
    let r = TestRepo::new();
    r.write("a.txt", format!("{}\n", secret("IGNOREME1")));
    let c = r.commit("one");
    let first = run(&r, &[]);
    assert_eq!(first.findings.len(), 1);
    // Commit-scoped fingerprint in <repo>/.gitleaksignore.
    std::fs::write(
        r.path().join(".gitleaksignore"),
        format!("{c}:a.txt:test-secret:1\n"),
    )
    .unwrap();
    let ignored = run(&r, &[]);
    assert_eq!(ignored.code, 0, "{}", ignored.stderr);
    assert!(ignored.findings.is_empty());
    // Secret fingerprint form.
    let sfp = field(&first.findings[0], "SecretFingerprint");
    std::fs::write(r.path().join(".gitleaksignore"), format!("{sfp}\n")).unwrap();
    assert_eq!(run(&r, &[]).code, 0);
    std::fs::remove_file(r.path().join(".gitleaksignore")).unwrap();
    // Baseline = previous JSON report.
    let base = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(base.path(), serde_json::to_string(&first.findings).unwrap()).unwrap();
    let b = run(&r, &["--baseline-path", base.path().to_str().unwrap()]);
    assert_eq!(b.code, 0, "{}", b.stderr);
}

#[test]
fn staged_scan_sees_only_the_index() {
    let r = TestRepo::new();
    r.write("a.txt", "hello\n");
    r.commit("one");
    r.write("a.txt", format!("hello\n{}\n", secret("STAGEDX1")));
    r.git(&["add", "a.txt"]);
    r.write("b.txt", format!("{}\n", secret("NOTSTAGED2")));
    let st = run(&r, &["--staged"]);
    assert_eq!(st.code, 1, "{}", st.stderr);
    assert_eq!(st.findings.len(), 1);
    assert_eq!(field(&st.findings[0], "File"), "a.txt");
    assert_eq!(field(&st.findings[0], "StartLine"), "2");
    assert_eq!(field(&st.findings[0], "Commit"), "");
    assert_eq!(field(&st.findings[0], "Fingerprint"), "a.txt:test-secret:2");
}

#[test]
fn damaged_repository_exits_2_with_object_id() {
    let r = TestRepo::new();
    r.write("a.txt", format!("{}\n", secret("LOST1")));
    r.write("b.txt", "fine\n");
    r.commit("one");
    let blob = r.git(&["rev-parse", "HEAD:a.txt"]);
    std::fs::remove_file(r.loose_object(&blob)).unwrap();
    let out = run(&r, &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(&blob) && out.stderr.contains("a.txt"),
        "{}",
        out.stderr
    );

    // A missing commit object stops the walk with a clear error.
    let r2 = TestRepo::new();
    r2.write("a.txt", "x\n");
    let c1 = r2.commit("one");
    r2.write("a.txt", "y\n");
    r2.commit("two");
    std::fs::remove_file(r2.loose_object(&c1)).unwrap();
    let out = run(&r2, &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("error"), "{}", out.stderr);
}

#[test]
fn not_a_repository_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["scan", "git"])
        .arg(dir.path())
        .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&dir.path().display().to_string()), "{err}");
}
