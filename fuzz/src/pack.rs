//! The pack-level properties (shared with `tests/fuzz_regressions.rs`): the parsers of
//! `portcullis-pack` against independent implementations of the same formats.
//!
//! * `inflate`: `inflate::inflate_into` against zlib-rs: the same bytes, or both refuse.
//! * `delta_apply`: `delta::apply_delta` against gix-pack, which applies the same delta as a
//!   reference-delta entry of an in-memory pack whose base it is handed: the same object,
//!   or both refuse.
//! * `pack_entry_header`: `packs::parse_entry_header` against a decoder of the pack entry
//!   header written here from the pack format's description.
//! * `tree_entries`: `trees::parse_tree_entries` against gix-object's `TreeRefIter`.

#![allow(dead_code)] // each fuzz target uses one of the checks

use gix::hash::Kind as HashKind;
use gix::odb::pack;
use portcullis_pack::packs::{EntryBase, EntryHeader, parse_entry_header};

/// The largest inflated size the `inflate` property asks for.
const MAX_INFLATE: usize = 1 << 20;

/// `n` as the first two bytes say (little-endian; `0xffff` = whatever the reference yields),
/// then a zlib stream: [`portcullis_pack::inflate::inflate_into`] must yield exactly what
/// zlib-rs yields when it ends the stream (checksum included) after exactly `n` bytes, and
/// refuse otherwise, leaving its buffer as it was.
pub fn inflate(data: &[u8]) {
    let [a, b, stream @ ..] = data else {
        return;
    };
    // zlib-rs is the reference: it checks the stream's Adler-32 as C zlib does (miniz_oxide,
    // through flate2, accepted a stream with a wrong checksum, so it is no reference here).
    let zlib = reference_zlib_rs(stream);
    let n = match u16::from_le_bytes([*a, *b]) {
        0xffff => zlib.as_ref().map_or(0, Vec::len),
        n => usize::from(n),
    };
    let mut out = b"kept".to_vec();
    let got = portcullis_pack::inflate::inflate_into(stream, n, &mut out);
    match &zlib {
        Some(want) if want.len() == n => {
            assert_eq!(got, Some(()), "refused a stream zlib inflates to {n} bytes");
            assert_eq!(&out[..4], b"kept", "bytes before the output changed");
            assert!(out[4..] == want[..], "inflated bytes differ from zlib's");
        }
        _ => {
            assert_eq!(
                got, None,
                "accepted a stream zlib does not inflate to {n} bytes"
            );
            assert_eq!(out, b"kept", "a refusal changed the buffer");
        }
    }
}

/// The whole zlib stream at the start of `stream` by zlib-rs, if it ends within
/// [`MAX_INFLATE`] bytes.
fn reference_zlib_rs(stream: &[u8]) -> Option<Vec<u8>> {
    let mut out = vec![0u8; MAX_INFLATE + 1];
    let mut z = zlib_rs::Inflate::new(true, 15);
    match z.decompress(stream, &mut out, zlib_rs::InflateFlush::Finish) {
        Ok(zlib_rs::Status::StreamEnd) => {
            let n = usize::try_from(z.total_out()).ok()?;
            (n <= MAX_INFLATE).then(|| {
                out.truncate(n);
                out
            })
        }
        _ => None,
    }
}

/// A base (its length in the first two bytes, little-endian, taken from the rest) and a delta
/// (the remaining bytes): [`portcullis_pack::delta::apply_delta`] must build what gix-pack
/// builds, and refuse what gix-pack refuses.
pub fn delta_apply(data: &[u8]) {
    let [a, b, rest @ ..] = data else {
        return;
    };
    let split = usize::from(u16::from_le_bytes([*a, *b])).min(rest.len());
    let (base, delta) = rest.split_at(split);
    let ours = portcullis_pack::delta::apply_delta(base, delta);
    if let Some(out) = &ours {
        let declared = portcullis_pack::delta::delta_result_size(delta);
        assert_eq!(
            declared,
            Some(out.len() as u64),
            "result size not as declared"
        );
    }
    let theirs = gix_apply(base, delta);
    match (&ours, &theirs) {
        (Some(o), Some(t)) => assert!(o == t, "results differ from gix-pack's"),
        (None, None) => {}
        (Some(_), None) => panic!("applied a delta gix-pack refuses"),
        (None, Some(_)) => panic!("refused a delta gix-pack applies"),
    }
}

/// zlib-compress `data` (any valid stream will do).
fn deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    if let Err(e) = e.write_all(data) {
        panic!("compress: {e}");
    }
    match e.finish() {
        Ok(z) => z,
        Err(e) => panic!("compress: {e}"),
    }
}

/// `delta` applied to `base` by gix-pack: a one-entry pack holding `delta` as a reference
/// delta, decoded with a resolver that hands out `base`.
fn gix_apply(base: &[u8], delta: &[u8]) -> Option<Vec<u8>> {
    let mut bytes = Vec::with_capacity(delta.len() + 64);
    bytes.extend_from_slice(&pack::data::header::encode(pack::data::Version::V2, 1));
    let base_id = gix::ObjectId::null(HashKind::Sha1);
    let header = pack::data::entry::Header::RefDelta { base_id };
    if let Err(e) = header.write_to(delta.len() as u64, &mut bytes) {
        panic!("entry header: {e}");
    }
    bytes.extend_from_slice(&deflate(delta));
    bytes.extend_from_slice(&[0u8; 20]);
    let file = match pack::data::File::from_data(bytes, "fuzz.pack".into(), HashKind::Sha1) {
        Ok(f) => f.with_alloc_limit_bytes(Some(64 << 20)),
        Err(e) => panic!("in-memory pack: {e}"),
    };
    let entry = match file.entry(12) {
        Ok(e) => e,
        Err(e) => panic!("entry: {e}"),
    };
    let resolve = |_: &gix::oid,
                   out: &mut Vec<u8>|
     -> gix::Result<Option<pack::data::decode::entry::ResolvedBase>> {
        out.clear();
        out.extend_from_slice(base);
        Ok(Some(pack::data::decode::entry::ResolvedBase::OutOfPack {
            kind: gix::object::Kind::Blob,
            end: base.len(),
        }))
    };
    let mut out = Vec::new();
    let mut inflate = gix::zlib::Inflate::default();
    file.decode_entry(
        entry,
        &mut out,
        &mut inflate,
        &resolve,
        &mut pack::cache::Never,
    )
    .ok()
    .map(|_| out)
}

