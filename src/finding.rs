//! The data that flows between the scanning stages: a [`Fragment`] (one input handed to the
//! detector by a source) and a [`Finding`] (one secret found in one place).
//!
//! This module is a leaf: it depends on no other module of the crate, so `source`, `detect`,
//! `rules` and `report` all use it without reaching into each other.
//!
//! Field names and order follow gitleaks 8.30's JSON report exactly, so existing tooling
//! (baselines, `.gitleaksignore`, dashboards) keeps working; portcullis adds a few fields
//! after gitleaks' own (extra fields are allowed by consumers of gitleaks reports).

use serde::{Deserialize, Serialize};

/// One input to scan: a byte slice and where it came from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fragment<'a> {
    /// The text to scan (raw bytes; need not be UTF-8).
    pub text: &'a [u8],
    /// The file path reported in findings (`File`); empty for stdin.
    pub path: &'a str,
    /// The symlink that led to `path`, if any (`SymlinkFile`).
    pub symlink_file: &'a str,
    /// Full commit id, empty outside git history.
    pub commit: &'a str,
    /// 1-based line number of the first line of `text` in its file.
    pub start_line: u32,
}

/// One reported secret.
///
/// `Line` (the full text of the lines the match spans) is kept in memory for allowlists and
/// `gitleaks:allow`, but never serialised, as in gitleaks.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Finding {
    /// Rule id, e.g. `github-pat`.
    #[serde(rename = "RuleID")]
    pub rule_id: String,
    /// Rule description.
    #[serde(rename = "Description")]
    pub description: String,
    /// 1-based first line of the match (0 for path-only findings).
    #[serde(rename = "StartLine")]
    pub start_line: u32,
    /// 1-based last line of the match.
    #[serde(rename = "EndLine")]
    pub end_line: u32,
    /// Start column, with gitleaks' column conventions.
    #[serde(rename = "StartColumn")]
    pub start_column: u32,
    /// End column, with gitleaks' column conventions.
    #[serde(rename = "EndColumn")]
    pub end_column: u32,
    /// The whole regex match (leading/trailing `\n` trimmed).
    #[serde(rename = "Match")]
    pub r#match: String,
    /// The secret (the rule's secret group).
    #[serde(rename = "Secret")]
    pub secret: String,
    /// Path of the file (repo-relative with `/` in git mode; `a.zip!inner/file` in archives).
    #[serde(rename = "File")]
    pub file: String,
    /// Path of the symlink that led to `File`, if any.
    #[serde(rename = "SymlinkFile")]
    pub symlink_file: String,
    /// Full commit id (empty outside git history).
    #[serde(rename = "Commit")]
    pub commit: String,
    /// Link to the finding on a forge (omitted when empty).
    #[serde(rename = "Link", skip_serializing_if = "String::is_empty")]
    pub link: String,
    /// Shannon entropy of the secret (stored as `f32`, as gitleaks does).
    #[serde(rename = "Entropy")]
    pub entropy: f32,
    /// Commit author name.
    #[serde(rename = "Author")]
    pub author: String,
    /// Commit author email.
    #[serde(rename = "Email")]
    pub email: String,
    /// Author date in UTC, RFC 3339.
    #[serde(rename = "Date")]
    pub date: String,
    /// Commit message (title, plus `"\n\n" + body` when there is a body).
    #[serde(rename = "Message")]
    pub message: String,
    /// Rule tags, plus `decoded:*` / `decode-depth:N` for decoded findings.
    #[serde(rename = "Tags")]
    pub tags: Vec<String>,
    /// gitleaks fingerprint: `commit:file:rule:line` or `file:rule:line`.
    #[serde(rename = "Fingerprint")]
    pub fingerprint: String,
    /// portcullis: stable secret-derived fingerprint (`rule:sha256(rule, secret)` prefix) that
    /// survives rebase and squash; accepted by `.gitleaksignore` and baselines.
    #[serde(rename = "SecretFingerprint", skip_serializing_if = "String::is_empty")]
    pub secret_fingerprint: String,
    /// portcullis: how sure the rule is that this is a live credential (`high`, `medium` or
    /// `low`). Findings of configurations that do not say otherwise are `high`.
    #[serde(rename = "Confidence")]
    pub confidence: Confidence,
    /// portcullis: with `--dedup`, the number of commits that carry this finding.
    #[serde(rename = "CommitCount", skip_serializing_if = "is_zero")]
    pub commit_count: u32,
    /// Text of the lines the match spans (gitleaks' `Line`); not serialised.
    #[serde(skip)]
    pub line: String,
}

