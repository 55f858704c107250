//! The per-file pipeline shared by every source (`dir`, `stdin` and the blobs of git history):
//! archive expansion, binary handling and gitleaks-compatible chunking, ending in
//! [`FragmentScanner::scan_fragment`].
//!
//! For one file's bytes ([`treatment`] decides 2 to 4, for every source):
//! 1. empty content is skipped (gitleaks never scans empty files);
//! 2. an archive ([`archive::identify`]) within `--max-archive-depth` is opened and each member
//!    goes through this pipeline again as `outer!inner` (a gzip file keeps its own name, as in
//!    gitleaks); beyond the depth, the archive is scanned as a binary file and the scan is
//!    *incomplete*; path-only rules see the archive's own path too;
//! 3. a binary file ([`binary::is_binary`]) is scanned through its printable view;
//! 4. anything else is scanned as it is (NUL bytes included).
//!
//! Content that is not scanned (larger than `--max-target-megabytes`, an encrypted member, an
//! archive deeper than the limit) is listed in [`SourceReport::incomplete`]: the scan then
//! fails (exit 2, FAIL in the gate), nothing is skipped silently.
//!
//! Each file is cut into the chunks gitleaks would read ([`chunk::chunks`]).

use super::archive::{self, ArchiveError, ArchiveKind, Budget, Member};
use super::binary;
use super::chunk::{self, CHUNK_SIZE};
use super::{FragmentScanner, ScanError, ScanErrorKind, SourceOptions, SourceReport};
use crate::finding::Fragment;

/// What the pipeline does with one file's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Treatment {
    /// Opened; each member goes through the pipeline again.
    Archive(ArchiveKind),
    /// An archive beyond `--max-archive-depth`: scanned through its printable view, and the
    /// scan is incomplete (unless archives are not opened at all).
    TooDeep(ArchiveKind),
    /// A binary format: scanned through its printable view ([`binary::printable_view`]).
    Binary,
    /// Scanned as it is.
    Text,
}

/// How `data` is treated at archive depth `depth` (0 for a file on disk or a blob), when named
/// `name` (empty = by signature only). `open_archives` is false for stdin.
pub fn treatment(
    name: &str,
    data: &[u8],
    depth: u32,
    max_archive_depth: u32,
    open_archives: bool,
) -> Treatment {
    if open_archives && let Some(kind) = archive::identify(name, data) {
        return if depth < max_archive_depth {
            Treatment::Archive(kind)
        } else {
            Treatment::TooDeep(kind)
        };
    }
    if binary::is_binary(&data[..data.len().min(CHUNK_SIZE)]) {
        Treatment::Binary
    } else {
        Treatment::Text
    }
}

/// Files at least this large have their chunks scanned in parallel.
pub const PARALLEL_CHUNKS_FROM: usize = 4 * CHUNK_SIZE * 10;

/// One file's context in the pipeline.
pub struct Content<'a> {
    /// The detector.
    pub scanner: &'a dyn FragmentScanner,
    /// Source options.
    pub opts: &'a SourceOptions,
    /// Whether archives are opened (false for stdin).
    pub open_archives: bool,
    /// The symlink that led to this file, if any (inherited by archive members).
    pub symlink: &'a str,
}

