//! The crash-safe per-repository merge lease.
//!
//! The merge gate serialises merges per repository with a lease that **outlives the gate
//! process**: on PASS the gate leaves it held until the pipeline has merged the branch and
//! calls [`release`] (`portcullis lease release`). So the lease cannot rely on a lock held by
//! a live process; instead:
//!
//! * A lease is a file `<stem>.lease` in the lease directory holding one complete
//!   [`LeaseRecord`] (holder, host, branch, base sha, acquired_at, expires_at, fencing token,
//!   nonce, and the pid + start time of the gate process while one holds it). It is written
//!   to a temporary file, fsynced, and published with an atomic `hard_link`, which fails if a
//!   lease exists (→ [`Acquisition::Busy`], the gate's DEFER). The lease path therefore only
//!   ever names complete records.
//! * A lease is **stale** when its `expires_at` has passed (TTL, extended by [`renew`]), or
//!   when it is bound to a process on this host that no longer exists: pid plus kernel start
//!   time plus boot id, so a reused pid does not count as alive and a zombie counts as dead.
//!   A dead holder's lease is not stale while a process group it recorded still runs
//!   ([`record_children`]); [`end_leftover_children`] ends such a group.
//! * Acquire (with reclaim), renew and release run under a short `flock` on a separate mutex
//!   file `<stem>.mutex`; a stale lease is renamed to a tombstone (`<stem>.stale.<nonce>`)
//!   only after re-checking, under the mutex, that the path still names the same inode and
//!   nonce. Two reclaimers can never both win, and a live lease is never taken.
//! * Release is holder-aware: the holder id must match, and the nonce too where the caller
//!   gives one; otherwise it is refused and nothing changes. Releasing twice is fine for the
//!   rightful holder (the tombstone `<stem>.released.<nonce>` remembers it).
//! * Every acquisition takes a fencing token from the counter file `<stem>.seq`, incremented
//!   (durably, before the lease is published) under the mutex: tokens strictly increase.
//!
//! **Limit:** a file lease serialises merges on one host (one lease directory on a local file
//! system). Gates on different machines must share nothing but the git remote, whose
//! compare-and-swap (`--force-with-lease`, fast-forward-only merges to `base_sha`) remains
//! the fence of last resort. Process liveness is only judged for leases taken on this host;
//! other hosts' leases go stale by TTL only. Do not put the lease directory on NFS.
//!
//! **Across hosts:** a [`LeaseBackend::Postgres`] lease (`--lease-url postgres://...`)
//! keeps the same contract in one row per key of a PostgreSQL database, judged by the
//! database's clock; every function below dispatches on the [`LeaseLocation`] it is given
//! (see `docs/lease.md`).
//!
//! ```
//! use std::time::Duration;
//! use portcullis::lease::{self, Acquisition, AcquireOptions, LeaseLocation, LeaseState};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let loc = LeaseLocation::new(dir.path(), "github.com/acme/app").unwrap();
//! let opts = AcquireOptions::new("task-17", Duration::from_secs(600));
//! let Acquisition::Acquired(rec) = lease::acquire(&loc, &opts).unwrap() else { panic!() };
//! // A second holder is told who holds it.
//! let other = AcquireOptions::new("task-18", Duration::from_secs(600));
//! match lease::acquire(&loc, &other).unwrap() {
//!     Acquisition::Busy(cur) => assert_eq!(cur.holder, "task-17"),
//!     Acquisition::Acquired(_) => panic!("two holders"),
//! }
//! lease::release(&loc, "task-17", Some(&rec.nonce)).unwrap();
//! assert!(matches!(lease::status(&loc).unwrap(), LeaseState::Free));
//! ```

mod children;

mod backend;
mod fence;
mod fsutil;
mod group;
mod key;
mod pg;
mod process;
mod record;

pub use children::{
    EndedChildren, HolderChildren, children, clear_children, end_leftover_children, record_children,
};
pub(crate) use group::live_in_group;
pub use group::{GROUP_MARKER_ENV, GroupEndError, Members, ProcessGroup};

pub use backend::LeaseBackend;
pub use fence::while_held;
pub use pg::schema::SCHEMA_VERSION as PG_SCHEMA_VERSION;
pub use pg::{PgTarget, host_id};

