//! `db update` against a real HTTP server on 127.0.0.1: what it fetched is validated (parses,
//! not empty, no large drop against the cache it replaces unless `--force`), the previous cache
//! is kept otherwise, ecosystems are merged, and the data is dated by its own newest
//! `modified`. Snapshots (embedded or cached) older than 90 days are degraded.

use crate::audit_support;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use audit_support::*;
use portcullis::audit::advisory::cache;
use portcullis::audit::{AuditStatus, audit_path};

/// RFC 3339 time `days` days ago.
fn days_ago(days: i64) -> String {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second() - days * 86_400)
        .unwrap()
        .to_string()
}

/// An OSV export zip with `n` records for `package` in `eco`, each modified `age` days ago.
fn osv_zip(eco: &str, package: &str, n: usize, age: i64) -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..n {
        let rec = serde_json::json!({
            "id": format!("TEST-{eco}-{i}"), "modified": days_ago(age + i as i64), "summary": "test",
            "affected": [{"package": {"ecosystem": eco, "name": package},
              "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0.1"}]}]}]
        });
        z.start_file(
            format!("TEST-{i}.json"),
            zip::write::SimpleFileOptions::default(),
        )
        .unwrap();
        z.write_all(rec.to_string().as_bytes()).unwrap();
    }
    z.finish().unwrap().into_inner()
}

type Files = Arc<Mutex<HashMap<String, Vec<u8>>>>;

/// A server answering GET <path> from a mutable map (404 otherwise).
fn server() -> (String, Files) {
    let files: Files = Arc::new(Mutex::new(HashMap::new()));
    let f2 = files.clone();
    let (url, _) = serve(move |_, path, _| match f2.lock().unwrap().get(path) {
        Some(body) => Reply {
            status: 200,
            body: body.clone(),
            delay: Duration::ZERO,
        },
        None => Reply {
            status: 404,
            body: vec![],
            delay: Duration::ZERO,
        },
    });
    (url, files)
}

fn update(url: &str, dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "db".to_string(),
        "update".into(),
        "--dir".into(),
        dir.to_str().unwrap().into(),
        "--rustsec-url".into(),
        format!("{url}/rustsec.tar.gz"),
        "--osv-export-url".into(),
        format!("{url}/osv"),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    portcullis(&refs, &[])
}

fn cached_audit(cache_dir: &Path, lock: &Path) -> portcullis::audit::AuditReport {
    let mut o = opts();
    o.no_cache = false;
    o.cache_dir = Some(cache_dir.to_path_buf());
    audit_path(lock, &o).unwrap()
}

const REQS: &str = "notvulnerable==1.0\n";

