//! Errors of the git history source. Every variant names the repository and, where one is
//! involved, the revision or object, so the one-line CLI message is actionable.

use std::path::PathBuf;

/// A failure that stops a git scan before it produces a report.
///
/// Problems with individual objects met during a scan (a missing blob, a corrupt tree) do not
/// stop the scan: they are collected in [`super::GitScanReport::errors`].
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The path is not a git repository or cannot be opened.
    #[error("cannot open git repository {repo}: {message}")]
    Open {
        /// Repository path as given.
        repo: PathBuf,
        /// Underlying error.
        message: String,
    },
    /// A revision or range could not be resolved.
    #[error("cannot resolve revision '{rev}' in {repo}: {message}")]
    Rev {
        /// Repository path as given.
        repo: PathBuf,
        /// The revision text.
        rev: String,
        /// Underlying error.
        message: String,
    },
    /// Two revisions have no common ancestor.
    #[error("no merge base between '{a}' and '{b}' in {repo}{why}")]
    NoMergeBase {
        /// Repository path as given.
        repo: PathBuf,
        /// First revision.
        a: String,
        /// Second revision.
        b: String,
        /// Why, starting with `: ` (a shallow clone cut off the common ancestor, or unrelated
        /// histories).
        why: String,
    },
    /// Walking the commit graph or reading references failed.
    #[error("cannot walk history of {repo}: {message}")]
    Walk {
        /// Repository path as given.
        repo: PathBuf,
        /// Underlying error (names the commit when known).
        message: String,
    },
    /// The index or work tree could not be read (`--staged`, `--uncommitted`).
    #[error("cannot read {what} of {repo}: {message}")]
    Worktree {
        /// Repository path as given.
        repo: PathBuf,
        /// "index", "work tree" or "HEAD".
        what: &'static str,
        /// Underlying error.
        message: String,
    },
    /// Contradictory options.
    #[error("invalid git scan options: {0}")]
    Options(String),
    /// The caller set the interrupt flag: the scan stopped early and is incomplete.
    #[error("git scan of {repo} interrupted during {phase}: the scan is incomplete")]
    Interrupted {
        /// Repository path as given.
        repo: PathBuf,
        /// The phase that was running or about to start.
        phase: &'static str,
    },
    /// A bug: the code of a phase panicked. The scan is not complete and its results are
    /// not used.
    #[error("internal error in the {phase} phase of the git scan of {repo}: {message}")]
    Panic {
        /// Repository path as given.
        repo: PathBuf,
        /// The phase that panicked.
        phase: &'static str,
        /// The panic message.
        message: String,
    },
}
