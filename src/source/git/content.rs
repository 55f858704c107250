//! What a blob holds, decided before any regex runs, with the same rules as files on disk
//! ([`crate::source::content::treatment`]): an archive (opened by the shared pipeline), a binary
//! format (scanned through its printable view), text (scanned as it is, NUL bytes included), or
//! a Git LFS pointer (only its path is checked: the real content lives outside the repository).

use crate::source::content::{Treatment, treatment};

/// Classification of a blob's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContentKind {
    /// Scanned as it is.
    Text,
    /// A binary format: scanned through its printable view.
    Binary,
    /// An archive by signature: opened by the shared content pipeline.
    Archive,
    /// A Git LFS pointer file (`version https://git-lfs.github.com/spec/v1`, `oid sha256:…`).
    LfsPointer,
}

/// Classify `data` (by content only; archive names are checked by the caller, which knows the
/// paths).
pub(crate) fn classify(data: &[u8]) -> ContentKind {
    if data.len() < 1024
        && (data.starts_with(b"version https://git-lfs.github.com/spec/")
            || data.starts_with(b"version https://hawser.github.com/spec/"))
        && memchr::memmem::find(data, b"\noid sha256:").is_some()
    {
        return ContentKind::LfsPointer;
    }
    match treatment("", data, 0, 1, true) {
        Treatment::Archive(_) | Treatment::TooDeep(_) => ContentKind::Archive,
        Treatment::Binary => ContentKind::Binary,
        Treatment::Text => ContentKind::Text,
    }
}

/// Whether `path`'s name alone makes it an archive for the shared pipeline (`*.zip`, `*.tar`,
/// `*.gz`, `*.tgz`).
pub(crate) fn archive_by_name(path: &str) -> bool {
    crate::source::archive::identify(path, b"").is_some()
}

/// The bytes the detector sees for a blob classified `kind`: the printable view of a binary
/// blob, the blob itself otherwise.
pub(crate) fn scanned_view(data: &[u8], kind: ContentKind) -> std::borrow::Cow<'_, [u8]> {
    if kind == ContentKind::Binary {
        let mut view = Vec::new();
        crate::source::binary::printable_view(data, 0, data.len(), &mut view);
        std::borrow::Cow::Owned(view)
    } else {
        std::borrow::Cow::Borrowed(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_text_binary_archives_and_lfs() {
        assert_eq!(classify(b"key = value\n"), ContentKind::Text);
        assert_eq!(classify(b""), ContentKind::Text);
        // A NUL byte alone does not make a blob binary (as for files on disk).
        assert_eq!(classify(b"\0\nGITHUB_TOKEN=x\n"), ContentKind::Text);
        assert_eq!(classify(b"\x7fELF\x02\x01\x01\0"), ContentKind::Binary);
        assert_eq!(classify(b"PK\x03\x04\x14\0"), ContentKind::Archive);
        assert_eq!(classify(b"\x1f\x8b\x08\0"), ContentKind::Archive);
        let lfs = b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n";
        assert_eq!(classify(lfs), ContentKind::LfsPointer);
        assert!(archive_by_name("a/b.ZIP") && archive_by_name("x.tgz"));
        assert!(!archive_by_name("x.txt"));
    }
}
