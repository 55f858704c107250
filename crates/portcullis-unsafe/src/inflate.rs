//! Inflating a zlib stream straight into a vector's spare capacity.
//!
//! Why unsafe: the inflater writes into the uninitialised spare capacity of the output vector
//! (zeroing it first would cost a pass over every inflated byte); the vector's length is then
//! set to cover exactly the bytes the inflater reports as written. zlib-rs'
//! `decompress_uninit` initialises the first `total_out` bytes of the output it is given
//! (its `total_out` counts from the last reset, which this function does).

use std::mem::MaybeUninit;

/// Append to `out` the bytes of the zlib stream at the start of `input` (inflated by `z`,
/// reset first), which must end after exactly `n` bytes; the inflater gets `slack` bytes of
/// room past `n` (zlib's fast loop needs 260). `None`, with `out` unchanged, when the stream is
/// damaged, does not end within the room, or yields more or fewer than `n` bytes. Bytes of
/// `input` after the stream are ignored. Reserves `n + slack` bytes: bound `n` first.
#[inline]
pub fn inflate_exact(
    z: &mut zlib_rs::Inflate,
    input: &[u8],
    n: usize,
    slack: usize,
    out: &mut Vec<u8>,
) -> Option<()> {
    let start = out.len();
    let room_len = n.checked_add(slack)?;
    out.try_reserve(room_len).ok()?;
    let room: &mut [MaybeUninit<u8>] = out.spare_capacity_mut().get_mut(..room_len)?;
    z.reset(true);
    let written = match z.decompress_uninit(input, room, zlib_rs::InflateFlush::Finish) {
        Ok(zlib_rs::Status::StreamEnd) => usize::try_from(z.total_out()).ok()?,
        _ => return None,
    };
    if written != n {
        return None;
    }
    // SAFETY: the inflater, reset above, initialised the first `written` = `n` bytes of the
    // spare capacity, which starts at `start` and holds at least `n + slack` bytes.
    unsafe { out.set_len(start + n) };
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn compress(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn exact_size_is_appended_and_other_sizes_leave_the_buffer_unchanged() {
        let data: Vec<u8> = (0..if cfg!(miri) { 300 } else { 40_000 })
            .map(|i: u32| (i % 7) as u8 + b'a')
            .collect();
        let z = compress(&data);
        let mut inf = zlib_rs::Inflate::new(true, 15);
        let mut out = b"head".to_vec();
        assert_eq!(
            inflate_exact(&mut inf, &z, data.len(), 320, &mut out),
            Some(())
        );
        assert_eq!(&out[..4], b"head");
        assert_eq!(&out[4..], &data[..]);
        for wrong in [0, data.len() - 1, data.len() + 1] {
            let mut out = b"x".to_vec();
            assert_eq!(inflate_exact(&mut inf, &z, wrong, 320, &mut out), None);
            assert_eq!(out, b"x");
        }
        let mut out = Vec::new();
        assert_eq!(
            inflate_exact(&mut inf, &z[..z.len() - 3], data.len(), 320, &mut out),
            None
        );
        assert!(out.is_empty());
        assert_eq!(inflate_exact(&mut inf, &z, usize::MAX, 320, &mut out), None);
    }
}
