//! `scan dir`: walk a directory (or scan one file) the way `gitleaks dir` does.
//!
//! * Inside a git work tree, paths that `.gitignore` files (of the target and its parents) or
//!   `.git/info/exclude` ignore are left out when `respect_gitignore` is set (the CLI's
//!   default, as ripgrep; `--no-ignore` scans everything, as gitleaks); the count of what was
//!   left out is reported. Hidden files are scanned. Paths matching the config's global
//!   allowlist are skipped during the walk: a matching directory is not entered and a matching
//!   file is not opened (gitleaks `sources/files.go`).
//! * `File` is the walk path, as Go's `filepath.WalkDir` builds it: it includes the target as
//!   given, cleaned (`repo/a.env` for `scan dir repo/`, `a.env` for `scan dir .`).
//! * Empty files are skipped; files over `--max-target-megabytes` are not read (only
//!   path-only rules run on their names) and make the scan incomplete.
//! * Symlinks are skipped unless `follow_symlinks`; then a link to a file is scanned with
//!   `File` = the resolved target (Go's `filepath.EvalSymlinks`) and `SymlinkFile` = the link.
//!   Links to directories are never followed.
//! * The walk is parallel (`ignore`), files are scanned in parallel (`rayon`), large files are
//!   memory-mapped.
//! * The config file and the baseline (`SourceOptions::skip_files`) are never scanned.

use std::collections::{HashSet, VecDeque};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;

use super::archive::Budget;
use super::content::Content;
use super::progress::Progress;
use super::{FragmentScanner, ScanError, ScanErrorKind, SourceOptions, SourceReport, go_clean};

/// Files at least this large are memory-mapped instead of read.
pub const MMAP_THRESHOLD: u64 = 1 << 20;

/// One file to scan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Target {
    /// `File` as reported.
    file: String,
    /// Where to read it.
    path: PathBuf,
    /// `SymlinkFile` (empty unless reached through a followed symlink).
    symlink: String,
}

