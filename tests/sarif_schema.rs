//! SARIF reports are valid SARIF 2.1.0 (checked against the OASIS schema in
//! testdata/sarif/) and safe to upload: URIs relative to `%SRCROOT%` whatever path was scanned,
//! redacted snippets, fingerprints without personal data and stable across scan roots, and the
//! audit's results located at the lockfile line that locks each package.

use std::path::{Path, PathBuf};

use crate::git_common::TestRepo;
use crate::scan_common::{TEST_CONFIG, TOKEN, run_in, workspace, write};

fn schema_validator() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/sarif/sarif-schema-2.1.0.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

/// Parse `text` and assert it validates against the SARIF 2.1.0 schema.
fn assert_valid_sarif(text: &str) -> serde_json::Value {
    let doc: serde_json::Value = serde_json::from_str(text).expect("SARIF is JSON");
    let v = schema_validator();
    let errors: Vec<String> = v
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}\n{text}");
    doc
}

fn results(doc: &serde_json::Value) -> &Vec<serde_json::Value> {
    doc["runs"][0]["results"].as_array().expect("results")
}

fn uris(doc: &serde_json::Value) -> Vec<String> {
    let mut v: Vec<String> = results(doc)
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_sarif_schema_rejects_a_broken_report() {
    // The validator is not vacuous: a result without a message is invalid SARIF.
    let bad = r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
                  "results": [{"ruleId": "r"}]}]}"#;
    let doc: serde_json::Value = serde_json::from_str(bad).unwrap();
    assert!(!schema_validator().is_valid(&doc));
}

