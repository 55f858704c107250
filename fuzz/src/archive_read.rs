//! The `archive_read` property (shared with `tests/fuzz_regressions.rs`): arbitrary bytes
//! through the archive reader (`source::archive`: zip, tar, gzip, tar.gz, nested) as the
//! per-file pipeline opens them (`source::content::treatment` decides, members recurse).
//!
//! Input layout: the first byte selects the file name the data is known by (which decides
//! archives by name when no signature matches) and the limits; the rest is the file.
//!
//! Nothing may panic, and:
//! * the decompressed bytes charged to the budget stay within the total bound (one read
//!   buffer of slack: the bound is checked as bytes come out of the decompressor);
//! * no member handed out is larger than the member cap;
//! * member names are cleaned (`go_clean` of a cleaned name is the name);
//! * every error renders as one line.

#![allow(dead_code)] // each fuzz target uses one of the checks

use portcullis::source::archive::{self, ArchiveError, ArchiveKind, ArchiveLimits, Budget, Member};
use portcullis::source::content::{Treatment, treatment};
use portcullis::source::go_clean;

/// Names the input is known by (selected by the first byte).
const NAMES: &[&str] = &[
    "", "a.zip", "a.tar", "a.gz", "a.tar.gz", "a.TGZ", "a.jar", "a.txt",
];

/// Member caps (selected by the first byte).
const MEMBER_CAPS: &[Option<u64>] = &[None, Some(0), Some(100), Some(64 * 1024)];

/// Total decompression bounds (selected by the first byte).
const TOTALS: &[u64] = &[4 << 20, 1 << 20, 1000, 1];

/// Nesting depth at which archives are no longer opened.
const MAX_DEPTH: u32 = 4;

/// What a walk over one input produced.
#[derive(Default)]
struct Seen {
    members: usize,
    errors: usize,
}

/// Arbitrary bytes through the archive reader (see the module docs).
pub fn archive_read(data: &[u8]) {
    let Some((&sel, file)) = data.split_first() else {
        return;
    };
    let sel = usize::from(sel);
    let name = NAMES[sel % NAMES.len()];
    let limits = ArchiveLimits {
        max_member_bytes: MEMBER_CAPS[(sel / NAMES.len()) % MEMBER_CAPS.len()],
        max_total_bytes: TOTALS[(sel / (NAMES.len() * MEMBER_CAPS.len())) % TOTALS.len()],
        max_ratio: archive::DEFAULT_MAX_RATIO,
    };
    let mut budget = Budget {
        used: 0,
        top_size: file.len() as u64,
    };
    let mut seen = Seen::default();
    walk(name, file, 0, &limits, &mut budget, &mut seen);
    // One read buffer of slack: `read_to_end` reads at most as much as it already holds.
    let slack = limits.max_total_bytes.saturating_add(64 * 1024);
    assert!(
        budget.used <= limits.max_total_bytes.saturating_add(slack),
        "{} bytes decompressed, bound {}",
        budget.used,
        limits.max_total_bytes
    );
    let _ = archive::unsupported_format(name, file);
}

/// One file (or member) at nesting `depth`, as `source::content` treats it.
fn walk(
    name: &str,
    data: &[u8],
    depth: u32,
    limits: &ArchiveLimits,
    budget: &mut Budget,
    seen: &mut Seen,
) {
    if data.is_empty() {
        return;
    }
    let Treatment::Archive(kind) = treatment(name, data, depth, MAX_DEPTH, true) else {
        return;
    };
    let before = budget.used;
    let mut visit = |m: Member, budget: &mut Budget| {
        seen.members += 1;
        match m {
            Member::Data { name, data } => {
                check_name(&name);
                if let Some(cap) = limits.max_member_bytes {
                    assert!(
                        data.len() as u64 <= cap,
                        "{name}: member of {} bytes handed out over the cap {cap}",
                        data.len()
                    );
                }
                walk(&name, &data, depth + 1, limits, budget, seen);
            }
            Member::TooLarge { name } => check_name(&name),
            Member::Unscannable { name, reason } | Member::Failed { name, reason } => {
                check_name(&name);
                assert!(
                    !reason.contains('\n'),
                    "{name}: reason spans lines: {reason:?}"
                );
            }
        }
    };
    let res = match kind {
        ArchiveKind::Zip => archive::extract_zip(data, limits, budget, &mut visit),
        ArchiveKind::Tar => archive::extract_tar(data, limits, budget, &mut visit),
        ArchiveKind::Gzip { tar_by_name } => match archive::gunzip(data, limits, budget) {
            Ok(inner) => {
                let is_tar = inner.len() >= 262 && &inner[257..262] == b"ustar";
                if tar_by_name || is_tar {
                    archive::extract_tar(&inner, limits, budget, &mut visit)
                } else {
                    walk("", &inner, depth + 1, limits, budget, seen);
                    Ok(())
                }
            }
            Err(e) => Err(e),
        },
    };
    assert!(budget.used >= before, "the budget went backwards");
    if let Err(e) = res {
        seen.errors += 1;
        let msg = e.to_string();
        assert!(!msg.contains('\n'), "error spans lines: {msg:?}");
        if let ArchiveError::TotalLimit { limit } = e {
            assert_eq!(limit, limits.max_total_bytes);
            assert!(
                budget.used > limits.max_total_bytes,
                "tripped below the bound"
            );
        }
    }
}

/// Member names are cleaned paths.
fn check_name(name: &str) {
    assert_eq!(go_clean(name), name, "member name not cleaned");
}