fn path_str(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// The walk path of `entry` under `root`: `clean(root)/rel` like Go's `filepath.Join`.
fn walk_path(root_clean: &str, root: &Path, entry: &Path) -> String {
    let rel = entry.strip_prefix(root).unwrap_or(entry);
    let rel = path_str(rel);
    if rel.is_empty() {
        root_clean.to_string()
    } else if root_clean == "." {
        go_clean(&rel)
    } else {
        go_clean(&format!("{root_clean}/{rel}"))
    }
}

/// Go's `filepath.EvalSymlinks` for `/`-separated paths: resolve every symlink in `path`,
/// keeping a relative path relative.
pub fn eval_symlinks(path: &str) -> std::io::Result<String> {
    let mut rest: VecDeque<String> = path.split('/').map(str::to_string).collect();
    let mut dest = if path.starts_with('/') {
        "/".to_string()
    } else {
        String::new()
    };
    let mut links = 0;
    while let Some(comp) = rest.pop_front() {
        if comp.is_empty() || comp == "." {
            continue;
        }
        if comp == ".." {
            let trimmed = dest.trim_end_matches('/');
            let last = trimmed.rsplit('/').next().unwrap_or("");
            if dest == "/" {
                // ".." at the root stays at the root
            } else if last.is_empty() || last == ".." {
                dest = if dest.is_empty() {
                    "..".to_string()
                } else {
                    format!("{trimmed}/..")
                };
            } else {
                let cut = trimmed.len() - last.len();
                dest = trimmed[..cut].to_string();
                if dest.len() > 1 && dest.ends_with('/') {
                    dest.pop();
                }
            }
            continue;
        }
        let candidate = if dest.is_empty() {
            comp.clone()
        } else if dest.ends_with('/') {
            format!("{dest}{comp}")
        } else {
            format!("{dest}/{comp}")
        };
        let md = std::fs::symlink_metadata(&candidate)?;
        if !md.file_type().is_symlink() {
            dest = candidate;
            continue;
        }
        links += 1;
        if links > 255 {
            return Err(std::io::Error::other("too many levels of symbolic links"));
        }
        let target = path_str(&std::fs::read_link(&candidate)?);
        if target.starts_with('/') {
            dest = "/".to_string();
        }
        for c in target.split('/').rev() {
            rest.push_front(c.to_string());
        }
    }
    Ok(go_clean(&dest))
}

/// Scan `root` (a directory or a file) with `scanner`.
pub fn scan_dir(root: &Path, scanner: &dyn FragmentScanner, opts: &SourceOptions) -> SourceReport {
    let mut report = SourceReport::default();
    let root_clean = go_clean(&path_str(root));
    let progress = Progress::new(opts.progress);
    progress.plan(&["walk", "files"]);
    progress.phase("walk", 0);
    let (targets, mut walk) = collect_targets(root, &root_clean, scanner, opts, &progress);
    report.errors.append(&mut walk.errors);
    report.warnings.append(&mut walk.warnings);
    report.ignored = walk.ignored;

    progress.phase("files", targets.len() as u64);
    let work = || {
        targets
            .par_iter()
            .map(|t| {
                let r = scan_target(t, scanner, opts);
                progress.inc(1, r.bytes_scanned);
                r
            })
            .collect::<Vec<_>>()
    };
    let results = if opts.threads > 0 {
        match rayon::ThreadPoolBuilder::new()
            .num_threads(opts.threads)
            .build()
        {
            Ok(pool) => pool.install(work),
            Err(_) => work(),
        }
    } else {
        work()
    };
    progress.finish();
    for r in results {
        report.absorb(r);
    }
    report.sort();
    report
}

/// Walk `root`, applying the global allowlist, symlink and skip rules.
fn collect_targets(
    root: &Path,
    root_clean: &str,
    scanner: &dyn FragmentScanner,
    opts: &SourceOptions,
    progress: &Progress,
) -> (Vec<Target>, SourceReport) {
    let found = Mutex::new((Vec::<Target>::new(), SourceReport::default()));
    // Every path the walk yields, and the directories it entered: the children of those that
    // were not yielded are what `.gitignore` left out.
    let seen: Mutex<(HashSet<PathBuf>, Vec<PathBuf>)> = Mutex::new(Default::default());
    // A target that is itself a symlink to a file is handled like any symlink (gitleaks walks
    // from `Lstat(root)`); a symlink to a directory given as the target is walked.
    let root_is_file_link = std::fs::symlink_metadata(root)
        .is_ok_and(|m| m.file_type().is_symlink())
        && std::fs::metadata(root).is_ok_and(|m| m.is_file());
    if root_is_file_link {
        let (mut targets, mut report) = (Vec::new(), SourceReport::default());
        if opts.follow_symlinks && !scanner.path_allowed_globally(root_clean) {
            match resolve_link(root, root_clean) {
                Ok(Some(t)) => targets.push(t),
                Ok(None) => {}
                Err(e) => report
                    .warnings
                    .push(format!("{root_clean}: symlink not followed: {e}")),
            }
        }
        return (targets, report);
    }
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .standard_filters(false)
        .follow_links(false)
        .threads(opts.threads);
    if opts.respect_gitignore {
        builder
            .git_ignore(true)
            .git_exclude(true)
            .parents(true)
            .require_git(true);
    }
    builder.build_parallel().run(|| {
        let found = &found;
        let seen = &seen;
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    let mut g = found.lock().unwrap_or_else(|p| p.into_inner());
                    g.1.errors.push(ScanError::new(
                        ScanErrorKind::Read,
                        format!("cannot read directory entry: {err}"),
                    ));
                    return ignore::WalkState::Continue;
                }
            };
            let file = walk_path(root_clean, root, entry.path());
            let Some(ft) = entry.file_type() else {
                return ignore::WalkState::Continue;
            };
            if opts.respect_gitignore {
                let mut g = seen.lock().unwrap_or_else(|p| p.into_inner());
                g.0.insert(entry.path().to_path_buf());
            }
            if scanner.path_allowed_globally(&file) {
                return if ft.is_dir() {
                    ignore::WalkState::Skip
                } else {
                    ignore::WalkState::Continue
                };
            }
            if opts.respect_gitignore && ft.is_dir() {
                let mut g = seen.lock().unwrap_or_else(|p| p.into_inner());
                g.1.push(entry.path().to_path_buf());
            }
            if ft.is_dir() {
                return ignore::WalkState::Continue;
            }
            let target = if ft.is_symlink() {
                if !opts.follow_symlinks {
                    return ignore::WalkState::Continue;
                }
                match resolve_link(entry.path(), &file) {
                    Ok(Some(t)) => t,
                    Ok(None) => return ignore::WalkState::Continue,
                    Err(e) => {
                        let mut g = found.lock().unwrap_or_else(|p| p.into_inner());
                        g.1.warnings
                            .push(format!("{file}: symlink not followed: {e}"));
                        return ignore::WalkState::Continue;
                    }
                }
            } else if ft.is_file() {
                Target {
                    file,
                    path: entry.path().to_path_buf(),
                    symlink: String::new(),
                }
            } else {
                return ignore::WalkState::Continue;
            };
            if opts.skip_files.iter().any(|s| go_clean(s) == target.file) {
                return ignore::WalkState::Continue;
            }
            let mut g = found.lock().unwrap_or_else(|p| p.into_inner());
            g.0.push(target);
            progress.inc(1, 0);
            ignore::WalkState::Continue
        })
    });
    let (mut targets, mut report) = found.into_inner().unwrap_or_else(|p| p.into_inner());
    targets.sort();
    if opts.respect_gitignore {
        let (yielded, dirs) = seen.into_inner().unwrap_or_else(|p| p.into_inner());
        report.ignored = dirs
            .iter()
            .filter_map(|d| std::fs::read_dir(d).ok())
            .flat_map(|rd| rd.filter_map(Result::ok))
            // The walker never enters `.git` when it reads `.gitignore` files.
            .filter(|e| e.file_name() != ".git" && !yielded.contains(&e.path()))
            .count() as u64;
    }
    (targets, report)
}