/// The first byte and the next four (a little-endian pack offset), then an entry header:
/// [`parse_entry_header`] must agree with [`reference_header`] on every input.
pub fn pack_entry_header(data: &[u8]) {
    let [o0, o1, o2, o3, bytes @ ..] = data else {
        return;
    };
    let offset = u64::from(u32::from_le_bytes([*o0, *o1, *o2, *o3]));
    let ours = parse_entry_header(bytes, offset, HashKind::Sha1);
    let want = reference_header(bytes, offset);
    // An entry whose base is invalid cannot be used: refusing its header (`None`) and reading
    // it with an invalid base are the same answer. A usable header must match exactly.
    let unusable = |h: &Option<_>| {
        matches!(
            h,
            None | Some(EntryHeader {
                base: EntryBase::Invalid,
                ..
            })
        )
    };
    let want = want.map(|(base, size, header_len)| EntryHeader {
        base,
        size,
        header_len,
    });
    match (&ours, &want) {
        (Some(h), Some(w)) if w.base != EntryBase::Invalid => {
            assert_eq!(h.base, w.base, "base differs");
            assert_eq!(h.size, w.size, "size differs");
            assert_eq!(h.header_len, w.header_len, "header length differs");
            assert!(h.header_len <= bytes.len());
        }
        _ if unusable(&ours) && unusable(&want) => {}
        _ => panic!("header {ours:?}, the format says {want:?}"),
    }
}

/// A pack entry header decoded as the pack format describes it: type in bits 4..=6 of the
/// first byte, size in its low four bits and then seven bits per byte while the top bit is
/// set; an offset delta's base distance in big-endian groups of seven bits, each group after
/// the first adding one; a reference delta's 20-byte base id. `(base, size, header length)`.
fn reference_header(d: &[u8], offset: u64) -> Option<(EntryBase, u64, usize)> {
    let mut i = 0;
    let mut c = *d.first()?;
    i += 1;
    let kind = (c >> 4) & 7;
    let mut size = u64::from(c & 15);
    let mut shift = 4u32;
    while c & 0x80 != 0 {
        c = *d.get(i)?;
        i += 1;
        if shift >= 64 {
            return None;
        }
        size |= u64::from(c & 0x7f).checked_shl(shift).unwrap_or(0);
        shift += 7;
    }
    let base = match kind {
        1 => EntryBase::Whole(gix::object::Kind::Commit),
        2 => EntryBase::Whole(gix::object::Kind::Tree),
        3 => EntryBase::Whole(gix::object::Kind::Blob),
        4 => EntryBase::Whole(gix::object::Kind::Tag),
        6 => {
            let mut c = *d.get(i)?;
            i += 1;
            let mut dist = u64::from(c & 0x7f);
            // A distance that overflows 64 bits names no base (git: "offset value
            // overflow"); the header still ends where its last group ends.
            let mut overflow = false;
            while c & 0x80 != 0 {
                c = *d.get(i)?;
                i += 1;
                match dist.checked_add(1).and_then(|v| v.checked_mul(128)) {
                    Some(v) => dist = v | u64::from(c & 0x7f),
                    None => overflow = true,
                }
            }
            match offset.checked_sub(dist) {
                // A base lies after the 12-byte pack header and before the entry.
                Some(b) if !overflow && dist > 0 && b >= 12 => EntryBase::Offset(b),
                _ => EntryBase::Invalid,
            }
        }
        7 => {
            let id = d.get(i..i + 20)?;
            i += 20;
            EntryBase::Id(gix::ObjectId::from_bytes_or_panic(id))
        }
        _ => return None,
    };
    Some((base, size, i))
}

/// A tree object's bytes: [`portcullis_pack::trees::parse_tree_entries`] must list the
/// entries gix-object's `TreeRefIter` lists, and fail where it fails.
pub fn tree_entries(data: &[u8]) {
    let ours = portcullis_pack::trees::parse_tree_entries(data, HashKind::Sha1);
    let theirs: Result<Vec<_>, _> =
        gix::objs::TreeRefIter::from_bytes(data, HashKind::Sha1).collect();
    match (ours, theirs) {
        (Ok(o), Ok(t)) => {
            assert_eq!(o.len(), t.len(), "entry count differs");
            for (a, b) in o.iter().zip(&t) {
                assert_eq!(a.mode, b.mode, "mode differs");
                assert_eq!(a.filename, b.filename, "name differs");
                assert_eq!(a.oid, b.oid, "id differs");
            }
        }
        (Err(_), Err(_)) => {}
        (Ok(o), Err(e)) => panic!("{} entries where gix fails: {e}", o.len()),
        (Err(e), Ok(t)) => panic!("{e} where gix lists {} entries", t.len()),
    }
}
