//! OSV records (JSON or the PyPA YAML encoding): parsing into [`Advisory`] values, and the
//! directory / zip loaders.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Advisory, Affected, LoadError, OsvAffected, OsvEvent, OsvRange, Wanted};
use crate::audit::{Ecosystem, FindingKind};

/// Informational kind (if any) and affected entries of one package in one record.
type PackageEntries = (Option<Option<FindingKind>>, Vec<OsvAffected>);

/// Result of loading a source.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Advisories.
    pub advisories: Vec<Advisory>,
    /// Newest `modified` date seen (a proxy for the snapshot date).
    pub newest_date: Option<String>,
    /// Non-fatal notes.
    pub warnings: Vec<String>,
    /// Records that could not be read (the source is then reported degraded).
    pub errors: Vec<String>,
    /// Ecosystems the source holds advisories for (all records, before any filtering).
    pub ecosystems: BTreeSet<Ecosystem>,
}

impl Loaded {
    /// Turn record errors into a source error (advisories already loaded are kept by callers).
    pub fn error_summary(&self) -> Option<String> {
        let first = self.errors.first()?;
        Some(if self.errors.len() == 1 {
            first.clone()
        } else {
            format!(
                "{first} (and {} more unreadable records)",
                self.errors.len() - 1
            )
        })
    }
}

/// CVSS vector → qualitative severity (`low`, `medium`, `high`, `critical`, `none`), using the
/// CVSS parser the rustsec crate already carries (through its `Metadata` type).
pub fn cvss_severity(vector: &str) -> Option<String> {
    if !vector.starts_with("CVSS:") || vector.contains('"') {
        return None;
    }
    let doc = format!(
        "id = \"RUSTSEC-0000-0000\"\npackage = \"x\"\ndate = \"2000-01-01\"\ncvss = \"{vector}\"\n"
    );
    let meta: rustsec::advisory::Metadata = toml::from_str(&doc).ok()?;
    meta.cvss.map(|c| c.severity().to_string())
}

fn severity_of(doc: &Value) -> Option<String> {
    let from_vectors = |v: &Value| {
        v.get("severity")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("score").and_then(Value::as_str))
            .find_map(cvss_severity)
    };
    if let Some(s) = from_vectors(doc) {
        return Some(s);
    }
    if let Some(s) = doc
        .get("affected")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(from_vectors)
    {
        return Some(s);
    }
    let ds = doc
        .get("database_specific")
        .and_then(|d| d.get("severity"))
        .and_then(Value::as_str)?;
    Some(match ds.to_ascii_lowercase().as_str() {
        "moderate" => "medium".to_string(),
        other => other.to_string(),
    })
}

fn informational_kind(v: Option<&Value>) -> Option<Option<FindingKind>> {
    let s = v?.get("informational")?.as_str()?;
    Some(match s {
        "unmaintained" => Some(FindingKind::Unmaintained),
        "unsound" => Some(FindingKind::Unsound),
        "notice" => Some(FindingKind::Notice),
        _ => None,
    })
}

fn value_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Why an OSV document is not a usable record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRecord {
    /// No `id` string.
    #[error("missing `id`")]
    MissingId,
    /// No `affected` list.
    #[error("missing `affected`")]
    MissingAffected,
    /// A range event whose version is not a string.
    #[error("{id}: event {event} is not a string")]
    EventNotString {
        /// The advisory id.
        id: String,
        /// The event (`introduced`, `fixed`, ...).
        event: String,
    },
}

