//! `portcullis scan dir|stdin` end to end: exit codes, paths, config discovery, allowlists,
//! symlinks, binary files, size limits, `.gitleaksignore` and baselines.

use crate::scan_common;

use scan_common::*;

#[test]
fn clean_directory_exits_zero_with_empty_json_report() {
    let (ws, repo) = workspace();
    write(&repo, "src/main.rs", "fn main() { println!(\"hi\"); }\n");
    let run = run_in(
        ws.path(),
        &[
            "scan",
            "dir",
            "repo",
            "--config",
            "config.toml",
            "-r",
            "out.json",
        ],
        None,
    );
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(ws.path().join("out.json")).unwrap(),
        "[]\n"
    );
    assert!(run.stderr.contains("no leaks found"), "{}", run.stderr);
}

#[test]
fn findings_exit_with_exit_code_and_file_includes_target_prefix() {
    let (ws, repo) = workspace();
    write(&repo, "sub/a.env", format!("x=1\nkey = {TOKEN}\n"));
    let (run, report) = scan_repo(ws.path(), &[]);
    assert_eq!(run.code, 1, "stderr: {}", run.stderr);
    assert_eq!(
        keys(&report),
        vec![("repo/sub/a.env".into(), "test-token".into(), 2)]
    );
    let f = &report[0];
    assert_eq!(f["Secret"], TOKEN);
    // gitleaks' column quirk: on every line after the first, columns are one larger.
    assert_eq!(f["StartColumn"], 8);
    assert_eq!(f["EndColumn"], 31);
    assert_eq!(f["Fingerprint"], "repo/sub/a.env:test-token:2");

    let (run, _) = scan_repo(ws.path(), &["--exit-code", "7"]);
    assert_eq!(run.code, 7);

    // Scanning "." from inside the target: paths have no prefix.
    let run = run_in(
        &repo,
        &["scan", "dir", ".", "--config", "../config.toml", "-r", "-"],
        None,
    );
    let report: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        keys(&report),
        vec![("sub/a.env".into(), "test-token".into(), 2)]
    );
}

#[test]
fn target_config_is_discovered_and_not_scanned_itself() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    // The config file itself carries a token in a comment: gitleaks never scans its config.
    write(
        &repo,
        ".gitleaks.toml",
        format!("# example: {TOKEN}\n{TEST_CONFIG}"),
    );
    write(&repo, "app.env", format!("k={TOKEN2}\n"));
    let run = run_in(dir.path(), &["scan", "dir", "repo", "-r", "-"], None);
    let report: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        keys(&report),
        vec![("repo/app.env".into(), "test-token".into(), 1)]
    );
    assert_eq!(run.code, 1);
}

#[test]
fn config_from_environment_variable() {
    let (ws, repo) = workspace();
    write(&repo, "a.txt", format!("{TOKEN}\n"));
    let cfg = ws.path().join("config.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["scan", "dir", "repo", "-r", "-"])
        .current_dir(ws.path())
        .env_remove("GITLEAKS_CONFIG")
        .env("PORTCULLIS_CONFIG", &cfg)
        .output()
        .unwrap();
    let report: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        keys(&report),
        vec![("repo/a.txt".into(), "test-token".into(), 1)]
    );
}

#[test]
fn config_errors_exit_two_with_one_line_naming_the_file() {
    let (ws, repo) = workspace();
    write(&repo, "a.txt", "nothing\n");
    write(
        ws.path(),
        "bad.toml",
        "[[rules]]\nid = \"broken\"\nregex = '''(unclosed'''\n",
    );
    let run = run_in(
        ws.path(),
        &["scan", "dir", "repo", "--config", "bad.toml"],
        None,
    );
    assert_eq!(run.code, 2);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(lines[0].contains("bad.toml"), "{}", run.stderr);
    assert!(lines[0].contains("broken"), "{}", run.stderr);

    let run = run_in(
        ws.path(),
        &["scan", "dir", "repo", "--config", "missing.toml"],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("missing.toml"), "{}", run.stderr);
}

#[test]
fn unknown_config_key_is_a_warning() {
    let (ws, repo) = workspace();
    write(&repo, "a.txt", format!("{TOKEN}\n"));
    write(
        ws.path(),
        "typo.toml",
        "[[rules]]\nid = \"t\"\nregex = '''tok_[a-z0-9]{20}'''\nkeyword = [\"tok_\"]\n",
    );
    let run = run_in(
        ws.path(),
        &["scan", "dir", "repo", "--config", "typo.toml"],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("warning") && run.stderr.contains("keyword"),
        "{}",
        run.stderr
    );
}

