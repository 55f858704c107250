//! Line and column numbers exactly as gitleaks 8.30 computes them (detect/location.go),
//! including its quirks:
//!
//! * columns are 1-based inclusive byte columns on the fragment's first line, but one larger
//!   on every later line (the "previous newline" offset is the `\n` itself);
//! * the line text of a finding on a later line starts with that `\n`;
//! * a match on a last line without a trailing `\n` gets line text from the start of the
//!   fragment;
//! * a match that runs past the last newline keeps `EndColumn` 0.

/// Where a match lies, in fragment-relative terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Location {
    /// 0-based line index of the match start within the fragment.
    pub start_line: usize,
    /// 0-based line index of the match end.
    pub end_line: usize,
    /// gitleaks start column.
    pub start_column: i64,
    /// gitleaks end column.
    pub end_column: i64,
    /// Byte offset where the finding's `Line` starts.
    pub start_line_index: usize,
    /// Byte offset where the finding's `Line` ends.
    pub end_line_index: usize,
}

/// Offsets of every `\n` in `raw`.
pub(crate) fn newline_offsets(raw: &[u8]) -> Vec<usize> {
    memchr::memchr_iter(b'\n', raw).collect()
}

/// gitleaks' `location(newlineIndices, raw, matchIndex)`.
pub(crate) fn location(newlines: &[usize], raw: &[u8], start: usize, end: usize) -> Location {
    let pseudo = [raw.len()];
    let newlines: &[usize] = if newlines.is_empty() {
        &pseudo
    } else {
        newlines
    };
    let (start_i, end_i) = (start as i64, end as i64);
    let mut loc = Location::default();
    let mut prev_nl: usize = 0;
    let mut line_set = false;
    let mut last_line = 0;
    for (line_num, &nl) in newlines.iter().enumerate() {
        last_line = line_num;
        if prev_nl <= start && start < nl {
            line_set = true;
            loc.start_line = line_num;
            loc.end_line = line_num;
            loc.start_column = start_i - prev_nl as i64 + 1;
            loc.start_line_index = prev_nl;
            loc.end_line_index = nl;
        }
        if prev_nl < end && end <= nl {
            loc.end_line = line_num;
            loc.end_column = end_i - prev_nl as i64;
            loc.end_line_index = nl;
        }
        prev_nl = nl;
    }
    if !line_set {
        loc.start_column = start_i - prev_nl as i64 + 1;
        loc.end_column = end_i - prev_nl as i64;
        loc.start_line = last_line + 1;
        loc.end_line = last_line + 1;
        let mut i = end;
        while i < raw.len() && raw[i] != b'\n' && raw[i] != b'\r' {
            i += 1;
        }
        loc.end_line_index = i.max(end);
    }
    loc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(raw: &str, needle: &str) -> Location {
        let s = raw.find(needle).unwrap();
        location(
            &newline_offsets(raw.as_bytes()),
            raw.as_bytes(),
            s,
            s + needle.len(),
        )
    }

    #[test]
    fn first_line_columns_are_one_based_inclusive() {
        let l = loc("abc SECRET xyz\nnext\n", "SECRET");
        assert_eq!((l.start_line, l.start_column, l.end_column), (0, 5, 10));
        assert_eq!((l.start_line_index, l.end_line_index), (0, 14));
    }

    #[test]
    fn later_line_columns_are_one_larger_and_line_keeps_newline() {
        let raw = "first\nabc SECRET\n";
        let l = loc(raw, "SECRET");
        assert_eq!((l.start_line, l.start_column, l.end_column), (1, 6, 11));
        assert_eq!(&raw[l.start_line_index..l.end_line_index], "\nabc SECRET");
    }

    #[test]
    fn no_newline_fragment_is_one_line() {
        let l = loc("x SECRET", "SECRET");
        assert_eq!((l.start_line, l.start_column, l.end_column), (0, 3, 8));
        assert_eq!(l.end_line_index, 8);
    }

    #[test]
    fn last_line_without_newline_takes_line_from_fragment_start() {
        let raw = "one\ntwo SECRET";
        let l = loc(raw, "SECRET");
        assert_eq!((l.start_line, l.start_column, l.end_column), (1, 6, 11));
        assert_eq!(l.start_line_index, 0);
        assert_eq!(l.end_line_index, raw.len());
    }

    #[test]
    fn match_running_past_last_newline_keeps_end_column_zero() {
        let raw = "a\nSEC\nRET";
        let s = raw.find("SEC").unwrap();
        let l = location(
            &newline_offsets(raw.as_bytes()),
            raw.as_bytes(),
            s,
            raw.len(),
        );
        assert_eq!((l.start_line, l.end_line, l.end_column), (1, 1, 0));
    }
}
