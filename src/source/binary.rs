//! Binary files: which files count as binary, and the printable view that is scanned instead
//! of skipping them.
//!
//! gitleaks skips a file when the magic bytes of its first chunk give an `application/*` MIME
//! type (executables, PDFs, databases, fonts, compressed data, ...) and scans everything else
//! as text, NUL bytes included. portcullis uses the same split (its own list of magic numbers,
//! [`is_binary`]) but does not skip binary files: it scans their **printable view**.
//!
//! ## The printable-view rule
//! The view has exactly the length of the file and keeps every byte offset:
//! * a *printable run* is a maximal sequence of bytes in `0x20..=0x7E`, `\t` or `\r`;
//! * runs of at least [`MIN_RUN`] bytes are kept as they are;
//! * `\n` bytes are kept, so line numbers (and columns) of findings point at the exact bytes
//!   in the original file;
//! * every other byte (shorter runs, control and high bytes) becomes NUL (`0x00`), which no
//!   token character class matches, so a token cannot be glued together from binary noise.
//!
//! Path-only rules apply to binary files as to any other file.

/// Minimum length of a printable run that is kept in the printable view (as `strings(1)`).
pub const MIN_RUN: usize = 4;

/// Magic numbers at offset 0 of formats whose MIME type is `application/*` (written from the
/// formats' published signatures).
const MAGIC: &[&[u8]] = &[
    b"\x7fELF",                          // ELF executables and libraries
    b"MZ",                               // DOS / PE executables
    b"\xfe\xed\xfa\xce",                 // Mach-O 32-bit
    b"\xfe\xed\xfa\xcf",                 // Mach-O 64-bit
    b"\xce\xfa\xed\xfe",                 // Mach-O 32-bit, little endian
    b"\xcf\xfa\xed\xfe",                 // Mach-O 64-bit, little endian
    b"\xca\xfe\xba\xbe",                 // Mach-O universal / Java class
    b"%PDF",                             // PDF
    b"SQLite format 3\0",                // SQLite 3 database
    b"\0asm",                            // WebAssembly
    b"PK\x03\x04",                       // zip family (docx, jar, apk, ...)
    b"PK\x05\x06",                       // empty zip
    b"\x1f\x8b",                         // gzip
    b"BZh",                              // bzip2
    b"\xfd7zXZ\0",                       // xz
    b"\x28\xb5\x2f\xfd",                 // zstd
    b"7z\xbc\xaf\x27\x1c",               // 7-Zip
    b"Rar!\x1a\x07",                     // RAR
    b"\x04\x22\x4d\x18",                 // LZ4 frame
    b"\x1f\x9d",                         // compress (.Z)
    b"LZIP",                             // lzip
    b"MSCF",                             // Microsoft cabinet
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", // OLE2 compound documents (doc, xls, msi)
    b"{\\rtf",                           // RTF
    b"%!",                               // PostScript
    b"wOFF",                             // WOFF font
    b"wOF2",                             // WOFF2 font
    b"\0\x01\0\0\0",                     // TrueType font
    b"OTTO",                             // OpenType font
    b"dex\n",                            // Android DEX
    b"FWS",                              // Flash
    b"CWS",                              // Flash (zlib)
    b"ZWS",                              // Flash (LZMA)
    b"!<arch>\n",                        // ar / deb
    b"\xed\xab\xee\xdb",                 // RPM
    b"Cr24",                             // Chrome extension
    b"NES\x1a",                          // NES ROM
];

/// Whether `head` (the start of a file) carries the magic number of a binary format.
pub fn is_binary(head: &[u8]) -> bool {
    if MAGIC.iter().any(|m| head.starts_with(m)) {
        return true;
    }
    // tar: "ustar" at offset 257.
    head.len() >= 262 && &head[257..262] == b"ustar"
}

fn printable(b: u8) -> bool {
    matches!(b, 0x20..=0x7e | b'\t' | b'\r')
}

/// Write the printable view of `data[start..end]` into `out` (cleared first). Runs that cross
/// the range's edges are measured in the whole of `data`, so a view built chunk by chunk is the
/// same as the view of the whole file.
pub fn printable_view(data: &[u8], start: usize, end: usize, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&data[start..end]);
    let mut i = start;
    while i < end {
        let b = data[i];
        if !printable(b) {
            if b != b'\n' {
                out[i - start] = 0;
            }
            i += 1;
            continue;
        }
        let mut run_start = i;
        if i == start {
            while run_start > 0 && printable(data[run_start - 1]) {
                run_start -= 1;
            }
        }
        let mut run_end = i;
        while run_end < data.len() && printable(data[run_end]) {
            run_end += 1;
        }
        let stop = run_end.min(end);
        if run_end - run_start < MIN_RUN {
            out[i - start..stop - start].fill(0);
        }
        i = stop;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers_are_binary_text_is_not() {
        assert!(is_binary(b"\x7fELF\x02\x01"));
        assert!(is_binary(b"%PDF-1.7"));
        assert!(!is_binary(b"hello world"));
        assert!(!is_binary(b"a\0b"));
        let mut tar = vec![0u8; 512];
        tar[257..262].copy_from_slice(b"ustar");
        assert!(is_binary(&tar));
    }

    #[test]
    fn view_keeps_long_runs_and_newlines_only() {
        let data = b"\x01ab\x02token=abcd\nxy\xff\xfeKEY1";
        let mut out = Vec::new();
        printable_view(data, 0, data.len(), &mut out);
        assert_eq!(out.len(), data.len());
        assert_eq!(&out, b"\0\0\0\0token=abcd\n\0\0\0\0KEY1");
    }

    #[test]
    fn view_by_ranges_equals_whole_view() {
        let data = b"\x00abcdefgh\x00ij\x00klmnop\n\x00qr";
        let mut whole = Vec::new();
        printable_view(data, 0, data.len(), &mut whole);
        let mut pieces = Vec::new();
        let mut part = Vec::new();
        for (s, e) in [(0, 3), (3, 11), (11, 15), (15, data.len())] {
            printable_view(data, s, e, &mut part);
            pieces.extend_from_slice(&part);
        }
        assert_eq!(whole, pieces);
    }
}
