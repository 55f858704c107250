//! The delta-order blob pass of a history scan: each wanted blob is classified and
//! prefiltered as the pack walk ([`portcullis_pack::packs`]) decodes it ([`Verdict`]); only the
//! few candidate blobs are read again later, by id.
//!
//! Exactness: a [`Verdict`] is computed from the object's full bytes with the same functions
//! the engine applies to a blob read by id. Anything the pass cannot settle gets no verdict
//! and is read by id as before, which reports missing or corrupt objects as scan errors.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use gix::ObjectId;
pub(crate) use portcullis_pack::packs::*;

use super::content::{ContentKind, classify, scanned_view};

/// What the delta-order pass learned about one blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// Size of the blob in bytes.
    pub size: u64,
    /// How the blob is to be handled.
    pub kind: VerdictKind,
}

/// How a blob is to be handled, decided from its full content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VerdictKind {
    /// Larger than the size limit (not classified).
    Oversize,
    /// A binary format; `candidate` is the scanner's `might_find` answer for its printable view.
    Binary { candidate: bool },
    /// An archive (zip, tar, gzip by signature), opened by the shared content pipeline.
    Archive,
    /// A Git LFS pointer file.
    Lfs,
    /// Text; `candidate` is the scanner's `might_find` answer for the whole blob.
    Text { candidate: bool },
}

/// The verdict for a blob's bytes: what the engine would decide after reading it by id.
pub(crate) fn verdict_of(
    data: &[u8],
    max_bytes: Option<u64>,
    might_find: &dyn Fn(&[u8]) -> bool,
) -> Verdict {
    let size = data.len() as u64;
    let kind = if max_bytes.is_some_and(|m| size > m) {
        VerdictKind::Oversize
    } else {
        match classify(data) {
            ContentKind::Binary => VerdictKind::Binary {
                candidate: might_find(&scanned_view(data, ContentKind::Binary)),
            },
            ContentKind::Archive => VerdictKind::Archive,
            ContentKind::LfsPointer => VerdictKind::Lfs,
            ContentKind::Text => VerdictKind::Text {
                candidate: might_find(data),
            },
        }
    };
    Verdict { size, kind }
}

/// Bytes of candidate blobs the delta-order pass keeps for the job phase (which would
/// otherwise read them again by id, resolving their delta chains once more).
const RETAIN_BUDGET: usize = 64 << 20;

/// What the delta-order pass learned: a verdict per settled blob, and the bytes of candidate
/// blobs (up to [`RETAIN_BUDGET`] in all).
#[derive(Default)]
pub(crate) struct PassOutcome {
    /// Blobs settled by the pass; the others must be read by id.
    pub verdicts: HashMap<ObjectId, Verdict>,
    /// The content of some candidate blobs.
    pub retained: HashMap<ObjectId, Vec<u8>>,
}

/// Verdicts for the objects of `wanted` (distinct blob ids) found in the packs of `packs`,
/// computed in one delta-order pass per pack on rayon's pool. `on_blob(bytes)` is called for
/// each wanted blob decoded (progress). Objects without a verdict must be read by id. A pack
/// whose walk fails contributes no verdicts.
pub(crate) fn blob_verdicts(
    packs: &PackSet,
    wanted: &[ObjectId],
    max_bytes: Option<u64>,
    stream_above: Option<u64>,
    might_find: &(dyn Fn(&[u8]) -> bool + Sync),
    on_blob: &(dyn Fn(u64) + Sync),
) -> PassOutcome {
    let mut verdicts = HashMap::with_capacity(wanted.len());
    // Candidates are few (88 of 10,145 blobs in the synthetic history): one lock is enough.
    let retained = std::sync::Mutex::new(HashMap::new());
    let budget = AtomicUsize::new(RETAIN_BUDGET);
    // Nothing larger than the size limit is inflated: such blobs (and deltas on them) get no
    // verdict here and are settled by the size in their header when read by id. Without a
    // limit, blobs above `stream_above` are left to the engine, which streams them.
    let limit = max_bytes.or(stream_above).map_or(ALLOC_LIMIT, |m| {
        usize::try_from(m).unwrap_or(ALLOC_LIMIT).min(ALLOC_LIMIT)
    });
    for_each_wanted(
        packs,
        wanted,
        Kind::Blob,
        limit,
        &mut verdicts,
        &|id, data| {
            on_blob(data.len() as u64);
            let v = verdict_of(data, max_bytes, might_find);
            let keep = v.kind == VerdictKind::Text { candidate: true }
                && budget
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                        b.checked_sub(data.len())
                    })
                    .is_ok();
            if keep && let Ok(mut r) = retained.lock() {
                r.insert(*id, data.to_vec());
            }
            v
        },
    );
    PassOutcome {
        verdicts,
        retained: retained.into_inner().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use portcullis_pack::testing::{blob_ids, git};

    /// With a size limit, the pass inflates no blob over it (nor builds one from a delta):
    /// such blobs get no verdict and are settled by their header size when read by id.
    #[test]
    fn blobs_over_the_size_limit_are_never_inflated_by_the_pass() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        let big: String = (0..20_000)
            .map(|k| format!("line {k} of a big file\n"))
            .collect();
        std::fs::write(d.join("big.txt"), &big).expect("write");
        std::fs::write(d.join("small.txt"), "small\n").expect("write");
        git(d, &["add", "-A"]);
        git(d, &["commit", "-q", "-m", "one"]);
        // A second version of the big file: a delta whose result is over the limit.
        std::fs::write(d.join("big.txt"), format!("{big}one more line\n")).expect("write");
        git(d, &["add", "-A"]);
        git(d, &["commit", "-q", "-m", "two"]);
        git(d, &["repack", "-adfq"]);
        let repo = gix::open(d).expect("open");
        let packs = PackSet::open(&repo);
        let blobs = blob_ids(d);
        assert_eq!(blobs.len(), 3);
        let largest = std::sync::Mutex::new(0u64);
        let limit = 100_000u64;
        assert!(big.len() as u64 > limit);
        let pass = blob_verdicts(&packs, &blobs, Some(limit), None, &|_| true, &|n| {
            if let Ok(mut m) = largest.lock() {
                *m = (*m).max(n);
            }
        });
        assert_eq!(
            pass.verdicts.len(),
            1,
            "only small.txt is settled by the pass"
        );
        assert!(*largest.lock().expect("lock") <= limit);
        // Without a limit every blob is settled.
        let all = blob_verdicts(&packs, &blobs, None, None, &|_| true, &|_| {});
        assert_eq!(all.verdicts.len(), 3);
    }
}
