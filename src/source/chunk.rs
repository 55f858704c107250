//! Splitting file content into fragments exactly where gitleaks splits it.
//!
//! gitleaks (`sources/file.go` `fileFragments`, `sources/common.go` `readUntilSafeBoundary`)
//! reads a file through a 4096-byte `bufio.Reader` in 100,000-byte reads and extends every
//! chunk byte by byte until it ends in two newlines (other whitespace between them allowed) or
//! 25,000 extra bytes were read. Because the extension goes through the buffered reader, the
//! read that follows an extension returns only what is left in the 4096-byte buffer, so chunk
//! sizes are irregular. Chunk boundaries decide which findings exist (a secret across a
//! boundary is missed, path-only rules fire once per chunk, generic-rule dedup is per chunk),
//! so portcullis replays the same reads over an in-memory (or memory-mapped) slice.
//!
//! Line numbers: a chunk's first line is `1 + number of '\n' in the preceding chunks`.

/// Bytes requested by each read (gitleaks `defaultBufferSize`).
pub const CHUNK_SIZE: usize = 100_000;
/// Maximum bytes a chunk is extended by looking for a safe boundary (gitleaks `maxPeekSize`).
pub const MAX_PEEK: usize = 25_000;
/// Size of Go's default `bufio.Reader` buffer.
const BUFIO_SIZE: usize = 4096;

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// One chunk of a file: a byte range and the 1-based line number of its first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// Start offset (inclusive).
    pub start: usize,
    /// End offset (exclusive).
    pub end: usize,
    /// 1-based line number of the chunk's first line.
    pub start_line: u32,
}

/// Iterator over the chunks of `data`, replaying gitleaks' reads.
#[derive(Debug, Clone)]
pub struct Chunks<'a> {
    data: &'a [u8],
    /// Next byte the consumer will read.
    pos: usize,
    /// End of the bytes held by the emulated `bufio.Reader` (`pos..buf_end` is buffered).
    buf_end: usize,
    /// Newlines seen so far.
    lines: u64,
}

/// Chunks of `data` as gitleaks would produce them (none for empty data).
pub fn chunks(data: &[u8]) -> Chunks<'_> {
    Chunks {
        data,
        pos: 0,
        buf_end: 0,
        lines: 0,
    }
}

impl Chunks<'_> {
    /// `bufio.Reader.ReadByte`: false at end of input.
    fn read_byte(&mut self) -> bool {
        if self.pos == self.buf_end {
            self.buf_end = (self.pos + BUFIO_SIZE).min(self.data.len());
            if self.pos == self.buf_end {
                return false;
            }
        }
        self.pos += 1;
        true
    }

    /// gitleaks `readUntilSafeBoundary` over `data[start..pos]`, `n` = bytes of the read.
    fn extend_to_safe_boundary(&mut self, start: usize, n: usize) {
        let peek = &self.data[start..self.pos];
        let Some(&last) = peek.last() else { return };
        if is_ws(last) {
            let mut newlines = 0;
            for &c in peek.iter().rev() {
                if c == b'\n' {
                    newlines += 1;
                    if newlines >= 2 {
                        return;
                    }
                } else if !is_ws(c) {
                    break;
                }
            }
        }
        let mut newlines = 0;
        loop {
            let last = self.data[self.pos - 1];
            if last == b'\n' {
                newlines += 1;
                if newlines >= 2 {
                    break;
                }
            } else if !is_ws(last) {
                newlines = 0;
            }
            if (self.pos - start) - n >= MAX_PEEK {
                break;
            }
            if !self.read_byte() {
                break;
            }
        }
    }
}

impl Iterator for Chunks<'_> {
    type Item = Chunk;

    fn next(&mut self) -> Option<Chunk> {
        let len = self.data.len();
        if self.pos >= len {
            return None;
        }
        let start = self.pos;
        // bufio.Reader.Read(p) with len(p) = CHUNK_SIZE >= the buffer size: an empty buffer
        // reads straight from the file (a full read); a non-empty one returns what it holds.
        let n = if self.pos == self.buf_end {
            let n = CHUNK_SIZE.min(len - self.pos);
            self.pos += n;
            self.buf_end = self.pos;
            n
        } else {
            let n = CHUNK_SIZE.min(self.buf_end - self.pos);
            self.pos += n;
            n
        };
        self.extend_to_safe_boundary(start, n);
        let end = self.pos;
        let start_line = u32::try_from(self.lines + 1).unwrap_or(u32::MAX);
        self.lines += memchr::memchr_iter(b'\n', &self.data[start..end]).count() as u64;
        Some(Chunk {
            start,
            end,
            start_line,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_input_is_one_chunk() {
        let v: Vec<Chunk> = chunks(b"a\nb\n").collect();
        assert_eq!(
            v,
            vec![Chunk {
                start: 0,
                end: 4,
                start_line: 1
            }]
        );
        assert_eq!(chunks(b"").count(), 0);
    }

    #[test]
    fn chunks_cover_input_and_number_lines() {
        let mut data = Vec::new();
        for i in 0..40_000 {
            data.extend_from_slice(format!("line {i} xxxxxxxx\n").as_bytes());
            if i % 700 == 0 {
                data.push(b'\n');
            }
        }
        let v: Vec<Chunk> = chunks(&data).collect();
        assert!(v.len() > 3);
        let mut expect_start = 0;
        let mut line = 1u32;
        for c in &v {
            assert_eq!(c.start, expect_start);
            assert_eq!(c.start_line, line);
            line += data[c.start..c.end].iter().filter(|&&b| b == b'\n').count() as u32;
            expect_start = c.end;
        }
        assert_eq!(expect_start, data.len());
    }

    #[test]
    fn chunk_extends_to_blank_line_then_short_read_follows() {
        // 100,000 'a' then "b\n\n" then more: the first chunk ends after the blank line; the
        // next read returns only the rest of the 4096-byte buffer.
        let mut data = vec![b'a'; CHUNK_SIZE];
        data.extend_from_slice(b"b\n\n");
        data.extend(std::iter::repeat_n(b'c', BUFIO_SIZE - 3));
        data.extend_from_slice(b"\n\n");
        data.extend(std::iter::repeat_n(b'd', 10_000));
        let v: Vec<Chunk> = chunks(&data).collect();
        assert_eq!(v[0].end, CHUNK_SIZE + 3);
        assert_eq!(v[1].start, CHUNK_SIZE + 3);
        // The short read stops at the end of the buffer (CHUNK_SIZE + BUFIO_SIZE); the
        // extension then finds the blank line right after it.
        assert_eq!(v[1].end, CHUNK_SIZE + BUFIO_SIZE + 2);
        assert_eq!(v[1].start_line, 3);
        assert_eq!(v[2].start_line, 5);
    }

    #[test]
    fn extension_is_capped_at_max_peek() {
        let data = vec![b'x'; 200_000];
        let v: Vec<Chunk> = chunks(&data).collect();
        assert_eq!(v[0].end, CHUNK_SIZE + MAX_PEEK);
    }
}