/// How sure a rule is that a finding is a live credential. Ordered `Low < Medium < High`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// A weak or short password in a credential position, or a generic value that could be
    /// real.
    Low,
    /// A credential in a vendor or credential-file context with enough entropy.
    Medium,
    /// A vendor format whose structure is verified (checksum, decodable header or key body,
    /// exact length and alphabet). The default.
    #[default]
    High,
}

impl Confidence {
    /// The lowercase name (`high`, `medium`, `low`).
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl std::fmt::Display for Confidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Confidence {
    type Err = String;

    /// Parse `high`, `medium` or `low` (case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Confidence::Low),
            "medium" => Ok(Confidence::Medium),
            "high" => Ok(Confidence::High),
            _ => Err(format!(
                "unknown confidence `{s}` (expected high, medium or low)"
            )),
        }
    }
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

impl Finding {
    /// gitleaks' fingerprint: `commit:file:rule:line` when `Commit` is set, else
    /// `file:rule:line`.
    pub fn gitleaks_fingerprint(&self) -> String {
        if self.commit.is_empty() {
            self.global_fingerprint()
        } else {
            format!(
                "{}:{}:{}:{}",
                self.commit, self.file, self.rule_id, self.start_line
            )
        }
    }

    /// The commit-less form `file:rule:line` (matches `.gitleaksignore` global entries).
    pub fn global_fingerprint(&self) -> String {
        format!("{}:{}:{}", self.file, self.rule_id, self.start_line)
    }
}

/// The stable report order of findings: file, line, column, rule id, secret.
pub fn report_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    (&a.file, a.start_line, a.start_column, &a.rule_id, &a.secret).cmp(&(
        &b.file,
        b.start_line,
        b.start_column,
        &b.rule_id,
        &b.secret,
    ))
}

/// Stable, secret-derived fingerprint: `sfp:` + 32 hex digits of
/// `sha256(rule_id || 0x00 || secret)`. It does not change when a commit is rebased, squashed
/// or moved, and it does not reveal the secret. Compute it from the raw (unredacted) secret.
pub fn secret_fingerprint(rule_id: &str, secret: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0u8]);
    h.update(secret.as_bytes());
    let digest = h.finalize();
    format!("sfp:{}", hex::encode(&digest[..16]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_follow_gitleaks_forms() {
        let mut f = Finding {
            rule_id: "aws-access-token".into(),
            file: "a/b.env".into(),
            start_line: 4,
            ..Finding::default()
        };
        assert_eq!(f.gitleaks_fingerprint(), "a/b.env:aws-access-token:4");
        f.commit = "c0ffee".into();
        assert_eq!(
            f.gitleaks_fingerprint(),
            "c0ffee:a/b.env:aws-access-token:4"
        );
        assert_eq!(f.global_fingerprint(), "a/b.env:aws-access-token:4");
    }

    #[test]
    fn secret_fingerprint_depends_on_rule_and_secret_only() {
        let a = secret_fingerprint("r", "s3cr3t");
        assert_eq!(a, secret_fingerprint("r", "s3cr3t"));
        assert_ne!(a, secret_fingerprint("r2", "s3cr3t"));
        assert_ne!(a, secret_fingerprint("r", "s3cr3u"));
        assert!(a.starts_with("sfp:") && a.len() == 36);
        assert!(!a.contains("s3cr3t"));
    }
}
