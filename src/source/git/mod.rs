//! Git history as a scan source, read in-process with gix (no `git` process).
//!
//! Semantics (gitleaks-compatible, plus merge resolutions):
//! * a finding is a secret on a line a commit **adds** relative to its first parent (the `+`
//!   lines of `git log -p -U0 --full-history --all --diff-filter=tuxdb`); each `-U0` hunk is one
//!   [`Fragment`] whose `start_line` is the hunk's new start line;
//! * root commits (and commits at a shallow boundary) add every line of every file;
//! * a merge commit adds the lines that are in **none** of its parents (conflict resolutions,
//!   evil merges) — gitleaks scans no merge patches and misses these;
//! * `File` is the new path (renames followed with git's 50 % similarity rule); deleted files,
//!   100 % renames and submodule (gitlink) entries are not scanned; symlinks are scanned as
//!   their target text, as `git log -p` shows it; a type change (file ↔ symlink) counts as a
//!   new file;
//! * blob content gets the treatment files on disk get ([`crate::source::content`]): binary
//!   formats are scanned through their printable view (line-diffed like text), archives are
//!   opened to `max_archive_depth` under the same bomb bounds (members named `path!member`;
//!   findings an old version of the archive already had are not new), and path-only rules see
//!   every added path, also of content that is not scanned; Git LFS pointers (content outside
//!   the repository) get only the path check; blobs over `max_target_megabytes`, encrypted
//!   members and archives nested too deep are listed in [`GitScanReport::incomplete`]; every
//!   kind is counted in [`GitScanStats`];
//! * a missing or corrupt object is listed in [`GitScanReport::errors`] with its id, path and
//!   commit; the scan goes on (and the CLI exits 2).
//!
//! Engine: commits are walked with gix; their tree diffs run in parallel (rayon, one
//! thread-local repository per thread; on large scans trees come from an in-memory store of
//! the packs' inflated tree entries, `trees.rs`); changes are grouped by `(old blobs, new
//! blob)` and each distinct new blob is classified and prefiltered once
//! ([`FragmentScanner::might_find`]), on large scans in one delta-order pass over the packs
//! (`packs.rs`); only candidates get a line diff and a detector pass per added hunk, and the
//! findings are mapped to every commit that introduces the change.

mod changes;
mod content;
mod engine;
mod error;
mod lines;
mod meta;
mod packs;
mod resident;
mod revs;
mod stream;
mod trees;
mod walk;
mod worktree;

