//! Archives: identification and bounded extraction of zip, tar, gzip and tar.gz.
//!
//! Members are read into memory under an [`ArchiveLimits`] budget shared by a whole top-level
//! file (nested archives included), so a decompression bomb cannot exhaust memory or time:
//! * a member larger than `max_member_bytes` (from `--max-target-megabytes`) is skipped like
//!   any large file;
//! * the total number of decompressed bytes of one top-level file is capped
//!   (`--max-archive-megabytes`, default 1024);
//! * once more than [`RATIO_FLOOR`] bytes were decompressed, the total may not exceed
//!   `max_ratio` times the size of the top-level file.
//!
//! Hitting either of the last two bounds, or a corrupt archive, is an [`ArchiveError`]: the
//! caller reports it as a scan error naming the file; nothing is skipped silently.
//!
//! Bytes are charged as they come out of the decompressor, so a bomb trips its bound after
//! at most one read buffer more. Across threads the decompression memory is bounded by one
//! shared lane: a top-level file may decompress its first [`LANE_FREE`] bytes freely; any
//! decompression beyond that holds the process-wide lane while it reads (one thread at a
//! time), so N threads hold at most N × [`LANE_FREE`] plus one file's bounded total, instead
//! of N files' totals at once. The lane is held only while bytes are read from a
//! decompressor (nothing else runs under it), so it cannot deadlock.
//!
//! Which data is an archive: the zip, gzip and tar signatures (so `.jar`, `.docx`, `.whl`
//! are opened too), or the names `*.zip`, `*.tar`, `*.gz`, `*.tgz` (gitleaks identifies
//! archives by name only).

use std::io::{Cursor, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::ScanErrorKind;

/// Decompressed bytes of one top-level file that need no lane (see the module docs).
pub const LANE_FREE: u64 = 16 * 1024 * 1024;

/// The process-wide lane for decompression beyond [`LANE_FREE`].
static LANE: Mutex<()> = Mutex::new(());
/// Threads in the lane now, and the most ever seen at once (for tests and diagnostics).
static IN_LANE: AtomicUsize = AtomicUsize::new(0);
static IN_LANE_PEAK: AtomicUsize = AtomicUsize::new(0);

/// The most threads ever seen decompressing beyond [`LANE_FREE`] at once (1 unless the lane
/// is broken).
pub fn lane_peak() -> usize {
    IN_LANE_PEAK.load(Ordering::Relaxed)
}

/// A thread's hold on the lane.
struct LaneGuard {
    _lock: MutexGuard<'static, ()>,
}

impl LaneGuard {
    fn enter() -> LaneGuard {
        let lock = LANE.lock().unwrap_or_else(|p| p.into_inner());
        let now = IN_LANE.fetch_add(1, Ordering::SeqCst) + 1;
        IN_LANE_PEAK.fetch_max(now, Ordering::SeqCst);
        LaneGuard { _lock: lock }
    }
}

impl Drop for LaneGuard {
    fn drop(&mut self) {
        IN_LANE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Total decompressed bytes above which the ratio bound is checked.
pub const RATIO_FLOOR: u64 = 64 * 1024 * 1024;
/// Default cap on the decompressed bytes of one top-level file, in megabytes (10^6 bytes).
pub const DEFAULT_MAX_ARCHIVE_MEGABYTES: u64 = 1024;
/// Default maximum expansion ratio (decompressed bytes / size of the top-level file).
pub const DEFAULT_MAX_RATIO: u64 = 200;

/// An archive or compression format portcullis can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    /// A zip archive (also jar, docx, apk, whl, ...).
    Zip,
    /// An uncompressed tar archive.
    Tar,
    /// gzip-compressed data; `tar` when it is (named) a tar.gz / tgz.
    Gzip {
        /// Whether the name says the decompressed data is a tar archive.
        tar_by_name: bool,
    },
}

/// Bounds against decompression bombs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Members larger than this are skipped (like files over `--max-target-megabytes`).
    pub max_member_bytes: Option<u64>,
    /// Maximum decompressed bytes per top-level file (error when exceeded).
    pub max_total_bytes: u64,
    /// Maximum ratio of decompressed bytes to the size of the top-level file, checked once
    /// more than [`RATIO_FLOOR`] bytes were decompressed (error when exceeded).
    pub max_ratio: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        ArchiveLimits {
            max_member_bytes: None,
            max_total_bytes: DEFAULT_MAX_ARCHIVE_MEGABYTES * 1_000_000,
            max_ratio: DEFAULT_MAX_RATIO,
        }
    }
}

