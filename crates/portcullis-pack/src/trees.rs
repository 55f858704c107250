//! Tree objects served from memory during the tree-diff phase.
//!
//! Trees are small and deeply delta-chained (git.git: 382k trees, 5.8 GB of content, stored as
//! 341k deltas of up to 50 levels in only 83 MB of inflated pack entries). Reading them by id
//! through gix re-inflated the same delta entries for every chain resolution: about 7 s of
//! CPU per full-history scan of git.git went into zlib. [`TreeStore::load`] inflates every
//! tree entry of every pack once, into memory; [`TreeFinder`] then resolves a tree by applying
//! its chain of deltas from the nearest resolved version it still holds (each resolved version
//! is kept, up to a memory budget, so the chains of successive versions share their work).
//!
//! Anything the store does not hold or cannot resolve (loose objects, other object kinds, a
//! damaged entry) is read through the repository's object database as before, so errors are
//! still reported by the usual path.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

use gix::objs::{Data, Find, FindHeader};
use gix::prelude::FindExt;
use rayon::prelude::*;

use crate::delta::apply_delta;
use crate::packs::{Kind, PackSet};

/// No base (a whole object).
const NONE: u32 = u32::MAX;
/// Largest inflated tree entry the store holds (64 MiB; git.git's largest is under 64 KiB).
const MAX_TREE_ENTRY: usize = 64 << 20;
/// A delta whose base the store does not hold: read by id instead.
const BROKEN: u32 = u32::MAX - 1;

/// The inflated tree entries of one pack.
struct TreePack {
    /// Pack offsets of the tree entries, ascending.
    offsets: Vec<u64>,
    /// For each entry: where its inflated bytes are (`chunk`, start, length).
    spans: Vec<(u32, u32, u32)>,
    /// For each entry: the index of its delta base, [`NONE`] for a whole tree, [`BROKEN`].
    bases: Vec<u32>,
    chunks: Vec<Vec<u8>>,
}

/// The inflated tree entries of every pack of a repository.
pub struct TreeStore<'p> {
    /// Where the object ids are looked up.
    packs: &'p PackSet,
    trees: Vec<TreePack>,
}

impl TreeStore<'_> {
    /// Inflate the tree entries of every pack in `packs` (in parallel). A pack whose entries
    /// cannot all be read holds what could be read; the rest is read by id.
    pub fn load(packs: &PackSet) -> TreeStore<'_> {
        let trees = packs.packs().iter().map(tree_entries).collect();
        TreeStore { packs, trees }
    }

    /// Bytes of inflated entries held.
    pub fn bytes(&self) -> usize {
        self.trees
            .iter()
            .flat_map(|t| t.chunks.iter())
            .map(Vec::len)
            .sum()
    }

    /// `(pack, entry)` of the tree entry of `id`, if the store holds it.
    fn locate(&self, id: &gix::oid) -> Option<(usize, u32)> {
        for (i, (p, t)) in self.packs.packs().iter().zip(&self.trees).enumerate() {
            if let Some(at) = p.offset_of(id) {
                return t
                    .offsets
                    .binary_search(&at)
                    .ok()
                    .and_then(|e| u32::try_from(e).ok())
                    .map(|e| (i, e));
            }
        }
        None
    }
}

