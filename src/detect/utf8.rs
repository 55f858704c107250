//! Match bounds on UTF-8 character boundaries, as Go's `regexp` produces them.
//!
//! Rule regexes run on bytes (Unicode disabled), so a negated class or `.` at either end of a
//! pattern can match a single byte of a multi-byte character: `glpat-…(?:[^0-9A-Za-z_-]|$)`
//! before `ü` ends after the first byte of `ü`. Go decodes the text rune by rune, so its
//! matches always start and end on character boundaries and that match includes the whole
//! `ü`. [`widen`] moves a bound that splits a valid UTF-8 sequence outwards to the
//! sequence's edge; invalid bytes count as single characters, as in Go.

/// Length of the UTF-8 sequence that `lead` starts, or `None` for a continuation or invalid
/// byte.
fn sequence_len(lead: u8) -> Option<usize> {
    match lead {
        0xC2..=0xDF => Some(2),
        0xE0..=0xEF => Some(3),
        0xF0..=0xF4 => Some(4),
        _ => None,
    }
}

/// The valid multi-byte sequence of `text` that contains position `i` strictly inside it
/// (i.e. `i` is not its first byte), as `(start, end)`.
fn split_sequence(text: &[u8], i: usize) -> Option<(usize, usize)> {
    if i == 0 || i >= text.len() || !(0x80..=0xBF).contains(&text[i]) {
        return None;
    }
    let lo = i.saturating_sub(3);
    let p = (lo..i).rev().find(|&p| !(0x80..=0xBF).contains(&text[p]))?;
    let len = sequence_len(text[p])?;
    let end = p + len;
    (end > i && end <= text.len() && std::str::from_utf8(&text[p..end]).is_ok()).then_some((p, end))
}

/// `[s, e)` widened so that neither bound splits a valid UTF-8 character of `text`.
pub(crate) fn widen(text: &[u8], s: usize, e: usize) -> (usize, usize) {
    let s = split_sequence(text, s).map_or(s, |(p, _)| p);
    let e = if e > s {
        split_sequence(text, e).map_or(e, |(_, end)| end)
    } else {
        e
    };
    (s, e)
}

#[cfg(test)]
mod tests {
    use super::widen;

    #[test]
    fn end_inside_a_character_moves_past_it() {
        let t = "tokü rest".as_bytes();
        // "tok" + first byte of ü
        assert_eq!(widen(t, 0, 4), (0, 5));
        // three- and four-byte characters
        let t = "a€b".as_bytes();
        assert_eq!(widen(t, 0, 2), (0, 4));
        assert_eq!(widen(t, 0, 3), (0, 4));
        let t = "a🔑b".as_bytes();
        assert_eq!(widen(t, 0, 2), (0, 5));
    }

    #[test]
    fn start_inside_a_character_moves_to_its_first_byte() {
        let t = "éab".as_bytes();
        assert_eq!(widen(t, 1, 4), (0, 4));
    }

    #[test]
    fn boundaries_and_invalid_bytes_stay() {
        let t = "aüb".as_bytes();
        assert_eq!(widen(t, 0, 1), (0, 1));
        assert_eq!(widen(t, 1, 3), (1, 3));
        assert_eq!(widen(t, 0, t.len()), (0, t.len()));
        // a lone lead byte followed by ASCII, a truncated sequence at the end, stray
        // continuation bytes: not valid UTF-8, every byte is a character on its own
        let t = b"a\xC3b";
        assert_eq!(widen(t, 0, 2), (0, 2));
        let t = b"ab\xE2\x82";
        assert_eq!(widen(t, 0, 3), (0, 3));
        let t = b"a\x80\x80b";
        assert_eq!(widen(t, 0, 2), (0, 2));
        assert_eq!(widen(t, 2, 4), (2, 4));
        assert_eq!(widen(b"", 0, 0), (0, 0));
    }
}