#[cfg(test)]
pub(crate) mod test_support {
    /// Run `git args` in `dir` with a fixed identity and no user or system config; its stdout.
    pub(crate) fn git(dir: &std::path::Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .current_dir(dir)
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
            .args(args)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .expect("run git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

use std::collections::{HashMap, HashSet};
use std::path::Path;

pub use error::GitError;

use crate::detect::Fragment;
use crate::report::finding::Finding;

/// What the history engine needs from a detector: a cheap prefilter over whole blobs and a
/// full scan of one fragment. [`crate::detect::Detector`] implements it; tests and tools may
/// plug in their own.
pub trait FragmentScanner: Sync {
    /// `false` guarantees that [`scan`](Self::scan) finds nothing in any fragment whose text is
    /// a substring of `bytes` (path-only rules excepted).
    fn might_match(&self, bytes: &[u8]) -> bool;
    /// Like [`might_match`](Self::might_match) (`false` guarantees that [`scan`](Self::scan)
    /// finds nothing in any fragment made of whole lines of `bytes`), but as sharp as the
    /// scanner can make it: the engine computes line diffs only for blobs where this is `true`.
    fn might_find(&self, bytes: &[u8]) -> bool {
        self.might_match(bytes)
    }
    /// Append every finding of `frag` to `out`.
    fn scan(&self, frag: &Fragment<'_>, out: &mut Vec<Finding>);
    /// Whether some rule matches on the path alone (then every changed file is offered to
    /// [`scan`](Self::scan), with an empty fragment when its content cannot match).
    fn has_path_rules(&self) -> bool {
        false
    }
    /// Whether `path` matches a global allowlist path (archive members are then not scanned,
    /// as for files on disk).
    fn path_allowed_globally(&self, _path: &str) -> bool {
        false
    }
    /// Whether findings depend on the commit id (commit allowlists): then each commit that
    /// carries a change is scanned on its own instead of receiving a copy of the findings.
    fn commit_sensitive(&self) -> bool {
        false
    }
}

impl FragmentScanner for crate::detect::Detector {
    fn might_match(&self, bytes: &[u8]) -> bool {
        crate::detect::Detector::might_match(self, bytes)
    }
    fn might_find(&self, bytes: &[u8]) -> bool {
        crate::detect::Detector::might_find(self, bytes)
    }
    fn scan(&self, frag: &Fragment<'_>, out: &mut Vec<Finding>) {
        crate::detect::Detector::scan(self, frag, out);
    }
    fn has_path_rules(&self) -> bool {
        self.config()
            .rules()
            .iter()
            .any(|r| r.regex.is_none() && r.path.is_some())
    }
    fn path_allowed_globally(&self, path: &str) -> bool {
        crate::detect::Detector::path_allowed_globally(self, path)
    }
    fn commit_sensitive(&self) -> bool {
        let cfg = self.config();
        cfg.allowlists().iter().any(|a| !a.commits.is_empty())
            || cfg
                .rules()
                .iter()
                .any(|r| r.allowlists.iter().any(|a| !a.commits.is_empty()))
    }
}

/// Scan the history (or index / work tree) of the repository at `repo` with the detector.
pub fn scan_history(
    repo: &Path,
    detector: &crate::detect::Detector,
    opts: &GitScanOptions,
) -> Result<GitScanReport, GitError> {
    scan_history_with(repo, detector, opts)
}

/// Options of a history, index or work-tree scan.
#[derive(Debug, Clone)]
pub struct GitScanOptions {
    /// Revisions and ranges (`A..B`, `A...B`, `rev`, `^rev`; an entry may hold several,
    /// whitespace-separated). Empty = every ref (`git log --all`, `refs/stash` included).
    pub revs: Vec<String>,
    /// One finding per (rule, secret, file): the earliest commit, with `CommitCount`.
    pub dedup: bool,
    /// Do not scan blobs larger than this many megabytes (0 = no limit, as in gitleaks); each
    /// blob not scanned makes the scan incomplete ([`GitScanReport::incomplete`]).
    pub max_target_megabytes: Option<u64>,
    /// Open archives (zip, tar, gzip) in blobs up to this nesting depth (0 = do not open).
    pub max_archive_depth: u32,
    /// Decompression-bomb bounds of the archives opened.
    pub archive_limits: crate::source::archive::ArchiveLimits,
    /// Draw a progress bar on stderr (only when it is a terminal; it appears after 200 ms).
    pub progress: bool,
    /// Scan the index against `HEAD` instead of history (pre-commit hooks).
    pub staged: bool,
    /// Scan the work tree (tracked files) against `HEAD` instead of history.
    pub uncommitted: bool,
    /// Only commits not reachable from this revision (`REV..HEAD`, or `^REV` added to `revs`).
    pub since_commit: Option<String>,
    /// Without `max_target_megabytes`: blobs larger than this many bytes (by the size in their
    /// object header) are not inflated whole but streamed and scanned in chunks, with every
    /// line counted as added (no line diff, like git above `core.bigFileThreshold`). `None` =
    /// never stream. Default [`DEFAULT_STREAM_ABOVE_BYTES`].
    pub stream_above_bytes: Option<u64>,
}

impl Default for GitScanOptions {
    fn default() -> Self {
        GitScanOptions {
            revs: Vec::new(),
            dedup: false,
            max_target_megabytes: None,
            max_archive_depth: DEFAULT_MAX_ARCHIVE_DEPTH,
            archive_limits: crate::source::archive::ArchiveLimits::default(),
            progress: false,
            staged: false,
            uncommitted: false,
            since_commit: None,
            stream_above_bytes: Some(DEFAULT_STREAM_ABOVE_BYTES),
        }
    }
}

/// Blobs above this size are streamed when no size limit is set (64 MiB).
pub const DEFAULT_STREAM_ABOVE_BYTES: u64 = 64 << 20;

/// Archive nesting depth opened by default (the `scan` commands' `--max-archive-depth`).
pub const DEFAULT_MAX_ARCHIVE_DEPTH: u32 = 2;

/// Counters describing what a scan read and skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitScanStats {
    /// File changes found by the tree diffs (one per commit and path).
    pub changes: u64,
    /// Distinct `(old blobs, new blob)` pairs among them (each processed once).
    pub distinct_changes: u64,
    /// Blobs read and prefiltered.
    pub blobs_read: u64,
    /// Distinct blobs classified and prefiltered by the delta-order pass over the pack files
    /// (each pack entry inflated once); the others were read by id.
    pub blobs_in_delta_order: u64,
    /// Blobs the prefilter passed on to line diff and full detection.
    pub candidates: u64,
    /// Blobs in a binary format, scanned through their printable view.
    pub binary_scanned: u64,
    /// Archive blobs opened by the shared content pipeline.
    pub archives_scanned: u64,
    /// Archive members scanned (nested members included).
    pub archive_members_scanned: u64,
    /// Git LFS pointer files skipped (their content is not in the repository).
    pub lfs_pointers_skipped: u64,
    /// Blobs over `max_target_megabytes` skipped.
    pub oversize_skipped: u64,
    /// Submodule (gitlink) entries skipped.
    pub submodules_skipped: u64,
    /// Blobs above `stream_above_bytes` scanned as a stream, chunk by chunk (no line diff).
    pub blobs_streamed: u64,
}

/// The result of a git scan.
#[derive(Debug, Clone, Default)]
pub struct GitScanReport {
    /// Findings (deduplicated when requested), newest commit first.
    pub findings: Vec<Finding>,
    /// Objects that could not be read (id, path, commit): the scan is incomplete.
    pub errors: Vec<String>,
    /// Commits walked.
    pub commits_scanned: u64,
    /// Bytes of blob content read and prefiltered.
    pub bytes_scanned: u64,
    /// Things the user should know (shallow boundary, LFS pointers, odd refs).
    pub warnings: Vec<String>,
    /// Content that was not scanned, one line each naming what and why (blobs over
    /// `max_target_megabytes`, encrypted archive members, archives nested deeper than
    /// `max_archive_depth`). Not empty = the secrets scan is incomplete: callers must treat
    /// it as failed, like an error.
    pub incomplete: Vec<String>,
    /// What was read and skipped.
    pub stats: GitScanStats,
}

/// [`scan_history`] with any [`FragmentScanner`].
pub fn scan_history_with<S: FragmentScanner + ?Sized>(
    path: &Path,
    scanner: &S,
    opts: &GitScanOptions,
) -> Result<GitScanReport, GitError> {
    if opts.staged && opts.uncommitted {
        return Err(GitError::Options(
            "--staged and --uncommitted exclude each other".into(),
        ));
    }
    if (opts.staged || opts.uncommitted) && (!opts.revs.is_empty() || opts.since_commit.is_some()) {
        return Err(GitError::Options(
            "--staged/--uncommitted cannot be combined with revisions or --since-commit".into(),
        ));
    }
    let mut repo = revs::open(path)?;
    repo.object_cache_size_if_unset(16 << 20);
    let mut report = GitScanReport::default();
    let progress = crate::source::progress::Progress::new(opts.progress);
    // 0 means no limit, as in gitleaks.
    let max_bytes = opts
        .max_target_megabytes
        .filter(|&m| m > 0)
        .map(|m| m.saturating_mul(1_000_000));
    let stream_above = if max_bytes.is_none() {
        opts.stream_above_bytes
    } else {
        None
    };
    let content_opts = crate::source::SourceOptions {
        max_target_megabytes: opts.max_target_megabytes.filter(|&m| m > 0),
        max_archive_depth: opts.max_archive_depth,
        archive_limits: crate::source::archive::ArchiveLimits {
            max_member_bytes: max_bytes,
            ..opts.archive_limits
        },
        ..crate::source::SourceOptions::default()
    };

    if opts.staged || opts.uncommitted {
        let jobs = if opts.staged {
            worktree::staged_jobs(&repo, path, &mut report.warnings)?
        } else {
            worktree::uncommitted_jobs(&repo, path, &mut report.errors)?
        };
        report.stats.changes = jobs.len() as u64;
        let ts = repo.into_sync();
        let ctx = engine::Ctx {
            scanner,
            commit_hex: &[],
            commits: &[],
            max_bytes,
            stream_above,
            progress: &progress,
            path_rules: scanner.has_path_rules(),
            per_commit: false,
            verdicts: &HashMap::new(),
            retained: &HashMap::new(),
            content: &content_opts,
        };
        progress.plan(&["files"]);
        progress.phase("files", jobs.len() as u64);
        let out = engine::run(&ts, &jobs, &ctx);
        progress.finish();
        finish(&mut report, out, max_bytes);
        report
            .findings
            .sort_by(crate::report::finding::report_order);
        return Ok(report);
    }

    // Which commits.
    let tr = std::time::Instant::now();
    let sel = if opts.revs.is_empty() && opts.since_commit.is_none() {
        revs::Selection {
            tips: revs::all_refs(&repo, path, &mut report.warnings, &mut report.errors)?,
            hidden: Vec::new(),
        }
    } else {
        let mut revs_list = opts.revs.clone();
        if let Some(since) = &opts.since_commit {
            revs::resolve_one(&repo, path, since)?;
            revs_list.push(format!("^{since}"));
        }
        revs::select(&repo, path, &revs_list)?
    };
    let timing = std::env::var_os("PORTCULLIS_GIT_TIMING").is_some();
    if timing {
        eprintln!("timing: refs {:?}", tr.elapsed());
    }
    let t0 = std::time::Instant::now();
    // The whole-pack passes (tree store, delta-order blob pass) pay for themselves on large
    // scans only; they cost time proportional to the pack size, not to the range scanned.
    // Opened before the page limiter starts or while it runs, dropped after it stops (see
    // `PackSet`).
    let passes = PackPasses::from_env();
    let packs: std::cell::OnceCell<packs::PackSet> = std::cell::OnceCell::new();
    // Declared after `packs`: on every path it stops before the packs are unmapped.
    let limiter = resident::PackPageLimiter::start(&repo);
    let early = match passes {
        PackPasses::Always => true,
        PackPasses::Never => false,
        // All history of the tips: the tree store loads while the commits are walked.
        PackPasses::Auto => sel.hidden.is_empty(),
    };
    // On the early path the root tree ids are also read while the commits are walked (the
    // walk keeps one core busy), by a third thread fed with the walked ids.
    let (commits, mut store, tree_ids) = if early {
        let p = packs.get_or_init(|| packs::PackSet::open(&repo));
        let reader_repo = repo.clone();
        std::thread::scope(|scope| {
            let loader = scope.spawn(|| {
                let store = load_store(p);
                if timing {
                    eprintln!("timing: tree store loaded at {:?}", t0.elapsed());
                }
                store
            });
            // A panic in the in-memory walk only costs its speed-up.
            let packed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                walk::walk_packed(&repo, p, &sel)
            }))
            .ok()
            .flatten();
            if let Some((walked, trees)) = packed {
                return (Ok(walked), loader.join().ok().flatten(), Some(trees));
            }
            let (feed, batches) = std::sync::mpsc::channel::<Vec<gix::ObjectId>>();
            let reader = scope.spawn(move || changes::read_tree_ids(&reader_repo, batches));
            let walked = walk::walk_feeding(&repo, path, &sel, Some(feed));
            (walked, loader.join().ok().flatten(), reader.join().ok())
        })
    } else {
        (walk::walk(&repo, path, &sel), None, None)
    };
    let commits = commits?;
    if timing {
        eprintln!(
            "timing: walk {} commits {:?} ({})",
            commits.len(),
            t0.elapsed(),
            resident::memory_summary()
        );
    }
    report.commits_scanned = commits.len() as u64;

