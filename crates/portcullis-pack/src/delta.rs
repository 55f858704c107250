//! Git's delta format: a base size, a result size, then copy and insert instructions.
//!
//! The instructions come from pack entries of untrusted repositories: every function here is
//! total (a malformed delta yields `None`) and allocates no more than the instructions can
//! produce.

/// Read one size varint of a delta header at `*i`, advancing `*i`.
pub fn read_varint(d: &[u8], i: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = *d.get(*i)?;
        *i += 1;
        v |= u64::from(b & 0x7f).checked_shl(shift)?;
        shift += 7;
        if b & 0x80 == 0 {
            return Some(v);
        }
        if shift > 63 {
            return None;
        }
    }
}

/// The size of the object a delta (its instructions, `delta`) builds, from its header.
pub fn delta_result_size(delta: &[u8]) -> Option<u64> {
    let mut i = 0;
    read_varint(delta, &mut i)?;
    read_varint(delta, &mut i)
}

/// Apply a git delta (base size, result size, then copy/insert instructions) to `base`.
/// `None` when the delta is malformed or does not fit `base`.
pub fn apply_delta(base: &[u8], delta: &[u8]) -> Option<Vec<u8>> {
    let mut i = 0;
    let base_len = read_varint(delta, &mut i)?;
    if base_len != base.len() as u64 {
        return None;
    }
    let result_len = usize::try_from(read_varint(delta, &mut i)?).ok()?;
    // The size comes from the pack: reserve no more than the instructions can produce
    // (at most 64 KiB per copy instruction byte, the inserts themselves).
    let bound = delta.len().saturating_mul(0x10000);
    let mut out = Vec::with_capacity(result_len.min(bound));
    while i < delta.len() {
        let cmd = delta[i];
        i += 1;
        if cmd & 0x80 != 0 {
            let mut off = 0usize;
            let mut size = 0usize;
            for bit in 0..4 {
                if cmd & (1 << bit) != 0 {
                    off |= usize::from(*delta.get(i)?) << (8 * bit);
                    i += 1;
                }
            }
            for bit in 0..3 {
                if cmd & (0x10 << bit) != 0 {
                    size |= usize::from(*delta.get(i)?) << (8 * bit);
                    i += 1;
                }
            }
            if size == 0 {
                size = 0x10000;
            }
            out.extend_from_slice(base.get(off..off.checked_add(size)?)?);
        } else if cmd != 0 {
            let n = usize::from(cmd);
            out.extend_from_slice(delta.get(i..i + n)?);
            i += n;
        } else {
            return None;
        }
        if out.len() > result_len {
            return None;
        }
    }
    (out.len() == result_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_delta_copies_and_inserts() {
        let base = b"hello brave new world";
        // base len 21, result len 16: copy "hello " (off 0, 6), insert "old", copy " world".
        let mut d = vec![21u8, 15];
        d.extend_from_slice(&[0x80 | 0x10, 6]);
        d.extend_from_slice(&[3, b'o', b'l', b'd']);
        d.extend_from_slice(&[0x80 | 0x01 | 0x10, 15, 6]);
        assert_eq!(
            apply_delta(base, &d).as_deref(),
            Some(&b"hello old world"[..])
        );
        // Wrong base length, out-of-range copy, reserved opcode 0, short result.
        assert_eq!(apply_delta(b"short", &d), None);
        assert_eq!(apply_delta(base, &[21, 4, 0x80 | 0x01 | 0x10, 20, 4]), None);
        assert_eq!(apply_delta(base, &[21, 1, 0]), None);
        assert_eq!(apply_delta(base, &[21, 9, 1, b'x']), None);
        // A result size far beyond what the instructions can produce is rejected, not
        // allocated.
        let huge = [
            21, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, b'x',
        ];
        assert_eq!(apply_delta(base, &huge), None);
    }
}
