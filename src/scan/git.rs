//! The git target of a scan: which history, index or work tree, and gitleaks' `--log-opts`.

use std::path::PathBuf;

use super::RunError;
use crate::source::git::GitScanOptions;

/// What to scan in a git repository.
#[derive(Debug, Clone)]
pub struct GitTarget {
    /// The repository (a work tree, any directory inside one, or a bare repository).
    pub repo: PathBuf,
    /// Revisions and ranges (`A..B`, `A...B`, `REV`, `^REV`); empty = every ref.
    pub revs: Vec<String>,
    /// Only commits after this revision (`REV..HEAD`, or `^REV` added to `revs`).
    pub since_commit: Option<String>,
    /// Scan the staged changes (index against `HEAD`) instead of history.
    pub staged: bool,
    /// Scan the uncommitted changes of tracked files (work tree against `HEAD`).
    pub uncommitted: bool,
    /// One finding per (rule, secret, file) with the earliest commit and `CommitCount`.
    /// `None` = the CLI's default: deduplicate scans of all refs only.
    pub dedup: Option<bool>,
    /// Further options of the history scan (streaming threshold, tuning). The fields set
    /// above, the request's limits and its progress flag override the same fields here.
    pub options: GitScanOptions,
}

impl GitTarget {
    /// All refs of the repository at `repo`, with default options.
    pub fn new(repo: impl Into<PathBuf>) -> Self {
        GitTarget {
            repo: repo.into(),
            revs: Vec::new(),
            since_commit: None,
            staged: false,
            uncommitted: false,
            dedup: None,
            options: GitScanOptions::default(),
        }
    }

    /// Whether history is scanned (not the index or the work tree).
    pub fn is_history(&self) -> bool {
        !self.staged && !self.uncommitted
    }

    /// Whether every ref is scanned (history, no revisions, no `since_commit`).
    pub fn is_all_refs(&self) -> bool {
        self.is_history() && self.revs.is_empty() && self.since_commit.is_none()
    }

    /// Whether findings are deduplicated: `dedup`, else for all-refs scans.
    pub fn dedups(&self) -> bool {
        self.dedup.unwrap_or_else(|| self.is_all_refs())
    }

    /// Replace `revs` with the revisions of a gitleaks `--log-opts` string.
    pub fn with_log_opts(mut self, text: &str) -> Result<Self, RunError> {
        self.revs = parse_log_opts(text).map_err(RunError::LogOpts)?;
        Ok(self)
    }
}

/// The revisions named by a gitleaks `--log-opts` string (empty = all refs), or an error naming
/// the first unsupported option. Supported: revisions and ranges (`A..B`, `A...B`, `REV`,
/// `^REV`), `--all`, and the no-ops `--full-history`, `-p`/`--patch`, `-U0`.
pub fn parse_log_opts(text: &str) -> Result<Vec<String>, LogOptsError> {
    let mut revs = Vec::new();
    let mut all = false;
    for tok in text.split_whitespace() {
        match tok {
            "--all" => all = true,
            "--full-history" | "-p" | "--patch" | "-U0" | "--unified=0" => {}
            "--" => return Err(LogOptsError::PathLimiting),
            t if t.starts_with('-') => return Err(LogOptsError::Unsupported(t.to_string())),
            t => revs.push(t.to_string()),
        }
    }
    if all && !revs.is_empty() {
        return Err(LogOptsError::AllWithRevisions(revs));
    }
    Ok(revs)
}

/// A gitleaks `--log-opts` string that asks for something the scanner does not do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogOptsError {
    /// `-- PATH`: path limiting.
    #[error("path limiting (`-- PATH`) is not supported; scan the whole history or use --range")]
    PathLimiting,
    /// An option other than the supported ones (named as given).
    #[error(
        "unsupported git-log option {0:?} (supported: revisions and ranges such as A..B, A...B, ^REV, and --all)"
    )]
    Unsupported(String),
    /// `--all` together with revisions (listed).
    #[error(
        "--all cannot be combined with revisions ({}); use --all alone or the revisions alone",
        .0.join(" ")
    )]
    AllWithRevisions(Vec<String>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_opts_subset() {
        assert_eq!(parse_log_opts("--all"), Ok(vec![]));
        assert_eq!(parse_log_opts(""), Ok(vec![]));
        assert_eq!(
            parse_log_opts(" -p --full-history  main..feature ^old "),
            Ok(vec!["main..feature".to_string(), "^old".to_string()])
        );
        assert_eq!(
            parse_log_opts("--since=2024-01-01"),
            Err(LogOptsError::Unsupported("--since=2024-01-01".into()))
        );
        assert_eq!(
            parse_log_opts("HEAD -- src"),
            Err(LogOptsError::PathLimiting)
        );
        assert_eq!(
            parse_log_opts("--all main ^old"),
            Err(LogOptsError::AllWithRevisions(vec![
                "main".into(),
                "^old".into()
            ]))
        );
        assert_eq!(
            LogOptsError::AllWithRevisions(vec!["main".into(), "^old".into()]).to_string(),
            "--all cannot be combined with revisions (main ^old); use --all alone or the \
             revisions alone"
        );
        assert!(
            LogOptsError::Unsupported("--since=x".into())
                .to_string()
                .starts_with("unsupported git-log option \"--since=x\" (supported: ")
        );
    }

    #[test]
    fn log_opts_error_names_the_flag() {
        let e = GitTarget::new(".").with_log_opts("--author=x").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("--log-opts: unsupported git-log option")
        );
    }

    #[test]
    fn dedup_defaults_to_all_refs_scans_only() {
        let mut t = GitTarget::new(".");
        assert!(t.dedups());
        t.revs.push("main..feature".into());
        assert!(!t.dedups());
        t.dedup = Some(true);
        assert!(t.dedups());
    }
}
