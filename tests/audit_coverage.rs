//! What the audit covers: a lockfile whose ecosystem has no loaded advisory data is listed as
//! not audited and degrades the result (an error under `--strict`); Go modules are audited from
//! `go.mod` (with the standard library) against the embedded Go vulnerability database, and
//! `go.sum` never reports versions that are not built.

use crate::audit_support;

use audit_support::*;
use portcullis::audit::{AuditStatus, Ecosystem, audit_path};

pub const NPM_LOCK: &str = r#"{"name": "app", "lockfileVersion": 3, "packages": {
  "": {"name": "app", "version": "1.0.0"},
  "node_modules/lodash": {"version": "4.17.20", "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz"}}}"#;

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn npm_lockfile_without_advisory_data_is_not_audited_and_strict_fails() {
    let dir = tempfile::tempdir().unwrap();
    let lock = write(dir.path(), "package-lock.json", NPM_LOCK);
    let r = audit_path(&lock, &opts_with_db(&[testdata("advisory-db/rustsec")])).unwrap();
    assert_eq!(r.status, AuditStatus::Degraded, "{r:?}");
    assert!(r.lockfiles.is_empty(), "{:?}", r.lockfiles);
    assert_eq!(r.not_audited.len(), 1);
    assert_eq!(r.not_audited[0].ecosystem, Some(Ecosystem::Npm));
    assert!(
        r.not_audited[0]
            .reason
            .contains("no advisory data loaded for npm")
    );

    // Offline on the embedded snapshot (which has no npm data), through the CLI.
    let p = lock.to_str().unwrap();
    let (code, out, err) = portcullis(&["audit", p, "--no-cache", "--format", "json"], &[]);
    assert_eq!(code, 0, "{err}");
    let doc = json(&out);
    assert_eq!(doc["status"], "degraded", "{out}");
    assert_eq!(doc["not_audited"][0]["path"], p, "{out}");
    assert_eq!(doc["not_audited"][0]["ecosystem"], "npm", "{out}");
    assert!(
        err.contains("NOT AUDITED") && err.contains("package-lock.json"),
        "{err}"
    );
    let (code, _, err) = portcullis(&["audit", p, "--no-cache", "--strict"], &[]);
    assert_eq!(code, 2, "--strict: {err}");
    let (_, out, _) = portcullis(&["audit", p, "--no-cache", "--format", "sarif"], &[]);
    let doc = json(&out);
    let notes = &doc["runs"][0]["invocations"][0]["toolExecutionNotifications"];
    assert!(
        notes[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("package-lock.json: not audited"),
        "{out}"
    );
}

#[test]
fn npm_lockfile_is_audited_when_a_db_brings_npm_data() {
    let dir = tempfile::tempdir().unwrap();
    let lock = write(dir.path(), "package-lock.json", NPM_LOCK);
    let db = dir.path().join("npmdb");
    write(
        &db,
        "GHSA-test.json",
        r#"{"id": "GHSA-aaaa-bbbb-cccc", "modified": "2026-11-01T00:00:00Z", "summary": "lodash",
            "affected": [{"package": {"ecosystem": "npm", "name": "lodash"},
              "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "4.17.21"}]}]}]}"#,
    );
    let r = audit_path(&lock, &opts_with_db(&[db])).unwrap();
    assert!(r.not_audited.is_empty(), "{:?}", r.not_audited);
    assert_eq!(r.status, AuditStatus::Ok, "{r:?}");
    assert_eq!(r.findings.len(), 1);
    // An OSV source that holds only PyPI data does not cover npm.
    let pydb = dir.path().join("pydb");
    write(
        &pydb,
        "PYSEC-test.json",
        r#"{"id": "PYSEC-TEST-9", "modified": "2026-11-01T00:00:00Z", "summary": "x",
            "affected": [{"package": {"ecosystem": "PyPI", "name": "x"}, "versions": ["1.0"]}]}"#,
    );
    let r = audit_path(&lock, &opts_with_db(&[pydb])).unwrap();
    assert_eq!(r.not_audited.len(), 1, "{r:?}");
}

const GO_MOD: &str = "module example.com/app\n\ngo 1.99.0\n\nrequire (\n\
    \tgithub.com/gin-gonic/gin v1.5.0\n\
    \tgolang.org/x/text v0.3.7 // indirect\n\
    \tgithub.com/local/mod v1.0.0\n)\n\n\
    replace github.com/local/mod => ./local\n";

fn go_triples(r: &portcullis::audit::AuditReport) -> std::collections::BTreeSet<(String, String)> {
    r.findings
        .iter()
        .filter(|f| f.package != "stdlib")
        .map(|f| (f.id.clone(), f.package.clone()))
        .collect()
}

#[test]
fn go_mod_modules_are_audited_against_the_embedded_go_database() {
    let dir = tempfile::tempdir().unwrap();
    let gomod = write(dir.path(), "go.mod", GO_MOD);
    let r = audit_path(&gomod, &opts()).unwrap();
    assert!(r.not_audited.is_empty(), "{:?}", r.not_audited);
    assert_eq!(r.lockfiles[0].format, "go.mod");
    let gin = r
        .findings
        .iter()
        .find(|f| f.id == "GO-2020-0001")
        .expect("gin advisory from the embedded Go database");
    assert_eq!(gin.ecosystem, Ecosystem::Go);
    assert_eq!(gin.version, "v1.5.0");
    assert_eq!(gin.fixed_in.as_deref(), Some("1.6.0"));
    assert_eq!(
        gin.url.as_deref(),
        Some("https://pkg.go.dev/vuln/GO-2020-0001")
    );
    assert!(
        r.findings.iter().any(|f| f.id == "GO-2022-1059"),
        "indirect requirement audited: {:?}",
        r.findings
    );
    assert!(
        !r.findings
            .iter()
            .any(|f| f.package == "github.com/local/mod"),
        "a module replaced by a local directory is not matched"
    );
    assert!(
        r.sources
            .iter()
            .any(|s| s.name == "go" && s.kind == "embedded" && s.ecosystems == [Ecosystem::Go]),
        "{:?}",
        r.sources
    );
    // The same records from a directory give the same matches (restricted to those records).
    let from_dir = audit_path(&gomod, &opts_with_db(&[testdata("audit/go")])).unwrap();
    let ids: std::collections::BTreeSet<String> =
        from_dir.findings.iter().map(|f| f.id.clone()).collect();
    let embedded: std::collections::BTreeSet<_> = go_triples(&r)
        .into_iter()
        .filter(|(id, _)| ids.contains(id))
        .collect();
    assert_eq!(go_triples(&from_dir), embedded);
    assert_eq!(
        go_triples(&from_dir),
        [
            ("GO-2020-0001", "github.com/gin-gonic/gin"),
            ("GO-2021-0052", "github.com/gin-gonic/gin"),
            ("GO-2022-1059", "golang.org/x/text"),
            ("GO-2023-1737", "github.com/gin-gonic/gin"),
            ("GO-2026-5970", "golang.org/x/text"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
    );
}

#[test]
fn go_stdlib_is_audited_at_the_toolchain_version() {
    let dir = tempfile::tempdir().unwrap();
    let db = [testdata("audit/go")];
    let gomod = write(dir.path(), "a/go.mod", "module m\n\ngo 1.21.0\n");
    let r = audit_path(&gomod, &opts_with_db(&db)).unwrap();
    let std: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.package == "stdlib")
        .collect();
    assert_eq!(
        std.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
        vec!["GO-2023-2041", "GO-2023-2044"],
        "{:?}",
        r.findings
    );
    assert_eq!(std[0].version, "1.21.0");
    assert_eq!(std[0].fixed_in.as_deref(), Some("1.21.1"));
    // The toolchain directive names the toolchain that builds: go1.21.1 has both fixes.
    let gomod = write(
        dir.path(),
        "b/go.mod",
        "module m\n\ngo 1.21.0\n\ntoolchain go1.21.1\n",
    );
    let r = audit_path(&gomod, &opts_with_db(&db)).unwrap();
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    // The embedded snapshot has the standard library too.
    let r = audit_path(&dir.path().join("a/go.mod"), &opts()).unwrap();
    assert!(
        r.findings
            .iter()
            .any(|f| f.package == "stdlib" && f.id == "GO-2023-2041"),
        "{:?}",
        r.findings
    );
}

#[test]
fn go_sum_alone_is_not_audited_and_its_unbuilt_versions_are_never_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = [testdata("audit/go")];
    // go.sum remembers gin v1.5.0 from module resolution; the build uses v1.9.1.
    let sum = "github.com/gin-gonic/gin v1.5.0 h1:abc=\ngithub.com/gin-gonic/gin v1.5.0/go.mod h1:def=\n\
               github.com/gin-gonic/gin v1.9.1 h1:ghi=\ngithub.com/gin-gonic/gin v1.9.1/go.mod h1:jkl=\n";
    write(dir.path(), "app/go.sum", sum);
    write(
        dir.path(),
        "app/go.mod",
        "module example.com/app\n\ngo 1.99.0\n\nrequire github.com/gin-gonic/gin v1.9.1\n",
    );
    let r = audit_path(dir.path(), &opts_with_db(&db)).unwrap();
    assert_eq!(r.lockfiles.len(), 1, "{:?}", r.lockfiles);
    assert_eq!(r.lockfiles[0].path, "app/go.mod");
    assert!(
        r.findings.is_empty(),
        "v1.5.0 is never built: {:?}",
        r.findings
    );
    assert_eq!(r.status, AuditStatus::Ok, "{r:?}");
    // Naming the go.sum audits the go.mod beside it.
    let r = audit_path(&dir.path().join("app/go.sum"), &opts_with_db(&db)).unwrap();
    assert_eq!(r.lockfiles[0].format, "go.mod");
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    // A go.sum without a go.mod is not audited (and still checked for being a go.sum).
    let lone = write(dir.path(), "lone/go.sum", sum);
    let r = audit_path(&lone, &opts_with_db(&db)).unwrap();
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!(r.status, AuditStatus::Degraded);
    assert!(r.not_audited[0].reason.contains("go.mod"), "{r:?}");
    let (code, _, err) = portcullis(
        &[
            "audit",
            lone.to_str().unwrap(),
            "--db",
            db[0].to_str().unwrap(),
            "--strict",
        ],
        &[],
    );
    assert_eq!(code, 2, "{err}");
}
