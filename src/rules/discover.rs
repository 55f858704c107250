//! Which configuration applies to a scan.

use std::fmt;
use std::path::{Path, PathBuf};

use super::{Config, ConfigError};

/// Where the effective configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigOrigin {
    /// `--config PATH`.
    Explicit(PathBuf),
    /// `$PORTCULLIS_CONFIG`.
    EnvPortcullis(PathBuf),
    /// `$GITLEAKS_CONFIG`.
    EnvGitleaks(PathBuf),
    /// `$GITLEAKS_CONFIG_TOML` (TOML text in the environment).
    EnvGitleaksToml,
    /// `<target>/.gitleaks.toml`.
    Target(PathBuf),
    /// The embedded default ruleset.
    Embedded,
}

impl fmt::Display for ConfigOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigOrigin::Explicit(p) => write!(f, "{} (--config)", p.display()),
            ConfigOrigin::EnvPortcullis(p) => write!(f, "{} ($PORTCULLIS_CONFIG)", p.display()),
            ConfigOrigin::EnvGitleaks(p) => write!(f, "{} ($GITLEAKS_CONFIG)", p.display()),
            ConfigOrigin::EnvGitleaksToml => write!(f, "$GITLEAKS_CONFIG_TOML"),
            ConfigOrigin::Target(p) => write!(f, "{}", p.display()),
            ConfigOrigin::Embedded => write!(f, "embedded default rules"),
        }
    }
}

/// Name of the per-repository config file.
pub const TARGET_CONFIG_FILE: &str = ".gitleaks.toml";

/// Find and load the configuration for a scan of `target`: `--config`, then
/// `$PORTCULLIS_CONFIG`, `$GITLEAKS_CONFIG`, `$GITLEAKS_CONFIG_TOML`,
/// `<target>/.gitleaks.toml` (only when `target` is a directory), then the embedded default.
/// Empty environment variables are ignored.
pub fn discover_config(
    explicit: Option<&Path>,
    target: &Path,
) -> Result<(Config, ConfigOrigin), ConfigError> {
    if let Some(p) = explicit {
        return Ok((Config::load(p)?, ConfigOrigin::Explicit(p.to_path_buf())));
    }
    if let Some(p) = env_path("PORTCULLIS_CONFIG") {
        return Ok((Config::load(&p)?, ConfigOrigin::EnvPortcullis(p)));
    }
    if let Some(p) = env_path("GITLEAKS_CONFIG") {
        return Ok((Config::load(&p)?, ConfigOrigin::EnvGitleaks(p)));
    }
    if let Ok(text) = std::env::var("GITLEAKS_CONFIG_TOML")
        && !text.trim().is_empty()
    {
        let cfg = Config::from_toml_str(&text, Path::new("$GITLEAKS_CONFIG_TOML"))?;
        return Ok((cfg, ConfigOrigin::EnvGitleaksToml));
    }
    if target.is_dir() {
        let p = target.join(TARGET_CONFIG_FILE);
        if p.is_file() {
            return Ok((Config::load(&p)?, ConfigOrigin::Target(p)));
        }
    }
    Ok((Config::embedded_default(), ConfigOrigin::Embedded))
}

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}
