//! The process group a lease holder is running, recorded next to the lease in
//! `<stem>.children`, so that its processes outlive neither the lease nor the holder unseen.
//!
//! * While the holder runs a child (the merge gate's test command, its git commands in the
//!   worktree), the group is recorded with the holder's nonce; it is cleared once the group
//!   is gone.
//! * A lease whose holder process died is **not stale while that group still has members**
//!   ([`super::status`], [`super::acquire`]): its processes may still be writing to the
//!   worktree the lease protects.
//! * [`end_leftover_children`] ends a recorded group that no live holder owns (its holder
//!   process is gone, or its lease was released or reclaimed), so the next holder starts on a
//!   quiet worktree.
//!
//! Every write and removal happens under the lease mutex; the file is replaced by rename.

use std::fs;
use std::io::Write;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::fsutil::{MUTEX_WAIT, ensure_dir, io_err, lock_mutex};
use super::group::{GroupEndError, ProcessGroup};
use super::process::{Liveness, liveness};
use super::{LeaseError, LeaseLocation, LeaseRecord, check_holder_id, check_owner, read_current};

/// How long [`end_leftover_children`] waits for killed processes to disappear.
const END_WAIT: Duration = Duration::from_secs(5);

/// A process group recorded by a lease holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderChildren {
    /// Nonce of the lease acquisition that started the group.
    pub nonce: String,
    /// What the group runs (e.g. `test command`, `git rebase`), for messages.
    pub what: String,
    /// The group.
    pub group: ProcessGroup,
}

/// What [`end_leftover_children`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndedChildren {
    /// The record of the group that was ended.
    pub children: HolderChildren,
    /// How many processes were sent SIGKILL.
    pub killed: usize,
}

/// The recorded group, if any (`Corrupt` when the file is not a valid record).
pub fn children(loc: &LeaseLocation) -> Result<Option<HolderChildren>, LeaseError> {
    let path = loc.children_path();
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(&path)(e)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| LeaseError::Corrupt {
            path,
            message: format!("process group record: {e}"),
        })
}

/// Record that the holder of the lease (`holder`, `nonce`) runs `group` (call it before the
/// group starts, and again once its leader runs). Refused (nothing changes) unless the lease
/// is theirs, or while a group of an earlier holder still lives; an earlier record of theirs
/// is replaced.
pub fn record_children(
    loc: &LeaseLocation,
    holder: &str,
    nonce: &str,
    group: &ProcessGroup,
    what: &str,
) -> Result<(), LeaseError> {
    check_holder_id(holder)?;
    ensure_dir(loc.dir())?;
    let _guard = lock_mutex(&loc.mutex_path(), MUTEX_WAIT)?;
    // A file lease is checked here, under the same mutex as the lease. A lease in PostgreSQL
    // is not: the record is local to this host, written before every child the gate starts,
    // and the holder proves the lease is theirs by renewing it in the database; a database
    // that has gone away fails that renewal with `lease_error`.
    if loc.postgres().is_none() {
        let Some(cur) = read_current(loc)? else {
            return Err(LeaseError::NotHeld {
                path: loc.lease_path(),
            });
        };
        check_owner(loc, &cur.record, holder, Some(nonce))?;
    }
    if let Some(other) = children(loc)?
        && other.nonce != nonce
        && other.group.is_alive()
    {
        return Err(LeaseError::Invalid(format!(
            "{}: a process group of an earlier holder ({}) is still running; end it first",
            loc.children_path().display(),
            other.what
        )));
    }
    let rec = HolderChildren {
        nonce: nonce.to_string(),
        what: what.to_string(),
        group: group.clone(),
    };
    let mut bytes = serde_json::to_vec_pretty(&rec).map_err(|e| LeaseError::Corrupt {
        path: loc.children_path(),
        message: e.to_string(),
    })?;
    bytes.push(b'\n');
    // Not fsynced: the processes it names do not survive a crash of the machine either.
    let tmp = loc.side_path("tmp", &format!("children-{nonce}-{}", fastrand::u32(..)));
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(io_err(&tmp))?;
    f.write_all(&bytes).map_err(io_err(&tmp))?;
    drop(f);
    let path = loc.children_path();
    fs::rename(&tmp, &path).map_err(io_err(&path))
}