/// The tree entries of `p`, inflated.
fn tree_entries(p: &crate::packs::Pack) -> TreePack {
    let offsets = p.offsets();
    let headers = p.headers();
    // Per sorted position: whether the entry is a tree, and its delta base's position. A delta
    // has its base's kind; a base later in the pack (possible only for a reference delta)
    // leaves the entry to be read by id.
    let mut is_tree = vec![false; offsets.len()];
    let mut base_at: Vec<Option<usize>> = vec![None; offsets.len()];
    for i in 0..offsets.len() {
        match headers.base[i] {
            crate::packs::NONE => is_tree[i] = headers.kind[i] == Some(Kind::Tree),
            b if (b as usize) < i => {
                is_tree[i] = is_tree[b as usize];
                base_at[i] = Some(b as usize);
            }
            _ => {}
        }
    }
    let tree_pos: Vec<usize> = (0..offsets.len()).filter(|&i| is_tree[i]).collect();
    // Inflate in parallel, in chunks of entries.
    const CHUNK: usize = 4096;
    // Per chunk: its bytes and each entry's `(start, length)` in them.
    type Inflated = (Vec<u8>, Vec<(u32, u32)>);
    let inflated: Vec<Inflated> = tree_pos
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut buf = Vec::new();
            let mut spans = Vec::with_capacity(chunk.len());
            for &i in chunk {
                let start = buf.len();
                // Sizes come from the pack: an entry claiming more than a tree could ever hold
                // (or more than the chunk can index) is left to be read by id.
                let limit = MAX_TREE_ENTRY.min((u32::MAX as usize).saturating_sub(start));
                let ok = p
                    .data()
                    .entry(offsets[i])
                    .is_ok_and(|e| p.inflate_entry(&e, limit, &mut buf).is_some());
                if ok {
                    spans.push((start as u32, (buf.len() - start) as u32));
                } else {
                    buf.truncate(start);
                    spans.push((0, u32::MAX));
                }
            }
            (buf, spans)
        })
        .collect();
    let mut spans = Vec::with_capacity(tree_pos.len());
    let mut chunks = Vec::with_capacity(inflated.len());
    for (c, (buf, s)) in inflated.into_iter().enumerate() {
        let c = u32::try_from(c).unwrap_or(NONE);
        spans.extend(s.into_iter().map(|(start, len)| (c, start, len)));
        chunks.push(buf);
    }
    // A tree delta's base is a tree, so it is among `tree_pos`.
    let bases = tree_pos
        .iter()
        .map(|&i| match base_at[i] {
            None => NONE,
            Some(b) => tree_pos
                .binary_search(&b)
                .ok()
                .and_then(|e| u32::try_from(e).ok())
                .unwrap_or(BROKEN),
        })
        .collect();
    TreePack {
        offsets: tree_pos.iter().map(|&i| offsets[i]).collect(),
        spans,
        bases,
        chunks,
    }
}

impl TreePack {
    /// The inflated bytes of entry `e` (`None` when they could not be read).
    fn raw(&self, e: u32) -> Option<&[u8]> {
        let &(c, start, len) = self.spans.get(e as usize)?;
        if len == u32::MAX {
            return None;
        }
        self.chunks
            .get(c as usize)?
            .get(start as usize..start as usize + len as usize)
    }

    /// What entry `e` is: `Ok(None)` a whole tree, `Ok(Some(base))` a delta, `Err(())` a
    /// delta without a usable base.
    fn base(&self, e: u32) -> Result<Option<u32>, ()> {
        match self.bases.get(e as usize) {
            Some(&NONE) => Ok(None),
            Some(&BROKEN) | None => Err(()),
            Some(&b) => Ok(Some(b)),
        }
    }
}

/// Resolved trees kept by one thread: `(pack, entry)` → bytes, evicted oldest first beyond a
/// memory budget.
struct Resolved {
    map: HashMap<(usize, u32), Rc<Vec<u8>>>,
    order: VecDeque<(usize, u32)>,
    bytes: usize,
    budget: usize,
}

impl Resolved {
    fn get(&self, k: (usize, u32)) -> Option<Rc<Vec<u8>>> {
        self.map.get(&k).cloned()
    }

    fn put(&mut self, k: (usize, u32), v: Rc<Vec<u8>>) {
        self.bytes += v.len();
        if self.map.insert(k, v).is_none() {
            self.order.push_back(k);
        }
        while self.bytes > self.budget {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some(v) = self.map.remove(&old) {
                self.bytes -= v.len();
            }
        }
    }
}

/// Tree lookups of one thread: trees from a [`TreeStore`] with the resolved versions this
/// thread keeps. Combine with an object database in [`WithOdb`].
pub struct TreeFinder<'s> {
    store: Option<&'s TreeStore<'s>>,
    resolved: RefCell<Resolved>,
}

impl<'s> TreeFinder<'s> {
    /// A finder over `store` (none: every read goes to the odb), keeping up to `budget` bytes
    /// of resolved trees.
    pub fn new(store: Option<&'s TreeStore<'s>>, budget: usize) -> TreeFinder<'s> {
        TreeFinder {
            store,
            resolved: RefCell::new(Resolved {
                map: HashMap::new(),
                order: VecDeque::new(),
                bytes: 0,
                budget,
            }),
        }
    }

    /// The tree `id` resolved from the store, or `None` to read it from the odb.
    fn stored(&self, id: &gix::oid) -> Option<Rc<Vec<u8>>> {
        let store = self.store?;
        let (pi, e) = store.locate(id)?;
        let tp = &store.trees[pi];
        let mut resolved = self.resolved.borrow_mut();
        if let Some(v) = resolved.get((pi, e)) {
            return Some(v);
        }
        // Walk down the chain to a resolved version or a whole tree.
        let mut chain = vec![e];
        let mut cur = e;
        let mut start: Rc<Vec<u8>> = loop {
            match tp.base(cur).ok()? {
                None => {
                    let raw = tp.raw(cur)?;
                    chain.pop();
                    break Rc::new(raw.to_vec());
                }
                Some(b) => {
                    if let Some(v) = resolved.get((pi, b)) {
                        break v;
                    }
                    if chain.len() > 10_000 {
                        return None;
                    }
                    chain.push(b);
                    cur = b;
                }
            }
        };
        if tp.base(cur) == Ok(None) {
            // A whole tree at the bottom (maybe `e` itself) is worth keeping too.
            resolved.put((pi, cur), Rc::clone(&start));
        }
        while let Some(d) = chain.pop() {
            let next = Rc::new(apply_delta(&start, tp.raw(d)?)?);
            resolved.put((pi, d), Rc::clone(&next));
            start = next;
        }
        Some(start)
    }
}

