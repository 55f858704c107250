//! Matching locked packages against indexed advisories: RustSec `[versions]` through the
//! rustsec crate, OSV `SEMVER` / `ECOSYSTEM` ranges and `versions` lists; withdrawn advisories
//! skipped; findings of one package version merged by aliases; smallest fixed version.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::advisory::{Advisory, AdvisoryIndex, Affected, OsvAffected, OsvEvent, OsvRange};
use super::lockfile::{LockedPackage, PackageSource, ParsedLockfile};
use super::version::{EcoVersion, Scheme, parse_semver_lenient};
use super::{AuditFinding, AuditOptions, Ecosystem, FindingKind};

/// Does the OSV range affect `v`? (OSV schema evaluation: optional `limit`s, then events in
/// version order: `introduced` ≤ v → affected, `fixed` ≤ v → not, `last_affected` < v → not.)
pub fn range_affects(range: &OsvRange, eco: Ecosystem, version: &str) -> bool {
    let Some(scheme) = Scheme::for_range(&range.kind, eco) else {
        return false;
    };
    let Some(v) = scheme.parse(version) else {
        return false;
    };
    let parse = |s: &str| scheme.parse(s);
    let limits: Vec<EcoVersion> = range
        .events
        .iter()
        .filter_map(|e| match e {
            OsvEvent::Limit(l) if l != "*" => parse(l),
            _ => None,
        })
        .collect();
    if !limits.is_empty() && !limits.iter().any(|l| v < *l) {
        return false;
    }
    // (version, order key, event); "0" sorts before everything.
    let mut events: Vec<(Option<EcoVersion>, &OsvEvent)> = Vec::new();
    for e in &range.events {
        match e {
            OsvEvent::Introduced(s) if s == "0" => events.push((None, e)),
            OsvEvent::Introduced(s) | OsvEvent::Fixed(s) | OsvEvent::LastAffected(s) => {
                if let Some(p) = parse(s) {
                    events.push((Some(p), e));
                }
            }
            OsvEvent::Limit(_) => {}
        }
    }
    events.sort_by(|a, b| match (&a.0, &b.0) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal),
    });
    let mut affected = false;
    for (ev_v, e) in &events {
        match e {
            OsvEvent::Introduced(_) => {
                if ev_v.as_ref().is_none_or(|x| *x <= v) {
                    affected = true;
                }
            }
            OsvEvent::Fixed(_) => {
                if ev_v.as_ref().is_some_and(|x| *x <= v) {
                    affected = false;
                }
            }
            OsvEvent::LastAffected(_) => {
                if ev_v.as_ref().is_some_and(|x| *x < v) {
                    affected = false;
                }
            }
            OsvEvent::Limit(_) => {}
        }
    }
    affected
}

fn versions_list_contains(entry: &OsvAffected, eco: Ecosystem, version: &str) -> bool {
    if entry.versions.iter().any(|v| v == version) {
        return true;
    }
    let scheme = Scheme::for_ecosystem(eco);
    let Some(v) = scheme.parse(version) else {
        return false;
    };
    entry
        .versions
        .iter()
        .any(|s| scheme.parse(s).is_some_and(|x| x == v))
}

/// Is this package version affected by the advisory? (Withdrawn advisories never are.)
pub fn affects(adv: &Advisory, pkg: &LockedPackage) -> bool {
    if adv.withdrawn || adv.ecosystem != pkg.ecosystem {
        return false;
    }
    match &adv.affected {
        Affected::Rustsec { versions, source } => {
            let source_ok = match (source, &pkg.source) {
                (None, PackageSource::Registry) => true,
                (Some(s), PackageSource::OtherRegistry(p)) => s == p,
                _ => false,
            };
            source_ok
                && semver::Version::parse(&pkg.version).is_ok_and(|v| versions.is_vulnerable(&v))
        }
        Affected::Osv { entries } => {
            pkg.source == PackageSource::Registry
                && entries.iter().any(|e| {
                    versions_list_contains(e, pkg.ecosystem, &pkg.version)
                        || e.ranges
                            .iter()
                            .any(|r| range_affects(r, pkg.ecosystem, &pkg.version))
                })
        }
    }
}

