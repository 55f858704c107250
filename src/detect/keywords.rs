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

#![expect(
    unsafe_code,
    reason = "SIMD intrinsics that load and gather from memory"
)]

use std::ops::ControlFlow;

/// Number of distinct position codes.
const CODES: usize = 1 << 20;
/// Low five bits of each of four bytes.
const FOLD4: u32 = 0x1f1f_1f1f;

/// The 20-bit code of the four bytes packed little endian in `x`: the low five bits of each.
#[inline(always)]
fn code(x: u32) -> usize {
    let x = x & FOLD4;
    (x & 0x1f | (x >> 3) & 0x3e0 | (x >> 6) & 0x7c00 | (x >> 9) & 0xf_8000) as usize
}

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

/// The position filter: a set bit per code, in 32-bit words (the unit of the AVX2 gather).
#[derive(Debug)]
struct Filter(Box<[u32; CODES / 32]>);

impl Filter {
    fn set(&mut self, c: usize) {
        self.0[(c / 32) % self.0.len()] |= 1 << (c % 32);
    }
    #[inline(always)]
    fn has(&self, c: usize) -> bool {
        self.0[(c / 32) % self.0.len()] >> (c % 32) & 1 != 0
    }
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

/// The widest vector loop a search may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    /// One position at a time.
    Scalar,
    /// Eight positions at a time (AVX2).
    Avx2,
    /// Sixteen positions at a time (AVX-512 F, BW and VBMI).
    Avx512,
}

impl Level {
    /// The widest level this CPU supports.
    fn detect() -> Level {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vbmi")
            {
                return Level::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Level::Avx2;
            }
        }
        Level::Scalar
    }

    /// Every level this CPU supports.
    #[cfg(test)]
    fn available() -> Vec<Level> {
        [Level::Scalar, Level::Avx2, Level::Avx512]
            .into_iter()
            .filter(|l| *l <= Level::detect())
            .collect()
    }
}

