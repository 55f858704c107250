//! Reading pack entries in delta order: every pack entry a pass needs is inflated exactly once.
//!
//! Reading objects one by one by id (`find_object`) resolves each object's delta chain from the
//! nearest cached base: on git.git (chains up to 50 deep) that inflated the same delta and base
//! entries again and again, 11 s of CPU for 8.1 GB of blob content whose pack entries hold only
//! 2.1 GB. [`for_each_wanted`] instead builds the delta forest of the entries it needs (the
//! wanted objects and their bases) from the entry headers of the memory-mapped pack and walks
//! it base-first, as `git index-pack` does: each entry is inflated once, each delta is applied
//! once to its base held in memory, and each wanted object is handed to the caller as it comes
//! out.
//!
//! The walk runs on rayon's pool: the roots are split among the threads, and at every entry
//! with several deltas on it the other branches become tasks an idle thread can take, sharing
//! the base (`Arc`), so one large family of versions does not leave a core idle.
//!
//! Anything this pass cannot settle (loose objects, objects whose pack or delta chain is
//! damaged, objects of other kinds) gets no result; the caller reads it by id, which reports
//! missing or corrupt objects.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use gix::ObjectId;
pub use gix::object::Kind;
use gix::odb::pack;

/// The delta base of a pack entry cannot be located in its pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownBase;

/// What a pack entry's header says its object is built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryBase {
    /// A whole object of this kind.
    Whole(Kind),
    /// A delta on the entry at this pack offset (an offset delta; the offset is before the
    /// entry's own).
    Offset(u64),
    /// A delta on the object with this id (a reference delta).
    Id(ObjectId),
    /// An offset delta whose base would lie before the start of the pack.
    Invalid,
}

/// A parsed pack entry header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryHeader {
    /// The object kind, or the delta's base.
    pub base: EntryBase,
    /// The inflated size of the entry's data (the object, or the delta's instructions) as the
    /// header states it (untrusted: bound it before allocating).
    pub size: u64,
    /// Length of the header in bytes: the entry's zlib stream starts there.
    pub header_len: usize,
}

/// Parse the header of the pack entry at the start of `bytes`, which lies at `offset` in its
/// pack (to locate an offset delta's base), in a repository whose object ids are of kind
/// `hash`. `None` when the header is truncated or malformed.
pub fn parse_entry_header(bytes: &[u8], offset: u64, hash: gix::hash::Kind) -> Option<EntryHeader> {
    let entry = pack::data::Entry::from_bytes(bytes, offset, hash).ok()?;
    let header_len = usize::try_from(entry.data_offset.checked_sub(offset)?).ok()?;
    let base = if ofs_distance_overflows(bytes) {
        EntryBase::Invalid
    } else {
        base_of(offset, &entry.header)
    };
    (header_len <= bytes.len()).then_some(EntryHeader {
        base,
        size: entry.decompressed_size,
        header_len,
    })
}

/// Whether `bytes` start with an offset-delta header whose base distance does not fit in 64
/// bits. git refuses such an entry ("offset value overflow"); gix decodes the distance with
/// wrapping arithmetic, which can name an unrelated earlier entry as the base.
pub fn ofs_distance_overflows(bytes: &[u8]) -> bool {
    const OFS_DELTA: u8 = 6;
    let Some(&first) = bytes.first() else {
        return false;
    };
    if (first >> 4) & 7 != OFS_DELTA {
        return false;
    }
    // Skip the size: continuation bytes while the top bit is set.
    let mut i = 1;
    let mut c = first;
    while c & 0x80 != 0 {
        let Some(&next) = bytes.get(i) else {
            return false;
        };
        c = next;
        i += 1;
    }
    let Some(&d0) = bytes.get(i) else {
        return false;
    };
    let (mut c, mut dist) = (d0, u64::from(d0 & 0x7f));
    i += 1;
    while c & 0x80 != 0 {
        let Some(&next) = bytes.get(i) else {
            return false;
        };
        c = next;
        i += 1;
        match dist.checked_add(1).and_then(|v| v.checked_mul(128)) {
            Some(v) => dist = v | u64::from(c & 0x7f),
            None => return true,
        }
    }
    false
}

