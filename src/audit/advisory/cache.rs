//! The `db update` cache: fresh RustSec and OSV data downloaded into a directory that later
//! runs prefer over the embedded snapshot.
//!
//! Layout: `<dir>/portcullis-db.json` (metadata), `<dir>/rustsec/crates/...`,
//! `<dir>/osv/<ECOSYSTEM>.zip` (OSV `all.zip` exports). An update is written to a temporary
//! sibling directory and swapped in only when every download was read back successfully, holds
//! advisories, and does not hold far fewer than the cache it replaces (unless forced);
//! otherwise the previous cache stays. Ecosystems not downloaded this time are carried over
//! from the previous cache. Each source is dated by its own data (newest `modified` of the OSV
//! records, commit time of the RustSec archive), never by the download time.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::rustsec_archive::extract_rustsec;
use super::{LoadError, LoadedSources, Wanted, osv, parse_date, rustsec_dir};
use crate::audit::{AuditError, Ecosystem, SourceInfo};

/// Largest accepted drop, in percent, of a source's advisory count against the cache an update
/// replaces; a larger drop is refused unless `--force`.
pub const MAX_DROP_PERCENT: usize = 25;

/// Metadata file name inside a cache directory.
pub const META_FILE: &str = "portcullis-db.json";

/// Default RustSec archive URL (a tarball of the advisory-db `main` branch).
pub const DEFAULT_RUSTSEC_URL: &str =
    "https://github.com/rustsec/advisory-db/archive/refs/heads/main.tar.gz";

/// Default OSV export base URL (`<base>/<ECOSYSTEM>/all.zip`).
pub const DEFAULT_OSV_EXPORT_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";

/// One cached source.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedSource {
    /// `rustsec` or `osv-<ECOSYSTEM>`.
    pub name: String,
    /// `rustsec-dir` or `osv-zip`.
    pub kind: String,
    /// Path relative to the cache directory.
    pub path: String,
    /// Where it was downloaded from.
    pub url: String,
    /// Upstream commit when the archive names it.
    #[serde(default)]
    pub commit: Option<String>,
    /// Licence of the data.
    pub license: String,
    /// Date of the data itself (RFC 3339): the newest `modified` of the OSV records, or the
    /// commit time of the RustSec archive. `None` when the data names none.
    #[serde(default)]
    pub date: Option<String>,
    /// Number of advisories (compared by the next update).
    #[serde(default)]
    pub advisories: Option<usize>,
    /// Ecosystems the data covers.
    #[serde(default)]
    pub ecosystems: Vec<Ecosystem>,
}

/// The cache metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheMeta {
    /// When the last update finished (RFC 3339). Not the date of the data: see
    /// [`CachedSource::date`].
    pub updated: String,
    /// Sources.
    pub sources: Vec<CachedSource>,
}

/// The cache directory: `explicit`, else `$PORTCULLIS_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/portcullis/advisory-db`, else `~/.cache/portcullis/advisory-db`.
pub fn db_dir(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("PORTCULLIS_CACHE_DIR").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if let Some(p) = std::env::var_os("XDG_CACHE_HOME").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p).join("portcullis").join("advisory-db"));
    }
    std::env::var_os("HOME").filter(|p| !p.is_empty()).map(|h| {
        PathBuf::from(h)
            .join(".cache")
            .join("portcullis")
            .join("advisory-db")
    })
}

