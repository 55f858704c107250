//! Suppressions: `.gitleaksignore` files and a baseline report.
//!
//! `.gitleaksignore` (gitleaks `AddGitleaksIgnore`): lines are trimmed; blank lines and `#`
//! comments are skipped; `file:rule:line` (3 parts) suppresses that finding in every commit,
//! `commit:file:rule:line` (4 parts) only in that commit; `\` in the path part becomes `/`.
//! Other part counts are kept verbatim (gitleaks only warns). portcullis also accepts
//! `sfp:<32 hex>` secret fingerprints, which follow a secret across rebases, squashes and moves.
//!
//! Baseline (gitleaks `IsNew`): a previous JSON report; a finding is suppressed when an entry
//! has the same RuleID, Description, StartLine, EndLine, StartColumn, EndColumn, File, Commit,
//! Author, Email, Date, Message, Entropy (as `f32`) and, unless redaction is on, Match and
//! Secret. portcullis additionally suppresses a finding whose `SecretFingerprint` equals an
//! entry's `SecretFingerprint`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::finding::Finding;
use crate::rules::ConfigError;

/// Loaded `.gitleaksignore` entries and baseline.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    fingerprints: HashSet<String>,
    secret_fingerprints: HashSet<String>,
    baseline: HashMap<(String, String, u32), Vec<Finding>>,
    baseline_sfps: HashSet<String>,
    redacted: bool,
    warnings: Vec<String>,
}

/// Name of the ignore file looked up in directories.
pub const IGNORE_FILE: &str = ".gitleaksignore";

impl Suppressions {
    /// Load ignore files (a path may be a file or a directory holding `.gitleaksignore`; a
    /// directory without one is skipped) and an optional baseline JSON report. A missing
    /// ignore *file* given explicitly, an unreadable file or a baseline that is not a gitleaks
    /// JSON report is an error naming the file.
    pub fn load(
        ignore_files: &[PathBuf],
        baseline: Option<&Path>,
    ) -> Result<Suppressions, ConfigError> {
        let mut s = Suppressions::default();
        for p in ignore_files {
            let file = if p.is_dir() {
                let f = p.join(IGNORE_FILE);
                if !f.is_file() {
                    continue;
                }
                f
            } else {
                p.clone()
            };
            let text = std::fs::read_to_string(&file).map_err(|e| ConfigError::Io {
                path: file.clone(),
                message: e.to_string(),
            })?;
            s.add_ignore_text(&text, &file);
        }
        if let Some(b) = baseline {
            let text = std::fs::read_to_string(b).map_err(|e| ConfigError::Io {
                path: b.to_path_buf(),
                message: e.to_string(),
            })?;
            s.add_baseline_json(&text, b)?;
        }
        Ok(s)
    }

    /// Add the entries of one `.gitleaksignore` text (`origin` only names it in warnings).
    pub fn add_ignore_text(&mut self, text: &str, origin: &Path) {
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.starts_with("sfp:") {
                self.secret_fingerprints.insert(line.to_string());
                continue;
            }
            let mut parts: Vec<String> = line.split(':').map(str::to_string).collect();
            match parts.len() {
                3 => parts[0] = parts[0].replace('\\', "/"),
                4 => parts[1] = parts[1].replace('\\', "/"),
                _ => self.warnings.push(format!(
                    "{}:{}: invalid .gitleaksignore entry `{line}` (expected file:rule:line or commit:file:rule:line)",
                    origin.display(),
                    n + 1
                )),
            }
            self.fingerprints.insert(parts.join(":"));
        }
    }

    /// Add a baseline report (gitleaks JSON: an array of findings).
    pub fn add_baseline_json(&mut self, text: &str, origin: &Path) -> Result<(), ConfigError> {
        let entries: Vec<Finding> =
            serde_json::from_str(text).map_err(|e| ConfigError::Syntax {
                path: origin.to_path_buf(),
                message: format!("baseline must be a gitleaks JSON report: {e}"),
            })?;
        for f in entries {
            if !f.secret_fingerprint.is_empty() {
                self.baseline_sfps.insert(f.secret_fingerprint.clone());
            }
            self.baseline
                .entry((f.rule_id.clone(), f.file.clone(), f.start_line))
                .or_default()
                .push(f);
        }
        Ok(())
    }

    /// Tell the baseline comparison that findings are redacted (`--redact`): Match and
    /// Secret are then not compared, as in gitleaks.
    pub fn with_redaction(mut self, redacted: bool) -> Self {
        self.redacted = redacted;
        self
    }

    /// Warnings (malformed ignore entries).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Whether nothing is loaded.
    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
            && self.secret_fingerprints.is_empty()
            && self.baseline.is_empty()
    }

    /// Whether a finding is suppressed by an ignore entry or the baseline.
    pub fn is_suppressed(&self, f: &Finding) -> bool {
        if self.fingerprints.contains(&f.global_fingerprint()) {
            return true;
        }
        if !f.commit.is_empty() && self.fingerprints.contains(&f.gitleaks_fingerprint()) {
            return true;
        }
        if !f.secret_fingerprint.is_empty()
            && (self.secret_fingerprints.contains(&f.secret_fingerprint)
                || self.baseline_sfps.contains(&f.secret_fingerprint))
        {
            return true;
        }
        self.baseline
            .get(&(f.rule_id.clone(), f.file.clone(), f.start_line))
            .is_some_and(|v| v.iter().any(|b| self.same_as_baseline(f, b)))
    }

    fn same_as_baseline(&self, f: &Finding, b: &Finding) -> bool {
        f.rule_id == b.rule_id
            && f.description == b.description
            && f.start_line == b.start_line
            && f.end_line == b.end_line
            && f.start_column == b.start_column
            && f.end_column == b.end_column
            && (self.redacted || (f.r#match == b.r#match && f.secret == b.secret))
            && f.file == b.file
            && f.commit == b.commit
            && f.author == b.author
            && f.email == b.email
            && f.date == b.date
            && f.message == b.message
            && f.entropy == b.entropy
    }
}
