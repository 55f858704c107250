//! Tests of [`super::scan_history_with`] as a whole: the phases in sequence, their timings,
//! the thread pool and the interrupt flag.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::test_support::git;
use super::{GitError, GitScanOptions, GitTuning, PackPasses, scan_history_with};
use crate::detect::Fragment;
use crate::report::finding::Finding;
use crate::source::FragmentScanner;

/// Reports every occurrence of `SECRET_` followed by digits.
struct Digits;

impl FragmentScanner for Digits {
    fn scan_fragment(&self, frag: &Fragment<'_>, out: &mut Vec<Finding>) {
        let text = String::from_utf8_lossy(frag.text);
        for (i, line) in text.lines().enumerate() {
            if let Some(at) = line.find("SECRET_") {
                out.push(Finding {
                    rule_id: "digits".into(),
                    secret: line[at..].to_string(),
                    file: frag.path.to_string(),
                    start_line: frag.start_line + u32::try_from(i).unwrap_or(0),
                    ..Finding::default()
                });
            }
        }
    }
    fn path_allowed_globally(&self, _: &str) -> bool {
        false
    }
    fn might_match(&self, bytes: &[u8]) -> bool {
        bytes.windows(7).any(|w| w == b"SECRET_")
    }
}

fn repo_with_secrets() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    git(p, &["init", "-q", "-b", "main"]);
    for i in 0..12 {
        let body = format!("line\nSECRET_{i}\n") + &"filler\n".repeat(i);
        std::fs::write(p.join(format!("f{}", i % 3)), body).expect("write");
        git(p, &["add", "."]);
        git(p, &["commit", "-q", "-m", &format!("c{i}")]);
    }
    git(p, &["gc", "-q"]);
    dir
}

fn locations(opts: &GitScanOptions, repo: &std::path::Path) -> Vec<(String, String, u32)> {
    let report = scan_history_with(repo, &Digits, opts).expect("scan");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let mut v: Vec<_> = report
        .findings
        .into_iter()
        .map(|f| (f.commit, f.secret, f.start_line))
        .collect();
    v.sort();
    v
}

#[test]
fn the_report_times_every_phase_in_order() {
    let dir = repo_with_secrets();
    let report = scan_history_with(dir.path(), &Digits, &GitScanOptions::default()).expect("scan");
    let phases: Vec<&str> = report.timings.iter().map(|t| t.phase).collect();
    for want in [
        "select commits",
        "walk",
        "tree diffs",
        "settle blobs",
        "jobs",
        "finish",
    ] {
        assert!(phases.contains(&want), "{want} missing from {phases:?}");
    }
    let at = |name: &str| phases.iter().position(|p| *p == name);
    assert!(at("walk") < at("tree diffs"));
    assert!(at("tree diffs") < at("settle blobs"));
    assert!(at("settle blobs") < at("jobs"));
    assert!(at("jobs") < at("finish"));
    assert_eq!(report.findings.len(), 12);
}

#[test]
fn every_thread_count_and_pack_pass_choice_finds_the_same() {
    let dir = repo_with_secrets();
    let base = locations(&GitScanOptions::default(), dir.path());
    assert_eq!(base.len(), 12);
    for threads in [1, 3] {
        for passes in [PackPasses::Always, PackPasses::Never] {
            let opts = GitScanOptions {
                threads,
                tuning: GitTuning {
                    pack_passes: passes,
                    pack_resident_mb: 1,
                    ..GitTuning::default()
                },
                ..GitScanOptions::default()
            };
            assert_eq!(
                locations(&opts, dir.path()),
                base,
                "{threads} threads, {passes:?}"
            );
        }
    }
}

#[test]
fn an_interrupted_scan_is_an_error_not_a_clean_report() {
    let dir = repo_with_secrets();
    let opts = GitScanOptions {
        interrupt: Some(Arc::new(AtomicBool::new(true))),
        ..GitScanOptions::default()
    };
    let err = scan_history_with(dir.path(), &Digits, &opts).expect_err("interrupted");
    assert!(matches!(err, GitError::Interrupted { .. }), "{err}");
    assert!(err.to_string().contains("incomplete"), "{err}");
    // The index scan stops too.
    let opts = GitScanOptions {
        staged: true,
        ..opts
    };
    let err = scan_history_with(dir.path(), &Digits, &opts).expect_err("interrupted");
    assert!(matches!(err, GitError::Interrupted { .. }), "{err}");
}

/// A history scan of a repository whose root tree of HEAD was deleted from `.git/objects`
/// lists one `object` error naming the tree and the commit, with the message the CLI prints;
/// the older commit is still scanned.
#[test]
fn missing_tree_in_history_is_an_object_error_with_the_tree_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path();
    git(p, &["init", "-q", "-b", "main"]);
    std::fs::write(p.join("a.txt"), "SECRET_1\n").expect("write");
    git(p, &["add", "."]);
    git(p, &["commit", "-q", "-m", "one"]);
    std::fs::write(p.join("b.txt"), "SECRET_2\n").expect("write");
    git(p, &["add", "."]);
    git(p, &["commit", "-q", "-m", "two"]);
    let head = git(p, &["rev-parse", "HEAD"]).trim().to_string();
    let tree = git(p, &["rev-parse", "HEAD^{tree}"]).trim().to_string();
    std::fs::remove_file(p.join(".git/objects").join(&tree[..2]).join(&tree[2..]))
        .expect("remove the loose tree");
    let report = scan_history_with(p, &Digits, &GitScanOptions::default()).expect("scan");
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    let e = &report.errors[0];
    assert_eq!(e.kind, crate::source::ScanErrorKind::Object, "{e}");
    assert_eq!(e.object.as_deref(), Some(tree.as_str()), "{e}");
    assert_eq!(e.commit.as_deref(), Some(head.as_str()), "{e}");
    let prefix = format!("tree {tree} of commit {head} is missing or corrupt: ");
    assert!(e.to_string().starts_with(&prefix), "{e}");
    assert_eq!(
        report.findings.len(),
        1,
        "the first commit is still scanned"
    );
}
