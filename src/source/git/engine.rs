//! The blob-once engine: changes are grouped by `(old blobs, new blob)`; each distinct group is
//! read and prefiltered once; only candidate blobs get a line diff and a detector pass per
//! added hunk; findings are then mapped to every commit (and path) that carries the change.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use gix::ObjectId;

use super::changes::{Change, RenameCache, RenameOutcome, RenameResolver};
use super::content::{ContentKind, archive_by_name, classify, scanned_view};
use super::lines::added_runs;
use super::packs::{self, Verdict, VerdictKind};
use crate::detect::Fragment;
use crate::report::finding::Finding;
use crate::source::FragmentScanner;
use crate::source::progress::Progress;
use crate::source::{ScanError, ScanErrorKind};

/// Commit index used for index/work-tree changes (no commit).
pub(crate) const NO_COMMIT: u32 = u32::MAX;

/// Where a change appears: a commit (index into the walk) and the new path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Use {
    pub path: String,
    pub commit: u32,
    /// See [`Change::maybe_renamed`]: resolved by [`RenameResolver`] when it matters.
    pub maybe_renamed: bool,
}

/// The new side of a change.
#[derive(Debug, Clone)]
pub(crate) enum NewSide {
    /// A blob in the object database.
    Blob(ObjectId),
    /// Bytes read from the work tree.
    Bytes(Vec<u8>),
}

/// One distinct content change and everywhere it occurs.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub olds: Vec<ObjectId>,
    pub new: NewSide,
    pub uses: Vec<Use>,
}

/// Where each object sits in the repository's pack files, read from the `.idx` files only
/// (no object is inflated): `(pack rank, offset)`. Objects outside packs have no position.
pub(crate) struct PackOrder {
    indices: Vec<gix::odb::pack::index::File>,
}

impl PackOrder {
    /// Load the pack indices of `repo` (an unreadable index is skipped: ordering is only an
    /// optimisation, reading the objects reports any real damage).
    pub(crate) fn load(repo: &gix::Repository) -> PackOrder {
        let kind = repo.object_hash();
        let indices = packs::index_paths(repo)
            .iter()
            .filter_map(|p| gix::odb::pack::index::File::at(p, kind).ok())
            .collect();
        PackOrder { indices }
    }

    fn position(&self, id: &ObjectId) -> (usize, u64) {
        for (rank, idx) in self.indices.iter().enumerate() {
            if let Some(e) = idx.lookup(id) {
                return (rank, idx.pack_offset_at_index(e));
            }
        }
        (usize::MAX, u64::MAX)
    }
}

/// Group changes by `(olds, new)`; the result is sorted deterministically.
pub(crate) fn group(changes: Vec<Change>, order: &PackOrder) -> Vec<Job> {
    let mut map: HashMap<(Vec<ObjectId>, ObjectId), Vec<Use>> =
        HashMap::with_capacity(changes.len());
    for c in changes {
        map.entry((c.olds, c.new)).or_default().push(Use {
            path: c.path.to_string(),
            commit: c.commit,
            maybe_renamed: c.maybe_renamed,
        });
    }
    let mut keyed: Vec<((usize, u64), u32, Job)> = map
        .into_iter()
        .map(|((olds, new), mut uses)| {
            uses.sort();
            uses.dedup();
            let first_use = uses.iter().map(|u| u.commit).min().unwrap_or(u32::MAX);
            (
                order.position(&new),
                first_use,
                Job {
                    olds,
                    new: NewSide::Blob(new),
                    uses,
                },
            )
        })
        .collect();
    // Pack order (the order `git cat-file --unordered` reads in): delta bases precede their
    // deltas, so a base is usually still in the delta-base cache when its deltas are read.
    // Unpacked objects follow, newest history first.
    keyed.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| a.1.cmp(&b.1))
            .then_with(|| match (&a.2.new, &b.2.new) {
                (NewSide::Blob(x), NewSide::Blob(y)) => {
                    x.cmp(y).then_with(|| a.2.olds.cmp(&b.2.olds))
                }
                _ => std::cmp::Ordering::Equal,
            })
    });
    keyed.into_iter().map(|(_, _, j)| j).collect()
}

/// Counters of blobs by what happened to them.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct BlobCounts {
    pub distinct_changes: u64,
    pub blobs_read: u64,
    pub candidates: u64,
    pub binary: u64,
    pub archives: u64,
    pub archive_members: u64,
    pub lfs: u64,
    pub oversize: u64,
    pub streamed: u64,
}

