//! Phase 5: the changes grouped into jobs (one per distinct `(old blobs, new blob)`), and the
//! distinct new blobs settled: classified and prefiltered in one delta-order pass over the
//! packs (each pack entry inflated once) when the pass is worth it. Blobs the pass does not
//! settle are read by id in the job phase. The grouping runs on another thread meanwhile.

use std::collections::HashSet;
use std::time::Instant;

use gix::ObjectId;

use super::super::changes::Change;
use super::super::engine::{self, Job};
use super::super::packs::{self, PassOutcome};
use super::super::{GitError, PhaseTiming};
use super::pack_session::PackSession;
use super::{Clock, Setup, memory};
use crate::source::FragmentScanner;
use crate::source::progress::Progress;

/// The jobs and what the delta-order pass learned about their new blobs.
pub(crate) struct Settled {
    /// Distinct changes, in pack order.
    pub jobs: Vec<Job>,
    /// Verdicts of the blobs settled by the pass, and retained candidate bytes.
    pub pass: PassOutcome,
}

/// Group `changes` into jobs and settle their distinct new blobs with `scanner`'s prefilter.
pub(crate) fn settle_blobs<S: FragmentScanner + ?Sized>(
    ts: &gix::ThreadSafeRepository,
    changes: Vec<Change>,
    session: &PackSession,
    scanner: &S,
    setup: &Setup<'_>,
    progress: &Progress,
    clock: &mut Clock,
) -> Result<Settled, GitError> {
    let wanted = distinct_new_blobs(&changes);
    progress.phase("blobs", wanted.len() as u64);
    let t = Instant::now();
    let (grouped, pass) = std::thread::scope(|scope| {
        let grouping = scope.spawn(|| {
            let jobs = engine::group(changes, &engine::PackOrder::load(&ts.to_thread_local()));
            (jobs, t.elapsed())
        });
        let pass = if setup.tuning.pack_passes.worth_it(wanted.len()) {
            let packs = session.packs(&setup.pool);
            setup.on_pool("settle blobs", || {
                packs::blob_verdicts(
                    packs,
                    &wanted,
                    setup.max_bytes,
                    setup.stream_above,
                    &|b| scanner.might_find(b),
                    &|bytes| progress.inc(1, bytes),
                )
            })
        } else {
            Ok(PassOutcome::default())
        };
        let grouped = grouping.join().map_err(|p| GitError::Panic {
            repo: setup.path.to_path_buf(),
            phase: "group",
            message: super::panic_message(p.as_ref()),
        });
        (grouped, pass)
    });
    let (jobs, grouped_in) = grouped?;
    let pass = pass?;
    if setup.tuning.release_free_heap {
        engine::release_free_heap();
    }
    clock.record(PhaseTiming {
        phase: "group",
        elapsed: grouped_in,
        detail: format!("{} jobs, alongside the delta-order pass", jobs.len()),
    });
    clock.lap(
        "settle blobs",
        format!(
            "{} of {} blobs settled in delta order; {}",
            pass.verdicts.len(),
            wanted.len(),
            memory()
        ),
    );
    Ok(Settled { jobs, pass })
}

/// The distinct new blobs of `changes`, in order of first appearance.
pub(crate) fn distinct_new_blobs(changes: &[Change]) -> Vec<ObjectId> {
    let mut seen = HashSet::with_capacity(changes.len());
    changes
        .iter()
        .filter_map(|c| seen.insert(c.new).then_some(c.new))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(commit: u32, new: u8) -> Change {
        Change {
            commit,
            path: "p".into(),
            olds: Vec::new(),
            new: ObjectId::from_bytes_or_panic(&[new; 20]),
            maybe_renamed: false,
        }
    }

    #[test]
    fn each_new_blob_is_settled_once_in_first_seen_order() {
        let changes = [
            change(0, 3),
            change(1, 1),
            change(2, 3),
            change(3, 2),
            change(4, 1),
        ];
        let ids: Vec<u8> = distinct_new_blobs(&changes)
            .iter()
            .map(|id| id.as_bytes()[0])
            .collect();
        assert_eq!(ids, [3, 1, 2]);
    }
}