/// Decompression accounting for one top-level file.
#[derive(Debug, Clone, Copy, Default)]
pub struct Budget {
    /// Decompressed bytes so far.
    pub used: u64,
    /// Size of the top-level file on disk.
    pub top_size: u64,
}

/// Why an archive could not be (fully) scanned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveError {
    /// The archive is damaged or not what its name says.
    #[error("corrupt or unreadable {kind} archive: {detail}")]
    Corrupt {
        /// `zip`, `tar` or `gzip`.
        kind: &'static str,
        /// The underlying error.
        detail: String,
    },
    /// The total decompressed size exceeded `max_total_bytes`.
    #[error(
        "decompressed content exceeds {limit} bytes (--max-archive-megabytes); \
         possible decompression bomb, the rest of the archive was not scanned"
    )]
    TotalLimit {
        /// The limit in bytes.
        limit: u64,
    },
    /// The expansion ratio exceeded `max_ratio`.
    #[error(
        "decompressed content ({used} bytes) exceeds {ratio}x the file size ({top} bytes); \
         possible decompression bomb, the rest of the archive was not scanned"
    )]
    Ratio {
        /// Bytes decompressed.
        used: u64,
        /// Size of the top-level file.
        top: u64,
        /// The ratio limit.
        ratio: u64,
    },
}

impl ArchiveError {
    /// The kind of scan error this is: [`ScanErrorKind::Limit`] for the decompression bounds,
    /// [`ScanErrorKind::Archive`] for damage.
    pub fn kind(&self) -> ScanErrorKind {
        match self {
            ArchiveError::Corrupt { .. } => ScanErrorKind::Archive,
            ArchiveError::TotalLimit { .. } | ArchiveError::Ratio { .. } => ScanErrorKind::Limit,
        }
    }
}

/// What became of one archive member.
#[derive(Debug)]
pub enum Member {
    /// The member's content.
    Data {
        /// Cleaned path inside the archive.
        name: String,
        /// Decompressed bytes.
        data: Vec<u8>,
    },
    /// Skipped because it exceeds `max_member_bytes`.
    TooLarge {
        /// Cleaned path inside the archive.
        name: String,
    },
    /// Not scanned, with no secret exposure (e.g. encrypted); a warning.
    Unscannable {
        /// Cleaned path inside the archive.
        name: String,
        /// Why.
        reason: String,
    },
    /// A damaged member; a scan error.
    Failed {
        /// Cleaned path inside the archive.
        name: String,
        /// Why.
        reason: String,
    },
}

