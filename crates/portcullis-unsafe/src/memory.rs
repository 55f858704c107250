//! Memory of this process: the page size, dropping resident pages of read-only file mappings
//! (`madvise(MADV_DONTNEED)`), resource usage (`getrusage`) and returning free heap memory to
//! the system (`malloc_trim`).
//!
//! Why unsafe: these are C functions (FFI), and `MADV_DONTNEED` changes what memory reads
//! return when applied to anything but a file mapping: on anonymous or written private memory
//! it discards the content (the next read sees zeros). Here it is only applied to whole pages
//! that
//! * lie in memory the caller holds a borrow of (so it stays mapped during the call; for the
//!   [`register`]ed mappings, the registry holds their owner, so they stay mapped while
//!   registered), and
//! * `/proc/self/maps` shows to be file-backed mappings without write permission (checked
//!   right before the call, as a range can never become anonymous memory while it is mapped).
//!
//! For such a mapping `MADV_DONTNEED` only drops page-table entries: the next access faults
//! the unchanged page-cache page back in, so no reader observes a change (the file itself
//! must not change while mapped, the precondition of every file mapping). Elsewhere than Linux
//! nothing is advised.

use std::sync::{Arc, Mutex};

/// The size of a memory page in bytes (4096 when it cannot be read).
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(p).ok().filter(|p| *p > 0).unwrap_or(4096)
}

/// The address ranges `[start, end)` of this process' file-backed mappings without write
/// permission, ascending (`None` without `/proc/self/maps`).
fn read_only_file_ranges() -> Option<Vec<(usize, usize)>> {
    let text = std::fs::read_to_string("/proc/self/maps").ok()?;
    let mut out = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms), Some(_offset), Some(_dev), Some(inode)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            continue;
        };
        if !perms.starts_with('r') || perms.as_bytes().get(1) != Some(&b'-') || inode == "0" {
            continue;
        }
        let Some((a, b)) = range.split_once('-') else {
            continue;
        };
        if let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16)) {
            out.push((a, b));
        }
    }
    out.sort_unstable();
    Some(out)
}

/// Whether `[start, end)` is covered by `ranges` (ascending).
fn covered(ranges: &[(usize, usize)], start: usize, end: usize) -> bool {
    let mut at = start;
    for &(a, b) in ranges {
        if at >= end {
            break;
        }
        if a <= at && b > at {
            at = b;
        }
    }
    at >= end
}

/// The whole pages inside `bytes`, as `[start, end)`, if any.
fn whole_pages(bytes: &[u8], page: usize) -> Option<(usize, usize)> {
    let addr = bytes.as_ptr() as usize;
    let start = addr.checked_next_multiple_of(page)?;
    let end = (addr + bytes.len()) / page * page;
    (end > start).then_some((start, end))
}

/// `madvise(MADV_DONTNEED)` on the whole pages of `bytes` when `ranges` shows them to be
/// read-only file mappings; true when the kernel accepted it.
fn advise(bytes: &[u8], ranges: &[(usize, usize)]) -> bool {
    let Some((start, end)) = whole_pages(bytes, page_size()) else {
        return false;
    };
    if !covered(ranges, start, end) {
        return false;
    }
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `[start, end)` is a page-aligned part of `bytes`, which the caller borrows
        // (so it stays mapped during the call), and `/proc/self/maps` shows it to be a
        // read-only file mapping: MADV_DONTNEED only drops page-table entries, the next access
        // reads the same file page (see the module docs).
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    false
}

/// Drop this process' resident pages of the whole pages inside `bytes`, when they are part of
/// a read-only file mapping (else nothing happens); true when pages were released. The next
/// access maps the same (page-cached) file pages again.
pub fn release_file_pages(bytes: &[u8]) -> bool {
    read_only_file_ranges().is_some_and(|ranges| advise(bytes, &ranges))
}

/// A registered mapping: its owner, and how to get its bytes from it.
trait Registered: Send + Sync {
    fn bytes(&self) -> Option<&[u8]>;
}

struct Entry<M> {
    owner: Arc<M>,
    bytes: fn(&M) -> Option<&[u8]>,
}

impl<M: Send + Sync> Registered for Entry<M> {
    fn bytes(&self) -> Option<&[u8]> {
        (self.bytes)(&self.owner)
    }
}

/// The registered mappings, by registration number.
static REGISTERED: Mutex<Vec<(u64, Box<dyn Registered>)>> = Mutex::new(Vec::new());
/// The next registration number.
static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A mapping registered for [`release_registered`] while this value lives (the registry
/// keeps the mapping's owner alive meanwhile).
#[derive(Debug)]
pub struct Registration {
    id: u64,
}

/// Register the mapping `bytes(&owner)` of `owner` (for instance a memory-mapped pack file)
/// for [`release_registered`]. Only read-only file mappings are ever advised; anything else
/// registered is left alone.
pub fn register<M: Send + Sync + 'static>(
    owner: Arc<M>,
    bytes: fn(&M) -> Option<&[u8]>,
) -> Registration {
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut all = REGISTERED.lock().unwrap_or_else(|p| p.into_inner());
    all.push((id, Box::new(Entry { owner, bytes })));
    Registration { id }
}

