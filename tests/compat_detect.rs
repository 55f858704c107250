//! gitleaks 8.30 detection semantics (spec §5-§9), written from the documented behaviour.

use std::path::Path;

use crate::detect_common::{detector, detector_with, scan_at};

use portcullis::detect::{DetectOptions, Detector, Fragment};
use portcullis::report::finding::Finding;
use portcullis::rules::Config;

fn scan(d: &Detector, text: &str) -> Vec<Finding> {
    scan_at(d, text, "f.txt", "")
}

const TOKEN_RULE: &str = r#"
[[rules]]
id = "tok"
description = "test token"
regex = '''tok_[a-z0-9]{8}'''
keywords = ["tok_"]
tags = ["t"]
"#;

#[test]
fn keyword_gate_is_case_insensitive_and_fragment_wide() {
    // The keyword "magic" only appears on another line: the rule still runs.
    let d = detector(
        r#"
[[rules]]
id = "r"
regex = '''secret=[a-z]{6}'''
keywords = ["MAGIC"]
"#,
    );
    assert_eq!(scan(&d, "secret=abcdef\n").len(), 0);
    let f = scan(&d, "MaGiC here\nsecret=abcdef\n");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].start_line, 2);
}

#[test]
fn finding_fields_follow_gitleaks() {
    let d = detector(TOKEN_RULE);
    let f = scan(&d, "x = tok_abcd1234\n");
    assert_eq!(f.len(), 1);
    let f = &f[0];
    assert_eq!(f.rule_id, "tok");
    assert_eq!(f.description, "test token");
    assert_eq!(f.r#match, "tok_abcd1234");
    assert_eq!(f.secret, "tok_abcd1234");
    assert_eq!((f.start_line, f.end_line), (1, 1));
    assert_eq!((f.start_column, f.end_column), (5, 16));
    assert_eq!(f.file, "f.txt");
    assert_eq!(f.tags, vec!["t"]);
    assert_eq!(f.fingerprint, "f.txt:tok:1");
    assert!(f.secret_fingerprint.starts_with("sfp:"));
    assert_eq!(f.line, "x = tok_abcd1234");
}

#[test]
fn columns_on_later_lines_are_one_larger() {
    let d = detector(TOKEN_RULE);
    let f = scan(&d, "first\nx = tok_abcd1234\n");
    assert_eq!(f[0].start_line, 2);
    assert_eq!((f[0].start_column, f[0].end_column), (6, 17));
    assert_eq!(f[0].line, "\nx = tok_abcd1234");
}

#[test]
fn commit_fingerprint_has_four_parts() {
    let d = detector(TOKEN_RULE);
    let c = "0123456789abcdef0123456789abcdef01234567";
    let f = scan_at(&d, "tok_abcd1234", "a/b", c);
    assert_eq!(f[0].fingerprint, format!("{c}:a/b:tok:1"));
}

#[test]
fn start_line_offsets_by_fragment_start_line() {
    let d = detector(TOKEN_RULE);
    let mut out = Vec::new();
    d.scan(
        &Fragment {
            text: b"a\nb tok_abcd1234\n",
            path: "p",
            start_line: 10,
            ..Fragment::default()
        },
        &mut out,
    );
    assert_eq!(out[0].start_line, 11);
}

#[test]
fn secret_group_selects_capture() {
    let d = detector(
        r#"
[[rules]]
id = "r"
regex = '''(key)=([a-z0-9]{8})'''
secretGroup = 2
keywords = ["key"]
"#,
    );
    let f = scan(&d, "key=abcd1234");
    assert_eq!(f[0].secret, "abcd1234");
    assert_eq!(f[0].r#match, "key=abcd1234");
}

#[test]
fn first_non_empty_group_is_secret_without_secret_group() {
    let d = detector(
        r#"
[[rules]]
id = "r"
regex = '''key=(?:"([a-z]+)"|([0-9]+))'''
keywords = ["key"]
"#,
    );
    assert_eq!(scan(&d, "key=12345")[0].secret, "12345");
    assert_eq!(scan(&d, "key=\"abc\"")[0].secret, "abc");
}

#[test]
fn secret_extraction_reruns_regex_on_match_alone() {
    // In context `\b` before "k" holds; on the match alone too. A look-behind-like anchor
    // `^` fails on the match alone when the match is not at text start: gitleaks then keeps
    // the whole match as the secret.
    let d = detector(
        r#"
[[rules]]
id = "r"
regex = '''(?m)^key=([a-z]+)'''
keywords = ["key"]
"#,
    );
    assert_eq!(scan(&d, "x\nkey=abc\n")[0].secret, "abc");
}

#[test]
fn entropy_must_be_strictly_greater() {
    let toml = |e: f64| {
        format!(
            r#"
[[rules]]
id = "r"
regex = '''k=([a-z]+)'''
entropy = {e}
keywords = ["k="]
"#
        )
    };
    // "ab" has entropy exactly 1.0
    assert_eq!(scan(&detector(&toml(1.0)), "k=ab").len(), 0);
    assert_eq!(scan(&detector(&toml(0.99)), "k=ab").len(), 1);
    let f = scan(&detector(&toml(0.5)), "k=abcd");
    assert!((f[0].entropy - 2.0).abs() < 1e-6);
}

#[test]
fn match_is_trimmed_of_newlines_only() {
    let d = detector(
        r#"
[[rules]]
id = "r"
regex = '''\ntok_[a-z0-9]{8}"?\n'''
keywords = ["tok_"]
"#,
    );
    let f = scan(&d, "a\ntok_abcd1234\"\nb");
    assert_eq!(f[0].r#match, "tok_abcd1234\"");
    // The start offset is not moved by the trimmed leading newline: the match starts at the
    // `\n` ending line 1, which gitleaks' location() assigns to line 2, column 1.
    assert_eq!((f[0].start_line, f[0].start_column), (2, 1));
}

#[test]
fn gitleaks_allow_marker_suppresses_and_can_be_ignored() {
    let text = "tok_abcd1234 # gitleaks:allow\n";
    assert_eq!(scan(&detector(TOKEN_RULE), text).len(), 0);
    let d = detector_with(
        TOKEN_RULE,
        DetectOptions {
            ignore_gitleaks_allow: true,
            ..DetectOptions::default()
        },
    );
    assert_eq!(scan(&d, text).len(), 1);
    // Case-sensitive.
    assert_eq!(
        scan(&detector(TOKEN_RULE), "tok_abcd1234 # GITLEAKS:ALLOW\n").len(),
        1
    );
}

#[test]
fn gitleaks_allow_on_last_line_of_multiline_match_counts() {
    let d = detector(
        r#"
[[rules]]
id = "pem"
regex = '''-----BEGIN KEY-----[\s\S]*?-----END KEY-----'''
keywords = ["-----begin"]
"#,
    );
    let text = "-----BEGIN KEY-----\nabc\n-----END KEY----- gitleaks:allow\n";
    assert_eq!(scan(&d, text).len(), 0);
    let text = "-----BEGIN KEY-----\nabc\n-----END KEY-----\n";
    let f = scan(&d, text);
    assert_eq!((f[0].start_line, f[0].end_line), (1, 3));
}

#[test]
fn path_only_rule_reports_file_detected() {
    let d = detector(
        r#"
[[rules]]
id = "p12"
description = "pkcs12"
path = '''\.p12$'''
"#,
    );
    let f = scan_at(&d, "binary", "certs/a.p12", "");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].r#match, "file detected: certs/a.p12");
    assert_eq!(f[0].secret, "");
    assert_eq!((f[0].start_line, f[0].start_column), (0, 0));
    assert_eq!(scan_at(&d, "binary", "certs/a.pem", "").len(), 0);
}

#[test]
fn path_and_regex_rule_needs_both() {
    let d = detector(
        r#"
[[rules]]
id = "r"
path = '''\.env$'''
regex = '''tok_[a-z0-9]{8}'''
"#,
    );
    assert_eq!(scan_at(&d, "tok_abcd1234", "x.env", "").len(), 1);
    assert_eq!(scan_at(&d, "tok_abcd1234", "x.txt", "").len(), 0);
}

#[test]
fn generic_rule_yields_to_specific_rule_on_same_line() {
    let d = detector(
        r#"
[[rules]]
id = "generic-api-key"
regex = '''token = (\S+)'''
keywords = ["token"]
[[rules]]
id = "tok"
regex = '''tok_[a-z0-9]{8}'''
keywords = ["tok_"]
"#,
    );
    let f = scan(&d, "token = tok_abcd1234\n");
    let ids: Vec<_> = f.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(ids, vec!["tok"]);
    // A custom rule named "My-Generic-Thing" also yields (case-insensitive "generic").
    let d = detector(
        r#"
[[rules]]
id = "My-Generic-Thing"
regex = '''tok_[a-z0-9]{4}'''
[[rules]]
id = "tok"
regex = '''tok_[a-z0-9]{8}'''
"#,
    );
    let ids: Vec<_> = scan(&d, "tok_abcd1234\n")
        .into_iter()
        .map(|f| f.rule_id)
        .collect();
    assert_eq!(ids, vec!["tok"]);
}

#[test]
fn redact_replaces_secret_in_match() {
    let d = detector_with(
        TOKEN_RULE,
        DetectOptions {
            redact: Some(100),
            ..DetectOptions::default()
        },
    );
    let f = scan(&d, "x tok_abcd1234\n");
    assert_eq!(f[0].secret, "REDACTED");
    assert_eq!(f[0].r#match, "REDACTED");
    assert!(!f[0].line.contains("abcd1234"));
    // SecretFingerprint was computed from the raw secret.
    assert_eq!(
        f[0].secret_fingerprint,
        portcullis::report::finding::secret_fingerprint("tok", "tok_abcd1234")
    );
    let d = detector_with(
        TOKEN_RULE,
        DetectOptions {
            redact: Some(50),
            ..DetectOptions::default()
        },
    );
    assert_eq!(scan(&d, "tok_abcd1234")[0].secret, "tok_ab...");
}

#[test]
fn max_target_megabytes_skips_regex_rules_only() {
    let toml = format!("{TOKEN_RULE}\n[[rules]]\nid = \"p\"\npath = '''big\\.txt$'''\n");
    let d = detector_with(
        &toml,
        DetectOptions {
            max_target_megabytes: Some(1),
            ..DetectOptions::default()
        },
    );
    let mut big = "a".repeat(2_000_000);
    big.push_str(" tok_abcd1234");
    let f = scan_at(&d, &big, "big.txt", "");
    let ids: Vec<_> = f.iter().map(|f| f.rule_id.as_str()).collect();
    assert_eq!(ids, vec!["p"]);
    // 1,999,999 bytes / 1,000,000 = 1, not > 1: scanned.
    let small = format!("{} tok_abcd1234", "a".repeat(1_999_980 - 13));
    assert_eq!(scan(&d, &small).len(), 1);
}

#[test]
fn enable_rule_keeps_only_listed_rules_and_rejects_unknown() {
    let toml = format!("{TOKEN_RULE}\n[[rules]]\nid = \"other\"\nregex = '''tok_'''\n");
    let d = detector_with(
        &toml,
        DetectOptions {
            enable_rules: vec!["other".into()],
            ..DetectOptions::default()
        },
    );
    let ids: Vec<_> = scan(&d, "tok_abcd1234")
        .into_iter()
        .map(|f| f.rule_id)
        .collect();
    assert_eq!(ids, vec!["other"]);
    let cfg = Config::from_toml_str(&toml, Path::new("c.toml")).unwrap();
    let err = Detector::new(
        cfg,
        DetectOptions {
            enable_rules: vec!["nope".into()],
            ..DetectOptions::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn config_file_itself_is_not_scanned() {
    let cfg = Config::from_toml_str(TOKEN_RULE, Path::new("repo/.gitleaks.toml")).unwrap();
    let d = Detector::new(cfg, DetectOptions::default()).unwrap();
    assert_eq!(
        scan_at(&d, "tok_abcd1234", "repo/.gitleaks.toml", "").len(),
        0
    );
    assert_eq!(scan_at(&d, "tok_abcd1234", "repo/other.toml", "").len(), 1);
}

#[test]
fn detector_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Detector>();
}

#[test]
fn might_match_is_false_without_keywords_and_true_with() {
    let d = detector(TOKEN_RULE);
    assert!(!d.might_match(b"nothing to see here"));
    assert!(d.might_match(b"xx TOK_ yy"));
    // A keyword only visible after base64 decoding.
    let enc = "dG9rX2FiY2QxMjM0"; // "tok_abcd1234"
    assert!(d.might_match(format!("v = {enc}\n").as_bytes()));
    let f = scan(&d, &format!("v = {enc}\n"));
    assert_eq!(f.len(), 1);
    // A rule without keywords makes everything a candidate.
    let d = detector("[[rules]]\nid = \"r\"\nregex = '''x'''\n");
    assert!(d.might_match(b"anything"));
}

#[test]
fn default_config_finds_a_github_token() {
    let d = Detector::new(Config::embedded_default(), DetectOptions::default()).unwrap();
    let tok = format!("ghp_{}", "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8");
    let f = scan(&d, &format!("token: {tok}\n"));
    assert!(
        f.iter()
            .any(|f| f.rule_id == "github-pat" && f.secret == tok),
        "{f:?}"
    );
    assert!(d.path_allowed_globally("a/node_modules/x.js"));
    assert!(!d.path_allowed_globally("src/main.rs"));
}
