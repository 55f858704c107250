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
//! resident memory exceeds a budget, releases the resident pages of the pack mappings this
//! scan owns: those registered as an [`OwnedMapping`] (the pack data mapped by
//! [`PackSet`](crate::packs::PackSet) for the whole-pack passes).
//!
//! Why this is safe:
//! * only registered ranges are advised, never a mapping found elsewhere (other object stores
//!   of the process map the same pack files, e.g. the gate's dependency audit, and may unmap
//!   them at any time; their address range could then hold live heap memory, which
//!   `MADV_DONTNEED` would zero);
//! * a registered range is a read-only file mapping of an immutable pack file: its pages can
//!   never hold private modifications, so `MADV_DONTNEED` makes the next access re-read the
//!   file's (page-cached) bytes — for shared and private read-only file mappings alike (see
//!   `madvise(2)`);
//! * the range is still mapped when `madvise` runs: the registry's lock is held while the
//!   watcher advises, and an [`OwnedMapping`] leaves the registry (taking the same lock) before
//!   its mapping is unmapped (it is declared before the mapping in its owner, so it is dropped
//!   first);
//! * a failed `madvise` is ignored: it only means the pages stay resident.
//!
//! `PORTCULLIS_PACK_RESIDENT_MB` sets the budget (default 128; 0 disables the limiter). Only
//! Linux is supported; elsewhere the limiter does nothing.

use std::sync::Mutex;

/// Address ranges `[start, end)` of the read-only pack mappings this process' scans own.
static OWNED: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

/// A read-only file mapping registered for the page limiter while this value lives. Declare
/// it before the mapping in its owner, so it leaves the registry before the mapping is
/// unmapped.
#[derive(Debug)]
pub struct OwnedMapping {
    range: (usize, usize),
}

impl OwnedMapping {
    /// Register `bytes`, a read-only mapping of an immutable file that outlives the returned
    /// value.
    pub fn register(bytes: &[u8]) -> OwnedMapping {
        let start = bytes.as_ptr() as usize;
        let range = (start, start + bytes.len());
        if let Ok(mut owned) = OWNED.lock() {
            owned.push(range);
        }
        OwnedMapping { range }
    }
}

impl Drop for OwnedMapping {
    fn drop(&mut self) {
        let mut owned = OWNED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = owned.iter().position(|r| *r == self.range) {
            owned.swap_remove(i);
        }
    }
}

/// Drop this process' resident pages of the whole pages inside `bytes`, a part of a read-only
/// mapping of a pack file that the caller keeps mapped while this runs (the same argument as
/// the limiter's, see the module docs): for sweeps over the entry headers of a whole pack,
/// which map most of its pages within one interval of the limiter.
pub fn release_mapped(bytes: &[u8]) {
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
pub struct PackPageLimiter {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<u64>>,
    /// Keeps the store in "stable" mode: no pack is unmapped while the limiter runs.
    _keeper: Option<gix::Repository>,
}

impl PackPageLimiter {
    /// Start limiting the pack pages this process owns while scanning `repo` (no-op when
    /// disabled or not on Linux).
    pub fn start(repo: &gix::Repository) -> PackPageLimiter {
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
                        release_owned_pages();
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
    pub fn stop(mut self) -> u64 {
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
pub fn file_resident_bytes() -> Option<u64> {
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

/// Drop the resident pages of every registered [`OwnedMapping`]. Returns the number of
/// mappings advised.
fn release_owned_pages() -> usize {
    let owned = OWNED.lock().unwrap_or_else(|p| p.into_inner());
    let mut n = 0;
    #[cfg(target_os = "linux")]
    {
        let page = usize::try_from(page_size()).unwrap_or(4096);
        for &(addr, end) in owned.iter() {
            let start = addr.div_ceil(page) * page;
            let stop = end / page * page;
            // SAFETY: `[start, stop)` lies in a registered read-only mapping of an immutable
            // pack file, which stays mapped while the registry's lock is held (see the module
            // docs).
            if stop > start && unsafe { dont_need(start, stop - start) } {
                n += 1;
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = &owned;
    n
}

/// Resident memory of this process by kind (`RssAnon`, `RssFile`, `VmHWM`, in kB), for the
/// `PORTCULLIS_GIT_TIMING` diagnostics.
pub fn memory_summary() -> String {
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
        {
            let _owned = OwnedMapping::register(&map);
            if cfg!(target_os = "linux") {
                assert!(release_owned_pages() >= 1, "the mapping was advised");
            }
        }
        assert_eq!(&map[..], &content[..]);
        assert_eq!(map.iter().map(|b| u64::from(*b)).sum::<u64>(), before);
    }

    #[test]
    fn the_watcher_advises_only_mappings_it_owns() {
        // A read-only mapping of a pack file that another object store made: never advised,
        // as that store may unmap it (and the range be reused) at any time.
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let file = dir.path().join("pack-other.pack");
        std::fs::write(&file, vec![7u8; 256 * 1024]).unwrap_or_else(|e| panic!("write: {e}"));
        let f = std::fs::File::open(&file).unwrap_or_else(|e| panic!("open: {e}"));
        // SAFETY: the file is private to this test and not modified while mapped.
        let map = unsafe { memmap2::Mmap::map(&f) }.unwrap_or_else(|e| panic!("mmap: {e}"));
        let range = (map.as_ptr() as usize, map.as_ptr() as usize + map.len());
        let owned_now = || OWNED.lock().map(|o| o.contains(&range)).unwrap_or(true);
        assert!(!owned_now(), "a foreign mapping is not in the registry");
        {
            let _owned = OwnedMapping::register(&map);
            assert!(owned_now());
        }
        assert!(!owned_now(), "dropping the registration removes it");
        assert!(map.iter().all(|b| *b == 7));
    }
}