#[test]
fn usage_errors_exit_two() {
    let (ws, _repo) = workspace();
    let run = run_in(
        ws.path(),
        &["scan", "dir", "does-not-exist", "--config", "config.toml"],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("does-not-exist"), "{}", run.stderr);

    let run = run_in(ws.path(), &["scan", "dir", "repo", "--no-such-flag"], None);
    assert_eq!(run.code, 2);

    let run = run_in(
        ws.path(),
        &[
            "scan",
            "dir",
            "repo",
            "--config",
            "config.toml",
            "-f",
            "yaml",
        ],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("yaml"), "{}", run.stderr);

    let run = run_in(
        ws.path(),
        &[
            "scan",
            "dir",
            "repo",
            "--config",
            "config.toml",
            "--enable-rule",
            "no-such-rule",
        ],
        None,
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn unwritable_report_path_is_an_error_naming_it() {
    let (ws, repo) = workspace();
    write(&repo, "a.txt", "clean\n");
    // The report's parent "directory" is a regular file.
    let run = run_in(
        ws.path(),
        &[
            "scan",
            "dir",
            "repo",
            "--config",
            "config.toml",
            "-r",
            "repo/a.txt/out.json",
        ],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("repo/a.txt/out.json"), "{}", run.stderr);
}

#[test]
fn global_allowlist_paths_are_not_walked() {
    let (ws, repo) = workspace();
    write(&repo, "vendor/lib/a.env", format!("{TOKEN}\n"));
    write(&repo, "generated/b.env", format!("{TOKEN}\n"));
    write(&repo, ".git/config", format!("{TOKEN}\n"));
    // Hidden files are scanned; with --no-ignore, files ignored by .gitignore too (gitleaks
    // scans all; by default a git work tree's ignored files are left out, see dir_gitignore).
    write(&repo, ".gitignore", "ignored.env\n");
    write(&repo, "ignored.env", format!("{TOKEN}\n"));
    write(&repo, ".hidden.env", format!("{TOKEN2}\n"));
    write(&repo, "vendored.env", format!("{TOKEN2}\n"));
    let (_run, report) = scan_repo(ws.path(), &["--no-ignore"]);
    assert_eq!(
        keys(&report),
        vec![
            ("repo/.hidden.env".into(), "test-token".into(), 1),
            ("repo/ignored.env".into(), "test-token".into(), 1),
            ("repo/vendored.env".into(), "test-token".into(), 1),
        ]
    );
}

#[cfg(unix)]
#[test]
fn symlinks_are_skipped_unless_followed() {
    let (ws, repo) = workspace();
    write(&repo, "real/secret.env", format!("{TOKEN}\n"));
    std::os::unix::fs::symlink("real/secret.env", repo.join("link.env")).unwrap();
    std::os::unix::fs::symlink("real", repo.join("dirlink")).unwrap();
    let (_run, report) = scan_repo(ws.path(), &[]);
    assert_eq!(
        keys(&report),
        vec![("repo/real/secret.env".into(), "test-token".into(), 1)]
    );

    let (_run, report) = scan_repo(ws.path(), &["--follow-symlinks"]);
    // The link is reported with File = resolved target and SymlinkFile = link; the
    // directory link is never followed.
    assert_eq!(report.len(), 2, "{report:#?}");
    let via_link: Vec<_> = report.iter().filter(|f| f["SymlinkFile"] != "").collect();
    assert_eq!(via_link.len(), 1);
    assert_eq!(via_link[0]["File"], "repo/real/secret.env");
    assert_eq!(via_link[0]["SymlinkFile"], "repo/link.env");
    assert_eq!(
        via_link[0]["Fingerprint"],
        "repo/real/secret.env:test-token:1"
    );
}

#[test]
fn token_inside_binary_file_is_found_with_its_line() {
    let (ws, repo) = workspace();
    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
    elf.extend_from_slice(&[0xff, 0x00, 0x13, b'\n', 0x90, 0x90, b'\n']);
    elf.extend_from_slice(b"\x01\x02");
    elf.extend_from_slice(TOKEN.as_bytes());
    elf.extend_from_slice(b"\0\0\xfe\xfe");
    // A token glued to binary noise on either side is still a printable run of its own.
    write(&repo, "bin/tool", &elf);
    let (run, report) = scan_repo(ws.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        keys(&report),
        vec![("repo/bin/tool".into(), "test-token".into(), 3)]
    );
    assert_eq!(report[0]["Secret"], TOKEN);
    // Column = byte offset after the last newline (gitleaks' convention on later lines).
    assert_eq!(report[0]["StartColumn"], 4);
}

#[test]
fn path_only_rules_apply_to_binary_files() {
    let (ws, repo) = workspace();
    write(
        &repo,
        "certs/client.p12",
        b"\x30\x82\x0a\x01\x02\x03\x00\xff\xfe",
    );
    let (run, report) = scan_repo(ws.path(), &[]);
    assert_eq!(run.code, 1);
    assert_eq!(
        keys(&report),
        vec![("repo/certs/client.p12".into(), "pkcs12-file".into(), 0)]
    );
    assert_eq!(report[0]["Match"], "file detected: repo/certs/client.p12");
}

#[test]
fn empty_files_are_skipped_and_large_files_respect_max_target_megabytes() {
    let (ws, repo) = workspace();
    write(&repo, "empty.p12", b"");
    let mut big = vec![b'a'; 1_100_000];
    big.extend_from_slice(format!("\n{TOKEN}\n").as_bytes());
    write(&repo, "big.txt", &big);
    let (_run, report) = scan_repo(ws.path(), &[]);
    assert_eq!(
        keys(&report),
        vec![("repo/big.txt".into(), "test-token".into(), 2)]
    );
    // A file not scanned makes the scan incomplete: exit 2, naming it.
    let (run, report) = scan_repo(ws.path(), &["--max-target-megabytes", "1"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(report.is_empty());
    assert!(run.stderr.contains("repo/big.txt"), "{}", run.stderr);
}

#[test]
fn gitleaksignore_in_target_and_from_flag_suppress_findings() {
    let (ws, repo) = workspace();
    write(&repo, "a.env", format!("{TOKEN}\n"));
    write(&repo, "b.env", format!("{TOKEN2}\n"));
    write(
        &repo,
        ".gitleaksignore",
        "# known\nrepo/a.env:test-token:1\n",
    );
    let (run, report) = scan_repo(ws.path(), &[]);
    assert_eq!(
        keys(&report),
        vec![("repo/b.env".into(), "test-token".into(), 1)]
    );
    assert_eq!(run.code, 1);

    write(ws.path(), "extra.ignore", "repo/b.env:test-token:1\n");
    let (run, report) = scan_repo(ws.path(), &["-i", "extra.ignore"]);
    assert!(report.is_empty(), "{report:#?}");
    assert_eq!(run.code, 0);

    let run = run_in(
        ws.path(),
        &[
            "scan",
            "dir",
            "repo",
            "--config",
            "config.toml",
            "-i",
            "missing.ignore",
        ],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("missing.ignore"), "{}", run.stderr);
}

#[test]
fn baseline_suppresses_known_findings_only() {
    let (ws, repo) = workspace();
    write(&repo, "a.env", format!("{TOKEN}\n"));
    let run = run_in(
        ws.path(),
        &[
            "scan",
            "dir",
            "repo",
            "--config",
            "config.toml",
            "-r",
            "baseline.json",
        ],
        None,
    );
    assert_eq!(run.code, 1);
    let (run, report) = scan_repo(ws.path(), &["-b", "baseline.json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(report.is_empty());

    write(&repo, "new.env", format!("{TOKEN2}\n"));
    let (run, report) = scan_repo(ws.path(), &["-b", "baseline.json"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        keys(&report),
        vec![("repo/new.env".into(), "test-token".into(), 1)]
    );

    write(ws.path(), "not-json.csv", "RuleID,File\n");
    let run = run_in(
        ws.path(),
        &[
            "scan",
            "dir",
            "repo",
            "--config",
            "config.toml",
            "-b",
            "not-json.csv",
        ],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not-json.csv"), "{}", run.stderr);
}

#[test]
fn stdin_findings_have_empty_file_and_short_fingerprint() {
    let (ws, _repo) = workspace();
    let input = format!("line one\nsecret {TOKEN}\n");
    let run = run_in(
        ws.path(),
        &["scan", "stdin", "--config", "config.toml", "-r", "-"],
        Some(input.as_bytes()),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report.len(), 1);
    assert_eq!(report[0]["File"], "");
    assert_eq!(report[0]["StartLine"], 2);
    assert_eq!(report[0]["Fingerprint"], ":test-token:2");

    let run = run_in(
        ws.path(),
        &["scan", "stdin", "--config", "config.toml"],
        Some(b"nothing here\n"),
    );
    assert_eq!(run.code, 0);
    assert!(run.stdout.is_empty(), "no report without --report-path");
}

#[test]
fn redact_hides_secrets_in_report_and_verbose_output() {
    let (ws, repo) = workspace();
    write(&repo, "a.env", format!("{TOKEN}\n"));
    let (run, report) = scan_repo(ws.path(), &["--redact"]);
    assert_eq!(report[0]["Secret"], "REDACTED");
    assert!(!run.stdout.contains(TOKEN));
    let run = run_in(
        ws.path(),
        &[
            "scan",
            "dir",
            "repo",
            "--config",
            "config.toml",
            "--redact",
            "-v",
        ],
        None,
    );
    assert!(
        run.stdout.contains("RuleID:      test-token"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
}

#[test]
fn enable_rule_keeps_only_that_rule() {
    let (ws, repo) = workspace();
    write(&repo, "a.env", format!("{TOKEN}\n"));
    write(&repo, "c.p12", "x");
    let (_run, report) = scan_repo(ws.path(), &["--enable-rule", "pkcs12-file"]);
    assert_eq!(
        keys(&report),
        vec![("repo/c.p12".into(), "pkcs12-file".into(), 0)]
    );
}

#[test]
fn summary_has_no_colour_when_not_a_terminal() {
    let (ws, repo) = workspace();
    write(&repo, "a.env", format!("{TOKEN}\n"));
    let run = run_in(
        ws.path(),
        &["scan", "dir", "repo", "--config", "config.toml"],
        None,
    );
    assert!(run.stderr.contains("1 leak found"), "{}", run.stderr);
    assert!(!run.stderr.contains('\x1b'));
    assert!(
        !run.stderr.contains(TOKEN),
        "the summary never shows a secret"
    );
    let run = run_in(
        ws.path(),
        &["scan", "dir", "repo", "--config", "config.toml", "-q"],
        None,
    );
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    assert_eq!(run.code, 1);
}

#[test]
fn secret_split_by_chunk_boundary_is_found_when_chunk_ends_at_blank_line() {
    // gitleaks reads 100 kB chunks extended to a blank line: a token just after the 100 kB
    // mark is found on the right line.
    let (ws, repo) = workspace();
    let mut data = String::new();
    let mut lines = 0;
    while data.len() < 99_990 {
        data.push_str("some ordinary text line\n");
        lines += 1;
    }
    data.push_str(&format!("value={TOKEN}\n\nmore\n"));
    write(&repo, "long.txt", &data);
    let (_run, report) = scan_repo(ws.path(), &[]);
    assert_eq!(
        keys(&report),
        vec![("repo/long.txt".into(), "test-token".into(), lines + 1)]
    );
}

#[cfg(unix)]
#[test]
fn target_that_is_a_symlink_to_a_file_follows_the_symlink_rule() {
    let (ws, repo) = workspace();
    write(&repo, "real.env", format!("{TOKEN}\n"));
    std::os::unix::fs::symlink("repo/real.env", ws.path().join("link.env")).unwrap();
    let run = run_in(
        ws.path(),
        &[
            "scan",
            "dir",
            "link.env",
            "--config",
            "config.toml",
            "-r",
            "-",
        ],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "[]\n");
    let run = run_in(
        ws.path(),
        &[
            "scan",
            "dir",
            "link.env",
            "--config",
            "config.toml",
            "--follow-symlinks",
            "-r",
            "-",
        ],
        None,
    );
    let report: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report.len(), 1);
    assert_eq!(report[0]["File"], "repo/real.env");
    assert_eq!(report[0]["SymlinkFile"], "link.env");
}

#[test]
fn embedded_default_rules_apply_without_any_config() {
    let dir = tempfile::tempdir().unwrap();
    // A GitHub personal access token in the documented format (ghp_ + 36 alphanumerics).
    write(
        dir.path(),
        "repo/ci.env",
        "GITHUB_TOKEN=ghp_R7tq2LmX9vB4nK8sW1cZ5yH3jD6fG0pA2eUo\n",
    );
    let run = run_in(dir.path(), &["scan", "dir", "repo", "-r", "-"], None);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    assert!(
        report
            .iter()
            .any(|f| f["RuleID"] == "github-pat" && f["File"] == "repo/ci.env"),
        "{report:#?}"
    );
}

#[test]
fn large_file_chunks_scanned_in_parallel_keep_line_numbers() {
    let (ws, repo) = workspace();
    let mut data = String::new();
    let mut expected = Vec::new();
    let mut line = 1u64;
    while data.len() < 6_000_000 {
        if line.is_multiple_of(20_000) {
            data.push_str(&format!("token = {TOKEN}\n\n"));
            expected.push(("repo/huge.log".to_string(), "test-token".to_string(), line));
            line += 2;
        } else {
            data.push_str("an ordinary log line with some words in it\n");
            line += 1;
        }
    }
    write(&repo, "huge.log", &data);
    let (run, report) = scan_repo(ws.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(expected.len() >= 5);
    assert_eq!(keys(&report), expected);
}