/// Parse one OSV document into advisories, one per (ecosystem, package) it names.
/// Unknown ecosystems are skipped; `GIT` ranges are dropped (not evaluable offline).
pub fn parse_record(doc: &Value) -> Result<Vec<Advisory>, InvalidRecord> {
    let id = doc
        .get("id")
        .and_then(Value::as_str)
        .ok_or(InvalidRecord::MissingId)?
        .to_string();
    let aliases: Vec<String> = doc
        .get("aliases")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str().map(str::to_string))
        .collect();
    let withdrawn = doc.get("withdrawn").is_some_and(|w| !w.is_null());
    let summary = doc
        .get("summary")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().to_string())
        .or_else(|| {
            doc.get("details").and_then(Value::as_str).map(|d| {
                let line = d.trim().lines().next().unwrap_or("").trim();
                let mut s: String = line.chars().take(160).collect();
                if line.chars().count() > 160 {
                    s.push('…');
                }
                s
            })
        })
        .unwrap_or_default();
    let severity = severity_of(doc);
    let own_page = doc
        .get("database_specific")
        .and_then(|d| d.get("url"))
        .and_then(Value::as_str)
        .filter(|u| u.starts_with("https://"))
        .map(str::to_string);
    let url = own_page.or_else(|| {
        doc.get("references")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|r| matches!(r.get("type").and_then(Value::as_str), Some("ADVISORY")))
            .or_else(|| {
                doc.get("references")
                    .and_then(Value::as_array)
                    .and_then(|r| r.first())
            })
            .and_then(|r| r.get("url").and_then(Value::as_str))
            .map(str::to_string)
    });
    let top_kind = informational_kind(doc.get("database_specific"));
    let affected = doc
        .get("affected")
        .and_then(Value::as_array)
        .ok_or(InvalidRecord::MissingAffected)?;
    let mut per_package: BTreeMap<(Ecosystem, String), PackageEntries> = BTreeMap::new();
    for a in affected {
        let Some(pkg) = a.get("package") else {
            continue;
        };
        let (Some(eco), Some(name)) = (
            pkg.get("ecosystem").and_then(Value::as_str),
            pkg.get("name").and_then(Value::as_str),
        ) else {
            continue;
        };
        let Some(eco) = Ecosystem::from_osv(eco) else {
            continue;
        };
        let mut ranges = Vec::new();
        for r in a
            .get("ranges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let kind = r.get("type").and_then(Value::as_str).unwrap_or("");
            if kind != "SEMVER" && kind != "ECOSYSTEM" {
                continue;
            }
            let mut events = Vec::new();
            for e in r
                .get("events")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(obj) = e.as_object() else { continue };
                for (k, v) in obj {
                    let Some(v) = value_str(v) else {
                        return Err(InvalidRecord::EventNotString {
                            id: id.clone(),
                            event: k.clone(),
                        });
                    };
                    events.push(match k.as_str() {
                        "introduced" => OsvEvent::Introduced(v),
                        "fixed" => OsvEvent::Fixed(v),
                        "last_affected" => OsvEvent::LastAffected(v),
                        "limit" => OsvEvent::Limit(v),
                        _ => continue,
                    });
                }
            }
            ranges.push(OsvRange {
                kind: kind.to_string(),
                events,
            });
        }
        let versions: Vec<String> = a
            .get("versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(value_str)
            .collect();
        let kind = informational_kind(a.get("database_specific")).or(top_kind);
        let entry = per_package
            .entry((eco, eco.normalize_name(name)))
            .or_insert((kind, Vec::new()));
        entry.1.push(OsvAffected { ranges, versions });
    }
    Ok(per_package
        .into_iter()
        .filter_map(|((eco, package), (kind, entries))| {
            let kind = match kind {
                None => FindingKind::Vulnerability,
                Some(Some(k)) => k,
                Some(None) => return None, // informational "other": never reported
            };
            Some(Advisory {
                id: id.clone(),
                aliases: aliases.clone(),
                ecosystem: eco,
                package,
                kind,
                withdrawn,
                summary: summary.clone(),
                severity: severity.clone(),
                url: url.clone(),
                affected: Affected::Osv { entries },
                source_name: String::new(),
            })
        })
        .collect())
}

/// The record's `modified` time; the `0001-01-01` placeholder of unstamped files is no date.
fn modified_of(doc: &Value) -> Option<String> {
    doc.get("modified")
        .and_then(Value::as_str)
        .filter(|m| !m.starts_with("0001-"))
        .map(str::to_string)
}

/// Why one record file could not be used (listed in [`Loaded::errors`], naming the file).
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file could not be read.
    #[error(transparent)]
    Read(std::io::Error),
    /// YAML syntax.
    #[error(transparent)]
    Yaml(serde_norway::Error),
    /// JSON syntax.
    #[error(transparent)]
    Json(serde_json::Error),
    /// The document is not a usable OSV record.
    #[error(transparent)]
    Invalid(#[from] InvalidRecord),
}

fn absorb(out: &mut Loaded, origin: &str, doc: Result<Value, RecordError>) {
    match doc.and_then(|d| {
        let m = modified_of(&d);
        parse_record(&d)
            .map(|a| (a, m))
            .map_err(RecordError::Invalid)
    }) {
        Ok((advs, modified)) => {
            if let Some(m) = modified
                && out.newest_date.as_ref().is_none_or(|n| m > *n)
            {
                out.newest_date = Some(m);
            }
            out.ecosystems.extend(advs.iter().map(|a| a.ecosystem));
            out.advisories.extend(advs);
        }
        Err(e) => out.errors.push(format!("{origin}: {e}")),
    }
}

