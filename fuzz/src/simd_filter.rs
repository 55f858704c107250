//! The `simd_filter` property (shared with `tests/fuzz_regressions.rs`): the vector loops of
//! `portcullis_unsafe::simd` against their scalar references.
//!
//! Input: a flags byte, then `flags % 16` codes of three bytes each (their low 20 bits,
//! little endian), then the text. With flag `0x10` the codes of the text's windows at every
//! seventh position join the set (so that positions hit). Every vector level the CPU has must
//! report exactly the positions and codes of `simd::reference::scan`, and stop at the first
//! one when the callback breaks; the classifier must agree with `classify_scalar` and with a
//! byte predicate written here on every chunk of 64 bytes (and the shorter last one).

#![allow(dead_code)] // each fuzz target uses one of the checks

use std::collections::HashSet;
use std::ops::ControlFlow;

use portcullis_unsafe::simd::{self, CodeSet, Level, reference};

/// See the module docs.
pub fn simd_filter(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let k = usize::from(flags % 16);
    let (code_bytes, text) = rest.split_at((3 * k).min(rest.len()));
    let mut codes: HashSet<u32> = code_bytes
        .chunks_exact(3)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], 0]) % simd::CODES as u32)
        .collect();
    if flags & 0x10 != 0 {
        codes.extend(text.windows(4).step_by(7).map(reference::code_of));
    }
    let mut set = CodeSet::new();
    for &c in &codes {
        set.insert(c);
    }
    let want = reference::scan(&codes, text);
    for level in Level::available() {
        let got = reference::collect(&set, text, level);
        assert_eq!(got, want, "{level:?}");
        let first = set.scan(text, level, |at, _| ControlFlow::Break(at));
        assert_eq!(
            first,
            want.first()
                .map_or(ControlFlow::Continue(()), |h| ControlFlow::Break(h.0))
        );
    }
    let vector = simd::Classifier::detect();
    for chunk in text.chunks(64) {
        let want = simd::classify_scalar(chunk);
        assert_eq!(vector.classify(chunk), want, "{chunk:?}");
        for (i, &b) in chunk.iter().enumerate() {
            let base64 = b.is_ascii_alphanumeric() || b"_/+-".contains(&b);
            assert_eq!(want.base64 >> i & 1 == 1, base64, "byte {b:#x}");
            assert_eq!(want.escape >> i & 1 == 1, b == b'%' || b == b'\\');
            assert_eq!(want.u >> i & 1 == 1, b == b'U');
            assert_eq!(want.plus >> i & 1 == 1, b == b'+');
        }
    }
}