/// Where the tree entry starting at `at` in `tree` ends (after its NUL-terminated mode and
/// name and its `hash_len`-byte id); `None` when it is truncated.
pub fn entry_end(tree: &[u8], at: usize, hash_len: usize) -> Option<usize> {
    let nul = tree.get(at..)?.iter().position(|&b| b == 0)?;
    let end = at.checked_add(nul)?.checked_add(1)?.checked_add(hash_len)?;
    (end <= tree.len()).then_some(end)
}

/// A tree entry that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeEntryError {
    /// The entry's name or id runs past the end of the tree.
    Truncated {
        /// Where the entry starts.
        at: usize,
    },
    /// The entry's mode or name is malformed.
    Malformed {
        /// Where the entry starts.
        at: usize,
        /// What gix's decoder says.
        message: String,
    },
}

impl std::fmt::Display for TreeEntryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TreeEntryError::Truncated { at } => write!(f, "a tree entry is truncated at byte {at}"),
            TreeEntryError::Malformed { at, message } => {
                write!(f, "a tree entry cannot be decoded at byte {at}: {message}")
            }
        }
    }
}

impl std::error::Error for TreeEntryError {}

/// The tree entry starting at `at` in `tree` (a tree object's bytes) and where it ends;
/// `Ok(None)` at the end of the tree.
pub fn parse_tree_entry(
    tree: &[u8],
    at: usize,
    kind: gix::hash::Kind,
) -> Result<Option<(gix::objs::tree::EntryRef<'_>, usize)>, TreeEntryError> {
    if at >= tree.len() {
        return Ok(None);
    }
    let end = entry_end(tree, at, kind.len_in_bytes()).ok_or(TreeEntryError::Truncated { at })?;
    match gix::objs::TreeRefIter::from_bytes(&tree[at..end], kind).next() {
        Some(Ok(e)) => Ok(Some((e, end))),
        Some(Err(e)) => Err(TreeEntryError::Malformed {
            at,
            message: e.to_string(),
        }),
        None => Err(TreeEntryError::Malformed {
            at,
            message: "no entry".into(),
        }),
    }
}

/// Every entry of the tree object `tree`, in order; the first error ends the list.
pub fn parse_tree_entries(
    tree: &[u8],
    kind: gix::hash::Kind,
) -> Result<Vec<gix::objs::tree::EntryRef<'_>>, TreeEntryError> {
    let mut at = 0;
    let mut out = Vec::new();
    while let Some((e, end)) = parse_tree_entry(tree, at, kind)? {
        out.push(e);
        at = end;
    }
    Ok(out)
}

/// An object finder: trees from `trees`, everything else (and anything the store cannot
/// resolve) from `odb`.
pub struct WithOdb<'a, 's> {
    /// The tree lookups.
    pub trees: &'a TreeFinder<'s>,
    /// The fallback.
    pub odb: &'a gix::OdbHandle,
}

impl Find for WithOdb<'_, '_> {
    fn try_find<'a>(
        &self,
        id: &gix::oid,
        buffer: &'a mut Vec<u8>,
    ) -> gix::Result<Option<Data<'a>>> {
        if let Some(bytes) = self.trees.stored(id) {
            buffer.clear();
            buffer.extend_from_slice(&bytes);
            return Ok(Some(Data {
                kind: gix::object::Kind::Tree,
                object_hash: id.kind(),
                data: buffer,
            }));
        }
        self.odb.try_find(id, buffer)
    }
}

impl FindHeader for WithOdb<'_, '_> {
    fn try_header(&self, id: &gix::oid) -> gix::Result<Option<gix::objs::Header>> {
        self.odb.try_header(id)
    }
}

impl WithOdb<'_, '_> {
    /// The bytes of tree `id`, shared with the resolved-tree cache when it holds them.
    pub fn tree_rc(&self, id: &gix::oid) -> Result<Rc<Vec<u8>>, gix::Error> {
        if let Some(bytes) = self.trees.stored(id) {
            return Ok(bytes);
        }
        self.tree(id).map(Rc::new)
    }

