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
    /// The path holds something other than a regular file; it was left untouched.
    #[error("{path}: is {kind}, not a regular file; refusing to replace or read it")]
    NotRegular {
        /// The report path.
        path: PathBuf,
        /// What is there instead.
        kind: &'static str,
    },
    /// The frontmatter value could not be serialised.
    #[error("{path}: cannot serialise frontmatter: {source}")]
    Serialize {
        /// The report path.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: serde_norway::Error,
    },
}

/// Why report text is not framed as one frontmatter block (`---` fences).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FenceError {
    /// The text is empty.
    #[error("file is empty")]
    Empty,
    /// The first line is not `---`.
    #[error("missing opening '---' fence on line 1")]
    MissingOpening,
    /// A `---` line follows the closing fence.
    #[error("repeated '---' fence after the frontmatter")]
    Repeated,
    /// No `---` line closes the frontmatter.
    #[error("missing closing '---' fence")]
    MissingClosing,
}

/// Render a report (frontmatter + body) to a string, exactly as [`write_report`] writes it.
pub fn render_report<T: Serialize>(
    frontmatter: &T,
    body: &str,
) -> Result<String, serde_norway::Error> {
    let yaml = serde_norway::to_string(frontmatter)?;
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
    let text = render_report(frontmatter, body).map_err(|source| FrontmatterError::Serialize {
        path: path.to_path_buf(),
        source,
    })?;
    write_atomic(path, text.as_bytes())
}

