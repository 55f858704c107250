//! Advisory sources and matching rules: layout detection, OSV directories and zips, alias
//! merging across sources, withdrawn advisories, registry normalisation, failure policy.

use crate::audit_support;

use std::io::Write;
use std::path::Path;

use audit_support::*;
use portcullis::audit::advisory::{Layout, detect_layout};
use portcullis::audit::{AuditStatus, audit_path};

const CARGO_LOCK: &str = r#"version = 3

[[package]]
name = "smallvec"
version = "0.6.9"
source = "sparse+https://index.crates.io/"

[[package]]
name = "regex"
version = "1.5.4"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "time"
version = "0.1.43"
source = "git+https://github.com/time-rs/time?rev=abc#0123456789abcdef0123456789abcdef01234567"

[[package]]
name = "app"
version = "0.1.0"
"#;

fn ghsa_for_regex(withdrawn: bool) -> String {
    format!(
        r#"{{"id": "GHSA-m5pq-gvj9-9vr8", "modified": "2026-01-01T00:00:00Z", {}
  "aliases": ["CVE-2022-24713"], "summary": "regex DoS (GHSA copy)",
  "severity": [{{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}}],
  "affected": [{{"package": {{"ecosystem": "crates.io", "name": "regex"}},
    "ranges": [{{"type": "SEMVER", "events": [{{"introduced": "0"}}, {{"fixed": "1.5.5"}}]}}]}}]}}"#,
        if withdrawn {
            r#""withdrawn": "2026-02-01T00:00:00Z","#
        } else {
            ""
        }
    )
}

fn osv_dir(dir: &Path, withdrawn: bool) -> std::path::PathBuf {
    let osv = dir.join("osv");
    write(
        &osv,
        "crates.io/GHSA-m5pq-gvj9-9vr8.json",
        &ghsa_for_regex(withdrawn),
    );
    // An OSV-only advisory for smallvec with last_affected.
    write(
        &osv,
        "crates.io/GHSA-test-smallvec.json",
        r#"{"id": "GHSA-test-smal-lvec", "modified": "2026-03-01T00:00:00Z", "summary": "smallvec test",
           "affected": [{"package": {"ecosystem": "crates.io", "name": "smallvec"},
             "ranges": [{"type": "SEMVER", "events": [{"introduced": "0.6.0"}, {"last_affected": "0.6.9"}]}]}]}"#,
    );
    osv
}

#[test]
fn layouts_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        detect_layout(&testdata("advisory-db/rustsec")).unwrap(),
        Layout::RustsecDir
    );
    assert_eq!(
        detect_layout(&testdata("advisory-db/pypa")).unwrap(),
        Layout::PypaDir
    );
    assert_eq!(
        detect_layout(&osv_dir(dir.path(), false)).unwrap(),
        Layout::OsvDir
    );
    let z = dir.path().join("all.zip");
    make_zip(&z, &[("a.json", &ghsa_for_regex(false))]);
    assert_eq!(detect_layout(&z).unwrap(), Layout::OsvZip);
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert!(detect_layout(&empty).is_err());
    assert!(detect_layout(&dir.path().join("missing")).is_err());
    let parent = detect_layout(&testdata("advisory-db"))
        .unwrap_err()
        .to_string();
    assert!(parent.contains("several advisory databases"), "{parent}");
}

fn make_zip(path: &Path, files: &[(&str, &str)]) {
    let f = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    for (name, text) in files {
        z.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        z.write_all(text.as_bytes()).unwrap();
    }
    z.finish().unwrap();
}