/// Remove the record of `group` (by its marker) started under `nonce` (no-op if the file
/// records another group or nonce, or none).
pub fn clear_children(
    loc: &LeaseLocation,
    nonce: &str,
    group: &ProcessGroup,
) -> Result<(), LeaseError> {
    ensure_dir(loc.dir())?;
    let _guard = lock_mutex(&loc.mutex_path(), MUTEX_WAIT)?;
    clear_locked(loc, |c| c.nonce == nonce && c.group.marker == group.marker)
}

fn clear_locked(
    loc: &LeaseLocation,
    which: impl Fn(&HolderChildren) -> bool,
) -> Result<(), LeaseError> {
    let path = loc.children_path();
    match children(loc) {
        Ok(Some(c)) if which(&c) => match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&path)(e)),
        },
        Ok(_) => Ok(()),
        Err(e) => Err(e),
    }
}

/// True when the recorded group belongs to the live holder of `current` (the holder process
/// is alive, or cannot be judged from here, or the lease is not bound to a process).
fn owned_by_live_holder(current: Option<&LeaseRecord>, c: &HolderChildren) -> bool {
    let Some(rec) = current else {
        return false;
    };
    if rec.nonce != c.nonce {
        return false;
    }
    match &rec.process {
        Some(p) => liveness(&rec.host, p) != Liveness::Dead,
        None => true,
    }
}

/// End the recorded process group unless a live holder owns it: its holder process died
/// (the lease then becomes stale and can be reclaimed), or its lease was released or
/// reclaimed meanwhile. Waits until the processes are gone. `Ok(None)`: nothing to end.
///
/// ```
/// use portcullis::lease::{end_leftover_children, LeaseLocation};
/// let dir = tempfile::tempdir().unwrap();
/// let loc = LeaseLocation::new(dir.path(), "example.org/repo").unwrap();
/// assert_eq!(end_leftover_children(&loc).unwrap(), None);
/// ```
pub fn end_leftover_children(loc: &LeaseLocation) -> Result<Option<EndedChildren>, LeaseError> {
    if !loc.children_path().exists() {
        return Ok(None);
    }
    ensure_dir(loc.dir())?;
    let _guard = lock_mutex(&loc.mutex_path(), MUTEX_WAIT)?;
    let Some(c) = children(loc)? else {
        return Ok(None);
    };
    let current = current_record(loc)?;
    if owned_by_live_holder(current.as_ref(), &c) {
        return Ok(None);
    }
    let killed = match c.group.end(END_WAIT) {
        Ok(n) => n,
        // Another host or pid namespace: nothing can be judged or signalled from here.
        Err(GroupEndError::Unknown) => return Ok(None),
        Err(e @ GroupEndError::Survived(_)) => {
            return Err(LeaseError::Invalid(format!(
                "{}: leftover {} of an earlier holder: {e}",
                loc.children_path().display(),
                c.what
            )));
        }
    };
    let nonce = c.nonce.clone();
    clear_locked(loc, |x| x.nonce == nonce)?;
    Ok(Some(EndedChildren {
        children: c,
        killed,
    }))
}

/// The record of the current lease holder, from the lease file or from the database.
fn current_record(loc: &LeaseLocation) -> Result<Option<LeaseRecord>, LeaseError> {
    if loc.postgres().is_some() {
        return Ok(match super::status(loc)? {
            super::LeaseState::Held { record, .. } => Some(record),
            _ => None,
        });
    }
    Ok(read_current(loc)?.map(|cur| cur.record))
}

/// True if `rec`'s holder recorded a process group that still has members.
pub(super) fn holder_children_alive(loc: &LeaseLocation, rec: &LeaseRecord) -> bool {
    match children(loc) {
        Ok(Some(c)) => c.nonce == rec.nonce && c.group.is_alive(),
        Ok(None) => false,
        // An unreadable record: assume the worst (the processes may live).
        Err(_) => true,
    }
}
