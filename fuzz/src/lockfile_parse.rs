//! The `lockfile_parse` property (shared with `tests/fuzz_regressions.rs`): arbitrary bytes
//! through every lockfile parser of `audit::lockfile`, by way of the public
//! `lockfile::parse_bytes` the audit itself calls.
//!
//! Input layout: the first byte selects the format ([`FORMATS`], modulo its length); the rest
//! is the file. Includes (`-r` in requirements files) read the same bytes again, so a file
//! that includes itself under other names is its own worst case.
//!
//! Nothing may panic, and:
//! * an error is one line naming the file;
//! * a parsed file's packages are of the format's ecosystem and de-duplicated;
//! * with `no_dev` the packages are a subset without development ones (for formats that mark
//!   them in the file: exactly the others);
//! * includes are bounded: the parser reads at most [`MAX_READS`] included files.

#![allow(dead_code)] // each fuzz target uses one of the checks

use std::cell::Cell;
use std::collections::HashSet;
use std::path::Path;

use portcullis::audit::AuditError;
use portcullis::audit::lockfile::{self, FileReader, LockFormat, ParsedLockfile};

/// The formats, in the order the first input byte selects them.
pub const FORMATS: [LockFormat; 10] = [
    LockFormat::Cargo,
    LockFormat::Requirements,
    LockFormat::Poetry,
    LockFormat::Pipfile,
    LockFormat::Pdm,
    LockFormat::Uv,
    LockFormat::Pylock,
    LockFormat::NpmLock,
    LockFormat::GoSum,
    LockFormat::GoMod,
];

/// The most included files one parse may read (a file including itself under many names
/// must not turn into exponential work).
pub const MAX_READS: usize = 1000;

/// Serves the input itself for every include, counting the reads.
struct SelfReader<'a> {
    data: &'a [u8],
    reads: Cell<usize>,
}

impl FileReader for SelfReader<'_> {
    fn read(&self, _path: &Path) -> Result<Vec<u8>, AuditError> {
        self.reads.set(self.reads.get() + 1);
        assert!(
            self.reads.get() <= MAX_READS,
            "more than {MAX_READS} includes read for one file"
        );
        Ok(self.data.to_vec())
    }
}

/// The format the first byte of `data` selects, and the file after it (`None` when empty).
pub fn split_input(data: &[u8]) -> Option<(LockFormat, &[u8])> {
    let (&sel, file) = data.split_first()?;
    Some((FORMATS[usize::from(sel) % FORMATS.len()], file))
}

/// Arbitrary bytes through the parser the first byte selects (see the module docs).
pub fn lockfile_parse(data: &[u8]) {
    if let Some((format, file)) = split_input(data) {
        check_format(format, file);
    }
}

/// `file` through the parser of `format` (with and without development packages).
pub fn check_format(format: LockFormat, file: &[u8]) {
    let path = Path::new("fuzz").join(format.as_str());
    let all = parse(format, &path, file, false);
    let no_dev = parse(format, &path, file, true);
    match (all, no_dev) {
        (Ok(all), Ok(no_dev)) => {
            check_parsed(format, &all);
            check_parsed(format, &no_dev);
            assert!(
                no_dev.packages.iter().all(|p| !p.dev),
                "--no-dev kept a dev package"
            );
            for p in &no_dev.packages {
                assert!(all.packages.contains(p), "{}: only with --no-dev", p.name);
            }
            // uv.lock marks development packages only by reachability (computed with
            // --no-dev); every other format marks them in the file.
            if format != LockFormat::Uv {
                let kept: Vec<_> = all.packages.iter().filter(|p| !p.dev).collect();
                assert_eq!(
                    kept,
                    no_dev.packages.iter().collect::<Vec<_>>(),
                    "--no-dev is not the non-development packages"
                );
            }
        }
        (Err(e), Err(_)) => check_error(&e),
        (Ok(_), Err(e)) | (Err(e), Ok(_)) => {
            panic!("parses with or without --no-dev only: {e}")
        }
    }
}

fn parse(
    format: LockFormat,
    path: &Path,
    file: &[u8],
    no_dev: bool,
) -> Result<ParsedLockfile, AuditError> {
    let reader = SelfReader {
        data: file,
        reads: Cell::new(0),
    };
    lockfile::parse_bytes(format, path, "fuzz-lockfile", file, &reader, no_dev)
}

fn check_parsed(format: LockFormat, parsed: &ParsedLockfile) {
    assert_eq!(parsed.format, format);
    let mut seen = HashSet::new();
    for p in &parsed.packages {
        assert_eq!(
            p.ecosystem,
            format.ecosystem(),
            "{}: wrong ecosystem",
            p.name
        );
        assert!(
            seen.insert((&p.name, &p.version, &p.source)),
            "{} {}: listed twice",
            p.name,
            p.version
        );
    }
    for w in &parsed.warnings {
        assert!(!w.contains('\n'), "warning spans lines: {w:?}");
    }
}

fn check_error(e: &AuditError) {
    let msg = e.to_string();
    assert!(!msg.contains('\n'), "error spans lines: {msg:?}");
    // A parse error names the file it is about: this one, or a file it includes.
    let AuditError::Parse { file, .. } = e else {
        panic!("not a parse error: {msg:?}");
    };
    assert!(!file.as_os_str().is_empty(), "error names no file: {msg:?}");
    assert!(
        msg.starts_with(&file.display().to_string()),
        "error does not start with the file: {msg:?}"
    );
}
