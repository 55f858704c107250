//! Directory mode and odd paths: symlinked lockfiles inside the audited directory are followed
//! (ones leaving it are not, and are listed), unsupported lockfile kinds are listed as not
//! audited, JSON that is not a lockfile is a one-line error naming the file (exit 2), and a
//! path that is not a regular file exits 2 without blocking.

use crate::audit_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use audit_support::*;
use portcullis::audit::{AuditStatus, audit_path};

fn pypa() -> PathBuf {
    testdata("advisory-db/pypa")
}

/// Run the binary with a deadline: a run that blocks (e.g. reading a FIFO) is killed and
/// reported as exit -9 instead of hanging the suite.
fn run_bounded(args: &[&str]) -> (i32, String) {
    let mut child = Command::new(bin())
        .args(args)
        .env("PORTCULLIS_CACHE_DIR", "/nonexistent-portcullis-cache")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (status.code().unwrap_or(-1), err);
        }
        if t.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            let _ = child.wait();
            return (-9, "timed out (blocked)".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn mkfifo(p: &Path) {
    let ok = Command::new("mkfifo").arg(p).status().unwrap().success();
    assert!(ok, "mkfifo {}", p.display());
}

#[test]
fn symlinked_lockfile_inside_the_directory_is_audited_and_one_leaving_it_is_not() {
    let outside = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "locks/py.txt", "requests==2.19.0\n");
    std::fs::create_dir_all(root.join("app")).unwrap();
    std::os::unix::fs::symlink("../locks/py.txt", root.join("app/requirements.txt")).unwrap();
    let r = audit_path(root, &opts_with_db(&[pypa()])).unwrap();
    assert_eq!(
        r.lockfiles
            .iter()
            .map(|l| l.path.as_str())
            .collect::<Vec<_>>(),
        vec!["app/requirements.txt"]
    );
    assert!(
        r.findings.iter().any(|f| f.package == "requests"),
        "{:?}",
        r.findings
    );
    assert_eq!(r.status, AuditStatus::Ok, "{r:?}");

    // A symlink that leaves the directory is not followed, and says so.
    let secret = write(outside.path(), "requirements.txt", "requests==2.19.0\n");
    std::fs::create_dir_all(root.join("b")).unwrap();
    std::os::unix::fs::symlink(&secret, root.join("b/requirements.txt")).unwrap();
    std::os::unix::fs::symlink("../nowhere/poetry.lock", root.join("b/poetry.lock")).unwrap();
    let r = audit_path(root, &opts_with_db(&[pypa()])).unwrap();
    assert_eq!(r.lockfiles.len(), 1);
    let listed: Vec<(&str, &str)> = r
        .not_audited
        .iter()
        .map(|n| (n.path.as_str(), n.reason.as_str()))
        .collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0].0, "b/poetry.lock");
    assert_eq!(listed[1].0, "b/requirements.txt");
    assert!(listed[1].1.contains("outside"), "{listed:?}");
    assert_eq!(r.status, AuditStatus::Degraded);
}

#[test]
fn unsupported_lockfile_kinds_are_listed_as_not_audited() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "web/yarn.lock", "# yarn lockfile v1\n");
    write(dir.path(), "Gemfile.lock", "GEM\n  specs:\n");
    let r = audit_path(dir.path(), &opts_with_db(&[pypa()])).unwrap();
    let listed: Vec<&str> = r.not_audited.iter().map(|n| n.path.as_str()).collect();
    assert_eq!(listed, vec!["Gemfile.lock", "web/yarn.lock"]);
    assert!(r.not_audited[0].reason.contains("unsupported"));
    assert_eq!(r.status, AuditStatus::Degraded);
    assert!(!r.warnings.iter().any(|w| w.contains("no lockfiles found")));
    let d = dir.path().to_str().unwrap();
    let db = pypa();
    let (code, _, err) = portcullis(&["audit", d, "--db", db.to_str().unwrap()], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("NOT AUDITED: web/yarn.lock"), "{err}");
    let (code, _, _) = portcullis(&["audit", d, "--db", db.to_str().unwrap(), "--strict"], &[]);
    assert_eq!(code, 2);
}

#[test]
fn json_that_is_not_a_lockfile_is_rejected_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for (i, (name, text)) in [
        ("package-lock.json", "null"),
        ("package-lock.json", "[]"),
        ("package-lock.json", "\"x\""),
        ("package-lock.json", "{}"),
        ("Pipfile.lock", "null"),
        ("Pipfile.lock", "[]"),
        ("Pipfile.lock", "{}"),
    ]
    .iter()
    .enumerate()
    {
        let p = write(dir.path(), &format!("{i}/{name}"), text);
        assert!(
            audit_path(&p, &opts()).is_err(),
            "{name} {text} is not an empty lockfile"
        );
        let (code, _, err) = portcullis(&["audit", p.to_str().unwrap(), "--no-cache"], &[]);
        assert_eq!(code, 2, "{name} {text}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(err.contains(p.to_str().unwrap()), "names the file: {err}");
        // The same through directory mode.
        let (code, _, _) = portcullis(
            &[
                "audit",
                dir.path().join(i.to_string()).to_str().unwrap(),
                "--no-cache",
            ],
            &[],
        );
        assert_eq!(code, 2, "{name} {text} in directory mode");
    }
}

#[test]
fn path_that_is_not_a_regular_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("Cargo.lock");
    std::fs::create_dir_all(&d).unwrap();
    write(&d, "requirements.txt", "requests==2.31.0\n");
    let (code, err) = run_bounded(&["audit", d.to_str().unwrap(), "--no-cache"]);
    assert_eq!(code, 2, "a directory named Cargo.lock: {err}");
    assert!(
        err.contains("Cargo.lock") && err.contains("directory"),
        "{err}"
    );

    let fifo = dir.path().join("fifo/requirements.txt");
    std::fs::create_dir_all(fifo.parent().unwrap()).unwrap();
    mkfifo(&fifo);
    let (code, err) = run_bounded(&["audit", fifo.to_str().unwrap(), "--no-cache"]);
    assert_eq!(code, 2, "a FIFO: {err}");
    assert!(err.contains("not a regular file"), "{err}");
    // In directory mode the FIFO is listed, not read.
    let r = audit_path(&dir.path().join("fifo"), &opts_with_db(&[pypa()])).unwrap();
    assert_eq!(r.not_audited.len(), 1, "{r:?}");
    assert!(r.not_audited[0].reason.contains("not a regular file"));
}