#[test]
fn db_update_rejects_an_empty_archive_and_keeps_the_previous_cache() {
    let (url, files) = server();
    files
        .lock()
        .unwrap()
        .insert("/rustsec.tar.gz".into(), rustsec_tarball(1));
    files.lock().unwrap().insert(
        "/osv/PyPI/all.zip".into(),
        osv_zip("PyPI", "notvulnerable", 3, 1),
    );
    let home = tempfile::tempdir().unwrap();
    let cache_dir = home.path().join("cache");
    let (code, out, err) = update(&url, &cache_dir, &["--ecosystem", "PyPI"]);
    assert_eq!(code, 0, "{out}{err}");
    let req = write(home.path(), "app/requirements.txt", REQS);
    assert_eq!(cached_audit(&cache_dir, &req).findings.len(), 3);

    // A valid but empty archive is refused; the Python coverage stays.
    files
        .lock()
        .unwrap()
        .insert("/osv/PyPI/all.zip".into(), osv_zip("PyPI", "x", 0, 1));
    let (code, _, err) = update(&url, &cache_dir, &["--ecosystem", "PyPI"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no advisories"), "{err}");
    let r = cached_audit(&cache_dir, &req);
    assert_eq!(r.findings.len(), 3, "previous cache kept: {r:?}");
    // --force does not make an empty archive acceptable.
    let (code, _, _) = update(&url, &cache_dir, &["--ecosystem", "PyPI", "--force"]);
    assert_eq!(code, 2);
    // Neither does garbage.
    files
        .lock()
        .unwrap()
        .insert("/osv/PyPI/all.zip".into(), b"not a zip".to_vec());
    let (code, _, _) = update(&url, &cache_dir, &["--ecosystem", "PyPI"]);
    assert_eq!(code, 2);
    assert_eq!(cached_audit(&cache_dir, &req).findings.len(), 3);
}

#[test]
fn db_update_refuses_a_large_drop_unless_forced() {
    let (url, files) = server();
    files
        .lock()
        .unwrap()
        .insert("/rustsec.tar.gz".into(), rustsec_tarball(1));
    files.lock().unwrap().insert(
        "/osv/PyPI/all.zip".into(),
        osv_zip("PyPI", "notvulnerable", 8, 1),
    );
    let home = tempfile::tempdir().unwrap();
    let cache_dir = home.path().join("cache");
    let (code, out, err) = update(&url, &cache_dir, &["--ecosystem", "PyPI"]);
    assert_eq!(code, 0, "{out}{err}");
    files.lock().unwrap().insert(
        "/osv/PyPI/all.zip".into(),
        osv_zip("PyPI", "notvulnerable", 2, 1),
    );
    let (code, _, err) = update(&url, &cache_dir, &["--ecosystem", "PyPI"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--force"), "{err}");
    let req = write(home.path(), "app/requirements.txt", REQS);
    assert_eq!(cached_audit(&cache_dir, &req).findings.len(), 8);
    let (code, _, err) = update(&url, &cache_dir, &["--ecosystem", "PyPI", "--force"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(cached_audit(&cache_dir, &req).findings.len(), 2);
}

#[test]
fn db_update_of_one_ecosystem_keeps_the_others() {
    let (url, files) = server();
    files
        .lock()
        .unwrap()
        .insert("/rustsec.tar.gz".into(), rustsec_tarball(1));
    files.lock().unwrap().insert(
        "/osv/PyPI/all.zip".into(),
        osv_zip("PyPI", "notvulnerable", 2, 1),
    );
    files
        .lock()
        .unwrap()
        .insert("/osv/npm/all.zip".into(), osv_zip("npm", "lodash", 1, 1));
    let home = tempfile::tempdir().unwrap();
    let cache_dir = home.path().join("cache");
    let (code, out, err) = update(&url, &cache_dir, &["--ecosystem", "PyPI"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = update(&url, &cache_dir, &["--ecosystem", "npm"]);
    assert_eq!(code, 0, "{out}{err}");
    let meta = cache::read_meta(&cache_dir).unwrap();
    let names: Vec<&str> = meta.sources.iter().map(|s| s.name.as_str()).collect();
    assert!(
        names.contains(&"osv-PyPI") && names.contains(&"osv-npm"),
        "{names:?}"
    );
    let req = write(home.path(), "app/requirements.txt", REQS);
    let r = cached_audit(&cache_dir, &req);
    assert_eq!(r.findings.len(), 2, "Python coverage kept: {r:?}");
    assert!(r.not_audited.is_empty(), "{:?}", r.not_audited);
    // Go is in neither download: the embedded Go data fills in, and only it.
    let gomod = write(
        home.path(),
        "svc/go.mod",
        "module m\n\ngo 1.99.0\n\nrequire github.com/gin-gonic/gin v1.5.0\n",
    );
    let r = cached_audit(&cache_dir, &gomod);
    assert!(r.not_audited.is_empty(), "{:?}", r.not_audited);
    assert!(r.findings.iter().any(|f| f.id == "GO-2020-0001"), "{r:?}");
    let embedded: Vec<&str> = r
        .sources
        .iter()
        .filter(|s| s.kind == "embedded")
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(embedded, vec!["go"], "{:?}", r.sources);
}

#[test]
fn cache_is_dated_by_its_own_newest_modified_and_old_data_is_degraded() {
    let (url, files) = server();
    files
        .lock()
        .unwrap()
        .insert("/rustsec.tar.gz".into(), rustsec_tarball(1));
    // Downloaded today, but nothing in it changed in the last 120 days.
    files.lock().unwrap().insert(
        "/osv/PyPI/all.zip".into(),
        osv_zip("PyPI", "notvulnerable", 2, 120),
    );
    let home = tempfile::tempdir().unwrap();
    let cache_dir = home.path().join("cache");
    let (code, out, err) = update(&url, &cache_dir, &["--ecosystem", "PyPI"]);
    assert_eq!(code, 0, "{out}{err}");
    let req = write(home.path(), "app/requirements.txt", REQS);
    let r = cached_audit(&cache_dir, &req);
    let pypi = r.sources.iter().find(|s| s.name == "osv-PyPI").unwrap();
    assert!(
        pypi.date
            .as_deref()
            .unwrap()
            .starts_with(days_ago(120).get(..10).unwrap()),
        "{pypi:?}"
    );
    assert!(pypi.stale, "{pypi:?}");
    assert_eq!(r.status, AuditStatus::Degraded, "{r:?}");
    assert!(
        r.warnings.iter().any(|w| w.contains("120 days old")),
        "{:?}",
        r.warnings
    );
    let (code, _, err) = portcullis(
        &[
            "audit",
            req.to_str().unwrap(),
            "--cache-dir",
            cache_dir.to_str().unwrap(),
            "--strict",
        ],
        &[],
    );
    assert_eq!(code, 2, "{err}");
    // Fresh data is not degraded.
    files.lock().unwrap().insert(
        "/osv/PyPI/all.zip".into(),
        osv_zip("PyPI", "notvulnerable", 2, 3),
    );
    let (code, out, err) = update(&url, &cache_dir, &["--ecosystem", "PyPI"]);
    assert_eq!(code, 0, "{out}{err}");
    let r = cached_audit(&cache_dir, &req);
    assert_eq!(r.status, AuditStatus::Ok, "{r:?}");
}

#[test]
fn embedded_snapshot_older_than_90_days_is_degraded_and_strict_fails() {
    let dir = tempfile::tempdir().unwrap();
    let lock = write(dir.path(), "requirements.txt", "requests==2.31.0\n");
    let r = audit_path(&lock, &opts()).unwrap();
    // The embedded data dates from 2026-08 (RustSec, Go) and 2024-10 (PyPA).
    let pypa = r.sources.iter().find(|s| s.name == "pypa").unwrap();
    assert!(pypa.stale, "{pypa:?}");
    assert_eq!(r.status, AuditStatus::Degraded);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.starts_with("DEGRADED") && w.contains("pypa") && w.contains("days old")),
        "{:?}",
        r.warnings
    );
    let (code, _, err) = portcullis(&["audit", lock.to_str().unwrap(), "--no-cache"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("days old"), "{err}");
    let (code, _, _) = portcullis(
        &["audit", lock.to_str().unwrap(), "--no-cache", "--strict"],
        &[],
    );
    assert_eq!(code, 2);
}
