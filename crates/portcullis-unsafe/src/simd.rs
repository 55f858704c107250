//! Vector loops of the detector: the keyword prefilter's position filter and the decoder's
//! byte classifier.
//!
//! **Position filter.** Each position of a text with four bytes from it has a 20-bit code:
//! the low five bits of each of the four bytes (the same for both ASCII cases of a letter),
//! see [`code`]. A [`CodeSet`] is a set of such codes (a 128 KiB bitset);
//! [`CodeSet::scan`] reports every position whose code is in the set, in ascending order.
//! With AVX2 eight positions are coded and tested at once (a gather of eight bitset words);
//! with AVX-512 (F, BW, VBMI) sixteen (one byte permutation builds their windows, two
//! multiply-adds their codes). What a position's code means (which keywords are filed under
//! it, and the exact comparison) is the caller's business.
//!
//! **Byte classifier.** [`Classifier::classify`] computes, for up to 64 bytes, bit masks of
//! the bytes in the base64 class `[A-Za-z0-9_/+-]`, of `%` and `\`, of `U` and of `+` (with
//! AVX2 for a whole 64-byte chunk, two 32-byte halves with nibble lookups).
//!
//! Why unsafe: intrinsics load from raw pointers and need CPU features. The safe entry points
//! use a vector level only when [`Level::detect`] reports it, and every load reads within the
//! slice (checked before the loop issues it). Under Miri the AVX-512 loop is left out (Miri
//! does not implement its byte permutation and 512-bit gather); the AVX2 loops run when the
//! crate is built with `-C target-feature=+avx2`.

use std::ops::ControlFlow;

/// Number of distinct position codes.
pub const CODES: usize = 1 << 20;
/// Low five bits of each of four bytes.
const FOLD4: u32 = 0x1f1f_1f1f;

/// The 20-bit code of the four bytes packed little endian in `x`: the low five bits of each
/// (byte `i` gives bits `5i..5i + 5`).
#[inline(always)]
pub fn code(x: u32) -> u32 {
    let x = x & FOLD4;
    x & 0x1f | (x >> 3) & 0x3e0 | (x >> 6) & 0x7c00 | (x >> 9) & 0xf_8000
}

/// The widest vector loop a search may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// One position at a time.
    Scalar,
    /// Eight positions at a time (AVX2).
    Avx2,
    /// Sixteen positions at a time (AVX-512 F, BW and VBMI).
    Avx512,
}

