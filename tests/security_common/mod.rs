//! Helpers for the security gate tests: real repositories built with the real `git` CLI
//! (isolated from the user's configuration), the `portcullis` binary, and small HTTP servers
//! on 127.0.0.1.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fake secret matched by the test rule `test-token` (never a real credential).
pub const SECRET: &str = "tok_Q7mX2pL9vR4kT8wN1bZ6cY3hF5jD0sGa";
/// A second one.
pub const SECRET2: &str = "tok_Zq8Wn3Lx5Rv2Tk9Pm4Hc7Jd1Fs6Gb0Ya";

/// A gitleaks configuration with one rule, `test-token`.
pub const TEST_CONFIG: &str = r#"title = "secgate tests"

[[rules]]
id = "test-token"
description = "Test token"
regex = '''\b(tok_[A-Za-z0-9]{32})\b'''
keywords = ["tok_"]
"#;

/// A repository under a temporary directory.
pub struct Repo {
    pub dir: tempfile::TempDir,
}

impl Repo {
    /// `git init` on branch `main`, with `.gitleaks.toml` = [`TEST_CONFIG`] committed.
    pub fn with_test_config() -> Repo {
        let r = Repo::empty();
        r.write(".gitleaks.toml", TEST_CONFIG);
        r.write("README.md", "# demo\n");
        r.commit("initial commit");
        r
    }

    /// `git init` on branch `main`, nothing committed.
    pub fn empty() -> Repo {
        let dir = tempfile::tempdir().expect("tempdir");
        let r = Repo { dir };
        r.git(&["init", "-q", "-b", "main"]);
        r
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn git(&self, args: &[&str]) -> String {
        use portcullis_pack::testing::{git_command, run};
        let stdout = run(git_command(self.path())
            .args(args)
            .env("GIT_AUTHOR_NAME", "Ada Agent")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada Agent")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com"));
        stdout.trim().to_string()
    }

    pub fn write(&self, rel: &str, text: &str) {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Stage everything and commit; returns the commit id.
    pub fn commit(&self, msg: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]);
        self.git(&["rev-parse", "HEAD"])
    }

    pub fn checkout_new(&self, branch: &str) {
        self.git(&["checkout", "-q", "-b", branch]);
    }

    pub fn checkout(&self, branch: &str) {
        self.git(&["checkout", "-q", branch]);
    }

    pub fn report(&self) -> String {
        std::fs::read_to_string(self.path().join("security-report.md")).expect("report written")
    }
}

/// Run `portcullis ARGS` in `cwd` with `env` added (and no PORTCULLIS_* from the caller).
pub fn portcullis(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    c.current_dir(cwd).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("PORTCULLIS_") || k == "GITLEAKS_CONFIG" {
            c.env_remove(k);
        }
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run portcullis")
}

/// A TCP port on 127.0.0.1 with nothing listening (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A server on 127.0.0.1 that accepts connections and never answers (kept open until the
/// returned listener thread's process ends). Returns its base URL.
pub fn silent_server() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    format!("http://127.0.0.1:{port}")
}

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}
