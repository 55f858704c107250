//! History scans give blob content the treatment `scan dir` gives files: a NUL byte does not
//! hide a token, binary formats are scanned through their printable view, archives are opened
//! (nested, to `--max-archive-depth`), path-only rules see every added path, and content that
//! is not scanned makes the scan incomplete (exit 2). Each case is checked against `scan dir`
//! on the same files.

use crate::scan_common;

use std::path::Path;

use scan_common::*;

/// Run git in `dir` with an isolated configuration; panics on failure.
fn git(dir: &Path, args: &[&str]) -> String {
    portcullis_pack::testing::git(dir, args).trim().to_string()
}

/// A workspace whose `repo/` is a git repository.
fn git_workspace() -> (tempfile::TempDir, std::path::PathBuf) {
    let (ws, repo) = workspace();
    git(&repo, &["init", "-q", "-b", "main"]);
    (ws, repo)
}

fn commit(repo: &Path, msg: &str) -> String {
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "--allow-empty", "-m", msg]);
    git(repo, &["rev-parse", "HEAD"])
}

/// `scan git repo --config config.toml -r - ARGS`: the run and the JSON report.
fn scan_git(ws: &Path, extra: &[&str]) -> (Run, Vec<serde_json::Value>) {
    scan_json(ws, "git", extra)
}

/// `(File without the "repo/" of dir scans, RuleID, StartLine)`, sorted.
fn rel_keys(report: &[serde_json::Value]) -> Vec<(String, String, u64)> {
    let mut v: Vec<_> = keys(report)
        .into_iter()
        .map(|(f, r, l)| (f.strip_prefix("repo/").unwrap_or(&f).to_string(), r, l))
        .collect();
    v.sort();
    v
}

/// Both scans find exactly `want` and exit 1.
fn both_find(ws: &Path, want: &[(&str, &str, u64)]) {
    let want: Vec<(String, String, u64)> = want
        .iter()
        .map(|(f, r, l)| (f.to_string(), r.to_string(), *l))
        .collect();
    let (run, report) = scan_git(ws, &[]);
    assert_eq!(run.code, 1, "scan git: {}", run.stderr);
    assert_eq!(rel_keys(&report), want, "scan git");
    let (run, report) = scan_repo(ws, &[]);
    assert_eq!(run.code, 1, "scan dir: {}", run.stderr);
    assert_eq!(rel_keys(&report), want, "scan dir");
}

#[test]
fn scan_git_finds_a_token_in_a_nul_bearing_file() {
    let (ws, repo) = git_workspace();
    write(&repo, "blob.dat", format!("\0\nGITHUB_TOKEN={TOKEN}\n"));
    commit(&repo, "add data");
    both_find(ws.path(), &[("blob.dat", "test-token", 2)]);
}

#[test]
fn scan_git_finds_a_pkcs12_file_by_path() {
    let (ws, repo) = git_workspace();
    // DER bytes: NULs and high bytes, no token.
    write(
        &repo,
        "certs/client.p12",
        b"\x30\x82\x0a\x0c\x02\x01\x03\x30\x82\x09\xc6\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01\x00\x00",
    );
    commit(&repo, "add cert");
    both_find(ws.path(), &[("certs/client.p12", "pkcs12-file", 0)]);
}

#[test]
fn scan_git_finds_a_token_inside_a_committed_zip() {
    let (ws, repo) = git_workspace();
    let zip = zip_bytes(&[
        ("config/app.env", format!("a=1\nkey={TOKEN}\n").as_bytes()),
        ("README.md", b"nothing"),
    ]);
    write(&repo, "release/bundle.zip", zip);
    commit(&repo, "add bundle");
    both_find(
        ws.path(),
        &[("release/bundle.zip!config/app.env", "test-token", 2)],
    );
}

#[test]
fn scan_git_opens_nested_archives_and_a_gzip_single_file() {
    let (ws, repo) = git_workspace();
    let inner = zip_bytes(&[("deep/secret.env", format!("{TOKEN}\n").as_bytes())]);
    let tar = tar_bytes(&[
        ("pkg/inner.zip", &inner),
        ("pkg/top.env", format!("{TOKEN2}\n").as_bytes()),
    ]);
    write(&repo, "dist.tar.gz", gz_bytes(&tar));
    write(
        &repo,
        "notes.txt.gz",
        gz_bytes(format!("x\n{TOKEN}\n").as_bytes()),
    );
    commit(&repo, "add dist");
    both_find(
        ws.path(),
        &[
            ("dist.tar.gz!pkg/inner.zip!deep/secret.env", "test-token", 1),
            ("dist.tar.gz!pkg/top.env", "test-token", 1),
            ("notes.txt.gz", "test-token", 2),
        ],
    );
}

