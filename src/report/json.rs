//! gitleaks-compatible JSON report, byte for byte.
//!
//! gitleaks writes its report with Go's `json.Encoder` (`SetIndent("", " ")`): an array of
//! objects, one-space indentation, a trailing newline, `[]` when there are no findings, and
//! Go's default HTML-safe escaping (`<` `>` `&` become `\u003c` `\u003e` `\u0026`, U+2028 and
//! U+2029 become `\u2028` `\u2029`). Floats (`Entropy`, a Go `float32`) are written in their
//! shortest round-trip form without a trailing `.0` (`4`, `3.7841837`).
//!
//! This module holds a tiny ordered JSON value ([`GoJson`]) with a Go-compatible printer; the
//! SARIF and JUnit writers reuse it so every JSON byte portcullis writes follows the same rules.

use std::fmt::Write as _;

use crate::report::Finding;

/// An ordered JSON value printed the way Go's `encoding/json` prints it.
#[derive(Debug, Clone, PartialEq)]
pub enum GoJson {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A Go `float32` (printed in shortest form, Go style).
    F32(f32),
    /// A string (escaped Go style).
    Str(String),
    /// An array.
    Arr(Vec<GoJson>),
    /// An object; keys keep their insertion order.
    Obj(Vec<(String, GoJson)>),
}

impl GoJson {
    /// Shorthand for a string value.
    pub fn str(s: impl Into<String>) -> GoJson {
        GoJson::Str(s.into())
    }

    /// Build an object from `(key, value)` pairs, keeping their order.
    pub fn obj<K: Into<String>>(pairs: impl IntoIterator<Item = (K, GoJson)>) -> GoJson {
        GoJson::Obj(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Render like Go's `json.MarshalIndent(v, prefix, indent)` (no trailing newline).
    pub fn to_indented(&self, prefix: &str, indent: &str) -> String {
        let mut out = String::new();
        self.write_indented(&mut out, prefix, indent, 0);
        out
    }

    fn write_indented(&self, out: &mut String, prefix: &str, indent: &str, depth: usize) {
        let newline = |out: &mut String, depth: usize| {
            out.push('\n');
            out.push_str(prefix);
            for _ in 0..depth {
                out.push_str(indent);
            }
        };
        match self {
            GoJson::Null => out.push_str("null"),
            GoJson::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            GoJson::Int(i) => {
                let _ = write!(out, "{i}");
            }
            GoJson::F32(f) => out.push_str(&go_float32(*f)),
            GoJson::Str(s) => go_quote(out, s),
            GoJson::Arr(items) => {
                if items.is_empty() {
                    out.push_str("[]");
                    return;
                }
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    item.write_indented(out, prefix, indent, depth + 1);
                }
                newline(out, depth);
                out.push(']');
            }
            GoJson::Obj(fields) => {
                if fields.is_empty() {
                    out.push_str("{}");
                    return;
                }
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, depth + 1);
                    go_quote(out, k);
                    out.push_str(": ");
                    v.write_indented(out, prefix, indent, depth + 1);
                }
                newline(out, depth);
                out.push('}');
            }
        }
    }
}

