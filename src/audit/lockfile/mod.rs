//! Lockfile discovery and parsing. Every parser returns all locked packages (development groups
//! marked), or an [`AuditError::Parse`] naming the file and, when known, the line.

mod cargo;
mod gomod;
mod gosum;
mod npm;
mod pipfile;
mod python_toml;
mod requirements;

use std::path::{Path, PathBuf};

pub use gomod::{GoModError, STDLIB as GO_STDLIB, go_version_to_semver};

use super::{AuditError, Ecosystem, NotAudited};

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
    /// `go.sum`: read only to check it is one; its versions are not audited (see [`LockFormat::GoMod`]).
    GoSum,
    /// `go.mod`: the module versions a Go build uses, and the standard library version.
    GoMod,
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
            LockFormat::GoMod => "go.mod",
        }
    }

    /// The ecosystem of the packages the format locks.
    pub fn ecosystem(self) -> Ecosystem {
        match self {
            LockFormat::Cargo => Ecosystem::CratesIo,
            LockFormat::Requirements
            | LockFormat::Poetry
            | LockFormat::Pipfile
            | LockFormat::Pdm
            | LockFormat::Uv
            | LockFormat::Pylock => Ecosystem::PyPI,
            LockFormat::NpmLock => Ecosystem::Npm,
            LockFormat::GoSum | LockFormat::GoMod => Ecosystem::Go,
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
            "go.mod" => LockFormat::GoMod,
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
        LockFormat::GoMod => gomod::parse(path, text, &mut warnings)?,
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

/// Lockfile names of package managers portcullis has no parser for: found in directory mode,
/// they are listed as not audited instead of being passed over.
pub const UNSUPPORTED_LOCKFILES: &[&str] = &[
    "yarn.lock",
    "pnpm-lock.yaml",
    "bun.lock",
    "bun.lockb",
    "deno.lock",
    "Gemfile.lock",
    "gems.locked",
    "composer.lock",
    "gradle.lockfile",
    "buildscript-gradle.lockfile",
    "pubspec.lock",
    "mix.lock",
    "renv.lock",
    "packages.lock.json",
    "conan.lock",
    "cabal.project.freeze",
    "stack.yaml.lock",
    "Package.resolved",
    "Podfile.lock",
    "Cartfile.resolved",
    "paket.lock",
    "shard.lock",
];

/// Is this the name of a lockfile kind portcullis cannot audit?
pub fn is_unsupported_lockfile(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| UNSUPPORTED_LOCKFILES.contains(&n))
}

/// Lockfiles found by [`load_path`]: the parsed ones and the ones that cannot be audited.
#[derive(Debug, Clone, Default)]
pub struct LoadedLockfiles {
    /// Parsed lockfiles.
    pub lockfiles: Vec<ParsedLockfile>,
    /// Lockfiles found but not audited (unsupported kind, `go.sum` without `go.mod`,
    /// symlinks leaving the audited directory, ...).
    pub not_audited: Vec<NotAudited>,
}

/// Why `go.sum` alone is never audited.
pub const GO_SUM_ALONE: &str = "go.sum without a go.mod beside it: go.sum also lists module \
     versions that are never built, so only go.mod is audited";

/// The result of reading one lockfile path.
enum FileOutcome {
    Parsed(ParsedLockfile),
    NotAudited(NotAudited),
}

fn not_audited(display: &str, format: Option<LockFormat>, reason: impl Into<String>) -> NotAudited {
    NotAudited {
        path: display.to_string(),
        format: format.map(|f| f.as_str().to_string()),
        ecosystem: format.map(LockFormat::ecosystem),
        reason: reason.into(),
    }
}

/// Refuse anything that is not a regular file (directories, FIFOs, devices, sockets) before
/// opening it: reading a FIFO would block, a device may never end.
fn require_regular_file(path: &Path) -> Result<(), AuditError> {
    let meta = std::fs::metadata(path).map_err(|source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_file() {
        return Ok(());
    }
    let what = if meta.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    };
    Err(parse_error(path, None, format!("{what}, not a lockfile")))
}

/// Parse one lockfile from disk (format from its name; unknown `*.txt` files are requirements).
/// A `go.sum` is checked and then stands for the `go.mod` beside it; without one it is not
/// audited ([`GO_SUM_ALONE`]).
fn load_one(path: &Path, display: &str, no_dev: bool) -> Result<FileOutcome, AuditError> {
    let format = LockFormat::detect(path)
        .or_else(|| {
            (path.extension().and_then(|e| e.to_str()) == Some("txt"))
                .then_some(LockFormat::Requirements)
        })
        .ok_or_else(|| AuditError::Parse {
            file: path.to_path_buf(),
            line: None,
            message: "not a recognised lockfile (Cargo.lock, requirements*.txt, poetry.lock, \
                      Pipfile.lock, pdm.lock, uv.lock, pylock.toml, package-lock.json, go.mod, go.sum)"
                .into(),
        })?;
    require_regular_file(path)?;
    let bytes = FsReader.read(path)?;
    let parsed = parse_bytes(format, path, display, &bytes, &FsReader, no_dev)?;
    if format != LockFormat::GoSum {
        return Ok(FileOutcome::Parsed(parsed));
    }
    let gomod = path.with_file_name("go.mod");
    if gomod.is_file() {
        let shown = match display.strip_suffix("go.sum") {
            Some(prefix) => format!("{prefix}go.mod"),
            None => gomod.to_string_lossy().into_owned(),
        };
        let bytes = FsReader.read(&gomod)?;
        return parse_bytes(LockFormat::GoMod, &gomod, &shown, &bytes, &FsReader, no_dev)
            .map(FileOutcome::Parsed);
    }
    Ok(FileOutcome::NotAudited(not_audited(
        display,
        Some(format),
        GO_SUM_ALONE,
    )))
}

/// Parse one lockfile from disk (format from its name; unknown `*.txt` files are requirements).
/// A lone `go.sum` is an error here: use [`load_path`], which reports it as not audited.
pub fn load_file(path: &Path, display: &str, no_dev: bool) -> Result<ParsedLockfile, AuditError> {
    match load_one(path, display, no_dev)? {
        FileOutcome::Parsed(p) => Ok(p),
        FileOutcome::NotAudited(n) => Err(parse_error(path, None, n.reason)),
    }
}

/// What directory mode found below a directory.
#[derive(Debug, Default)]
pub struct Discovered {
    /// Lockfiles to parse, sorted.
    pub files: Vec<PathBuf>,
    /// Lockfiles that cannot be audited, with the path relative to the directory.
    pub not_audited: Vec<NotAudited>,
}

fn relative(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Find lockfiles below `dir` (skipping [`SKIPPED_DIRS`] and hidden directories), sorted.
/// Symlinked lockfiles are followed when they resolve to a regular file inside `dir`; symlinked
/// directories are not entered. Lockfiles that cannot be audited (unsupported kinds, symlinks
/// leaving `dir`, non-regular files) are listed in [`Discovered::not_audited`].
pub fn discover(dir: &Path) -> Result<Discovered, AuditError> {
    let root = std::fs::canonicalize(dir).map_err(|source| AuditError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out = Discovered::default();
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
            let Ok(ft) = entry.file_type() else {
                continue;
            };
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let path = entry.path();
            if ft.is_dir() {
                if !is_skipped_dir(&name) && !name.starts_with('.') {
                    stack.push(path);
                }
                continue;
            }
            let supported = LockFormat::detect(&path);
            let unsupported = is_unsupported_lockfile(&path);
            if supported.is_none() && !unsupported {
                continue;
            }
            let shown = relative(dir, &path);
            if ft.is_symlink() {
                match std::fs::canonicalize(&path) {
                    Err(e) => out.not_audited.push(not_audited(
                        &shown,
                        supported,
                        format!("symlink that cannot be followed: {e}"),
                    )),
                    Ok(target) if !target.starts_with(&root) => out.not_audited.push(not_audited(
                        &shown,
                        supported,
                        "symlink to a file outside the audited directory (not followed)",
                    )),
                    Ok(target) if target.is_dir() => {}
                    Ok(target) if !target.is_file() => out.not_audited.push(not_audited(
                        &shown,
                        supported,
                        "symlink to something that is not a regular file",
                    )),
                    Ok(_) if unsupported => out.not_audited.push(not_audited(
                        &shown,
                        None,
                        format!("unsupported lockfile kind ({name}): no parser"),
                    )),
                    Ok(_) => out.files.push(path),
                }
            } else if !ft.is_file() {
                out.not_audited
                    .push(not_audited(&shown, supported, "not a regular file"));
            } else if unsupported {
                out.not_audited.push(not_audited(
                    &shown,
                    None,
                    format!("unsupported lockfile kind ({name}): no parser"),
                ));
            } else {
                out.files.push(path);
            }
        }
    }
    // A go.sum beside a go.mod is that module's checksum file: the go.mod is audited.
    let gomods: std::collections::HashSet<PathBuf> = out
        .files
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n == "go.mod"))
        .cloned()
        .collect();
    out.files.retain(|f| {
        !(f.file_name().is_some_and(|n| n == "go.sum")
            && gomods.contains(&f.with_file_name("go.mod")))
    });
    out.files.sort();
    out.not_audited.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Load the lockfile at `path`, or every lockfile found below the directory `path`.
/// A path that names a lockfile but is a directory, FIFO, device or socket is an error.
pub fn load_path(path: &Path, no_dev: bool) -> Result<LoadedLockfiles, AuditError> {
    let meta = std::fs::metadata(path).map_err(|source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = LoadedLockfiles::default();
    if meta.is_dir() {
        if LockFormat::detect(path).is_some() || is_unsupported_lockfile(path) {
            return Err(parse_error(
                path,
                None,
                "a directory, not a lockfile (pass the directory that holds the lockfile)",
            ));
        }
        let found = discover(path)?;
        out.not_audited = found.not_audited;
        for file in found.files {
            let display = relative(path, &file);
            match load_one(&file, &display, no_dev)? {
                FileOutcome::Parsed(p) => out.lockfiles.push(p),
                FileOutcome::NotAudited(n) => out.not_audited.push(n),
            }
        }
    } else {
        match load_one(path, &path.to_string_lossy(), no_dev)? {
            FileOutcome::Parsed(p) => out.lockfiles.push(p),
            FileOutcome::NotAudited(n) => out.not_audited.push(n),
        }
    }
    Ok(out)
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
