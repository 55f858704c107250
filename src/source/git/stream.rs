//! Reading a big blob as a stream instead of inflating it whole.
//!
//! Without a size limit, a blob larger than
//! [`GitScanOptions::stream_above_bytes`](super::GitScanOptions::stream_above_bytes) (by the
//! size in its object header) is decompressed through a zlib stream over its stored bytes and
//! scanned chunk by chunk, so memory stays bounded by the chunk window whatever the blob's
//! size:
//! - a loose object: a zlib stream over the loose file, after its `blob <size>\0` header;
//! - a packed blob stored whole: a zlib stream over the pack entry's compressed bytes.
//!
//! A blob stored as a delta is not streamed (the caller inflates it whole, as for any blob):
//! git does not delta-compress files above `core.bigFileThreshold` (512 MiB by default), so
//! the huge blobs this path exists for are whole entries. An object found in neither place
//! (an alternate object store) is read whole as well.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use gix::ObjectId;

/// Why a blob's stream could not be opened.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StreamError {
    /// The object's file or pack could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The loose object file or pack file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The stored object is not what its id says.
    #[error("{0}")]
    Malformed(String),
}

/// The decompressed content of the blob `id`, or `None` when it is not stored as a whole
/// loose object or whole pack entry of the repository's own object store.
pub(crate) fn open(
    repo: &gix::Repository,
    id: &ObjectId,
) -> Result<Option<Box<dyn Read + Send>>, StreamError> {
    let objects = repo.objects.store_ref().path().to_path_buf();
    let hex = id.to_hex().to_string();
    let loose = objects.join(&hex[..2]).join(&hex[2..]);
    if loose.is_file() {
        return open_loose(&loose).map(Some);
    }
    let kind = repo.object_hash();
    for idx_path in super::packs::index_paths(repo) {
        let Ok(idx) = gix::odb::pack::index::File::at(&idx_path, kind) else {
            continue;
        };
        if let Some(e) = idx.lookup(id) {
            let offset = idx.pack_offset_at_index(e);
            return open_packed(&idx_path.with_extension("pack"), offset);
        }
    }
    Ok(None)
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StreamError + '_ {
    move |source| StreamError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A loose object's content: the zlib stream of the file past its `blob <size>\0` header.
fn open_loose(path: &Path) -> Result<Box<dyn Read + Send>, StreamError> {
    let file = File::open(path).map_err(io_err(path))?;
    let mut z = flate2::bufread::ZlibDecoder::new(BufReader::with_capacity(64 * 1024, file));
    let mut header = Vec::with_capacity(32);
    let mut byte = [0u8; 1];
    loop {
        z.read_exact(&mut byte).map_err(io_err(path))?;
        if byte[0] == 0 {
            break;
        }
        header.push(byte[0]);
        if header.len() > 32 {
            break;
        }
    }
    if !header.starts_with(b"blob ") || header.len() > 32 {
        return Err(StreamError::Malformed(format!(
            "{}: not a loose blob object",
            path.display()
        )));
    }
    Ok(Box::new(z))
}

/// The content of the pack entry at `offset` of the pack file `path` when it is a whole blob
/// (`None` for a delta).
fn open_packed(path: &Path, offset: u64) -> Result<Option<Box<dyn Read + Send>>, StreamError> {
    let file = File::open(path).map_err(io_err(path))?;
    let mut r = BufReader::with_capacity(64 * 1024, file);
    r.seek(SeekFrom::Start(offset)).map_err(io_err(path))?;
    // The entry header: type in bits 4..7 of the first byte, then the size as a varint.
    let mut byte = [0u8; 1];
    r.read_exact(&mut byte).map_err(io_err(path))?;
    let kind = (byte[0] >> 4) & 7;
    let mut more = byte[0] & 0x80 != 0;
    let mut len = 1;
    while more {
        r.read_exact(&mut byte).map_err(io_err(path))?;
        more = byte[0] & 0x80 != 0;
        len += 1;
        if len > 10 {
            return Err(StreamError::Malformed(format!(
                "{}: bad entry header at offset {offset}",
                path.display()
            )));
        }
    }
    // 3 = blob; 6 and 7 are deltas (read whole by the caller).
    match kind {
        3 => {}
        6 | 7 => return Ok(None),
        _ => {
            return Err(StreamError::Malformed(format!(
                "{}: the entry at offset {offset} is not a blob",
                path.display()
            )));
        }
    }
    let _ = r.fill_buf().map_err(io_err(path))?;
    Ok(Some(Box::new(flate2::bufread::ZlibDecoder::new(r))))
}
