//! Ecosystem-aware version parsing and ordering: SemVer (crates.io, npm, Go, OSV `SEMVER`
//! ranges) and PEP 440 (PyPI `ECOSYSTEM` ranges). Versions of different schemes never compare.

use std::cmp::Ordering;
use std::str::FromStr;

use super::Ecosystem;

/// A parsed version in its ecosystem's ordering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EcoVersion {
    /// SemVer 2.0 precedence.
    Semver(semver::Version),
    /// PEP 440 ordering.
    Pep440(pep440_rs::Version),
}

impl PartialOrd for EcoVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match (self, other) {
            (EcoVersion::Semver(a), EcoVersion::Semver(b)) => Some(a.cmp_precedence(b)),
            (EcoVersion::Pep440(a), EcoVersion::Pep440(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

/// How an OSV range orders versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// SemVer 2.0.
    Semver,
    /// PEP 440.
    Pep440,
}

impl Scheme {
    /// The ordering of an OSV range `type` (`SEMVER`, `ECOSYSTEM`) in an ecosystem; `None` for
    /// `GIT` and unknown types (not evaluable without the repository graph).
    pub fn for_range(range_type: &str, eco: Ecosystem) -> Option<Scheme> {
        match range_type {
            "SEMVER" => Some(Scheme::Semver),
            "ECOSYSTEM" => Some(match eco {
                Ecosystem::PyPI => Scheme::Pep440,
                Ecosystem::CratesIo | Ecosystem::Npm | Ecosystem::Go => Scheme::Semver,
            }),
            _ => None,
        }
    }

    /// The scheme of an ecosystem's own versions.
    pub fn for_ecosystem(eco: Ecosystem) -> Scheme {
        match eco {
            Ecosystem::PyPI => Scheme::Pep440,
            _ => Scheme::Semver,
        }
    }

    /// Parse a version; SemVer accepts a leading `v` and pads `1` / `1.2` to three parts.
    pub fn parse(self, s: &str) -> Option<EcoVersion> {
        let s = s.trim();
        match self {
            Scheme::Pep440 => pep440_rs::Version::from_str(s).ok().map(EcoVersion::Pep440),
            Scheme::Semver => parse_semver_lenient(s).map(EcoVersion::Semver),
        }
    }
}

/// SemVer with a leading `v` allowed and missing minor/patch filled with zeros.
pub fn parse_semver_lenient(s: &str) -> Option<semver::Version> {
    let s = s.strip_prefix('v').unwrap_or(s);
    if let Ok(v) = semver::Version::parse(s) {
        return Some(v);
    }
    let split = s.find(['-', '+']).unwrap_or(s.len());
    let (core, rest) = s.split_at(split);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let mut padded = parts.join(".");
    for _ in parts.len()..3 {
        padded.push_str(".0");
    }
    padded.push_str(rest);
    semver::Version::parse(&padded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep440_orders_prereleases_and_calendar_versions() {
        let p = |s| Scheme::Pep440.parse(s).unwrap();
        assert!(p("21.11b0") < p("21.11"));
        assert!(p("1.0.dev0") < p("1.0a1"));
        assert!(p("1.0") < p("1.0.post1"));
        assert!(p("2023.07.22") == p("2023.7.22"));
        assert!(p("1.0") == p("1.0.0"));
    }

    #[test]
    fn semver_lenient_pads_and_strips_v() {
        assert_eq!(parse_semver_lenient("v1.2").unwrap().to_string(), "1.2.0");
        assert_eq!(parse_semver_lenient("1").unwrap().to_string(), "1.0.0");
        assert!(parse_semver_lenient("abc").is_none());
    }
}