    // Shallow boundary.
    let shallow: HashSet<gix::ObjectId> = match repo.shallow_commits() {
        Ok(Some(list)) => list.iter().copied().collect(),
        _ => HashSet::new(),
    };
    let at_boundary: Vec<_> = commits.iter().filter(|c| shallow.contains(&c.id)).collect();
    if !at_boundary.is_empty() {
        report.warnings.push(format!(
            "shallow clone: the scanned history reaches the shallow boundary at {} commit(s) (e.g. {}); \
             their parents are not available, so every line of those commits is scanned as added \
             and older history is not scanned (fetch with --unshallow for a complete scan)",
            at_boundary.len(),
            at_boundary[0].id
        ));
    }

    if store.is_none() && passes.worth_it(commits.len()) {
        store = load_store(packs.get_or_init(|| packs::PackSet::open(&repo)));
    }

    // Tree diffs.
    let ts = repo.into_sync();
    progress.plan(&["commits", "blobs", "files"]);
    progress.phase("commits", commits.len() as u64);
    let t1 = std::time::Instant::now();
    if timing {
        eprintln!(
            "timing: tree store {} MB ({})",
            store.as_ref().map_or(0, |s| s.bytes() >> 20),
            resident::memory_summary()
        );
    }
    let (changes, errors, counts) =
        changes::collect(&ts, &commits, &shallow, store.as_ref(), tree_ids, &progress);
    drop(store);
    if timing {
        eprintln!(
            "timing: tree diffs {} changes {:?} ({})",
            changes.len(),
            t1.elapsed(),
            resident::memory_summary()
        );
    }
    report.errors.extend(errors);
    report.stats.submodules_skipped = counts.submodules;
    report.stats.changes = changes.len() as u64;

