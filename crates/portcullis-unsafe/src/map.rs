//! Read-only memory maps of files.
//!
//! Why unsafe: a map's bytes are borrowed as a `&[u8]`, but another process may change or
//! truncate the file meanwhile. Changed content only yields stale or mixed bytes (which a
//! scanner reads as any other input); a file truncated while mapped makes reads past its new
//! end fault (SIGBUS), the documented limitation of memory-mapped scanning (ripgrep has the
//! same). Callers map only files they are about to read once, and read them only through
//! this map.

use std::fs::File;

/// A read-only memory map of a whole file.
#[derive(Debug)]
pub struct FileMap(memmap2::Mmap);

impl FileMap {
    /// Map `file` (opened for reading) read-only.
    pub fn map(file: &File) -> std::io::Result<FileMap> {
        // SAFETY: the map is read-only and only read through `&[u8]`; a concurrent change of
        // the file yields stale bytes and a truncation a fault (see the module docs).
        let m = unsafe { memmap2::Mmap::map(file) }?;
        Ok(FileMap(m))
    }
}

impl std::ops::Deref for FileMap {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for FileMap {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg_attr(miri, ignore = "FFI")]
    fn a_map_reads_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let content: Vec<u8> = (0..100_000u32).map(|i| (i % 253) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        let m = FileMap::map(&File::open(&path).unwrap()).unwrap();
        assert_eq!(&m[..], &content[..]);
        assert_eq!(m.as_ref().len(), content.len());
    }
}
