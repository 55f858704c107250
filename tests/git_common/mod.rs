//! Helpers shared by the `git_*` integration tests: build real repositories with the real
//! `git` CLI (isolated from the user's configuration, deterministic dates).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// A temporary repository driven by the git CLI.
pub struct TestRepo {
    pub dir: tempfile::TempDir,
    tick: std::cell::Cell<u64>,
}

impl TestRepo {
    /// `git init -b main` in a fresh temporary directory.
    pub fn new() -> TestRepo {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = TestRepo {
            dir,
            tick: std::cell::Cell::new(0),
        };
        r.git(&["init", "-q", "-b", "main"]);
        r
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Run git with an isolated configuration; panics with stderr on failure.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_raw(args);
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Run git, returning the raw output (no status check).
    pub fn git_raw(&self, args: &[&str]) -> std::process::Output {
        let t = self.tick.get() + 1;
        self.tick.set(t);
        let date = format!("{} +0200", 1_700_000_000 + t * 60);
        portcullis_pack::testing::git_command(self.path())
            .args(args)
            .env("GIT_AUTHOR_NAME", "Alice Author")
            .env("GIT_AUTHOR_EMAIL", "alice@example.com")
            .env("GIT_COMMITTER_NAME", "Carl Committer")
            .env("GIT_COMMITTER_EMAIL", "carl@example.com")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .expect("run git")
    }

    /// Write a file (creating directories).
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let p = self.path().join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, content).expect("write");
    }

    /// `git add -A && git commit -m msg`; returns the new commit id.
    pub fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.head()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }

    /// Path of the loose object file of `id`.
    pub fn loose_object(&self, id: &str) -> PathBuf {
        self.path()
            .join(".git/objects")
            .join(&id[..2])
            .join(&id[2..])
    }
}

/// A test secret the test rules match: `SECRET_` + 16 upper-case letters/digits.
pub fn secret(tag: &str) -> String {
    let mut s = format!("SECRET_{}", tag.to_uppercase());
    while s.len() < 23 {
        s.push('X');
    }
    s.truncate(23);
    s
}

/// `n` lines of filler text.
pub fn filler(n: usize) -> String {
    (0..n)
        .map(|i| format!("line {i} of ordinary text\n"))
        .collect()
}

use portcullis::detect::Fragment;
use portcullis::report::finding::Finding;
use portcullis::source::FragmentScanner;
use portcullis::source::git::{GitScanOptions, GitScanReport, scan_history_with};

/// A minimal detector for engine tests: one regex, gitleaks' line arithmetic.
pub struct RegexScanner(pub regex::bytes::Regex);

impl Default for RegexScanner {
    fn default() -> Self {
        RegexScanner(regex::bytes::Regex::new(r"SECRET_[A-Z0-9]{16}").expect("regex"))
    }
}

impl FragmentScanner for RegexScanner {
    fn might_match(&self, bytes: &[u8]) -> bool {
        self.0.is_match(bytes)
    }
    fn path_allowed_globally(&self, _: &str) -> bool {
        false
    }
    fn scan_fragment(&self, frag: &Fragment<'_>, out: &mut Vec<Finding>) {
        for m in self.0.find_iter(frag.text) {
            let line = frag.start_line
                + frag.text[..m.start()]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count() as u32;
            let secret = String::from_utf8_lossy(m.as_bytes()).into_owned();
            let mut f = Finding {
                rule_id: "test-secret".into(),
                start_line: line,
                end_line: line,
                secret_fingerprint: portcullis::report::finding::secret_fingerprint(
                    "test-secret",
                    &secret,
                ),
                r#match: secret.clone(),
                secret,
                file: frag.path.to_string(),
                commit: frag.commit.to_string(),
                ..Finding::default()
            };
            f.fingerprint = f.gitleaks_fingerprint();
            out.push(f);
        }
    }
}

/// Scan `repo` with the regex scanner.
pub fn scan(repo: &TestRepo, opts: &GitScanOptions) -> GitScanReport {
    scan_history_with(repo.path(), &RegexScanner::default(), opts).expect("scan")
}

/// `(commit, file, line, secret)` of every finding, sorted.
pub fn locations(r: &GitScanReport) -> Vec<(String, String, u32, String)> {
    let mut v: Vec<_> = r
        .findings
        .iter()
        .map(|f| {
            (
                f.commit.clone(),
                f.file.clone(),
                f.start_line,
                f.secret.clone(),
            )
        })
        .collect();
    v.sort();
    v
}

/// Options scanning the given revisions.
pub fn revs(r: &[&str]) -> GitScanOptions {
    GitScanOptions {
        revs: r.iter().map(|s| s.to_string()).collect(),
        ..GitScanOptions::default()
    }
}
