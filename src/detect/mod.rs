//! Scanning one input: keyword prefilter, windowed regex verification, entropy, allowlists,
//! decoding, `gitleaks:allow`, `.gitleaksignore` and baselines.
//!
//! The detector does not know where its bytes come from: every source (git hunks, files,
//! archive members, stdin) hands it a [`Fragment`].

/// One input to scan: a byte slice and where it came from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fragment<'a> {
    /// The text to scan (raw bytes; need not be UTF-8).
    pub text: &'a [u8],
    /// The file path reported in findings (`File`); empty for stdin.
    pub path: &'a str,
    /// The symlink that led to `path`, if any (`SymlinkFile`).
    pub symlink_file: &'a str,
    /// Full commit id, empty outside git history.
    pub commit: &'a str,
    /// 1-based line number of the first line of `text` in its file.
    pub start_line: u32,
}
