//! Configuration errors: one line each, naming the file and, where relevant, the rule id.

use std::fmt;
use std::path::PathBuf;

/// A configuration (or ignore/baseline file) could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// The file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The file is not valid TOML (or JSON, for baselines).
    Syntax {
        /// The file.
        path: PathBuf,
        /// Parser message, collapsed to one line.
        message: String,
    },
    /// A rule is invalid.
    Rule {
        /// The file.
        path: PathBuf,
        /// Rule id (may be empty when the id itself is missing).
        rule_id: String,
        /// What is wrong.
        message: String,
    },
    /// Any other problem with the file (global allowlists, `[extend]`, options).
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.render();
        // Always one line, whatever the parts contain.
        f.write_str(&text.replace(['\n', '\r'], " "))
    }
}

impl ConfigError {
    fn render(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let f = &mut out;
        let _ = match self {
            ConfigError::Io { path, message } => {
                write!(f, "{}: cannot read: {message}", path.display())
            }
            ConfigError::Syntax { path, message } => {
                write!(f, "{}: invalid syntax: {message}", path.display())
            }
            ConfigError::Rule {
                path,
                rule_id,
                message,
            } => {
                if rule_id.is_empty() {
                    write!(f, "{}: rule without id: {message}", path.display())
                } else {
                    write!(f, "{}: rule `{rule_id}`: {message}", path.display())
                }
            }
            ConfigError::Invalid { path, message } => write!(f, "{}: {message}", path.display()),
        };
        out
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    /// The file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            ConfigError::Io { path, .. }
            | ConfigError::Syntax { path, .. }
            | ConfigError::Rule { path, .. }
            | ConfigError::Invalid { path, .. } => path,
        }
    }
}