#[test]
fn aliases_merge_across_sources_and_sparse_registry_is_crates_io() {
    let dir = tempfile::tempdir().unwrap();
    let lock = write(dir.path(), "Cargo.lock", CARGO_LOCK);
    let osv = osv_dir(dir.path(), false);
    let r = audit_path(
        &lock,
        &opts_with_db(&[testdata("advisory-db/rustsec"), osv]),
    )
    .unwrap();
    assert_eq!(r.status, AuditStatus::Ok, "{:?}", r.sources);
    let regex: Vec<_> = r.findings.iter().filter(|f| f.package == "regex").collect();
    assert_eq!(regex.len(), 1, "RUSTSEC and GHSA copies merged: {regex:?}");
    assert_eq!(regex[0].id, "RUSTSEC-2022-0013");
    assert!(
        regex[0]
            .aliases
            .contains(&"GHSA-m5pq-gvj9-9vr8".to_string())
    );
    assert_eq!(
        regex[0].sources,
        vec!["osv".to_string(), "rustsec".to_string()]
    );
    assert_eq!(regex[0].severity.as_deref(), Some("high"));
    // sparse+ crates.io is the same registry: RustSec smallvec advisories apply.
    assert!(
        r.findings
            .iter()
            .any(|f| f.package == "smallvec" && f.id.starts_with("RUSTSEC-")),
        "{:?}",
        r.findings
    );
    // OSV last_affected is inclusive.
    assert!(r.findings.iter().any(|f| f.id == "GHSA-test-smal-lvec"));
    // git and path packages are never matched (time 0.1.43 from git would match RUSTSEC-2020-0071).
    assert!(
        !r.findings
            .iter()
            .any(|f| f.package == "time" || f.package == "app")
    );
}

#[test]
fn withdrawn_advisories_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let lock = write(dir.path(), "Cargo.lock", CARGO_LOCK);
    let osv = osv_dir(dir.path(), true);
    let r = audit_path(&lock, &opts_with_db(&[osv])).unwrap();
    assert!(
        !r.findings.iter().any(|f| f.package == "regex"),
        "{:?}",
        r.findings
    );
    assert!(r.findings.iter().any(|f| f.package == "smallvec"));
}

#[test]
fn osv_zip_source_and_ignore_by_alias() {
    let dir = tempfile::tempdir().unwrap();
    let lock = write(dir.path(), "Cargo.lock", CARGO_LOCK);
    let z = dir.path().join("all.zip");
    make_zip(&z, &[("GHSA-m5pq-gvj9-9vr8.json", &ghsa_for_regex(false))]);
    let r = audit_path(&lock, &opts_with_db(std::slice::from_ref(&z))).unwrap();
    assert_eq!(r.findings.len(), 1);
    assert_eq!(r.findings[0].fixed_in.as_deref(), Some("1.5.5"));
    assert_eq!(r.exit_code(), 1);
    let mut o = opts_with_db(&[z]);
    o.ignore = vec!["CVE-2022-24713".into()];
    let r = audit_path(&lock, &o).unwrap();
    assert!(r.findings.is_empty());
    assert_eq!(r.ignored, vec!["GHSA-m5pq-gvj9-9vr8".to_string()]);
    assert_eq!(r.exit_code(), 0);
}

#[test]
fn unreadable_source_degrades_and_strict_fails() {
    let dir = tempfile::tempdir().unwrap();
    let lock = write(dir.path(), "Cargo.lock", CARGO_LOCK);
    let osv = osv_dir(dir.path(), false);
    write(&osv, "crates.io/broken.json", "{ not json");
    let r = audit_path(
        &lock,
        &opts_with_db(&[testdata("advisory-db/rustsec"), osv.clone()]),
    )
    .unwrap();
    assert_eq!(r.status, AuditStatus::Degraded);
    assert!(
        r.warnings
            .iter()
            .any(|w| w.starts_with("DEGRADED") && w.contains("broken.json")),
        "{:?}",
        r.warnings
    );
    assert!(
        r.findings.iter().any(|f| f.package == "regex"),
        "other sources still used"
    );
    assert_eq!(r.exit_code(), 1);
    let mut o = opts_with_db(&[testdata("advisory-db/rustsec"), osv]);
    o.strict = true;
    let r = audit_path(&lock, &o).unwrap();
    assert_eq!(r.status, AuditStatus::Error);
    assert_eq!(r.exit_code(), 2);
    // A zip that is not a zip: the only source fails → error even without --strict.
    let bad = dir.path().join("bad.zip");
    std::fs::write(&bad, b"not a zip").unwrap();
    let r = audit_path(&lock, &opts_with_db(&[bad])).unwrap();
    assert_eq!(r.status, AuditStatus::Error);
    assert_eq!(r.exit_code(), 2);
}

