//! Enumerating the commits to scan: reachable from the tips, not from the hidden commits.
//!
//! [`walk`] uses gix's commit walk; [`walk_packed`] runs the same walk in memory from the
//! commits of the packs ([`portcullis_pack::walk`]) and declines where it would differ.

use std::collections::HashMap;
use std::path::Path;

use gix::ObjectId;
use gix::revision::walk::Sorting;
use gix::traverse::commit::simple::CommitTimeOrder;

pub(crate) use portcullis_pack::walk::WalkedCommit;

use super::GitError;
use super::packs::PackSet;
use super::revs::Selection;

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

/// [`walk`] of all history of `sel.tips`, from commits read out of `packs` in parallel; also
/// each walked commit's root tree. `None` where gix's walk would differ or something cannot
/// be read: the caller then walks with [`walk`].
pub(crate) fn walk_packed(
    repo: &gix::Repository,
    packs: &PackSet,
    sel: &Selection,
) -> Option<(Vec<WalkedCommit>, HashMap<ObjectId, ObjectId>)> {
    portcullis_pack::walk::walk_packed(repo, packs, &sel.tips, &sel.hidden)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::source::git::test_support::git;

    /// `git commit` with a fixed commit time (many commits share one, so the queue's order
    /// among equal times matters).
    fn commit_at(d: &Path, msg: &str, time: u32) {
        let date = format!("{} +0000", 1_600_000_000 + time);
        // A long body shared by all commits, so that `git repack -f` stores many of them as
        // deltas.
        let body: String = (0..60).map(|k| format!("shared body line {k}\n")).collect();
        let msg = format!("{msg}\n\n{body}");
        portcullis_pack::testing::run(
            portcullis_pack::testing::git_command(d)
                .args(["commit", "-q", "--allow-empty", "-m", &msg])
                .env("GIT_COMMITTER_DATE", &date)
                .env("GIT_AUTHOR_DATE", &date),
        );
    }

    fn all_tips(d: &Path) -> Selection {
        let repo = gix::open(d).expect("open");
        let (mut w, mut e) = (Vec::new(), Vec::new());
        Selection {
            tips: super::super::revs::all_refs(&repo, d, &mut w, &mut e).expect("refs"),
            hidden: Vec::new(),
        }
    }

    /// Branches and merges with many equal commit times, some commits packed and some loose:
    /// the in-memory walk yields gix's commits in gix's order, with their root trees.
    #[test]
    fn packed_walk_equals_gix_walk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        for i in 0..40u32 {
            std::fs::write(d.join("f.txt"), format!("{i}\n")).expect("write");
            git(d, &["add", "-A"]);
            commit_at(d, &format!("main {i}"), i / 4);
            if i % 10 == 5 {
                let b = format!("b{i}");
                git(d, &["checkout", "-q", "-b", &b]);
                for j in 0..3 {
                    commit_at(d, &format!("{b} {j}"), i / 4);
                }
                git(d, &["checkout", "-q", "main"]);
                if i % 20 == 5 {
                    git(d, &["merge", "-q", "--no-ff", "--no-edit", &b]);
                }
            }
        }
        git(d, &["repack", "-adfq", "--window=250", "--depth=50"]);
        let pack = std::fs::read_dir(d.join(".git/objects/pack"))
            .expect("pack dir")
            .map(|e| e.expect("entry").path())
            .find(|p| p.extension().is_some_and(|x| x == "idx"))
            .expect("idx");
        let listing = git(d, &["verify-pack", "-v", pack.to_str().expect("path")]);
        let delta_commits = listing
            .lines()
            .filter(|l| l.split_whitespace().nth(1) == Some("commit"))
            .filter(|l| l.split_whitespace().count() >= 7)
            .count();
        assert!(
            delta_commits > 10,
            "{delta_commits} commits stored as deltas"
        );
        for i in 0..5u32 {
            commit_at(d, &format!("loose {i}"), 20);
        }
        let sel = all_tips(d);
        let repo = gix::open(d).expect("open");
        let packs = PackSet::open(&repo);
        let gix_walk = walk(&repo, d, &sel).expect("walk");
        let (packed, trees) = walk_packed(&repo, &packs, &sel).expect("packed walk");
        assert!(gix_walk.len() > 50);
        assert_eq!(packed.len(), gix_walk.len());
        for (a, b) in packed.iter().zip(&gix_walk) {
            assert_eq!((a.id, &a.parents, a.time), (b.id, &b.parents, b.time));
            let tree = repo
                .find_commit(a.id)
                .expect("commit")
                .tree_id()
                .expect("tree")
                .detach();
            assert_eq!(trees.get(&a.id), Some(&tree));
        }
    }

    /// Where gix's walk would do more than the in-memory walk, it declines.
    #[test]
    fn packed_walk_declines_hidden_commits_and_commit_graphs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        for i in 0..3u32 {
            commit_at(d, &format!("c{i}"), i);
        }
        git(d, &["repack", "-adq"]);
        let repo = gix::open(d).expect("open");
        let packs = PackSet::open(&repo);
        let mut sel = all_tips(d);
        assert!(walk_packed(&repo, &packs, &sel).is_some());
        sel.hidden = sel.tips.clone();
        assert!(walk_packed(&repo, &packs, &sel).is_none());
        sel.hidden.clear();
        git(d, &["commit-graph", "write", "--reachable"]);
        assert!(walk_packed(&repo, &packs, &sel).is_none());
    }
}