pub use key::{LeaseLocation, default_lease_dir, normalise_remote_url, repo_key};
pub use process::{ProcessBinding, hostname};
pub use record::{LeaseRecord, RECORD_VERSION};

use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

use fsutil::{MUTEX_WAIT, ensure_dir, io_err, lock_mutex, side_files, sync_dir, write_new_synced};
use process::Liveness;

/// Tombstones older than this are deleted by later acquisitions.
const TOMBSTONE_KEEP: Duration = Duration::from_secs(24 * 3600);
/// Garbage collection runs on every `GC_EVERY`-th acquisition (it lists the directory).
const GC_EVERY: u64 = 32;

/// A lease operation failed; always names the file involved.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    /// A lease file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The lease file or counter does not hold a valid record (remove it by hand after
    /// checking no merge is in flight).
    #[error("{path}: corrupt lease file: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The mutex stayed locked for too long (a process stopped while holding it?).
    #[error("{path}: timed out waiting for the lease mutex")]
    MutexTimeout {
        /// The mutex file.
        path: PathBuf,
    },
    /// Renew found no lease.
    #[error("{path}: no lease is held")]
    NotHeld {
        /// The lease file.
        path: PathBuf,
    },
    /// The lease belongs to another holder; nothing was changed.
    #[error("{path}: lease is held by '{holder}', not by '{requested}'; refused")]
    WrongHolder {
        /// The lease file.
        path: PathBuf,
        /// The actual holder.
        holder: String,
        /// The holder named by the caller.
        requested: String,
    },
    /// The holder matches but the nonce does not (a later acquisition by the same holder id);
    /// nothing was changed.
    #[error("{path}: lease of '{holder}' has a different nonce; refused")]
    NonceMismatch {
        /// The lease file.
        path: PathBuf,
        /// The holder.
        holder: String,
    },
    /// The lease key could not be determined or is empty.
    #[error("lease key: {0}")]
    InvalidKey(String),
    /// A request field is invalid (e.g. an empty holder id).
    #[error("invalid lease request: {0}")]
    Invalid(String),
    /// The lease database could not be reached or answered with an error (PostgreSQL
    /// backend). The message names the database without user info or password.
    #[error("{location}: lease database error: {message}")]
    Database {
        /// The database, as `postgres://HOST:PORT/DB`.
        location: String,
        /// What went wrong (credentials removed).
        message: String,
    },
    /// [`while_held`]: the fencing token no longer holds the lease; the step did not run
    /// (or, if the connection failed while it ran, may have run without the fence).
    #[error("{path}: fencing check failed: {message}")]
    Fenced {
        /// The lease (file, or `postgres://HOST:PORT/DB#<key>`).
        path: PathBuf,
        /// Why.
        message: String,
    },
}

impl LeaseError {
    /// The gate `reason` for this error while a gate holds the lease: `lease_lost` when the
    /// lease provably belongs to someone else now (not held, other holder or nonce, token
    /// superseded), `lease_error` when it could not be checked (database unreachable, I/O).
    pub fn gate_reason(&self) -> &'static str {
        match self {
            LeaseError::NotHeld { .. }
            | LeaseError::WrongHolder { .. }
            | LeaseError::NonceMismatch { .. }
            | LeaseError::Fenced { .. } => "lease_lost",
            _ => "lease_error",
        }
    }
}

/// Why a lease is stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaleReason {
    /// `expires_at` has passed.
    Expired,
    /// The lease is bound to a process on this host that no longer exists.
    HolderProcessGone,
}

impl StaleReason {
    /// Short machine-readable name (`expired`, `holder_process_gone`).
    pub fn as_str(self) -> &'static str {
        match self {
            StaleReason::Expired => "expired",
            StaleReason::HolderProcessGone => "holder_process_gone",
        }
    }
}

/// What [`status`] found.
#[allow(clippy::large_enum_variant)] // returned once per call; boxing buys nothing
#[derive(Debug, Clone, PartialEq)]
pub enum LeaseState {
    /// No lease file.
    Free,
    /// A lease file exists.
    Held {
        /// Its record.
        record: LeaseRecord,
        /// `Some` when the next acquisition will reclaim it.
        stale: Option<StaleReason>,
    },
}