/// What `header`, the header of the entry at `offset`, says the object is built from.
fn base_of(offset: u64, header: &pack::data::entry::Header) -> EntryBase {
    use pack::data::entry::Header;
    match *header {
        Header::Commit => EntryBase::Whole(Kind::Commit),
        Header::Tree => EntryBase::Whole(Kind::Tree),
        Header::Blob => EntryBase::Whole(Kind::Blob),
        Header::Tag => EntryBase::Whole(Kind::Tag),
        Header::OfsDelta { base_distance } => {
            Header::verified_base_pack_offset(offset, base_distance)
                .map_or(EntryBase::Invalid, EntryBase::Offset)
        }
        Header::RefDelta { base_id } => EntryBase::Id(base_id),
    }
}

/// One pack of the repository: its index, its (memory-mapped) data and its entry offsets.
pub struct Pack {
    /// The data mapping, registered for the page limiter (the registry holds the mapping
    /// while it is registered).
    _owned: crate::resident::OwnedMapping,
    index: pack::index::File,
    data: Arc<pack::data::File>,
    /// Offsets of all entries, ascending.
    offsets: Vec<u64>,
    /// For each entry of `offsets`, its position in the index (where its id is).
    index_pos: Vec<u32>,
    /// What the entry headers say, read once by whichever pass needs them first.
    headers: OnceLock<Headers>,
}

/// The entry headers of one pack, by sorted position: each entry's delta base and kind.
pub struct Headers {
    /// The base's position (`NONE` for a whole object, `BROKEN` when the header cannot be read
    /// or the base is not an entry of this pack).
    pub base: Vec<u32>,
    /// The object's kind (a delta has its base's kind), `None` while unknown.
    pub kind: Vec<Option<Kind>>,
}

/// The packs of a repository's object database. Keep it alive while the
/// [`PackPageLimiter`](crate::resident::PackPageLimiter) runs: its mappings must not be unmapped
/// while the limiter may advise them.
pub struct PackSet {
    packs: Vec<Pack>,
}

/// The `.idx` files of the object database of `repo`, sorted (none when the directory cannot
/// be read).
pub fn index_paths(repo: &gix::Repository) -> Vec<PathBuf> {
    let dir = repo.objects.store_ref().path().join("pack");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "idx"))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    paths
}

impl PackSet {
    /// Open every readable `.idx`/`.pack` pair in the object database of `repo` (an unreadable
    /// pack is left out: its objects are then read by id, which reports real damage).
    pub fn open(repo: &gix::Repository) -> PackSet {
        let hash = repo.object_hash();
        let packs = index_paths(repo)
            .iter()
            .filter_map(|p| {
                let index = pack::index::File::at(p, hash).ok()?;
                let data = pack::data::File::at(p.with_extension("pack"), hash).ok()?;
                if data.num_objects() != index.num_objects() {
                    return None;
                }
                // Entries by pack offset, with their index positions (for their ids).
                let mut by_offset: Vec<(u64, u32)> = index
                    .iter()
                    .zip(0u32..)
                    .map(|(e, i)| (e.pack_offset, i))
                    .collect();
                by_offset.sort_unstable();
                let (offsets, index_pos) = by_offset.into_iter().unzip();
                let data = Arc::new(data);
                let owned = crate::resident::OwnedMapping::register(&data);
                Some(Pack {
                    _owned: owned,
                    index,
                    data,
                    offsets,
                    index_pos,
                    headers: OnceLock::new(),
                })
            })
            .collect();
        PackSet { packs }
    }

    /// The packs, in the order their objects are looked up.
    pub fn packs(&self) -> &[Pack] {
        &self.packs
    }
}

impl Pack {
    /// Offsets of all entries, ascending.
    pub fn offsets(&self) -> &[u64] {
        &self.offsets
    }

    /// The entry headers of this pack, read on first use (one sweep over all entries, on
    /// rayon's pool; a second caller waits for the first). Call it from outside rayon's pool:
    /// workers waiting here could leave none to run the sweep.
    pub fn headers(&self) -> &Headers {
        self.headers.get_or_init(|| self.read_headers())
    }