/// Parse a YAML OSV document.
pub fn yaml_to_value(text: &str) -> Result<Value, serde_norway::Error> {
    serde_norway::from_str::<Value>(text)
}

/// Load the PyPA layout (`vulns/<package>/*.yaml`), only the wanted PyPI packages; a directory
/// of YAML files without package sub-directories is loaded whole.
pub fn load_yaml_dir_wanted(path: &Path, wanted: &Wanted) -> Result<Loaded, LoadError> {
    let root = if path.join("vulns").is_dir() {
        path.join("vulns")
    } else {
        path.to_path_buf()
    };
    let names: BTreeSet<&str> = wanted
        .iter()
        .filter(|(e, _)| *e == Ecosystem::PyPI)
        .map(|(_, n)| n.as_str())
        .collect();
    let mut out = Loaded::default();
    let rd = std::fs::read_dir(&root).map_err(|source| LoadError::Io {
        path: root.clone(),
        source,
    })?;
    let mut files: Vec<PathBuf> = Vec::new();
    let entries: Vec<std::fs::DirEntry> = rd.flatten().collect();
    if root != path && entries.iter().any(|e| e.path().is_dir()) {
        // The PyPA layout: one directory per PyPI package.
        out.ecosystems.insert(Ecosystem::PyPI);
    }
    for e in entries {
        let p = e.path();
        if p.is_dir() {
            let dn = e.file_name().to_string_lossy().to_string();
            if names.contains(crate::audit::lockfile::pep503_normalize(&dn).as_str())
                && let Ok(sub) = std::fs::read_dir(&p)
            {
                files.extend(sub.flatten().map(|f| f.path()));
            }
        } else {
            files.push(p);
        }
    }
    files.sort();
    for f in files {
        if !matches!(f.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            continue;
        }
        let origin = f.display().to_string();
        let doc = std::fs::read_to_string(&f)
            .map_err(RecordError::Read)
            .and_then(|t| yaml_to_value(&t).map_err(RecordError::Yaml));
        absorb(&mut out, &origin, doc);
    }
    Ok(out)
}

/// Load every YAML record below a directory (used by the snapshot builder).
pub fn load_yaml_dir_all(path: &Path) -> Result<Loaded, LoadError> {
    let mut out = Loaded::default();
    for f in walk_files(path)? {
        if matches!(f.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            let doc = std::fs::read_to_string(&f)
                .map_err(RecordError::Read)
                .and_then(|t| yaml_to_value(&t).map_err(RecordError::Yaml));
            absorb(&mut out, &f.display().to_string(), doc);
        }
    }
    Ok(out)
}

fn walk_files(root: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let rd = std::fs::read_dir(&d).map_err(|source| LoadError::Io {
            path: d.clone(),
            source,
        })?;
        for e in rd.flatten() {
            let p = e.path();
            if e.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Load every OSV JSON file below a directory.
pub fn load_json_dir(path: &Path) -> Result<Loaded, LoadError> {
    let mut out = Loaded::default();
    for f in walk_files(path)? {
        if f.extension().and_then(|e| e.to_str()) == Some("json") {
            let doc = std::fs::read(&f)
                .map_err(RecordError::Read)
                .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(RecordError::Json));
            absorb(&mut out, &f.display().to_string(), doc);
        }
    }
    Ok(out)
}

/// Load every OSV JSON entry of a zip (the `<ECOSYSTEM>/all.zip` export layout).
pub fn load_zip(path: &Path) -> Result<Loaded, LoadError> {
    let file = std::fs::File::open(path).map_err(LoadError::Open)?;
    let mut zip = zip::ZipArchive::new(file).map_err(LoadError::Zip)?;
    let mut out = Loaded::default();
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|source| LoadError::ZipEntry { index: i, source })?;
        if !entry.is_file() || !entry.name().ends_with(".json") {
            continue;
        }
        let origin = format!("{}!{}", path.display(), entry.name());
        let mut buf = Vec::with_capacity(entry.size() as usize);
        let doc = entry
            .read_to_end(&mut buf)
            .map_err(RecordError::Read)
            .and_then(|_| serde_json::from_slice::<Value>(&buf).map_err(RecordError::Json));
        absorb(&mut out, &origin, doc);
    }
    Ok(out)
}

/// Keep only advisories about wanted packages.
pub fn keep_wanted(mut loaded: Loaded, wanted: &Wanted) -> Loaded {
    loaded
        .advisories
        .retain(|a| wanted.contains(&(a.ecosystem, a.package.clone())));
    loaded
}
