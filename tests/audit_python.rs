//! Python lockfiles against the PyPA snapshot: results equal an independent OSV evaluation
//! (`testdata/audit/tools/osv_eval.py`, recorded in `expected/python.osv-eval.json`), and the
//! parsers handle the formats' traps.

use crate::audit_support;

use std::collections::BTreeSet;

use audit_support::*;
use portcullis::audit::{AuditError, AuditStatus, audit_path};

fn expected(lock: &str) -> BTreeSet<(String, String, String)> {
    let text = std::fs::read_to_string(testdata("audit/expected/python.osv-eval.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["findings"][lock]
        .as_array()
        .unwrap_or_else(|| panic!("no expectation for {lock}"))
        .iter()
        .map(|t| {
            let s = |i: usize| t[i].as_str().unwrap().to_string();
            (s(0), s(1), s(2))
        })
        .collect()
}

const LOCKS: &[&str] = &[
    "python/flask-2025-05-11/uv.lock",
    "python/pdm-2.0.0/pdm.lock",
    "python/pipenv-2022.1.8/Pipfile.lock",
    "python/poetry-1.5.0/poetry.lock",
    "python/warehouse-2020-06-09/requirements.txt",
];

fn check(dbs: &[std::path::PathBuf]) {
    for lock in LOCKS {
        let report = audit_path(&testdata(&format!("audit/{lock}")), &opts_with_db(dbs)).unwrap();
        if dbs.is_empty() {
            assert_only_out_of_date(&report, lock);
        } else {
            assert_eq!(report.status, AuditStatus::Ok, "{lock}");
        }
        let exp = expected(lock);
        assert_eq!(
            triples(&report, true),
            exp,
            "{lock}: differs from the independent OSV evaluation"
        );
    }
}

#[test]
fn python_lockfiles_match_independent_osv_evaluation_with_pypa_dir() {
    check(&[testdata("advisory-db/pypa")]);
}

#[test]
fn python_lockfiles_match_independent_osv_evaluation_with_embedded_snapshot() {
    check(&[]);
}

#[test]
fn lockfile_package_counts_include_dev_groups_and_no_dev_drops_them() {
    let pip = testdata("audit/python/pipenv-2022.1.8/Pipfile.lock");
    let all = audit_path(&pip, &opts()).unwrap();
    assert_eq!(
        all.lockfiles[0].packages, 88,
        "90 develop entries, 88 with a version"
    );
    let mut o = opts();
    o.no_dev = true;
    let nodev = audit_path(&pip, &o).unwrap();
    assert_eq!(nodev.lockfiles[0].packages, 0, "default section is empty");
    assert!(nodev.findings.is_empty());
    let poetry = audit_path(&testdata("audit/python/poetry-1.5.0/poetry.lock"), &opts()).unwrap();
    assert_eq!(poetry.lockfiles[0].packages, 82);
    let pdm = audit_path(&testdata("audit/python/pdm-2.0.0/pdm.lock"), &opts()).unwrap();
    assert_eq!(
        pdm.lockfiles[0].packages, 80,
        "extras entries repeat a name+version"
    );
    let uv = audit_path(&testdata("audit/python/flask-2025-05-11/uv.lock"), &opts()).unwrap();
    assert_eq!(
        uv.lockfiles[0].packages, 83,
        "83 entries, flask itself (editable) included but never matched"
    );
    let mut o = opts();
    o.no_dev = true;
    let uv_nodev = audit_path(&testdata("audit/python/flask-2025-05-11/uv.lock"), &o).unwrap();
    assert!(
        uv_nodev.lockfiles[0].packages < 20,
        "runtime closure of flask only: {}",
        uv_nodev.lockfiles[0].packages
    );
    assert!(uv_nodev.lockfiles[0].packages >= 5);
    let req = audit_path(
        &testdata("audit/python/warehouse-2020-06-09/requirements.txt"),
        &opts(),
    )
    .unwrap();
    assert_eq!(req.lockfiles[0].packages, 119);
}

#[test]
fn requirements_includes_continuations_markers_hashes_and_comments() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "requirements.txt",
        "# top comment\n\
         -r sub/base.txt\n\
         --index-url https://pypi.org/simple\n\
         Django==2.2.0 \\\n    --hash=sha256:aaaa \\\n    --hash=sha256:bbbb  # via x\n\
         urllib3[socks]==1.24.1 ; python_version >= \"3.6\"\n\
         requests>=2.0  # not pinned\n\
         -e git+https://example.invalid/x.git#egg=x\n\
         pkg @ https://example.invalid/pkg.whl\n",
    );
    write(
        dir.path(),
        "sub/base.txt",
        "-c ../constraints.txt\nJinja2===2.10\n",
    );
    write(dir.path(), "constraints.txt", "PyYAML==5.3\n");
    let r = audit_path(&dir.path().join("requirements.txt"), &opts()).unwrap();
    assert_eq!(r.lockfiles.len(), 1);
    assert_eq!(r.lockfiles[0].packages, 4, "{:?}", r.warnings);
    let pkgs: BTreeSet<_> = r
        .findings
        .iter()
        .map(|f| (f.package.as_str(), f.version.as_str()))
        .collect();
    for p in [
        ("Django", "2.2.0"),
        ("urllib3", "1.24.1"),
        ("Jinja2", "2.10"),
        ("PyYAML", "5.3"),
    ] {
        assert!(
            pkgs.contains(&p),
            "{p:?} should be vulnerable in the snapshot: {pkgs:?}"
        );
    }
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains(":8:") && w.contains("requests") && w.contains("not pinned")),
        "{:?}",
        r.warnings
    );
    assert!(r.warnings.iter().any(|w| w.contains("editable")));
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("URL or path requirement"))
    );
    let dj = r.findings.iter().find(|f| f.package == "Django").unwrap();
    assert_eq!(dj.ecosystem, portcullis::audit::Ecosystem::PyPI);
    assert!(dj.id.starts_with("PYSEC-"));
    assert!(dj.fixed_in.is_some());
}

