//! Advisory model and sources. Every source loads only the advisories of the packages being
//! audited where its layout allows it (RustSec `crates/<name>/`, PyPA `vulns/<name>/`, the
//! embedded snapshot's per-package chunks), and everything ends up in an [`AdvisoryIndex`] keyed
//! by (ecosystem, normalised package name).

pub mod cache;
pub mod online;
pub mod osv;
mod rustsec_archive;
pub mod rustsec_dir;
pub mod snapshot;

pub use rustsec_archive::RustsecArchiveError;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::lockfile::{LockedPackage, PackageSource};
use super::{
    AuditError, AuditOptions, Ecosystem, FindingKind, MAX_SNAPSHOT_AGE_DAYS, STALE_AFTER_DAYS,
    SourceInfo,
};

/// One OSV range event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OsvEvent {
    /// First affected version (`"0"` = everything before).
    Introduced(String),
    /// First fixed version (exclusive end).
    Fixed(String),
    /// Last affected version (inclusive end).
    LastAffected(String),
    /// Upper limit (`"*"` = none).
    Limit(String),
}

/// One evaluable OSV range (`SEMVER` or `ECOSYSTEM`; `GIT` ranges are dropped on load).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsvRange {
    /// `SEMVER` or `ECOSYSTEM`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Events in file order.
    pub events: Vec<OsvEvent>,
}

/// One OSV `affected[]` entry for the package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsvAffected {
    /// Evaluable ranges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<OsvRange>,
    /// Explicitly listed affected versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
}

/// How an advisory decides whether a version is affected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Affected {
    /// RustSec `[versions]` (patched / unaffected requirements), evaluated by the rustsec crate.
    Rustsec {
        /// Patched and unaffected requirements.
        versions: rustsec::advisory::Versions,
        /// Non-crates.io source the advisory is about (`None` = crates.io).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<String>,
    },
    /// OSV `affected[]` entries naming the package.
    Osv {
        /// The entries.
        entries: Vec<OsvAffected>,
    },
}

/// One advisory about one package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advisory {
    /// Id (RUSTSEC-…, PYSEC-…, GHSA-…).
    pub id: String,
    /// Aliases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Ecosystem.
    pub ecosystem: Ecosystem,
    /// Package name (normalised for the ecosystem).
    pub package: String,
    /// Vulnerability or informational kind.
    pub kind: FindingKind,
    /// Withdrawn advisories are kept but never matched.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withdrawn: bool,
    /// One-line summary.
    pub summary: String,
    /// Qualitative severity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Affected versions.
    pub affected: Affected,
    /// Name of the source it was loaded from (set on load).
    #[serde(skip)]
    pub source_name: String,
}

/// The (ecosystem, normalised name) pairs an audit needs.
pub type Wanted = BTreeSet<(Ecosystem, String)>;

/// Advisories indexed by (ecosystem, normalised package name).
#[derive(Debug, Default)]
pub struct AdvisoryIndex {
    map: HashMap<(Ecosystem, String), Vec<Arc<Advisory>>>,
}

impl AdvisoryIndex {
    /// Add advisories.
    pub fn extend(&mut self, advisories: impl IntoIterator<Item = Advisory>) {
        for a in advisories {
            self.map
                .entry((a.ecosystem, a.package.clone()))
                .or_default()
                .push(Arc::new(a));
        }
    }

