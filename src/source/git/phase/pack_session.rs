//! Phase 2: the pack session. [`PackSession`] owns the memory mappings of the repository's
//! pack files (opened on first use) and the page limiter that keeps their resident pages under
//! a budget while the scan runs.
//!
//! Memory safety: the limiter's watcher thread releases (`madvise`) the pages of the registered
//! pack mappings, so it must stop before the packs are unmapped. [`PackSession`]'s `Drop`
//! stops the limiter first; only then are its fields (and with them the mappings) dropped.

use std::cell::OnceCell;

use super::super::GitTuning;
use super::super::packs::PackSet;
use super::super::resident::PackPageLimiter;

/// The pack mappings of one scan and the page limiter watching them.
pub(crate) struct PackSession {
    /// Stopped by `Drop` (or [`PackSession::close`]) before `packs` is dropped.
    limiter: Option<PackPageLimiter>,
    /// Opened on first use ([`PackSession::packs`]); unmapped when the session drops.
    packs: OnceCell<PackSet>,
    /// A handle of the repository, to open the packs.
    repo: gix::Repository,
}

impl PackSession {
    /// Start a session on `repo`: the page limiter runs from now on (with the budget of
    /// `tuning`); no pack is mapped yet.
    pub(crate) fn open(repo: &gix::Repository, tuning: &GitTuning) -> PackSession {
        PackSession {
            limiter: Some(PackPageLimiter::start(repo, tuning.pack_resident_mb)),
            packs: OnceCell::new(),
            repo: repo.clone(),
        }
    }

    /// The pack set, mapped on first use with every pack's entry headers read on `pool` (so
    /// no thread of the pool ever waits for another to read them).
    pub(crate) fn packs(&self, pool: &rayon::ThreadPool) -> &PackSet {
        self.packs.get_or_init(|| {
            let set = PackSet::open(&self.repo);
            pool.install(|| {
                for p in set.packs() {
                    p.headers();
                }
            });
            set
        })
    }

    /// Whether the packs are mapped.
    #[cfg(test)]
    pub(crate) fn is_mapped(&self) -> bool {
        self.packs.get().is_some()
    }

    /// Whether the page limiter still runs.
    #[cfg(test)]
    pub(crate) fn is_limiting(&self) -> bool {
        self.limiter.is_some()
    }

    /// Stop the page limiter, then unmap the packs; returns how many times pages were
    /// released.
    pub(crate) fn close(mut self) -> u64 {
        self.stop_limiter()
    }

    fn stop_limiter(&mut self) -> u64 {
        self.limiter.take().map_or(0, PackPageLimiter::stop)
    }
}

impl Drop for PackSession {
    fn drop(&mut self) {
        // Before the fields drop: the watcher must not touch pages of unmapped packs.
        self.stop_limiter();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::git::revs;
    use crate::source::git::test_support::git;

    fn packed_repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path();
        git(p, &["init", "-q", "-b", "main"]);
        for i in 0..30 {
            std::fs::write(p.join("f"), format!("line {i}\n").repeat(200)).expect("write");
            git(p, &["add", "f"]);
            git(p, &["commit", "-q", "-m", &format!("c{i}")]);
        }
        git(p, &["gc", "-q"]);
        dir
    }

    #[test]
    fn packs_are_mapped_on_first_use_with_their_headers_read() {
        let dir = packed_repo();
        let repo = revs::open(dir.path()).expect("open");
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("pool");
        let session = PackSession::open(&repo, &GitTuning::default());
        assert!(!session.is_mapped());
        let set = session.packs(&pool);
        assert_eq!(set.packs().len(), 1);
        assert!(!set.packs()[0].offsets().is_empty());
        assert!(session.is_mapped());
        assert!(session.is_limiting() || !cfg!(target_os = "linux"));
        session.close();
    }

    #[test]
    fn dropping_a_session_stops_the_limiter_before_the_packs_unmap() {
        // A 1 MiB budget keeps the watcher releasing pages of the mapped packs all the time;
        // sessions dropped (not closed) while it runs must stop it first, or it would release
        // pages of unmapped memory.
        let dir = packed_repo();
        let repo = revs::open(dir.path()).expect("open");
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("pool");
        let tuning = GitTuning {
            pack_resident_mb: 1,
            ..GitTuning::default()
        };
        for _ in 0..20 {
            let session = PackSession::open(&repo, &tuning);
            let set = session.packs(&pool);
            assert!(!set.packs().is_empty());
            std::thread::sleep(std::time::Duration::from_millis(25));
            drop(session);
        }
        // The mappings are gone and the process still reads memory fine.
        assert!(
            crate::source::git::resident::file_resident_bytes().is_some()
                || !cfg!(target_os = "linux")
        );
    }

    #[test]
    fn close_returns_the_release_count_and_stops_the_limiter() {
        let dir = packed_repo();
        let repo = revs::open(dir.path()).expect("open");
        let session = PackSession::open(
            &repo,
            &GitTuning {
                pack_resident_mb: 0,
                ..GitTuning::default()
            },
        );
        // A zero budget starts no watcher: nothing is released.
        assert_eq!(session.close(), 0);
    }
}
