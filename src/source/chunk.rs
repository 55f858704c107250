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

/// The emulated reader's position, shared by [`Chunks`] (a slice) and [`ReaderChunks`] (a
/// stream seen through a window): offsets are relative to the bytes passed to each call.
#[derive(Debug, Clone, Default)]
struct ReadState {
    /// Next byte the consumer will read.
    pos: usize,
    /// End of the bytes held by the emulated `bufio.Reader` (`pos..buf_end` is buffered).
    buf_end: usize,
    /// Newlines seen so far.
    lines: u64,
}

impl ReadState {
    /// `bufio.Reader.ReadByte`: false at end of input.
    fn read_byte(&mut self, data: &[u8]) -> bool {
        if self.pos == self.buf_end {
            self.buf_end = (self.pos + BUFIO_SIZE).min(data.len());
            if self.pos == self.buf_end {
                return false;
            }
        }
        self.pos += 1;
        true
    }

    /// gitleaks `readUntilSafeBoundary` over `data[start..pos]`, `n` = bytes of the read.
    fn extend_to_safe_boundary(&mut self, data: &[u8], start: usize, n: usize) {
        let peek = &data[start..self.pos];
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
            let last = data[self.pos - 1];
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
            if !self.read_byte(data) {
                break;
            }
        }
    }

    /// The next chunk of `data` (all of the input from the state's offsets on, or at least
    /// [`LOOKAHEAD`] bytes past `pos` of it).
    fn next_chunk(&mut self, data: &[u8]) -> Option<Chunk> {
        let len = data.len();
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
        self.extend_to_safe_boundary(data, start, n);
        let end = self.pos;
        let start_line = u32::try_from(self.lines + 1).unwrap_or(u32::MAX);
        self.lines += memchr::memchr_iter(b'\n', &data[start..end]).count() as u64;
        Some(Chunk {
            start,
            end,
            start_line,
        })
    }
}

/// Bytes past the next read position that one chunk can look at (the read, the peek and the
/// emulated buffer's refill): a window holding this many is indistinguishable from the whole
/// input for the next chunk.
const LOOKAHEAD: usize = CHUNK_SIZE + MAX_PEEK + 2 * BUFIO_SIZE;

/// Iterator over the chunks of `data`, replaying gitleaks' reads.
#[derive(Debug, Clone)]
pub struct Chunks<'a> {
    data: &'a [u8],
    state: ReadState,
}

/// Chunks of `data` as gitleaks would produce them (none for empty data).
pub fn chunks(data: &[u8]) -> Chunks<'_> {
    Chunks {
        data,
        state: ReadState::default(),
    }
}

impl Iterator for Chunks<'_> {
    type Item = Chunk;

    fn next(&mut self) -> Option<Chunk> {
        self.state.next_chunk(self.data)
    }
}

/// The chunks [`chunks`] would cut from the whole content of a reader, read through a
/// bounded window (about [`LOOKAHEAD`] bytes) instead of holding the content in memory.
pub struct ReaderChunks<R> {
    reader: R,
    /// Bytes read and not yet consumed; the state's offsets are relative to it.
    window: Vec<u8>,
    state: ReadState,
    eof: bool,
    /// See [`ReaderChunks::whole_lines`].
    whole_lines: bool,
}

/// Chunks of everything `reader` yields, exactly as [`chunks`] cuts the same bytes.
pub fn reader_chunks<R: std::io::Read>(reader: R) -> ReaderChunks<R> {
    ReaderChunks {
        reader,
        window: Vec::with_capacity(2 * LOOKAHEAD),
        state: ReadState::default(),
        eof: false,
        whole_lines: false,
    }
}

impl<R: std::io::Read> ReaderChunks<R> {
    /// Also end a chunk that gitleaks' boundary cut inside a line at the end of that line
    /// (looking at most [`MAX_PEEK`] more bytes), so that a secret in a long run of text
    /// without blank lines is not split between two chunks. The cuts then differ from
    /// [`chunks`]; used where there is no gitleaks chunking to match (big git blobs).
    pub fn whole_lines(mut self) -> Self {
        self.whole_lines = true;
        self
    }

    /// The next chunk: its 1-based first line and its bytes (`None` at the end of input).
    pub fn next_chunk(&mut self) -> std::io::Result<Option<(u32, &[u8])>> {
        // Drop what the previous chunks consumed; what the emulated buffer holds stays.
        let consumed = self.state.pos;
        self.window.drain(..consumed);
        self.state.pos = 0;
        self.state.buf_end -= consumed;
        let mut block = [0u8; 16 * 1024];
        let want = if self.whole_lines {
            LOOKAHEAD + MAX_PEEK
        } else {
            LOOKAHEAD
        };
        while !self.eof && self.window.len() < want {
            match self.reader.read(&mut block) {
                Ok(0) => self.eof = true,
                Ok(n) => self.window.extend_from_slice(&block[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let Some(mut c) = self.state.next_chunk(&self.window) else {
            return Ok(None);
        };
        if self.whole_lines && self.window[c.end - 1] != b'\n' {
            let limit = self.window.len().min(c.end + MAX_PEEK);
            if let Some(i) = memchr::memchr(b'\n', &self.window[c.end..limit]) {
                c.end += i + 1;
                self.state.lines += 1;
                self.state.pos = c.end;
                self.state.buf_end = self.state.buf_end.max(c.end);
            }
        }
        Ok(Some((c.start_line, &self.window[c.start..c.end])))
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

    #[test]
    fn reader_chunks_equal_slice_chunks() {
        let mut data = Vec::new();
        let mut i = 0u32;
        while data.len() < 700_000 {
            data.extend_from_slice(
                format!("line {i} {}\n", "y".repeat((i % 97) as usize)).as_bytes(),
            );
            if i.is_multiple_of(333) {
                data.extend_from_slice(b"\n \n");
            }
            if i.is_multiple_of(5000) {
                data.extend(std::iter::repeat_n(b'z', 60_000));
            }
            i += 1;
        }
        let expect: Vec<(u32, Vec<u8>)> = chunks(&data)
            .map(|c| (c.start_line, data[c.start..c.end].to_vec()))
            .collect();
        // A reader that returns few bytes per call: the window must not change the cuts.
        struct Trickle<'a>(&'a [u8]);
        impl std::io::Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = buf.len().min(self.0.len()).min(777);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut got = Vec::new();
        let mut r = reader_chunks(Trickle(&data));
        while let Some((line, bytes)) = r.next_chunk().unwrap() {
            got.push((line, bytes.to_vec()));
        }
        assert!(expect.len() > 5);
        assert_eq!(got, expect);
        assert!(reader_chunks(&b""[..]).next_chunk().unwrap().is_none());
    }

    #[test]
    fn whole_lines_end_every_chunk_at_a_line_end() {
        // No blank lines: gitleaks' boundary cuts inside lines after the peek.
        let line = format!("{}\n", "q".repeat(999));
        let data = line.repeat(1000);
        let cut_inside = chunks(data.as_bytes()).any(|c| data.as_bytes()[c.end - 1] != b'\n');
        assert!(cut_inside, "the plain chunks cut inside a line");
        let mut r = reader_chunks(data.as_bytes()).whole_lines();
        let (mut total, mut expect_line) = (0, 1u32);
        while let Some((start_line, bytes)) = r.next_chunk().unwrap() {
            assert_eq!(bytes.last(), Some(&b'\n'));
            assert_eq!(start_line, expect_line);
            expect_line += bytes.iter().filter(|&&b| b == b'\n').count() as u32;
            total += bytes.len();
        }
        assert_eq!(total, data.len());
    }
}