impl BlobCounts {
    fn add(&mut self, o: &BlobCounts) {
        self.distinct_changes += o.distinct_changes;
        self.blobs_read += o.blobs_read;
        self.candidates += o.candidates;
        self.binary += o.binary;
        self.archives += o.archives;
        self.archive_members += o.archive_members;
        self.lfs += o.lfs;
        self.oversize += o.oversize;
        self.streamed += o.streamed;
    }
}

/// What scanning the jobs produced.
#[derive(Debug, Default)]
pub(crate) struct JobsOutcome {
    /// Findings with the index of their commit ([`NO_COMMIT`] outside history).
    pub findings: Vec<(u32, Finding)>,
    pub errors: Vec<ScanError>,
    /// Content that could not be scanned (one line each: what and why).
    pub incomplete: Vec<String>,
    /// Notices from the content pipeline (unsupported archive formats).
    pub warnings: Vec<String>,
    pub bytes: u64,
    pub counts: BlobCounts,
    /// Commits diffed again with rename detection (lazy renames), and the time it took.
    pub rename_diffs: (u64, std::time::Duration),
}

/// Everything a worker needs besides its repository handle.
pub(crate) struct Ctx<'a, S: ?Sized> {
    pub scanner: &'a S,
    /// Full hex id of each walked commit.
    pub commit_hex: &'a [String],
    /// The walked commits (empty outside history), for lazy rename detection.
    pub commits: &'a [super::walk::WalkedCommit],
    pub max_bytes: Option<u64>,
    /// Without `max_bytes`: blobs larger than this (by their object header) are streamed and
    /// scanned chunk by chunk ([`super::stream`]) instead of inflated whole.
    pub stream_above: Option<u64>,
    pub progress: &'a Progress,
    /// Cached [`FragmentScanner::has_path_rules`].
    pub path_rules: bool,
    /// Cached [`FragmentScanner::commit_sensitive`]: scan once per commit instead of mapping.
    pub per_commit: bool,
    /// Blobs already settled by the delta-order pass ([`packs::blob_verdicts`]).
    pub verdicts: &'a HashMap<ObjectId, Verdict>,
    /// Candidate blobs' content kept by the delta-order pass.
    pub retained: &'a HashMap<ObjectId, Vec<u8>>,
    /// Options of the shared content pipeline (archive depth and bounds) for archive blobs.
    pub content: &'a crate::source::SourceOptions,
    /// Cache sizes of the workers' repository handles.
    pub tuning: &'a super::GitTuning,
    /// Set by the caller to stop: no further job is started.
    pub interrupt: Option<&'a std::sync::atomic::AtomicBool>,
}

/// What identifies a finding inside an archive blob, to tell new findings from those an old
/// version of the archive already had.
type FindingKey = (String, String, String, u32, u32);

fn finding_key(f: &Finding) -> FindingKey {
    (
        f.rule_id.clone(),
        f.file.clone(),
        f.secret.clone(),
        f.start_line,
        f.start_column,
    )
}

/// A history scanner seen by the shared content pipeline: every fragment carries the commit.
struct AtCommit<'a, S: ?Sized> {
    scanner: &'a S,
    commit: &'a str,
}

impl<S: FragmentScanner + ?Sized> FragmentScanner for AtCommit<'_, S> {
    fn scan_fragment(&self, frag: &Fragment<'_>, out: &mut Vec<Finding>) {
        self.scanner.scan_fragment(
            &Fragment {
                commit: self.commit,
                ..*frag
            },
            out,
        );
    }

    fn path_allowed_globally(&self, path: &str) -> bool {
        self.scanner.path_allowed_globally(path)
    }
}