/// Refuse a path that holds anything but a regular file: a device, FIFO, socket, directory
/// or symbolic link at `path` is never replaced, truncated or removed. A missing path is fine.
pub fn check_replaceable(path: &Path) -> Result<(), FrontmatterError> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_file() => Ok(()),
        Ok(m) => Err(FrontmatterError::NotRegular {
            path: path.to_path_buf(),
            kind: file_kind(&m.file_type()),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(FrontmatterError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Remove a previous report before a run, so that a crash before the new one is written
/// leaves no file (which reads as FAIL). Only a regular file is removed; anything else at
/// `path` is refused (see [`check_replaceable`]).
pub fn remove_stale(path: &Path) -> Result<(), FrontmatterError> {
    check_replaceable(path)?;
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(FrontmatterError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// A word for the kind of a file that is not a regular file.
fn file_kind(t: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_symlink() {
        "a symbolic link"
    } else if t.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

/// Atomically replace the regular file `path` with `bytes` (temporary file in the same
/// directory, fsync, rename, directory fsync); the writer of gate reports.
///
/// Anything at `path` that is not a regular file (device, FIFO, socket, directory, symbolic
/// link) is refused and left untouched. If the temporary file cannot be created or renamed
/// (a read-only directory) but `path` is a writable regular file, it is overwritten in place
/// instead, so a previous report never outlives the run that tried to replace it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FrontmatterError> {
    check_replaceable(path)?;
    match replace_via_rename(path, bytes) {
        Ok(()) => Ok(()),
        Err(e) => match overwrite_regular_in_place(path, bytes) {
            Ok(true) => Ok(()),
            _ => Err(e),
        },
    }
}

fn replace_via_rename(path: &Path, bytes: &[u8]) -> Result<(), FrontmatterError> {
    let io = |source| FrontmatterError::Io {
        path: path.to_path_buf(),
        source,
    };
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
    // Checked again just before the rename: never rename over something that is not a
    // regular file, even one that appeared while the report was being written.
    check_replaceable(path)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    if let Ok(d) = File::open(&dir) {
        // Directory fsync makes the rename durable; not all filesystems support it.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Overwrite an existing regular file in place (no symlink followed, nothing but a regular
/// file opened). `Ok(false)` when there is no such file.
#[cfg(unix)]
fn overwrite_regular_in_place(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = match fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    if !f.metadata()?.file_type().is_file() {
        return Ok(false);
    }
    f.set_len(0)?;
    let mut f = f;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(true)
}

#[cfg(not(unix))]
fn overwrite_regular_in_place(_path: &Path, _bytes: &[u8]) -> std::io::Result<bool> {
    Ok(false)
}

/// Write a scan report (`scan --report-path`). Unlike gate reports, a scan report may go to
/// a character device or FIFO (`--report-path /dev/stdout`, a pipe), directly or through a
/// symbolic link: it is written into it, never replacing or removing it. A regular file
/// (or a symbolic link to one) is replaced atomically, keeping the link; a directory or
/// socket is refused.
pub fn write_scan_report(path: &Path, bytes: &[u8]) -> Result<(), FrontmatterError> {
    let io = |source| FrontmatterError::Io {
        path: path.to_path_buf(),
        source,
    };
    let link = fs::symlink_metadata(path).ok();
    let target = match fs::metadata(path) {
        Ok(m) => Some(m),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(e)),
    };
    match (&link, &target) {
        (Some(l), None) if l.file_type().is_symlink() => {
            // A dangling link: do not replace the link with a file.
            Err(FrontmatterError::NotRegular {
                path: path.to_path_buf(),
                kind: "a dangling symbolic link",
            })
        }
        (_, None) => write_atomic(path, bytes),
        (_, Some(m)) if m.file_type().is_file() => {
            let real = fs::canonicalize(path).map_err(io)?;
            if real.starts_with("/proc") || path.starts_with("/dev") {
                // `/dev/stdout` redirected to a file: write through the descriptor's file.
                let mut f = fs::OpenOptions::new()
                    .write(true)
                    .truncate(true)
                    .open(path)
                    .map_err(io)?;
                return f.write_all(bytes).map_err(io);
            }
            write_atomic(&real, bytes)
        }
        (_, Some(m)) if is_stream_device(&m.file_type()) => {
            let mut f = fs::OpenOptions::new().write(true).open(path).map_err(io)?;
            f.write_all(bytes).map_err(io)
        }
        (_, Some(m)) => Err(FrontmatterError::NotRegular {
            path: path.to_path_buf(),
            kind: file_kind(&m.file_type()),
        }),
    }
}

/// A character device or FIFO: something written into, not replaced.
fn is_stream_device(t: &fs::FileType) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        t.is_char_device() || t.is_fifo()
    }
    #[cfg(not(unix))]
    {
        let _ = t;
        false
    }
}

/// The largest report the reader accepts.
pub const MAX_REPORT_BYTES: u64 = 16 << 20;

/// Read a report file: only a regular file (opened without blocking, checked on the opened
/// descriptor, so a FIFO or device is refused rather than read), at most
/// [`MAX_REPORT_BYTES`].
pub fn read_report_bytes(path: &Path) -> Result<Vec<u8>, FrontmatterError> {
    use std::io::Read as _;
    let io = |source| FrontmatterError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut opts = fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let f = opts.open(path).map_err(io)?;
    let meta = f.metadata().map_err(io)?;
    if !meta.file_type().is_file() {
        return Err(FrontmatterError::NotRegular {
            path: path.to_path_buf(),
            kind: file_kind(&meta.file_type()),
        });
    }
    if meta.len() > MAX_REPORT_BYTES {
        return Err(FrontmatterError::Malformed {
            path: path.to_path_buf(),
            message: format!("larger than {MAX_REPORT_BYTES} bytes"),
        });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    f.take(MAX_REPORT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_REPORT_BYTES {
        return Err(FrontmatterError::Malformed {
            path: path.to_path_buf(),
            message: format!("larger than {MAX_REPORT_BYTES} bytes"),
        });
    }
    Ok(bytes)
}

/// Split report text into (frontmatter YAML, body), enforcing exactly one pair of fences:
/// the first line must be `---`, the next `---` line closes it, and no further `---` line
/// may follow.
pub fn split_frontmatter(text: &str) -> Result<(&str, &str), FenceError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().ok_or(FenceError::Empty)?;
    if first.trim_end_matches(['\n', '\r']) != FENCE {
        return Err(FenceError::MissingOpening);
    }
    let yaml_start = first.len();
    let mut pos = yaml_start;
    let mut close: Option<(usize, usize)> = None;
    for line in lines {
        let start = pos;
        pos += line.len();
        if line.trim_end_matches(['\n', '\r']) == FENCE {
            if close.is_some() {
                return Err(FenceError::Repeated);
            }
            close = Some((start, pos));
        }
    }
    let (yaml_end, body_start) = close.ok_or(FenceError::MissingClosing)?;
    Ok((&text[yaml_start..yaml_end], &text[body_start..]))
}

/// Read `path` and parse its frontmatter as a YAML mapping. Every problem (unreadable file,
/// not a regular file, larger than [`MAX_REPORT_BYTES`], fences, YAML syntax, a non-mapping
/// document) is an error naming the file.
pub fn read_frontmatter(path: &Path) -> Result<serde_norway::Mapping, FrontmatterError> {
    read_frontmatter_raw(path).map(|(m, _)| m)
}

/// As [`read_frontmatter`], also returning the frontmatter's YAML text as written.
pub fn read_frontmatter_raw(
    path: &Path,
) -> Result<(serde_norway::Mapping, String), FrontmatterError> {
    let malformed = |message: String| FrontmatterError::Malformed {
        path: path.to_path_buf(),
        message,
    };
    let bytes = read_report_bytes(path)?;
    let text = std::str::from_utf8(&bytes).map_err(|e| malformed(format!("not UTF-8: {e}")))?;
    let (yaml, _body) = split_frontmatter(text).map_err(|e| malformed(e.to_string()))?;
    let value: serde_norway::Value =
        serde_norway::from_str(yaml).map_err(|e| malformed(format!("frontmatter YAML: {e}")))?;
    match value {
        serde_norway::Value::Mapping(m) => Ok((m, yaml.to_string())),
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

    /// A FIFO at `p`, made by the `mkfifo` command.
    #[cfg(unix)]
    fn mkfifo(p: &Path) {
        let made = std::process::Command::new("mkfifo")
            .arg("-m")
            .arg("600")
            .arg(p)
            .status()
            .unwrap_or_else(|e| panic!("mkfifo: {e}"));
        assert!(made.success(), "mkfifo {}", p.display());
    }

    #[cfg(unix)]
    #[test]
    fn scan_report_is_written_into_a_fifo_instead_of_replacing_it() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let fifo = dir.path().join("pipe");
        mkfifo(&fifo);
        let reader_path = fifo.clone();
        let reader = std::thread::spawn(move || std::fs::read(reader_path).unwrap_or_default());
        write_scan_report(&fifo, b"report").unwrap_or_else(|e| panic!("write: {e}"));
        let kind = std::fs::symlink_metadata(&fifo)
            .unwrap_or_else(|e| panic!("stat: {e}"))
            .file_type();
        // Checked before joining: a replaced FIFO would leave the reader blocked.
        assert!(kind.is_fifo(), "the FIFO was replaced by a regular file");
        assert_eq!(reader.join().unwrap_or_default(), b"report");
    }

    #[cfg(unix)]
    #[test]
    fn gate_report_writer_refuses_a_fifo_and_a_symlink_leaving_them_in_place() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        mkfifo(&fifo);
        let e = write_atomic(&fifo, b"report").unwrap_err().to_string();
        assert!(e.contains("a FIFO") && !e.contains('\n'), "{e}");
        assert!(remove_stale(&fifo).is_err());
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
        let link = dir.path().join("link.md");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        assert!(write_atomic(&link, b"report").is_err());
        assert!(remove_stale(&link).is_err());
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    }

    #[cfg(unix)]
    #[test]
    fn reader_refuses_a_fifo_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        mkfifo(&fifo);
        let e = read_frontmatter(&fifo).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }

    #[test]
    fn reader_refuses_a_report_over_the_size_cap() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.md");
        let f = File::create(&p).unwrap();
        f.set_len(MAX_REPORT_BYTES + 1).unwrap();
        let e = read_frontmatter(&p).unwrap_err().to_string();
        assert!(e.contains("larger than"), "{e}");
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
