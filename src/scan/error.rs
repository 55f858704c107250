//! Why a scan could not run at all (as opposed to problems met while scanning, which are
//! collected in [`ScanReport::errors`](super::ScanReport::errors)).

use std::path::PathBuf;

use crate::rules::ConfigError;
use crate::source::git::GitError;

/// A scan that could not start or could not read its target. Each renders as one line naming
/// the file or option at fault (the CLI prints it after `portcullis: error: ` and exits 2).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The target path does not exist or cannot be examined.
    #[error("{}: cannot scan: {source}", path.display())]
    Target {
        /// The path given as target.
        path: PathBuf,
        /// Why it cannot be examined.
        #[source]
        source: std::io::Error,
    },
    /// The configuration, an ignore file or the baseline could not be loaded.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An explicit `.gitleaksignore` path does not exist.
    #[error("{}: no such file or directory (--gitleaks-ignore-path)", path.display())]
    MissingIgnorePath {
        /// The path given.
        path: PathBuf,
    },
    /// The baseline path is not a file.
    #[error("{}: no such file (--baseline-path)", path.display())]
    MissingBaseline {
        /// The path given.
        path: PathBuf,
    },
    /// A git-log option string (`--log-opts`) asks for something the scanner does not do.
    #[error("--log-opts: {0}")]
    LogOpts(#[source] super::git::LogOptsError),
    /// The repository could not be opened, or the revisions could not be resolved.
    #[error(transparent)]
    Git(#[from] GitError),
}