    /// The bytes of tree `id`.
    pub fn tree(&self, id: &gix::oid) -> Result<Vec<u8>, gix::Error> {
        let mut buf = Vec::new();
        self.find_tree_iter(id, &mut buf)?;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::git;

    /// Every tree of a repository packed with deep delta chains reads the same from the store
    /// as from gix, and the store (not the fallback) serves the packed ones.
    #[test]
    #[cfg_attr(miri, ignore = "runs git and memory-maps packs")]
    fn store_resolves_every_packed_tree_like_gix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        for i in 0..60 {
            for j in 0..(i % 7 + 1) {
                let sub = d.join(format!("dir{}/sub{}", j % 3, i % 4));
                std::fs::create_dir_all(&sub).expect("mkdir");
                std::fs::write(sub.join(format!("f{i}_{j}.txt")), format!("{i} {j}\n"))
                    .expect("write");
            }
            if i % 9 == 3 {
                let _ = std::fs::remove_dir_all(d.join("dir1"));
            }
            git(d, &["add", "-A"]);
            git(
                d,
                &["commit", "-q", "--allow-empty", "-m", &format!("c{i}")],
            );
        }
        git(d, &["repack", "-adfq", "--depth=50", "--window=50"]);
        // One more commit stays loose.
        std::fs::write(d.join("loose.txt"), "loose\n").expect("write");
        git(d, &["add", "-A"]);
        git(d, &["commit", "-q", "-m", "loose"]);

        let repo = gix::open(d).expect("open");
        let packs = PackSet::open(&repo);
        let store = TreeStore::load(&packs);
        let finder = TreeFinder::new(Some(&store), 64 << 10);
        let objects = WithOdb {
            trees: &finder,
            odb: &repo.objects,
        };
        let listing = git(d, &["rev-list", "--objects", "--all"]);
        let (mut from_store, mut total) = (0, 0);
        for line in listing.lines() {
            let id = gix::ObjectId::from_hex(&line.as_bytes()[..40]).expect("id");
            let Ok(tree) = repo.find_tree(id) else {
                continue;
            };
            total += 1;
            if finder.stored(&id).is_some() {
                from_store += 1;
            }
            assert_eq!(objects.tree(&id).expect("tree"), tree.data, "tree {id}");
        }
        let deltas = git(
            d,
            &["verify-pack", "-v", &{
                let p = std::fs::read_dir(d.join(".git/objects/pack"))
                    .expect("pack dir")
                    .map(|e| e.expect("entry").path())
                    .find(|p| p.extension().is_some_and(|x| x == "idx"))
                    .expect("idx");
                p.to_string_lossy().into_owned()
            }],
        )
        .lines()
        .filter(|l| l.contains(" tree ") && l.split_whitespace().count() >= 7)
        .count();
        assert!(deltas > 50, "packed trees are deltas: {deltas}");
        assert!(total > 100, "{total}");
        // All but the loose commit's trees (root and the changed path) come from the store.
        assert!(
            from_store >= total - 2 && from_store < total,
            "{from_store} of {total}"
        );
    }

    /// Entries come out as gix's tree iterator gives them; truncated or malformed entries are
    /// errors, not panics.
    #[test]
    fn tree_entries_parse_like_gix_and_damage_is_an_error() {
        let kind = gix::hash::Kind::Sha1;
        let mut tree = Vec::new();
        for (mode, name, byte) in [
            ("100644", "a.txt", 1u8),
            ("40000", "dir", 2),
            ("120000", "l", 3),
        ] {
            tree.extend_from_slice(format!("{mode} {name}\0").as_bytes());
            tree.extend_from_slice(&[byte; 20]);
        }
        let ours = parse_tree_entries(&tree, kind).expect("parses");
        let theirs: Vec<_> = gix::objs::TreeRefIter::from_bytes(&tree, kind)
            .collect::<Result<_, _>>()
            .expect("gix parses");
        assert_eq!(ours, theirs);
        assert_eq!(ours.len(), 3);
        // The third entry starts after `100644 a.txt\0` + id (33) and `40000 dir\0` + id (30).
        assert_eq!(
            parse_tree_entries(&tree[..tree.len() - 1], kind),
            Err(TreeEntryError::Truncated { at: 63 })
        );
        let mut bad = tree.clone();
        bad[0] = b'x';
        assert!(matches!(
            parse_tree_entries(&bad, kind),
            Err(TreeEntryError::Malformed { at: 0, .. })
        ));
        assert_eq!(parse_tree_entries(&[], kind), Ok(Vec::new()));
    }
}
