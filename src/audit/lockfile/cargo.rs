//! `Cargo.lock` v1–v4 via the `cargo-lock` crate (re-exported by `rustsec`).

use std::path::Path;

use rustsec::cargo_lock::{Lockfile, SourceId};

use super::{LockedPackage, PackageSource, parse_error};
use crate::audit::{AuditError, Ecosystem};

/// Classify a Cargo source: crates.io in `registry+` and `sparse+` form is the same registry.
pub(crate) fn classify_source(source: Option<&SourceId>) -> PackageSource {
    match source {
        None => PackageSource::Local,
        Some(s) if s.is_default_registry() => PackageSource::Registry,
        Some(s) if s.is_git() => PackageSource::Git,
        Some(s) if s.is_remote_registry() => PackageSource::OtherRegistry(s.to_string()),
        Some(_) => PackageSource::Local,
    }
}

pub(super) fn parse(path: &Path, text: &str) -> Result<Vec<LockedPackage>, AuditError> {
    let lock: Lockfile = text.parse().map_err(|e: rustsec::cargo_lock::Error| {
        let msg = e.to_string();
        let line = msg.split("line ").nth(1).and_then(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse::<usize>().ok())
        });
        let first = msg.lines().next().unwrap_or("invalid Cargo.lock").to_string();
        let last = msg
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('|') && !l.contains(" | "))
            .unwrap_or("");
        let first = if last.is_empty() || first.ends_with(last) {
            first
        } else {
            format!("{first}: {last}")
        };
        parse_error(path, line, format!("invalid Cargo.lock: {first}"))
    })?;
    Ok(lock
        .packages
        .iter()
        .map(|p| LockedPackage {
            name: p.name.as_str().to_string(),
            version: p.version.to_string(),
            ecosystem: Ecosystem::CratesIo,
            source: classify_source(p.source.as_ref()),
            dev: false,
        })
        .collect())
}