impl Content<'_> {
    /// Scan `data`, reported as `path`, at archive depth `depth` (0 for a file on disk).
    pub fn scan(
        &self,
        data: &[u8],
        path: &str,
        depth: u32,
        budget: &mut Budget,
        out: &mut SourceReport,
    ) {
        self.scan_named(data, path, path, depth, budget, out);
    }

    /// [`Content::scan`] with a separate name used to identify archives (empty = by
    /// signature only, for decompressed data that still carries the `.gz` file's name).
    fn scan_named(
        &self,
        data: &[u8],
        path: &str,
        name_hint: &str,
        depth: u32,
        budget: &mut Budget,
        out: &mut SourceReport,
    ) {
        if data.is_empty() {
            return;
        }
        let max_depth = self.opts.max_archive_depth;
        match treatment(name_hint, data, depth, max_depth, self.open_archives) {
            Treatment::Archive(kind) => {
                self.scan_path_only(path, out);
                if let Err(e) = self.open_archive(kind, data, path, depth, budget, out) {
                    out.errors.push(ScanError::in_file(e.kind(), path, e));
                }
            }
            Treatment::TooDeep(_) => {
                if max_depth != 0 {
                    out.incomplete.push(format!(
                        "{path}: archive not opened: nested deeper than --max-archive-depth {max_depth} (scanned as binary only)"
                    ));
                }
                self.scan_leaf(data, path, true, out);
            }
            t => {
                if self.open_archives
                    && let Some(format) = archive::unsupported_format(name_hint, data)
                {
                    out.warnings.push(format!(
                        "{path}: {format} archives cannot be opened by portcullis; scanned as binary"
                    ));
                }
                self.scan_leaf(data, path, t == Treatment::Binary, out);
            }
        }
    }

    fn open_archive(
        &self,
        kind: ArchiveKind,
        data: &[u8],
        path: &str,
        depth: u32,
        budget: &mut Budget,
        out: &mut SourceReport,
    ) -> Result<(), ArchiveError> {
        let limits = self.opts.archive_limits;
        let mut visit = |m: Member, budget: &mut Budget| self.member(m, path, depth, budget, out);
        match kind {
            ArchiveKind::Zip => archive::extract_zip(data, &limits, budget, &mut visit),
            ArchiveKind::Tar => archive::extract_tar(data, &limits, budget, &mut visit),
            ArchiveKind::Gzip { tar_by_name } => {
                let inner = archive::gunzip(data, &limits, budget)?;
                let is_tar = inner.len() >= 262 && &inner[257..262] == b"ustar";
                if tar_by_name || is_tar {
                    archive::extract_tar(&inner, &limits, budget, &mut visit)
                } else {
                    // A compressed single file keeps the name of the .gz file (gitleaks).
                    self.scan_named(&inner, path, "", depth + 1, budget, out);
                    Ok(())
                }
            }
        }
    }

    fn member(
        &self,
        m: Member,
        outer: &str,
        depth: u32,
        budget: &mut Budget,
        out: &mut SourceReport,
    ) {
        match m {
            Member::Data { name, data } => {
                // gitleaks tests the member's own path against the global allowlist.
                if self.scanner.path_allowed_globally(&name) {
                    return;
                }
                let full = format!("{outer}!{name}");
                self.scan(&data, &full, depth + 1, budget, out);
            }
            Member::TooLarge { name } => {
                let full = format!("{outer}!{name}");
                out.incomplete.push(format!(
                    "{full}: not scanned: larger than --max-target-megabytes"
                ));
                self.scan_path_only(&full, out);
            }
            Member::Unscannable { name, reason } => {
                out.incomplete
                    .push(format!("{outer}!{name}: not scanned: {reason}"));
            }
            Member::Failed { name, reason } => {
                out.errors.push(ScanError::in_file(
                    ScanErrorKind::Archive,
                    format!("{outer}!{name}"),
                    format_args!("cannot read archive member: {reason}"),
                ));
            }
        }
    }

    /// Scan one non-archive file, chunk by chunk. Chunks are independent fragments, so the
    /// chunks of a file larger than [`PARALLEL_CHUNKS_FROM`] are scanned in parallel.
    pub fn scan_leaf(&self, data: &[u8], path: &str, is_binary: bool, out: &mut SourceReport) {
        out.files_scanned += 1;
        out.bytes_scanned += data.len() as u64;
        let scan_chunk = |c: chunk::Chunk, view: &mut Vec<u8>, found: &mut Vec<_>| {
            let text: &[u8] = if is_binary {
                binary::printable_view(data, c.start, c.end, view);
                view
            } else {
                &data[c.start..c.end]
            };
            let frag = Fragment {
                text,
                path,
                symlink_file: self.symlink,
                commit: "",
                start_line: c.start_line,
            };
            self.scanner.scan_fragment(&frag, found);
        };
        if data.len() >= PARALLEL_CHUNKS_FROM {
            use rayon::prelude::*;
            let chunks: Vec<chunk::Chunk> = chunk::chunks(data).collect();
            let found: Vec<Vec<_>> = chunks
                .into_par_iter()
                .map(|c| {
                    let (mut view, mut found) = (Vec::new(), Vec::new());
                    scan_chunk(c, &mut view, &mut found);
                    found
                })
                .collect();
            out.findings.extend(found.into_iter().flatten());
        } else {
            let mut view = Vec::new();
            for c in chunk::chunks(data) {
                scan_chunk(c, &mut view, &mut out.findings);
            }
        }
    }

    /// Run only what applies to a file's path (path-only rules) for a file whose content is
    /// not scanned (larger than `--max-target-megabytes`): one empty fragment.
    pub fn scan_path_only(&self, path: &str, out: &mut SourceReport) {
        let frag = Fragment {
            text: b"",
            path,
            symlink_file: self.symlink,
            commit: "",
            start_line: 1,
        };
        self.scanner.scan_fragment(&frag, &mut out.findings);
    }
}
