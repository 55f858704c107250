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

/// Blank out a v1 `[metadata]` table (checksums only; the audit does not need them). cargo-lock
/// matches each checksum key against every package, which is quadratic: ~30 ms for a
/// 300-package v1 lockfile. Lines are kept, so error line numbers stay right.
fn without_metadata(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("\n[metadata]") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut in_meta = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with('[') {
            in_meta = t.trim_end() == "[metadata]";
        }
        if in_meta {
            out.push_str(if line.ends_with('\n') { "\n" } else { "" });
        } else {
            out.push_str(line);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The checksum fields of a lockfile's packages, read on their own.
#[derive(serde::Deserialize)]
struct ChecksumsOnly {
    #[serde(default)]
    package: Vec<PackageChecksum>,
}

/// One package's `checksum`, if it has one.
#[derive(serde::Deserialize)]
struct PackageChecksum {
    checksum: Option<String>,
}

/// cargo-lock slices a checksum by bytes and panics on one of 64 bytes that holds a non-ASCII
/// character, so such a checksum is refused first. Only text that can spell a non-ASCII
/// character (raw, or as a `\u`/`\U` escape) is read twice.
fn non_ascii_checksum(text: &str) -> Option<usize> {
    if text.is_ascii() && !text.contains("\\u") && !text.contains("\\U") {
        return None;
    }
    let shape: ChecksumsOnly = toml::from_str(text).ok()?;
    shape
        .package
        .iter()
        .position(|p| p.checksum.as_deref().is_some_and(|c| !c.is_ascii()))
}

pub(super) fn parse(path: &Path, text: &str) -> Result<Vec<LockedPackage>, AuditError> {
    let text = without_metadata(text);
    if let Some(i) = non_ascii_checksum(&text) {
        return Err(parse_error(
            path,
            None,
            format!(
                "invalid Cargo.lock: the checksum of package {} is not 64 hex digits",
                i + 1
            ),
        ));
    }
    let lock: Lockfile = text.parse().map_err(|e: rustsec::cargo_lock::Error| {
        let msg = e.to_string();
        let line = msg.split("line ").nth(1).and_then(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse::<usize>().ok())
        });
        let first = msg
            .lines()
            .next()
            .unwrap_or("invalid Cargo.lock")
            .to_string();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_table_is_blanked_keeping_line_numbers() {
        let text = "[[package]]\nname = \"a\"\nversion = \"1.0.0\"\n\n[metadata]\n\"checksum a 1.0.0 (x)\" = \"ff\"\n\n[[package]]\nname = \"b\"\nversion = \"2.0.0\"\n";
        let out = without_metadata(text);
        assert_eq!(out.lines().count(), text.lines().count());
        assert!(!out.contains("checksum"));
        assert!(
            out.contains("name = \"b\""),
            "tables after [metadata] are kept"
        );
        let pkgs = parse(Path::new("Cargo.lock"), text).unwrap();
        assert_eq!(pkgs.len(), 2);
        assert_eq!(pkgs[0].source, PackageSource::Local);
    }

    #[test]
    fn a_checksum_with_a_non_ascii_character_is_an_error_naming_the_file_not_a_panic() {
        // 64 bytes whose 50th and 51st hold one two-byte character: cargo-lock's own parser
        // panicked slicing it.
        let raw = format!("{}\u{396}{}", "8".repeat(49), "a".repeat(13));
        assert_eq!(raw.len(), 64);
        let escaped = format!("{}\\u0396{}", "8".repeat(49), "a".repeat(13));
        for checksum in [raw, escaped] {
            let text = format!(
                "version = 3\n\n[[package]]\nname = \"a\"\nversion = \"1.0.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{checksum}\"\n"
            );
            let err = parse(Path::new("dir/Cargo.lock"), &text)
                .expect_err("a checksum that is not hex is an error")
                .to_string();
            assert!(err.starts_with("dir/Cargo.lock"), "{err}");
            assert!(err.contains("checksum of package 1"), "{err}");
        }
    }
}