impl<S: FragmentScanner + ?Sized> Ctx<'_, S> {
    fn hex(&self, commit: u32) -> &str {
        self.commit_hex
            .get(commit as usize)
            .map_or("", String::as_str)
    }

    fn place(&self, u: &Use) -> String {
        if u.commit == NO_COMMIT {
            format!("file {}", u.path)
        } else {
            format!("file {} in commit {}", u.path, self.hex(u.commit))
        }
    }

    /// Process one job with `repo` (a thread-local handle).
    pub(crate) fn process(
        &self,
        repo: &gix::Repository,
        renames: &mut RenameResolver<'_>,
        job: &Job,
        out: &mut JobsOutcome,
    ) {
        out.counts.distinct_changes += 1;
        let Some(first) = job.uses.first() else {
            return;
        };
        // The blob's verdict: from the delta-order pass, else by reading it now.
        let mut owned: Option<Vec<u8>> = None;
        let known = match &job.new {
            NewSide::Blob(id) => self.verdicts.get(id),
            NewSide::Bytes(_) => None,
        };
        let verdict = match (&job.new, known) {
            (_, Some(v)) => *v,
            (NewSide::Bytes(b), None) => {
                packs::verdict_of(b, None, &|b| self.scanner.might_find(b))
            }
            (NewSide::Blob(id), None) => {
                let big = match self.max_bytes.is_some() || self.stream_above.is_some() {
                    false => None,
                    true => match repo.find_header(*id) {
                        Ok(h) => Some(h.size()),
                        Err(e) => {
                            out.errors.push(self.missing(id, first, &e));
                            return;
                        }
                    },
                };
                let oversize = match (self.max_bytes, big) {
                    (Some(max), Some(size)) => (size > max).then_some(size),
                    _ => None,
                };
                if let (None, Some(limit), Some(size)) = (self.max_bytes, self.stream_above, big)
                    && size > limit
                    && self.stream(repo, id, size, job, renames, out)
                {
                    return;
                }
                match oversize {
                    Some(size) => Verdict {
                        size,
                        kind: VerdictKind::Oversize,
                    },
                    None => {
                        let Some(bytes) = self.read(repo, id, first, out) else {
                            return;
                        };
                        let v = packs::verdict_of(&bytes, None, &|b| self.scanner.might_find(b));
                        owned = Some(bytes);
                        v
                    }
                }
            }
        };
        if !self.account(verdict.size, verdict.kind, job, first, out) {
            // Not scanned (oversize, LFS pointer): its paths still meet the path-only rules.
            if self.path_rules {
                let (plain, renamed) = self.resolve_renames(job, false, renames, out);
                self.scan_uses(&[], &[], &plain, false, out);
                for uses in renamed.values() {
                    self.scan_uses(&[], &[], uses, false, out);
                }
            }
            return;
        }
        let by_name = job.uses.iter().any(|u| archive_by_name(&u.path));
        let (candidate, kind) = match verdict.kind {
            VerdictKind::Archive => (true, ContentKind::Archive),
            _ if by_name => (true, ContentKind::Archive),
            VerdictKind::Binary { candidate } => (candidate, ContentKind::Binary),
            VerdictKind::Text { candidate } => (candidate, ContentKind::Text),
            VerdictKind::Oversize | VerdictKind::Lfs => return,
        };
        // Rules restricted to some paths are not in the verdict (`might_find`).
        let candidate = candidate
            || job
                .uses
                .iter()
                .any(|u| self.scanner.path_gated_content(&u.path));
        if !candidate && !self.path_rules {
            return;
        }
        // The content matters only for a candidate; one settled by the pass is read again.
        let data: &[u8] = match &job.new {
            NewSide::Bytes(b) => b,
            NewSide::Blob(_) if !candidate => &[],
            NewSide::Blob(id) => match self.retained.get(id) {
                Some(bytes) => bytes,
                None => {
                    if owned.is_none() {
                        owned = self.read(repo, id, first, out);
                    }
                    match &owned {
                        Some(bytes) => bytes,
                        None => return,
                    }
                }
            },
        };
        if candidate {
            out.counts.candidates += 1;
        }
        let (plain, renamed) = self.resolve_renames(job, candidate, renames, out);
        if kind == ContentKind::Archive {
            out.counts.archives += 1;
            let mut noted = std::collections::HashSet::new();
            self.scan_archive_uses(repo, job, &job.olds, data, &plain, &mut noted, out);
            for (old, uses) in renamed {
                self.scan_archive_uses(repo, job, &[old], data, &uses, &mut noted, out);
            }
            return;
        }
        // A binary blob is scanned (and diffed against its old versions) through its
        // printable view, which keeps every line break, so line numbers stay exact.
        let view = if candidate {
            scanned_view(data, kind)
        } else {
            std::borrow::Cow::Borrowed(&[][..])
        };
        let data: &[u8] = &view;
        // One scan per set of old versions: the job's own, then each rename source.
        let scan_against = |olds: &[ObjectId], uses: &[Use], out: &mut JobsOutcome| {
            let Some(u) = uses.first() else {
                return;
            };
            let runs = if candidate {
                self.runs_against(repo, olds, data, u, out)
            } else {
                Vec::new()
            };
            self.scan_uses(data, &runs, uses, candidate, out);
        };
        scan_against(&job.olds, &plain, out);
        for (old, uses) in renamed {
            scan_against(&[old], &uses, out);
        }
    }

    /// Scan the big blob `id` (`size` bytes by its header) of `job` as a stream, chunk by
    /// chunk ([`crate::source::chunk::reader_chunks`]); `false` when it cannot be streamed
    /// (stored as a delta, in an alternate store, or an archive, which is opened whole) and
    /// must be read whole. Like git for files above `core.bigFileThreshold`, a streamed blob
    /// gets no line diff against its old versions: every line counts as added (a superset of
    /// the line diff's findings).
    fn stream(
        &self,
        repo: &gix::Repository,
        id: &ObjectId,
        size: u64,
        job: &Job,
        renames: &mut RenameResolver<'_>,
        out: &mut JobsOutcome,
    ) -> bool {
        let Some(first) = job.uses.first() else {
            return true;
        };
        if job.uses.iter().any(|u| archive_by_name(&u.path)) {
            return false;
        }
        let reader = match super::stream::open(repo, id) {
            Ok(Some(r)) => r,
            Ok(None) => return false,
            Err(e) => {
                out.errors.push(self.missing(id, first, &e));
                return true;
            }
        };
        // Chunks end at line ends, so no secret is split between two of them.
        let mut chunks = crate::source::chunk::reader_chunks(reader).whole_lines();
        let mut kind = None;
        let mut uses: Vec<Use> = Vec::new();
        let mut view = Vec::new();
        let mut total = 0u64;
        loop {
            let (start_line, bytes) = match chunks.next_chunk() {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    out.errors.push(self.missing(id, first, &e));
                    return true;
                }
            };
            total += bytes.len() as u64;
            let is_binary = match kind {
                Some(k) => k == ContentKind::Binary,
                None => {
                    // Decided by the first chunk, as `classify` decides by the first bytes.
                    let k = classify(bytes);
                    if k == ContentKind::Archive {
                        return false;
                    }
                    kind = Some(k);
                    let verdict = if k == ContentKind::Binary {
                        VerdictKind::Binary { candidate: true }
                    } else {
                        VerdictKind::Text { candidate: true }
                    };
                    self.account(size, verdict, job, first, out);
                    out.counts.streamed += 1;
                    out.counts.candidates += 1;
                    let (plain, renamed) = self.resolve_renames(job, true, renames, out);
                    uses.extend(plain.iter().cloned());
                    uses.extend(renamed.into_values().flatten());
                    uses.sort();
                    uses.dedup();
                    k == ContentKind::Binary
                }
            };
            let text: &[u8] = if is_binary {
                crate::source::binary::printable_view(bytes, 0, bytes.len(), &mut view);
                &view
            } else {
                bytes
            };
            let run = super::lines::AddedRun {
                start_line,
                bytes: 0..text.len(),
            };
            self.scan_uses(text, std::slice::from_ref(&run), &uses, true, out);
        }
        if total != size {
            out.errors.push(self.missing(
                id,
                first,
                &format!("its content has {total} bytes, its header says {size}"),
            ));
        }
        true
    }

    /// Scan an archive blob (`data`, the new side of `job`) through the shared content
    /// pipeline for each distinct path of `uses`, then copy the findings to the other commits
    /// that carry the same change. Findings an old version of the archive (`olds`) already
    /// had at the same place are not new in this change and are dropped. Errors and content
    /// that could not be scanned are recorded once per path (`noted`).
    #[allow(clippy::too_many_arguments)]
    fn scan_archive_uses(
        &self,
        repo: &gix::Repository,
        job: &Job,
        olds: &[ObjectId],
        data: &[u8],
        uses: &[Use],
        noted: &mut std::collections::HashSet<String>,
        out: &mut JobsOutcome,
    ) {
        let mut old_keys: Option<std::collections::HashSet<FindingKey>> = None;
        let mut i = 0;
        while i < uses.len() {
            let path = &uses[i].path;
            let mut j = i;
            while j < uses.len() && uses[j].path == *path && !(self.per_commit && j > i) {
                j += 1;
            }
            let c0 = uses[i].commit;
            let report = self.pipeline(data, path, self.hex(c0));
            if noted.insert(path.clone()) {
                let at = match &job.new {
                    NewSide::Blob(id) => format!(" (blob {id}, {})", self.place(&uses[i])),
                    NewSide::Bytes(_) => String::new(),
                };
                let blob = match &job.new {
                    NewSide::Blob(id) => Some(id.to_string()),
                    NewSide::Bytes(_) => None,
                };
                out.errors.extend(report.errors.iter().map(|e| {
                    let mut e = self.about(e.clone().with_suffix(&at), &uses[i]);
                    if e.object.is_none() {
                        e.object.clone_from(&blob);
                    }
                    e
                }));
                out.incomplete
                    .extend(report.incomplete.iter().map(|e| format!("{e}{at}")));
                out.warnings
                    .extend(report.warnings.iter().map(|e| format!("{e}{at}")));
                out.counts.archive_members += report.files_scanned;
                out.bytes += report.bytes_scanned;
            }
            if !report.findings.is_empty() && !olds.is_empty() && old_keys.is_none() {
                let mut keys = std::collections::HashSet::new();
                for id in olds {
                    if let Ok(obj) = repo.find_object(*id) {
                        let old = self.pipeline(&obj.data, path, self.hex(c0));
                        keys.extend(old.findings.iter().map(finding_key));
                    }
                }
                old_keys = Some(keys);
            }
            for f in report.findings {
                if old_keys
                    .as_ref()
                    .is_some_and(|k| k.contains(&finding_key(&f)))
                {
                    continue;
                }
                for u in &uses[i..j] {
                    let mut f = f.clone();
                    f.commit = self.hex(u.commit).to_string();
                    f.fingerprint = f.gitleaks_fingerprint();
                    out.findings.push((u.commit, f));
                }
            }
            i = j;
        }
    }

    /// `data` through the shared content pipeline as the file `path` of commit `commit`.
    fn pipeline(&self, data: &[u8], path: &str, commit: &str) -> crate::source::SourceReport {
        let scanner = AtCommit {
            scanner: self.scanner,
            commit,
        };
        let content = crate::source::content::Content {
            scanner: &scanner,
            opts: self.content,
            open_archives: true,
            symlink: "",
        };
        let mut report = crate::source::SourceReport::default();
        let mut budget = crate::source::archive::Budget {
            used: 0,
            top_size: data.len() as u64,
        };
        content.scan(data, path, 0, &mut budget, &mut report);
        report
    }

    /// The blob `id` (the new side of the change `first`), or `None` with the error recorded.
    fn read(
        &self,
        repo: &gix::Repository,
        id: &ObjectId,
        first: &Use,
        out: &mut JobsOutcome,
    ) -> Option<Vec<u8>> {
        match repo.find_object(*id) {
            Ok(obj) => Some(obj.detach().data),
            Err(e) => {
                out.errors.push(self.missing(id, first, &e));
                None
            }
        }
    }

    /// The error for a new blob that cannot be read.
    fn missing(&self, id: &ObjectId, first: &Use, e: &dyn std::fmt::Display) -> ScanError {
        self.about(
            ScanError::new(
                ScanErrorKind::Object,
                format!(
                    "object {id} ({}) is missing or corrupt: {e}",
                    self.place(first)
                ),
            )
            .with_object(id.to_string()),
            first,
        )
    }

    /// `e` with the path and commit of `u` in its typed fields (the message is unchanged; a
    /// path already set, an archive member's, is kept).
    fn about(&self, mut e: ScanError, u: &Use) -> ScanError {
        if e.path.is_none() {
            e.path = Some(u.path.clone());
        }
        if u.commit != NO_COMMIT {
            e.commit = Some(self.hex(u.commit).to_string());
        }
        e
    }

    /// Count a blob of `size` bytes settled as `kind` in `out`; `false` when its content is
    /// not scanned (oversize, LFS pointer).
    fn account(
        &self,
        size: u64,
        kind: VerdictKind,
        job: &Job,
        first: &Use,
        out: &mut JobsOutcome,
    ) -> bool {
        match kind {
            VerdictKind::Oversize => {
                out.counts.oversize += 1;
                let id = match &job.new {
                    NewSide::Blob(id) => format!(" (blob {id})"),
                    NewSide::Bytes(_) => String::new(),
                };
                out.incomplete.push(format!(
                    "{}{id}: not scanned: {size} bytes, larger than --max-target-megabytes",
                    self.place(first)
                ));
                return false;
            }
            VerdictKind::Binary { .. }
            | VerdictKind::Archive
            | VerdictKind::Lfs
            | VerdictKind::Text { .. } => {}
        }
        out.counts.blobs_read += 1;
        out.bytes += size;
        match kind {
            VerdictKind::Binary { .. } => {
                out.counts.binary += 1;
                true
            }
            VerdictKind::Lfs => {
                out.counts.lfs += 1;
                false
            }
            _ => true,
        }
    }

    /// Split the uses of a job without old versions by what rename detection makes of them:
    /// the uses to scan as additions, and those that are renames with edits, by source blob.
    /// 100 % renames are dropped. Only uses flagged `maybe_renamed` whose outcome can matter
    /// are resolved: all of them for a candidate blob; without candidacy only a use whose
    /// path alone yields a finding (path rules), as a rename with edits then scans like an
    /// addition.
    fn resolve_renames<'j>(
        &self,
        job: &'j Job,
        candidate: bool,
        renames: &mut RenameResolver<'_>,
        out: &mut JobsOutcome,
    ) -> (Cow<'j, [Use]>, BTreeMap<ObjectId, Vec<Use>>) {
        let mut renamed: BTreeMap<ObjectId, Vec<Use>> = BTreeMap::new();
        if !job.olds.is_empty() || !job.uses.iter().any(|u| u.maybe_renamed) {
            return (Cow::Borrowed(&job.uses), renamed);
        }
        let mut plain = Vec::with_capacity(job.uses.len());
        let mut probe = Vec::new();
        for u in &job.uses {
            if !u.maybe_renamed {
                plain.push(u.clone());
                continue;
            }
            if !candidate {
                probe.clear();
                self.scanner.scan_fragment(
                    &Fragment {
                        text: b"",
                        path: &u.path,
                        symlink_file: "",
                        commit: self.hex(u.commit),
                        start_line: 0,
                    },
                    &mut probe,
                );
                if probe.is_empty() {
                    plain.push(u.clone());
                    continue;
                }
            }
            match renames.resolve(u.commit, &u.path) {
                Ok(RenameOutcome::Added) => plain.push(u.clone()),
                Ok(RenameOutcome::Unchanged) => {}
                Ok(RenameOutcome::Renamed(old)) => renamed.entry(old).or_default().push(u.clone()),
                Err(e) => {
                    // Fail safe: report and scan every line as added.
                    let e = ScanError::new(
                        ScanErrorKind::Git,
                        format!("rename detection for {}: {e}", self.place(u)),
                    );
                    out.errors.push(self.about(e, u));
                    plain.push(u.clone());
                }
            }
        }
        (Cow::Owned(plain), renamed)
    }

    /// The runs of `data` added relative to every blob of `olds` (read here); `first` names
    /// the change in error messages.
    fn runs_against(
        &self,
        repo: &gix::Repository,
        olds: &[ObjectId],
        data: &[u8],
        first: &Use,
        out: &mut JobsOutcome,
    ) -> Vec<super::lines::AddedRun> {
        let mut old_texts: Vec<Vec<u8>> = Vec::with_capacity(olds.len());
        for id in olds {
            match repo.find_object(*id) {
                Ok(obj) => {
                    let bytes = obj.detach().data;
                    // Old versions are compared as the detector saw them (the printable view
                    // of a binary format); an old archive: every line counts as added.
                    match classify(&bytes) {
                        ContentKind::Text | ContentKind::LfsPointer => old_texts.push(bytes),
                        ContentKind::Binary => {
                            old_texts.push(scanned_view(&bytes, ContentKind::Binary).into_owned())
                        }
                        ContentKind::Archive => {
                            old_texts.clear();
                            break;
                        }
                    }
                }
                Err(e) => {
                    // Fail safe: report the error and treat every line as added.
                    let e = ScanError::new(
                        ScanErrorKind::Object,
                        format!(
                            "object {id} (previous version of {}) is missing or corrupt: {e}",
                            self.place(first)
                        ),
                    )
                    .with_object(id.to_string());
                    out.errors.push(self.about(e, first));
                    old_texts.clear();
                    break;
                }
            }
        }
        let refs: Vec<&[u8]> = old_texts.iter().map(Vec::as_slice).collect();
        added_runs(&refs, data)
    }

    /// Scan the added runs once per distinct path, then copy the findings to the other commits
    /// that carry the same change (commit and fingerprint recomputed).
    fn scan_uses(
        &self,
        data: &[u8],
        runs: &[super::lines::AddedRun],
        uses: &[Use],
        candidate: bool,
        out: &mut JobsOutcome,
    ) {
        let mut i = 0;
        let mut found = Vec::new();
        while i < uses.len() {
            let path = &uses[i].path;
            let mut j = i;
            while j < uses.len() && uses[j].path == *path && !(self.per_commit && j > i) {
                j += 1;
            }
            let c0 = uses[i].commit;
            found.clear();
            let base = Fragment {
                text: b"",
                path,
                symlink_file: "",
                commit: self.hex(c0),
                start_line: 0,
            };
            if candidate && !runs.is_empty() {
                for run in runs {
                    let f = Fragment {
                        text: &data[run.bytes.clone()],
                        start_line: run.start_line,
                        ..base
                    };
                    self.scanner.scan_fragment(&f, &mut found);
                }
            } else if self.path_rules {
                self.scanner.scan_fragment(&base, &mut found);
            }
            for u in &uses[i..j] {
                for f in &found {
                    let mut f = f.clone();
                    f.file = path.clone();
                    f.commit = self.hex(u.commit).to_string();
                    f.fingerprint = f.gitleaks_fingerprint();
                    out.findings.push((u.commit, f));
                }
            }
            i = j;
        }
    }
}

