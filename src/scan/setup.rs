//! Choosing the configuration and loading `.gitleaksignore` files and the baseline, as the
//! `scan` commands (and gitleaks) do.

use std::path::{Path, PathBuf};

use super::RunError;
use crate::detect::Suppressions;
use crate::rules::{Config, ConfigOrigin, discover_config};

/// Which configuration a scan uses.
#[derive(Debug, Clone, Default)]
pub enum ConfigChoice {
    /// `$PORTCULLIS_CONFIG`, `$GITLEAKS_CONFIG`, `$GITLEAKS_CONFIG_TOML`,
    /// `<target>/.gitleaks.toml` (directory targets; the current directory for stdin), then
    /// the embedded default rules: the CLI without `--config`.
    #[default]
    Discover,
    /// This file (`--config`).
    Path(PathBuf),
    /// The embedded default rules, whatever the environment says.
    Embedded,
    /// A configuration the caller already loaded.
    Loaded(Box<Config>),
}

/// Which `.gitleaksignore` files and baseline suppress findings.
#[derive(Debug, Clone)]
pub enum SuppressionChoice {
    /// As the CLI and gitleaks: `ignore_path` (a file, or a directory holding
    /// `.gitleaksignore`; `None` = the current directory) plus `<target>/.gitleaksignore`,
    /// plus the findings of a previous JSON report (`baseline`).
    Discover {
        /// `--gitleaks-ignore-path`; an explicit path that does not exist is an error.
        ignore_path: Option<PathBuf>,
        /// `--baseline-path`; must be a file holding a JSON report.
        baseline: Option<PathBuf>,
    },
    /// Suppressions the caller already loaded.
    Given(Box<Suppressions>),
    /// Report every finding.
    None,
}

impl Default for SuppressionChoice {
    fn default() -> Self {
        SuppressionChoice::Discover {
            ignore_path: None,
            baseline: None,
        }
    }
}

impl SuppressionChoice {
    /// The baseline file, if one is named (gitleaks never scans it).
    pub fn baseline(&self) -> Option<&Path> {
        match self {
            SuppressionChoice::Discover { baseline, .. } => baseline.as_deref(),
            _ => None,
        }
    }
}

/// The configuration chosen for `target`, with where it came from (`None` = given by the
/// caller).
pub(super) fn load_config(
    choice: &ConfigChoice,
    target: &Path,
) -> Result<(Config, Option<ConfigOrigin>), RunError> {
    match choice {
        ConfigChoice::Discover => {
            let (c, o) = discover_config(None, target)?;
            Ok((c, Some(o)))
        }
        ConfigChoice::Path(p) => {
            let (c, o) = discover_config(Some(p), target)?;
            Ok((c, Some(o)))
        }
        ConfigChoice::Embedded => Ok((Config::embedded_default(), Some(ConfigOrigin::Embedded))),
        ConfigChoice::Loaded(c) => Ok(((**c).clone(), None)),
    }
}

/// Load the suppressions for a scan of `target`. An explicit ignore path that does not exist,
/// an unreadable file or a baseline that is not a JSON report is an error.
pub(super) fn load_suppressions(
    choice: &SuppressionChoice,
    target: &Path,
) -> Result<Suppressions, RunError> {
    let (ignore_path, baseline) = match choice {
        SuppressionChoice::Discover {
            ignore_path,
            baseline,
        } => (ignore_path, baseline),
        SuppressionChoice::Given(s) => return Ok((**s).clone()),
        SuppressionChoice::None => return Ok(Suppressions::default()),
    };
    let mut files = Vec::new();
    match ignore_path {
        Some(p) if !p.exists() => {
            return Err(RunError::MissingIgnorePath { path: p.clone() });
        }
        Some(p) => files.push(p.clone()),
        None => files.push(PathBuf::from(".")),
    }
    if target.is_dir() {
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        };
        if !files.iter().any(|f| same(f, target)) {
            files.push(target.to_path_buf());
        }
    }
    if let Some(b) = baseline
        && !b.is_file()
    {
        return Err(RunError::MissingBaseline { path: b.clone() });
    }
    Ok(Suppressions::load(&files, baseline.as_deref())?)
}