/// A compiled keyword set.
#[derive(Debug)]
pub(crate) struct KeywordSet {
    /// Keywords, ASCII-lowercased.
    lowered: Vec<Vec<u8>>,
    filter: Filter,
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
        let mut filter = Filter(Box::new([0; CODES / 32]));
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
                        filter.set(c);
                        entries.push(Entry {
                            code: c as u32,
                            id,
                            offset: 0,
                        });
                    }
                }
                _ => {
                    let o = rarest_quad(k);
                    let c = code(pack(&k[o..o + 4]));
                    filter.set(c);
                    entries.push(Entry {
                        code: c as u32,
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
        c: usize,
        text: &[u8],
        at: usize,
        f: &mut impl FnMut(usize, usize, usize) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        for e in &self.entries[self.rows.get(c as u32)] {
            if let Some(start) = at.checked_sub(e.offset as usize) {
                self.check(e.id, text, start, f)?;
            }
        }
        ControlFlow::Continue(())
    }

    /// The positions `at + k` of a vector block whose bit `k` is set in `hits`, with their
    /// codes `codes[k]`: [`Self::candidate`] for each; `Err` when `f` breaks.
    #[inline(always)]
    fn candidates<B>(
        &self,
        codes: &[u32],
        hits: u32,
        text: &[u8],
        at: usize,
        f: &mut impl FnMut(usize, usize, usize) -> ControlFlow<B>,
    ) -> Result<(), B> {
        let mut m = hits;
        while m != 0 {
            let k = m.trailing_zeros() as usize;
            m &= m - 1;
            if let ControlFlow::Break(b) = self.candidate(codes[k] as usize, text, at + k, f) {
                return Err(b);
            }
        }
        Ok(())
    }

    /// Positions `from..` (each with four bytes) one at a time.
    fn search_scalar<B>(
        &self,
        text: &[u8],
        from: usize,
        f: &mut impl FnMut(usize, usize, usize) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        for (k, w) in text[from..].windows(4).enumerate() {
            let c = code(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
            if self.filter.has(c) {
                self.candidate(c, text, from + k, f)?;
            }
        }
        ControlFlow::Continue(())
    }

    /// Positions in blocks of eight with AVX2 (codes computed and bits gathered eight at a
    /// time); returns the first position not covered (the rest needs the scalar loop).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn search_avx2<B>(
        &self,
        text: &[u8],
        from: usize,
        f: &mut impl FnMut(usize, usize, usize) -> ControlFlow<B>,
    ) -> Result<usize, B> {
        use std::arch::x86_64::*;
        let n = text.len();
        let words = self.filter.0.as_ptr().cast::<i32>();
        // Lane 0 holds bytes at.., lane 1 bytes at+4..; each lane builds four little-endian
        // four-byte windows.
        let windows = _mm256_setr_epi8(
            0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6, 0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3,
            4, 5, 6,
        );
        let fold = _mm256_set1_epi32(FOLD4 as i32);
        // `code`: b0 + 32·b1 per byte pair (multiply-add of bytes), then w0 + 1024·w1.
        let pair = _mm256_set1_epi16(0x2001);
        let quad = _mm256_set1_epi32(0x0400_0001);
        let mut at = from;
        while at + 20 <= n {
            let p = text.as_ptr().wrapping_add(at);
            // SAFETY: the loads read text[at..at + 20] (in bounds: at + 20 <= n).
            let v = unsafe { _mm256_loadu2_m128i(p.wrapping_add(4).cast(), p.cast()) };
            let x = _mm256_and_si256(_mm256_shuffle_epi8(v, windows), fold);
            let codes = _mm256_madd_epi16(_mm256_maddubs_epi16(x, pair), quad);
            let index = _mm256_srli_epi32::<5>(codes);
            // SAFETY: the gather reads words of the filter at code / 32 < CODES / 32 (codes
            // have 20 bits).
            let w = unsafe { _mm256_i32gather_epi32::<4>(words, index) };
            let bits = _mm256_srlv_epi32(w, _mm256_and_si256(codes, _mm256_set1_epi32(31)));
            let hits =
                _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32::<31>(bits))) as u32;
            if hits != 0 {
                let mut c = [0u32; 8];
                // SAFETY: stores 32 bytes into the local array.
                unsafe { _mm256_storeu_si256(c.as_mut_ptr().cast(), codes) };
                self.candidates(&c, hits, text, at, f)?;
            }
            at += 8;
        }
        Ok(at)
    }

    /// Positions in blocks of sixteen with AVX-512 (the four-byte windows of sixteen
    /// positions built by one byte permutation, their codes by two multiply-adds, sixteen
    /// filter words gathered at once); returns the first position not covered.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F, BW and VBMI.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    unsafe fn search_avx512<B>(
        &self,
        text: &[u8],
        f: &mut impl FnMut(usize, usize, usize) -> ControlFlow<B>,
    ) -> Result<usize, B> {
        use std::arch::x86_64::*;
        let n = text.len();
        let words = self.filter.0.as_ptr().cast::<i32>();
        // Byte `4k + j` of the permuted vector is text byte `at + k + j`.
        let order: [u8; 64] = std::array::from_fn(|i| (i / 4 + i % 4) as u8);
        // SAFETY: reads the 64 bytes of `order`.
        let windows = unsafe { _mm512_loadu_si512(order.as_ptr().cast()) };
        let fold = _mm512_set1_epi32(FOLD4 as i32);
        let pair = _mm512_set1_epi16(0x2001);
        let quad = _mm512_set1_epi32(0x0400_0001);
        let one = _mm512_set1_epi32(1);
        let low5 = _mm512_set1_epi32(31);
        let mut at = 0usize;
        while at + 32 <= n {
            // SAFETY: the load reads text[at..at + 32] (in bounds: at + 32 <= n).
            let v = unsafe { _mm256_loadu_si256(text.as_ptr().wrapping_add(at).cast()) };
            let v = _mm512_castsi256_si512(v);
            let x = _mm512_and_si512(_mm512_permutexvar_epi8(windows, v), fold);
            let codes = _mm512_madd_epi16(_mm512_maddubs_epi16(x, pair), quad);
            let index = _mm512_srli_epi32::<5>(codes);
            // SAFETY: the gather reads words of the filter at code / 32 < CODES / 32 (codes
            // have 20 bits).
            let w = unsafe { _mm512_i32gather_epi32::<4>(index, words) };
            let bits = _mm512_srlv_epi32(w, _mm512_and_si512(codes, low5));
            let hits = _mm512_test_epi32_mask(bits, one);
            if hits != 0 {
                let mut c = [0u32; 16];
                // SAFETY: stores 64 bytes into the local array.
                unsafe { _mm512_storeu_si512(c.as_mut_ptr().cast(), codes) };
                self.candidates(&c, u32::from(hits), text, at, f)?;
            }
            at += 16;
        }
        Ok(at)
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
        #[allow(unused_mut)]
        let mut from = 0usize;
        #[cfg(target_arch = "x86_64")]
        {
            if level >= Level::Avx512 && n >= 32 {
                // SAFETY: `Level::Avx512` is only used when the CPU has those features.
                match unsafe { self.search_avx512(text, &mut f) } {
                    Ok(done) => from = done,
                    Err(b) => return ControlFlow::Break(b),
                }
            }
            if level >= Level::Avx2 && n >= from + 20 {
                // SAFETY: `Level::Avx2` is only used when the CPU has AVX2.
                match unsafe { self.search_avx2(text, from, &mut f) } {
                    Ok(done) => from = done,
                    Err(b) => return ControlFlow::Break(b),
                }
            }
        }
        self.search_scalar(text, from, &mut f)?;
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