    fn read_headers(&self) -> Headers {
        use rayon::prelude::*;
        const CHUNK: usize = 8192;
        let n = self.offsets.len();
        // Each entry's base and, for a whole object, its kind: in parallel.
        let read: Vec<(u32, Option<Kind>)> = self
            .offsets
            .par_chunks(CHUNK)
            .enumerate()
            .flat_map_iter(|(c, chunk)| {
                chunk.iter().enumerate().map(move |(k, &offset)| {
                    self.trim_pages(c * CHUNK + k);
                    let Ok(e) = self.data.entry(offset) else {
                        return (BROKEN, None);
                    };
                    // The header's own bytes: an offset distance that overflows names no base.
                    let head = self.data.entry_slice(offset..e.data_offset);
                    if head.is_none_or(ofs_distance_overflows) {
                        return (BROKEN, None);
                    }
                    match self.delta_base(offset, &e.header) {
                        Ok(None) => (NONE, e.header.as_kind()),
                        Ok(Some(b)) => (self.position(b).unwrap_or(BROKEN), None),
                        Err(UnknownBase) => (BROKEN, None),
                    }
                })
            })
            .collect();
        self.release_pages();
        // Kinds of deltas: from bases earlier in the pack in one pass, then reference deltas
        // on later entries until nothing changes.
        let mut base = Vec::with_capacity(n);
        let mut kind: Vec<Option<Kind>> = vec![None; n];
        let mut pending: Vec<(usize, usize)> = Vec::new();
        for (i, (b, k)) in read.into_iter().enumerate() {
            base.push(b);
            match b {
                NONE => kind[i] = k,
                BROKEN => {}
                b if (b as usize) < i => kind[i] = kind[b as usize],
                b => pending.push((i, b as usize)),
            }
        }
        while !pending.is_empty() {
            let before = pending.len();
            pending.retain(|&(i, b)| match kind[b] {
                Some(k) => {
                    kind[i] = Some(k);
                    false
                }
                None => true,
            });
            if pending.len() == before {
                break;
            }
        }
        Headers { base, kind }
    }

    /// The objects of kind `kind` in this pack, found from entry headers alone: the whole
    /// ones with their offsets, and the deltas.
    fn ids_of_kind(&self, kind: Kind) -> (Vec<(ObjectId, u64)>, Vec<ObjectId>) {
        let h = self.headers();
        let (mut whole, mut deltas) = (Vec::new(), Vec::new());
        for (i, &offset) in self.offsets.iter().enumerate() {
            if h.kind[i] == Some(kind) {
                let id = self.index.oid_at_index(self.index_pos[i]).to_owned();
                if h.base[i] == NONE {
                    whole.push((id, offset));
                } else {
                    deltas.push(id);
                }
            }
        }
        (whole, deltas)
    }

    /// Call at each step of a sweep over the pack's entries: every [`TRIM_EVERY`] steps, when
    /// this process' file-backed resident memory is over [`SWEEP_BUDGET`], release the pack's
    /// pages.
    ///
    /// A fixed number of steps between releases does not bound the memory: since Linux 6.18 a
    /// page fault on a file mapping maps the whole (large) page-cache folio around the page,
    /// up to 2 MiB, so 1,024 header reads mapped 400–500 MB of git.git's pack. Reading
    /// `/proc/self/statm` costs a few microseconds.
    pub fn trim_pages(&self, step: usize) {
        if step % TRIM_EVERY == TRIM_EVERY - 1
            && crate::resident::file_resident_bytes().is_some_and(|b| b > SWEEP_BUDGET)
        {
            self.release_pages();
        }
    }

    /// Release this process' resident pages of the pack's data (after a sweep over its entry
    /// headers).
    fn release_pages(&self) {
        let end = self.data.pack_end() as u64;
        if let Some(bytes) = self.data.entry_slice(0..end) {
            crate::resident::release_mapped(bytes);
        }
    }

    /// Append the inflated bytes of `entry` (a whole object, or a delta's instructions) to
    /// `out`: exactly the size its header declares, which must not exceed `limit`. `None`, with
    /// `out` unchanged, when the size is over the limit or the stream is damaged, ends early or
    /// would yield more ([`inflate_into`](crate::inflate::inflate_into)).
    pub fn inflate_entry(
        &self,
        entry: &pack::data::Entry,
        limit: usize,
        out: &mut Vec<u8>,
    ) -> Option<()> {
        let n = usize::try_from(entry.decompressed_size)
            .ok()
            .filter(|&n| n <= limit)?;
        let input = self
            .data
            .entry_slice(entry.data_offset..self.data.pack_end() as u64)?;
        let inflated = crate::inflate::inflate_into(input, n, out);
        if inflated.is_none() {
            REFUSED.fetch_add(1, Ordering::Relaxed);
        }
        inflated
    }

    /// The pack's data file.
    pub fn data(&self) -> &pack::data::File {
        &self.data
    }

    /// Pack offset of object `id`, if this pack holds it.
    pub fn offset_of(&self, id: &gix::oid) -> Option<u64> {
        self.index
            .lookup(id)
            .map(|i| self.index.pack_offset_at_index(i))
    }