/// Read a cache's metadata.
pub fn read_meta(dir: &Path) -> Result<CacheMeta, LoadError> {
    let p = dir.join(META_FILE);
    let bytes = std::fs::read(&p).map_err(|source| LoadError::Io {
        path: p.clone(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| LoadError::Json { path: p, source })
}

/// Load the wanted packages from a cache directory.
pub fn load_cache(dir: &Path, wanted: &Wanted, out: &mut LoadedSources) {
    let meta = match read_meta(dir) {
        Ok(m) => m,
        Err(e) => {
            out.infos
                .push(SourceInfo::new("cache", "cache", dir.display().to_string()).failed(e));
            return;
        }
    };
    for s in &meta.sources {
        let path = dir.join(&s.path);
        let mut info = SourceInfo {
            commit: s.commit.clone(),
            date: s.date.clone(),
            license: Some(s.license.clone()),
            ..SourceInfo::new(
                s.name.clone(),
                format!("cache:{}", s.kind),
                path.display().to_string(),
            )
        };
        let loaded = match s.kind.as_str() {
            "rustsec-dir" => rustsec_dir::load_wanted(&path, wanted),
            "osv-zip" => osv::load_zip(&path).map(|l| osv::keep_wanted(l, wanted)),
            other => Err(LoadError::UnknownKind(other.to_string())),
        };
        match loaded {
            Ok(mut l) => {
                if let Some(e) = l.error_summary() {
                    info.ok = false;
                    info.error = Some(e);
                }
                for a in &mut l.advisories {
                    a.source_name = s.name.clone();
                }
                info.ecosystems = l.ecosystems.iter().copied().collect();
                if info.date.is_none() && s.kind == "osv-zip" {
                    info.date = l.newest_date.clone();
                }
                out.index.extend(l.advisories);
                out.warnings.extend(l.warnings);
            }
            Err(e) => {
                info.ok = false;
                info.error = Some(e.to_string());
            }
        }
        out.infos.push(info);
    }
}

/// What `db update` downloads.
#[derive(Debug, Clone)]
pub struct UpdateOptions {
    /// RustSec tarball URL (`.tar.gz` of the advisory-db repository).
    pub rustsec_url: String,
    /// OSV export base URL.
    pub osv_export_url: String,
    /// OSV ecosystems to download (`PyPI`, ...).
    pub ecosystems: Vec<String>,
    /// Timeout per download.
    pub timeout: Duration,
    /// Accept an update that holds far fewer advisories than the cache it replaces.
    pub force: bool,
}

impl Default for UpdateOptions {
    fn default() -> Self {
        UpdateOptions {
            rustsec_url: DEFAULT_RUSTSEC_URL.into(),
            osv_export_url: DEFAULT_OSV_EXPORT_URL.into(),
            ecosystems: DEFAULT_ECOSYSTEMS.iter().map(|e| e.to_string()).collect(),
            timeout: Duration::from_secs(300),
            force: false,
        }
    }
}

fn download(client: &reqwest::blocking::Client, url: &str) -> Result<Vec<u8>, AuditError> {
    let resp = client
        .get(url)
        .send()
        .map_err(|e| AuditError::Other(format!("download {url}: {e}")))?;
    if !resp.status().is_success() {
        return Err(AuditError::Other(format!(
            "download {url}: HTTP {}",
            resp.status()
        )));
    }
    let bytes = resp
        .bytes()
        .map_err(|e| AuditError::Other(format!("download {url}: {e}")))?;
    Ok(bytes.to_vec())
}

/// OSV ecosystems `db update` downloads by default.
pub const DEFAULT_ECOSYSTEMS: &[&str] = &["PyPI", "Go"];

/// The later of two dates (either may be missing or unparsable).
fn later(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => match (parse_date(&a), parse_date(&b)) {
            (Some(x), Some(y)) if y > x => Some(b),
            (Some(_), _) => Some(a),
            (None, _) => Some(b),
        },
        (a, b) => a.or(b),
    }
}

/// Advisory count of a source in the cache being replaced (from its metadata, else counted).
fn previous_count(dir: &Path, s: &CachedSource) -> Option<usize> {
    if let Some(n) = s.advisories {
        return Some(n);
    }
    let path = dir.join(&s.path);
    match s.kind.as_str() {
        "rustsec-dir" => rustsec_dir::load_all(&path)
            .ok()
            .map(|l| l.advisories.len()),
        "osv-zip" => osv::load_zip(&path).ok().map(|l| l.advisories.len()),
        _ => None,
    }
}

/// Refuse a large drop against the previous cache unless forced.
fn check_drop(
    what: &str,
    new: usize,
    previous: Option<usize>,
    force: bool,
) -> Result<(), AuditError> {
    match previous {
        Some(old) if !force && new * 100 < old * (100 - MAX_DROP_PERCENT) => {
            Err(AuditError::Other(format!(
                "{what}: {new} advisories where the cache holds {old} (a drop of more than \
                 {MAX_DROP_PERCENT}%); the previous cache is kept (use --force to accept it)"
            )))
        }
        _ => Ok(()),
    }
}

/// Is this relative cache path safe to join below a cache directory?
fn plain_relative(p: &str) -> bool {
    let p = Path::new(p);
    !p.as_os_str().is_empty()
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// Download fresh data into `dir` (atomically replacing what is there).
pub fn update(dir: &Path, opts: &UpdateOptions) -> Result<CacheMeta, AuditError> {
    let client = reqwest::blocking::Client::builder()
        .timeout(opts.timeout)
        .connect_timeout(opts.timeout.min(Duration::from_secs(30)))
        .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| AuditError::Other(format!("http client: {e}")))?;
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|source| AuditError::Io {
        path: parent.to_path_buf(),
        source,
    })?;
    let tmp = tempfile::Builder::new()
        .prefix(".portcullis-db-update-")
        .tempdir_in(parent)
        .map_err(|source| AuditError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    let previous = read_meta(dir).ok();
    let previous_source = |name: &str| {
        previous
            .as_ref()
            .and_then(|m| m.sources.iter().find(|s| s.name == name))
    };
    let mut sources = Vec::new();

    let tarball = download(&client, &opts.rustsec_url)?;
    let rs_dir = tmp.path().join("rustsec");
    let (commit, mtime) =
        extract_rustsec(&tarball, &rs_dir).map_err(|source| AuditError::RustsecArchive {
            url: opts.rustsec_url.clone(),
            source,
        })?;
    let check = rustsec_dir::load_all(&rs_dir).map_err(|e| AuditError::Other(e.to_string()))?;
    if let Some(e) = check.error_summary() {
        return Err(AuditError::Other(format!("{}: {e}", opts.rustsec_url)));
    }
    if check.advisories.is_empty() {
        return Err(AuditError::Other(format!(
            "{}: archive holds no RustSec advisories; the previous cache is kept",
            opts.rustsec_url
        )));
    }
    check_drop(
        &opts.rustsec_url,
        check.advisories.len(),
        previous_source("rustsec").and_then(|s| previous_count(dir, s)),
        opts.force,
    )?;
    let archive_time = mtime
        .and_then(|t| jiff::Timestamp::from_second(t as i64).ok())
        .map(|t| t.to_string());
    sources.push(CachedSource {
        name: "rustsec".into(),
        kind: "rustsec-dir".into(),
        path: "rustsec".into(),
        url: opts.rustsec_url.clone(),
        commit,
        license: "CC0-1.0 (some advisories CC-BY-4.0)".into(),
        date: later(archive_time, check.newest_date.clone()),
        advisories: Some(check.advisories.len()),
        ecosystems: vec![Ecosystem::CratesIo],
    });

    let osv_dir = tmp.path().join("osv");
    std::fs::create_dir_all(&osv_dir).map_err(|source| AuditError::Io {
        path: osv_dir.clone(),
        source,
    })?;
    for eco in &opts.ecosystems {
        let Some(ecosystem) = Ecosystem::from_osv(eco) else {
            return Err(AuditError::Other(format!(
                "--ecosystem {eco}: not an ecosystem portcullis audits (crates.io, PyPI, npm, Go)"
            )));
        };
        let url = format!(
            "{}/{}/all.zip",
            opts.osv_export_url.trim_end_matches('/'),
            eco
        );
        let bytes = download(&client, &url)?;
        let file = osv_dir.join(format!("{eco}.zip"));
        std::fs::write(&file, &bytes).map_err(|source| AuditError::Io {
            path: file.clone(),
            source,
        })?;
        let check = osv::load_zip(&file).map_err(|e| AuditError::Other(format!("{url}: {e}")))?;
        if let Some(e) = check.error_summary() {
            return Err(AuditError::Other(format!("{url}: {e}")));
        }
        let usable = check
            .advisories
            .iter()
            .filter(|a| a.ecosystem == ecosystem)
            .count();
        if usable == 0 {
            return Err(AuditError::Other(format!(
                "{url}: the archive holds no advisories for {eco}; the previous cache is kept"
            )));
        }
        let name = format!("osv-{eco}");
        check_drop(
            &url,
            check.advisories.len(),
            previous_source(&name).and_then(|s| previous_count(dir, s)),
            opts.force,
        )?;
        sources.push(CachedSource {
            name,
            kind: "osv-zip".into(),
            path: format!("osv/{eco}.zip"),
            url,
            commit: None,
            license: "CC-BY-4.0 (OSV data; per-record licences vary)".into(),
            date: check.newest_date.clone(),
            advisories: Some(check.advisories.len()),
            ecosystems: check.ecosystems.iter().copied().collect(),
        });
    }
    // Carry over what this update did not download (`--ecosystem npm` keeps PyPI).
    if let Some(prev) = &previous {
        for s in &prev.sources {
            if sources.iter().any(|n| n.name == s.name) {
                continue;
            }
            if !plain_relative(&s.path) {
                return Err(AuditError::Other(format!(
                    "{}: source {} has an unsafe path {:?}",
                    dir.join(META_FILE).display(),
                    s.name,
                    s.path
                )));
            }
            let (from, to) = (dir.join(&s.path), tmp.path().join(&s.path));
            if !from.is_file() {
                return Err(AuditError::Other(format!(
                    "{}: cached source {} is missing; run `db update` with every ecosystem",
                    from.display(),
                    s.name
                )));
            }
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|source| AuditError::Io {
                    path: parent.to_path_buf(),
                    source,
                })?;
            }
            std::fs::copy(&from, &to).map_err(|source| AuditError::Io {
                path: from.clone(),
                source,
            })?;
            sources.push(s.clone());
        }
    }
    let meta = CacheMeta {
        updated: jiff::Timestamp::now().to_string(),
        sources,
    };
    let meta_json =
        serde_json::to_vec_pretty(&meta).map_err(|e| AuditError::Other(e.to_string()))?;
    std::fs::write(tmp.path().join(META_FILE), meta_json).map_err(|source| AuditError::Io {
        path: tmp.path().join(META_FILE),
        source,
    })?;
    // Swap in: move the old cache aside, move the new one in, then delete the old one.
    let staged = tmp.keep();
    let old = parent.join(format!(".portcullis-db-old-{}", std::process::id()));
    let had_old = dir.exists();
    if had_old {
        std::fs::rename(dir, &old).map_err(|source| AuditError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    if let Err(source) = std::fs::rename(&staged, dir) {
        if had_old {
            let _ = std::fs::rename(&old, dir);
        }
        let _ = std::fs::remove_dir_all(&staged);
        return Err(AuditError::Io {
            path: dir.to_path_buf(),
            source,
        });
    }
    if had_old {
        let _ = std::fs::remove_dir_all(&old);
    }
    Ok(meta)
}
