//! TOML-based Python lockfiles: `poetry.lock`, `pdm.lock`, `uv.lock`, `pylock.toml` (PEP 751).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::Deserialize;

use super::{LockedPackage, PackageSource, toml_error};
use crate::audit::{AuditError, Ecosystem};

fn pypi(name: String, version: String, source: PackageSource, dev: bool) -> LockedPackage {
    LockedPackage {
        name,
        version,
        ecosystem: Ecosystem::PyPI,
        source,
        dev,
    }
}

#[derive(Deserialize)]
struct PoetryLock {
    #[serde(default)]
    package: Vec<PoetryPackage>,
}

#[derive(Deserialize)]
struct PoetryPackage {
    name: String,
    version: String,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    groups: Option<Vec<String>>,
    #[serde(default)]
    source: Option<PoetrySource>,
}

#[derive(Deserialize)]
struct PoetrySource {
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

fn python_source(kind: Option<&str>) -> PackageSource {
    match kind {
        None | Some("legacy") | Some("registry") => PackageSource::Registry,
        Some("git") => PackageSource::Git,
        Some(_) => PackageSource::Local,
    }
}

pub(super) fn parse_poetry(path: &Path, text: &str) -> Result<Vec<LockedPackage>, AuditError> {
    let lock: PoetryLock = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
    Ok(lock
        .package
        .into_iter()
        .map(|p| {
            let dev = p.category.as_deref() == Some("dev")
                || p.groups
                    .as_ref()
                    .is_some_and(|g| !g.iter().any(|g| g == "main"));
            let source = python_source(p.source.as_ref().and_then(|s| s.kind.as_deref()));
            pypi(p.name, p.version, source, dev)
        })
        .collect())
}

#[derive(Deserialize)]
struct PdmLock {
    #[serde(default)]
    package: Vec<PdmPackage>,
}

#[derive(Deserialize)]
struct PdmPackage {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    groups: Option<Vec<String>>,
    #[serde(default)]
    git: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

pub(super) fn parse_pdm(path: &Path, text: &str) -> Result<Vec<LockedPackage>, AuditError> {
    let lock: PdmLock = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
    Ok(lock
        .package
        .into_iter()
        .filter_map(|p| {
            let source = if p.git.is_some() {
                PackageSource::Git
            } else if p.path.is_some() || p.url.is_some() {
                PackageSource::Local
            } else {
                PackageSource::Registry
            };
            let dev = p
                .groups
                .as_ref()
                .is_some_and(|g| !g.iter().any(|g| g == "default"));
            // Extras are locked as `name[extra]` entries of the same package in some versions.
            let name = p.name.split('[').next().unwrap_or(&p.name).to_string();
            Some(pypi(name, p.version?, source, dev))
        })
        .collect())
}

#[derive(Deserialize)]
struct UvLock {
    #[serde(default)]
    package: Vec<UvPackage>,
}

#[derive(Deserialize)]
struct UvPackage {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    source: Option<toml::Table>,
    #[serde(default)]
    dependencies: Vec<UvDep>,
    #[serde(default, rename = "optional-dependencies")]
    optional_dependencies: BTreeMap<String, Vec<UvDep>>,
}

#[derive(Deserialize)]
struct UvDep {
    name: String,
}

pub(super) fn parse_uv(
    path: &Path,
    text: &str,
    no_dev: bool,
) -> Result<Vec<LockedPackage>, AuditError> {
    let lock: UvLock = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
    let is_root = |p: &UvPackage| {
        p.source
            .as_ref()
            .is_some_and(|s| s.contains_key("editable") || s.contains_key("virtual"))
    };
    // uv.lock records dev groups on the project entry only: with --no-dev, keep what the
    // projects' runtime dependencies (and extras) reach.
    let reachable: Option<HashSet<String>> = if no_dev {
        let by_name: BTreeMap<String, Vec<&UvPackage>> =
            lock.package.iter().fold(BTreeMap::new(), |mut m, p| {
                m.entry(super::pep503_normalize(&p.name))
                    .or_default()
                    .push(p);
                m
            });
        let mut seen: HashSet<String> = HashSet::new();
        let mut stack: Vec<String> = lock
            .package
            .iter()
            .filter(|p| is_root(p))
            .map(|p| super::pep503_normalize(&p.name))
            .collect();
        while let Some(n) = stack.pop() {
            if !seen.insert(n.clone()) {
                continue;
            }
            for p in by_name.get(&n).into_iter().flatten() {
                for d in p
                    .dependencies
                    .iter()
                    .chain(p.optional_dependencies.values().flatten())
                {
                    stack.push(super::pep503_normalize(&d.name));
                }
            }
        }
        Some(seen)
    } else {
        None
    };
    Ok(lock
        .package
        .iter()
        .filter_map(|p| {
            let source = match &p.source {
                None => PackageSource::Registry,
                Some(s) if s.contains_key("registry") => PackageSource::Registry,
                Some(s) if s.contains_key("git") => PackageSource::Git,
                Some(_) => PackageSource::Local,
            };
            let dev = reachable
                .as_ref()
                .is_some_and(|r| !r.contains(&super::pep503_normalize(&p.name)));
            Some(pypi(p.name.clone(), p.version.clone()?, source, dev))
        })
        .collect())
}

#[derive(Deserialize)]
struct Pylock {
    #[serde(default)]
    packages: Vec<PylockPackage>,
}

#[derive(Deserialize)]
struct PylockPackage {
    name: String,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    vcs: Option<toml::Value>,
    #[serde(default)]
    directory: Option<toml::Value>,
    #[serde(default)]
    archive: Option<toml::Value>,
}

pub(super) fn parse_pylock(path: &Path, text: &str) -> Result<Vec<LockedPackage>, AuditError> {
    let lock: Pylock = toml::from_str(text).map_err(|e| toml_error(path, text, &e))?;
    Ok(lock
        .packages
        .into_iter()
        .filter_map(|p| {
            let source = if p.vcs.is_some() {
                PackageSource::Git
            } else if p.directory.is_some() || p.archive.is_some() {
                PackageSource::Local
            } else {
                PackageSource::Registry
            };
            Some(pypi(p.name, p.version?, source, false))
        })
        .collect())
}