    /// The pack offset of the delta base of the entry at `offset` whose header is `header`:
    /// `Ok(None)` for a whole object, `Err(UnknownBase)` when the base cannot be located in
    /// this pack.
    pub fn delta_base(
        &self,
        offset: u64,
        header: &pack::data::entry::Header,
    ) -> Result<Option<u64>, UnknownBase> {
        match base_of(offset, header) {
            EntryBase::Whole(_) => Ok(None),
            EntryBase::Offset(b) => Ok(Some(b)),
            EntryBase::Id(id) => self.offset_of(&id).map(Some).ok_or(UnknownBase),
            EntryBase::Invalid => Err(UnknownBase),
        }
    }

    /// The delta forest of the entries needed to decode the objects of `wanted` that are in
    /// this pack: each such object and every base of its delta chain. Objects whose chain
    /// cannot be followed (damaged headers, a base outside this pack, a cycle) are left out.
    fn forest(&self, wanted: &[ObjectId]) -> Forest {
        // Per sorted entry position: its base's position once it is known to be needed
        // (`NONE` for a whole object), `UNSEEN` while not needed.
        let mut base_pos: Vec<u32> = vec![UNSEEN; self.offsets.len()];
        let mut want_pos: Vec<(u32, ObjectId)> = Vec::new();
        let mut chain: Vec<(u32, u32)> = Vec::new();
        let headers = self.headers();
        for id in wanted {
            let Some(pos) = self.offset_of(id).and_then(|o| self.position(o)) else {
                continue;
            };
            if base_pos[pos as usize] != UNSEEN {
                // Already needed as the base of an earlier one.
                want_pos.push((pos, *id));
                continue;
            }
            chain.clear();
            if chain_of(headers, pos, &base_pos, &mut chain) {
                for &(p, b) in &chain {
                    base_pos[p as usize] = b;
                }
                want_pos.push((pos, *id));
            }
        }
        let mut node_of = vec![NONE; self.offsets.len()];
        let mut offsets = Vec::new();
        for (p, &b) in base_pos.iter().enumerate() {
            if b != UNSEEN {
                node_of[p] = offsets.len() as u32;
                offsets.push(self.offsets[p]);
            }
        }
        let base: Vec<u32> = base_pos
            .iter()
            .filter(|&&b| b != UNSEEN)
            .map(|&b| if b == NONE { NONE } else { node_of[b as usize] })
            .collect();
        let mut wanted_at: Vec<Option<ObjectId>> = vec![None; offsets.len()];
        for (p, id) in want_pos {
            wanted_at[node_of[p as usize] as usize] = Some(id);
        }
        Forest::new(offsets, base, wanted_at)
    }

    /// The sorted position of the entry at `offset`.
    fn position(&self, offset: u64) -> Option<u32> {
        self.offsets
            .binary_search(&offset)
            .ok()
            .and_then(|p| u32::try_from(p).ok())
    }
}

/// Collect into `chain` `(position, base position)` from the entry at `pos` down its delta
/// chain (per `headers`) until a whole object or an entry already needed (`base_pos` set).
/// `false` when the chain cannot be followed: a header that could not be read, a base outside
/// the pack, or a cycle (only a damaged pack has one).
fn chain_of(
    headers: &Headers,
    mut pos: u32,
    base_pos: &[u32],
    chain: &mut Vec<(u32, u32)>,
) -> bool {
    // git never writes chains this deep; a longer one is a cycle in a damaged pack.
    const MAX_DEPTH: usize = 100_000;
    for _ in 0..MAX_DEPTH {
        if base_pos[pos as usize] != UNSEEN {
            return true;
        }
        match headers.base[pos as usize] {
            BROKEN => return false,
            NONE => {
                chain.push((pos, NONE));
                return true;
            }
            b => {
                chain.push((pos, b));
                pos = b;
            }
        }
    }
    false
}

/// No base (a whole object) / not a node.
pub const NONE: u32 = u32::MAX;
/// An entry not (yet) known to be needed.
const UNSEEN: u32 = u32::MAX - 1;
/// An entry whose header or base cannot be read.
const BROKEN: u32 = u32::MAX - 2;

/// The delta forest of the entries one pass needs: node `i` is the entry at `offsets[i]`
/// (ascending), a delta on node `base[i]` or a whole object (`NONE`).
struct Forest {
    offsets: Vec<u64>,
    /// The wanted blob id at each node, if any.
    wanted: Vec<Option<ObjectId>>,
    /// Nodes without a base, ascending.
    roots: Vec<u32>,
    /// The deltas on node `i` are `children[first[i]..first[i + 1]]`.
    first: Vec<u32>,
    children: Vec<u32>,
    /// Entries read so far by the walk.
    read: AtomicUsize,
}

