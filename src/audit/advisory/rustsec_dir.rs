//! RustSec advisory-db directories (`crates/<crate>/RUSTSEC-*.md`), parsed by the `rustsec`
//! crate. Only the `crates/` collection applies to `Cargo.lock` (as in cargo-audit).

use std::path::{Path, PathBuf};

use rustsec::advisory::Informational;

use super::osv::Loaded;
use super::{Advisory, Affected, LoadError, Wanted};
use crate::audit::{Ecosystem, FindingKind};

/// Convert a parsed RustSec advisory; `None` for informational kinds cargo-audit never reports.
pub fn convert(a: &rustsec::Advisory) -> Option<Advisory> {
    let kind = match &a.metadata.informational {
        None => FindingKind::Vulnerability,
        Some(Informational::Unmaintained) => FindingKind::Unmaintained,
        Some(Informational::Unsound) => FindingKind::Unsound,
        Some(Informational::Notice) => FindingKind::Notice,
        Some(_) => return None,
    };
    let id = a.metadata.id.to_string();
    Some(Advisory {
        url: Some(
            a.metadata
                .url
                .as_ref()
                .map(|u| u.to_string())
                .unwrap_or_else(|| format!("https://rustsec.org/advisories/{id}.html")),
        ),
        aliases: a.metadata.aliases.iter().map(|x| x.to_string()).collect(),
        ecosystem: Ecosystem::CratesIo,
        package: a.metadata.package.as_str().to_string(),
        kind,
        withdrawn: a.metadata.withdrawn.is_some(),
        summary: a.metadata.title.trim().to_string(),
        severity: a.severity().map(|s| s.to_string()),
        affected: Affected::Rustsec {
            versions: a.versions.clone(),
            source: a
                .metadata
                .source
                .as_ref()
                .filter(|s| !s.is_default_registry())
                .map(|s| s.to_string()),
        },
        id,
        source_name: String::new(),
    })
}

fn load_files(files: Vec<PathBuf>, out: &mut Loaded) {
    for f in files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with('.') || !name.ends_with(".md") || rustsec::Advisory::is_draft(&f) {
            continue;
        }
        match rustsec::Advisory::load_file(&f) {
            Ok(a) => {
                let date = a.metadata.date.as_str().to_string();
                if out.newest_date.as_ref().is_none_or(|n| date > *n) {
                    out.newest_date = Some(date);
                }
                out.advisories.extend(convert(&a));
            }
            Err(e) => out.errors.push(format!("{}: {e}", f.display())),
        }
    }
}

fn crate_dir_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// Load the advisories of the wanted crates only (`crates/<name>/`).
pub fn load_wanted(path: &Path, wanted: &Wanted) -> Result<Loaded, LoadError> {
    let crates = path.join("crates");
    if !crates.is_dir() {
        return Err(LoadError::NoCrates(path.to_path_buf()));
    }
    let mut out = Loaded::default();
    if std::fs::read_dir(&crates).is_ok_and(|mut rd| rd.next().is_some()) {
        out.ecosystems.insert(Ecosystem::CratesIo);
    }
    for (eco, name) in wanted {
        if *eco != Ecosystem::CratesIo || name.contains(['/', '\\']) || name.starts_with('.') {
            continue;
        }
        let dir = crates.join(name);
        if dir.is_dir() {
            load_files(crate_dir_files(&dir), &mut out);
        }
    }
    // The RustSec layout names no snapshot date; the newest advisory date of the wanted crates
    // is not one either, so leave it unknown unless the caller finds a git commit.
    out.newest_date = None;
    Ok(out)
}

/// Load every advisory of the `crates/` collection (snapshot builder, `db update`).
pub fn load_all(path: &Path) -> Result<Loaded, LoadError> {
    let crates = path.join("crates");
    let rd = std::fs::read_dir(&crates).map_err(|source| LoadError::Io {
        path: crates.clone(),
        source,
    })?;
    let mut dirs: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut out = Loaded::default();
    for d in dirs {
        load_files(crate_dir_files(&d), &mut out);
    }
    if !out.advisories.is_empty() {
        out.ecosystems.insert(Ecosystem::CratesIo);
    }
    Ok(out)
}
