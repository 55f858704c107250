//! Regex rules restricted to some paths (`path` and `regex`) are kept out of the history
//! engine's whole-blob candidate test (their keywords are often common words); a blob at one
//! of their paths is scanned whatever that test answers. These cases fail if such a blob is
//! skipped as "no candidate".

use crate::{git_common, scan_common};

use std::process::Command;

use scan_common::*;

/// A ruleset whose only regex rule is restricted to `.env` files.
const GATED_CONFIG: &str = r#"
[[rules]]
id = "env-secret"
description = "secret in a .env file"
path = '''(?:^|/)\.env$'''
regex = '''SECRET=([A-Za-z0-9]{12,})'''
keywords = ["secret"]
"#;

/// A repository with the same secret line in `app/.env` (second commit) and in
/// `app/notes.txt` (first commit), scanned with `PORTCULLIS_PACK_PASSES=passes`.
fn scan_history(passes: &str) -> Vec<(String, String, u64)> {
    let (ws, _) = workspace();
    write(ws.path(), "config.toml", GATED_CONFIG);
    let repo = git_common::TestRepo::new();
    repo.write("app/notes.txt", "x\nSECRET=Q7mZ2vR9kT4wP8nL\n");
    repo.commit("notes");
    repo.write("app/.env", "A=1\nSECRET=Q7mZ2vR9kT4wP8nL\n");
    repo.commit("env");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    let out = cmd
        .args(["scan", "git", "--config", "config.toml", "-r", "-"])
        .arg(repo.path())
        .current_dir(ws.path())
        .env("PORTCULLIS_PACK_PASSES", passes)
        .env_remove("PORTCULLIS_CONFIG")
        .env_remove("GITLEAKS_CONFIG")
        .env_remove("GITLEAKS_CONFIG_TOML")
        .output()
        .expect("run portcullis");
    let report: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not a JSON report ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    keys(&report)
}

#[test]
fn path_restricted_rule_finds_its_secret_in_history() {
    let want = vec![("app/.env".to_string(), "env-secret".to_string(), 2)];
    assert_eq!(scan_history("never"), want, "blobs prefiltered one by one");
    assert_eq!(
        scan_history("always"),
        want,
        "blobs prefiltered in the pack pass"
    );
}