impl Forest {
    fn new(offsets: Vec<u64>, base: Vec<u32>, wanted: Vec<Option<ObjectId>>) -> Forest {
        let n = offsets.len();
        let mut first = vec![0u32; n + 1];
        for &b in &base {
            if b != NONE {
                first[b as usize + 1] += 1;
            }
        }
        for i in 0..n {
            first[i + 1] += first[i];
        }
        let mut fill = first.clone();
        let mut children = vec![0u32; first[n] as usize];
        let mut roots = Vec::new();
        for (i, &b) in base.iter().enumerate() {
            if b == NONE {
                roots.push(i as u32);
            } else {
                children[fill[b as usize] as usize] = i as u32;
                fill[b as usize] += 1;
            }
        }
        Forest {
            offsets,
            wanted,
            roots,
            first,
            children,
            read: AtomicUsize::new(0),
        }
    }

    fn children(&self, node: u32) -> &[u32] {
        let i = node as usize;
        &self.children[self.first[i] as usize..self.first[i + 1] as usize]
    }
}

/// Steps of a sweep between two checks of the resident memory ([`Pack::trim_pages`]).
const TRIM_EVERY: usize = 64;
/// File-backed resident memory above which a sweep releases its pack's pages.
const SWEEP_BUDGET: u64 = 256 << 20;

/// Pack entries that could not be inflated in this process (reported with the scan's timing
/// diagnostics; only damaged entries should be).
pub static REFUSED: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Each thread's buffer for a delta's instructions.
    static DELTA_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Largest object or delta the delta-order pass allocates (4 GiB); anything larger is read by
/// id instead.
pub const ALLOC_LIMIT: usize = 4 << 30;

/// `f(id, bytes)` for every commit of the packs of `packs`, on rayon's pool: whole commits
/// inflated in chunks, commits stored as deltas decoded in delta order.
pub fn commits<T: Send + Sync>(
    packs: &PackSet,
    f: &(dyn Fn(&ObjectId, &[u8]) -> T + Sync),
) -> HashMap<ObjectId, T> {
    use rayon::prelude::*;
    /// Larger than any commit git writes; a larger claim is left to be read by id.
    const MAX_COMMIT: usize = 64 << 20;
    let mut out = HashMap::new();
    for p in &packs.packs {
        let (whole, deltas) = p.ids_of_kind(Kind::Commit);
        let found: Vec<Vec<(ObjectId, T)>> = whole
            .par_chunks(2048)
            .map(|chunk| {
                let mut buf = Vec::new();
                chunk
                    .iter()
                    .filter_map(|&(id, offset)| {
                        let e = p.data.entry(offset).ok()?;
                        buf.clear();
                        p.inflate_entry(&e, MAX_COMMIT, &mut buf)?;
                        Some((id, f(&id, &buf)))
                    })
                    .collect()
            })
            .collect();
        out.extend(found.into_iter().flatten());
        if !deltas.is_empty() {
            for_each_wanted(packs, &deltas, Kind::Commit, ALLOC_LIMIT, &mut out, f);
        }
    }
    out
}

/// Decode every object of `wanted` found in the packs of `packs` (and not yet in `out`) in
/// delta order and store `f(id, bytes)` for each of them of kind `kind` (a delta has its
/// base's kind) in `out`. Objects (and delta instructions) larger than `limit` bytes are not
/// inflated: they and the deltas on them get no result.
pub fn for_each_wanted<T: Send + Sync>(
    packs: &PackSet,
    wanted: &[ObjectId],
    kind: Kind,
    limit: usize,
    out: &mut HashMap<ObjectId, T>,
    f: &(dyn Fn(&ObjectId, &[u8]) -> T + Sync),
) {
    for p in &packs.packs {
        let left: Vec<ObjectId> = wanted
            .iter()
            .filter(|id| !out.contains_key(*id))
            .copied()
            .collect();
        if left.is_empty() {
            break;
        }
        // A panic in the walk (a bug, or a damaged pack nothing here expects) propagates:
        // the caller turns it into a scan error.
        let forest = p.forest(&left);
        let results: Vec<OnceLock<T>> =
            (0..forest.offsets.len()).map(|_| OnceLock::new()).collect();
        walk_forest(p, &forest, kind, limit, &results, f);
        out.extend(
            forest
                .wanted
                .iter()
                .zip(results)
                .filter_map(|(id, r)| Some(((*id)?, r.into_inner()?))),
        );
    }
}

