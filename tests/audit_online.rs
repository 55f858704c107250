//! `--online` against a real HTTP server on 127.0.0.1 standing in for the OSV API, and
//! `db update` against a local server serving a RustSec tarball and an OSV zip.

use crate::audit_support;

use std::io::Write;
use std::time::Duration;

use audit_support::*;
use portcullis::audit::advisory::cache;
use portcullis::audit::{AuditOptions, AuditStatus, audit_path};

const REQS: &str = "flask==0.12\nnotvulnerable==1.0\n";

fn osv_record() -> String {
    r#"{"id": "GHSA-5wv5-4vpf-pj6m", "modified": "2026-01-01T00:00:00Z",
        "aliases": ["CVE-2018-1000656", "PYSEC-2018-66"], "summary": "Flask DoS via JSON",
        "database_specific": {"severity": "HIGH"},
        "affected": [{"package": {"ecosystem": "PyPI", "name": "flask"},
          "ranges": [{"type": "GIT", "repo": "https://github.com/pallets/flask", "events": [{"introduced": "0"}, {"fixed": "abcdef"}]}]}]}"#
        .to_string()
}

fn online_opts(url: &str, timeout_ms: u64) -> AuditOptions {
    AuditOptions {
        online: true,
        osv_api_url: url.to_string(),
        timeout: Duration::from_millis(timeout_ms),
        dbs: vec![testdata("advisory-db/pypa")],
        ..opts()
    }
}

fn good_server() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    serve(|method, path, body| {
        if method == "POST" && path == "/v1/querybatch" {
            let q: serde_json::Value = serde_json::from_slice(body).unwrap();
            let results: Vec<serde_json::Value> = q["queries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|q| {
                    if q["package"]["name"] == "flask" && q["version"] == "0.12" && q["package"]["ecosystem"] == "PyPI" {
                        serde_json::json!({"vulns": [{"id": "GHSA-5wv5-4vpf-pj6m", "modified": "2026-01-01T00:00:00Z"}]})
                    } else {
                        serde_json::json!({})
                    }
                })
                .collect();
            Reply::json(&serde_json::json!({"results": results}).to_string())
        } else if method == "GET" && path == "/v1/vulns/GHSA-5wv5-4vpf-pj6m" {
            Reply::json(&osv_record())
        } else {
            Reply {
                status: 404,
                body: b"{}".to_vec(),
                delay: Duration::ZERO,
            }
        }
    })
}

#[test]
fn online_results_merge_with_offline_ones_by_alias() {
    let (url, log) = good_server();
    let dir = tempfile::tempdir().unwrap();
    let req = write(dir.path(), "requirements.txt", REQS);
    let r = audit_path(&req, &online_opts(&url, 5000)).unwrap();
    assert_eq!(r.status, AuditStatus::Ok, "{:?}", r.sources);
    let flask: Vec<_> = r.findings.iter().filter(|f| f.package == "flask").collect();
    // The GHSA record (GIT range only: matched because the API said so) merges with the
    // offline PYSEC-2018-66 entry.
    let merged = flask
        .iter()
        .find(|f| f.aliases.iter().any(|a| a == "GHSA-5wv5-4vpf-pj6m"))
        .expect("merged finding");
    assert_eq!(merged.id, "PYSEC-2018-66");
    assert!(
        merged.sources.contains(&"osv-api".to_string())
            && merged.sources.contains(&"pypa".to_string())
    );
    assert_eq!(merged.severity.as_deref(), Some("high"));
    let log = log.lock().unwrap().clone();
    assert!(log.contains(&"POST /v1/querybatch".to_string()), "{log:?}");
    assert!(log.contains(&"GET /v1/vulns/GHSA-5wv5-4vpf-pj6m".to_string()));
    assert!(r.sources.iter().any(|s| s.kind == "osv-api" && s.ok));
}

#[test]
fn online_5xx_is_degraded_and_strict_is_error() {
    let (url, _) = serve(|_, _, _| Reply {
        status: 503,
        body: b"{}".to_vec(),
        delay: Duration::ZERO,
    });
    let dir = tempfile::tempdir().unwrap();
    let req = write(dir.path(), "requirements.txt", REQS);
    let r = audit_path(&req, &online_opts(&url, 5000)).unwrap();
    assert_eq!(r.status, AuditStatus::Degraded);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.starts_with("DEGRADED") && w.contains("503")),
        "{:?}",
        r.warnings
    );
    assert!(
        r.findings.iter().any(|f| f.package == "flask"),
        "offline source still used"
    );
    let mut o = online_opts(&url, 5000);
    o.strict = true;
    assert_eq!(audit_path(&req, &o).unwrap().status, AuditStatus::Error);
    // Through the CLI: degraded + findings → 1; --strict → 2; loud warning on stderr.
    let db = testdata("advisory-db/pypa");
    let args = [
        "audit",
        req.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--online",
    ];
    let (code, _, err) = portcullis(&args, &[("PORTCULLIS_OSV_URL", &url)]);
    assert_eq!(code, 1);
    assert!(err.contains("DEGRADED"), "{err}");
    let mut strict = args.to_vec();
    strict.push("--strict");
    let (code, _, _) = portcullis(&strict, &[("PORTCULLIS_OSV_URL", &url)]);
    assert_eq!(code, 2);
}

