//! pip requirements files: `name[extras]==version` pins, `--hash` options, environment markers
//! (kept: the audit is platform-independent), `-r`/`-c` includes, comments, `\` continuations.
//! Unpinned requirements are reported as warnings, never silently ignored.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{FileReader, LockedPackage, PackageSource, parse_error};
use crate::audit::{AuditError, Ecosystem};

pub(super) fn parse(
    path: &Path,
    text: &str,
    reader: &dyn FileReader,
    warnings: &mut Vec<String>,
) -> Result<Vec<LockedPackage>, AuditError> {
    let mut visited = HashSet::new();
    visited.insert(path.to_path_buf());
    let mut out = Vec::new();
    parse_into(path, text, reader, warnings, &mut visited, &mut out, 0)?;
    Ok(out)
}

/// Logical lines: `(first physical line number, joined text without comments)`.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        let lineno = i + 1;
        if current.is_empty() {
            start = lineno;
        }
        let stripped = strip_comment(raw);
        if let Some(body) = stripped.strip_suffix('\\') {
            current.push_str(body);
            current.push(' ');
            continue;
        }
        current.push_str(stripped);
        let line = std::mem::take(&mut current);
        if !line.trim().is_empty() {
            out.push((start, line.trim().to_string()));
        }
    }
    if !current.trim().is_empty() {
        out.push((start, current.trim().to_string()));
    }
    out
}

/// Remove a `#` comment (at line start or after whitespace) and trailing whitespace.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let mut cut = line.len();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            cut = i;
            break;
        }
    }
    line[..cut].trim_end()
}

/// Value of an option written as `-r x`, `-rx`, `--requirement x` or `--requirement=x`.
fn option_value<'a>(line: &'a str, short: &str, long: &str) -> Option<&'a str> {
    if let Some(rest) = line.strip_prefix(long) {
        let rest = rest.strip_prefix('=').unwrap_or(rest);
        if rest.is_empty() || rest.starts_with([' ', '\t']) || line[long.len()..].starts_with('=') {
            return Some(rest.trim());
        }
        return None;
    }
    line.strip_prefix(short).map(|r| r.trim())
}

/// The most files one requirements file may include, directly or not. Paths are compared as
/// written, so a chain of files each including the next under two names (`-r ../d/next.txt`
/// and `-r ../d/../d/next.txt`) would otherwise be read 2^depth times (up to 2^32).
const MAX_REQUIREMENT_FILES: usize = 256;

const IGNORED_OPTIONS: &[&str] = &[
    "-i",
    "--index-url",
    "--extra-index-url",
    "--no-index",
    "-f",
    "--find-links",
    "--trusted-host",
    "--pre",
    "--prefer-binary",
    "--only-binary",
    "--no-binary",
    "--require-hashes",
    "--use-feature",
    "--hash",
];

fn parse_into(
    path: &Path,
    text: &str,
    reader: &dyn FileReader,
    warnings: &mut Vec<String>,
    visited: &mut HashSet<PathBuf>,
    out: &mut Vec<LockedPackage>,
    depth: usize,
) -> Result<(), AuditError> {
    if depth > 32 {
        return Err(parse_error(
            path,
            None,
            "requirement includes nested too deeply",
        ));
    }
    let fname = path.display().to_string();
    for (lineno, line) in logical_lines(text) {
        if line.starts_with('-') {
            let include = option_value(&line, "-r", "--requirement")
                .or_else(|| option_value(&line, "-c", "--constraint"));
            if let Some(target) = include {
                if target.is_empty() {
                    return Err(parse_error(
                        path,
                        Some(lineno),
                        "include without a file name",
                    ));
                }
                let target = target.split_whitespace().next().unwrap_or(target);
                let inc = path.parent().unwrap_or(Path::new("")).join(target);
                if !visited.insert(inc.clone()) {
                    continue;
                }
                if visited.len() > MAX_REQUIREMENT_FILES {
                    return Err(parse_error(
                        path,
                        Some(lineno),
                        format!(
                            "more than {MAX_REQUIREMENT_FILES} requirement files included \
                             (files included under several names?)"
                        ),
                    ));
                }
                let bytes = reader.read(&inc).map_err(|e| {
                    parse_error(
                        path,
                        Some(lineno),
                        format!("cannot read include {target}: {e}"),
                    )
                })?;
                let inc_text = std::str::from_utf8(&bytes)
                    .map_err(|_| parse_error(&inc, None, "not valid UTF-8"))?;
                parse_into(&inc, inc_text, reader, warnings, visited, out, depth + 1)?;
                continue;
            }
            if line.starts_with("-e") || line.starts_with("--editable") {
                warnings.push(format!(
                    "{fname}:{lineno}: editable requirement not audited (local or VCS source)"
                ));
                continue;
            }
            if IGNORED_OPTIONS.iter().any(|o| {
                line == *o
                    || line.starts_with(&format!("{o} "))
                    || line.starts_with(&format!("{o}="))
            }) {
                continue;
            }
            if line.starts_with("-i") || line.starts_with("-f") {
                continue;
            }
            return Err(parse_error(
                path,
                Some(lineno),
                format!("unknown option: {line}"),
            ));
        }
        // Drop per-requirement options (`--hash=...`, `--global-option`, ...).
        let req = match line.find(" --").or_else(|| line.find("\t--")) {
            Some(i) => line[..i].trim(),
            None => line.as_str(),
        };
        // Environment marker after `;` (kept: platform-independent audit).
        let req = req.split(';').next().unwrap_or(req).trim();
        if req.contains("://") || req.starts_with('.') || req.starts_with('/') {
            warnings.push(format!(
                "{fname}:{lineno}: URL or path requirement not audited: {req}"
            ));
            continue;
        }
        let name_end = req
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
            .unwrap_or(req.len());
        let name = &req[..name_end];
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(parse_error(
                path,
                Some(lineno),
                format!("invalid requirement: {line}"),
            ));
        }
        let mut rest = req[name_end..].trim_start();
        if rest.starts_with('[') {
            match rest.find(']') {
                Some(i) => rest = rest[i + 1..].trim_start(),
                None => {
                    return Err(parse_error(
                        path,
                        Some(lineno),
                        format!("unclosed extras: {line}"),
                    ));
                }
            }
        }
        if rest.starts_with('@') {
            warnings.push(format!(
                "{fname}:{lineno}: URL requirement not audited: {name}"
            ));
            continue;
        }
        let rest = rest.trim_start_matches('(').trim_end_matches(')').trim();
        let pinned = if rest.contains(',') {
            None
        } else if let Some(v) = rest.strip_prefix("===") {
            Some(v.trim())
        } else if let Some(v) = rest.strip_prefix("==") {
            Some(v.trim()).filter(|v| !v.ends_with('*'))
        } else {
            None
        };
        if let Some(ver) = pinned.filter(|v| !v.is_empty()) {
            if ver.contains(char::is_whitespace) {
                return Err(parse_error(
                    path,
                    Some(lineno),
                    format!("invalid version: {line}"),
                ));
            }
            out.push(LockedPackage {
                name: name.to_string(),
                version: ver.to_string(),
                ecosystem: Ecosystem::PyPI,
                source: PackageSource::Registry,
                dev: false,
            });
        } else {
            if !rest.is_empty() && !rest.starts_with(['<', '>', '=', '!', '~']) {
                return Err(parse_error(
                    path,
                    Some(lineno),
                    format!("invalid requirement: {line}"),
                ));
            }
            warnings.push(format!(
                "{fname}:{lineno}: {name} is not pinned with == (not audited)"
            ));
        }
    }
    Ok(())
}
