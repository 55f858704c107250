//! Running a step only while a fencing token still holds its lease (the landing step of
//! a gate: "push main only if my lease is still mine").

use super::fsutil::{MUTEX_WAIT, ensure_dir, lock_mutex};
use super::{LeaseError, LeaseLocation, check_holder_id, check_owner, read_current, stale_reason};

/// Run `f` only if `holder` still holds the lease with this `nonce` and fencing `token`, and
/// it is not stale; no one can reclaim or release the lease while `f` runs.
///
/// * File backend: `f` runs under the lease's mutex.
/// * PostgreSQL: `f` runs inside one transaction that holds the lease row locked
///   (`SELECT ... FOR UPDATE`), expiry judged by the database's clock; acquirers wait for
///   the lock (up to the lock timeout, then report busy). If the connection fails while
///   `f` runs, the lock may have ended early: the result is then
///   [`LeaseError::Fenced`] even though `f` ran, and the caller must treat the step as
///   failed (the remote's compare-and-swap remains the fence of last resort).
///
/// Returns [`LeaseError::Fenced`] (or [`LeaseError::WrongHolder`] /
/// [`LeaseError::NonceMismatch`]) without running `f` when the lease is no longer the
/// caller's. Keep `f` short: it delays every other acquirer.
///
/// ```
/// use std::time::Duration;
/// use portcullis::lease::{self, Acquisition, AcquireOptions, LeaseLocation};
///
/// let dir = tempfile::tempdir().unwrap();
/// let loc = LeaseLocation::new(dir.path(), "example.org/repo").unwrap();
/// let Acquisition::Acquired(rec) =
///     lease::acquire(&loc, &AcquireOptions::new("a", Duration::from_secs(60))).unwrap()
/// else { panic!() };
/// let landed = lease::while_held(&loc, "a", &rec.nonce, rec.fencing_token, || "pushed");
/// assert_eq!(landed.unwrap(), "pushed");
/// let stale = lease::while_held(&loc, "a", &rec.nonce, rec.fencing_token + 1, || "pushed");
/// assert!(stale.is_err());
/// ```
pub fn while_held<T>(
    loc: &LeaseLocation,
    holder: &str,
    nonce: &str,
    token: u64,
    f: impl FnOnce() -> T,
) -> Result<T, LeaseError> {
    if let Some(t) = loc.postgres() {
        return super::pg::while_held(t, loc, holder, nonce, token, f);
    }
    check_holder_id(holder)?;
    ensure_dir(loc.dir())?;
    let _guard = lock_mutex(&loc.mutex_path(), MUTEX_WAIT)?;
    let fenced = |message: String| LeaseError::Fenced {
        path: loc.lease_path(),
        message,
    };
    let Some(cur) = read_current(loc)? else {
        return Err(fenced("no lease is held".into()));
    };
    check_owner(loc, &cur.record, holder, Some(nonce))?;
    if cur.record.fencing_token != token {
        return Err(fenced(format!(
            "fencing token {token} is superseded by {}",
            cur.record.fencing_token
        )));
    }
    if let Some(why) = stale_reason(&cur.record, jiff::Timestamp::now()) {
        return Err(fenced(format!("the lease is stale ({})", why.as_str())));
    }
    Ok(f())
}