    // Blob-once scan. The delta-order pass (classify and prefilter every distinct new blob,
    // inflating each pack entry once) needs only the distinct new blobs, so the changes are
    // grouped into jobs on another thread meanwhile.
    let wanted: Vec<gix::ObjectId> = {
        let mut seen = HashSet::with_capacity(changes.len());
        changes
            .iter()
            .filter_map(|c| seen.insert(c.new).then_some(c.new))
            .collect()
    };
    progress.phase("blobs", wanted.len() as u64);
    let t2 = std::time::Instant::now();
    let (jobs, pass) = std::thread::scope(|scope| {
        let grouping = scope.spawn(|| {
            let jobs = engine::group(changes, &engine::PackOrder::load(&ts.to_thread_local()));
            if timing {
                eprintln!(
                    "timing: grouped {} jobs {:?} ({})",
                    jobs.len(),
                    t2.elapsed(),
                    resident::memory_summary()
                );
            }
            jobs
        });
        let pass = if passes.worth_it(wanted.len()) {
            packs::blob_verdicts(
                packs.get_or_init(|| packs::PackSet::open(&ts.to_thread_local())),
                &wanted,
                max_bytes,
                stream_above,
                &|b| scanner.might_find(b),
                &|bytes| progress.inc(1, bytes),
            )
        } else {
            packs::PassOutcome::default()
        };
        let jobs = grouping
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (jobs, pass)
    });
    let verdicts = pass.verdicts;
    engine::release_free_heap();
    report.stats.blobs_in_delta_order = verdicts.len() as u64;
    if timing {
        eprintln!(
            "timing: delta-order pass {} of {} blobs settled {:?} ({})",
            verdicts.len(),
            wanted.len(),
            t2.elapsed(),
            resident::memory_summary()
        );
    }
    drop(wanted);
    let commit_hex: Vec<String> = commits.iter().map(|c| c.id.to_string()).collect();
    let ctx = engine::Ctx {
        scanner,
        commit_hex: &commit_hex,
        commits: &commits,
        max_bytes,
        stream_above,
        progress: &progress,
        path_rules: scanner.has_path_rules(),
        per_commit: scanner.commit_sensitive(),
        verdicts: &verdicts,
        retained: &pass.retained,
        content: &content_opts,
    };
    progress.phase("files", jobs.len() as u64);
    let t2 = std::time::Instant::now();
    let out = engine::run(&ts, &jobs, &ctx);
    progress.finish();
    let releases = limiter.stop();
    drop(packs);
    if timing {
        eprintln!(
            "timing: blobs {} jobs, {} candidates, {:?} ({}; pack pages released {releases}x; {} pack entries refused by the decoder; {} commits diffed again for renames in {:?})",
            jobs.len(),
            out.counts.candidates,
            t2.elapsed(),
            resident::memory_summary(),
            packs::REFUSED.load(std::sync::atomic::Ordering::Relaxed),
            out.rename_diffs.0,
            out.rename_diffs.1
        );
    }

