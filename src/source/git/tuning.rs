//! Performance knobs of a git scan ([`GitTuning`]) and the timings a scan reports
//! ([`PhaseTiming`]). The library reads no environment variable: callers (the CLI) fill these.

use std::time::Duration;

/// When the whole-pack passes run (the tree store of every pack's trees, the delta-order
/// pass over the blobs): reading every entry of a pack pays off only when a scan touches a
/// large part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PackPasses {
    /// From [`PackPasses::AUTO_MIN`] commits (tree store) or distinct blobs (delta-order
    /// pass); the tree store also loads while the commits are walked when every ref's whole
    /// history is scanned.
    #[default]
    Auto,
    /// Always run them.
    Always,
    /// Never run them: every object is read by id.
    Never,
}

impl PackPasses {
    /// Commits (tree store) or distinct blobs (delta-order pass) from which `Auto` runs a
    /// pass.
    pub const AUTO_MIN: usize = 5_000;

    /// Whether a pass over `n` commits or blobs should run.
    pub fn worth_it(self, n: usize) -> bool {
        match self {
            PackPasses::Always => true,
            PackPasses::Never => false,
            PackPasses::Auto => n >= Self::AUTO_MIN,
        }
    }
}

/// Cache sizes, budgets and pass choices of a git scan. The defaults are the measured best on
/// large histories; change them to trade memory for time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitTuning {
    /// Delta-base cache per thread of the blob phase, in MiB (0 = gix's small default).
    pub pack_cache_mb: usize,
    /// Delta-base cache per thread of the lazy rename diffs, in MiB (0 = gix's default).
    pub rename_pack_cache_mb: usize,
    /// Resolved trees kept per thread of the tree diffs, in MiB.
    pub tree_cache_mb: usize,
    /// Delta-base cache per thread of the tree diffs when trees are read by id, in MiB (0 =
    /// gix's default).
    pub tree_pack_cache_mb: usize,
    /// File-backed resident memory of the pack mappings above which their pages are released
    /// to the system while the scan runs, in MiB (0 = never release; Linux only).
    pub pack_resident_mb: u64,
    /// When the whole-pack passes run.
    pub pack_passes: PackPasses,
    /// Give the heap freed by the tree diffs back to the system before the blob phase
    /// (`malloc_trim`, glibc only).
    pub release_free_heap: bool,
}

impl Default for GitTuning {
    fn default() -> Self {
        GitTuning {
            pack_cache_mb: 32,
            rename_pack_cache_mb: 0,
            tree_cache_mb: 16,
            tree_pack_cache_mb: 32,
            pack_resident_mb: 128,
            pack_passes: PackPasses::Auto,
            release_free_heap: true,
        }
    }
}

/// How long one phase of a scan took, with what it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhaseTiming {
    /// The phase: `select commits`, `walk`, `tree store loaded` (alongside the walk),
    /// `tree store`, `tree diffs`, `group` (alongside the delta-order pass), `settle blobs`,
    /// `jobs`, `finish`; `files` for index and work-tree scans.
    pub phase: &'static str,
    /// Wall time of the phase.
    pub elapsed: Duration,
    /// What it did (counts, memory), for people reading timings.
    pub detail: String,
}

impl std::fmt::Display for PhaseTiming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}", self.phase, self.elapsed)?;
        if !self.detail.is_empty() {
            write!(f, " ({})", self.detail)?;
        }
        Ok(())
    }
}

/// A memory-capped delta-base cache of `mb` MiB per thread (gix's default keeps 64 small
/// entries), so delta chains of successive object versions are not re-inflated from their
/// base each time (0 = gix's default cache).
pub(crate) fn set_pack_cache(repo: &mut gix::Repository, mb: usize) {
    if mb > 0 {
        repo.objects.set_pack_cache(move || {
            Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
                mb << 20,
            ))
        });
    }
}
