//! Differential test against the real gitleaks 8.30.1.
//!
//! `testdata/gitleaks-diff/` holds a small tree of files with fake tokens, several gitleaks
//! configurations and, for every run listed in `runs.txt`, the JSON report gitleaks 8.30.1 wrote
//! (`expected/<run>.json`, recorded by `record.sh`). This test runs `portcullis scan dir` with
//! the same arguments from the same working directory and requires the same findings, compared
//! as multisets of (File, RuleID, StartLine, EndLine, StartColumn, EndColumn, Secret, Match,
//! Fingerprint, Description, Tags, Entropy, SymlinkFile).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The compared fields of one finding, in a sortable form.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    file: String,
    rule_id: String,
    start_line: i64,
    end_line: i64,
    start_column: i64,
    end_column: i64,
    secret: String,
    matched: String,
    fingerprint: String,
    description: String,
    tags: Vec<String>,
    /// The float32 value printed with 4 decimals.
    entropy: String,
    symlink_file: String,
}

fn diff_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/gitleaks-diff")
}

/// `runs.txt`: `name config [flags...]` per line, `#` comments.
fn runs() -> Vec<(String, String, Vec<String>)> {
    let text = std::fs::read_to_string(diff_dir().join("runs.txt")).expect("runs.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| {
            let mut words = l.split_whitespace().map(str::to_owned);
            let name = words.next().expect("run name");
            let config = words.next().expect("run config");
            (name, config, words.collect())
        })
        .collect()
}

fn str_field(f: &Value, k: &str) -> String {
    f.get(k)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("field {k} missing in {f}"))
        .to_owned()
}

fn int_field(f: &Value, k: &str) -> i64 {
    f.get(k)
        .and_then(Value::as_i64)
        .unwrap_or_else(|| panic!("field {k} missing in {f}"))
}

fn keys(report: &Value) -> Vec<Key> {
    let mut out: Vec<Key> = report
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|f| {
            let tags = f["Tags"]
                .as_array()
                .expect("Tags")
                .iter()
                .map(|t| t.as_str().expect("tag").to_owned())
                .collect();
            let entropy = f["Entropy"].as_f64().expect("Entropy") as f32;
            Key {
                file: str_field(f, "File"),
                rule_id: str_field(f, "RuleID"),
                start_line: int_field(f, "StartLine"),
                end_line: int_field(f, "EndLine"),
                start_column: int_field(f, "StartColumn"),
                end_column: int_field(f, "EndColumn"),
                secret: str_field(f, "Secret"),
                matched: str_field(f, "Match"),
                fingerprint: str_field(f, "Fingerprint"),
                description: str_field(f, "Description"),
                tags,
                entropy: format!("{entropy:.4}"),
                symlink_file: str_field(f, "SymlinkFile"),
            }
        })
        .collect();
    out.sort();
    out
}

/// Findings of a multiset that the other lacks (with multiplicity).
fn missing_from(a: &[Key], b: &[Key]) -> Vec<Key> {
    let mut counts: BTreeMap<&Key, i64> = BTreeMap::new();
    for k in b {
        *counts.entry(k).or_default() += 1;
    }
    let mut out = Vec::new();
    for k in a {
        let c = counts.entry(k).or_default();
        if *c > 0 {
            *c -= 1;
        } else {
            out.push(k.clone());
        }
    }
    out
}

/// A token inside a zip archive: gitleaks (`--max-archive-depth 0` by default) skips archives,
/// portcullis opens them up to depth 2 (README, "Archives").
const ZIP_MEMBER: &str = "tree/keys/bundle.zip!inner/.env";
/// A token inside a file with an ELF header: gitleaks skips files whose magic bytes give an
/// `application/*` type, portcullis scans their printable view (README, "Binary files are not
/// skipped").
const BINARY_FILE: &str = "tree/keys/tool.bin";

/// Deliberate portcullis improvements documented in the README: findings that gitleaks cannot
/// report and that are therefore excluded from the comparison (only when portcullis has them
/// and gitleaks does not).
fn is_documented_improvement(file: &str) -> bool {
    file == ZIP_MEMBER || file == BINARY_FILE
}