#[test]
fn scan_git_scans_the_printable_view_of_binary_formats() {
    let (ws, repo) = git_workspace();
    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0".to_vec();
    elf.extend_from_slice(format!("\x01\x02key={TOKEN}\0\0").as_bytes());
    // A token glued from short runs is not a token.
    elf.extend_from_slice(b"tok_\x01q8w7e6r5t4y3u2i1o0pb\n");
    write(&repo, "bin/tool", elf);
    commit(&repo, "add tool");
    both_find(ws.path(), &[("bin/tool", "test-token", 1)]);
}

#[test]
fn an_archive_version_reports_only_members_it_adds() {
    let (ws, repo) = git_workspace();
    let a = format!("{TOKEN}\n");
    let b = format!("{TOKEN2}\n");
    write(&repo, "b.zip", zip_bytes(&[("a.env", a.as_bytes())]));
    let c1 = commit(&repo, "one member");
    write(
        &repo,
        "b.zip",
        zip_bytes(&[("a.env", a.as_bytes()), ("b.env", b.as_bytes())]),
    );
    let c2 = commit(&repo, "two members");
    let (run, report) = scan_git(ws.path(), &["--no-dedup"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let mut got: Vec<(String, String)> = report
        .iter()
        .map(|f| {
            (
                f["Commit"].as_str().unwrap_or_default().to_string(),
                f["File"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    got.sort();
    let mut want = vec![
        (c1, "b.zip!a.env".to_string()),
        (c2, "b.zip!b.env".to_string()),
    ];
    want.sort();
    assert_eq!(got, want);
}

#[test]
fn a_secret_nested_deeper_than_the_archive_depth_fails_the_scan() {
    let (ws, repo) = git_workspace();
    let inner = zip_bytes(&[("deep/secret.env", format!("{TOKEN}\n").as_bytes())]);
    write(&repo, "outer.zip", zip_bytes(&[("inner.zip", &inner)]));
    commit(&repo, "nested");
    for (name, (run, report)) in [
        ("git", scan_git(ws.path(), &["--max-archive-depth", "1"])),
        ("dir", scan_repo(ws.path(), &["--max-archive-depth", "1"])),
    ] {
        assert!(report.is_empty(), "{name}: {report:?}");
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains("secrets scan incomplete")
                && run.stderr.contains("outer.zip!inner.zip")
                && run.stderr.contains("--max-archive-depth 1"),
            "{name}: {}",
            run.stderr
        );
    }
}

#[test]
fn an_oversize_blob_makes_scan_git_incomplete() {
    let (ws, repo) = git_workspace();
    let mut big = vec![b'z'; 1_500_000];
    big.extend_from_slice(format!("\n{TOKEN}\n").as_bytes());
    write(&repo, "big.txt", &big);
    write(&repo, "small.p12", b"\x30\x82");
    commit(&repo, "big");
    let (run, report) = scan_git(ws.path(), &["--max-target-megabytes", "1"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("secrets scan incomplete") && run.stderr.contains("big.txt"),
        "{}",
        run.stderr
    );
    // Path-only rules still run on every added path.
    assert_eq!(
        rel_keys(&report),
        vec![("small.p12".into(), "pkcs12-file".into(), 0)]
    );
    let (run, _) = scan_repo(ws.path(), &["--max-target-megabytes", "1"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

#[test]
fn max_target_megabytes_zero_means_no_limit_in_scan_git() {
    let (ws, repo) = git_workspace();
    write(&repo, "a.env", format!("key={TOKEN}\n"));
    commit(&repo, "a");
    let (run, report) = scan_git(ws.path(), &["--max-target-megabytes", "0"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        rel_keys(&report),
        vec![("a.env".into(), "test-token".into(), 1)]
    );
    let (run, report) = scan_repo(ws.path(), &["--max-target-megabytes", "0"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        rel_keys(&report),
        vec![("a.env".into(), "test-token".into(), 1)]
    );
}

#[test]
fn oversize_zip_member_makes_scan_dir_incomplete() {
    let (ws, repo) = workspace();
    let mut big = vec![b'z'; 1_500_000];
    big.extend_from_slice(format!("\n{TOKEN}\n").as_bytes());
    write(&repo, "m.zip", zip_bytes(&[("big.txt", &big)]));
    let (run, report) = scan_repo(ws.path(), &["--max-target-megabytes", "1"]);
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("m.zip!big.txt"), "{}", run.stderr);
}
