//! SARIF 2.1.0 report, shaped after gitleaks' and safe to upload to GitHub code scanning.
//!
//! Differences from gitleaks, each required by GitHub's SARIF upload or by safety:
//! * the driver is `portcullis` with the crate version;
//! * rule ids are unique (gitleaks could emit duplicates, gitleaks issue #890), and every
//!   `ruleId` used by a result is declared;
//! * regions never carry line or column 0: path-only findings (`StartLine` 0) get a location
//!   without a region;
//! * URIs are relative to `%SRCROOT%` (declared in `originalUriBaseIds`): the git work tree that
//!   holds the scanned directory, else the scanned directory itself, so a scan of
//!   `/absolute/path` uploads the same URIs as a scan of `.`; they are percent-encoded where a
//!   URI reference requires it (spaces, `%`, `#`, `?`, ...);
//! * `snippet.text` is `REDACTED` unless [`SarifOptions::include_secrets`] is set;
//! * `partialFingerprints` carry no author, e-mail, date or commit message: only
//!   `secretFingerprint/v1` (stable across rebases and machines), `gitleaksFingerprint/v1`
//!   (`[commit:]path:rule:line`, with the `%SRCROOT%`-relative path) and `commitSha` for history
//!   findings.
//!
//! * `level` follows the finding's confidence (`error` / `warning` / `note`) and each rule's
//!   `security-severity` its kind and confidence (gitleaks writes `error` and no severity).
//!
//! Everything else follows gitleaks: one run, `message.text`
//! `"<rule> has detected secret for file <file>[ at commit <c>]."` and `properties.tags`.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

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

/// The `uriBaseId` every artifact location is relative to.
pub const SRCROOT: &str = "%SRCROOT%";

/// What the snippet of a result says when secrets are not included.
pub const REDACTED_SNIPPET: &str = "REDACTED";

/// How a SARIF report is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SarifOptions {
    /// The absolute directory `%SRCROOT%` stands for; finding paths are made relative to it.
    /// `None`: paths are already relative to it (history scans give repository paths).
    pub src_root: Option<PathBuf>,
    /// Write the raw secret into `snippet.text` (gitleaks does); default: `REDACTED`.
    pub include_secrets: bool,
}

/// Percent-encode a finding path for use as a SARIF URI reference.
pub fn sarif_uri(path: &str) -> String {
    utf8_percent_encode(path, URI_ESCAPE).to_string()
}

/// `path` made absolute (against the current directory) with `.` and `..` removed lexically.
fn lexical_absolute(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The directory `%SRCROOT%` stands for when `target` (a directory or file) is scanned: the
/// top of the git work tree that holds it, else the directory itself (a file's parent).
pub fn source_root(target: &Path) -> PathBuf {
    let abs = lexical_absolute(target);
    let dir = if abs.is_dir() {
        abs
    } else {
        abs.parent().map(Path::to_path_buf).unwrap_or(abs)
    };
    dir.ancestors()
        .find(|a| a.join(".git").exists())
        .map(Path::to_path_buf)
        .unwrap_or(dir)
}

/// `file` (a finding path) relative to `root`, with `/` separators. A path outside `root`, or
/// any path when `root` is `None`, is kept as given (a leading `./` dropped).
pub fn relative_path(file: &str, root: Option<&Path>) -> String {
    let given = file.strip_prefix("./").unwrap_or(file);
    let Some(root) = root else {
        return given.to_string();
    };
    match lexical_absolute(Path::new(file)).strip_prefix(root) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        _ => given.to_string(),
    }
}

/// The level of a result: its confidence's (`error` / `warning` / `note`).
fn result_level(f: &Finding) -> &'static str {
    sarif_level(f.confidence)
}

fn message_text(f: &Finding, file: &str) -> String {
    if f.commit.is_empty() {
        format!("{} has detected secret for file {file}.", f.rule_id)
    } else {
        format!(
            "{} has detected secret for file {file} at commit {}.",
            f.rule_id, f.commit
        )
    }
}

/// The path a result is located at, relative to `%SRCROOT%`.
fn result_path(f: &Finding, opts: &SarifOptions) -> String {
    let file = if f.symlink_file.is_empty() {
        &f.file
    } else {
        &f.symlink_file
    };
    relative_path(file, opts.src_root.as_deref())
}

