//! Composite rules (spec §6), skipReport and decoding (spec §8).

use crate::detect_common::{detector, detector_with, scan_at};

use base64::Engine as _;
use portcullis::detect::{DetectOptions, Detector};
use portcullis::report::finding::Finding;

fn scan(d: &Detector, text: &str) -> Vec<Finding> {
    scan_at(d, text, "f", "")
}

fn ids(f: &[Finding]) -> Vec<&str> {
    f.iter().map(|f| f.rule_id.as_str()).collect()
}

const COMPOSITE: &str = r#"
[[rules]]
id = "user"
regex = '''user=(\w+)'''
keywords = ["user="]
[[rules.required]]
id = "pass"
withinLines = 1
[[rules]]
id = "pass"
regex = '''pass=(\w+)'''
keywords = ["pass="]
skipReport = true
"#;

#[test]
fn composite_rule_reports_only_with_required_finding_nearby() {
    let d = detector(COMPOSITE);
    assert_eq!(ids(&scan(&d, "user=alice\npass=s3cret\n")), vec!["user"]);
    assert!(scan(&d, "user=alice\n\n\npass=s3cret\n").is_empty());
    assert!(scan(&d, "user=alice\n").is_empty());
}

#[test]
fn skip_report_rule_never_reports_alone() {
    let d = detector(COMPOSITE);
    assert!(scan(&d, "pass=s3cret\n").is_empty());
}

#[test]
fn required_rule_runs_without_its_keyword_gate() {
    // The required rule's keyword "zz-kw" is absent, but gitleaks runs required rules
    // regardless of keywords.
    let d = detector(
        r#"
[[rules]]
id = "user"
regex = '''user=(\w+)'''
[[rules.required]]
id = "pass"
[[rules]]
id = "pass"
regex = '''pass=(\w+)'''
keywords = ["zz-kw"]
skipReport = true
"#,
    );
    assert_eq!(ids(&scan(&d, "user=a pass=b\n")), vec!["user"]);
}

#[test]
fn within_columns_limits_horizontal_distance() {
    let d = detector(
        r#"
[[rules]]
id = "user"
regex = '''user=(\w+)'''
[[rules.required]]
id = "pass"
withinColumns = 5
[[rules]]
id = "pass"
regex = '''pass=(\w+)'''
"#,
    );
    // pass (reported alone too, no skipReport) on the next line, 2 columns apart.
    let f = scan(&d, "user=a\n pass=b\n");
    assert_eq!(ids(&f), vec!["user", "pass"]);
    let f = scan(&d, "user=a\n            pass=b\n");
    assert_eq!(ids(&f), vec!["pass"]);
}

#[test]
fn base64_encoded_secret_is_found_with_decoded_tags_and_original_location() {
    let d = detector(
        r#"
[[rules]]
id = "tok"
regex = '''tok_[a-z0-9]{8}'''
keywords = ["tok_"]
tags = ["t"]
"#,
    );
    let enc = base64::engine::general_purpose::STANDARD.encode("tok_abcd1234");
    let text = format!("line one\nvalue: {enc}\n");
    let f = scan(&d, &text);
    assert_eq!(f.len(), 1, "{f:?}");
    let f = &f[0];
    assert_eq!(f.secret, "tok_abcd1234");
    assert_eq!(f.tags, vec!["t", "decoded:base64", "decode-depth:1"]);
    assert_eq!(f.start_line, 2);
    // Column of the encoded span (second line: one larger than 1-based).
    assert_eq!(f.start_column, 8 + 1);
    assert_eq!(f.end_column as usize, 8 + enc.len());
}

#[test]
fn raw_and_decoded_findings_are_both_reported() {
    let d = detector(
        r#"
[[rules]]
id = "b64"
regex = '''[A-Za-z0-9+/]{16,}={0,2}'''
[[rules]]
id = "tok"
regex = '''tok_[a-z0-9]{8}'''
"#,
    );
    let enc = base64::engine::general_purpose::STANDARD.encode("tok_abcd1234xx");
    let f = scan(&d, &format!("v: {enc}\n"));
    assert!(
        ids(&f).contains(&"b64") && ids(&f).contains(&"tok"),
        "{f:?}"
    );
}

#[test]
fn hex_and_percent_encodings_are_decoded() {
    let d =
        detector("[[rules]]\nid = \"tok\"\nregex = '''tok_[a-z0-9]{8}'''\nkeywords = [\"tok_\"]\n");
    let hex: String = "tok_abcd1234tok_abcd1234"
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    let f = scan(&d, &format!("h={hex}\n"));
    assert!(
        f.iter()
            .any(|f| f.tags.contains(&"decoded:hex".to_string())),
        "{f:?}"
    );
    let pct: String = "tok_abcd1234"
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect();
    let f = scan(&d, &format!("p={pct}\n"));
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].tags.contains(&"decoded:percent".to_string()));
}

#[test]
fn decode_depth_zero_disables_decoding() {
    let d = detector_with(
        "[[rules]]\nid = \"tok\"\nregex = '''tok_[a-z0-9]{8}'''\n",
        DetectOptions {
            max_decode_depth: 0,
            ..DetectOptions::default()
        },
    );
    let enc = base64::engine::general_purpose::STANDARD.encode("tok_abcd1234");
    assert!(scan(&d, &format!("v: {enc}\n")).is_empty());
}

#[test]
fn nested_encodings_report_depth_two() {
    let d = detector("[[rules]]\nid = \"tok\"\nregex = '''tok_[a-z0-9]{8}'''\n");
    let hex: String = "tok_abcd1234-padding"
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    let enc = base64::engine::general_purpose::STANDARD.encode(&hex);
    let f = scan(&d, &format!("v: {enc}\n"));
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(
        f[0].tags,
        vec!["decoded:hex", "decoded:base64", "decode-depth:2"]
    );
    assert_eq!(f[0].start_column, 4);
}

#[test]
fn path_only_rules_run_only_in_raw_pass() {
    let d = detector("[[rules]]\nid = \"p\"\npath = '''^f$'''\n");
    let enc = base64::engine::general_purpose::STANDARD.encode("some decoded text here");
    assert_eq!(scan(&d, &format!("{enc}\n")).len(), 1);
}
