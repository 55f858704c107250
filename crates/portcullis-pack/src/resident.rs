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
//! Why this is safe: `portcullis_unsafe::memory` advises only ranges that `/proc/self/maps`
//! shows to be read-only file mappings, which its registry keeps mapped (it holds the pack's
//! data file while registered); a read-only mapping of an immutable pack file can never hold
//! private modifications, so `MADV_DONTNEED` makes the next access re-read the file's
//! (page-cached) bytes. Mappings of the same files made by other object stores of the process
//! (e.g. the gate's dependency audit) are never registered here. A failed `madvise` only
//! means the pages stay resident.
//!
//! The caller sets the budget (the CLI's default is 128 MiB; 0 disables the limiter). Only
//! Linux is supported; elsewhere the limiter does nothing.

use std::sync::Arc;

use gix::odb::pack;
use portcullis_unsafe::memory;

/// A pack's data mapping registered for the page limiter while this value lives (the
/// registry holds the data file meanwhile).
#[derive(Debug)]
pub struct OwnedMapping(memory::Registration);

/// The whole mapped data of a pack.
fn pack_bytes(data: &pack::data::File) -> Option<&[u8]> {
    data.entry_slice(0..data.pack_end() as u64)
}

impl OwnedMapping {
    /// Register the mapped data of `data`.
    pub fn register(data: &Arc<pack::data::File>) -> OwnedMapping {
        OwnedMapping(memory::register(Arc::clone(data), pack_bytes))
    }

    /// Whether the mapping is (still) registered.
    pub fn is_registered(&self) -> bool {
        self.0.is_registered()
    }
}

/// Drop this process' resident pages of the whole pages inside `bytes`, a part of a read-only
/// mapping of a pack file (anything else is left alone): for sweeps over the entry headers of
/// a whole pack, which map most of its pages within one interval of the limiter.
pub fn release_mapped(bytes: &[u8]) {
    memory::release_file_pages(bytes);
}

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
    /// Start limiting the pack pages this process owns while scanning `repo` to `budget_mb`
    /// MiB of file-backed resident memory (no-op when 0 or not on Linux).
    pub fn start(repo: &gix::Repository, budget_mb: u64) -> PackPageLimiter {
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
    u64::try_from(memory::page_size()).unwrap_or(4096)
}

/// Drop the resident pages of every registered [`OwnedMapping`]. Returns the number of
/// mappings advised.
fn release_owned_pages() -> usize {
    memory::release_registered()
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
    memory::resource_usage().map(|u| u.user_seconds + u.system_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::git;

    /// A repository with one pack of `files` files of `size` bytes each.
    fn packed_repo(files: usize, size: usize) -> (tempfile::TempDir, gix::Repository) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        git(dir.path(), &["init", "-q"]);
        for i in 0..files {
            let content: Vec<u8> = (0..size).map(|k| ((k * 7 + i * 13) % 251) as u8).collect();
            std::fs::write(dir.path().join(format!("f{i}")), content)
                .unwrap_or_else(|e| panic!("write: {e}"));
        }
        git(dir.path(), &["add", "."]);
        git(dir.path(), &["commit", "-q", "-m", "c"]);
        git(dir.path(), &["repack", "-adq", "--window=0"]);
        let repo = gix::open(dir.path()).unwrap_or_else(|e| panic!("open: {e}"));
        (dir, repo)
    }

    #[test]
    #[cfg_attr(miri, ignore = "runs git, memory-maps files and calls madvise")]
    fn released_pages_read_back_unchanged() {
        // A real pack's read-only mapping: release its pages and read it again.
        let (_dir, repo) = packed_repo(8, 200_000);
        let set = crate::packs::PackSet::open(&repo);
        let pack = set.packs().first().unwrap_or_else(|| panic!("a pack"));
        let end = pack.data().pack_end() as u64;
        let bytes = pack
            .data()
            .entry_slice(0..end)
            .unwrap_or_else(|| panic!("bytes"));
        let before: u64 = bytes.iter().map(|b| u64::from(*b)).sum();
        if cfg!(target_os = "linux") {
            assert!(release_owned_pages() >= 1, "the mapping was advised");
        }
        release_mapped(bytes);
        assert_eq!(bytes.iter().map(|b| u64::from(*b)).sum::<u64>(), before);
    }

    #[test]
    #[cfg_attr(miri, ignore = "runs git, memory-maps files and calls madvise")]
    fn the_watcher_advises_only_mappings_it_owns() {
        // A read-only mapping of the same pack that another object store made is never
        // registered; a pack set's own mapping is while the set lives.
        let (_dir, repo) = packed_repo(2, 50_000);
        let set = crate::packs::PackSet::open(&repo);
        let data = Arc::new(
            pack::data::File::at(set.packs()[0].data().path(), gix::hash::Kind::Sha1)
                .unwrap_or_else(|e| panic!("pack: {e}")),
        );
        let foreign = pack_bytes(&data).unwrap_or_else(|| panic!("bytes"));
        assert!(
            !memory::is_registered_range(foreign),
            "a foreign mapping is not registered"
        );
        let own = pack_bytes(set.packs()[0].data()).unwrap_or_else(|| panic!("bytes"));
        assert!(memory::is_registered_range(own));
        let registration = OwnedMapping::register(&data);
        assert!(registration.is_registered());
        drop(registration);
        assert!(
            !memory::is_registered_range(foreign),
            "dropping the registration removes it"
        );
    }
}
