//! The `db update` cache: fresh RustSec and OSV data downloaded into a directory that later
//! runs prefer over the embedded snapshot.
//!
//! Layout: `<dir>/portcullis-db.json` (metadata), `<dir>/rustsec/crates/...`,
//! `<dir>/osv/<ECOSYSTEM>.zip` (OSV `all.zip` exports). An update is written to a temporary
//! sibling directory and swapped in only when every download was read back successfully.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{LoadedSources, Wanted, osv, rustsec_dir};
use crate::audit::{AuditError, SourceInfo};

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
}

/// The cache metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheMeta {
    /// When the update finished (RFC 3339): the snapshot date of every cached source.
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
pub fn read_meta(dir: &Path) -> Result<CacheMeta, String> {
    let p = dir.join(META_FILE);
    let bytes = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", p.display()))
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
            date: Some(meta.updated.clone()),
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
            other => Err(format!("unknown cached source kind {other:?}")),
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
                out.index.extend(l.advisories);
                out.warnings.extend(l.warnings);
            }
            Err(e) => {
                info.ok = false;
                info.error = Some(e);
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
}

impl Default for UpdateOptions {
    fn default() -> Self {
        UpdateOptions {
            rustsec_url: DEFAULT_RUSTSEC_URL.into(),
            osv_export_url: DEFAULT_OSV_EXPORT_URL.into(),
            ecosystems: vec!["PyPI".into()],
            timeout: Duration::from_secs(300),
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

/// Extract `crates/`, `rust/` and licence files of a RustSec tarball (first path component
/// stripped) into `dest`; returns the commit named by the archive's pax comment, if any.
fn extract_rustsec(tarball: &[u8], dest: &Path) -> Result<Option<String>, String> {
    let gz = flate2::read::GzDecoder::new(tarball);
    let mut ar = tar::Archive::new(gz);
    let mut commit = None;
    for entry in ar.entries().map_err(|e| format!("not a tar.gz: {e}"))? {
        let mut entry = entry.map_err(|e| format!("bad tar entry: {e}"))?;
        if entry.header().entry_type() == tar::EntryType::XGlobalHeader {
            let mut buf = String::new();
            let _ = entry.read_to_string(&mut buf);
            for line in buf.lines() {
                if let Some(c) = line.split_once("comment=").map(|(_, c)| c.trim())
                    && c.len() == 40
                    && c.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    commit = Some(c.to_string());
                }
            }
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| format!("bad tar path: {e}"))?
            .into_owned();
        let rel: PathBuf = path.components().skip(1).collect();
        let keep = rel.starts_with("crates")
            || rel.starts_with("rust")
            || rel.to_string_lossy().starts_with("LICENSE");
        if !keep
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            continue;
        }
        let target = dest.join(&rel);
        if entry.header().entry_type().is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| e.to_string())?;
        } else if entry.header().entry_type().is_file() {
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            let mut data = Vec::new();
            entry.read_to_end(&mut data).map_err(|e| e.to_string())?;
            std::fs::write(&target, data).map_err(|e| e.to_string())?;
        }
    }
    Ok(commit)
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
    let mut sources = Vec::new();

    let tarball = download(&client, &opts.rustsec_url)?;
    let rs_dir = tmp.path().join("rustsec");
    let commit = extract_rustsec(&tarball, &rs_dir)
        .map_err(|e| AuditError::Other(format!("{}: {e}", opts.rustsec_url)))?;
    let check = rustsec_dir::load_all(&rs_dir).map_err(AuditError::Other)?;
    if let Some(e) = check.error_summary() {
        return Err(AuditError::Other(format!("{}: {e}", opts.rustsec_url)));
    }
    if check.advisories.is_empty() {
        return Err(AuditError::Other(format!(
            "{}: archive holds no RustSec advisories",
            opts.rustsec_url
        )));
    }
    sources.push(CachedSource {
        name: "rustsec".into(),
        kind: "rustsec-dir".into(),
        path: "rustsec".into(),
        url: opts.rustsec_url.clone(),
        commit,
        license: "CC0-1.0 (some advisories CC-BY-4.0)".into(),
    });

    let osv_dir = tmp.path().join("osv");
    std::fs::create_dir_all(&osv_dir).map_err(|source| AuditError::Io {
        path: osv_dir.clone(),
        source,
    })?;
    for eco in &opts.ecosystems {
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
        sources.push(CachedSource {
            name: format!("osv-{eco}"),
            kind: "osv-zip".into(),
            path: format!("osv/{eco}.zip"),
            url,
            commit: None,
            license: "CC-BY-4.0 (OSV data; per-record licences vary)".into(),
        });
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