/// An error text from an archive library as one line: it can quote bytes of the archive
/// (a tar member's path), and a scan error is one line naming the file.
fn one_line(detail: String) -> String {
    if !detail.contains(char::is_control) {
        return detail;
    }
    detail
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn ends_with_ci(name: &str, suffix: &str) -> bool {
    name.len() >= suffix.len()
        && name.as_bytes()[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// Identify an archive by signature, then (when `name` is not empty) by name.
pub fn identify(name: &str, data: &[u8]) -> Option<ArchiveKind> {
    let tar_name = ends_with_ci(name, ".tar.gz") || ends_with_ci(name, ".tgz");
    if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
        return Some(ArchiveKind::Zip);
    }
    if data.starts_with(b"\x1f\x8b") {
        return Some(ArchiveKind::Gzip {
            tar_by_name: tar_name,
        });
    }
    if data.len() >= 262 && &data[257..262] == b"ustar" {
        return Some(ArchiveKind::Tar);
    }
    if name.is_empty() {
        None
    } else if ends_with_ci(name, ".zip") {
        Some(ArchiveKind::Zip)
    } else if ends_with_ci(name, ".tar") {
        Some(ArchiveKind::Tar)
    } else if tar_name || ends_with_ci(name, ".gz") {
        Some(ArchiveKind::Gzip {
            tar_by_name: tar_name,
        })
    } else {
        None
    }
}

/// Archive formats recognised by name or signature that portcullis cannot open.
pub fn unsupported_format(name: &str, data: &[u8]) -> Option<&'static str> {
    const SIGS: &[(&[u8], &str)] = &[
        (b"BZh", "bzip2"),
        (b"\xfd7zXZ\0", "xz"),
        (b"\x28\xb5\x2f\xfd", "zstd"),
        (b"7z\xbc\xaf\x27\x1c", "7z"),
        (b"Rar!\x1a\x07", "rar"),
    ];
    const EXTS: &[(&str, &str)] = &[
        (".bz2", "bzip2"),
        (".xz", "xz"),
        (".zst", "zstd"),
        (".7z", "7z"),
        (".rar", "rar"),
    ];
    SIGS.iter()
        .find(|(sig, _)| data.starts_with(sig))
        .map(|(_, k)| *k)
        .or_else(|| {
            EXTS.iter()
                .find(|(ext, _)| ends_with_ci(name, ext))
                .map(|(_, k)| *k)
        })
}

impl Budget {
    fn charge(&mut self, n: u64, limits: &ArchiveLimits) -> Result<(), ArchiveError> {
        self.used = self.used.saturating_add(n);
        if self.used > limits.max_total_bytes {
            return Err(ArchiveError::TotalLimit {
                limit: limits.max_total_bytes,
            });
        }
        if self.used > RATIO_FLOOR && self.used / self.top_size.max(1) >= limits.max_ratio {
            return Err(ArchiveError::Ratio {
                used: self.used,
                top: self.top_size,
                ratio: limits.max_ratio,
            });
        }
        Ok(())
    }
}

enum Bounded {
    Data(Vec<u8>),
    TooLarge,
}

/// Read `r` to the end under the member limit and, when `charge` (the bytes are being
/// decompressed), under the total and ratio limits, charged as they come out. `hint` is the
/// size the archive declares (capacity only, never trusted beyond the limits).
fn read_bounded<R: Read>(
    r: R,
    limits: &ArchiveLimits,
    budget: &mut Budget,
    charge: bool,
    hint: u64,
) -> Result<Result<Bounded, std::io::Error>, ArchiveError> {
    let member_cap = limits.max_member_bytes.unwrap_or(u64::MAX);
    let limit = if charge {
        member_cap.min(limits.max_total_bytes.saturating_sub(budget.used))
    } else {
        member_cap
    };
    let capacity = hint.min(limit).min(LANE_FREE);
    let mut buf = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    let res = if charge {
        let mut reader = Charged {
            inner: r.take(limit.saturating_add(1)),
            budget,
            limits: *limits,
            tripped: None,
            lane: None,
        };
        let res = reader.read_to_end(&mut buf);
        if let Some(e) = reader.tripped.take() {
            return Err(e);
        }
        res
    } else {
        r.take(limit.saturating_add(1)).read_to_end(&mut buf)
    };
    if let Err(e) = res {
        return Ok(Err(e));
    }
    if buf.len() as u64 > limit {
        // Only reachable when the member cap is the binding limit (otherwise charge failed).
        return Ok(Ok(Bounded::TooLarge));
    }
    Ok(Ok(Bounded::Data(buf)))
}

/// A reader that charges every byte it yields to the budget and fails once a bound is hit,
/// so even bytes that are skipped over (unread tar members) are bounded. Past [`LANE_FREE`]
/// bytes of its top-level file it reads only while holding the lane.
struct Charged<'b, R> {
    inner: R,
    budget: &'b mut Budget,
    limits: ArchiveLimits,
    tripped: Option<ArchiveError>,
    lane: Option<LaneGuard>,
}

