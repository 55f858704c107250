//! Markdown reports with YAML frontmatter: the atomic writer and the strict reader shared by
//! both gates.
//!
//! A report is
//!
//! ```text
//! ---
//! <YAML mapping>
//! ---
//!
//! <Markdown body>
//! ```
//!
//! The writer never emits a line that is exactly `---` in the body (such lines are rewritten
//! to `***`, the same horizontal rule in Markdown), so a reader that finds a third fence knows
//! the file was tampered with or concatenated, and fails closed.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// The fence line that opens and closes the frontmatter.
pub const FENCE: &str = "---";

/// An error while writing or reading a frontmatter report; always names the file.
#[derive(Debug, thiserror::Error)]
pub enum FrontmatterError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The report path.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The frontmatter is malformed (fences, YAML, shape).
    #[error("{path}: {message}")]
    Malformed {
        /// The report path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The frontmatter value could not be serialised.
    #[error("{path}: cannot serialise frontmatter: {message}")]
    Serialize {
        /// The report path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// Render a report (frontmatter + body) to a string, exactly as [`write_report`] writes it.
pub fn render_report<T: Serialize>(frontmatter: &T, body: &str) -> Result<String, String> {
    let yaml = serde_norway::to_string(frontmatter).map_err(|e| e.to_string())?;
    let mut out = String::with_capacity(yaml.len() + body.len() + 16);
    out.push_str(FENCE);
    out.push('\n');
    out.push_str(&yaml);
    if !yaml.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(FENCE);
    out.push_str("\n\n");
    for line in body.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']) == FENCE {
            out.push_str("***");
            out.push_str(&line[FENCE.len()..]);
        } else {
            out.push_str(line);
        }
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// Write `frontmatter` and `body` to `path` atomically: a temporary file in the same
/// directory is written, fsynced and renamed over `path`, then the directory is fsynced.
/// Readers therefore see either the old file or the complete new one, never a torn write.
pub fn write_report<T: Serialize>(
    path: &Path,
    frontmatter: &T,
    body: &str,
) -> Result<(), FrontmatterError> {
    let text = render_report(frontmatter, body).map_err(|message| FrontmatterError::Serialize {
        path: path.to_path_buf(),
        message,
    })?;
    write_atomic(path, text.as_bytes())
}

/// Atomically replace `path` with `bytes` (temporary file, fsync, rename, directory fsync).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FrontmatterError> {
    let io = |source| FrontmatterError::Io {
        path: path.to_path_buf(),
        source,
    };
    // A device, pipe or socket (`-r /dev/null`, `-r /dev/stdout`, a FIFO) is written in place:
    // renaming a temporary file over it would replace the device itself (as root, /dev/null).
    if fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let mut f = fs::OpenOptions::new().write(true).open(path).map_err(io)?;
        return f.write_all(bytes).map_err(io);
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).map_err(io)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".portcullis-report-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    if let Ok(d) = File::open(&dir) {
        // Directory fsync makes the rename durable; not all filesystems support it.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Split report text into (frontmatter YAML, body), enforcing exactly one pair of fences:
/// the first line must be `---`, the next `---` line closes it, and no further `---` line
/// may follow.
pub fn split_frontmatter(text: &str) -> Result<(&str, &str), String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().ok_or("file is empty")?;
    if first.trim_end_matches(['\n', '\r']) != FENCE {
        return Err("missing opening '---' fence on line 1".into());
    }
    let yaml_start = first.len();
    let mut pos = yaml_start;
    let mut close: Option<(usize, usize)> = None;
    for line in lines {
        let start = pos;
        pos += line.len();
        if line.trim_end_matches(['\n', '\r']) == FENCE {
            if close.is_some() {
                return Err("repeated '---' fence after the frontmatter".into());
            }
            close = Some((start, pos));
        }
    }
    let (yaml_end, body_start) = close.ok_or("missing closing '---' fence")?;
    Ok((&text[yaml_start..yaml_end], &text[body_start..]))
}

/// Read `path` and parse its frontmatter as a YAML mapping. Every problem (unreadable file,
/// fences, YAML syntax, a non-mapping document) is an error naming the file.
pub fn read_frontmatter(path: &Path) -> Result<serde_norway::Mapping, FrontmatterError> {
    let malformed = |message: String| FrontmatterError::Malformed {
        path: path.to_path_buf(),
        message,
    };
    let bytes = fs::read(path).map_err(|source| FrontmatterError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = std::str::from_utf8(&bytes).map_err(|e| malformed(format!("not UTF-8: {e}")))?;
    let (yaml, _body) = split_frontmatter(text).map_err(malformed)?;
    let value: serde_norway::Value =
        serde_norway::from_str(yaml).map_err(|e| malformed(format!("frontmatter YAML: {e}")))?;
    match value {
        serde_norway::Value::Mapping(m) => Ok(m),
        other => Err(malformed(format!(
            "frontmatter is not a mapping (found {})",
            yaml_kind(&other)
        ))),
    }
}

fn yaml_kind(v: &serde_norway::Value) -> &'static str {
    use serde_norway::Value::*;
    match v {
        Null => "null",
        Bool(_) => "a boolean",
        Number(_) => "a number",
        String(_) => "a string",
        Sequence(_) => "a sequence",
        Mapping(_) => "a mapping",
        Tagged(_) => "a tagged value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn write_atomic_writes_into_a_fifo_instead_of_replacing_it() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let fifo = dir.path().join("pipe");
        let c = std::ffi::CString::new(fifo.to_string_lossy().as_bytes())
            .unwrap_or_else(|e| panic!("cstring: {e}"));
        // SAFETY: `c` is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let reader_path = fifo.clone();
        let reader = std::thread::spawn(move || std::fs::read(reader_path).unwrap_or_default());
        write_atomic(&fifo, b"report").unwrap_or_else(|e| panic!("write: {e}"));
        let kind = std::fs::symlink_metadata(&fifo)
            .unwrap_or_else(|e| panic!("stat: {e}"))
            .file_type();
        // Checked before joining: a replaced FIFO would leave the reader blocked.
        assert!(kind.is_fifo(), "the FIFO was replaced by a regular file");
        assert_eq!(reader.join().unwrap_or_default(), b"report");
    }

    #[test]
    fn body_fence_lines_are_neutralised_so_reader_accepts_written_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.md");
        let mut fm = serde_norway::Mapping::new();
        fm.insert("verdict".into(), "PASS".into());
        write_report(&p, &fm, "# T\n---\nmore\n").unwrap();
        let m = read_frontmatter(&p).unwrap();
        assert_eq!(m.get("verdict").and_then(|v| v.as_str()), Some("PASS"));
        assert!(fs::read_to_string(&p).unwrap().contains("\n***\n"));
    }

    #[test]
    fn repeated_fence_is_rejected() {
        assert!(split_frontmatter("---\na: 1\n---\nbody\n---\nb: 2\n---\n").is_err());
        assert!(split_frontmatter("a: 1\n---\n").is_err());
        assert!(split_frontmatter("---\na: 1\n").is_err());
        assert_eq!(
            split_frontmatter("---\na: 1\n---\nx").unwrap(),
            ("a: 1\n", "x")
        );
    }
}
