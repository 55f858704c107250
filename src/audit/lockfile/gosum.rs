//! `go.sum`: `module version[/go.mod] h1:hash` lines; each module version counted once.

use std::path::Path;

use super::{LockedPackage, PackageSource, parse_error};
use crate::audit::{AuditError, Ecosystem};

pub(super) fn parse(path: &Path, text: &str) -> Result<Vec<LockedPackage>, AuditError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut parts = line.split_whitespace();
        let (Some(module), Some(version), Some(_hash), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(parse_error(
                path,
                Some(i + 1),
                "expected `module version hash`",
            ));
        };
        let version = version.strip_suffix("/go.mod").unwrap_or(version);
        if !version.starts_with('v') {
            return Err(parse_error(
                path,
                Some(i + 1),
                format!("invalid version {version:?}"),
            ));
        }
        out.push(LockedPackage {
            name: module.to_string(),
            version: version.to_string(),
            ecosystem: Ecosystem::Go,
            source: PackageSource::Registry,
            dev: false,
        });
    }
    Ok(out)
}
