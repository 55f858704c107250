//! Enumerating the commits to scan: reachable from the tips, not from the hidden commits.
//!
//! [`walk`] uses gix's commit walk. Without a commit-graph file it reads every commit twice
//! (once for its time when a child queues it, once when it is taken), one after another: on
//! git.git 3 s on one core. [`walk_packed`] first reads every commit of the packs in parallel
//! (id, tree, parents, committer time), then runs the same walk in memory: the same queue
//! (a binary heap keyed by commit time, fed in the same order), so the same commits in the same
//! order. It declines (and the caller falls back to [`walk`]) wherever gix's walk would do
//! more: hidden commits, a shallow repository, replacement refs, or any commit it cannot read.

use std::collections::{BinaryHeap, HashMap, HashSet};
use std::path::Path;

use gix::ObjectId;
use gix::revision::walk::Sorting;
use gix::traverse::commit::simple::CommitTimeOrder;

use super::GitError;
use super::packs::PackSet;
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

/// A commit as the walk needs it.
#[derive(Debug, Clone)]
struct CommitInfo {
    tree: ObjectId,
    parents: Vec<ObjectId>,
    time: i64,
}

/// Parse a commit object's tree, parents and committer time as gix's walk does.
fn parse_commit(data: &[u8], hash: gix::hash::Kind) -> Option<CommitInfo> {
    use gix::objs::CommitRefIter;
    use gix::objs::commit::ref_iter::Token;
    // One pass: the tree first, the parents, then up to the committer (an error before it
    // fails the commit, as gix's `committer()` does).
    let mut tokens = CommitRefIter::from_bytes(data, hash);
    let tree = tokens.tree_id().ok()?;
    let mut parents = Vec::new();
    let time = loop {
        match tokens.next()? {
            Ok(Token::Parent { id }) => parents.push(id),
            Ok(Token::Committer { signature }) => break signature.seconds(),
            Ok(_) => {}
            Err(_) => return None,
        }
    };
    Some(CommitInfo {
        tree,
        parents,
        time,
    })
}

/// Every commit object of `packs` (whole or stored as a delta), read in delta order in
/// parallel.
fn packed_commits(packs: &PackSet, hash: gix::hash::Kind) -> HashMap<ObjectId, CommitInfo> {
    super::packs::commits(packs, &|_, data| parse_commit(data, hash))
        .into_iter()
        .filter_map(|(id, c)| Some((id, c?)))
        .collect()
}

/// A queued commit: ordered by commit time only, as gix's queue orders its items.
struct Queued {
    time: i64,
    id: ObjectId,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.time.cmp(&other.time)
    }
}

/// [`walk`] of all history of `sel.tips`, from commits read out of `packs` in parallel; also
/// each walked commit's root tree. `None` where gix's walk would differ or something cannot
/// be read: the caller then walks with [`walk`].
pub(crate) fn walk_packed(
    repo: &gix::Repository,
    packs: &PackSet,
    sel: &Selection,
) -> Option<(Vec<WalkedCommit>, HashMap<ObjectId, ObjectId>)> {
    if !sel.hidden.is_empty() || !matches!(repo.shallow_commits(), Ok(None)) {
        return None;
    }
    // With a commit-graph file gix's walk reads no objects (and takes its times from there).
    let info_dir = repo.objects.store_ref().path().join("info");
    if info_dir.join("commit-graph").exists() || info_dir.join("commit-graphs").exists() {
        return None;
    }
    let replacements = repo
        .references()
        .ok()?
        .prefixed("refs/replace/")
        .ok()?
        .next()
        .is_some();
    if replacements {
        return None;
    }
    let hash = repo.object_hash();
    let mut known = packed_commits(packs, hash);
    // Commits outside the packs (loose ones) are read by id.
    let mut buf = Vec::new();
    let mut info = |id: &ObjectId| -> Option<CommitInfo> {
        if let Some(c) = known.get(id) {
            return Some(c.clone());
        }
        let data = gix::objs::Find::try_find(&repo.objects, id, &mut buf).ok()??;
        if data.kind != gix::object::Kind::Commit {
            return None;
        }
        let c = parse_commit(data.data, hash)?;
        known.insert(*id, c.clone());
        Some(c)
    };
    // As gix: the tips, each once, queued in the order given; then the newest commit is taken
    // and each parent not seen before is queued with its commit time.
    let mut seen: HashSet<ObjectId> = HashSet::new();
    let mut queue: BinaryHeap<Queued> = BinaryHeap::new();
    for tip in &sel.tips {
        if seen.insert(*tip) {
            let c = info(tip)?;
            queue.push(Queued {
                time: c.time,
                id: *tip,
            });
        }
    }
    let mut out = Vec::new();
    let mut trees = HashMap::new();
    while let Some(Queued { time, id }) = queue.pop() {
        let c = info(&id)?;
        for parent in &c.parents {
            if seen.insert(*parent) {
                queue.push(Queued {
                    time: info(parent)?.time,
                    id: *parent,
                });
            }
        }
        trees.insert(id, c.tree);
        out.push(WalkedCommit {
            id,
            parents: c.parents,
            time,
        });
    }
    Some((out, trees))
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
        let out = std::process::Command::new("git")
            .current_dir(d)
            .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
            .args(["commit", "-q", "--allow-empty", "-m", &msg])
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_AUTHOR_DATE", &date)
            .output()
            .expect("run git");
        assert!(out.status.success());
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
