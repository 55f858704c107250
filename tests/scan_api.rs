//! `portcullis::scan::run` gives a library caller exactly what `portcullis scan dir|git|stdin`
//! gives on the command line: the same findings (whole JSON report, byte for byte) after
//! config discovery, `.gitleaksignore`, baselines and the confidence filter.

use crate::git_common;
use crate::scan_common;

use std::path::Path;

use git_common::{TestRepo, secret};
use portcullis::report::format::ReportFormat;
use portcullis::scan::{self, ConfigChoice, RunError, ScanRequest, SuppressionChoice, Target};
use scan_common::{TOKEN, TOKEN2, run_in, workspace, write};

/// The JSON report the CLI writes on stdout for `args` run in `cwd`, with its exit status.
fn cli_json(cwd: &Path, args: &[&str], stdin: Option<&[u8]>) -> (i32, String) {
    let run = run_in(cwd, args, stdin);
    assert!(
        run.stdout.starts_with('['),
        "no JSON report on stdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    (run.code, run.stdout)
}

#[test]
fn library_dir_scan_matches_cli_report_with_discovered_config_and_ignore_file() {
    let (ws, repo) = workspace();
    // Discovered config: <target>/.gitleaks.toml (the workspace's test rules).
    std::fs::copy(ws.path().join("config.toml"), repo.join(".gitleaks.toml")).unwrap();
    write(&repo, "app/a.env", format!("one = {TOKEN}\n"));
    write(
        &repo,
        "app/b.env",
        format!("two = {TOKEN2}\nthree = {TOKEN}\n"),
    );
    write(&repo, "vendor/c.env", format!("v = {TOKEN2}\n"));
    let repo_s = repo.to_str().unwrap();
    // Suppress one finding by its fingerprint in <target>/.gitleaksignore.
    write(
        &repo,
        ".gitleaksignore",
        format!("{repo_s}/app/b.env:test-token:2\n"),
    );
    let ws_s = ws.path().to_str().unwrap();
    let (code, cli) = cli_json(
        ws.path(),
        &["scan", "dir", repo_s, "-i", ws_s, "-r", "-", "-f", "json"],
        None,
    );
    assert_eq!(code, 1);

    let mut req = ScanRequest::dir(&repo);
    req.suppressions = SuppressionChoice::Discover {
        ignore_path: Some(ws.path().to_path_buf()),
        baseline: None,
    };
    let report = scan::run(&req).unwrap();
    assert!(report.is_complete(), "{:?}", report.errors);
    assert_eq!(report.findings.len(), 2, "{:?}", report.findings);
    assert_eq!(report.stats.suppressed, 1);
    assert_eq!(report.render(ReportFormat::Json), cli);
}

#[test]
fn library_dir_scan_matches_cli_with_baseline_redaction_and_min_confidence() {
    let (ws, repo) = workspace();
    write(&repo, "a.env", format!("one = {TOKEN}\n"));
    write(&repo, "b.env", format!("two = {TOKEN2}\n"));
    let repo_s = repo.to_str().unwrap();
    let cfg = ws.path().join("config.toml");
    let cfg_s = cfg.to_str().unwrap();
    let ws_s = ws.path().to_str().unwrap();
    // A baseline holding the first file's finding.
    let (_, all) = cli_json(
        ws.path(),
        &["scan", "dir", repo_s, "-c", cfg_s, "-i", ws_s, "-r", "-"],
        None,
    );
    let all_v: Vec<serde_json::Value> = serde_json::from_str(&all).unwrap();
    assert_eq!(all_v.len(), 2);
    let baseline = ws.path().join("baseline.json");
    std::fs::write(&baseline, serde_json::to_string(&all_v[..1]).unwrap()).unwrap();
    let base_s = baseline.to_str().unwrap();
    let (code, cli) = cli_json(
        ws.path(),
        &[
            "scan",
            "dir",
            repo_s,
            "-c",
            cfg_s,
            "-i",
            ws_s,
            "-b",
            base_s,
            "--redact",
            "--min-confidence",
            "high",
            "-r",
            "-",
        ],
        None,
    );
    assert_eq!(code, 1);

    let mut req = ScanRequest::dir(&repo);
    req.config = ConfigChoice::Path(cfg.clone());
    req.suppressions = SuppressionChoice::Discover {
        ignore_path: Some(ws.path().to_path_buf()),
        baseline: Some(baseline.clone()),
    };
    req.redact = Some(100);
    req.min_confidence = Some(portcullis::finding::Confidence::High);
    let report = scan::run(&req).unwrap();
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].secret, "REDACTED");
    assert_eq!(report.render(ReportFormat::Json), cli);
}

