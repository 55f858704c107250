//! The keyword prefilter: every (overlapping) ASCII-case-insensitive occurrence of every rule
//! keyword in a text.
//!
//! An Aho-Corasick DFA over the ~460 keywords of the default ruleset walks one dependent
//! state transition per byte and, with a table of more than a megabyte, runs at 250–400 MB/s
//! here. This searcher instead looks at every position independently: the four bytes
//! starting there, with only the low five bits of each kept (the same for both ASCII cases
//! of a letter), form a 20-bit code, and a 128 KB bitset says whether some keyword is filed
//! under that code. Each keyword of four or more bytes is filed under the four bytes in it
//! that are rarest in source code (so `-----BEGIN` is filed under `BEGI`, not `----`); a
//! keyword of three bytes is filed under its bytes followed by each possible fourth byte.
//! With AVX2, eight positions are coded and tested at once (a gather of eight bitset words);
//! with AVX-512 (F, BW, VBMI) sixteen (one byte permutation builds their windows, two
//! multiply-adds their codes; 20 % less time on the synthetic history, where the gather is the
//! limit); only the ~1 % of positions whose bit is set compare the keywords filed there.
//! Keywords shorter than three bytes are searched with `memchr` on their last byte.
//!
//! The filter is a superset (different bytes share a code), the comparison is exact, so the
//! result is exactly the set of occurrences; nothing is built lazily, and building takes
//! microseconds.
//!
//! The position codes, their bitset and the vector loops live in `portcullis_unsafe::simd`
//! (the crate that holds all unsafe code); the filing of keywords and the exact comparison
//! are here.

use std::ops::ControlFlow;

use portcullis_unsafe::simd::{CodeSet, Level, code};

/// The bytes of `b` (at most four) packed little endian.
fn pack(b: &[u8]) -> u32 {
    b.iter()
        .take(4)
        .enumerate()
        .fold(0, |acc, (i, &x)| acc | (u32::from(x) << (8 * i)))
}

/// How common each byte is in source code: `255 + 16·log2(p)` (clamped at 0) of its
/// frequency `p` in the files of git.git's HEAD (48 MB of C, shell, Perl and docs), ASCII
/// letters of both cases counted together.
static COMMONNESS: [u8; 256] = [
    95, 21, 32, 12, 11, 18, 9, 15, 11, 164, 177, 13, 21, 18, 12, 22, 10, 24, 13, 17, 23, 19, 20,
    19, 14, 16, 17, 14, 17, 14, 18, 22, 205, 84, 164, 126, 117, 121, 137, 134, 136, 136, 125, 93,
    139, 161, 143, 130, 122, 120, 111, 98, 98, 91, 92, 86, 88, 86, 131, 128, 111, 126, 126, 68, 74,
    181, 152, 174, 170, 194, 162, 164, 162, 184, 106, 136, 169, 169, 179, 180, 162, 95, 182, 185,
    191, 163, 134, 136, 130, 136, 103, 107, 115, 107, 66, 157, 94, 181, 152, 174, 170, 194, 162,
    164, 162, 184, 106, 136, 169, 169, 179, 180, 162, 95, 182, 185, 191, 163, 134, 136, 130, 136,
    103, 106, 93, 106, 68, 27, 102, 90, 98, 81, 78, 68, 59, 72, 74, 65, 66, 72, 75, 65, 50, 78, 62,
    63, 40, 44, 64, 71, 74, 61, 61, 57, 65, 54, 74, 71, 64, 67, 72, 79, 43, 59, 75, 63, 46, 67, 66,
    75, 58, 56, 51, 73, 67, 68, 106, 85, 88, 78, 88, 102, 71, 80, 101, 71, 95, 99, 93, 101, 101,
    87, 10, 23, 56, 110, 82, 66, 43, 20, 7, 13, 22, 18, 23, 15, 91, 75, 148, 125, 17, 20, 18, 18,
    17, 18, 12, 15, 19, 16, 13, 14, 14, 17, 59, 87, 74, 67, 74, 92, 88, 79, 70, 60, 44, 76, 82, 57,
    13, 53, 28, 30, 14, 14, 15, 15, 20, 13, 31, 14, 17, 19, 26, 20, 28, 39,
];