impl Level {
    /// The widest level this CPU supports (never [`Level::Avx512`] under Miri).
    #[inline]
    pub fn detect() -> Level {
        #[cfg(target_arch = "x86_64")]
        {
            #[cfg(not(miri))]
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

    /// Every level this CPU supports, narrowest first (for tests that compare them).
    pub fn available() -> Vec<Level> {
        let top = Level::detect();
        [Level::Scalar, Level::Avx2, Level::Avx512]
            .into_iter()
            .filter(|l| *l <= top)
            .collect()
    }
}

/// A set of position codes (see [`code`]): one bit per code, in 32-bit words (the unit of
/// the AVX2 gather).
#[derive(Debug, Clone)]
pub struct CodeSet(Box<[u32; CODES / 32]>);

impl Default for CodeSet {
    fn default() -> Self {
        CodeSet::new()
    }
}

impl CodeSet {
    /// The empty set.
    pub fn new() -> CodeSet {
        CodeSet(Box::new([0; CODES / 32]))
    }

    /// Add `c` (only its low 20 bits count).
    pub fn insert(&mut self, c: u32) {
        let c = c as usize % CODES;
        self.0[c / 32] |= 1 << (c % 32);
    }

    /// Whether `c` (its low 20 bits) is in the set.
    #[inline(always)]
    pub fn contains(&self, c: u32) -> bool {
        let c = c as usize % CODES;
        self.0[c / 32] >> (c % 32) & 1 != 0
    }

    /// Every position `at` of `text` with four bytes from it (`at + 4 <= text.len()`) whose
    /// code is in the set, in ascending order, reported to `f(at, code)` until it breaks; with
    /// the widest vector loop that both `level` allows and the CPU supports.
    #[inline]
    pub fn scan<B>(
        &self,
        text: &[u8],
        level: Level,
        mut f: impl FnMut(usize, u32) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        let level = level.min(Level::detect());
        let n = text.len();
        #[allow(unused_mut)]
        let mut from = 0usize;
        #[cfg(target_arch = "x86_64")]
        {
            #[cfg(not(miri))]
            if level >= Level::Avx512 && n >= 32 {
                // SAFETY: `level` is at most what `Level::detect` reports, so the CPU has
                // AVX-512 F, BW and VBMI.
                match unsafe { self.scan_avx512(text, &mut f) } {
                    Ok(done) => from = done,
                    Err(b) => return ControlFlow::Break(b),
                }
            }
            if level >= Level::Avx2 && n >= from + 20 {
                // SAFETY: `level` is at most what `Level::detect` reports, so the CPU has AVX2.
                match unsafe { self.scan_avx2(text, from, &mut f) } {
                    Ok(done) => from = done,
                    Err(b) => return ControlFlow::Break(b),
                }
            }
        }
        let _ = level;
        self.scan_scalar(text, from, &mut f)
    }

    /// Positions `from..` one at a time.
    #[inline(always)]
    fn scan_scalar<B>(
        &self,
        text: &[u8],
        from: usize,
        f: &mut impl FnMut(usize, u32) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        let Some(rest) = text.get(from..) else {
            return ControlFlow::Continue(());
        };
        for (k, w) in rest.windows(4).enumerate() {
            let c = code(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
            if self.contains(c) {
                f(from + k, c)?;
            }
        }
        ControlFlow::Continue(())
    }

    /// The positions `at + k` of a vector block whose bit `k` is set in `hits`, with their
    /// codes `codes[k]`, reported to `f`; `Err` when it breaks.
    #[inline(always)]
    fn report<B>(
        codes: &[u32],
        hits: u32,
        at: usize,
        f: &mut impl FnMut(usize, u32) -> ControlFlow<B>,
    ) -> Result<(), B> {
        let mut m = hits;
        while m != 0 {
            let k = m.trailing_zeros() as usize;
            m &= m - 1;
            if let ControlFlow::Break(b) = f(at + k, codes[k]) {
                return Err(b);
            }
        }
        Ok(())
    }

    /// Positions `from..` in blocks of eight with AVX2 (codes computed and bits gathered
    /// eight at a time); returns the first position not covered (the rest needs the scalar
    /// loop).
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn scan_avx2<B>(
        &self,
        text: &[u8],
        from: usize,
        f: &mut impl FnMut(usize, u32) -> ControlFlow<B>,
    ) -> Result<usize, B> {
        use std::arch::x86_64::*;
        let n = text.len();
        let words = self.0.as_ptr().cast::<i32>();
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
            // SAFETY: the two 16-byte loads read text[at..at + 20] (in bounds: at + 20 <= n).
            let v = unsafe { _mm256_loadu2_m128i(p.wrapping_add(4).cast(), p.cast()) };
            let x = _mm256_and_si256(_mm256_shuffle_epi8(v, windows), fold);
            let codes = _mm256_madd_epi16(_mm256_maddubs_epi16(x, pair), quad);
            let index = _mm256_srli_epi32::<5>(codes);
            // SAFETY: the gather reads words of the set at code / 32 < CODES / 32 (codes
            // have 20 bits: each of the four bytes contributes five).
            let w = unsafe { _mm256_i32gather_epi32::<4>(words, index) };
            let bits = _mm256_srlv_epi32(w, _mm256_and_si256(codes, _mm256_set1_epi32(31)));
            let hits =
                _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32::<31>(bits))) as u32;
            if hits != 0 {
                let mut c = [0u32; 8];
                // SAFETY: stores 32 bytes into the local array of 32 bytes.
                unsafe { _mm256_storeu_si256(c.as_mut_ptr().cast(), codes) };
                Self::report(&c, hits, at, f)?;
            }
            at += 8;
        }
        Ok(at)
    }

    /// Positions from 0 in blocks of sixteen with AVX-512 (the four-byte windows of sixteen
    /// positions built by one byte permutation, their codes by two multiply-adds, sixteen
    /// set words gathered at once); returns the first position not covered.
    ///
    /// # Safety
    /// The CPU must support AVX-512 F, BW and VBMI.
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi")]
    unsafe fn scan_avx512<B>(
        &self,
        text: &[u8],
        f: &mut impl FnMut(usize, u32) -> ControlFlow<B>,
    ) -> Result<usize, B> {
        use std::arch::x86_64::*;
        let n = text.len();
        let words = self.0.as_ptr().cast::<i32>();
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
            // SAFETY: the gather reads words of the set at code / 32 < CODES / 32 (codes
            // have 20 bits).
            let w = unsafe { _mm512_i32gather_epi32::<4>(index, words) };
            let bits = _mm512_srlv_epi32(w, _mm512_and_si512(codes, low5));
            let hits = _mm512_test_epi32_mask(bits, one);
            if hits != 0 {
                let mut c = [0u32; 16];
                // SAFETY: stores 64 bytes into the local array of 64 bytes.
                unsafe { _mm512_storeu_si512(c.as_mut_ptr().cast(), codes) };
                Self::report(&c, u32::from(hits), at, f)?;
            }
            at += 16;
        }
        Ok(at)
    }
}

