//! Bounding the resident memory of memory-mapped pack files during a history scan.
//!
//! gix maps each pack (`.pack`, `.idx`, …) read-only and whole; every page a scan touches stays
//! resident and counts towards the process' RSS, so a full-history scan of a large repository
//! ends up with the entire pack set resident (811 MB on git.git) on top of its heap. Those pages
//! are only a view of the kernel's page cache: dropping them from the process
//! (`madvise(MADV_DONTNEED)`) costs nothing but a minor page fault on the next access, which
//! maps the same cached page again — the file content is unchanged (pack files are immutable)
//! and still cached by the kernel.
//!
//! [`PackPageLimiter`] runs a small watcher thread that, whenever the process' file-backed
//! resident memory exceeds a budget, releases the resident pages of every read-only mapping of
//! a file in the repository's `objects/pack` directory.
//!
//! Why this is safe:
//! * only mappings that are read-only (`r--`), file-backed and whose file lies in the pack
//!   directory are advised; such pages can never hold private modifications, so
//!   `MADV_DONTNEED` makes the next access re-read the file's (page-cached) bytes — for shared
//!   and private read-only file mappings alike (see `madvise(2)`);
//! * the range must still be that pack mapping when `madvise` runs: gix unmaps a pack only when
//!   its object store re-reads the pack directory and finds the pack gone, which it never does
//!   while a handle in "stable" mode exists. The limiter holds such a handle
//!   ([`prevent_pack_unload`](gix::odb::store::Handle::prevent_pack_unload)) for its whole
//!   lifetime, so no pack mapping of this store is unmapped (and no other mapping can take its
//!   address) while the limiter runs. The history scan's own pack mappings
//!   ([`PackSet`](super::packs::PackSet), for the whole-pack passes) are declared before the
//!   limiter and dropped only after it has stopped, for the same reason;
//! * a failed `madvise` is ignored: it only means the pages stay resident.
//!
//! `PORTCULLIS_PACK_RESIDENT_MB` sets the budget (default 128; 0 disables the limiter). Only
//! Linux is supported; elsewhere the limiter does nothing.

use std::path::{Path, PathBuf};

/// Drop this process' resident pages of the whole pages inside `bytes`, a part of a read-only
/// mapping of a pack file that the caller keeps mapped while this runs (the same argument as
/// the limiter's, see the module docs): for sweeps over the entry headers of a whole pack,
/// which map most of its pages within one interval of the limiter.
pub(crate) fn release_mapped(bytes: &[u8]) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sysconf has no preconditions.
        let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
        let addr = bytes.as_ptr() as usize;
        let start = addr.div_ceil(page) * page;
        let end = (addr + bytes.len()) / page * page;
        if end > start {
            // SAFETY: [start, end) lies within `bytes`, a read-only file mapping that stays
            // mapped for the duration of this call (the caller holds it).
            unsafe { dont_need(start, end - start) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = bytes;
}

/// `madvise(MADV_DONTNEED)` on `[start, start + len)`; `true` when the kernel accepted it.
///
/// # Safety
/// The range must be page-aligned and lie in a read-only file mapping that stays mapped for
/// the duration of the call. MADV_DONTNEED then only drops page-table entries: the next access
/// faults the unchanged file page back in, and no Rust reference observes a change of content.
#[cfg(target_os = "linux")]
unsafe fn dont_need(start: usize, len: usize) -> bool {
    // SAFETY: as the caller promises.
    unsafe { libc::madvise(start as *mut libc::c_void, len, libc::MADV_DONTNEED) == 0 }
}

/// Default budget of file-backed resident memory before pack pages are released.
const DEFAULT_BUDGET_MB: u64 = 128;
/// How often the watcher looks at the process' resident memory.
const INTERVAL: std::time::Duration = std::time::Duration::from_millis(20);

/// While alive, keeps the resident pages of the repository's pack mappings under a budget.
pub(crate) struct PackPageLimiter {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<u64>>,
    /// Keeps the store in "stable" mode: no pack is unmapped while the limiter runs.
    _keeper: Option<gix::Repository>,
}

impl PackPageLimiter {
    /// Start limiting the pack pages of the store behind `repo` (no-op when disabled or not on
    /// Linux, or when the pack directory cannot be resolved).
    pub(crate) fn start(repo: &gix::Repository) -> PackPageLimiter {
        let budget_mb = std::env::var("PORTCULLIS_PACK_RESIDENT_MB")
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(DEFAULT_BUDGET_MB);
        let idle = PackPageLimiter {
            stop: None,
            thread: None,
            _keeper: None,
        };
        if budget_mb == 0 || !cfg!(target_os = "linux") {
            return idle;
        }
        let mut keeper = repo.clone();
        keeper.objects.prevent_pack_unload();
        let Ok(pack_dir) = keeper
            .objects
            .store_ref()
            .path()
            .join("pack")
            .canonicalize()
        else {
            return idle;
        };
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let budget = budget_mb << 20;
        let thread = std::thread::Builder::new()
            .name("pack-pages".into())
            .spawn(move || {
                let mut releases = 0u64;
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    rx.recv_timeout(INTERVAL)
                {
                    if file_resident_bytes().is_some_and(|b| b > budget) {
                        release_pack_pages(&pack_dir);
                        releases += 1;
                    }
                }
                releases
            })
            .ok();
        PackPageLimiter {
            stop: Some(tx),
            thread,
            _keeper: Some(keeper),
        }
    }

    /// Stop the watcher; returns how many times pages were released.
    pub(crate) fn stop(mut self) -> u64 {
        self.shutdown()
    }

    fn shutdown(&mut self) -> u64 {
        drop(self.stop.take());
        self.thread.take().and_then(|t| t.join().ok()).unwrap_or(0)
    }
}

impl Drop for PackPageLimiter {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// File-backed (plus shared-memory) resident bytes of this process, from `/proc/self/statm`.
pub(crate) fn file_resident_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/statm").ok()?;
    let shared: u64 = text.split_whitespace().nth(2)?.parse().ok()?;
    Some(shared * page_size())
}

fn page_size() -> u64 {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sysconf has no preconditions.
        let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        u64::try_from(p).ok().filter(|p| *p > 0).unwrap_or(4096)
    }
    #[cfg(not(target_os = "linux"))]
    {
        4096
    }
}