    // Metadata, dedup, order.
    let repo = ts.to_thread_local();
    let mut metas: HashMap<u32, meta::CommitMeta> = HashMap::new();
    for (idx, _) in &out.findings {
        if *idx == engine::NO_COMMIT || metas.contains_key(idx) {
            continue;
        }
        let Some(c) = commits.get(*idx as usize) else {
            continue;
        };
        match meta::read(&repo, c.id) {
            Ok(m) => {
                metas.insert(*idx, m);
            }
            Err(e) => report.errors.push(e),
        }
    }
    let mut findings = out.findings;
    let rest = engine::Outcome {
        findings: Vec::new(),
        ..out
    };
    for (idx, f) in &mut findings {
        if let Some(m) = metas.get(idx) {
            f.author = m.author.clone();
            f.email = m.email.clone();
            f.date = m.date.clone();
            f.message = m.message.clone();
        }
    }
    if opts.dedup {
        findings = dedup(findings, &commits);
    }
    findings.sort_by(|(ia, a), (ib, b)| {
        ia.cmp(ib)
            .then_with(|| crate::report::finding::report_order(a, b))
    });
    finish(&mut report, rest, max_bytes);
    report.findings = findings.into_iter().map(|(_, f)| f).collect();
    Ok(report)
}

/// Load the tree store of `packs`. A panic while loading only costs the speed-up: trees are
/// then read by id.
fn load_store(packs: &packs::PackSet) -> Option<trees::TreeStore<'_>> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        trees::TreeStore::load(packs)
    }))
    .ok()
}