/// Class masks of up to 64 bytes: bit `k` of each mask is byte `k`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Classes {
    /// The byte is in the base64 class `[A-Za-z0-9_/+-]`.
    pub base64: u64,
    /// The byte is `%` or `\`.
    pub escape: u64,
    /// The byte is `U`.
    pub u: u64,
    /// The byte is `+`.
    pub plus: u64,
}

/// Whether `b` is in the base64 class `[A-Za-z0-9_/+-]`.
#[inline(always)]
fn is_base64_class(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'/' | b'+' | b'-')
}

/// [`Classes`] of up to 64 bytes (bytes past the 64th are ignored), one byte at a time: the
/// reference of the vector classifier.
pub fn classify_scalar(chunk: &[u8]) -> Classes {
    let mut out = Classes::default();
    for (k, &c) in chunk.iter().take(64).enumerate() {
        let bit = 1u64 << k;
        if is_base64_class(c) {
            out.base64 |= bit;
        }
        if c == b'%' || c == b'\\' {
            out.escape |= bit;
        }
        if c == b'U' {
            out.u |= bit;
        }
        if c == b'+' {
            out.plus |= bit;
        }
    }
    out
}

/// The byte classifier, with AVX2 when the CPU has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classifier {
    /// AVX2 is available (only ever true when detected).
    avx2: bool,
}

impl Classifier {
    /// The widest classifier this CPU supports.
    #[inline]
    pub fn detect() -> Classifier {
        Classifier {
            avx2: Level::detect() >= Level::Avx2,
        }
    }

    /// The scalar classifier.
    pub fn scalar() -> Classifier {
        Classifier { avx2: false }
    }

    /// Whether this classifier uses AVX2.
    pub fn is_vector(&self) -> bool {
        self.avx2
    }

    /// [`classify_scalar`] of `chunk` (up to 64 bytes): with AVX2 for a whole 64-byte chunk
    /// when this classifier has it.
    #[inline(always)]
    pub fn classify(&self, chunk: &[u8]) -> Classes {
        #[cfg(target_arch = "x86_64")]
        if self.avx2
            && let Some(whole) = chunk.first_chunk::<64>()
            && chunk.len() == 64
        {
            // SAFETY: `avx2` is only true when `Level::detect` found AVX2.
            return unsafe { classify64_avx2(whole) };
        }
        classify_scalar(chunk)
    }
}

/// Nibble tables of the base64 class `[A-Za-z0-9_/+-]`: a byte is in the class when
/// `NIBBLE_HI[byte >> 4] & NIBBLE_LO[byte & 15] != 0`; bytes of 0x80 and above are not
/// (`pshufb` yields 0 for them). Bits: 1 = `+ - /` (0x2_), 2 = digits (0x3_), 4 = `A-O`
/// and `a-o` (0x4_, 0x6_), 8 = `P-Z` and `_` (0x5_), 16 = `p-z` (0x7_).
#[cfg(target_arch = "x86_64")]
const NIBBLE_HI: [u8; 16] = [0, 0, 1, 2, 4, 8, 4, 16, 0, 0, 0, 0, 0, 0, 0, 0];
#[cfg(target_arch = "x86_64")]
const NIBBLE_LO: [u8; 16] = {
    let mut t = [0u8; 16];
    let mut l = 0;
    while l < 16 {
        let mut bits = 0u8;
        if l == 0xb || l == 0xd || l == 0xf {
            bits |= 1;
        }
        if l <= 9 {
            bits |= 2;
        }
        if l >= 1 {
            bits |= 4;
        }
        if l <= 0xa || l == 0xf {
            bits |= 8;
        }
        if l <= 0xa {
            bits |= 16;
        }
        t[l] = bits;
        l += 1;
    }
    t
};