/// Resolve a followed symlink: `Ok(None)` for links to directories; `Err` when the link's
/// target cannot be read (a warning: the link is not followed).
fn resolve_link(link: &Path, file: &str) -> std::io::Result<Option<Target>> {
    let md = std::fs::metadata(link)?;
    if !md.is_file() {
        return Ok(None);
    }
    let resolved = eval_symlinks(file).unwrap_or_else(|_| {
        std::fs::canonicalize(link)
            .map(|p| path_str(&p))
            .unwrap_or_else(|_| file.to_string())
    });
    Ok(Some(Target {
        file: resolved,
        path: link.to_path_buf(),
        symlink: file.to_string(),
    }))
}

enum Bytes {
    Owned(Vec<u8>),
    Mapped(portcullis_unsafe::map::FileMap),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Mapped(m) => m,
        }
    }
}

/// Read a file: memory-mapped when large, else into memory.
fn load(path: &Path, len: u64) -> std::io::Result<Bytes> {
    let mut f = File::open(path)?;
    if len >= MMAP_THRESHOLD {
        // A file truncated while it is scanned can fault the process (SIGBUS), the documented
        // limitation of memory-mapped scanning (see `portcullis_unsafe::map`).
        if let Ok(m) = portcullis_unsafe::map::FileMap::map(&f) {
            return Ok(Bytes::Mapped(m));
        }
    }
    let mut v = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    std::io::Read::read_to_end(&mut f, &mut v)?;
    Ok(Bytes::Owned(v))
}

/// Scan one file; a panic while scanning it (a bug, or a parser library tripping over hostile
/// input) becomes a scan error naming the file instead of aborting the whole scan.
fn scan_target(t: &Target, scanner: &dyn FragmentScanner, opts: &SourceOptions) -> SourceReport {
    let run = std::panic::AssertUnwindSafe(|| scan_target_inner(t, scanner, opts));
    match std::panic::catch_unwind(run) {
        Ok(report) => report,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            SourceReport {
                errors: vec![ScanError::in_file(
                    ScanErrorKind::Internal,
                    t.file.clone(),
                    format_args!("internal error while scanning: {what}"),
                )],
                ..SourceReport::default()
            }
        }
    }
}

