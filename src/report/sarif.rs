//! SARIF 2.1.0 report, shaped after gitleaks' and accepted by GitHub code scanning.
//!
//! Differences from gitleaks, each required by GitHub's SARIF upload:
//! * the driver is `portcullis` with the crate version;
//! * rule ids are unique (gitleaks could emit duplicates, gitleaks issue #890), and every
//!   `ruleId` used by a result is declared;
//! * regions never carry line or column 0: path-only findings (`StartLine` 0) get a location
//!   without a region;
//! * URIs are percent-encoded where a URI reference requires it (spaces, `%`, `#`, `?`, ...).
//!
//! * `level` follows the finding's confidence (`error` / `warning` / `note`) and each rule's
//!   `security-severity` its kind and confidence (gitleaks writes `error` and no severity).
//!
//! Everything else follows gitleaks: one run, `message.text`
//! `"<rule> has detected secret for file <file>[ at commit <c>]."`, `snippet.text` = Secret,
//! `partialFingerprints` with
//! `commitSha`, `email`, `author`, `date`, `commitMessage`, and `properties.tags`.

use std::collections::HashSet;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use super::json::GoJson;
use crate::report::{Confidence, Finding};

/// The `$schema` URI written into the report (same as gitleaks).
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Characters that must be escaped in a SARIF `artifactLocation.uri` (a URI reference).
const URI_ESCAPE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// One rule as declared in the SARIF driver.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SarifRule {
    /// Rule id (`ruleId` of results).
    pub id: String,
    /// Rule description (`shortDescription.text`).
    pub description: String,
    /// Rule tags (`properties.tags`).
    pub tags: Vec<String>,
    /// The rule's confidence (the highest its findings can have).
    pub confidence: Confidence,
}

/// `security-severity` of a rule (0.0–10.0, GitHub's scale): by the kind of credential its
/// tags name, lowered for rules whose findings are less certain.
pub fn security_severity(tags: &[String], confidence: Confidence) -> f32 {
    let kind = |t: &str| tags.iter().any(|x| x == t);
    let base: f32 = if kind("key") {
        9.0
    } else if kind("cloud") || kind("payment") || kind("database") {
        8.5
    } else if kind("vcs") || kind("registry") || kind("ai") {
        8.0
    } else if kind("credential-file") || kind("password-hash") {
        7.5
    } else if kind("chat") || kind("saas") || kind("social") {
        7.0
    } else if kind("generic") {
        6.0
    } else {
        8.0
    };
    match confidence {
        Confidence::High => base,
        Confidence::Medium => base - 1.5,
        Confidence::Low => base - 3.5,
    }
}

/// SARIF `level` of a finding: `error` (high), `warning` (medium) or `note` (low).
pub fn sarif_level(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "error",
        Confidence::Medium => "warning",
        Confidence::Low => "note",
    }
}

/// Percent-encode a finding path for use as a SARIF URI reference.
pub fn sarif_uri(path: &str) -> String {
    utf8_percent_encode(path, URI_ESCAPE).to_string()
}

fn message_text(f: &Finding) -> String {
    if f.commit.is_empty() {
        format!("{} has detected secret for file {}.", f.rule_id, f.file)
    } else {
        format!(
            "{} has detected secret for file {} at commit {}.",
            f.rule_id, f.file, f.commit
        )
    }
}

fn location(f: &Finding) -> GoJson {
    let uri = if f.symlink_file.is_empty() {
        &f.file
    } else {
        &f.symlink_file
    };
    let mut physical = vec![(
        "artifactLocation".to_string(),
        GoJson::obj([("uri", GoJson::str(sarif_uri(uri)))]),
    )];
    if f.start_line > 0 {
        let start_col = f.start_column.max(1);
        let end_line = f.end_line.max(f.start_line);
        // SARIF columns are 1-based and endColumn is exclusive; gitleaks' EndColumn is the
        // inclusive last byte, so +1 keeps the highlighted range; never less than start.
        let mut end_col = f.end_column.saturating_add(1);
        if end_line == f.start_line && end_col <= start_col {
            end_col = start_col + 1;
        }
        physical.push((
            "region".to_string(),
            GoJson::obj([
                ("startLine", GoJson::Int(f.start_line.into())),
                ("startColumn", GoJson::Int(start_col.into())),
                ("endLine", GoJson::Int(end_line.into())),
                ("endColumn", GoJson::Int(end_col.into())),
                ("snippet", GoJson::obj([("text", GoJson::str(&f.secret))])),
            ]),
        ));
    }
    GoJson::obj([("physicalLocation", GoJson::Obj(physical))])
}