/// [`classify_scalar`] of 64 bytes, with AVX2.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn classify64_avx2(chunk: &[u8; 64]) -> Classes {
    use std::arch::x86_64::*;
    // SAFETY: an unaligned load of the 16-byte table.
    let hi_t = _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(NIBBLE_HI.as_ptr().cast()) });
    // SAFETY: an unaligned load of the 16-byte table.
    let lo_t = _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(NIBBLE_LO.as_ptr().cast()) });
    let nib = _mm256_set1_epi8(0x0f);
    let zero = _mm256_setzero_si256();
    let eq = |v: __m256i, c: u8| _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c as i8));
    let mut out = Classes::default();
    for half in 0..2 {
        // SAFETY: an unaligned load of bytes 32·half..32·half + 32 of the 64-byte array.
        let v = unsafe { _mm256_loadu_si256(chunk.as_ptr().wrapping_add(half * 32).cast()) };
        let hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
        let cls = _mm256_and_si256(_mm256_shuffle_epi8(hi_t, hi), _mm256_shuffle_epi8(lo_t, v));
        let b64 = !(_mm256_movemask_epi8(_mm256_cmpeq_epi8(cls, zero)) as u32);
        let spec = _mm256_movemask_epi8(_mm256_or_si256(eq(v, b'%'), eq(v, b'\\'))) as u32;
        let u = _mm256_movemask_epi8(eq(v, b'U')) as u32;
        let plus = _mm256_movemask_epi8(eq(v, b'+')) as u32;
        out.base64 |= u64::from(b64) << (half * 32);
        out.escape |= u64::from(spec) << (half * 32);
        out.u |= u64::from(u) << (half * 32);
        out.plus |= u64::from(plus) << (half * 32);
    }
    out
}

/// References for tests and fuzzing: the same results computed without the set's bit layout
/// or the vector loops.
pub mod reference {
    use std::collections::HashSet;

    /// The code of the four bytes at `w[0..4]`: the low five bits of byte `i` at bit `5i`.
    pub fn code_of(w: &[u8]) -> u32 {
        w.iter()
            .take(4)
            .enumerate()
            .fold(0, |acc, (i, &b)| acc | (u32::from(b) & 31) << (5 * i))
    }