impl Registration {
    /// Whether this registration is (still) in the registry.
    pub fn is_registered(&self) -> bool {
        let all = REGISTERED.lock().unwrap_or_else(|p| p.into_inner());
        all.iter().any(|(id, _)| *id == self.id)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let removed = {
            let mut all = REGISTERED.lock().unwrap_or_else(|p| p.into_inner());
            all.iter()
                .position(|(id, _)| *id == self.id)
                .map(|i| all.swap_remove(i))
        };
        // The owner (perhaps the last reference to a mapping) is dropped outside the lock.
        drop(removed);
    }
}

/// Whether the registry holds the mapping that `bytes` starts (tests).
pub fn is_registered_range(bytes: &[u8]) -> bool {
    let all = REGISTERED.lock().unwrap_or_else(|p| p.into_inner());
    all.iter()
        .any(|(_, e)| e.bytes().is_some_and(|b| b.as_ptr() == bytes.as_ptr()))
}

/// Drop this process' resident pages of every registered read-only file mapping; returns
/// how many mappings were advised.
pub fn release_registered() -> usize {
    let Some(ranges) = read_only_file_ranges() else {
        return 0;
    };
    let all = REGISTERED.lock().unwrap_or_else(|p| p.into_inner());
    all.iter()
        .filter(|(_, e)| e.bytes().is_some_and(|b| advise(b, &ranges)))
        .count()
}

/// Resource usage of this process so far (`getrusage(RUSAGE_SELF)`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResourceUsage {
    /// User CPU time in seconds.
    pub user_seconds: f64,
    /// System CPU time in seconds.
    pub system_seconds: f64,
    /// Peak resident set size in KiB.
    pub max_rss_kib: u64,
}

/// This process' [`ResourceUsage`]; `None` when `getrusage` fails.
pub fn resource_usage() -> Option<ResourceUsage> {
    // SAFETY: an all-zero rusage is a valid value (a plain C struct); getrusage writes it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
        return None;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Some(ResourceUsage {
        user_seconds: secs(ru.ru_utime),
        system_seconds: secs(ru.ru_stime),
        max_rss_kib: u64::try_from(ru.ru_maxrss).unwrap_or(0),
    })
}

/// Give free heap memory of the allocator back to the system (glibc's `malloc_trim(0)`;
/// nothing elsewhere).
pub fn trim_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns unused memory of the allocator to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped_file(content: &[u8]) -> (tempfile::TempDir, crate::map::FileMap) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.pack");
        std::fs::write(&path, content).unwrap();
        let f = std::fs::File::open(&path).unwrap();
        let map = crate::map::FileMap::map(&f).unwrap();
        (dir, map)
    }

    #[test]
    fn coverage_needs_every_byte() {
        let r = [(0x1000, 0x3000), (0x3000, 0x5000), (0x6000, 0x7000)];
        assert!(covered(&r, 0x1000, 0x5000));
        assert!(covered(&r, 0x2000, 0x3000));
        assert!(!covered(&r, 0x4000, 0x7000), "hole at 0x5000");
        assert!(!covered(&r, 0x0, 0x2000));
    }

    #[test]
    #[cfg_attr(miri, ignore = "FFI")]
    fn released_file_pages_read_back_unchanged() {
        let content: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let (_dir, map) = mapped_file(&content);
        if cfg!(target_os = "linux") {
            assert!(
                release_file_pages(&map),
                "a read-only file mapping is advised"
            );
        }
        assert_eq!(&map[..], &content[..]);
    }

    #[test]
    #[cfg_attr(miri, ignore = "FFI")]
    fn heap_memory_is_never_advised() {
        let heap = vec![7u8; 1 << 20];
        assert!(!release_file_pages(&heap));
        assert!(heap.iter().all(|b| *b == 7));
        let owner = Arc::new(vec![9u8; 1 << 20]);
        let reg = register(owner.clone(), |v: &Vec<u8>| Some(&v[..]));
        assert!(reg.is_registered());
        let _ = release_registered();
        assert!(
            owner.iter().all(|b| *b == 9),
            "heap pages kept their content"
        );
        drop(reg);
        assert!(!is_registered_range(&owner));
    }

    #[test]
    #[cfg_attr(miri, ignore = "FFI")]
    fn registered_mappings_are_released_and_stay_readable() {
        let content: Vec<u8> = (0..600_000u32).map(|i| (i % 241) as u8).collect();
        let (_dir, map) = mapped_file(&content);
        let map = Arc::new(map);
        let reg = register(map.clone(), |m: &crate::map::FileMap| Some(&m[..]));
        assert!(is_registered_range(&map));
        if cfg!(target_os = "linux") {
            assert!(release_registered() >= 1);
        }
        assert_eq!(&map[..], &content[..]);
        drop(reg);
        assert!(
            !is_registered_range(&map),
            "dropping the registration removes it"
        );
    }

    #[test]
    #[cfg_attr(miri, ignore = "FFI")]
    fn page_size_usage_and_trim_answer() {
        assert!(page_size().is_power_of_two());
        let before = resource_usage().unwrap();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        let after = resource_usage().unwrap();
        assert!(after.user_seconds + after.system_seconds >= before.user_seconds);
        assert!(after.max_rss_kib > 0);
        trim_heap();
    }
}