fn commonness(b: u8) -> u32 {
    u32::from(COMMONNESS[usize::from(b)])
}

/// Offset of the four bytes of `k` (at least four long) that are rarest in typical text.
fn rarest_quad(k: &[u8]) -> usize {
    (0..=k.len() - 4)
        .min_by_key(|&o| k[o..o + 4].iter().map(|&b| commonness(b)).sum::<u32>())
        .unwrap_or(0)
}

/// One keyword filed under a position code, with the offset of the coded bytes in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    code: u32,
    id: u32,
    offset: u32,
}

/// An open-addressing table from a code to its row of entries: `(code, start, end)` slots,
/// `u32::MAX` = empty.
#[derive(Debug)]
struct Rows(Vec<(u32, u32, u32)>);

impl Rows {
    fn new(entries: &[Entry]) -> Rows {
        let distinct = entries.chunk_by(|a, b| a.code == b.code).count();
        let size = (distinct * 4).next_power_of_two().max(16);
        let mut slots = vec![(u32::MAX, 0, 0); size];
        let mut start = 0usize;
        for chunk in entries.chunk_by(|a, b| a.code == b.code) {
            let c = chunk[0].code;
            let mut s = Self::slot(c, size);
            while slots[s].0 != u32::MAX {
                s = (s + 1) & (size - 1);
            }
            slots[s] = (c, start as u32, (start + chunk.len()) as u32);
            start += chunk.len();
        }
        Rows(slots)
    }

    fn slot(c: u32, size: usize) -> usize {
        (c.wrapping_mul(0x9E37_79B1) >> 12) as usize & (size - 1)
    }

    /// The entry range filed under `c` (empty if none).
    #[inline(always)]
    fn get(&self, c: u32) -> std::ops::Range<usize> {
        let size = self.0.len();
        let mut s = Self::slot(c, size);
        loop {
            let (k, a, b) = self.0[s];
            if k == c {
                return a as usize..b as usize;
            }
            if k == u32::MAX {
                return 0..0;
            }
            s = (s + 1) & (size - 1);
        }
    }
}

/// A compiled keyword set.
#[derive(Debug)]
pub(crate) struct KeywordSet {
    /// Keywords, ASCII-lowercased.
    lowered: Vec<Vec<u8>>,
    /// The codes some keyword is filed under.
    filter: CodeSet,
    /// Keywords of three or more bytes, sorted by code (a three-byte keyword once per
    /// possible fourth byte).
    entries: Vec<Entry>,
    rows: Rows,
    /// Keywords of three bytes.
    three: Vec<u32>,
    /// Keywords shorter than three bytes.
    short: Vec<u32>,
}