    /// Advisories for a package (name normalised here).
    pub fn lookup(&self, eco: Ecosystem, name: &str) -> &[Arc<Advisory>] {
        self.map
            .get(&(eco, eco.normalize_name(name)))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Number of advisories indexed.
    pub fn len(&self) -> usize {
        self.map.values().map(Vec::len).sum()
    }

    /// `true` when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// Everything loaded for one run.
#[derive(Debug, Default)]
pub struct LoadedSources {
    /// The index.
    pub index: AdvisoryIndex,
    /// The sources attempted.
    pub infos: Vec<SourceInfo>,
    /// Warnings (stale snapshots, unknown dates).
    pub warnings: Vec<String>,
}

/// Layout of a `--db` path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// RustSec advisory-db checkout (`crates/<name>/RUSTSEC-*.md`).
    RustsecDir,
    /// PyPA advisory-database (`vulns/<name>/*.yaml`) or any directory of OSV YAML files.
    PypaDir,
    /// Directory of OSV JSON files.
    OsvDir,
    /// Zip of OSV JSON files (`all.zip` exports).
    OsvZip,
    /// A `db update` cache directory.
    Cache,
}

/// Detect the layout of a `--db` path.
pub fn detect_layout(path: &Path) -> Result<Layout, AuditError> {
    let err = |m: &str| AuditError::Source {
        path: path.to_path_buf(),
        message: m.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(|e| err(&format!("cannot read: {e}")))?;
    if meta.is_file() {
        return match path.extension().and_then(|e| e.to_str()) {
            Some("zip") => Ok(Layout::OsvZip),
            _ => Err(err(
                "not an advisory database (expected a directory or an OSV .zip)",
            )),
        };
    }
    if path.join(cache::META_FILE).is_file() {
        return Ok(Layout::Cache);
    }
    if path.join("crates").is_dir() {
        return Ok(Layout::RustsecDir);
    }
    if path.join("vulns").is_dir() {
        return Ok(Layout::PypaDir);
    }
    // A parent of several databases is a usage error, not an empty database.
    let nested: Vec<String> = std::fs::read_dir(path)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().join("crates").is_dir() || e.path().join("vulns").is_dir())
                .map(|e| e.path().display().to_string())
                .collect()
        })
        .unwrap_or_default();
    if !nested.is_empty() {
        return Err(err(&format!(
            "holds several advisory databases; pass each with --db: {}",
            nested.join(", ")
        )));
    }
    // Look at the first few files to decide between OSV JSON and YAML.
    let mut stack = vec![path.to_path_buf()];
    let mut budget = 10_000;
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            budget -= 1;
            if budget == 0 {
                break;
            }
            let p = e.path();
            if p.is_dir() {
                if !e.file_name().to_string_lossy().starts_with('.') {
                    stack.push(p);
                }
                continue;
            }
            match p.extension().and_then(|e| e.to_str()) {
                Some("json") => return Ok(Layout::OsvDir),
                Some("yaml") | Some("yml") => return Ok(Layout::PypaDir),
                _ => {}
            }
        }
    }
    Err(err(
        "advisory database layout not recognised (RustSec crates/, PyPA vulns/, OSV .json/.yaml files or .zip)",
    ))
}

/// The set of packages worth looking up (registry packages only).
pub fn wanted(packages: &[&LockedPackage]) -> Wanted {
    packages
        .iter()
        .filter(|p| {
            matches!(
                p.source,
                PackageSource::Registry | PackageSource::OtherRegistry(_)
            )
        })
        .map(|p| (p.ecosystem, p.ecosystem.normalize_name(&p.name)))
        .collect()
}

fn tag(mut advisories: Vec<Advisory>, name: &str) -> Vec<Advisory> {
    for a in &mut advisories {
        a.source_name = name.to_string();
    }
    advisories
}

/// Load one `--db` path (layout detected) into `out`.
fn load_db_path(path: &Path, wanted: &Wanted, out: &mut LoadedSources) -> Result<(), AuditError> {
    let layout = detect_layout(path)?;
    let (name, kind) = match layout {
        Layout::RustsecDir => ("rustsec", "rustsec-dir"),
        Layout::PypaDir => ("pypa", "pypa-dir"),
        Layout::OsvDir => ("osv", "osv-dir"),
        Layout::OsvZip => ("osv", "osv-zip"),
        Layout::Cache => {
            cache::load_cache(path, wanted, out);
            return Ok(());
        }
    };
    let mut info = SourceInfo::new(name, kind, path.display().to_string());
    let git = git_info(path);
    if let Some((commit, date)) = git {
        info.commit = Some(commit);
        info.date = Some(date);
    }
    let result = match layout {
        Layout::RustsecDir => rustsec_dir::load_wanted(path, wanted),
        Layout::PypaDir => osv::load_yaml_dir_wanted(path, wanted),
        Layout::OsvDir => osv::load_json_dir(path).map(|a| osv::keep_wanted(a, wanted)),
        Layout::OsvZip => osv::load_zip(path).map(|a| osv::keep_wanted(a, wanted)),
        Layout::Cache => unreachable_cache(),
    };
    match result {
        Ok(loaded) => {
            if let Some(e) = loaded.error_summary() {
                info.ok = false;
                info.error = Some(e);
            }
            info.ecosystems = loaded.ecosystems.iter().copied().collect();
            out.index.extend(tag(loaded.advisories, name));
            if info.date.is_none() {
                info.date = loaded.newest_date;
            }
            out.warnings.extend(loaded.warnings);
            out.infos.push(info);
        }
        Err(e) => out.infos.push(info.failed(e)),
    }
    Ok(())
}

fn unreachable_cache() -> Result<osv::Loaded, LoadError> {
    Err(LoadError::CacheLayout)
}