/// Give the heap pages freed by the tree-diff phase back to the system before the blob phase
/// (glibc keeps freed memory in its per-thread arenas otherwise).
pub(crate) fn release_free_heap() {
    portcullis_unsafe::memory::trim_heap();
}

/// Scan `jobs` in parallel, one thread-local repository per rayon thread.
pub(crate) fn run<S: FragmentScanner + ?Sized>(
    ts: &gix::ThreadSafeRepository,
    jobs: &[Job],
    ctx: &Ctx<'_, S>,
) -> JobsOutcome {
    const CHUNK: usize = 16;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<JobsOutcome>> = Mutex::new(Vec::new());
    let rename_cache = RenameCache::default();
    rayon::broadcast(|_| {
        let mut repo = ts.to_thread_local();
        // No object cache: each new blob is read once, and old blobs are read only for the
        // rare candidates (copying every blob into a 4 MB cache cost ~1 s CPU on git.git).
        repo.object_cache_size(None);
        // 32 MB per thread: 64 MB saved no measurable CPU but cost ~110 MB of heap.
        super::tuning::set_pack_cache(&mut repo, ctx.tuning.pack_cache_mb);
        let mut renames = RenameResolver::new(
            ts,
            ctx.commits,
            &rename_cache,
            ctx.tuning.rename_pack_cache_mb,
        );
        let mut out = JobsOutcome::default();
        loop {
            if ctx.interrupt.is_some_and(|f| f.load(Ordering::Relaxed)) {
                break;
            }
            let start = next.fetch_add(CHUNK, Ordering::Relaxed);
            if start >= jobs.len() {
                break;
            }
            let end = (start + CHUNK).min(jobs.len());
            let before = out.bytes;
            for job in &jobs[start..end] {
                ctx.process(&repo, &mut renames, job, &mut out);
            }
            ctx.progress
                .inc(u64::try_from(end - start).unwrap_or(0), out.bytes - before);
        }
        if let Ok(mut r) = results.lock() {
            r.push(out);
        }
    });
    let mut all = JobsOutcome::default();
    for o in results.into_inner().unwrap_or_default() {
        all.findings.extend(o.findings);
        all.errors.extend(o.errors);
        all.incomplete.extend(o.incomplete);
        all.warnings.extend(o.warnings);
        all.bytes += o.bytes;
        all.counts.add(&o.counts);
    }
    all.errors.sort();
    all.incomplete.sort();
    all.warnings.sort();
    all.rename_diffs = (rename_cache.commits_diffed(), rename_cache.time_spent());
    all
}