impl<R: Read> Read for Charged<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.tripped.is_some() {
            return Err(std::io::Error::other("decompression bound exceeded"));
        }
        if self.lane.is_none() && self.budget.used >= LANE_FREE {
            self.lane = Some(LaneGuard::enter());
        }
        let n = self.inner.read(buf)?;
        if let Err(e) = self.budget.charge(n as u64, &self.limits) {
            self.tripped = Some(e);
            return Err(std::io::Error::other("decompression bound exceeded"));
        }
        Ok(n)
    }
}

/// Decompress gzip data (all members of a multi-member stream) under the limits.
pub fn gunzip(
    data: &[u8],
    limits: &ArchiveLimits,
    budget: &mut Budget,
) -> Result<Vec<u8>, ArchiveError> {
    let mut reader = Charged {
        inner: flate2::read::MultiGzDecoder::new(data),
        budget,
        limits: *limits,
        tripped: None,
        lane: None,
    };
    let mut out = Vec::new();
    match reader.read_to_end(&mut out) {
        Ok(_) => Ok(out),
        Err(e) => Err(reader.tripped.take().unwrap_or(ArchiveError::Corrupt {
            kind: "gzip",
            detail: one_line(e.to_string()),
        })),
    }
}

/// Extract the members of a tar archive held in memory; `visit` gets each regular file.
/// Tar data is not compressed: its bytes were already charged when they were decompressed
/// (tar.gz, a tar inside a zip) or are the file on disk, so members only obey the member cap.
pub fn extract_tar(
    data: &[u8],
    limits: &ArchiveLimits,
    budget: &mut Budget,
    visit: &mut dyn FnMut(Member, &mut Budget),
) -> Result<(), ArchiveError> {
    let corrupt = |e: std::io::Error| ArchiveError::Corrupt {
        kind: "tar",
        detail: one_line(e.to_string()),
    };
    let mut archive = tar::Archive::new(Cursor::new(data));
    let entries = archive.entries().map_err(corrupt)?;
    for entry in entries {
        let entry = entry.map_err(corrupt)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = super::go_clean(&String::from_utf8_lossy(&entry.path_bytes()));
        if limits
            .max_member_bytes
            .is_some_and(|cap| entry.size() > cap)
        {
            visit(Member::TooLarge { name }, budget);
            continue;
        }
        let size = entry.size();
        match read_bounded(entry, limits, budget, false, size)? {
            Ok(Bounded::Data(data)) => visit(Member::Data { name, data }, budget),
            Ok(Bounded::TooLarge) => visit(Member::TooLarge { name }, budget),
            Err(e) => return Err(corrupt(e)),
        }
    }
    Ok(())
}