#[test]
fn online_timeout_is_degraded() {
    let (url, _) = serve(|_, _, _| Reply {
        status: 200,
        body: b"{\"results\": []}".to_vec(),
        delay: Duration::from_secs(3),
    });
    let dir = tempfile::tempdir().unwrap();
    let req = write(dir.path(), "requirements.txt", REQS);
    let t = std::time::Instant::now();
    let r = audit_path(&req, &online_opts(&url, 300)).unwrap();
    assert!(t.elapsed() < Duration::from_secs(3), "timeout honoured");
    assert_eq!(r.status, AuditStatus::Degraded);
    let api = r.sources.iter().find(|s| s.kind == "osv-api").unwrap();
    assert!(
        api.error.as_deref().unwrap().contains("timed out"),
        "{api:?}"
    );
}

#[test]
fn online_unreachable_and_malformed_answers_are_degraded() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let req = write(dir.path(), "requirements.txt", REQS);
    let r = audit_path(
        &req,
        &online_opts(&format!("http://127.0.0.1:{port}"), 2000),
    )
    .unwrap();
    assert_eq!(r.status, AuditStatus::Degraded);
    let (url, _) = serve(|_, _, _| Reply::json("{\"results\": [{}]}"));
    let r = audit_path(&req, &online_opts(&url, 2000)).unwrap();
    assert_eq!(
        r.status,
        AuditStatus::Degraded,
        "1 result for 2 queries must not pass"
    );
}

fn pypi_zip() -> Vec<u8> {
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let rec = r#"{"id": "PYSEC-TEST-1", "modified": "MODIFIED", "summary": "test",
      "affected": [{"package": {"ecosystem": "PyPI", "name": "notvulnerable"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0.1"}]}]}]}"#;
    z.start_file(
        "PYSEC-TEST-1.json",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    let rec = rec.replace("MODIFIED", &jiff::Timestamp::now().to_string());
    z.write_all(rec.as_bytes()).unwrap();
    z.finish().unwrap().into_inner()
}

#[test]
fn db_update_fills_a_cache_that_later_runs_prefer() {
    let tarball = rustsec_tarball(0);
    let zip = pypi_zip();
    let (url, log) = serve(move |_, path, _| match path {
        "/rustsec.tar.gz" => Reply {
            status: 200,
            body: tarball.clone(),
            delay: Duration::ZERO,
        },
        "/osv/PyPI/all.zip" => Reply {
            status: 200,
            body: zip.clone(),
            delay: Duration::ZERO,
        },
        _ => Reply {
            status: 404,
            body: vec![],
            delay: Duration::ZERO,
        },
    });
    let home = tempfile::tempdir().unwrap();
    let cache_dir = home.path().join("cache");
    let (code, out, err) = portcullis(
        &[
            "db",
            "update",
            "--dir",
            cache_dir.to_str().unwrap(),
            "--rustsec-url",
            &format!("{url}/rustsec.tar.gz"),
            "--osv-export-url",
            &format!("{url}/osv"),
            "--ecosystem",
            "PyPI",
        ],
        &[],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(cache_dir.join(cache::META_FILE).is_file());
    assert!(
        cache_dir
            .join("rustsec/crates/regex/RUSTSEC-2022-0013.md")
            .is_file()
    );
    assert!(!cache_dir.join("rustsec/README.md").exists());
    assert_eq!(log.lock().unwrap().len(), 2);

    // The cache is used instead of the embedded snapshot.
    let dir = tempfile::tempdir().unwrap();
    let req = write(dir.path(), "requirements.txt", REQS);
    let mut o = opts();
    o.no_cache = false;
    o.cache_dir = Some(cache_dir.clone());
    let r = audit_path(&req, &o).unwrap();
    assert_eq!(r.status, AuditStatus::Ok, "{:?}", r.sources);
    assert!(
        r.sources.iter().all(|s| s.kind.starts_with("cache:")),
        "{:?}",
        r.sources
    );
    assert_eq!(
        r.findings.len(),
        1,
        "only the cached PYSEC-TEST-1 (flask is not in the cache)"
    );
    assert_eq!(r.findings[0].id, "PYSEC-TEST-1");
    assert!(
        !r.warnings.iter().any(|w| w.contains("days old")),
        "fresh cache: {:?}",
        r.warnings
    );
    let (code, out, _) = portcullis(
        &["db", "info", "--cache-dir", cache_dir.to_str().unwrap()],
        &[],
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("preferred over the embedded snapshot"),
        "{out}"
    );

    // A failing update leaves the previous cache untouched and exits 2.
    let (code, _, err) = portcullis(
        &[
            "db",
            "update",
            "--dir",
            cache_dir.to_str().unwrap(),
            "--rustsec-url",
            &format!("{url}/missing.tar.gz"),
            "--osv-export-url",
            &format!("{url}/osv"),
        ],
        &[],
    );
    assert_eq!(code, 2);
    assert!(err.contains("404"), "{err}");
    assert!(
        cache_dir
            .join("rustsec/crates/regex/RUSTSEC-2022-0013.md")
            .is_file()
    );
}
