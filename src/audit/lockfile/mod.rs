//! Lockfile discovery and parsing. Every parser returns all locked packages (development groups
//! marked), or an [`AuditError::Parse`] naming the file and, when known, the line.

mod cargo;
mod gosum;
mod npm;
mod pipfile;
mod python_toml;
mod requirements;

use std::path::{Path, PathBuf};

use super::{AuditError, Ecosystem};

/// Where a locked package comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PackageSource {
    /// The ecosystem's default registry (crates.io in either `registry+` or `sparse+` form,
    /// PyPI or any Python index, npmjs, the Go proxy).
    Registry,
    /// Another registry (for crates: its source URL, as written in Cargo.lock).
    OtherRegistry(String),
    /// A git checkout: never matched against registry advisories.
    Git,
    /// A local path, workspace member, editable or URL requirement: never matched.
    Local,
}

/// One locked package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPackage {
    /// Name as written.
    pub name: String,
    /// Locked version as written.
    pub version: String,
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Source.
    pub source: PackageSource,
    /// Development-only (where the lockfile records it).
    pub dev: bool,
}

/// Lockfile formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockFormat {
    /// `Cargo.lock` (v1–v4).
    Cargo,
    /// pip requirements files.
    Requirements,
    /// `poetry.lock`.
    Poetry,
    /// `Pipfile.lock`.
    Pipfile,
    /// `pdm.lock`.
    Pdm,
    /// `uv.lock`.
    Uv,
    /// `pylock.toml` / `pylock.*.toml` (PEP 751).
    Pylock,
    /// `package-lock.json` / `npm-shrinkwrap.json`.
    NpmLock,
    /// `go.sum`.
    GoSum,
}

impl LockFormat {
    /// Display name.
    pub fn as_str(self) -> &'static str {
        match self {
            LockFormat::Cargo => "Cargo.lock",
            LockFormat::Requirements => "requirements.txt",
            LockFormat::Poetry => "poetry.lock",
            LockFormat::Pipfile => "Pipfile.lock",
            LockFormat::Pdm => "pdm.lock",
            LockFormat::Uv => "uv.lock",
            LockFormat::Pylock => "pylock.toml",
            LockFormat::NpmLock => "package-lock.json",
            LockFormat::GoSum => "go.sum",
        }
    }

    /// Recognise a lockfile by its path (file name, and `requirements/` parent directories).
    pub fn detect(path: &Path) -> Option<LockFormat> {
        let name = path.file_name()?.to_str()?;
        let lower = name.to_ascii_lowercase();
        Some(match name {
            "Cargo.lock" => LockFormat::Cargo,
            "poetry.lock" => LockFormat::Poetry,
            "Pipfile.lock" => LockFormat::Pipfile,
            "pdm.lock" => LockFormat::Pdm,
            "uv.lock" => LockFormat::Uv,
            "pylock.toml" => LockFormat::Pylock,
            "package-lock.json" | "npm-shrinkwrap.json" => LockFormat::NpmLock,
            "go.sum" => LockFormat::GoSum,
            _ if name.starts_with("pylock.") && name.ends_with(".toml") => LockFormat::Pylock,
            _ if lower.ends_with(".txt")
                && (lower.starts_with("requirements")
                    || lower.ends_with("requirements.txt")
                    || lower.starts_with("constraints")
                    || path
                        .parent()
                        .and_then(|p| p.file_name())
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n == "requirements")) =>
            {
                LockFormat::Requirements
            }
            _ => return None,
        })
    }
}

/// A parsed lockfile.
#[derive(Debug, Clone)]
pub struct ParsedLockfile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Path as shown in reports.
    pub display: String,
    /// Format.
    pub format: LockFormat,
    /// Packages (after `--no-dev`), de-duplicated by (name, version, source).
    pub packages: Vec<LockedPackage>,
    /// Non-fatal notes (unpinned requirements, skipped URL requirements, ...).
    pub warnings: Vec<String>,
}

/// Reads files for parsers that follow includes (`-r` in requirements files).
pub trait FileReader {
    /// Read the whole file at `path`.
    fn read(&self, path: &Path) -> Result<Vec<u8>, AuditError>;
}

/// Reads from the file system.
pub struct FsReader;