#[test]
fn informational_kinds_come_from_rustsec_and_fail_only_when_denied_via_cli() {
    let dir = tempfile::tempdir().unwrap();
    let lock = write(
        dir.path(),
        "Cargo.lock",
        "version = 3\n\n[[package]]\nname = \"ansi_term\"\nversion = \"0.12.1\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n",
    );
    let l = lock.to_str().unwrap();
    let (code, out, _) = portcullis(&["audit", l, "--no-cache", "--format", "json"], &[]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["findings"][0]["kind"], "unmaintained");
    assert_eq!(v["findings"][0]["blocking"], false);
    let (code, _, _) = portcullis(&["audit", l, "--no-cache", "--deny", "unmaintained"], &[]);
    assert_eq!(code, 1);
    let (code, _, _) = portcullis(&["audit", l, "--no-cache", "--deny", "unsound"], &[]);
    assert_eq!(code, 0);
    let (code, _, _) = portcullis(&["audit", l, "--no-cache", "--deny", "warnings"], &[]);
    assert_eq!(code, 1);
    let (code, out, _) = portcullis(
        &[
            "audit",
            l,
            "--no-cache",
            "--format",
            "sarif",
            "--deny",
            "warnings",
        ],
        &[],
    );
    assert_eq!(code, 1);
    let s: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(s["version"], "2.1.0");
    assert_eq!(s["runs"][0]["results"][0]["ruleId"], "RUSTSEC-2021-0139");
    // The URI is relative to %SRCROOT% (here the audited directory) and the region is the
    // lockfile line that declares the package.
    let physical = &s["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "Cargo.lock");
    assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(physical["region"]["startLine"], 4);
}

#[test]
fn json_schema_top_level_and_finding_fields() {
    let lock = testdata("audit/rust/fd-8.3.0/Cargo.lock");
    let (_, out, _) = portcullis(
        &[
            "audit",
            lock.to_str().unwrap(),
            "--no-cache",
            "--format",
            "json",
        ],
        &[],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "portcullis.audit/v1");
    assert_eq!(v["status"], "degraded", "embedded data older than 90 days");
    let sources = v["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 3, "rustsec, pypa, go");
    for s in sources {
        assert_eq!(s["kind"], "embedded");
        assert!(s["commit"].as_str().unwrap().len() == 40);
        assert!(s["date"].is_string());
        assert!(s["license"].is_string());
        assert!(s["ecosystems"].is_array());
        assert!(s["stale"].is_boolean());
    }
    assert!(v["not_audited"].as_array().unwrap().is_empty());
    assert!(
        v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("days old"))
    );
    for f in v["findings"].as_array().unwrap() {
        for k in [
            "kind",
            "id",
            "aliases",
            "package",
            "version",
            "ecosystem",
            "lockfile",
            "fixed_in",
            "severity",
            "summary",
        ] {
            assert!(f.get(k).is_some(), "finding lacks {k}: {f}");
        }
    }
}

#[test]
fn db_info_prints_commit_date_and_licence_of_each_embedded_source() {
    let (code, out, _) = portcullis(&["db", "info"], &[]);
    assert_eq!(code, 0);
    assert!(
        out.contains("bf5c0d245a92671908518d7e765914d437954ed6"),
        "{out}"
    );
    assert!(out.contains("3ccb612573e2511ab5cad7dafecd838605c80cda"));
    assert!(
        out.contains("a752ea54fd1b989d208a270aeef772f55a36b87a"),
        "{out}"
    );
    assert!(out.contains("Go Vulnerability Database"), "{out}");
    assert!(out.contains("CC0-1.0") && out.contains("CC-BY-4.0"));
    assert!(out.contains("2026-08-21") && out.contains("2024-10-10"));
}
