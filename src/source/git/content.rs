//! What a blob holds, decided before any regex runs: text, binary (skipped, as `git diff`
//! shows "Binary files differ" and gitleaks skips them), or a Git LFS pointer (skipped: the
//! real content lives outside the repository).

/// How git decides a blob is binary: a NUL byte in the first 8,000 bytes.
const BINARY_PROBE: usize = 8000;

/// Classification of a blob's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContentKind {
    /// Scanned.
    Text,
    /// Contains NUL in its first 8,000 bytes.
    Binary,
    /// A Git LFS pointer file (`version https://git-lfs.github.com/spec/v1`, `oid sha256:…`).
    LfsPointer,
}

/// Classify `data`.
pub(crate) fn classify(data: &[u8]) -> ContentKind {
    if data.len() < 1024
        && (data.starts_with(b"version https://git-lfs.github.com/spec/")
            || data.starts_with(b"version https://hawser.github.com/spec/"))
        && memchr::memmem::find(data, b"\noid sha256:").is_some()
    {
        return ContentKind::LfsPointer;
    }
    if memchr::memchr(0, &data[..data.len().min(BINARY_PROBE)]).is_some() {
        return ContentKind::Binary;
    }
    ContentKind::Text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_text_binary_and_lfs() {
        assert_eq!(classify(b"key = value\n"), ContentKind::Text);
        assert_eq!(classify(b""), ContentKind::Text);
        assert_eq!(
            classify(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            ContentKind::Binary
        );
        let mut late_nul = vec![b'a'; 9000];
        late_nul.push(0);
        assert_eq!(classify(&late_nul), ContentKind::Text);
        let lfs = b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n";
        assert_eq!(classify(lfs), ContentKind::LfsPointer);
    }
}