/// When the whole-pack passes run (`PORTCULLIS_PACK_PASSES` = `always`, `never` or `auto`,
/// the default): reading every entry of a pack pays off only when a scan touches a large part
/// of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PackPasses {
    Auto,
    Always,
    Never,
}

impl PackPasses {
    /// Commits (tree store) or distinct blobs (delta-order pass) from which `auto` runs a pass.
    const AUTO_MIN: usize = 5_000;

    fn from_env() -> PackPasses {
        match std::env::var("PORTCULLIS_PACK_PASSES").as_deref() {
            Ok("always") => PackPasses::Always,
            Ok("never") => PackPasses::Never,
            _ => PackPasses::Auto,
        }
    }

    /// Whether a pass over `n` commits or blobs should run.
    fn worth_it(self, n: usize) -> bool {
        match self {
            PackPasses::Always => true,
            PackPasses::Never => false,
            PackPasses::Auto => n >= Self::AUTO_MIN,
        }
    }
}

/// Move the engine outcome into the report (findings are handled by the caller).
fn finish(report: &mut GitScanReport, out: engine::Outcome, max_bytes: Option<u64>) {
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
fn dedup(findings: Vec<(u32, Finding)>, commits: &[walk::WalkedCommit]) -> Vec<(u32, Finding)> {
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

/// Resolve a revision (branch, tag, `HEAD~3`, abbreviated id, …) of the repository at `repo`
/// to the full hex id of the commit it names.
pub fn resolve_rev(repo: &Path, rev: &str) -> Result<String, GitError> {
    let r = revs::open(repo)?;
    Ok(revs::resolve_one(&r, repo, rev)?.to_string())
}

/// The best merge base of revisions `a` and `b` of the repository at `repo`, as full hex id.
pub fn merge_base(repo: &Path, a: &str, b: &str) -> Result<String, GitError> {
    let r = revs::open(repo)?;
    let ia = revs::resolve_one(&r, repo, a)?;
    let ib = revs::resolve_one(&r, repo, b)?;
    match r.merge_base(ia, ib) {
        Ok(Some(id)) => Ok(id.to_string()),
        Ok(None) => Err(GitError::NoMergeBase {
            repo: repo.to_path_buf(),
            a: a.into(),
            b: b.into(),
            why: match r.shallow_commits() {
                Ok(Some(list)) if !list.is_empty() => format!(
                    ": the clone is shallow ({} boundary commit(s)) and the common ancestor lies \
                     beyond its boundary; fetch more history (git fetch --unshallow, or \
                     --deepen=N)",
                    list.len()
                ),
                _ => ": the histories are unrelated".into(),
            },
        }),
        Err(e) => Err(GitError::Walk {
            repo: repo.to_path_buf(),
            message: format!("merge base of {a} and {b}: {e}"),
        }),
    }
}
