//! gitleaks v8 TOML configuration: schema, `[extend]` merging and compilation.
//!
//! [`Config::load`] / [`Config::from_toml_str`] parse a gitleaks 8.30 configuration with its
//! semantics (case-insensitive keys, `[extend]` chains, deprecated single allowlists,
//! `targetRules`, composite rules) and validate it the way gitleaks does, except that where
//! gitleaks panics or silently ignores a problem, portcullis returns a [`ConfigError`] that
//! names the file, the rule id and the problem, and unknown keys become
//! [`Config::warnings`].

mod discover;
mod error;
mod extend;
pub mod goregex;
mod load;
mod value;
mod verification;

use std::path::{Path, PathBuf};

pub use discover::{ConfigOrigin, discover_config};
pub use error::ConfigError;
pub use verification::Verification;

/// The default ruleset, embedded in the binary.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../../rules/default.toml");

/// The same ruleset as JSON (written by `testdata/rules/generate.py` from the TOML file; a
/// unit test checks that both give the same configuration). It is what start-up parses.
pub(crate) const DEFAULT_CONFIG_JSON: &str = include_str!("../../rules/default.json");

/// A merged, validated configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) min_version: String,
    pub(crate) path: Option<PathBuf>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) allowlists: Vec<Allowlist>,
    pub(crate) warnings: Vec<String>,
}

/// One `[[rules]]` entry after `[extend]` merging.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rule {
    /// Unique rule id (e.g. `github-pat`).
    pub id: String,
    /// Human description, copied to findings.
    pub description: String,
    /// Go RE2 pattern run on the fragment text, as written in the config.
    pub regex: Option<String>,
    /// Capture group used as the secret (0 = first non-empty group, or the whole match).
    pub secret_group: usize,
    /// Minimum Shannon entropy; a finding needs strictly more. 0 = off.
    pub entropy: f64,
    /// Go RE2 pattern matched against the file path.
    pub path: Option<String>,
    /// Lowercased keywords (case-insensitive substring prefilter).
    pub keywords: Vec<String>,
    /// Tags copied to findings.
    pub tags: Vec<String>,
    /// The rule never reports on its own (only as a `[[rules.required]]` helper).
    pub skip_report: bool,
    /// Rule allowlists (including global allowlists with `targetRules` naming this rule).
    pub allowlists: Vec<Allowlist>,
    /// Composite rule requirements.
    pub required: Vec<Required>,
    /// portcullis: confidence of this rule's findings (`confidence = "medium"`); `None` means
    /// `high`, so configurations that do not set it behave exactly as in gitleaks.
    pub confidence: Option<crate::finding::Confidence>,
    /// portcullis: structural check of the secret (`verify = "github-crc32"`, ...); a secret
    /// that fails it is reported with `low` confidence.
    pub verify: Option<Verification>,
    /// Number of capture groups of `regex`, when it was checked at load time.
    pub(crate) regex_groups: Option<usize>,
}

/// A `[[rules.required]]` entry of a composite rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Required {
    /// Id of the required rule.
    pub id: String,
    /// Maximum distance in lines between the primary and the required finding.
    pub within_lines: Option<i64>,
    /// Maximum distance in columns between the primary and the required finding.
    pub within_columns: Option<i64>,
}

/// How the checks of one allowlist combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Condition {
    /// Any check allows (default).
    #[default]
    Or,
    /// Every present check must allow.
    And,
}

/// What allowlist `regexes` are matched against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RegexTarget {
    /// The extracted secret (default).
    #[default]
    Secret,
    /// The whole regex match.
    Match,
    /// The finding's line(s).
    Line,
}

/// An allowlist (rule-level or global).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Allowlist {
    /// Free-form description.
    pub description: String,
    /// OR (default) or AND.
    pub condition: Condition,
    /// Full commit ids (trimmed, lowercased).
    pub commits: Vec<String>,
    /// Go RE2 path patterns (OR-joined).
    pub paths: Vec<String>,
    /// Go RE2 patterns (OR-joined) tested on [`Allowlist::regex_target`].
    pub regexes: Vec<String>,
    /// Target of `regexes`.
    pub regex_target: RegexTarget,
    /// Lowercased stopwords, tested as substrings of the lowercased secret.
    pub stopwords: Vec<String>,
}

impl Config {
    /// Parse and validate a configuration. `origin` names the file in errors and warnings and
    /// becomes [`Config::path`]. An `[extend] path` is resolved against the process working
    /// directory (as gitleaks does), falling back to the directory of `origin`.
    pub fn from_toml_str(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        load::load_root(text, origin)
    }

    /// Parse a configuration the way the embedded default is parsed: patterns are compiled
    /// when first used, not at load. For benchmarks that compare rulesets; a user
    /// configuration goes through [`Config::from_toml_str`].
    #[doc(hidden)]
    pub fn from_trusted_toml_str(text: &str) -> Result<Config, ConfigError> {
        load::load_at_depth(text, Path::new("<embedded default>"), 0, true)
    }

    /// Read, parse and validate a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::from_toml_str(&text, path)
    }

    /// The embedded default ruleset (`rules/default.toml`).
    pub fn embedded_default() -> Config {
        // Parsed on every call (cheap; callers call it once): regexes are not parsed here,
        // they are validated by a unit test and compiled when first used. Should the
        // embedded file ever be invalid, carry the error as a warning rather than panic.
        match load::load_embedded_default() {
            Ok(c) => c,
            Err(e) => Config {
                warnings: vec![format!("embedded default config is invalid: {e}")],
                ..Config::default()
            },
        }
    }

    /// Warnings collected while loading (unknown keys, duplicate ids, ignored extends, ...).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Rules, in gitleaks order (file order, or sorted by id after an `[extend]`).
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Global allowlists (without `targetRules`; those were moved onto their rules).
    pub fn allowlists(&self) -> &[Allowlist] {
        &self.allowlists
    }

    /// `title`.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// `description`.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// `minVersion`, as written (only informative).
    pub fn min_version(&self) -> &str {
        &self.min_version
    }

    /// The file this config was loaded from (`None` for the embedded default). A fragment
    /// whose path equals it is not scanned, as in gitleaks.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Whether any rule sets `confidence` or `verify` (then reports carry non-`high` levels).
    pub fn grades_confidence(&self) -> bool {
        self.rules
            .iter()
            .any(|r| r.confidence.is_some() || r.verify.is_some())
    }

    /// Look a rule up by id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_is_valid() {
        let c = load::load_embedded_default().unwrap();
        assert!(!c.rules().is_empty());
        // Every regex compiles.
        for r in c.rules() {
            if let Some(re) = &r.regex {
                goregex::compile_go(re).unwrap_or_else(|e| panic!("{}: {e}", r.id));
            }
        }
        assert!(Config::embedded_default().warnings().is_empty());
    }

    #[test]
    fn embedded_json_is_the_toml_ruleset() {
        // Start-up reads rules/default.json; it must say exactly what rules/default.toml says
        // (after editing either, run `python3 testdata/rules/generate.py`).
        let from_toml = load::load_at_depth(
            DEFAULT_CONFIG_TOML,
            Path::new("<embedded default>"),
            0,
            true,
        )
        .unwrap();
        let from_json = load::load_embedded_default().unwrap();
        assert_eq!(from_json.rules().len(), from_toml.rules().len());
        assert_eq!(
            format!("{from_json:?}"),
            format!("{from_toml:?}"),
            "rules/default.json differs from rules/default.toml: run testdata/rules/generate.py"
        );
    }
}
