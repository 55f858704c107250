//! Where bytes come from: git history, directories, stdin.
//!
//! Every source turns its input into [`Fragment`]s and hands them to a
//! [`FragmentScanner`] (the [`Detector`](crate::detect::Detector)); no source knows about rules.
//!
//! * [`dir`] walks a directory (or one file) in parallel, as `gitleaks dir` does;
//! * [`stdin`] scans standard input;
//! * [`git`] reads git history, the index or the work tree;
//! * [`content`] is the per-file pipeline shared by all three: archives ([`archive`]), binary files
//!   ([`binary`]) and gitleaks-compatible chunking ([`chunk`]).

pub mod archive;
pub mod binary;
pub mod chunk;
pub mod content;
pub mod dir;
pub mod git;
pub(crate) mod progress;
pub mod scan_error;
pub mod stdin;

pub use scan_error::{ScanError, ScanErrorKind};

use crate::finding::Finding;
use crate::finding::Fragment;

/// What a source needs from the detector.
pub trait FragmentScanner: Sync {
    /// Append every finding of `frag` to `out` (path-only rules included).
    fn scan_fragment(&self, frag: &Fragment<'_>, out: &mut Vec<Finding>);
    /// Whether `path` matches a global allowlist path (the walker skips it, as gitleaks does).
    fn path_allowed_globally(&self, path: &str) -> bool;
    /// A cheap prefilter over whole blobs (git history): `false` guarantees that
    /// [`scan_fragment`](Self::scan_fragment) finds nothing in any fragment whose text is a
    /// substring of `bytes` (path-only rules excepted). The default passes everything.
    fn might_match(&self, _bytes: &[u8]) -> bool {
        true
    }
    /// Like [`might_match`](Self::might_match) (`false` guarantees that
    /// [`scan_fragment`](Self::scan_fragment) finds nothing in any fragment made of whole
    /// lines of `bytes`), but as sharp as the scanner can make it: the git history scan
    /// computes line diffs only for blobs where this is `true`.
    fn might_find(&self, bytes: &[u8]) -> bool {
        self.might_match(bytes)
    }
    /// Whether rules that [`might_find`](Self::might_find) leaves out (rules restricted to
    /// some paths) apply to a file at `path`: then the git history scan scans its content
    /// whatever `might_find` answers.
    fn path_gated_content(&self, _path: &str) -> bool {
        false
    }
    /// Whether some rule matches on the path alone (then the git history scan offers every
    /// changed file, with an empty fragment when its content cannot match).
    fn has_path_rules(&self) -> bool {
        false
    }
    /// Whether findings depend on the commit id (commit allowlists): then the git history scan
    /// scans each commit that carries a change on its own instead of copying the findings.
    fn commit_sensitive(&self) -> bool {
        false
    }
}

impl FragmentScanner for crate::detect::Detector {
    fn scan_fragment(&self, frag: &Fragment<'_>, out: &mut Vec<Finding>) {
        self.scan(frag, out);
    }

    fn path_allowed_globally(&self, path: &str) -> bool {
        crate::detect::Detector::path_allowed_globally(self, path)
    }

    fn might_match(&self, bytes: &[u8]) -> bool {
        crate::detect::Detector::might_match(self, bytes)
    }

    fn might_find(&self, bytes: &[u8]) -> bool {
        crate::detect::Detector::might_find(self, bytes)
    }

    fn path_gated_content(&self, path: &str) -> bool {
        crate::detect::Detector::path_gated_content(self, path)
    }

    fn has_path_rules(&self) -> bool {
        self.config()
            .rules()
            .iter()
            .any(|r| r.regex.is_none() && r.path.is_some())
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

/// Options shared by the file-based sources (`dir`, `stdin`).
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// Skip files (and archive members) larger than this many megabytes (10^6 bytes).
    pub max_target_megabytes: Option<u64>,
    /// Open nested archives up to this depth (0 = do not open archives).
    pub max_archive_depth: u32,
    /// Decompression-bomb bounds.
    pub archive_limits: archive::ArchiveLimits,
    /// Follow symlinks to files (`File` = target, `SymlinkFile` = link).
    pub follow_symlinks: bool,
    /// `File` values that are never scanned (the config file and the baseline, as gitleaks).
    pub skip_files: Vec<String>,
    /// Worker threads (0 = rayon's default).
    pub threads: usize,
    /// `dir`: inside a git work tree, leave out what `.gitignore` (and `.git/info/exclude`)
    /// ignores, as ripgrep does; the count is [`SourceReport::ignored`].
    pub respect_gitignore: bool,
    /// Draw a progress bar on stderr (only when it is a terminal; it appears after 200 ms).
    pub progress: bool,
}

/// Everything a source produced.
#[derive(Debug, Clone, Default)]
pub struct SourceReport {
    /// Findings, sorted by file, line, column and rule.
    pub findings: Vec<Finding>,
    /// Scan errors (each names its file); any error makes the scan fail with exit status 2.
    pub errors: Vec<ScanError>,
    /// Notices that do not fail the scan (unsupported archive formats, ...).
    pub warnings: Vec<String>,
    /// Content that was not scanned, one line each naming what and why (larger than
    /// `--max-target-megabytes`, encrypted, nested deeper than `--max-archive-depth`): the
    /// secrets scan is incomplete, which fails it like an error.
    pub incomplete: Vec<String>,
    /// Paths left out because `.gitignore` ignores them (an ignored directory counts once).
    pub ignored: u64,
    /// Files and archive members scanned.
    pub files_scanned: u64,
    /// Bytes scanned.
    pub bytes_scanned: u64,
}

impl SourceReport {
    /// Append another report's contents.
    pub fn absorb(&mut self, other: SourceReport) {
        self.findings.extend(other.findings);
        self.errors.extend(other.errors);
        self.warnings.extend(other.warnings);
        self.incomplete.extend(other.incomplete);
        self.ignored += other.ignored;
        self.files_scanned += other.files_scanned;
        self.bytes_scanned += other.bytes_scanned;
    }

    /// Sort findings into a stable order (file, line, column, rule id).
    pub fn sort(&mut self) {
        self.findings.sort_by(crate::finding::report_order);
        self.incomplete.sort();
    }
}

/// The one-line error that fails a scan with content it could not scan (exit 2 from `scan`,
/// FAIL in the security gate): how many items, the first few named with the reason; `None`
/// when the list is empty. Callers list every item as a warning besides.
pub fn incomplete_error(items: &[String]) -> Option<String> {
    const NAMED: usize = 3;
    let first = items.first()?;
    let mut line = format!(
        "secrets scan incomplete: {} item(s) not scanned: {first}",
        items.len()
    );
    for item in items.iter().skip(1).take(NAMED - 1) {
        line.push_str("; ");
        line.push_str(item);
    }
    if items.len() > NAMED {
        line.push_str(&format!("; and {} more", items.len() - NAMED));
    }
    Some(line)
}

/// Go's `filepath.Clean` for `/`-separated paths: the walk paths gitleaks prints are built
/// with it (`./repo/` → `repo`, `a//b/../c` → `a/c`, `""` → `.`).
pub fn go_clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            c => parts.push(c),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::go_clean;

    #[test]
    fn go_clean_matches_filepath_clean() {
        assert_eq!(go_clean(""), ".");
        assert_eq!(go_clean("./repo/"), "repo");
        assert_eq!(go_clean("a//b/../c"), "a/c");
        assert_eq!(go_clean("../x"), "../x");
        assert_eq!(go_clean("/../x"), "/x");
        assert_eq!(go_clean("/"), "/");
        assert_eq!(go_clean("a/.."), ".");
    }
}
