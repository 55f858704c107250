//! The commit walk in memory: the commits reachable from some tips, newest first.
//!
//! gix's commit walk, without a commit-graph file, reads every commit twice (once for its time
//! when a child queues it, once when it is taken), one after another: on git.git 3 s on one
//! core. [`walk_packed`] first reads every commit of the packs in parallel (id, tree, parents,
//! committer time), then runs the same walk in memory: the same queue (a binary heap keyed by
//! commit time, fed in the same order), so the same commits in the same order. It declines
//! (and the caller walks with gix) wherever gix's walk would do more: hidden commits, a
//! shallow repository, replacement refs, or any commit it cannot read.

use std::collections::{BinaryHeap, HashMap, HashSet};

use gix::ObjectId;

use crate::packs::PackSet;

/// One commit of the walk: its id, parents and commit time.
#[derive(Debug, Clone)]
pub struct WalkedCommit {
    /// The commit's id.
    pub id: ObjectId,
    /// Its parents, in the order the commit lists them.
    pub parents: Vec<ObjectId>,
    /// Its committer time (seconds since the epoch).
    pub time: i64,
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
    crate::packs::commits(packs, &|_, data| parse_commit(data, hash))
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

/// gix's commit walk (newest first by commit time) of all history of `tips`, not of `hidden`,
/// from commits read out of `packs` in parallel; also each walked commit's root tree. `None`
/// where gix's walk would differ or something cannot be read (the caller then walks with
/// gix): hidden commits, a shallow repository, a commit-graph file, replacement refs.
pub fn walk_packed(
    repo: &gix::Repository,
    packs: &PackSet,
    tips: &[ObjectId],
    hidden: &[ObjectId],
) -> Option<(Vec<WalkedCommit>, HashMap<ObjectId, ObjectId>)> {
    if !hidden.is_empty() || !matches!(repo.shallow_commits(), Ok(None)) {
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
    for tip in tips {
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
