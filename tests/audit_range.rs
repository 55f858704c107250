//! Range mode with a real git repository built by the test: a branch that bumps a dependency
//! to a vulnerable version is reported; a vulnerability already on main is not.

use crate::audit_support;

use std::path::Path;

use audit_support::*;
use portcullis::audit::{AuditError, audit_range};

fn git(dir: &Path, args: &[&str]) {
    portcullis_pack::testing::git(dir, args);
}

fn cargo_lock(pkgs: &[(&str, &str)]) -> String {
    let mut s = String::from("version = 3\n");
    for (n, v) in pkgs {
        s.push_str(&format!(
            "\n[[package]]\nname = \"{n}\"\nversion = \"{v}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
        ));
    }
    s
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q"]);
    // main: time 0.1.43 (vulnerable, already there), regex 1.5.5 (fixed).
    write(
        d,
        "Cargo.lock",
        &cargo_lock(&[("regex", "1.5.5"), ("time", "0.1.43")]),
    );
    write(d, "py/requirements.txt", "-r base.txt\n");
    write(d, "py/base.txt", "Django==3.2.20\n");
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "main"]);
    git(d, &["checkout", "-q", "-b", "feature"]);
    // feature: downgrade regex to a vulnerable version, add a vulnerable Python pin via the
    // included file, keep time as is.
    write(
        d,
        "Cargo.lock",
        &cargo_lock(&[("regex", "1.5.4"), ("time", "0.1.43")]),
    );
    write(d, "py/base.txt", "Django==2.2.0\n");
    write(
        d,
        "sub/new/Cargo.lock",
        &cargo_lock(&[("smallvec", "0.6.9")]),
    );
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "feature"]);
    // main moves on with another commit (merge-base is the first commit).
    git(d, &["checkout", "-q", "main"]);
    write(d, "README", "x");
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "main 2"]);
    dir
}

#[test]
fn range_reports_only_versions_the_branch_introduces() {
    let dir = repo();
    let r = audit_range(dir.path(), "main", "feature", &opts()).unwrap();
    let pkgs: std::collections::BTreeSet<_> = r
        .findings
        .iter()
        .map(|f| (f.lockfile.as_str(), f.package.as_str(), f.version.as_str()))
        .collect();
    assert!(pkgs.contains(&("Cargo.lock", "regex", "1.5.4")), "{pkgs:?}");
    assert!(
        pkgs.contains(&("py/requirements.txt", "Django", "2.2.0")),
        "include read from the git tree: {pkgs:?}"
    );
    assert!(
        pkgs.contains(&("sub/new/Cargo.lock", "smallvec", "0.6.9")),
        "new lockfile counts as new"
    );
    assert!(
        !pkgs.iter().any(|(_, p, _)| *p == "time"),
        "time 0.1.43 was already on main: {pkgs:?}"
    );
    assert_eq!(r.exit_code(), 1);
    // Full audit of main sees time; the range main..main sees nothing.
    let r = audit_range(dir.path(), "main", "main", &opts()).unwrap();
    assert!(r.findings.is_empty());
    assert_eq!(r.exit_code(), 0);
}

#[test]
fn range_through_the_cli_and_error_cases() {
    let dir = repo();
    let p = dir.path().to_str().unwrap();
    let (code, out, err) = portcullis(
        &[
            "audit",
            p,
            "--range",
            "main..feature",
            "--format",
            "json",
            "--no-cache",
        ],
        &[],
    );
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["package"] != "time")
    );
    // A branch that only keeps main's vulnerability passes.
    git(dir.path(), &["checkout", "-q", "-b", "clean", "main"]);
    write(dir.path(), "notes.txt", "no dependency change");
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "clean"]);
    let (code, _, err) = portcullis(&["audit", p, "--range", "main..clean", "--no-cache"], &[]);
    assert_eq!(code, 0, "{err}");
    // Missing ref → error, exit 2.
    match audit_range(dir.path(), "nope", "feature", &opts()) {
        Err(AuditError::Git(m)) => assert!(m.contains("nope"), "{m}"),
        other => panic!("expected git error, got {other:?}"),
    }
    let (code, _, err) = portcullis(&["audit", p, "--range", "nope..feature", "--no-cache"], &[]);
    assert_eq!(code, 2, "{err}");
    // A broken lockfile at HEAD is an error naming file and revision.
    git(dir.path(), &["checkout", "-q", "-b", "broken", "main"]);
    write(dir.path(), "poetry.lock", "[[package]\n");
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "broken"]);
    let (code, _, err) = portcullis(&["audit", p, "--range", "main..broken", "--no-cache"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("poetry.lock@broken:1"), "{err}");
}

#[test]
fn range_lists_changed_lockfiles_it_cannot_audit_and_ignores_unchanged_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    git(d, &["init", "-q"]);
    write(d, "old/yarn.lock", "# yarn lockfile v1\n");
    write(d, "Cargo.lock", &cargo_lock(&[("regex", "1.5.5")]));
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "main"]);
    git(d, &["checkout", "-q", "-b", "feature"]);
    write(d, "web/pnpm-lock.yaml", "lockfileVersion: '9.0'\n");
    write(d, "tool/go.sum", "example.com/x v1.0.0 h1:abc=\n");
    write(
        d,
        "ui/package-lock.json",
        r#"{"lockfileVersion": 3, "packages": {"node_modules/lodash": {"version": "4.17.20"}}}"#,
    );
    git(d, &["add", "-A"]);
    git(d, &["commit", "-q", "-m", "feature"]);
    let db = [testdata("advisory-db/rustsec")];
    let r = audit_range(d, "main", "feature", &opts_with_db(&db)).unwrap();
    let listed: Vec<&str> = r.not_audited.iter().map(|n| n.path.as_str()).collect();
    // old/yarn.lock and Cargo.lock are unchanged: nothing of theirs is new.
    assert_eq!(
        listed,
        vec!["tool/go.sum", "ui/package-lock.json", "web/pnpm-lock.yaml"],
        "{r:?}"
    );
    assert_eq!(r.status, portcullis::audit::AuditStatus::Degraded);
}