impl FileReader for FsReader {
    fn read(&self, path: &Path) -> Result<Vec<u8>, AuditError> {
        std::fs::read(path).map_err(|source| AuditError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Directory names never searched for lockfiles (dependencies, build output, VCS metadata).
pub const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "target",
    "node_modules",
    ".venv",
    "venv",
    "__pycache__",
    ".tox",
    ".nox",
    "site-packages",
    "dist",
    "build",
    ".mypy_cache",
    ".pytest_cache",
    "vendor",
    ".cargo",
];

/// Is this directory name skipped when searching for lockfiles?
pub fn is_skipped_dir(name: &str) -> bool {
    SKIPPED_DIRS.contains(&name)
}

/// Parse a lockfile of the given format from bytes; `path` is used for errors and includes.
pub fn parse_bytes(
    format: LockFormat,
    path: &Path,
    display: &str,
    bytes: &[u8],
    reader: &dyn FileReader,
    no_dev: bool,
) -> Result<ParsedLockfile, AuditError> {
    let text = std::str::from_utf8(bytes).map_err(|e| AuditError::Parse {
        file: path.to_path_buf(),
        line: Some(line_of_offset(bytes, e.valid_up_to())),
        message: "not valid UTF-8".into(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut warnings = Vec::new();
    let packages = match format {
        LockFormat::Cargo => cargo::parse(path, text)?,
        LockFormat::Requirements => requirements::parse(path, text, reader, &mut warnings)?,
        LockFormat::Poetry => python_toml::parse_poetry(path, text)?,
        LockFormat::Pdm => python_toml::parse_pdm(path, text)?,
        LockFormat::Uv => python_toml::parse_uv(path, text, no_dev)?,
        LockFormat::Pylock => python_toml::parse_pylock(path, text)?,
        LockFormat::Pipfile => pipfile::parse(path, text, &mut warnings)?,
        LockFormat::NpmLock => npm::parse(path, text)?,
        LockFormat::GoSum => gosum::parse(path, text)?,
    };
    let mut seen = std::collections::HashSet::new();
    let packages: Vec<LockedPackage> = packages
        .into_iter()
        .filter(|p| !(no_dev && p.dev))
        .filter(|p| seen.insert((p.name.clone(), p.version.clone(), p.source.clone())))
        .collect();
    let warnings = warnings
        .into_iter()
        .map(|w| {
            if w.starts_with(&path.display().to_string()) {
                w
            } else {
                format!("{display}: {w}")
            }
        })
        .collect();
    Ok(ParsedLockfile {
        path: path.to_path_buf(),
        display: display.to_string(),
        format,
        packages,
        warnings,
    })
}

/// Parse one lockfile from disk (format from its name; unknown `*.txt` files are requirements).
pub fn load_file(path: &Path, display: &str, no_dev: bool) -> Result<ParsedLockfile, AuditError> {
    let format = LockFormat::detect(path)
        .or_else(|| {
            (path.extension().and_then(|e| e.to_str()) == Some("txt"))
                .then_some(LockFormat::Requirements)
        })
        .ok_or_else(|| AuditError::Parse {
            file: path.to_path_buf(),
            line: None,
            message: "not a recognised lockfile (Cargo.lock, requirements*.txt, poetry.lock, \
                      Pipfile.lock, pdm.lock, uv.lock, pylock.toml, package-lock.json, go.sum)"
                .into(),
        })?;
    let bytes = FsReader.read(path)?;
    parse_bytes(format, path, display, &bytes, &FsReader, no_dev)
}

/// Find lockfiles below `dir` (skipping [`SKIPPED_DIRS`] and hidden directories), sorted.
pub fn discover(dir: &Path) -> Result<Vec<PathBuf>, AuditError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|source| AuditError::Io {
            path: d.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| AuditError::Io {
                path: d.clone(),
                source,
            })?;
            let ft = match entry.file_type() {
                Ok(ft) => ft,
                Err(_) => continue,
            };
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if ft.is_dir() {
                if !is_skipped_dir(&name) && !name.starts_with('.') {
                    stack.push(entry.path());
                }
            } else if ft.is_file() && LockFormat::detect(&entry.path()).is_some() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Load the lockfile at `path`, or every lockfile found below the directory `path`.
pub fn load_path(path: &Path, no_dev: bool) -> Result<Vec<ParsedLockfile>, AuditError> {
    let meta = std::fs::metadata(path).map_err(|source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        let mut out = Vec::new();
        for file in discover(path)? {
            let display = file
                .strip_prefix(path)
                .unwrap_or(&file)
                .to_string_lossy()
                .replace('\\', "/");
            out.push(load_file(&file, &display, no_dev)?);
        }
        Ok(out)
    } else {
        load_file(path, &path.to_string_lossy(), no_dev).map(|l| vec![l])
    }
}

/// PEP 503 name normalisation: lower case, runs of `-`, `_`, `.` become one `-`.
pub fn pep503_normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut last_sep = false;
    for c in name.trim().chars() {
        if c == '-' || c == '_' || c == '.' {
            if !last_sep {
                out.push('-');
            }
            last_sep = true;
        } else {
            out.push(c.to_ascii_lowercase());
            last_sep = false;
        }
    }
    out
}

/// 1-based line number of a byte offset.
pub(crate) fn line_of_offset(bytes: &[u8], offset: usize) -> usize {
    let end = offset.min(bytes.len());
    bytes[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

/// Turn a TOML error into a parse error with a line number.
pub(crate) fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> AuditError {
    let line = e.span().map(|s| line_of_offset(text.as_bytes(), s.start));
    AuditError::Parse {
        file: path.to_path_buf(),
        line,
        message: e.message().to_string(),
    }
}

/// A parse error without a position.
pub(crate) fn parse_error(
    path: &Path,
    line: Option<usize>,
    message: impl Into<String>,
) -> AuditError {
    AuditError::Parse {
        file: path.to_path_buf(),
        line,
        message: message.into(),
    }
}

/// Turn a JSON error into a parse error with a line number.
pub(crate) fn json_error(path: &Path, e: &serde_json::Error) -> AuditError {
    AuditError::Parse {
        file: path.to_path_buf(),
        line: Some(e.line()),
        message: e.to_string(),
    }
}