/// Why an advisory source (a directory, a zip, a cache) could not be loaded at all. Problems
/// with single records do not stop a load: they are listed in the loaded source's errors.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file or directory could not be read; the message names it.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The source file could not be opened (the caller names it).
    #[error(transparent)]
    Open(std::io::Error),
    /// The file is not a zip archive.
    #[error("not a valid zip: {0}")]
    Zip(#[source] zip::result::ZipError),
    /// An entry of the zip could not be read.
    #[error("zip entry {index}: {source}")]
    ZipEntry {
        /// The entry's index.
        index: usize,
        /// What went wrong.
        #[source]
        source: zip::result::ZipError,
    },
    /// A RustSec directory without `crates/`.
    #[error("{}: no crates/ directory", .0.display())]
    NoCrates(std::path::PathBuf),
    /// A JSON file (cache metadata) that does not parse.
    #[error("{}: {source}", path.display())]
    Json {
        /// The file.
        path: std::path::PathBuf,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A cache lists a source of a kind this version cannot read.
    #[error("unknown cached source kind {0:?}")]
    UnknownKind(String),
    /// The cache layout was passed to the loader of single sources.
    #[error("cache layout handled separately")]
    CacheLayout,
}

/// Commit id and commit date (RFC 3339) of a source directory that is a git checkout.
fn git_info(path: &Path) -> Option<(String, String)> {
    if !path.join(".git").exists() {
        return None;
    }
    let repo = gix::open(path).ok()?;
    let commit = repo.head_commit().ok()?;
    let time = commit.time().ok()?;
    let ts = jiff::Timestamp::from_second(time.seconds).ok()?;
    Some((commit.id.to_string(), ts.to_string()))
}

/// Load every source an audit uses: `--db` paths, else the cache (if present), else the
/// embedded snapshot; plus the OSV API with `--online`.
pub fn load_sources(
    packages: &[&LockedPackage],
    opts: &AuditOptions,
) -> Result<LoadedSources, AuditError> {
    let wanted = wanted(packages);
    let mut out = LoadedSources::default();
    if !opts.dbs.is_empty() {
        for db in &opts.dbs {
            load_db_path(db, &wanted, &mut out)?;
        }
    } else {
        let cache_dir = if opts.no_cache {
            None
        } else {
            cache::db_dir(opts.cache_dir.as_deref())
        };
        match cache_dir {
            Some(dir) if dir.join(cache::META_FILE).is_file() => {
                cache::load_cache(&dir, &wanted, &mut out);
                // Ecosystems the cache has no data for fall back to the embedded snapshot.
                let covered: BTreeSet<Ecosystem> = out
                    .infos
                    .iter()
                    .filter(|s| s.ok)
                    .flat_map(|s| s.ecosystems.iter().copied())
                    .collect();
                let missing: BTreeSet<Ecosystem> = wanted
                    .iter()
                    .map(|(e, _)| *e)
                    .filter(|e| !covered.contains(e))
                    .collect();
                if !missing.is_empty() {
                    snapshot::load_embedded_for(&wanted, &missing, &mut out);
                }
            }
            _ => snapshot::load_embedded(&wanted, &mut out),
        }
    }
    if opts.online {
        online::query(packages, opts, &mut out);
    }
    let now = jiff::Timestamp::now();
    for info in &mut out.infos {
        if !info.ok || info.kind == "osv-api" {
            continue;
        }
        // The embedded snapshot and the update cache must be fresh; `--db` data is the
        // caller's choice and only warned about.
        let snapshot = info.kind == "embedded" || info.kind.starts_with("cache:");
        match info.date.as_deref().and_then(parse_date) {
            Some(ts) => {
                let days = (now.as_second() - ts.as_second()) / 86_400;
                if snapshot && days > MAX_SNAPSHOT_AGE_DAYS {
                    info.stale = true;
                    out.warnings.push(format!(
                        "DEGRADED: advisory source {} ({}) is {days} days old (snapshot {}), older than {MAX_SNAPSHOT_AGE_DAYS} days; run `portcullis db update` or pass a fresher --db",
                        info.name,
                        info.location,
                        info.date.as_deref().unwrap_or("?")
                    ));
                } else if days > STALE_AFTER_DAYS {
                    out.warnings.push(format!(
                        "advisory source {} ({}) is {days} days old (snapshot {}); run `portcullis db update` or pass a fresher --db",
                        info.name,
                        info.location,
                        info.date.as_deref().unwrap_or("?")
                    ));
                }
            }
            None if snapshot => {
                info.stale = true;
                out.warnings.push(format!(
                    "DEGRADED: advisory source {} ({}) has no known snapshot date; its age cannot be checked",
                    info.name, info.location
                ));
            }
            None => out.warnings.push(format!(
                "advisory source {} ({}) has no known snapshot date; its age cannot be checked",
                info.name, info.location
            )),
        }
    }
    Ok(out)
}

/// Parse `YYYY-MM-DD` or an RFC 3339 timestamp.
pub fn parse_date(s: &str) -> Option<jiff::Timestamp> {
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Some(ts);
    }
    let d: jiff::civil::Date = s.get(..10)?.parse().ok()?;
    d.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}