/// Extract the members of a zip archive held in memory.
pub fn extract_zip(
    data: &[u8],
    limits: &ArchiveLimits,
    budget: &mut Budget,
    visit: &mut dyn FnMut(Member, &mut Budget),
) -> Result<(), ArchiveError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(data)).map_err(|e| ArchiveError::Corrupt {
        kind: "zip",
        detail: one_line(e.to_string()),
    })?;
    for i in 0..zip.len() {
        let (name, skip, unscannable, too_large, declared) = match zip.by_index_raw(i) {
            Ok(f) => {
                let name = super::go_clean(f.name());
                let skip = f.is_dir() || f.is_symlink();
                let unscannable = if f.encrypted() {
                    Some("member is encrypted".to_string())
                } else {
                    None
                };
                let too_large = limits.max_member_bytes.is_some_and(|cap| f.size() > cap);
                (name, skip, unscannable, too_large, f.size())
            }
            Err(e) => {
                return Err(ArchiveError::Corrupt {
                    kind: "zip",
                    detail: one_line(format!("entry {i}: {e}")),
                });
            }
        };
        if skip {
            continue;
        }
        if let Some(reason) = unscannable {
            visit(Member::Unscannable { name, reason }, budget);
            continue;
        }
        if too_large {
            visit(Member::TooLarge { name }, budget);
            continue;
        }
        let file = match zip.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                visit(
                    Member::Failed {
                        name,
                        reason: one_line(e.to_string()),
                    },
                    budget,
                );
                continue;
            }
        };
        match read_bounded(file, limits, budget, true, declared)? {
            Ok(Bounded::Data(data)) => visit(Member::Data { name, data }, budget),
            Ok(Bounded::TooLarge) => visit(Member::TooLarge { name }, budget),
            Err(e) => visit(
                Member::Failed {
                    name,
                    reason: one_line(e.to_string()),
                },
                budget,
            ),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn identify_by_signature_then_name() {
        assert_eq!(identify("x.bin", b"PK\x03\x04rest"), Some(ArchiveKind::Zip));
        assert_eq!(
            identify("a.TGZ", &gz(b"x")),
            Some(ArchiveKind::Gzip { tar_by_name: true })
        );
        assert_eq!(identify("broken.zip", b"hello"), Some(ArchiveKind::Zip));
        assert_eq!(identify("notes.txt", b"hello"), None);
        assert_eq!(unsupported_format("a.tar.xz", b""), Some("xz"));
    }

    #[test]
    fn gunzip_respects_total_limit() {
        let data = gz(&vec![0u8; 2_000_000]);
        let limits = ArchiveLimits {
            max_total_bytes: 1_000_000,
            ..ArchiveLimits::default()
        };
        let mut budget = Budget {
            used: 0,
            top_size: data.len() as u64,
        };
        assert_eq!(
            gunzip(&data, &limits, &mut budget),
            Err(ArchiveError::TotalLimit { limit: 1_000_000 })
        );
    }

    #[test]
    fn zip_bomb_member_trips_its_bound_while_decompressing() {
        // A member of 300 MB of zeros: the ratio bound stops it just past RATIO_FLOOR, long
        // before the member is read whole.
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        w.start_file("zeros.bin", opts).unwrap();
        let block = vec![0u8; 1 << 20];
        for _ in 0..300 {
            w.write_all(&block).unwrap();
        }
        let data = w.finish().unwrap().into_inner();
        let mut budget = Budget {
            used: 0,
            top_size: data.len() as u64,
        };
        let res = extract_zip(
            &data,
            &ArchiveLimits::default(),
            &mut budget,
            &mut |_, _| {},
        );
        assert!(matches!(res, Err(ArchiveError::Ratio { .. })), "{res:?}");
        assert!(budget.used < RATIO_FLOOR + (1 << 20), "{}", budget.used);
    }

    #[test]
    fn threads_decompress_beyond_the_free_bytes_one_at_a_time() {
        // Four threads each gunzip 3 x LANE_FREE bytes at once: all succeed, and at no
        // moment do two of them decompress past their free bytes together.
        let size = usize::try_from(3 * LANE_FREE).unwrap();
        let data = gz(&vec![b'a'; size]);
        let limits = ArchiveLimits {
            max_ratio: u64::MAX,
            ..ArchiveLimits::default()
        };
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    let mut budget = Budget {
                        used: 0,
                        top_size: data.len() as u64,
                    };
                    let out = gunzip(&data, &limits, &mut budget).unwrap();
                    assert_eq!(out.len(), size);
                });
            }
        });
        assert_eq!(lane_peak(), 1);
    }

    #[test]
    fn corrupt_gzip_is_an_error() {
        let mut data = gz(b"some text that is long enough to matter");
        let n = data.len();
        data.truncate(n - 12);
        let mut budget = Budget::default();
        assert!(matches!(
            gunzip(&data, &ArchiveLimits::default(), &mut budget),
            Err(ArchiveError::Corrupt { kind: "gzip", .. })
        ));
    }
}