/// Append `s` as a JSON string literal escaped exactly as Go's `encoding/json` does with HTML
/// escaping on (the default for `json.Marshal` and `json.Encoder`).
pub fn go_quote(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{0}'..='\u{1f}' => {
                let b = c as u32;
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Format a `float32` as Go's `encoding/json` does: shortest round-trip digits, plain decimal
/// notation for `1e-6 <= |f| < 1e21`, otherwise exponent form with a cleaned exponent
/// (`1e-7`, `1e+21`). Non-finite values (which Go refuses to encode) are written as `0`.
pub fn go_float32(f: f32) -> String {
    if !f.is_finite() {
        return "0".to_string();
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{f:e}");
        // Rust prints `1e21` / `1e-7`; Go prints `1e+21` / `1e-7` (after its e-07 → e-7 clean-up).
        match s.split_once('e') {
            Some((mant, exp)) if !exp.starts_with('-') => format!("{mant}e+{exp}"),
            _ => s,
        }
    } else {
        // Rust's Display for f32 is the shortest round-trip form without exponent and without
        // a trailing ".0", which is exactly Go's 'f' formatting with precision -1.
        format!("{f}")
    }
}

/// The JSON object of one finding with gitleaks' field names in gitleaks' order, followed by
/// portcullis' extra fields (`SecretFingerprint`, `CommitCount`) when they are set.
pub fn finding_to_gojson(f: &Finding) -> GoJson {
    let mut fields: Vec<(String, GoJson)> = vec![
        ("RuleID".into(), GoJson::str(&f.rule_id)),
        ("Description".into(), GoJson::str(&f.description)),
        ("StartLine".into(), GoJson::Int(f.start_line.into())),
        ("EndLine".into(), GoJson::Int(f.end_line.into())),
        ("StartColumn".into(), GoJson::Int(f.start_column.into())),
        ("EndColumn".into(), GoJson::Int(f.end_column.into())),
        ("Match".into(), GoJson::str(&f.r#match)),
        ("Secret".into(), GoJson::str(&f.secret)),
        ("File".into(), GoJson::str(&f.file)),
        ("SymlinkFile".into(), GoJson::str(&f.symlink_file)),
        ("Commit".into(), GoJson::str(&f.commit)),
    ];
    if !f.link.is_empty() {
        fields.push(("Link".into(), GoJson::str(&f.link)));
    }
    fields.extend([
        ("Entropy".into(), GoJson::F32(f.entropy)),
        ("Author".into(), GoJson::str(&f.author)),
        ("Email".into(), GoJson::str(&f.email)),
        ("Date".into(), GoJson::str(&f.date)),
        ("Message".into(), GoJson::str(&f.message)),
        (
            "Tags".into(),
            GoJson::Arr(f.tags.iter().map(GoJson::str).collect()),
        ),
        ("Fingerprint".into(), GoJson::str(&f.fingerprint)),
    ]);
    if !f.secret_fingerprint.is_empty() {
        fields.push((
            "SecretFingerprint".into(),
            GoJson::str(&f.secret_fingerprint),
        ));
    }
    if f.commit_count != 0 {
        fields.push(("CommitCount".into(), GoJson::Int(f.commit_count.into())));
    }
    fields.push(("Confidence".into(), GoJson::str(f.confidence.as_str())));
    GoJson::Obj(fields)
}

/// Render the JSON report: the bytes gitleaks' JSON reporter would write for `findings`
/// (plus portcullis' extra fields), including the trailing newline.
pub fn render_json(findings: &[Finding]) -> String {
    let arr = GoJson::Arr(findings.iter().map(finding_to_gojson).collect());
    let mut s = arr.to_indented("", " ");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_report_is_empty_array_with_newline() {
        assert_eq!(render_json(&[]), "[]\n");
    }

    #[test]
    fn go_html_escaping_and_control_characters() {
        let mut s = String::new();
        go_quote(
            &mut s,
            "<a href=\"x\">&\u{2028}\u{2029}\u{1}\u{8}\u{c}\t\n\r\\é",
        );
        assert_eq!(
            s,
            r#""\u003ca href=\"x\"\u003e\u0026\u2028\u2029\u0001\b\f\t\n\r\\é""#
        );
    }

    #[test]
    fn float32_formatting_matches_go() {
        assert_eq!(go_float32(0.0), "0");
        assert_eq!(go_float32(4.0), "4");
        assert_eq!(go_float32(3.784_183_7), "3.7841837");
        assert_eq!(go_float32(1e-7), "1e-7");
        assert_eq!(go_float32(1e21), "1e+21");
        assert_eq!(go_float32(0.5), "0.5");
    }

    #[test]
    fn nested_indentation_follows_go_encoder() {
        let f = Finding {
            rule_id: "r".into(),
            tags: vec!["a".into(), "b".into()],
            ..Finding::default()
        };
        let s = render_json(&[f]);
        assert!(s.starts_with("[\n {\n  \"RuleID\": \"r\",\n  \"Description\": \"\",\n"));
        assert!(s.contains("  \"Tags\": [\n   \"a\",\n   \"b\"\n  ],\n"));
        // portcullis' own fields follow gitleaks' (Confidence last, on every finding).
        assert!(s.ends_with("  \"Fingerprint\": \"\",\n  \"Confidence\": \"high\"\n }\n]\n"));
        assert!(!s.contains("\"Link\""));
        assert!(!s.contains("SecretFingerprint"));
    }
}
