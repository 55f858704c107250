//! Phase 7: the report. Findings get their commit's metadata (author, email, date, message),
//! are deduplicated when asked (one per rule, secret and file: the earliest commit, with
//! `CommitCount`) and put in report order; the job phase's counters, errors and notices move
//! into the report.

use std::collections::{HashMap, HashSet};

use super::super::GitScanReport;
use super::super::engine::{JobsOutcome, NO_COMMIT};
use super::super::meta;
use super::super::walk::WalkedCommit;
use crate::report::finding::Finding;
use crate::source::{ScanError, ScanErrorKind};

/// Put the findings of `out` (changes of `commits`) into `report` with their metadata read from
/// `repo`, deduplicated when `dedup`, newest commit first; then [`absorb`] the rest.
pub(crate) fn finish(
    report: &mut GitScanReport,
    mut out: JobsOutcome,
    commits: &[WalkedCommit],
    repo: &gix::Repository,
    dedup: bool,
    max_bytes: Option<u64>,
) {
    let mut findings = std::mem::take(&mut out.findings);
    let metas = read_metas(repo, commits, &findings, &mut report.errors);
    for (idx, f) in &mut findings {
        if let Some(m) = metas.get(idx) {
            f.author = m.author.clone();
            f.email = m.email.clone();
            f.date = m.date.clone();
            f.message = m.message.clone();
        }
    }
    if dedup {
        findings = dedup_findings(findings, commits);
    }
    findings.sort_by(|(ia, a), (ib, b)| {
        ia.cmp(ib)
            .then_with(|| crate::report::finding::report_order(a, b))
    });
    report.findings = findings.into_iter().map(|(_, f)| f).collect();
    absorb(report, out, max_bytes);
}

/// The metadata of every commit that carries a finding; commits that cannot be read are
/// reported in `errors`.
fn read_metas(
    repo: &gix::Repository,
    commits: &[WalkedCommit],
    findings: &[(u32, Finding)],
    errors: &mut Vec<ScanError>,
) -> HashMap<u32, meta::CommitMeta> {
    let mut metas = HashMap::new();
    for (idx, _) in findings {
        if *idx == NO_COMMIT || metas.contains_key(idx) {
            continue;
        }
        let Some(c) = commits.get(*idx as usize) else {
            continue;
        };
        match meta::read(repo, c.id) {
            Ok(m) => {
                metas.insert(*idx, m);
            }
            Err(e) => errors.push(
                ScanError::new(ScanErrorKind::Object, e.to_string())
                    .with_object(c.id.to_string())
                    .with_commit(c.id.to_string()),
            ),
        }
    }
    metas
}

/// Move the job phase's outcome into the report: findings (when the report has none yet),
/// errors, incomplete content, notices, bytes and counters; warnings for skipped oversize
/// blobs and LFS pointers.
pub(crate) fn absorb(report: &mut GitScanReport, out: JobsOutcome, max_bytes: Option<u64>) {
    if report.findings.is_empty() {
        report.findings = out.findings.into_iter().map(|(_, f)| f).collect();
    }
    report.errors.extend(out.errors);
    report.incomplete.extend(out.incomplete);
    report.warnings.extend(out.warnings);
    report.bytes_scanned = out.bytes;
    let c = out.counts;
    report.stats.distinct_changes = c.distinct_changes;
    report.stats.blobs_read = c.blobs_read;
    report.stats.candidates = c.candidates;
    report.stats.binary_scanned = c.binary;
    report.stats.archives_scanned = c.archives;
    report.stats.archive_members_scanned = c.archive_members;
    report.stats.lfs_pointers_skipped = c.lfs;
    report.stats.oversize_skipped = c.oversize;
    report.stats.blobs_streamed = c.streamed;
    if c.oversize > 0 {
        let limit = max_bytes.unwrap_or(0) / 1_000_000;
        report.warnings.push(format!(
            "{} blob(s) larger than {limit} MB were not scanned (--max-target-megabytes)",
            c.oversize
        ));
    }
    if c.lfs > 0 {
        report.warnings.push(format!(
            "{} Git LFS pointer file(s) skipped: LFS content is not stored in the repository",
            c.lfs
        ));
    }
}