fn scan_target_inner(
    t: &Target,
    scanner: &dyn FragmentScanner,
    opts: &SourceOptions,
) -> SourceReport {
    let mut out = SourceReport::default();
    let content = Content {
        scanner,
        opts,
        open_archives: true,
        symlink: &t.symlink,
    };
    let len = match std::fs::metadata(&t.path) {
        Ok(m) => m.len(),
        Err(e) => {
            out.errors.push(ScanError::in_file(
                ScanErrorKind::Read,
                t.file.clone(),
                format_args!("cannot read file: {e}"),
            ));
            return out;
        }
    };
    if len == 0 {
        return out;
    }
    if let Some(mb) = opts.max_target_megabytes
        && len > mb.saturating_mul(1_000_000)
    {
        out.incomplete.push(format!(
            "{}: not scanned: larger than --max-target-megabytes {mb} ({len} bytes)",
            t.file
        ));
        content.scan_path_only(&t.file, &mut out);
        return out;
    }
    let data = match load(&t.path, len) {
        Ok(d) => d,
        Err(e) => {
            out.errors.push(ScanError::in_file(
                ScanErrorKind::Read,
                t.file.clone(),
                format_args!("cannot read file: {e}"),
            ));
            return out;
        }
    };
    let mut budget = Budget {
        used: 0,
        top_size: data.len() as u64,
    };
    content.scan(&data, &t.file, 0, &mut budget, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Fragment;
    use crate::report::Finding;
    use crate::source::archive;

    /// A scanner with no rules: these tests look at scan errors, not findings.
    struct NoRules;

    impl FragmentScanner for NoRules {
        fn scan_fragment(&self, _frag: &Fragment<'_>, _out: &mut Vec<Finding>) {}
        fn path_allowed_globally(&self, _path: &str) -> bool {
            false
        }
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn scan_errors_name_their_file_and_kind_and_keep_their_message() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("broken.zip"),
            b"this is not a zip file at all",
        )
        .unwrap();
        std::fs::write(dir.path().join("bomb.gz"), gzip(&vec![0u8; 3_000_000])).unwrap();
        let root = path_str(dir.path());
        let opts = SourceOptions {
            max_archive_depth: 8,
            archive_limits: archive::ArchiveLimits {
                max_total_bytes: 1_000_000,
                ..archive::ArchiveLimits::default()
            },
            ..SourceOptions::default()
        };
        let report = scan_dir(dir.path(), &NoRules, &opts);
        assert_eq!(report.errors.len(), 2, "{:?}", report.errors);
        let bomb = &report.errors[0];
        assert_eq!(bomb.kind, ScanErrorKind::Limit);
        assert_eq!(
            bomb.path.as_deref(),
            Some(format!("{root}/bomb.gz").as_str())
        );
        assert!(
            bomb.to_string()
                .starts_with(&format!("{root}/bomb.gz: decompressed content")),
            "{bomb}"
        );
        let broken = &report.errors[1];
        assert_eq!(broken.kind, ScanErrorKind::Archive);
        assert!(
            broken.to_string().starts_with(&format!(
                "{root}/broken.zip: corrupt or unreadable zip archive: "
            )),
            "{broken}"
        );
        assert_eq!(broken.object, None);
    }

    #[test]
    fn unreadable_stdin_is_a_read_error_named_stdin() {
        let dir = tempfile::tempdir().unwrap();
        // Reading a directory fails (EISDIR) after it was opened.
        let input = File::open(dir.path()).unwrap();
        let report = super::super::stdin::scan_reader(input, &NoRules, &SourceOptions::default());
        assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
        let e = &report.errors[0];
        assert_eq!(e.kind, ScanErrorKind::Read);
        assert_eq!(e.path.as_deref(), Some("stdin"));
        assert!(e.to_string().starts_with("stdin: cannot read: "), "{e}");
    }

    #[test]
    fn walk_paths_follow_go_join() {
        let root = Path::new("./repo/");
        assert_eq!(
            walk_path("repo", root, Path::new("./repo/a/b.env")),
            "repo/a/b.env"
        );
        assert_eq!(
            walk_path(".", Path::new("."), Path::new("./x.env")),
            "x.env"
        );
        assert_eq!(walk_path("repo", root, root), "repo");
    }

    #[test]
    fn eval_symlinks_keeps_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let base = path_str(dir.path());
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/target.env"), "x").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("sub/target.env", dir.path().join("link.env")).unwrap();
            std::os::unix::fs::symlink("../link.env", dir.path().join("sub/up.env")).unwrap();
            assert_eq!(
                eval_symlinks(&format!("{base}/link.env")).unwrap(),
                format!("{base}/sub/target.env")
            );
            assert_eq!(
                eval_symlinks(&format!("{base}/sub/up.env")).unwrap(),
                format!("{base}/sub/target.env")
            );
        }
    }
}