impl KeywordSet {
    /// Compile `patterns` (pattern ids are their indexes). Empty patterns never match.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> KeywordSet {
        let lowered: Vec<Vec<u8>> = patterns
            .iter()
            .map(|p| p.as_ref().as_bytes().to_ascii_lowercase())
            .collect();
        let mut filter = CodeSet::new();
        let (mut entries, mut three, mut short) = (Vec::new(), Vec::new(), Vec::new());
        for (id, k) in lowered.iter().enumerate() {
            let id = id as u32;
            match k.len() {
                0 => {}
                1 | 2 => short.push(id),
                3 => {
                    three.push(id);
                    let x = pack(k);
                    for fourth in 0..32u32 {
                        let c = code(x | (fourth << 24));
                        filter.insert(c);
                        entries.push(Entry {
                            code: c,
                            id,
                            offset: 0,
                        });
                    }
                }
                _ => {
                    let o = rarest_quad(k);
                    let c = code(pack(&k[o..o + 4]));
                    filter.insert(c);
                    entries.push(Entry {
                        code: c,
                        id,
                        offset: o as u32,
                    });
                }
            }
        }
        entries.sort_unstable();
        entries.dedup();
        let rows = Rows::new(&entries);
        KeywordSet {
            lowered,
            filter,
            entries,
            rows,
            three,
            short,
        }
    }

    /// Number of patterns.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lowered.len()
    }

    /// Whether keyword `id` occurs at `start`; if so, report it.
    #[inline(always)]
    fn check<B>(
        &self,
        id: u32,
        text: &[u8],
        start: usize,
        f: &mut impl FnMut(usize, usize, usize) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        let k = &self.lowered[id as usize];
        let end = start + k.len();
        if end <= text.len() && text[start..end].eq_ignore_ascii_case(k) {
            f(id as usize, start, end)?;
        }
        ControlFlow::Continue(())
    }

    /// A position whose filter bit is set: the keywords filed under code `c` whose coded
    /// bytes are at `at`.
    #[inline(never)]
    fn candidate<B>(
        &self,
        c: u32,
        text: &[u8],
        at: usize,
        f: &mut impl FnMut(usize, usize, usize) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        for e in &self.entries[self.rows.get(c)] {
            if let Some(start) = at.checked_sub(e.offset as usize) {
                self.check(e.id, text, start, f)?;
            }
        }
        ControlFlow::Continue(())
    }

    /// Every occurrence, reported to `f` until it breaks, with the widest vector loop `level`
    /// allows (tests compare the levels).
    fn search<B>(
        &self,
        text: &[u8],
        level: Level,
        mut f: impl FnMut(usize, usize, usize) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        let n = text.len();
        self.filter
            .scan(text, level, |at, c| self.candidate(c, text, at, &mut f))?;
        // The last three bytes: three-byte keywords only (a position code needs four).
        if n >= 3 {
            for &id in &self.three {
                self.check(id, text, n - 3, &mut f)?;
            }
        }
        for &id in &self.short {
            self.find_short(text, id as usize, &mut f)?;
        }
        ControlFlow::Continue(())
    }

    /// Like [`KeywordSet::for_each`], with the vector loops up to `level` (tests compare the
    /// levels).
    #[cfg(test)]
    fn for_each_at(&self, level: Level, text: &[u8], mut f: impl FnMut(usize, usize, usize)) {
        let _ = self.search::<()>(text, level, |p, s, e| {
            f(p, s, e);
            ControlFlow::Continue(())
        });
    }

    /// Every occurrence of every keyword in `text`, as `(pattern, start, end)`, in no
    /// particular order.
    pub fn for_each(&self, text: &[u8], mut f: impl FnMut(usize, usize, usize)) {
        let _ = self.search::<()>(text, Level::detect(), |p, s, e| {
            f(p, s, e);
            ControlFlow::Continue(())
        });
    }

    /// Whether any keyword occurs in `text`.
    pub fn is_match(&self, text: &[u8]) -> bool {
        self.search(text, Level::detect(), |_, _, _| ControlFlow::Break(()))
            .is_break()
    }

    /// Occurrences of a keyword of one or two bytes.
    fn find_short<B>(
        &self,
        text: &[u8],
        id: usize,
        f: &mut impl FnMut(usize, usize, usize) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        let k = &self.lowered[id];
        let last = k[k.len() - 1];
        let back = k.len() - 1;
        // `p` is where the keyword's last byte would be.
        let mut at = |p: usize| match p.checked_sub(back) {
            Some(start) => self.check(id as u32, text, start, f),
            None => ControlFlow::Continue(()),
        };
        if last.is_ascii_alphabetic() {
            for p in memchr::memchr2_iter(last, last.to_ascii_uppercase(), text) {
                at(p)?;
            }
        } else {
            for p in memchr::memchr_iter(last, text) {
                at(p)?;
            }
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Reference: every occurrence by brute force.
    fn brute(kws: &[&str], text: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for (id, k) in kws.iter().enumerate() {
            let k = k.as_bytes();
            if k.is_empty() || k.len() > text.len() {
                continue;
            }
            for s in 0..=text.len() - k.len() {
                if text[s..s + k.len()].eq_ignore_ascii_case(k) {
                    out.push((id, s, s + k.len()));
                }
            }
        }
        out.sort_unstable();
        out
    }

    fn found(kws: &[&str], text: &[u8]) -> Vec<(usize, usize, usize)> {
        let set = KeywordSet::new(kws);
        let mut out = Vec::new();
        set.for_each(text, |p, s, e| out.push((p, s, e)));
        out.sort_unstable();
        assert_eq!(set.is_match(text), !out.is_empty());
        for level in Level::available() {
            let mut at_level = Vec::new();
            set.for_each_at(level, text, |p, s, e| at_level.push((p, s, e)));
            at_level.sort_unstable();
            assert_eq!(at_level, out, "{level:?}");
        }
        out
    }

    #[test]
    fn overlapping_and_case_insensitive() {
        let kws = ["api", "api_key", "key", "KEY", "q~", "x", "", "pi_k"];
        let text = b"API_KEY=1 xapi_keyq~ Q~ ke";
        assert_eq!(found(&kws, text), brute(&kws, text));
        assert_eq!(KeywordSet::new(&kws).len(), kws.len());
    }

    #[test]
    fn codes_collide_but_results_are_exact() {
        // `0` (0x30) and `p` (0x70) share their low five bits.
        let kws = ["pwd", "k00"];
        let text = b"0wd PWD kpp K00";
        assert_eq!(found(&kws, text), vec![(0, 4, 7), (1, 12, 15)]);
    }

    /// The same occurrences as an Aho-Corasick automaton's overlapping search, on the
    /// default ruleset's keywords over a text full of them.
    #[test]
    fn equals_aho_corasick_on_default_keywords() {
        let cfg = crate::rules::Config::embedded_default();
        let mut kws: Vec<String> = Vec::new();
        for r in cfg.rules() {
            for k in &r.keywords {
                if !kws.contains(k) {
                    kws.push(k.clone());
                }
            }
        }
        let mut text = Vec::new();
        for (i, k) in kws.iter().enumerate() {
            text.extend_from_slice(
                if i % 2 == 0 {
                    k.to_uppercase()
                } else {
                    k.clone()
                }
                .as_bytes(),
            );
            text.extend_from_slice(if i % 3 == 0 { b"_" } else { b" x=" });
        }
        let set = KeywordSet::new(&kws);
        let mut ours = Vec::new();
        set.for_each(&text, |p, s, e| ours.push((p, s, e)));
        let ac = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&kws)
            .unwrap();
        let mut theirs: Vec<(usize, usize, usize)> = ac
            .find_overlapping_iter(&text)
            .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
            .collect();
        ours.sort_unstable();
        theirs.sort_unstable();
        for level in Level::available() {
            let mut at_level = Vec::new();
            set.for_each_at(level, &text, |p, s, e| at_level.push((p, s, e)));
            at_level.sort_unstable();
            assert_eq!(at_level, ours, "{level:?}");
        }
        assert!(theirs.len() > kws.len());
        assert_eq!(ours, theirs);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]
        #[test]
        fn equals_brute_force(
            text in proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(b'A'), Just(b'k'), Just(b'E'), Just(b'y'),
                    Just(b'_'), Just(b'0'), Just(b'p'), Just(b'~'), Just(0xC3u8), any::<u8>()], 0..300),
            kws in proptest::collection::vec("[aAkEy_0p~]{1,5}", 1..8),
        ) {
            let kws: Vec<&str> = kws.iter().map(String::as_str).collect();
            prop_assert_eq!(found(&kws, &text), brute(&kws, &text));
        }
    }
}
