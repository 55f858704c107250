//! Which lines of a new blob are *added*: the `+` lines of `git diff -U0 old new`, grouped
//! into hunks. The line diff is imara-diff's Myers with git's indent heuristic (the algorithm
//! and post-processing `git diff` uses by default), re-exported by gix as `gix::diff::blob`.

use std::ops::Range;

use gix::diff::blob::{Algorithm, Diff, InternedInput, sources::byte_lines};

/// One run of consecutive added lines (one `-U0` hunk's `+` side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AddedRun {
    /// 1-based line number of the first added line in the new file (the hunk's `+c`).
    pub start_line: u32,
    /// Byte range of the run in the new file (whole lines, including their line endings).
    pub bytes: Range<usize>,
}

/// Byte offset of the start of every line of `text`, plus `text.len()` at the end.
fn line_starts(text: &[u8]) -> Vec<usize> {
    let mut starts = Vec::with_capacity(text.len() / 32 + 2);
    starts.push(0);
    for pos in memchr::memchr_iter(b'\n', text) {
        if pos + 1 < text.len() {
            starts.push(pos + 1);
        }
    }
    starts.push(text.len());
    if text.is_empty() {
        starts.truncate(1);
    }
    starts
}

/// Lines of `new` added relative to `old` (true = added), one flag per line of `new`.
fn added_flags(old: &[u8], new: &[u8], n_lines: usize) -> Vec<bool> {
    let input = InternedInput::new(byte_lines(old), byte_lines(new));
    let mut diff = Diff::compute(Algorithm::Myers, &input);
    diff.postprocess_lines(&input);
    let mut flags = vec![false; n_lines];
    for hunk in diff.hunks() {
        for i in hunk.after.start..hunk.after.end {
            if let Some(f) = flags.get_mut(i as usize) {
                *f = true;
            }
        }
    }
    flags
}

/// The runs of lines of `new` that are added relative to **every** blob in `olds` (the lines a
/// combined diff marks as new for a merge). With no `olds`, every line is added (one run).
pub(crate) fn added_runs(olds: &[&[u8]], new: &[u8]) -> Vec<AddedRun> {
    let starts = line_starts(new);
    let n_lines = starts.len().saturating_sub(1);
    if n_lines == 0 {
        return Vec::new();
    }
    if olds.is_empty() {
        return vec![AddedRun {
            start_line: 1,
            bytes: 0..new.len(),
        }];
    }
    let mut flags = added_flags(olds[0], new, n_lines);
    for old in &olds[1..] {
        if !flags.iter().any(|f| *f) {
            break;
        }
        let other = added_flags(old, new, n_lines);
        for (f, o) in flags.iter_mut().zip(other) {
            *f &= o;
        }
    }
    let mut runs = Vec::new();
    let mut i = 0;
    while i < n_lines {
        if !flags[i] {
            i += 1;
            continue;
        }
        let first = i;
        while i < n_lines && flags[i] {
            i += 1;
        }
        runs.push(AddedRun {
            start_line: u32::try_from(first + 1).unwrap_or(u32::MAX),
            bytes: starts[first]..starts[i],
        });
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(new: &[u8], runs: &[AddedRun]) -> Vec<(u32, String)> {
        runs.iter()
            .map(|r| {
                (
                    r.start_line,
                    String::from_utf8_lossy(&new[r.bytes.clone()]).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn new_file_is_one_run() {
        let new = b"a\nb\nc";
        assert_eq!(
            texts(new, &added_runs(&[], new)),
            vec![(1, "a\nb\nc".to_string())]
        );
        assert!(added_runs(&[], b"").is_empty());
    }

    #[test]
    fn modifications_give_separate_hunks_with_new_start_lines() {
        let old = b"1\n2\n3\n4\n5\n6\n";
        let new = b"1\nX\n3\n4\nY\nZ\n5\n6\n";
        assert_eq!(
            texts(new, &added_runs(&[old], new)),
            vec![(2, "X\n".to_string()), (5, "Y\nZ\n".to_string())]
        );
    }

    #[test]
    fn pure_deletion_adds_nothing_and_crlf_is_kept() {
        let old = b"a\r\nb\r\nc\r\n";
        assert!(added_runs(&[old], b"a\r\nc\r\n").is_empty());
        let new = b"a\r\nb\r\nsecret\r\nc\r\n";
        assert_eq!(
            texts(new, &added_runs(&[old], new)),
            vec![(3, "secret\r\n".to_string())]
        );
    }

    #[test]
    fn missing_final_newline_counts_as_change() {
        let new = b"a\nb\n";
        assert_eq!(
            texts(new, &added_runs(&[b"a\nb"], new)),
            vec![(2, "b\n".to_string())]
        );
    }

    #[test]
    fn merge_keeps_only_lines_new_to_all_parents() {
        let base = b"a\nb\nc\n";
        let ours = b"a\nOURS\nb\nc\n";
        let theirs = b"a\nb\nc\nTHEIRS\n";
        let merged = b"a\nOURS\nb\nRESOLVED\nc\nTHEIRS\n";
        let _ = base;
        assert_eq!(
            texts(merged, &added_runs(&[ours, theirs], merged)),
            vec![(4, "RESOLVED\n".to_string())]
        );
    }
}