    /// Every position of `text` with four bytes from it whose code is in `codes`, with the
    /// code, ascending.
    pub fn scan(codes: &HashSet<u32>, text: &[u8]) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        if text.len() < 4 {
            return out;
        }
        for at in 0..=text.len() - 4 {
            let c = code_of(&text[at..at + 4]);
            if codes.contains(&c) {
                out.push((at, c));
            }
        }
        out
    }

    /// Every hit [`super::CodeSet::scan`] reports at `level`, in order, when nothing stops it.
    pub fn collect(set: &super::CodeSet, text: &[u8], level: super::Level) -> Vec<(usize, u32)> {
        let mut got = Vec::new();
        let _ = set.scan::<()>(text, level, |at, c| {
            got.push((at, c));
            std::ops::ControlFlow::Continue(())
        });
        got
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// A small xorshift generator (no dependency; deterministic).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn byte(&mut self, alphabet: &[u8]) -> u8 {
            alphabet[self.next() as usize % alphabet.len()]
        }
    }

    fn set_of(codes: &HashSet<u32>) -> CodeSet {
        let mut s = CodeSet::new();
        for &c in codes {
            s.insert(c);
        }
        s
    }

    /// Every level's scan equals the reference; also when `f` breaks at each hit.
    fn check(codes: &HashSet<u32>, text: &[u8]) -> Vec<(usize, u32)> {
        let set = set_of(codes);
        let want = reference::scan(codes, text);
        for level in Level::available() {
            let got = reference::collect(&set, text, level);
            assert_eq!(got, want, "{level:?}, text {text:?}");
            // Breaking at the k-th hit stops right there.
            for (stop, hit) in want.iter().enumerate().take(3) {
                let mut seen = 0usize;
                let r = set.scan(text, level, |at, _| {
                    seen += 1;
                    if seen > stop {
                        ControlFlow::Break(at)
                    } else {
                        ControlFlow::Continue(())
                    }
                });
                assert_eq!(r, ControlFlow::Break(hit.0), "{level:?}");
            }
        }
        want
    }

    #[test]
    fn code_equals_the_reference_on_every_byte() {
        for b in 0..=255u8 {
            let w = [b, b.wrapping_add(1), b ^ 0x55, 255 - b];
            assert_eq!(code(u32::from_le_bytes(w)), reference::code_of(&w));
        }
        assert!(code(u32::MAX) < CODES as u32);
    }

    #[test]
    fn hits_at_both_ends_for_every_length() {
        let max = if cfg!(miri) { 40 } else { 100 };
        for n in 0..max {
            let mut text = vec![b'.'; n];
            if n >= 4 {
                text[..4].copy_from_slice(b"KEYS");
                text[n - 4..].copy_from_slice(b"tail");
            }
            let codes: HashSet<u32> = [reference::code_of(b"keys"), reference::code_of(b"TAIL")]
                .into_iter()
                .collect();
            let found = check(&codes, &text);
            if n >= 8 {
                assert_eq!(found.first().map(|h| h.0), Some(0), "n = {n}");
                assert_eq!(found.last().map(|h| h.0), Some(n - 4), "n = {n}");
            }
        }
    }

    #[test]
    fn random_texts_and_sets_equal_the_reference() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let rounds = if cfg!(miri) { 12 } else { 400 };
        let alphabet = b"aAkKeEyY_0p~\x80\xff";
        for round in 0..rounds {
            let n = rng.next() as usize % if cfg!(miri) { 80 } else { 300 };
            let text: Vec<u8> = (0..n)
                .map(|_| {
                    if round % 3 == 0 {
                        rng.next() as u8
                    } else {
                        rng.byte(alphabet)
                    }
                })
                .collect();
            let mut codes = HashSet::new();
            // Codes of windows that occur, and random ones.
            for _ in 0..(rng.next() % 6) {
                if n >= 4 {
                    let at = rng.next() as usize % (n - 3);
                    codes.insert(reference::code_of(&text[at..at + 4]));
                }
                codes.insert(rng.next() as u32 % CODES as u32);
            }
            check(&codes, &text);
        }
    }

    #[test]
    fn a_full_set_reports_every_position_and_an_empty_one_none() {
        let text: Vec<u8> = (0..=255u8)
            .cycle()
            .take(if cfg!(miri) { 70 } else { 700 })
            .collect();
        let empty = CodeSet::new();
        for level in Level::available() {
            let r = empty.scan(&text, level, |at, _| ControlFlow::Break(at));
            assert!(r.is_continue(), "{level:?}");
        }
        // Under Miri, every code that occurs (a set of 2^20 is too slow to build there).
        let all: HashSet<u32> = if cfg!(miri) {
            text.windows(4).map(reference::code_of).collect()
        } else {
            (0..CODES as u32).collect()
        };
        let hits = check(&all, &text);
        assert_eq!(hits.len(), text.len() - 3);
    }

    /// A build with AVX2 enabled (as the Miri run is) runs the AVX2 loops in these tests.
    #[test]
    fn levels_include_what_the_build_enables() {
        if cfg!(all(target_arch = "x86_64", target_feature = "avx2")) {
            assert!(Level::available().contains(&Level::Avx2));
            assert!(Classifier::detect().is_vector());
        }
        assert_eq!(Level::available()[0], Level::Scalar);
        assert!(!Classifier::scalar().is_vector());
    }

    #[test]
    fn membership_uses_the_low_twenty_bits() {
        let mut s = CodeSet::new();
        s.insert(5 | 1 << 20);
        assert!(s.contains(5));
        assert!(!s.contains(6));
    }

    #[test]
    fn classifier_equals_scalar_on_every_byte_value() {
        let vector = Classifier::detect();
        let bytes: Vec<u8> = (0..=255u8).collect();
        for chunk in bytes.chunks(64) {
            assert_eq!(vector.classify(chunk), classify_scalar(chunk));
            assert_eq!(Classifier::scalar().classify(chunk), classify_scalar(chunk));
        }
        let c = classify_scalar(b"aZ09_/+-%\\U=. \n\x80\xff");
        assert_eq!(c.base64, 0xff | 1 << 10);
        assert_eq!(c.escape, 0b11 << 8);
        assert_eq!(c.u, 1 << 10);
        assert_eq!(c.plus, 1 << 6);
    }

    #[test]
    fn classifier_equals_scalar_on_random_chunks() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let vector = Classifier::detect();
        let rounds = if cfg!(miri) { 8 } else { 2000 };
        for _ in 0..rounds {
            let n = if rng.next().is_multiple_of(4) {
                rng.next() as usize % 65
            } else {
                64
            };
            let chunk: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            assert_eq!(
                vector.classify(&chunk),
                classify_scalar(&chunk),
                "{chunk:?}"
            );
        }
    }
}