/// Parameters of [`acquire`].
#[derive(Debug, Clone, PartialEq)]
pub struct AcquireOptions {
    /// Holder id (non-empty, one line).
    pub holder: String,
    /// Branch being merged (informational).
    pub branch: Option<String>,
    /// Main tip the holder works against (informational).
    pub base_sha: Option<String>,
    /// Time to live; the lease is stale after it unless renewed.
    pub ttl: Duration,
    /// Bind the lease to a running process (the gate binds itself while it runs).
    pub process: Option<ProcessBinding>,
}

impl AcquireOptions {
    /// Options with only a holder and a TTL.
    pub fn new(holder: impl Into<String>, ttl: Duration) -> AcquireOptions {
        AcquireOptions {
            holder: holder.into(),
            branch: None,
            base_sha: None,
            ttl,
            process: None,
        }
    }
}

/// Result of [`acquire`].
#[derive(Debug, Clone, PartialEq)]
pub enum Acquisition {
    /// The caller now holds the lease described by this record.
    Acquired(LeaseRecord),
    /// A live lease is held by someone (possibly the same holder id); nothing changed.
    Busy(LeaseRecord),
}

/// What [`renew_with`] does with the record's process binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// Leave it as it is.
    Keep,
    /// Remove it: the lease now lives by its TTL only (the gate does this on PASS).
    Clear,
    /// Bind to this process.
    Set(ProcessBinding),
}

/// Result of [`release`].
#[allow(clippy::large_enum_variant)] // returned once per call; boxing buys nothing
#[derive(Debug, Clone, PartialEq)]
pub enum Released {
    /// The caller's lease was released now.
    Released(LeaseRecord),
    /// This nonce's lease had already been released (idempotent repeat).
    AlreadyReleased,
    /// This nonce's lease had been reclaimed as stale by another acquirer: the caller lost it.
    WasReclaimed,
    /// No lease is held at all.
    NotHeld,
}

fn now_ms() -> Timestamp {
    let now = Timestamp::now();
    Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now)
}

fn plus(ts: Timestamp, ttl: Duration) -> Timestamp {
    SignedDuration::try_from(ttl)
        .ok()
        .and_then(|d| ts.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

fn new_nonce() -> String {
    format!(
        "{:x}-{:016x}{:016x}",
        std::process::id(),
        fastrand::u64(..),
        fastrand::u64(..)
    )
}

fn check_holder_id(holder: &str) -> Result<(), LeaseError> {
    if holder.trim().is_empty() || holder.contains(['\n', '\r']) {
        return Err(LeaseError::Invalid(format!(
            "holder id must be a non-empty single line, got {holder:?}"
        )));
    }
    Ok(())
}

/// Why `rec` is stale at `now`, if it is, judged from the record alone. [`status`] and
/// [`acquire`] also keep a lease whose holder process is gone as long as a process group
/// that holder recorded still runs (see [`record_children`]).
pub fn stale_reason(rec: &LeaseRecord, now: Timestamp) -> Option<StaleReason> {
    if now >= rec.expires_at {
        return Some(StaleReason::Expired);
    }
    match &rec.process {
        Some(p) if process::liveness(&rec.host, p) == Liveness::Dead => {
            Some(StaleReason::HolderProcessGone)
        }
        _ => None,
    }
}

/// [`stale_reason`], except that a holder whose recorded process group still has members
/// is not gone: its processes may still work in what the lease protects.
fn stale_at(loc: &LeaseLocation, rec: &LeaseRecord, now: Timestamp) -> Option<StaleReason> {
    match stale_reason(rec, now) {
        Some(StaleReason::HolderProcessGone) if children::holder_children_alive(loc, rec) => None,
        other => other,
    }
}

/// The current lease record with the (dev, inode) of the file it was read from.
struct Current {
    record: LeaseRecord,
    id: (u64, u64),
}

fn read_current(loc: &LeaseLocation) -> Result<Option<Current>, LeaseError> {
    let path = loc.lease_path();
    let mut f = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(&path)(e)),
    };
    let md = f.metadata().map_err(io_err(&path))?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).map_err(io_err(&path))?;
    let record = LeaseRecord::from_bytes(&bytes).map_err(|e| LeaseError::Corrupt {
        path: path.clone(),
        message: e.to_string(),
    })?;
    Ok(Some(Current {
        record,
        id: (md.dev(), md.ino()),
    }))
}