/// One line of `/proc/self/maps` that maps a file read-only: `(start, end, path)`.
fn read_only_file_mapping(line: &str) -> Option<(usize, usize, PathBuf)> {
    let mut parts = line.splitn(6, ' ');
    let range = parts.next()?;
    let perms = parts.next()?;
    let _offset = parts.next()?;
    let _dev = parts.next()?;
    let _inode = parts.next()?;
    let path = parts.next()?.trim_start();
    if !perms.starts_with("r-") || !path.starts_with('/') {
        return None;
    }
    let path = path.strip_suffix(" (deleted)").unwrap_or(path);
    let (a, b) = range.split_once('-')?;
    let start = usize::from_str_radix(a, 16).ok()?;
    let end = usize::from_str_radix(b, 16).ok()?;
    (end > start).then(|| (start, end, PathBuf::from(path)))
}

/// Drop the resident pages of every read-only mapping of a file directly in `pack_dir`.
/// Returns the number of mappings advised.
fn release_pack_pages(pack_dir: &Path) -> usize {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return 0;
    };
    let mut n = 0;
    for (start, end, path) in maps.lines().filter_map(read_only_file_mapping) {
        if path.parent() != Some(pack_dir) {
            continue;
        }
        #[cfg(target_os = "linux")]
        {
            // SAFETY: `start..end` is, per the kernel's own table, a read-only mapping of a pack
            // file of the store this limiter keeps in stable mode, so it stays mapped (see the
            // module docs).
            if unsafe { dont_need(start, end - start) } {
                n += 1;
            }
        }
    }
    n
}

/// Resident memory of this process by kind (`RssAnon`, `RssFile`, `VmHWM`, in kB), for the
/// `PORTCULLIS_GIT_TIMING` diagnostics.
pub(crate) fn memory_summary() -> String {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return String::new();
    };
    status
        .lines()
        .filter(|l| l.starts_with("RssAnon") || l.starts_with("RssFile") || l.starts_with("VmHWM"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .chain(cpu_seconds().map(|s| format!("CPU so far: {s:.2} s")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// User + system CPU time this process has used so far, in seconds.
fn cpu_seconds() -> Option<f64> {
    #[cfg(unix)]
    {
        // SAFETY: getrusage only writes the struct it is given.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `ru` is a valid, writable rusage.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
            return None;
        }
        let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        Some(secs(ru.ru_utime) + secs(ru.ru_stime))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_read_only_file_mappings_only() {
        let l = "7f0000000000-7f0000002000 r--s 00000000 fd:01 1234                       /repo/.git/objects/pack/pack-1.pack";
        let (s, e, p) = read_only_file_mapping(l).unwrap_or((0, 0, PathBuf::new()));
        assert_eq!((s, e), (0x7f00_0000_0000, 0x7f00_0000_2000));
        assert_eq!(p, PathBuf::from("/repo/.git/objects/pack/pack-1.pack"));
        let deleted =
            "7f0000000000-7f0000002000 r--p 00000000 fd:01 1234 /r/objects/pack/p.idx (deleted)";
        assert_eq!(
            read_only_file_mapping(deleted).map(|m| m.2),
            Some(PathBuf::from("/r/objects/pack/p.idx"))
        );
        assert!(read_only_file_mapping("7f00-7f10 rw-p 00000000 00:00 0 /x/pack/p.pack").is_none());
        assert!(
            read_only_file_mapping("7f00-7f10 r-xp 00000000 fd:01 9 /usr/lib/libc.so")
                .is_some_and(|m| m.2.parent() != Some(Path::new("/x/pack")))
        );
        assert!(read_only_file_mapping("7f00-7f10 r--p 00000000 00:00 0 [vvar]").is_none());
        assert!(read_only_file_mapping("7f00-7f10 r--p 00000000 00:00 0 ").is_none());
    }

    #[test]
    fn released_pages_read_back_unchanged() {
        // A real read-only file mapping: release its pages and read it again.
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let pack = dir.path().join("pack");
        std::fs::create_dir(&pack).unwrap_or_else(|e| panic!("mkdir: {e}"));
        let file = pack.join("pack-test.pack");
        let content: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&file, &content).unwrap_or_else(|e| panic!("write: {e}"));
        let f = std::fs::File::open(&file).unwrap_or_else(|e| panic!("open: {e}"));
        // SAFETY: the file is private to this test and not modified while mapped.
        let map = unsafe { memmap2::Mmap::map(&f) }.unwrap_or_else(|e| panic!("mmap: {e}"));
        let before: u64 = map.iter().map(|b| u64::from(*b)).sum();
        let pack = pack.canonicalize().unwrap_or_else(|e| panic!("canon: {e}"));
        if cfg!(target_os = "linux") {
            assert!(
                release_pack_pages(&pack) >= 1,
                "the mapping was found and advised"
            );
        }
        assert_eq!(&map[..], &content[..]);
        assert_eq!(map.iter().map(|b| u64::from(*b)).sum::<u64>(), before);
    }
}