/// `partialFingerprints`: stable identifiers without personal data (no author, e-mail, date
/// or commit message).
fn partial_fingerprints(f: &Finding, path: &str) -> GoJson {
    let mut partial = Vec::new();
    if !f.secret_fingerprint.is_empty() {
        partial.push((
            "secretFingerprint/v1".to_string(),
            GoJson::str(&f.secret_fingerprint),
        ));
    }
    let location = if f.commit.is_empty() {
        format!("{path}:{}:{}", f.rule_id, f.start_line)
    } else {
        format!("{}:{path}:{}:{}", f.commit, f.rule_id, f.start_line)
    };
    partial.push(("gitleaksFingerprint/v1".to_string(), GoJson::str(location)));
    if !f.commit.is_empty() {
        partial.push(("commitSha".to_string(), GoJson::str(&f.commit)));
    }
    GoJson::Obj(partial)
}

fn location(f: &Finding, path: &str, opts: &SarifOptions) -> GoJson {
    let mut physical = vec![(
        "artifactLocation".to_string(),
        GoJson::obj([
            ("uri", GoJson::str(sarif_uri(path))),
            ("uriBaseId", GoJson::str(SRCROOT)),
        ]),
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
                (
                    "snippet",
                    GoJson::obj([(
                        "text",
                        GoJson::str(if opts.include_secrets {
                            f.secret.as_str()
                        } else {
                            REDACTED_SNIPPET
                        }),
                    )]),
                ),
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
pub fn sarif_document(findings: &[Finding], rules: &[SarifRule], opts: &SarifOptions) -> GoJson {
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
            let path = result_path(f, opts);
            GoJson::obj([
                (
                    "message",
                    GoJson::obj([("text", GoJson::str(message_text(f, &path)))]),
                ),
                ("ruleId", GoJson::str(&f.rule_id)),
                ("ruleIndex", GoJson::Int(rule_index as i64)),
                ("level", GoJson::str(result_level(f))),
                ("locations", GoJson::Arr(vec![location(f, &path, opts)])),
                ("partialFingerprints", partial_fingerprints(f, &path)),
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
                ("originalUriBaseIds", original_uri_base_ids()),
                ("results", GoJson::Arr(results)),
            ])]),
        ),
    ])
}

/// `originalUriBaseIds`: `%SRCROOT%` is declared without an absolute URI, so no machine path
/// is uploaded; consumers resolve it to their checkout (GitHub: the repository root).
fn original_uri_base_ids() -> GoJson {
    GoJson::obj([(
        SRCROOT,
        GoJson::obj([(
            "description",
            GoJson::obj([(
                "text",
                GoJson::str("The top of the scanned git work tree, else the scanned directory."),
            )]),
        )]),
    )])
}

/// Render the SARIF report with default options (paths as given, snippets redacted).
pub fn render_sarif(findings: &[Finding], rules: &[SarifRule]) -> String {
    render_sarif_with(findings, rules, &SarifOptions::default())
}

/// Render the SARIF report (one-space indentation and a trailing newline, as gitleaks).
pub fn render_sarif_with(findings: &[Finding], rules: &[SarifRule], opts: &SarifOptions) -> String {
    let mut s = sarif_document(findings, rules, opts).to_indented("", " ");
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

    #[test]
    fn paths_are_made_relative_to_the_source_root() {
        let root = Path::new("/srv/repo");
        assert_eq!(relative_path("/srv/repo/a/b.env", Some(root)), "a/b.env");
        assert_eq!(
            relative_path("/srv/repo/./x/../c.zip!in/d", Some(root)),
            "c.zip!in/d"
        );
        assert_eq!(relative_path("/elsewhere/e", Some(root)), "/elsewhere/e");
        assert_eq!(relative_path("./a.env", None), "a.env");
    }

    #[test]
    fn fingerprints_carry_no_personal_data_and_snippets_are_redacted() {
        let f = Finding {
            rule_id: "r".into(),
            file: "/srv/repo/a.env".into(),
            secret: "s3cr3t-value".into(),
            secret_fingerprint: "sfp:00".into(),
            commit: "c0ffee".into(),
            author: "Jane Doe".into(),
            email: "jane@example.com".into(),
            message: "add config".into(),
            start_line: 3,
            end_line: 3,
            start_column: 1,
            end_column: 5,
            ..Finding::default()
        };
        let opts = SarifOptions {
            src_root: Some(PathBuf::from("/srv/repo")),
            include_secrets: false,
        };
        let s = render_sarif_with(&[f], &[], &opts);
        for leaked in [
            "s3cr3t-value",
            "Jane Doe",
            "jane@example.com",
            "add config",
            "/srv",
        ] {
            assert!(!s.contains(leaked), "{leaked} in {s}");
        }
        assert!(
            s.contains("\"gitleaksFingerprint/v1\": \"c0ffee:a.env:r:3\""),
            "{s}"
        );
        assert!(s.contains("\"uriBaseId\": \"%SRCROOT%\""), "{s}");
    }
}