/// Walk `forest` base-first on rayon's pool, storing `f(id, bytes)` of each wanted blob in
/// `results` (by node). An entry that cannot be decoded leaves its node and the deltas on it
/// without a result.
fn walk_forest<T: Send + Sync>(
    p: &Pack,
    forest: &Forest,
    kind: Kind,
    limit: usize,
    results: &[OnceLock<T>],
    f: &(dyn Fn(&ObjectId, &[u8]) -> T + Sync),
) {
    use rayon::prelude::*;
    let walk = Walk {
        p,
        forest,
        kind,
        limit,
        results,
        f,
    };
    forest
        .roots
        .par_iter()
        .for_each(|&root| rayon::scope(|s| walk.visit(s, root, None)));
}

/// One delta-order walk (see [`walk_forest`]).
struct Walk<'a, T> {
    p: &'a Pack,
    forest: &'a Forest,
    /// The kind of object whose results are wanted.
    kind: Kind,
    /// Largest object this walk inflates or builds.
    limit: usize,
    results: &'a [OnceLock<T>],
    f: &'a (dyn Fn(&ObjectId, &[u8]) -> T + Sync),
}

impl<'a, T: Send + Sync> Walk<'a, T> {
    /// Decode `node` (a delta on `base`, or a whole object when `base` is `None`), then the
    /// deltas on it: the first on this thread, the others as tasks of `scope`.
    fn visit<'s>(
        &self,
        scope: &rayon::Scope<'s>,
        mut node: u32,
        mut base: Option<(Arc<Vec<u8>>, bool)>,
    ) where
        'a: 's,
    {
        loop {
            // The base is released as soon as this delta is applied.
            let decoded = match base.take() {
                None => self.whole(node),
                Some((b, of_kind)) => self.delta(node, &b).map(|d| (d, of_kind)),
            };
            let Some((data, of_kind)) = decoded else {
                return;
            };
            if of_kind && let Some(id) = &self.forest.wanted[node as usize] {
                let _ = self.results[node as usize].set((self.f)(id, &data));
            }
            let kids = self.forest.children(node);
            let Some((&next, rest)) = kids.split_first() else {
                return;
            };
            let data = Arc::new(data);
            for &k in rest {
                let d = Arc::clone(&data);
                let this = self.clone_ref();
                scope.spawn(move |s| this.visit(s, k, Some((d, of_kind))));
            }
            node = next;
            base = Some((data, of_kind));
        }
    }

    fn clone_ref(&self) -> Walk<'a, T> {
        Walk {
            p: self.p,
            forest: self.forest,
            kind: self.kind,
            limit: self.limit,
            results: self.results,
            f: self.f,
        }
    }

    /// Count one entry read and keep the pack's resident pages in bounds: the walk jumps
    /// between the families of the whole pack, which would otherwise map most of it between
    /// two rounds of the page limiter.
    fn entry_read(&self) {
        self.p
            .trim_pages(self.forest.read.fetch_add(1, Ordering::Relaxed));
    }

    /// The whole object at `node`, and whether it is of the wanted kind.
    fn whole(&self, node: u32) -> Option<(Vec<u8>, bool)> {
        self.entry_read();
        let data = self.p.data();
        let entry = data.entry(self.forest.offsets[node as usize]).ok()?;
        let of_kind = entry.header.as_kind() == Some(self.kind);
        let mut out = Vec::new();
        self.p.inflate_entry(&entry, self.limit, &mut out)?;
        Some((out, of_kind))
    }

    /// The object at `node`, a delta on `base`.
    fn delta(&self, node: u32, base: &[u8]) -> Option<Vec<u8>> {
        self.entry_read();
        let data = self.p.data();
        let entry = data.entry(self.forest.offsets[node as usize]).ok()?;
        DELTA_BUF.with(|buf| {
            let mut buf = buf.borrow_mut();
            buf.clear();
            self.p.inflate_entry(&entry, self.limit, &mut buf)?;
            if crate::delta::delta_result_size(&buf)? > self.limit as u64 {
                return None;
            }
            crate::delta::apply_delta(base, &buf)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_distance_that_overflows_64_bits_names_no_base() {
        // Type 6 (offset delta), size 0, then a distance of 14 groups: more than 64 bits.
        let mut header = vec![0x60];
        header.extend([0xff; 13]);
        header.push(0x24);
        assert!(ofs_distance_overflows(&header));
        let h = parse_entry_header(&header, 4_110_414_884, gix::hash::Kind::Sha1);
        assert!(h.is_none_or(|h| h.base == EntryBase::Invalid), "{h:?}");
        // A short distance is fine, and other kinds are never offset deltas.
        assert!(!ofs_distance_overflows(&[0x60, 0x81, 0x05]));
        assert!(!ofs_distance_overflows(&[0x30, 0xff, 0xff]));
        assert!(!ofs_distance_overflows(&[]));
    }

    /// Headers of every kind parse to what they encode, as gix writes them; truncated or
    /// impossible ones are refused, not panicked on.
    #[test]
    fn entry_headers_parse_as_encoded() {
        use pack::data::entry::Header;
        let sha1 = gix::hash::Kind::Sha1;
        let parse = |b: &[u8], at: u64| parse_entry_header(b, at, sha1);
        // A blob of 5 bytes: type 3, size in the low four bits.
        let h = parse(&[0x35, 0x78], 12).expect("blob");
        assert_eq!(h.base, EntryBase::Whole(Kind::Blob));
        assert_eq!((h.size, h.header_len), (5, 1));
        // A commit of 300 bytes: 0xC in the first byte, 300 >> 4 = 18 in the next.
        let h = parse(&[0x9c, 0x12, 0x78], 12).expect("commit");
        assert_eq!(h.base, EntryBase::Whole(Kind::Commit));
        assert_eq!((h.size, h.header_len), (300, 2));
        // An offset delta 10 bytes after its base; one whose base would precede the pack.
        let h = parse(&[0x63, 0x0a, 0x78], 1000).expect("offset delta");
        assert_eq!(h.base, EntryBase::Offset(990));
        assert_eq!((h.size, h.header_len), (3, 2));
        assert_eq!(
            parse(&[0x63, 0x0a], 5).map(|h| h.base),
            Some(EntryBase::Invalid)
        );
        // A reference delta names its base by id.
        let mut r = vec![0x74];
        r.extend_from_slice(&[0xab; 20]);
        let h = parse(&r, 12).expect("ref delta");
        assert_eq!(
            h.base,
            EntryBase::Id(ObjectId::from_bytes_or_panic(&[0xab; 20]))
        );
        assert_eq!(h.header_len, 21);
        // Truncated: a continuation bit with nothing after it, a short id, nothing at all.
        assert_eq!(parse(&[0x9c], 12), None);
        assert_eq!(parse(&r[..10], 12), None);
        assert_eq!(parse(&[], 12), None);
        // Whatever gix writes reads back.
        for (header, size) in [
            (Header::Tree, 0u64),
            (Header::Tag, 15),
            (Header::Blob, 1 << 40),
            (Header::OfsDelta { base_distance: 300 }, 77),
        ] {
            let mut bytes = Vec::new();
            let n = header.write_to(size, &mut bytes).expect("write");
            let h = parse(&bytes, 1 << 20).expect("parses");
            assert_eq!((h.size, h.header_len), (size, n), "{header:?}");
            assert_eq!(h.base, base_of(1 << 20, &header));
        }
    }

    use crate::testing::{blob_ids, git};

    /// A repository whose blobs are packed as deep delta chains with branching families (many
    /// versions of a few files), plus one blob left loose.
    fn delta_repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        let mut text: Vec<String> = (0..200)
            .map(|k| format!("line {k} of the file\n"))
            .collect();
        for i in 0..80 {
            text[(i * 37) % 200] = format!("edited in commit {i}\n");
            if i % 5 == 0 {
                text.push(format!("appended {i}\n"));
            }
            std::fs::write(d.join("a.txt"), text.concat()).expect("write");
            std::fs::write(d.join(format!("b{}.txt", i % 3)), text[i..].concat()).expect("write");
            git(d, &["add", "-A"]);
            git(d, &["commit", "-q", "-m", &format!("c{i}")]);
        }
        git(d, &["repack", "-adfq", "--depth=50", "--window=50"]);
        std::fs::write(d.join("loose.txt"), "loose blob\n").expect("write");
        git(d, &["add", "-A"]);
        git(d, &["commit", "-q", "-m", "loose"]);
        dir
    }

    /// Every packed blob comes out of the delta-order walk with the bytes gix reads by id
    /// (so deltas were applied to the right bases, in every branch of every family); the loose
    /// blob and ids of other objects get nothing.
    #[test]
    #[cfg_attr(miri, ignore = "runs git and memory-maps packs")]
    fn walk_yields_every_packed_blob_as_read_by_id() {
        let dir = delta_repo();
        let d = dir.path();
        let repo = gix::open(d).expect("open");
        let packs = PackSet::open(&repo);
        let blobs = blob_ids(d);
        let head_tree = repo.head_tree_id().expect("head tree").detach();
        let mut wanted = blobs.clone();
        wanted.push(head_tree);
        let mut out: HashMap<ObjectId, Vec<u8>> = HashMap::new();
        for_each_wanted(
            &packs,
            &wanted,
            Kind::Blob,
            ALLOC_LIMIT,
            &mut out,
            &|_, data| data.to_vec(),
        );
        let loose = repo
            .rev_parse_single("HEAD:loose.txt")
            .expect("loose blob")
            .detach();
        assert!(!out.contains_key(&loose), "a loose blob is read by id");
        assert!(!out.contains_key(&head_tree), "a tree gets no verdict");
        assert_eq!(out.len(), blobs.len() - 1);
        for id in &blobs {
            if *id == loose {
                continue;
            }
            let by_id = repo.find_blob(*id).expect("blob").data.clone();
            assert_eq!(out.get(id), Some(&by_id), "blob {id}");
        }
        // The pack really holds chains with several deltas on one base.
        let p = &packs.packs()[0];
        let forest = p.forest(&blobs);
        let depth = |mut n: usize| {
            let base: HashMap<u32, u32> = (0..forest.offsets.len() as u32)
                .flat_map(|b| forest.children(b).iter().map(move |&c| (c, b)))
                .collect();
            let mut k = 0;
            while let Some(&b) = base.get(&(n as u32)) {
                n = b as usize;
                k += 1;
            }
            k
        };
        assert!((0..forest.offsets.len()).map(depth).max().unwrap_or(0) >= 10);
        assert!((0..forest.offsets.len() as u32).any(|n| forest.children(n).len() >= 2));
    }

    /// The header sweep gives every packed object its kind (deltas their base's) as gix reads
    /// it, and every delta a base inside the pack; whole objects have none.
    #[test]
    #[cfg_attr(miri, ignore = "runs git and memory-maps packs")]
    fn headers_give_kinds_and_bases() {
        let dir = delta_repo();
        let d = dir.path();
        let repo = gix::open(d).expect("open");
        let packs = PackSet::open(&repo);
        let p = &packs.packs()[0];
        let h = p.headers();
        assert_eq!(h.base.len(), p.offsets().len());
        let (mut deltas, mut kinds) = (0, HashMap::new());
        for (i, &offset) in p.offsets().iter().enumerate() {
            let id = p.index.oid_at_index(p.index_pos[i]).to_owned();
            let expected = repo.find_header(id).expect("header").kind();
            assert_eq!(h.kind[i], Some(expected), "object {id}");
            *kinds.entry(expected).or_insert(0) += 1;
            assert_eq!(p.offset_of(&id), Some(offset));
            if p.data().entry(offset).expect("entry").header.is_delta() {
                deltas += 1;
                assert!((h.base[i] as usize) < p.offsets().len(), "object {id}");
            } else {
                assert_eq!(h.base[i], NONE, "object {id}");
            }
        }
        assert!(deltas > 50, "the pack has deltas: {deltas}");
        assert!(kinds.len() >= 3, "commits, trees and blobs: {kinds:?}");
        let (whole, delta_commits) = p.ids_of_kind(Kind::Commit);
        assert_eq!(whole.len() + delta_commits.len(), kinds[&Kind::Commit]);
    }

    /// Wanting only some blobs decodes their bases too but reports only the wanted ones.
    #[test]
    #[cfg_attr(miri, ignore = "runs git and memory-maps packs")]
    fn only_wanted_blobs_are_reported() {
        let dir = delta_repo();
        let d = dir.path();
        let repo = gix::open(d).expect("open");
        let packs = PackSet::open(&repo);
        let blobs = blob_ids(d);
        let some: Vec<ObjectId> = blobs.iter().step_by(3).copied().collect();
        let mut out: HashMap<ObjectId, usize> = HashMap::new();
        for_each_wanted(
            &packs,
            &some,
            Kind::Blob,
            ALLOC_LIMIT,
            &mut out,
            &|_, data| data.len(),
        );
        let loose = repo
            .rev_parse_single("HEAD:loose.txt")
            .expect("loose blob")
            .detach();
        let expected: Vec<&ObjectId> = some.iter().filter(|id| **id != loose).collect();
        assert_eq!(out.len(), expected.len());
        for id in expected {
            assert_eq!(out[id], repo.find_blob(*id).expect("blob").data.len());
        }
    }
}