/// Rename the lease to a tombstone `<stem>.<kind>.<nonce>`. Caller holds the mutex; the
/// path must still name the inode `cur` was read from, with the same nonce.
fn move_aside(loc: &LeaseLocation, cur: &Current, kind: &str) -> Result<bool, LeaseError> {
    let path = loc.lease_path();
    let Some(again) = read_current(loc)? else {
        return Ok(false);
    };
    if again.id != cur.id || again.record.nonce != cur.record.nonce {
        return Ok(false);
    }
    let tomb = loc.side_path(kind, &cur.record.nonce);
    fs::rename(&path, &tomb).map_err(io_err(&path))?;
    // No directory fsync here: if a crash of the machine loses this rename, the old record
    // comes back, which only errs on the side of "held" (it is stale again at once or at
    // its expiry). Acquisition syncs the directory before it reports success.
    Ok(true)
}

fn read_seq(loc: &LeaseLocation) -> Result<u64, LeaseError> {
    let path = loc.seq_path();
    match fs::read_to_string(&path) {
        Ok(s) => s.trim().parse().map_err(|_| LeaseError::Corrupt {
            path: path.clone(),
            message: format!("fencing counter is not a number: {:?}", s.trim()),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(io_err(&path)(e)),
    }
}

fn write_seq(loc: &LeaseLocation, value: u64, nonce: &str) -> Result<(), LeaseError> {
    let tmp = loc.side_path("tmp", &format!("seq-{nonce}"));
    write_new_synced(&tmp, format!("{value}\n").as_bytes())?;
    let path = loc.seq_path();
    // Made durable by the directory fsync that follows the publication of the lease.
    fsutil::rename_over_regular(&tmp, &path)?;
    Ok(())
}

/// Replace the lease with `rec` (same holder, same nonce). Caller holds the mutex.
fn republish(loc: &LeaseLocation, rec: &LeaseRecord) -> Result<(), LeaseError> {
    let tmp = loc.side_path("tmp", &format!("{}-{}", rec.nonce, fastrand::u32(..)));
    write_new_synced(&tmp, &rec.to_bytes())?;
    let path = loc.lease_path();
    fsutil::rename_over_regular(&tmp, &path)?;
    sync_dir(loc.dir());
    Ok(())
}

/// Delete leftovers: every temp file (they only exist while a writer holds the mutex, so
/// any we see under the mutex belong to a crashed process) and old tombstones.
fn collect_garbage(loc: &LeaseLocation) {
    for p in side_files(loc.dir(), loc.stem(), "tmp") {
        let _ = fs::remove_file(p);
    }
    for kind in ["stale", "released"] {
        for p in side_files(loc.dir(), loc.stem(), kind) {
            let old = fs::metadata(&p)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > TOMBSTONE_KEEP);
            if old {
                let _ = fs::remove_file(p);
            }
        }
    }
}

/// Acquire the lease, reclaiming it first if it is stale.
///
/// Returns [`Acquisition::Busy`] with the current record when a live lease exists (nothing
/// is changed then). The lease is not re-entrant: the same holder id asking again is busy.
///
/// ```
/// use std::time::Duration;
/// use portcullis::lease::{acquire, Acquisition, AcquireOptions, LeaseLocation};
///
/// let dir = tempfile::tempdir().unwrap();
/// let loc = LeaseLocation::new(dir.path(), "example.org/repo").unwrap();
/// // A lease with a TTL of zero is stale at once: the next acquisition reclaims it.
/// let Acquisition::Acquired(a) =
///     acquire(&loc, &AcquireOptions::new("a", Duration::ZERO)).unwrap() else { panic!() };
/// let Acquisition::Acquired(b) =
///     acquire(&loc, &AcquireOptions::new("b", Duration::from_secs(60))).unwrap() else { panic!() };
/// assert!(b.fencing_token > a.fencing_token);
/// ```
pub fn acquire(loc: &LeaseLocation, opts: &AcquireOptions) -> Result<Acquisition, LeaseError> {
    if let Some(t) = loc.postgres() {
        return pg::acquire(t, loc, opts);
    }
    check_holder_id(&opts.holder)?;
    ensure_dir(loc.dir())?;
    // Fast path without the mutex: a live, complete record means busy (nothing changes).
    if let Some(cur) = read_current(loc)?
        && stale_at(loc, &cur.record, Timestamp::now()).is_none()
    {
        return Ok(Acquisition::Busy(cur.record));
    }
    record::prepare_redaction(&[&opts.holder, opts.branch.as_deref().unwrap_or("")]);
    let _guard = lock_mutex(&loc.mutex_path(), MUTEX_WAIT)?;
    let mut last_token = read_seq(loc)?;
    if let Some(cur) = read_current(loc)? {
        last_token = last_token.max(cur.record.fencing_token);
        if stale_at(loc, &cur.record, Timestamp::now()).is_none() {
            return Ok(Acquisition::Busy(cur.record));
        }
        if !move_aside(loc, &cur, "stale")? {
            // Cannot happen while every writer uses the mutex; report what is there now.
            return match read_current(loc)? {
                Some(now) => Ok(Acquisition::Busy(now.record)),
                None => Err(LeaseError::Corrupt {
                    path: loc.lease_path(),
                    message: "lease changed under the mutex".into(),
                }),
            };
        }
    }
    let nonce = new_nonce();
    let token = last_token + 1;
    if token % GC_EVERY == 1 {
        collect_garbage(loc);
    }
    // The counter is durable before the lease is published: a crash in between leaves a
    // gap in the tokens, never a repeat.
    write_seq(loc, token, &nonce)?;
    let acquired_at = now_ms();
    let record = LeaseRecord {
        version: RECORD_VERSION,
        key: loc.key().to_string(),
        holder: opts.holder.clone(),
        host: hostname(),
        branch: opts.branch.clone(),
        base_sha: opts.base_sha.clone(),
        acquired_at,
        expires_at: plus(acquired_at, opts.ttl),
        fencing_token: token,
        nonce: nonce.clone(),
        process: opts.process.clone(),
    };
    let tmp = loc.side_path("tmp", &nonce);
    write_new_synced(&tmp, &record.to_bytes())?;
    let path = loc.lease_path();
    let linked = fs::hard_link(&tmp, &path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            sync_dir(loc.dir());
            Ok(Acquisition::Acquired(record))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match read_current(loc)? {
            Some(cur) => Ok(Acquisition::Busy(cur.record)),
            None => Err(io_err(&path)(e)),
        },
        Err(e) => Err(io_err(&path)(e)),
    }
}

fn check_owner(
    loc: &LeaseLocation,
    rec: &LeaseRecord,
    holder: &str,
    nonce: Option<&str>,
) -> Result<(), LeaseError> {
    if !rec.holder_is(holder) {
        return Err(LeaseError::WrongHolder {
            path: loc.lease_path(),
            holder: rec.holder.clone(),
            requested: holder.to_string(),
        });
    }
    if nonce.is_some_and(|n| n != rec.nonce) {
        return Err(LeaseError::NonceMismatch {
            path: loc.lease_path(),
            holder: rec.holder.clone(),
        });
    }
    Ok(())
}

/// Extend the lease of `holder` (and `nonce`, if given) to `now + ttl`, keeping its process
/// binding. Refused (nothing changes) for another holder or nonce.
///
/// ```
/// use std::time::Duration;
/// use portcullis::lease::{acquire, renew, Acquisition, AcquireOptions, LeaseLocation};
///
/// let dir = tempfile::tempdir().unwrap();
/// let loc = LeaseLocation::new(dir.path(), "example.org/repo").unwrap();
/// let Acquisition::Acquired(rec) =
///     acquire(&loc, &AcquireOptions::new("a", Duration::from_secs(5))).unwrap() else { panic!() };
/// let longer = renew(&loc, "a", Some(&rec.nonce), Duration::from_secs(3600)).unwrap();
/// assert!(longer.expires_at > rec.expires_at);
/// assert_eq!(longer.fencing_token, rec.fencing_token);
/// assert!(renew(&loc, "b", None, Duration::from_secs(3600)).is_err());
/// ```
pub fn renew(
    loc: &LeaseLocation,
    holder: &str,
    nonce: Option<&str>,
    ttl: Duration,
) -> Result<LeaseRecord, LeaseError> {
    renew_with(loc, holder, nonce, ttl, Binding::Keep)
}

/// [`renew`], also changing the process binding (the gate clears it on PASS so the lease
/// survives the gate's exit).
pub fn renew_with(
    loc: &LeaseLocation,
    holder: &str,
    nonce: Option<&str>,
    ttl: Duration,
    binding: Binding,
) -> Result<LeaseRecord, LeaseError> {
    if let Some(t) = loc.postgres() {
        return pg::renew_with(t, loc, holder, nonce, ttl, binding);
    }
    check_holder_id(holder)?;
    ensure_dir(loc.dir())?;
    record::prepare_redaction(&[holder]);
    let _guard = lock_mutex(&loc.mutex_path(), MUTEX_WAIT)?;
    let Some(cur) = read_current(loc)? else {
        return Err(LeaseError::NotHeld {
            path: loc.lease_path(),
        });
    };
    check_owner(loc, &cur.record, holder, nonce)?;
    let mut rec = cur.record;
    rec.expires_at = plus(now_ms(), ttl);
    match binding {
        Binding::Keep => {}
        Binding::Clear => rec.process = None,
        Binding::Set(b) => rec.process = Some(b),
    }
    republish(loc, &rec)?;
    Ok(rec)
}

/// Release the lease of `holder` (and `nonce`, if given).
///
/// Refused with [`LeaseError::WrongHolder`] / [`LeaseError::NonceMismatch`] when the lease
/// belongs to someone else: nothing changes. Idempotent for the rightful holder: releasing
/// again returns [`Released::AlreadyReleased`] (with the nonce) or [`Released::NotHeld`].
///
/// ```
/// use std::time::Duration;
/// use portcullis::lease::{acquire, release, Acquisition, AcquireOptions, LeaseLocation, Released};
///
/// let dir = tempfile::tempdir().unwrap();
/// let loc = LeaseLocation::new(dir.path(), "example.org/repo").unwrap();
/// let Acquisition::Acquired(rec) =
///     acquire(&loc, &AcquireOptions::new("a", Duration::from_secs(60))).unwrap() else { panic!() };
/// assert!(release(&loc, "intruder", None).is_err());
/// assert!(matches!(release(&loc, "a", Some(&rec.nonce)).unwrap(), Released::Released(_)));
/// assert_eq!(release(&loc, "a", Some(&rec.nonce)).unwrap(), Released::AlreadyReleased);
/// ```
pub fn release(
    loc: &LeaseLocation,
    holder: &str,
    nonce: Option<&str>,
) -> Result<Released, LeaseError> {
    if let Some(t) = loc.postgres() {
        return pg::release(t, loc, holder, nonce);
    }
    check_holder_id(holder)?;
    ensure_dir(loc.dir())?;
    record::prepare_redaction(&[holder]);
    let _guard = lock_mutex(&loc.mutex_path(), MUTEX_WAIT)?;
    let earlier = || {
        let n = nonce?;
        if loc.side_path("released", n).exists() {
            Some(Released::AlreadyReleased)
        } else if loc.side_path("stale", n).exists() {
            Some(Released::WasReclaimed)
        } else {
            None
        }
    };
    let Some(cur) = read_current(loc)? else {
        return Ok(earlier().unwrap_or(Released::NotHeld));
    };
    if let Err(refused) = check_owner(loc, &cur.record, holder, nonce) {
        return earlier().ok_or(refused);
    }
    if move_aside(loc, &cur, "released")? {
        Ok(Released::Released(cur.record))
    } else {
        Err(LeaseError::Corrupt {
            path: loc.lease_path(),
            message: "lease changed under the mutex".into(),
        })
    }
}

/// The current lease, if any, and whether it is stale. Reads only; takes no lock.
///
/// ```
/// use portcullis::lease::{status, LeaseLocation, LeaseState};
/// let dir = tempfile::tempdir().unwrap();
/// let loc = LeaseLocation::new(dir.path(), "example.org/repo").unwrap();
/// assert_eq!(status(&loc).unwrap(), LeaseState::Free);
/// ```
pub fn status(loc: &LeaseLocation) -> Result<LeaseState, LeaseError> {
    if let Some(t) = loc.postgres() {
        return pg::status(t, loc);
    }
    Ok(match read_current(loc)? {
        None => LeaseState::Free,
        Some(cur) => {
            let stale = stale_at(loc, &cur.record, Timestamp::now());
            LeaseState::Held {
                record: cur.record,
                stale,
            }
        }
    })
}

/// The last fencing token handed out for this lease (0 if none).
pub fn last_fencing_token(loc: &LeaseLocation) -> Result<u64, LeaseError> {
    if let Some(t) = loc.postgres() {
        return pg::last_fencing_token(t, loc);
    }
    read_seq(loc)
}