#[test]
fn library_git_scan_matches_cli_report() {
    let r = TestRepo::new();
    let cfg = r.dir.path().join(".gitleaks.toml");
    std::fs::write(
        &cfg,
        "[[rules]]\nid = \"test-secret\"\ndescription = \"Test secret\"\nregex = '''SECRET_[A-Z0-9]{16}'''\nkeywords = [\"secret_\"]\n",
    )
    .unwrap();
    r.write("a.txt", format!("k = {}\n", secret("one")));
    r.commit("one");
    r.git(&["checkout", "-q", "-b", "feature"]);
    r.write("b.txt", format!("x\nk = {}\n", secret("two")));
    r.commit("two");
    r.write(
        "a.txt",
        format!("k = {}\nk2 = {}\n", secret("one"), secret("three")),
    );
    r.commit("three");
    let repo_s = r.path().to_str().unwrap();
    for extra in [
        &[][..],
        &["--range", "main..feature"][..],
        &["--no-dedup"][..],
    ] {
        let mut args = vec!["scan", "git", repo_s, "-i", repo_s, "-r", "-"];
        args.extend_from_slice(extra);
        let (code, cli) = cli_json(r.path(), &args, None);
        assert_eq!(code, 1, "{extra:?}");

        let mut target = portcullis::scan::GitTarget::new(r.path());
        match extra {
            ["--range", range] => target.revs.push(range.to_string()),
            ["--no-dedup"] => target.dedup = Some(false),
            _ => {}
        }
        let mut req = ScanRequest::new(Target::Git(target));
        req.suppressions = SuppressionChoice::Discover {
            ignore_path: Some(r.path().to_path_buf()),
            baseline: None,
        };
        let report = scan::run(&req).unwrap();
        assert!(!report.findings.is_empty());
        assert_eq!(report.render(ReportFormat::Json), cli, "{extra:?}");
    }
}

#[test]
fn library_bytes_scan_matches_cli_stdin_report() {
    let (ws, _repo) = workspace();
    let cfg = ws.path().join("config.toml");
    let input = format!("a\nkey = {TOKEN}\n");
    let (code, cli) = cli_json(
        ws.path(),
        &[
            "scan",
            "stdin",
            "-c",
            cfg.to_str().unwrap(),
            "-i",
            ws.path().to_str().unwrap(),
            "-r",
            "-",
        ],
        Some(input.as_bytes()),
    );
    assert_eq!(code, 1);
    let mut req = ScanRequest::bytes(input);
    req.config = ConfigChoice::Path(cfg);
    req.suppressions = SuppressionChoice::None;
    let report = scan::run(&req).unwrap();
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.render(ReportFormat::Json), cli);
}

#[test]
fn library_scan_of_missing_target_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    let err = scan::run(&ScanRequest::dir(&missing)).unwrap_err();
    assert!(matches!(err, RunError::Target { .. }));
    assert!(err.to_string().contains("nope: cannot scan"), "{err}");
}

#[test]
fn library_scan_reports_oversize_content_as_incomplete() {
    let (ws, repo) = workspace();
    write(&repo, "big.txt", vec![b'a'; 1_500_000]);
    let mut req = ScanRequest::dir(&repo);
    req.config = ConfigChoice::Path(ws.path().join("config.toml"));
    req.suppressions = SuppressionChoice::None;
    req.limits.max_target_megabytes = Some(1);
    let report = scan::run(&req).unwrap();
    assert!(!report.is_complete());
    assert_eq!(report.incomplete.len(), 1, "{:?}", report.incomplete);
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.kind == scan::ScanErrorKind::Incomplete
                && e.message.contains("secrets scan incomplete"))
    );
}
