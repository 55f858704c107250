//! SARIF helpers of the audit report: the lockfile line that locks a package, GitHub's numeric
//! `security-severity`, and a stable fingerprint per finding.
//!
//! Parsers do not keep line numbers, so the line is found again in the lockfile's text: first a
//! declaration (`name = "pkg"` in TOML lockfiles, a `"pkg": {` or `"node_modules/pkg": {` key in
//! JSON ones) whose block names the version, else the first line naming both the package and
//! the version (`pkg==1.2.3`, go.mod / go.sum). No line is reported rather than a wrong one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::audit::AuditFinding;

/// Lockfiles larger than this are not searched for lines.
const MAX_LOCKFILE_BYTES: u64 = 64 * 1024 * 1024;

/// Lockfile texts read once per report.
#[derive(Debug, Default)]
pub struct LockfileTexts {
    texts: HashMap<PathBuf, Option<String>>,
}

impl LockfileTexts {
    /// The 1-based line of `path` that locks `package` at `version`, when it can be found.
    pub fn package_line(&mut self, path: &Path, package: &str, version: &str) -> Option<usize> {
        let text = self
            .texts
            .entry(path.to_path_buf())
            .or_insert_with(|| read_small(path))
            .as_deref()?;
        package_line(text, package, version)
    }
}

fn read_small(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > MAX_LOCKFILE_BYTES {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

/// GitHub code scanning's `security-severity` (a CVSS-like score as a string) for a
/// qualitative severity.
pub fn security_severity(severity: &str) -> Option<&'static str> {
    match severity.to_ascii_lowercase().as_str() {
        "critical" => Some("9.5"),
        "high" => Some("8.0"),
        "medium" | "moderate" => Some("5.5"),
        "low" => Some("3.0"),
        "none" => Some("0.0"),
        _ => None,
    }
}

/// `auditFinding/v1`: 32 hex digits of sha256 over ecosystem, package, version, advisory id
/// and the `%SRCROOT%`-relative lockfile path; the same finding gets the same value on every
/// machine and run.
pub fn fingerprint(f: &AuditFinding, path: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        f.ecosystem.as_str(),
        f.package.as_str(),
        f.version.as_str(),
        f.id.as_str(),
        path,
    ] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..16])
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '@')
}

fn is_version_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_')
}

/// `true` when `needle` occurs in `hay` not directly preceded or followed by a `word` char.
fn has_token(hay: &str, needle: &str, word: fn(char) -> bool) -> bool {
    if needle.is_empty() {
        return false;
    }
    let mut from = 0;
    while let Some(pos) = hay[from..].find(needle) {
        let start = from + pos;
        let end = start + needle.len();
        let before_ok = !hay[..start].chars().next_back().is_some_and(word);
        let after_ok = !hay[end..].chars().next().is_some_and(word);
        if before_ok && after_ok {
            return true;
        }
        from = start + needle.len().max(1);
        if from >= hay.len() {
            break;
        }
    }
    false
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Does the declaration at `lines[i]` (a TOML `name = "pkg"` or a JSON key) lock `version`?
fn block_has_version(lines: &[&str], i: usize, version: &str, toml: bool) -> bool {
    let indent = indentation(lines[i]);
    for line in lines.iter().skip(i + 1).take(2000) {
        let t = line.trim();
        if toml {
            if t.is_empty() || t.starts_with('[') {
                return false;
            }
            if t.starts_with("version") && has_token(t, version, is_version_char) {
                return true;
            }
        } else {
            if !t.is_empty() && indentation(line) <= indent {
                return false;
            }
            if t.starts_with("\"version\"") && has_token(t, version, is_version_char) {
                return true;
            }
        }
    }
    false
}

/// The 1-based line of `text` that locks `package` at `version`.
pub fn package_line(text: &str, package: &str, version: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let toml_decl = [
        format!("name = \"{package}\""),
        format!("name = '{package}'"),
    ];
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        if toml_decl.iter().any(|d| t == d) && block_has_version(&lines, i, version, true) {
            return Some(i + 1);
        }
        let json_key = t
            .strip_suffix('{')
            .map(str::trim_end)
            .and_then(|k| k.strip_suffix(':'))
            .map(str::trim_end)
            .and_then(|k| k.strip_prefix('"')?.strip_suffix('"'));
        if let Some(key) = json_key
            && (key == package || key.ends_with(&format!("node_modules/{package}")))
            && block_has_version(&lines, i, version, false)
        {
            return Some(i + 1);
        }
    }
    lines
        .iter()
        .position(|l| has_token(l, package, is_name_char) && has_token(l, version, is_version_char))
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_lock_line_is_the_package_declaration_not_a_dependency_entry() {
        let text = "\
[[package]]
name = \"app\"
version = \"0.1.0\"
dependencies = [
 \"smallvec 1.6.0\",
]

[[package]]
name = \"smallvec\"
version = \"1.6.0\"
";
        assert_eq!(package_line(text, "smallvec", "1.6.0"), Some(9));
        assert_eq!(package_line(text, "smallvec", "1.6"), None);
    }

    #[test]
    fn requirements_package_lock_and_go_sum_lines() {
        assert_eq!(
            package_line("flask==2.0.0\nrequests==2.19.0\n", "requests", "2.19.0"),
            Some(2)
        );
        let npm = "{\n  \"packages\": {\n    \"node_modules/lodash\": {\n      \"version\": \"4.17.20\",\n      \"resolved\": \"x\"\n    }\n  }\n}\n";
        assert_eq!(package_line(npm, "lodash", "4.17.20"), Some(3));
        let go = "golang.org/x/text v0.3.0 h1:abc=\ngolang.org/x/text v0.3.0/go.mod h1:def=\n";
        assert_eq!(package_line(go, "golang.org/x/text", "v0.3.0"), Some(1));
    }

    #[test]
    fn severities_map_to_github_scores() {
        assert_eq!(security_severity("CRITICAL"), Some("9.5"));
        assert_eq!(security_severity("moderate"), Some("5.5"));
        assert_eq!(security_severity("unknown"), None);
    }
}
