//! Phase 4: the file changes of every walked commit against its parents, diffed in parallel
//! on the scan's pool (from the tree store when it is loaded, else reading trees by id).

use super::super::GitError;
use super::super::changes::{self, Change};
use super::walk_commits::Walked;
use super::{Clock, Setup, memory};
use crate::source::progress::Progress;

/// The changes of the walked commits.
pub(crate) struct Diffed {
    /// One per commit and changed path.
    pub changes: Vec<Change>,
    /// Trees that could not be read (object id, commit).
    pub errors: Vec<crate::source::ScanError>,
    /// Submodule (gitlink) entries skipped.
    pub submodules_skipped: u64,
}

/// Diff the trees of `walked.commits`; the tree store is dropped afterwards.
pub(crate) fn diff_trees(
    ts: &gix::ThreadSafeRepository,
    walked: Walked<'_>,
    setup: &Setup<'_>,
    progress: &Progress,
    clock: &mut Clock,
) -> Result<(Diffed, Vec<super::super::walk::WalkedCommit>), GitError> {
    let Walked {
        commits,
        store,
        tree_ids,
        shallow,
    } = walked;
    let (changes, errors, counts) = setup.on_pool("tree diffs", || {
        changes::collect(
            ts,
            &commits,
            &shallow,
            store.as_ref(),
            tree_ids,
            progress,
            &setup.tuning,
        )
    })?;
    drop(store);
    clock.lap(
        "tree diffs",
        format!("{} changes; {}", changes.len(), memory()),
    );
    Ok((
        Diffed {
            changes,
            errors,
            submodules_skipped: counts.submodules,
        },
        commits,
    ))
}
