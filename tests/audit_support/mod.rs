//! Shared helpers of the audit integration tests.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portcullis::audit::{AuditOptions, AuditReport};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn testdata(rel: &str) -> PathBuf {
    root().join("testdata").join(rel)
}

/// Options that never touch the user's cache.
pub fn opts() -> AuditOptions {
    AuditOptions {
        no_cache: true,
        ..AuditOptions::default()
    }
}

pub fn opts_with_db(dbs: &[PathBuf]) -> AuditOptions {
    AuditOptions {
        dbs: dbs.to_vec(),
        ..opts()
    }
}

/// The status an audit on the embedded snapshot has: degraded, and only because the snapshot is
/// older than 90 days (every source read, every lockfile audited).
pub fn assert_only_out_of_date(report: &AuditReport, what: &str) {
    assert_eq!(
        report.status,
        portcullis::audit::AuditStatus::Degraded,
        "{what}: {:?}",
        report.sources
    );
    assert!(
        report.sources.iter().all(|s| s.ok && s.kind == "embedded"),
        "{what}: {:?}",
        report.sources
    );
    assert!(report.sources.iter().any(|s| s.stale), "{what}");
    assert!(
        report.not_audited.is_empty(),
        "{what}: {:?}",
        report.not_audited
    );
}

pub fn triples(report: &AuditReport, vulns: bool) -> BTreeSet<(String, String, String)> {
    report
        .findings
        .iter()
        .filter(|f| (f.kind == portcullis::audit::FindingKind::Vulnerability) == vulns)
        .map(|f| (f.id.clone(), f.package.clone(), f.version.clone()))
        .collect()
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_portcullis"))
}

pub fn portcullis(args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .env_remove("PORTCULLIS_OSV_URL")
        .env("PORTCULLIS_CACHE_DIR", "/nonexistent-portcullis-cache");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run portcullis");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

/// One HTTP response of the fake server.
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
    pub delay: Duration,
}

impl Reply {
    pub fn json(body: &str) -> Reply {
        Reply {
            status: 200,
            body: body.as_bytes().to_vec(),
            delay: Duration::ZERO,
        }
    }
}

/// A real HTTP/1.1 server on 127.0.0.1 answering with `route(method, path, body)`.
/// Returns the base URL and the log of requests seen ("METHOD PATH").
pub fn serve(
    route: impl Fn(&str, &str, &[u8]) -> Reply + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let log2 = log.clone();
    let route = Arc::new(route);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let route = route.clone();
            let log = log2.clone();
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut tmp = [0u8; 4096];
                let header_end = loop {
                    let n = match stream.read(&mut tmp) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    buf.extend_from_slice(&tmp[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..header_end]).to_string();
                let mut lines = head.lines();
                let first = lines.next().unwrap_or("").to_string();
                let len: usize = lines
                    .filter_map(|l| l.split_once(':'))
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.trim().parse().ok())
                    .unwrap_or(0);
                while buf.len() < header_end + len {
                    match stream.read(&mut tmp) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&tmp[..n]),
                    }
                }
                let mut parts = first.split_whitespace();
                let method = parts.next().unwrap_or("").to_string();
                let path = parts.next().unwrap_or("").to_string();
                log.lock().unwrap().push(format!("{method} {path}"));
                let reply = route(&method, &path, &buf[header_end..]);
                std::thread::sleep(reply.delay);
                let resp = format!(
                    "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    reply.status,
                    reply.body.len()
                );
                let _ = stream.write_all(resp.as_bytes());
                let _ = stream.write_all(&reply.body);
            });
        }
    });
    (format!("http://{addr}"), log)
}

/// A RustSec advisory-db tarball as GitHub serves it (`advisory-db-main/...`): the regex
/// advisory RUSTSEC-2022-0013, a README (not extracted) and the licence, every entry dated
/// `mtime_days_ago` days ago.
pub fn rustsec_tarball(mtime_days_ago: i64) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let mtime = (jiff::Timestamp::now().as_second() - mtime_days_ago * 86_400) as u64;
    let add = |tar: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(mtime);
        h.set_cksum();
        tar.append_data(&mut h, path, data).unwrap();
    };
    let adv = std::fs::read(testdata(
        "advisory-db/rustsec/crates/regex/RUSTSEC-2022-0013.md",
    ))
    .unwrap();
    add(
        &mut tar,
        "advisory-db-main/crates/regex/RUSTSEC-2022-0013.md",
        &adv,
    );
    add(&mut tar, "advisory-db-main/README.md", b"ignored");
    add(&mut tar, "advisory-db-main/LICENSE.txt", b"CC0");
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap()
}