/// Fixed versions the advisory names that are above the locked version.
fn fixes_above(adv: &Advisory, pkg: &LockedPackage) -> Vec<(EcoVersion, String)> {
    let scheme = Scheme::for_ecosystem(pkg.ecosystem);
    let Some(current) = scheme.parse(&pkg.version) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    match &adv.affected {
        Affected::Rustsec { versions, .. } => {
            for r in rustsec::osv::ranges_for_advisory(versions) {
                if let Some(f) = r.fixed {
                    let ev = EcoVersion::Semver(f.clone());
                    if ev > current {
                        out.push((ev, f.to_string()));
                    }
                }
            }
        }
        Affected::Osv { entries } => {
            for r in entries.iter().flat_map(|e| e.ranges.iter()) {
                let Some(rs) = Scheme::for_range(&r.kind, pkg.ecosystem) else {
                    continue;
                };
                if rs != scheme {
                    continue;
                }
                for e in &r.events {
                    if let OsvEvent::Fixed(s) = e
                        && let Some(fv) = scheme.parse(s)
                        && fv > current
                    {
                        out.push((fv, s.clone()));
                    }
                }
            }
        }
    }
    out
}

fn id_rank(id: &str, eco: Ecosystem) -> u8 {
    let preferred = match eco {
        Ecosystem::CratesIo => "RUSTSEC-",
        Ecosystem::PyPI => "PYSEC-",
        Ecosystem::Go => "GO-",
        Ecosystem::Npm => "GHSA-",
    };
    if id.starts_with(preferred) {
        0
    } else if id.starts_with("GHSA-") {
        1
    } else if id.starts_with("CVE-") {
        2
    } else {
        3
    }
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

/// Merge the advisories matching one package version into findings (one per alias group).
fn merge(
    pkg: &LockedPackage,
    lockfile: &str,
    matches: Vec<Arc<Advisory>>,
    opts: &AuditOptions,
    ignored: &mut BTreeSet<String>,
    out: &mut Vec<AuditFinding>,
) {
    // Union-find over ids and aliases.
    let n = matches.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut i: usize) -> usize {
        while p[i] != i {
            p[i] = p[p[i]];
            i = p[i];
        }
        i
    }
    // Two advisories are the same vulnerability when one names the other's id, or when they
    // come from different sources and share an alias. Two entries of one database with
    // different ids stay distinct (RustSec has unsound + unmaintained entries sharing CVEs).
    let idsets: Vec<BTreeSet<&str>> = matches
        .iter()
        .map(|a| {
            std::iter::once(a.id.as_str())
                .chain(a.aliases.iter().map(String::as_str))
                .collect()
        })
        .collect();
    for i in 0..n {
        for j in (i + 1)..n {
            let (a, b) = (&matches[i], &matches[j]);
            let same = idsets[j].contains(a.id.as_str())
                || idsets[i].contains(b.id.as_str())
                || (a.source_name != b.source_name && !idsets[i].is_disjoint(&idsets[j]));
            if same {
                let (ri, rj) = (find(&mut parent, i), find(&mut parent, j));
                parent[ri] = rj;
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    for members in groups.values() {
        let advs: Vec<&Advisory> = members.iter().map(|&i| matches[i].as_ref()).collect();
        let mut ids: BTreeSet<String> = BTreeSet::new();
        for a in &advs {
            ids.insert(a.id.clone());
            ids.extend(a.aliases.iter().cloned());
        }
        if ids.iter().any(|id| opts.ignore.iter().any(|i| i == id)) {
            ignored.insert(
                advs.iter()
                    .map(|a| a.id.clone())
                    .min_by_key(|id| (id_rank(id, pkg.ecosystem), id.clone()))
                    .unwrap_or_default(),
            );
            continue;
        }
        let primary = advs
            .iter()
            .min_by_key(|a| (id_rank(&a.id, pkg.ecosystem), a.id.clone()))
            .copied();
        let Some(primary) = primary else { continue };
        let kind = if advs.iter().any(|a| a.kind == FindingKind::Vulnerability) {
            FindingKind::Vulnerability
        } else {
            primary.kind
        };
        let fixed_in = advs
            .iter()
            .flat_map(|a| fixes_above(a, pkg))
            .min_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(std::cmp::Ordering::Equal))
            .map(|(_, s)| s);
        let severity = advs
            .iter()
            .filter_map(|a| a.severity.clone())
            .max_by_key(|s| severity_rank(s));
        let sources: BTreeSet<String> = advs.iter().map(|a| a.source_name.clone()).collect();
        let blocking = match kind.warning_kind() {
            None => true,
            Some(w) => opts.deny.contains(&w),
        };
        ids.remove(&primary.id);
        out.push(AuditFinding {
            kind,
            id: primary.id.clone(),
            aliases: ids.into_iter().collect(),
            package: pkg.name.clone(),
            version: pkg.version.clone(),
            ecosystem: pkg.ecosystem,
            lockfile: lockfile.to_string(),
            fixed_in,
            severity,
            summary: primary.summary.clone(),
            url: primary.url.clone(),
            sources: sources.into_iter().filter(|s| !s.is_empty()).collect(),
            blocking,
        });
    }
}

/// Match every lockfile against the index. `only_new` keeps only (lockfile, name, version)
/// triples in the set (range mode). Returns findings (sorted) and ignored ids.
pub fn match_lockfiles(
    lockfiles: &[ParsedLockfile],
    index: &AdvisoryIndex,
    opts: &AuditOptions,
    only_new: Option<&BTreeSet<(String, String, String)>>,
) -> (Vec<AuditFinding>, Vec<String>) {
    let mut findings = Vec::new();
    let mut ignored = BTreeSet::new();
    for lf in lockfiles {
        for pkg in &lf.packages {
            if let Some(set) = only_new
                && !set.contains(&(lf.display.clone(), pkg.name.clone(), pkg.version.clone()))
            {
                continue;
            }
            let matches: Vec<Arc<Advisory>> = index
                .lookup(pkg.ecosystem, &pkg.name)
                .iter()
                .filter(|a| affects(a, pkg))
                .cloned()
                .collect();
            if !matches.is_empty() {
                merge(pkg, &lf.display, matches, opts, &mut ignored, &mut findings);
            }
        }
    }
    findings.sort_by(|a, b| {
        (&a.lockfile, &a.package, &a.version, &a.id).cmp(&(
            &b.lockfile,
            &b.package,
            &b.version,
            &b.id,
        ))
    });
    findings.dedup();
    (findings, ignored.into_iter().collect())
}

/// Lenient SemVer parse, re-exported for callers comparing crate versions.
pub fn semver_lenient(s: &str) -> Option<semver::Version> {
    parse_semver_lenient(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(kind: &str, events: Vec<OsvEvent>) -> OsvRange {
        OsvRange {
            kind: kind.into(),
            events,
        }
    }

    #[test]
    fn osv_range_introduced_fixed_last_affected_limit() {
        use OsvEvent::*;
        let r = range(
            "ECOSYSTEM",
            vec![Introduced("0".into()), Fixed("2.0".into())],
        );
        assert!(range_affects(&r, Ecosystem::PyPI, "1.9.9"));
        assert!(range_affects(&r, Ecosystem::PyPI, "2.0rc1"));
        assert!(!range_affects(&r, Ecosystem::PyPI, "2.0"));
        assert!(!range_affects(&r, Ecosystem::PyPI, "2.0.0"));
        let r = range(
            "SEMVER",
            vec![Introduced("1.0.0".into()), LastAffected("1.2.0".into())],
        );
        assert!(!range_affects(&r, Ecosystem::CratesIo, "0.9.0"));
        assert!(range_affects(&r, Ecosystem::CratesIo, "1.2.0"));
        assert!(!range_affects(&r, Ecosystem::CratesIo, "1.2.1"));
        let r = range(
            "SEMVER",
            vec![Introduced("0".into()), Limit("1.5.0".into())],
        );
        assert!(range_affects(&r, Ecosystem::Npm, "1.4.0"));
        assert!(!range_affects(&r, Ecosystem::Npm, "1.5.0"));
        let r = range(
            "ECOSYSTEM",
            vec![
                Introduced("1.0".into()),
                Fixed("1.1".into()),
                Introduced("2.0".into()),
                Fixed("2.0.3".into()),
            ],
        );
        assert!(!range_affects(&r, Ecosystem::PyPI, "1.5"));
        assert!(range_affects(&r, Ecosystem::PyPI, "2.0.2"));
        assert!(!range_affects(&r, Ecosystem::PyPI, "0.9"));
        let g = range("GIT", vec![Introduced("0".into())]);
        assert!(!range_affects(&g, Ecosystem::PyPI, "1.0"));
    }
}
