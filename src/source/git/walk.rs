//! Enumerating the commits to scan: reachable from the tips, not from the hidden commits.

use std::path::Path;

use gix::ObjectId;
use gix::revision::walk::Sorting;
use gix::traverse::commit::simple::CommitTimeOrder;

use super::GitError;
use super::revs::Selection;

/// One commit of the walk: its id, parents and commit time.
#[derive(Debug, Clone)]
pub(crate) struct WalkedCommit {
    pub id: ObjectId,
    pub parents: Vec<ObjectId>,
    pub time: i64,
}

/// All commits selected by `sel`, newest first (by commit time), each once.
pub(crate) fn walk(
    repo: &gix::Repository,
    path: &Path,
    sel: &Selection,
) -> Result<Vec<WalkedCommit>, GitError> {
    walk_feeding(repo, path, sel, None)
}

/// [`walk`], also sending the ids of the commits walked so far to `feed`, in batches, so that
/// another thread can read them while the walk goes on.
pub(crate) fn walk_feeding(
    repo: &gix::Repository,
    path: &Path,
    sel: &Selection,
    feed: Option<std::sync::mpsc::Sender<Vec<ObjectId>>>,
) -> Result<Vec<WalkedCommit>, GitError> {
    const BATCH: usize = 1024;
    if sel.tips.is_empty() {
        return Ok(Vec::new());
    }
    let err = |e: &dyn std::fmt::Display| GitError::Walk {
        repo: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut platform = repo
        .rev_walk(sel.tips.iter().copied())
        .sorting(Sorting::ByCommitTime(CommitTimeOrder::NewestFirst));
    if !sel.hidden.is_empty() {
        platform = platform.with_hidden(sel.hidden.iter().copied());
    }
    let walk = platform.all().map_err(|e| err(&e))?;
    let mut out = Vec::new();
    let mut batch = Vec::new();
    for info in walk {
        let info = info.map_err(|e| err(&e))?;
        if let Some(feed) = &feed {
            batch.push(info.id);
            if batch.len() == BATCH {
                // A closed receiver only means nobody reads ahead.
                let _ = feed.send(std::mem::take(&mut batch));
            }
        }
        out.push(WalkedCommit {
            id: info.id,
            parents: info.parent_ids.iter().copied().collect(),
            time: info.commit_time.unwrap_or(0),
        });
    }
    if let Some(feed) = &feed
        && !batch.is_empty()
    {
        let _ = feed.send(batch);
    }
    Ok(out)
}
