//! For every real Cargo.lock fixture, portcullis reports exactly the (advisory id, package,
//! version) sets cargo-audit 0.22.2 reported (`testdata/audit/expected/*.cargo-audit.json`,
//! command recorded in each file), both with `--db` on the RustSec directory and with the
//! embedded snapshot built from the same commit.

use crate::audit_support;

use std::collections::BTreeSet;

use audit_support::*;
use portcullis::audit::{AuditStatus, audit_path};

type Expected = (
    BTreeSet<(String, String, String)>,
    BTreeSet<(String, String, String, String)>,
);

fn expected(name: &str) -> Expected {
    let text =
        std::fs::read_to_string(testdata(&format!("audit/expected/{name}.cargo-audit.json")))
            .unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let s = |x: &serde_json::Value| x.as_str().unwrap().to_string();
    let vulns = v["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (s(&t[0]), s(&t[1]), s(&t[2])))
        .collect();
    let warns = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (s(&t[0]), s(&t[1]), s(&t[2]), s(&t[3])))
        .collect();
    (vulns, warns)
}

const FIXTURES: &[&str] = &[
    "alacritty-0.4.0",
    "fd-8.3.0",
    "mdbook-0.4.0",
    "mdbook-0.5.0",
    "ripgrep-0.10.0",
    "ripgrep-3fce3b5",
];

fn check(dbs: &[std::path::PathBuf]) {
    for name in FIXTURES {
        let lock = testdata(&format!("audit/rust/{name}/Cargo.lock"));
        let report = audit_path(&lock, &opts_with_db(dbs)).unwrap();
        if dbs.is_empty() {
            assert_only_out_of_date(&report, name);
        } else {
            assert_eq!(
                report.status,
                AuditStatus::Ok,
                "{name}: {:?}",
                report.sources
            );
        }
        let (vulns, warns) = expected(name);
        assert_eq!(
            triples(&report, true),
            vulns,
            "{name}: vulnerabilities differ from cargo-audit"
        );
        let got_warns: BTreeSet<_> = report
            .findings
            .iter()
            .filter(|f| f.kind != portcullis::audit::FindingKind::Vulnerability)
            .map(|f| {
                (
                    f.kind.as_str().to_string(),
                    f.id.clone(),
                    f.package.clone(),
                    f.version.clone(),
                )
            })
            .collect();
        assert_eq!(got_warns, warns, "{name}: warnings differ from cargo-audit");
        assert!(
            report
                .findings
                .iter()
                .all(|f| f.blocking == (f.kind == portcullis::audit::FindingKind::Vulnerability))
        );
    }
}

#[test]
fn cargo_lock_findings_equal_cargo_audit_with_rustsec_dir() {
    check(&[testdata("advisory-db/rustsec")]);
}

#[test]
fn cargo_lock_findings_equal_cargo_audit_with_embedded_snapshot() {
    check(&[]);
}

#[test]
fn ripgrep_master_is_clean_and_exit_zero() {
    let lock = testdata("audit/rust/ripgrep-3fce3b5/Cargo.lock");
    let (code, out, _) = portcullis(
        &[
            "audit",
            lock.to_str().unwrap(),
            "--format",
            "json",
            "--no-cache",
        ],
        &[],
    );
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // The embedded snapshot is older than 90 days: degraded, still exit 0 without --strict.
    assert_eq!(v["status"], "degraded");
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
    assert_eq!(v["lockfiles"][0]["packages"], 63);
}

#[test]
fn vulnerable_lockfile_exits_one_with_fixed_versions() {
    let lock = testdata("audit/rust/fd-8.3.0/Cargo.lock");
    let (code, out, err) = portcullis(
        &[
            "audit",
            lock.to_str().unwrap(),
            "--format",
            "json",
            "--no-cache",
        ],
        &[],
    );
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let regex = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "RUSTSEC-2022-0013")
        .expect("regex advisory");
    assert_eq!(regex["package"], "regex");
    assert_eq!(regex["version"], "1.5.4");
    assert_eq!(regex["fixed_in"], "1.5.5");
    assert_eq!(regex["ecosystem"], "crates.io");
    assert_eq!(regex["kind"], "vulnerability");
    assert!(
        regex["aliases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "CVE-2022-24713")
    );
    assert!(err.contains("RUSTSEC-2022-0013"), "table on stderr: {err}");
}

#[test]
fn deny_unmaintained_fails_a_lockfile_with_only_warnings() {
    // mdbook 0.5.0 has vulnerabilities too; ignore them to see the warning policy alone.
    let lock = testdata("audit/rust/mdbook-0.5.0/Cargo.lock");
    let mut o = opts();
    let base = audit_path(&lock, &o).unwrap();
    for f in &base.findings {
        if f.kind == portcullis::audit::FindingKind::Vulnerability {
            o.ignore.push(f.id.clone());
        }
    }
    let r = audit_path(&lock, &o).unwrap();
    assert!(!r.findings.is_empty());
    assert!(!r.has_blocking_findings(), "warnings alone must pass");
    assert_eq!(r.exit_code(), 0);
    assert!(!r.ignored.is_empty());
    let kinds: BTreeSet<_> = r
        .findings
        .iter()
        .filter_map(|f| f.kind.warning_kind())
        .collect();
    o.deny = kinds.into_iter().collect();
    let r = audit_path(&lock, &o).unwrap();
    assert!(r.has_blocking_findings());
    assert_eq!(r.exit_code(), 1);
}
