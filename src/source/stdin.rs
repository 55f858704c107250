//! `scan stdin`: one file-like source over standard input (gitleaks `stdin`): `File` is "",
//! `Commit` is "", so fingerprints are `:rule:line`. Binary input is scanned through its
//! printable view; archives are not opened (there is no file name to go by).

use std::io::Read;

use super::content::Content;
use super::{FragmentScanner, ScanError, ScanErrorKind, SourceOptions, SourceReport};

/// Scan everything readable from `input`.
pub fn scan_reader(
    mut input: impl Read,
    scanner: &dyn FragmentScanner,
    opts: &SourceOptions,
) -> SourceReport {
    let mut out = SourceReport::default();
    let mut data = Vec::new();
    if let Err(e) = input.read_to_end(&mut data) {
        out.errors.push(ScanError::in_file(
            ScanErrorKind::Read,
            "stdin",
            format_args!("cannot read: {e}"),
        ));
        return out;
    }
    if let Some(mb) = opts.max_target_megabytes
        && data.len() as u64 > mb.saturating_mul(1_000_000)
    {
        out.warnings.push(format!(
            "stdin: skipped, larger than --max-target-megabytes {mb}"
        ));
        return out;
    }
    let content = Content {
        scanner,
        opts,
        open_archives: false,
        symlink: "",
    };
    let mut budget = super::archive::Budget {
        used: 0,
        top_size: data.len() as u64,
    };
    let run = std::panic::AssertUnwindSafe(|| {
        content.scan(&data, "", 0, &mut budget, &mut out);
    });
    if std::panic::catch_unwind(run).is_err() {
        return SourceReport {
            errors: vec![ScanError::in_file(
                ScanErrorKind::Internal,
                "stdin",
                "internal error while scanning",
            )],
            ..SourceReport::default()
        };
    }
    out.sort();
    out
}

/// Scan the process' standard input.
pub fn scan_stdin(scanner: &dyn FragmentScanner, opts: &SourceOptions) -> SourceReport {
    scan_reader(std::io::stdin().lock(), scanner, opts)
}