/// One finding per (rule, secret, file): the earliest commit (oldest commit time, then walk
/// order), with `CommitCount` = number of distinct commits carrying it.
pub(crate) fn dedup_findings(
    findings: Vec<(u32, Finding)>,
    commits: &[WalkedCommit],
) -> Vec<(u32, Finding)> {
    let time = |idx: u32| commits.get(idx as usize).map_or(i64::MAX, |c| c.time);
    type Key = (String, String, String);
    let mut groups: HashMap<Key, (u32, Finding, HashSet<u32>)> = HashMap::new();
    for (idx, f) in findings {
        let key = (f.rule_id.clone(), f.secret.clone(), f.file.clone());
        match groups.get_mut(&key) {
            None => {
                groups.insert(key, (idx, f, HashSet::from([idx])));
            }
            Some((best, kept, set)) => {
                set.insert(idx);
                let earlier =
                    (time(idx), std::cmp::Reverse(idx)) < (time(*best), std::cmp::Reverse(*best));
                let same_commit_earlier_line = idx == *best
                    && (f.start_line, f.start_column) < (kept.start_line, kept.start_column);
                if earlier || same_commit_earlier_line {
                    *best = idx;
                    *kept = f;
                }
            }
        }
    }
    groups
        .into_values()
        .map(|(idx, mut f, set)| {
            f.commit_count = u32::try_from(set.len()).unwrap_or(u32::MAX);
            (idx, f)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gix::ObjectId;

    fn commit(byte: u8, time: i64) -> WalkedCommit {
        WalkedCommit {
            id: ObjectId::from_bytes_or_panic(&[byte; 20]),
            parents: Vec::new(),
            time,
        }
    }

    fn finding(rule: &str, secret: &str, file: &str, line: u32) -> Finding {
        Finding {
            rule_id: rule.into(),
            secret: secret.into(),
            file: file.into(),
            start_line: line,
            ..Finding::default()
        }
    }

    #[test]
    fn dedup_keeps_the_oldest_commit_and_counts_every_commit() {
        // Walk order is newest first: index 0 is the newest commit.
        let commits = [commit(1, 300), commit(2, 200), commit(3, 100)];
        let findings = vec![
            (0, finding("r", "s", "f", 5)),
            (2, finding("r", "s", "f", 9)),
            (1, finding("r", "s", "f", 7)),
            (1, finding("r", "other", "f", 1)),
        ];
        let mut out = dedup_findings(findings, &commits);
        out.sort_by_key(|(i, f)| (*i, f.secret.clone()));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].0, 1);
        assert_eq!(out[0].1.secret, "other");
        assert_eq!(out[0].1.commit_count, 1);
        assert_eq!(out[1].0, 2, "the oldest commit is kept");
        assert_eq!(out[1].1.start_line, 9);
        assert_eq!(out[1].1.commit_count, 3);
    }

    #[test]
    fn dedup_in_one_commit_keeps_the_earliest_line() {
        let commits = [commit(1, 100)];
        let findings = vec![
            (0, finding("r", "s", "f", 8)),
            (0, finding("r", "s", "f", 3)),
        ];
        let out = dedup_findings(findings, &commits);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].1.start_line, 3);
        assert_eq!(out[0].1.commit_count, 1);
    }

    #[test]
    fn absorb_moves_counters_and_warns_about_skipped_content() {
        let mut report = GitScanReport::default();
        let mut out = JobsOutcome::default();
        out.errors
            .push(ScanError::new(ScanErrorKind::Object, "blob x is missing"));
        out.bytes = 42;
        out.counts.oversize = 2;
        out.counts.lfs = 1;
        out.counts.candidates = 5;
        absorb(&mut report, out, Some(3_000_000));
        assert_eq!(report.errors.len(), 1);
        assert_eq!(report.errors[0].to_string(), "blob x is missing");
        assert_eq!(report.bytes_scanned, 42);
        assert_eq!(report.stats.candidates, 5);
        assert_eq!(report.stats.oversize_skipped, 2);
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.contains("larger than 3 MB")),
            "{:?}",
            report.warnings
        );
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.contains("1 Git LFS pointer")),
            "{:?}",
            report.warnings
        );
    }
}