fn rule_json(r: &SarifRule) -> GoJson {
    GoJson::obj([
        ("id", GoJson::str(&r.id)),
        ("name", GoJson::str(&r.id)),
        (
            "shortDescription",
            GoJson::obj([(
                "text",
                GoJson::str(if r.description.is_empty() {
                    r.id.as_str()
                } else {
                    r.description.as_str()
                }),
            )]),
        ),
        (
            "properties",
            GoJson::obj([
                // GitHub shows `security-severity` for rules tagged "security".
                (
                    "tags",
                    GoJson::Arr(
                        ["security", "secret"]
                            .into_iter()
                            .map(String::from)
                            .chain(
                                r.tags
                                    .iter()
                                    .filter(|t| *t != "security" && *t != "secret")
                                    .cloned(),
                            )
                            .map(GoJson::Str)
                            .collect(),
                    ),
                ),
                (
                    "security-severity",
                    GoJson::str(format!("{:.1}", security_severity(&r.tags, r.confidence))),
                ),
            ]),
        ),
    ])
}

/// Build the SARIF document for `findings`, declaring `rules` (in the given order, duplicates
/// dropped, plus any rule id used by a finding but missing from `rules`).
pub fn sarif_document(findings: &[Finding], rules: &[SarifRule]) -> GoJson {
    let mut seen = HashSet::new();
    let mut declared: Vec<SarifRule> = Vec::new();
    for r in rules {
        if seen.insert(r.id.clone()) {
            declared.push(r.clone());
        }
    }
    for f in findings {
        if seen.insert(f.rule_id.clone()) {
            declared.push(SarifRule {
                id: f.rule_id.clone(),
                description: f.description.clone(),
                tags: Vec::new(),
                confidence: Confidence::High,
            });
        }
    }
    let index: std::collections::HashMap<&str, usize> = declared
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let results: Vec<GoJson> = findings
        .iter()
        .map(|f| {
            let rule_index = index.get(f.rule_id.as_str()).copied().unwrap_or(0);
            let mut partial = vec![
                ("commitSha".to_string(), GoJson::str(&f.commit)),
                ("email".to_string(), GoJson::str(&f.email)),
                ("author".to_string(), GoJson::str(&f.author)),
                ("date".to_string(), GoJson::str(&f.date)),
                ("commitMessage".to_string(), GoJson::str(&f.message)),
            ];
            if !f.fingerprint.is_empty() {
                partial.push((
                    "gitleaksFingerprint/v1".to_string(),
                    GoJson::str(&f.fingerprint),
                ));
            }
            if !f.secret_fingerprint.is_empty() {
                partial.push((
                    "secretFingerprint/v1".to_string(),
                    GoJson::str(&f.secret_fingerprint),
                ));
            }
            GoJson::obj([
                (
                    "message",
                    GoJson::obj([("text", GoJson::str(message_text(f)))]),
                ),
                ("ruleId", GoJson::str(&f.rule_id)),
                ("ruleIndex", GoJson::Int(rule_index as i64)),
                ("level", GoJson::str(sarif_level(f.confidence))),
                ("locations", GoJson::Arr(vec![location(f)])),
                ("partialFingerprints", GoJson::Obj(partial)),
                (
                    "properties",
                    GoJson::obj([(
                        "tags",
                        GoJson::Arr(f.tags.iter().map(GoJson::str).collect()),
                    )]),
                ),
            ])
        })
        .collect();
    let driver = GoJson::obj([
        ("name", GoJson::str("portcullis")),
        ("semanticVersion", GoJson::str(env!("CARGO_PKG_VERSION"))),
        ("version", GoJson::str(env!("CARGO_PKG_VERSION"))),
        ("informationUri", GoJson::str(env!("CARGO_PKG_REPOSITORY"))),
        (
            "rules",
            GoJson::Arr(declared.iter().map(rule_json).collect()),
        ),
    ]);
    GoJson::obj([
        ("$schema", GoJson::str(SARIF_SCHEMA)),
        ("version", GoJson::str("2.1.0")),
        (
            "runs",
            GoJson::Arr(vec![GoJson::obj([
                ("tool", GoJson::obj([("driver", driver)])),
                ("results", GoJson::Arr(results)),
            ])]),
        ),
    ])
}

/// Render the SARIF report (one-space indentation and a trailing newline, as gitleaks).
pub fn render_sarif(findings: &[Finding], rules: &[SarifRule]) -> String {
    let mut s = sarif_document(findings, rules).to_indented("", " ");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_escapes_spaces_and_keeps_archive_separator() {
        assert_eq!(sarif_uri("a b/c.zip!d#e.env"), "a%20b/c.zip!d%23e.env");
        assert_eq!(sarif_uri("src/main.rs"), "src/main.rs");
    }

    #[test]
    fn duplicate_rule_ids_are_declared_once() {
        let r = SarifRule {
            id: "x".into(),
            ..SarifRule::default()
        };
        let s = render_sarif(&[], &[r.clone(), r]);
        assert_eq!(s.matches("\"id\": \"x\"").count(), 1);
    }
}
