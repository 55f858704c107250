//! Inflating whole pack entries whose inflated size is known (their header states it).
//!
//! Each entry is decoded by zlib-rs in one call, straight into the spare capacity of the
//! caller's buffer (not zeroed first; `portcullis_unsafe::inflate` sets the length), with
//! [`SLACK`] bytes of room past the declared size: zlib's fast loop runs only while 260 bytes
//! of room are left, so with exactly the declared size the last bytes of every entry went
//! through its slow loop. A stream is accepted only
//! when it ends (Adler-32 checked) after exactly the declared number of bytes.

use std::cell::RefCell;

/// Output room past the declared size given to the decoder (zlib's fast loop needs 260 bytes).
pub const SLACK: usize = 320;

thread_local! {
    /// Each thread's inflater (it holds a 32 KiB window; reset for every entry).
    static INFLATER: RefCell<zlib_rs::Inflate> = RefCell::new(zlib_rs::Inflate::new(true, 15));
}

/// Append to `out` the bytes of the zlib stream at the start of `input`, which must inflate to
/// exactly `n` bytes. `None`, with `out` unchanged, when the stream is damaged, ends early, or
/// would yield more or fewer bytes. Bytes of `input` after the stream are ignored.
///
/// `n` comes from untrusted headers: callers bound it before calling (this reserves
/// `n + SLACK` bytes).
pub fn inflate_into(input: &[u8], n: usize, out: &mut Vec<u8>) -> Option<()> {
    INFLATER.with(|z| {
        let mut z = z.try_borrow_mut().ok()?;
        portcullis_unsafe::inflate::inflate_exact(&mut z, input, n, SLACK, out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compress(data: &[u8], level: u32) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(level));
        e.write_all(data).expect("compress");
        e.finish().expect("compress")
    }

    /// Text-like bytes with repeats near and far, and runs.
    fn sample(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed | 1;
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            match x % 7 {
                0 if out.len() > 40 => {
                    let back = 1 + (x >> 8) as usize % out.len().min(40_000);
                    let k = 3 + (x >> 24) as usize % 300;
                    for _ in 0..k {
                        out.push(out[out.len() - back]);
                    }
                }
                1 => out.extend(std::iter::repeat_n(
                    b'a' + (x >> 40) as u8 % 26,
                    (x >> 16) as usize % 20,
                )),
                2 => out.push((x >> 32) as u8),
                _ => out.extend_from_slice(b"let value = config.token; "),
            }
        }
        out.truncate(len);
        out
    }

    #[test]
    fn appends_exactly_the_declared_size() {
        let sizes: &[usize] = if cfg!(miri) {
            &[0, 1, 300]
        } else {
            &[0, 1, 7, 255, 258, 4096, 70_000, 300_000]
        };
        for (k, &len) in sizes.iter().enumerate() {
            let data = sample(k as u64 + 11, len);
            for level in [0, 1, 6, 9] {
                let z = compress(&data, level);
                let mut out = b"kept".to_vec();
                assert_eq!(inflate_into(&z, len, &mut out), Some(()), "len {len}");
                assert_eq!(&out[..4], b"kept");
                assert_eq!(&out[4..], &data[..], "len {len} level {level}");
            }
        }
    }

    #[test]
    fn refuses_wrong_size_checksum_header_and_truncation() {
        let data = sample(3, if cfg!(miri) { 600 } else { 5000 });
        let z = compress(&data, 6);
        let refused = |stream: &[u8], n: usize| {
            let mut out = b"x".to_vec();
            let r = inflate_into(stream, n, &mut out);
            assert_eq!(out, b"x", "a refusal leaves the buffer unchanged");
            r.is_none()
        };
        assert!(refused(&z, data.len() - 1));
        assert!(refused(&z, data.len() + 1));
        let mut bad = z.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(refused(&bad, data.len()), "Adler-32 is checked");
        let mut bad = z.clone();
        bad[1] ^= 0x20;
        assert!(refused(&bad, data.len()), "header check");
        assert!(refused(&z[..z.len() - 1], data.len()), "truncated trailer");
        assert!(refused(&z[..z.len() / 2], data.len()), "truncated stream");
        assert!(refused(&z, usize::MAX), "an absurd size is not allocated");
    }
}
