//! Phase 3: the commits of the selection, newest first, and the shallow boundary. When the
//! whole history of the tips is scanned (and the pack passes are worth it), the commits are
//! read out of the packs in parallel and the tree store loads on another thread meanwhile;
//! otherwise gix walks the commits (a third thread reads their root trees as they come).

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use gix::ObjectId;

use super::super::revs::Selection;
use super::super::trees::TreeStore;
use super::super::walk::{self, WalkedCommit};
use super::super::{GitError, PackPasses, changes};
use super::pack_session::PackSession;
use super::{Clock, Setup, memory};

/// What the walk produced.
pub(crate) struct Walked<'s> {
    /// The commits, newest first.
    pub commits: Vec<WalkedCommit>,
    /// The tree store, when the pack passes are worth it.
    pub store: Option<TreeStore<'s>>,
    /// Each commit's root tree, when read while walking.
    pub tree_ids: Option<HashMap<ObjectId, ObjectId>>,
    /// Commits at the shallow boundary of the repository.
    pub shallow: HashSet<ObjectId>,
}

/// Walk the commits of `sel`, loading the tree store from `session` when worth it; a shallow
/// boundary in the walk adds a warning.
pub(crate) fn walk_commits<'s>(
    repo: &gix::Repository,
    sel: &Selection,
    session: &'s PackSession,
    setup: &Setup<'_>,
    clock: &mut Clock,
    warnings: &mut Vec<String>,
) -> Result<Walked<'s>, GitError> {
    let passes = setup.tuning.pack_passes;
    let early = match passes {
        PackPasses::Always => true,
        PackPasses::Never => false,
        // All history of the tips: the tree store loads while the commits are walked.
        PackPasses::Auto => sel.hidden.is_empty(),
    };
    let (commits, mut store, tree_ids) = if early {
        walk_with_store(repo, sel, session, setup, clock)?
    } else {
        (walk::walk(repo, setup.path, sel)?, None, None)
    };
    clock.lap("walk", format!("{} commits; {}", commits.len(), memory()));
    let shallow = shallow_commits(repo);
    if let Some(w) = shallow_warning(&commits, &shallow) {
        warnings.push(w);
    }
    if store.is_none() && passes.worth_it(commits.len()) {
        let packs = session.packs(&setup.pool);
        store = Some(setup.on_pool("tree store", || TreeStore::load(packs))?);
    }
    clock.lap(
        "tree store",
        format!(
            "{} MB; {}",
            store.as_ref().map_or(0, |s| s.bytes() >> 20),
            memory()
        ),
    );
    Ok(Walked {
        commits,
        store,
        tree_ids,
        shallow,
    })
}

type WalkParts<'s> = (
    Vec<WalkedCommit>,
    Option<TreeStore<'s>>,
    Option<HashMap<ObjectId, ObjectId>>,
);

/// The walk with the tree store loading alongside: from the packs' commits in memory when
/// [`walk::walk_packed`] accepts the selection, else gix's walk feeding a root-tree reader.
fn walk_with_store<'s>(
    repo: &gix::Repository,
    sel: &Selection,
    session: &'s PackSession,
    setup: &Setup<'_>,
    clock: &mut Clock,
) -> Result<WalkParts<'s>, GitError> {
    let packs = session.packs(&setup.pool);
    let t0 = Instant::now();
    let (walked, loaded) = std::thread::scope(|scope| {
        let loader = scope.spawn(|| {
            let store = setup.on_pool("tree store", || TreeStore::load(packs));
            (store, t0.elapsed())
        });
        let walk_repo = repo.clone();
        let walked = setup
            .on_pool("walk", move || walk::walk_packed(&walk_repo, packs, sel))
            .and_then(|packed| match packed {
                Some((walked, trees)) => Ok((walked, Some(trees))),
                // The in-memory walk declines (hidden commits, a commit graph, replacement
                // refs, an unreadable commit): gix walks, feeding a root-tree reader.
                None => {
                    let (feed, batches) = std::sync::mpsc::channel::<Vec<ObjectId>>();
                    let reader_repo = repo.clone();
                    let reader = scope.spawn(move || changes::read_tree_ids(&reader_repo, batches));
                    let walked = walk::walk_feeding(repo, setup.path, sel, Some(feed));
                    let trees = reader.join().map_err(|p| GitError::Panic {
                        repo: setup.path.to_path_buf(),
                        phase: "walk",
                        message: super::panic_message(p.as_ref()),
                    })?;
                    Ok((walked?, Some(trees)))
                }
            });
        let loaded = loader.join().map_err(|p| GitError::Panic {
            repo: setup.path.to_path_buf(),
            phase: "tree store",
            message: super::panic_message(p.as_ref()),
        });
        (walked, loaded)
    });
    let (store, at) = loaded?;
    let store = store?;
    let (commits, trees) = walked?;
    clock.record(crate::source::git::PhaseTiming {
        phase: "tree store loaded",
        elapsed: at,
        detail: format!("{} MB, alongside the walk", store.bytes() >> 20),
    });
    Ok((commits, Some(store), trees))
}

/// The commits at the shallow boundary of `repo` (none in a complete clone).
fn shallow_commits(repo: &gix::Repository) -> HashSet<ObjectId> {
    match repo.shallow_commits() {
        Ok(Some(list)) => list.iter().copied().collect(),
        _ => HashSet::new(),
    }
}

/// The warning for a walk that reaches the shallow boundary, if it does.
pub(crate) fn shallow_warning(
    commits: &[WalkedCommit],
    shallow: &HashSet<ObjectId>,
) -> Option<String> {
    let at_boundary: Vec<_> = commits.iter().filter(|c| shallow.contains(&c.id)).collect();
    let first = at_boundary.first()?;
    Some(format!(
        "shallow clone: the scanned history reaches the shallow boundary at {} commit(s) (e.g. {}); \
         their parents are not available, so every line of those commits is scanned as added \
         and older history is not scanned (fetch with --unshallow for a complete scan)",
        at_boundary.len(),
        first.id
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit(byte: u8) -> WalkedCommit {
        WalkedCommit {
            id: ObjectId::from_bytes_or_panic(&[byte; 20]),
            parents: Vec::new(),
            time: 0,
        }
    }

    #[test]
    fn a_walk_reaching_the_shallow_boundary_is_warned_about() {
        let commits = [commit(1), commit(2), commit(3)];
        let shallow = HashSet::from([commits[2].id]);
        let w = shallow_warning(&commits, &shallow).expect("warning");
        assert!(w.contains("1 commit(s)"), "{w}");
        assert!(w.contains(&commits[2].id.to_string()), "{w}");
        assert!(shallow_warning(&commits[..2], &shallow).is_none());
    }
}