/// One line per finding, for failure messages.
fn show(keys: &[Key]) -> String {
    keys.iter()
        .map(|k| {
            format!(
                "    {} {} L{}-{} C{}-{} secret={:?} match={:?} fp={} desc={:?} tags={:?} entropy={} symlink={:?}",
                k.file,
                k.rule_id,
                k.start_line,
                k.end_line,
                k.start_column,
                k.end_column,
                k.secret,
                k.matched,
                k.fingerprint,
                k.description,
                k.tags,
                k.entropy,
                k.symlink_file
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn run_portcullis(config: &str, flags: &[String], report: &Path) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    cmd.current_dir(diff_dir());
    // `<FILE`: `scan stdin` with FILE as standard input, else `scan dir tree FLAGS`.
    let stdin_file = flags.first().and_then(|f| f.strip_prefix('<'));
    match stdin_file {
        Some(file) => {
            let input = std::fs::File::open(diff_dir().join(file)).expect("stdin input");
            cmd.args(["scan", "stdin"]).stdin(input);
        }
        None => {
            cmd.args(["scan", "dir", "tree"]).args(flags);
        }
    }
    if config != "-" {
        cmd.args(["--config", config]);
    }
    cmd.args(["--report-format", "json", "--report-path"])
        .arg(report)
        .args(["--exit-code", "0", "-q"])
        .env_remove("PORTCULLIS_CONFIG")
        .env_remove("GITLEAKS_CONFIG")
        .env_remove("GITLEAKS_CONFIG_TOML")
        .env("NO_COLOR", "1")
        .output()
        .expect("run portcullis")
}

#[test]
fn portcullis_reports_what_gitleaks_8_30_1_reports() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let runs = runs();
    assert!(runs.len() >= 10, "runs.txt lists {} runs", runs.len());
    let mut failures = Vec::new();
    let mut total = 0;
    for (name, config, flags) in &runs {
        let expected_text =
            std::fs::read_to_string(diff_dir().join(format!("expected/{name}.json")))
                .unwrap_or_else(|e| panic!("expected/{name}.json: {e}"));
        let expected = keys(&serde_json::from_str(&expected_text).expect("gitleaks JSON"));
        let report = tmp.path().join(format!("{name}.json"));
        let out = run_portcullis(config, flags, &report);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{name}: portcullis failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let actual_text = std::fs::read_to_string(&report).expect("portcullis report");
        let actual = keys(&serde_json::from_str(&actual_text).expect("portcullis JSON"));
        total += expected.len();
        let missing = missing_from(&expected, &actual);
        let (improvements, extra): (Vec<Key>, Vec<Key>) = missing_from(&actual, &expected)
            .into_iter()
            .partition(|k| is_documented_improvement(&k.file));
        // The improvements are real: the `rules` run reports both deliberate extras.
        if name == "rules" {
            for file in [ZIP_MEMBER, BINARY_FILE] {
                if !improvements
                    .iter()
                    .any(|k| k.file == file && k.rule_id == "acme-key")
                {
                    failures.push(format!("run {name}: portcullis did not report {file}"));
                }
            }
        }
        if !missing.is_empty() || !extra.is_empty() {
            failures.push(format!(
                "run {name} ({config} {flags:?}):\n  only gitleaks:\n{}\n  only portcullis:\n{}",
                show(&missing),
                show(&extra)
            ));
        }
    }
    assert!(total > 100, "only {total} expected findings in all runs");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn recorded_reports_come_from_gitleaks_8_30_1() {
    let readme = std::fs::read_to_string(diff_dir().join("README.md")).expect("README");
    assert!(
        readme.contains("8.30.1"),
        "README names the gitleaks version"
    );
    for (name, _, _) in runs() {
        assert!(
            diff_dir().join(format!("expected/{name}.json")).is_file(),
            "expected/{name}.json is recorded"
        );
    }
}