#[test]
fn directory_scan_sarif_validates_against_the_sarif_schema() {
    let (ws, repo) = workspace();
    write(&repo, "app/a b.env", format!("first\nkey = {TOKEN}\n"));
    write(&repo, "keys/client.p12", b"\x30\x82\x00\x01");
    let run = run_in(
        ws.path(),
        &[
            "scan",
            "dir",
            "repo",
            "--config",
            "config.toml",
            "-r",
            "out.sarif",
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let text = std::fs::read_to_string(ws.path().join("out.sarif")).unwrap();
    let doc = assert_valid_sarif(&text);
    assert_eq!(uris(&doc), ["app/a%20b.env", "keys/client.p12"]);
    assert!(!text.contains(TOKEN), "snippets are redacted by default");
    assert!(doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"].is_object());
}

#[test]
fn absolute_directory_scan_gives_srcroot_relative_uris_and_the_same_fingerprints() {
    let repo = TestRepo::new();
    repo.write("config.toml", TEST_CONFIG);
    repo.write("sub/dir/a.env", format!("key = {TOKEN}\n"));
    repo.commit("add");
    let abs = repo.path().join("sub");
    let elsewhere = tempfile::tempdir().unwrap();
    let config = repo.path().join("config.toml");
    let run_abs = run_in(
        elsewhere.path(),
        &[
            "scan",
            "dir",
            abs.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "-f",
            "sarif",
            "-r",
            "-",
        ],
        None,
    );
    assert_eq!(run_abs.code, 1, "{}", run_abs.stderr);
    let doc_abs = assert_valid_sarif(&run_abs.stdout);
    let run_rel = run_in(
        repo.path(),
        &[
            "scan",
            "dir",
            "sub",
            "--config",
            "config.toml",
            "-f",
            "sarif",
            "-r",
            "-",
        ],
        None,
    );
    let doc_rel = assert_valid_sarif(&run_rel.stdout);
    // Relative to the top of the git work tree, not to the scanned path or the cwd.
    assert_eq!(uris(&doc_abs), ["sub/dir/a.env"]);
    assert_eq!(uris(&doc_rel), ["sub/dir/a.env"]);
    let tmp = repo.path().to_str().unwrap();
    assert!(!run_abs.stdout.contains(tmp), "no machine path uploaded");
    // The fingerprints do not depend on how the directory was named on the command line.
    let fp = |d: &serde_json::Value| results(d)[0]["partialFingerprints"].clone();
    assert_eq!(fp(&doc_abs), fp(&doc_rel));
    assert!(
        fp(&doc_abs)["secretFingerprint/v1"]
            .as_str()
            .is_some_and(|s| s.starts_with("sfp:"))
    );
    assert_eq!(
        fp(&doc_abs)["gitleaksFingerprint/v1"],
        "sub/dir/a.env:test-token:1"
    );
}

#[test]
fn history_scan_sarif_has_no_author_email_or_message_and_validates() {
    let repo = TestRepo::new();
    repo.write("config.toml", TEST_CONFIG);
    repo.write("a.env", format!("key = {TOKEN}\n"));
    let commit = repo.commit("add the deployment key for staging");
    let run = run_in(
        repo.path(),
        &[
            "scan",
            "git",
            ".",
            "--config",
            "config.toml",
            "-f",
            "sarif",
            "-r",
            "-",
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = assert_valid_sarif(&run.stdout);
    for personal in ["Alice Author", "alice@example.com", "deployment key", TOKEN] {
        assert!(!run.stdout.contains(personal), "{personal} in SARIF");
    }
    let fp = &results(&doc)[0]["partialFingerprints"];
    assert_eq!(fp["commitSha"], commit.as_str());
    let mut keys: Vec<&String> = fp.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "commitSha",
            "gitleaksFingerprint/v1",
            "secretFingerprint/v1"
        ]
    );
    assert_eq!(uris(&doc), ["a.env"]);
}

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

/// The lockfile line a SARIF result points at, read back from the file.
fn line_of(file: &Path, line: u64) -> String {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .nth(line as usize - 1)
        .unwrap()
        .to_string()
}

#[test]
fn audit_sarif_points_at_the_lockfile_line_with_severity_and_fingerprints() {
    let lock = testdata("audit/rust/fd-8.3.0/Cargo.lock");
    let elsewhere = tempfile::tempdir().unwrap();
    let run = run_in(
        elsewhere.path(),
        &[
            "audit",
            lock.to_str().unwrap(),
            "--no-cache",
            "--format",
            "sarif",
            "--quiet",
        ],
        None,
    );
    assert_eq!(
        run.code, 1,
        "fd 8.3.0 locks vulnerable crates: {}",
        run.stderr
    );
    let doc = assert_valid_sarif(&run.stdout);
    let res = results(&doc);
    assert!(!res.is_empty());
    let mut fingerprints = std::collections::BTreeSet::new();
    for r in res {
        let physical = &r["locations"][0]["physicalLocation"];
        // The testdata lockfile lies in this repository's work tree: the URI is relative to it.
        assert_eq!(
            physical["artifactLocation"]["uri"],
            "testdata/audit/rust/fd-8.3.0/Cargo.lock"
        );
        assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let line = physical["region"]["startLine"].as_u64().expect("a line");
        let package = r["properties"]["package"].as_str().unwrap();
        assert_eq!(line_of(&lock, line), format!("name = \"{package}\""));
        let fp = r["partialFingerprints"]["auditFinding/v1"]
            .as_str()
            .unwrap();
        assert_eq!(fp.len(), 32);
        fingerprints.insert(fp.to_string());
    }
    assert_eq!(fingerprints.len(), res.len(), "one fingerprint per finding");
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let scored: Vec<&serde_json::Value> = rules
        .iter()
        .filter(|r| r["properties"]["security-severity"].is_string())
        .collect();
    for r in &scored {
        let score: f64 = r["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&score));
        assert!(r["properties"]["severity"].is_string());
    }
}

#[test]
fn audit_sarif_lines_in_requirements_and_pipfile_lock() {
    for (rel, check) in [
        (
            "audit/python/warehouse-2020-06-09/requirements.txt",
            "==" as &str,
        ),
        ("audit/python/pipenv-2022.1.8/Pipfile.lock", "\": {"),
    ] {
        let lock = testdata(rel);
        let run = run_in(
            lock.parent().unwrap(),
            &[
                "audit",
                lock.to_str().unwrap(),
                "--no-cache",
                "--format",
                "sarif",
                "--quiet",
            ],
            None,
        );
        let doc = assert_valid_sarif(&run.stdout);
        let res = results(&doc);
        assert!(!res.is_empty(), "{rel} has findings");
        for r in res {
            let line = r["locations"][0]["physicalLocation"]["region"]["startLine"]
                .as_u64()
                .unwrap_or_else(|| panic!("{rel}: no line in {r}"));
            let text = line_of(&lock, line).to_ascii_lowercase();
            let package = r["properties"]["package"]
                .as_str()
                .unwrap()
                .to_ascii_lowercase();
            assert!(
                text.contains(&package) && text.contains(check),
                "{rel}:{line}: {text:?} for {package}"
            );
        }
    }
}
