//! Lockfile formats beyond the real fixtures: package-lock.json, go.sum, pylock.toml, poetry
//! groups, and OSV matching for npm and Go.

use crate::audit_support;

use audit_support::*;
use portcullis::audit::{Ecosystem, audit_path};

fn osv_db(dir: &std::path::Path) -> std::path::PathBuf {
    let db = dir.join("osvdb");
    write(
        &db,
        "npm/GHSA-npm-test.json",
        r#"{"id": "GHSA-aaaa-bbbb-cccc", "modified": "2026-11-01T00:00:00Z", "summary": "lodash proto pollution",
            "affected": [{"package": {"ecosystem": "npm", "name": "lodash"},
              "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]}]}"#,
    );
    write(
        &db,
        "go/GO-2026-0001.json",
        r#"{"id": "GO-2026-0001", "modified": "2026-11-01T00:00:00Z", "summary": "x/text DoS",
            "affected": [{"package": {"ecosystem": "Go", "name": "golang.org/x/text"},
              "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.3.8"}]}]}]}"#,
    );
    write(
        &db,
        "pypi/PYSEC-TEST.json",
        r#"{"id": "PYSEC-TEST-2", "modified": "2026-11-01T00:00:00Z", "summary": "test",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "some_pkg"},
              "versions": ["1.0"], "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"limit": "2.5"}]}]}]}"#,
    );
    db
}

#[test]
fn package_lock_json_v3_and_v1() {
    let dir = tempfile::tempdir().unwrap();
    let db = osv_db(dir.path());
    let v3 = write(
        dir.path(),
        "a/package-lock.json",
        r#"{"name": "app", "lockfileVersion": 3, "packages": {
             "": {"name": "app", "version": "1.0.0"},
             "node_modules/lodash": {"version": "4.17.20", "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz", "dev": true},
             "node_modules/x/node_modules/lodash": {"version": "4.17.21"},
             "node_modules/local": {"resolved": "../local", "link": true}}}"#,
    );
    let r = audit_path(&v3, &opts_with_db(std::slice::from_ref(&db))).unwrap();
    assert_eq!(r.lockfiles[0].packages, 2);
    assert_eq!(r.findings.len(), 1);
    assert_eq!(r.findings[0].ecosystem, Ecosystem::Npm);
    assert_eq!(r.findings[0].version, "4.17.20");
    assert_eq!(r.findings[0].fixed_in.as_deref(), Some("4.17.21"));
    let mut o = opts_with_db(std::slice::from_ref(&db));
    o.no_dev = true;
    assert!(
        audit_path(&v3, &o).unwrap().findings.is_empty(),
        "dev package dropped"
    );
    let v1 = write(
        dir.path(),
        "b/package-lock.json",
        r#"{"lockfileVersion": 1, "dependencies": {"a": {"version": "1.0.0", "dependencies": {"lodash": {"version": "4.17.15"}}}}}"#,
    );
    let r = audit_path(&v1, &opts_with_db(&[db])).unwrap();
    assert_eq!(r.findings.len(), 1);
    assert_eq!(r.findings[0].version, "4.17.15");
}

#[test]
fn go_mod_modules_are_matched_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = osv_db(dir.path());
    write(
        dir.path(),
        "go.sum",
        "golang.org/x/text v0.3.7 h1:abc=\ngolang.org/x/text v0.3.7/go.mod h1:def=\ngolang.org/x/net v0.1.0 h1:x=\n",
    );
    let gomod = write(
        dir.path(),
        "go.mod",
        "module m\n\nrequire (\n\tgolang.org/x/text v0.3.7\n\tgolang.org/x/net v0.1.0 // indirect\n)\n",
    );
    let r = audit_path(&gomod, &opts_with_db(&[db])).unwrap();
    assert_eq!(r.lockfiles[0].packages, 2);
    assert_eq!(r.findings.len(), 1);
    assert_eq!(r.findings[0].id, "GO-2026-0001");
    assert_eq!(r.findings[0].fixed_in.as_deref(), Some("0.3.8"));
}

#[test]
fn pylock_versions_list_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    let db = osv_db(dir.path());
    let lock = write(
        dir.path(),
        "pylock.toml",
        "lock-version = \"1.0\"\n\n[[packages]]\nname = \"Some.Pkg\"\nversion = \"1.0.0\"\n\n[[packages]]\nname = \"some-pkg\"\nversion = \"2.4\"\n\n[[packages]]\nname = \"some-pkg\"\nversion = \"2.5\"\n\n[[packages]]\nname = \"mine\"\n[packages.directory]\npath = \".\"\n",
    );
    let r = audit_path(&lock, &opts_with_db(&[db])).unwrap();
    let versions: Vec<_> = r.findings.iter().map(|f| f.version.as_str()).collect();
    // 1.0.0 equals the listed "1.0" under PEP 440; 2.4 is below the limit; 2.5 is not.
    assert_eq!(versions, vec!["1.0.0", "2.4"], "{:?}", r.findings);
}

#[test]
fn poetry_groups_and_category_mark_dev_packages() {
    let dir = tempfile::tempdir().unwrap();
    let lock = write(
        dir.path(),
        "poetry.lock",
        "[[package]]\nname = \"django\"\nversion = \"2.2.0\"\ngroups = [\"dev\"]\n\n[[package]]\nname = \"jinja2\"\nversion = \"2.10\"\ncategory = \"dev\"\n\n[[package]]\nname = \"urllib3\"\nversion = \"1.24.1\"\ngroups = [\"main\", \"dev\"]\n\n[[package]]\nname = \"pyyaml\"\nversion = \"5.3\"\n[package.source]\ntype = \"git\"\nurl = \"https://example.invalid/pyyaml.git\"\n",
    );
    let all = audit_path(&lock, &opts()).unwrap();
    let pk: std::collections::BTreeSet<_> =
        all.findings.iter().map(|f| f.package.as_str()).collect();
    assert_eq!(
        pk.into_iter().collect::<Vec<_>>(),
        vec!["django", "jinja2", "urllib3"],
        "git source never matched"
    );
    let mut o = opts();
    o.no_dev = true;
    let main = audit_path(&lock, &o).unwrap();
    assert!(main.findings.iter().all(|f| f.package == "urllib3"));
    assert!(!main.findings.is_empty());
}

#[test]
fn cargo_lock_v1_fixture_parses_with_metadata_checksums() {
    let r = audit_path(&testdata("audit/rust/ripgrep-0.10.0/Cargo.lock"), &opts()).unwrap();
    assert_eq!(r.lockfiles[0].packages, 86);
    let r = audit_path(&testdata("audit/rust/alacritty-0.4.0/Cargo.lock"), &opts()).unwrap();
    assert_eq!(r.lockfiles[0].packages, 291);
}