#[test]
fn fixed_in_is_the_smallest_fix_above_the_locked_version() {
    let dir = tempfile::tempdir().unwrap();
    // PyPA: urllib3 has many advisories; the merged smallest fix for each must be > version.
    write(dir.path(), "requirements.txt", "urllib3==1.24.1\n");
    let r = audit_path(&dir.path().join("requirements.txt"), &opts()).unwrap();
    assert!(!r.findings.is_empty());
    for f in &r.findings {
        if let Some(fx) = &f.fixed_in {
            let fv: pep440_rs::Version = fx.parse().unwrap();
            assert!(
                fv > "1.24.1".parse::<pep440_rs::Version>().unwrap(),
                "{f:?}"
            );
        }
    }
}

#[test]
fn broken_lockfiles_are_errors_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "poetry.lock",
            "[[package]]\nname = \"x\"\nversion = 1.0\n",
            Some(3),
        ),
        (
            "Pipfile.lock",
            "{\n \"default\": {\n  \"x\": {\"version\": \"==1\"},\n  oops\n }\n}\n",
            Some(4),
        ),
        ("requirements.txt", "ok==1.0\n\n!!bad line\n", Some(3)),
        (
            "Cargo.lock",
            "[[package]]\nname = \"a\"\nversion = \"not-semver\"\n",
            Some(3),
        ),
        ("uv.lock", "version = 1\n[[package]\n", Some(2)),
        ("go.sum", "example.com/x v1.0.0\n", Some(1)),
        ("package-lock.json", "{\"packages\": [}", Some(1)),
    ];
    for (name, text, line) in cases {
        let sub = dir.path().join(name.replace('.', "_"));
        let p = write(&sub, name, text);
        match audit_path(&p, &opts()) {
            Err(AuditError::Parse { file, line: l, .. }) => {
                assert_eq!(file, p, "{name}");
                if line.is_some() {
                    assert_eq!(l, line, "{name}");
                }
            }
            other => panic!("{name}: expected a parse error, got {other:?}"),
        }
        let (code, _, err) = portcullis(&["audit", p.to_str().unwrap()], &[]);
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains(name), "{name}: error names the file: {err}");
    }
}

#[test]
fn directory_search_skips_dependency_and_build_directories() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app/requirements-dev.txt", "Django==2.2.0\n");
    write(
        dir.path(),
        "node_modules/x/requirements.txt",
        "Django==1.0\n",
    );
    write(dir.path(), "target/debug/Cargo.lock", "garbage [[[");
    write(dir.path(), ".venv/lib/poetry.lock", "garbage [[[");
    let r = audit_path(dir.path(), &opts()).unwrap();
    assert_eq!(r.lockfiles.len(), 1, "{:?}", r.lockfiles);
    assert_eq!(r.lockfiles[0].path, "app/requirements-dev.txt");
    assert!(r.findings.iter().all(|f| f.version == "2.2.0"));
    assert!(!r.findings.is_empty());
}
