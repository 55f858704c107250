//! `.gitleaksignore` and baseline suppression (spec §9).

use std::path::{Path, PathBuf};

use portcullis::detect::{DetectOptions, Detector, Fragment, Suppressions};
use portcullis::report::finding::Finding;
use portcullis::rules::Config;

const C1: &str = "0123456789abcdef0123456789abcdef01234567";

fn findings(commit: &str, redact: Option<u8>) -> Vec<Finding> {
    let cfg = Config::from_toml_str(
        "[[rules]]\nid = \"tok\"\nregex = '''tok_[a-z0-9]{8}'''\n",
        Path::new("t.toml"),
    )
    .unwrap();
    let d = Detector::new(
        cfg,
        DetectOptions {
            redact,
            ..DetectOptions::default()
        },
    )
    .unwrap();
    let mut out = Vec::new();
    d.scan(
        &Fragment {
            text: b"a\nx tok_abcd1234\n",
            path: "dir/f.env",
            commit,
            start_line: 1,
            ..Fragment::default()
        },
        &mut out,
    );
    assert_eq!(out.len(), 1);
    out
}

fn tmp(name: &str, content: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("portcullis-ign-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

#[test]
fn three_part_entry_suppresses_in_every_commit() {
    let p = tmp("three", "# comment\n\n  dir/f.env:tok:2  \n");
    let s = Suppressions::load(&[p], None).unwrap();
    assert!(s.is_suppressed(&findings("", None)[0]));
    assert!(s.is_suppressed(&findings(C1, None)[0]));
}

#[test]
fn backslash_paths_are_normalised() {
    let p = tmp("backslash", "dir\\f.env:tok:2\n");
    let s = Suppressions::load(&[p], None).unwrap();
    assert!(s.is_suppressed(&findings("", None)[0]));
}

#[test]
fn four_part_entry_is_commit_scoped() {
    let p = tmp("four", &format!("{C1}:dir/f.env:tok:2\n"));
    let s = Suppressions::load(&[p], None).unwrap();
    assert!(s.is_suppressed(&findings(C1, None)[0]));
    assert!(!s.is_suppressed(&findings("", None)[0]));
    // Short SHAs do not match.
    let p = tmp("four-short", "0123456:dir/f.env:tok:2\n");
    let s = Suppressions::load(&[p], None).unwrap();
    assert!(!s.is_suppressed(&findings(C1, None)[0]));
}

#[test]
fn wrong_line_does_not_suppress() {
    let p = tmp("wrongline", "dir/f.env:tok:3\n");
    let s = Suppressions::load(&[p], None).unwrap();
    assert!(!s.is_suppressed(&findings("", None)[0]));
}

#[test]
fn secret_fingerprint_entry_follows_the_secret() {
    let f = &findings(C1, None)[0];
    let p = tmp("sfp", &format!("{}\n", f.secret_fingerprint));
    let s = Suppressions::load(&[p], None).unwrap();
    let mut moved = f.clone();
    moved.file = "elsewhere.txt".into();
    moved.start_line = 99;
    moved.commit = "f".repeat(40);
    assert!(s.is_suppressed(&moved));
}

#[test]
fn ignore_directory_is_searched_for_gitleaksignore() {
    let p = tmp(".gitleaksignore", "dir/f.env:tok:2\n");
    let s = Suppressions::load(&[p.parent().unwrap().to_path_buf()], None).unwrap();
    assert!(s.is_suppressed(&findings("", None)[0]));
}

#[test]
fn baseline_suppresses_identical_finding_only() {
    let f = findings(C1, None);
    let json = serde_json::to_string(&f).unwrap();
    let b = tmp("baseline.json", &json);
    let s = Suppressions::load(&[], Some(&b)).unwrap();
    assert!(s.is_suppressed(&f[0]));
    let mut other = f[0].clone();
    other.start_column += 1;
    other.secret_fingerprint.clear();
    assert!(!s.is_suppressed(&other));
}

#[test]
fn fingerprint_only_baseline_matches_nothing() {
    let f = findings("", None);
    let json = format!("[{{\"Fingerprint\": \"{}\"}}]", f[0].fingerprint);
    let b = tmp("fponly.json", &json);
    let s = Suppressions::load(&[], Some(&b)).unwrap();
    assert!(!s.is_suppressed(&f[0]));
}

#[test]
fn baseline_ignores_match_and_secret_when_redacting() {
    let raw = findings("", None);
    let mut entry = raw[0].clone();
    entry.secret = "something else".into();
    entry.r#match = "something else".into();
    entry.secret_fingerprint.clear();
    let b = tmp("redact.json", &serde_json::to_string(&vec![entry]).unwrap());
    let redacted = findings("", Some(100));
    let s = Suppressions::load(&[], Some(&b)).unwrap();
    assert!(!s.is_suppressed(&raw[0]));
    let s = s.with_redaction(true);
    assert!(s.is_suppressed(&redacted[0]));
}

#[test]
fn non_json_baseline_is_an_error_naming_the_file() {
    let b = tmp("baseline.csv", "RuleID,Commit\n");
    let e = Suppressions::load(&[], Some(&b)).unwrap_err().to_string();
    assert!(e.contains("baseline.csv"), "{e}");
}

#[test]
fn missing_ignore_file_is_an_error() {
    let e = Suppressions::load(&[PathBuf::from("/nonexistent/.gitleaksignore")], None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/.gitleaksignore"), "{e}");
}
