//! The merge lease in a PostgreSQL database: the same contract as the file lease, shared by
//! every host that reaches the database.
//!
//! * One row per lease key in `portcullis_lease` (see [`schema`]); a free lease is a row
//!   whose holder is NULL. Rows are never deleted, so `last_token` (the fencing counter)
//!   survives releases and reclaims: tokens strictly increase per key across all hosts.
//! * Acquire, renew and release each run in one transaction that locks the row
//!   (`SELECT ... FOR UPDATE`) before deciding: two acquirers of a stale lease serialise on
//!   the row lock and the second sees the first's fresh lease. Never two holders.
//! * Expiry is judged by the database's clock (`now()`, `statement_timestamp()`), never by
//!   the hosts' clocks. A lease bound to a process is also stale once that process is gone,
//!   judged only on the host that took it ([`host_id`]).
//! * Every operation opens its own connection (a lost connection loses nothing but that
//!   operation; the next one reconnects) with connect, statement and lock timeouts, so a
//!   database that does not answer is an error within seconds, never a hang.

mod pgpass;
pub mod schema;
mod target;

pub use target::PgTarget;

use jiff::Timestamp;
use postgres::error::SqlState;
use postgres::{Client, Row, Transaction};

use super::process::{self, Liveness, ProcessBinding};
use super::{
    AcquireOptions, Acquisition, Binding, LeaseError, LeaseLocation, LeaseRecord, LeaseState,
    RECORD_VERSION, Released, StaleReason, check_holder_id, new_nonce,
};

/// Entries of `ended_nonces` kept per key (newest first), to answer a repeated release.
const ENDED_KEEP: i32 = 64;
/// Longest TTL stored (100 years); longer ones are capped.
const MAX_TTL_MS: i64 = 100 * 365 * 24 * 3600 * 1000;

const COLS: &str = "last_token, holder, nonce, host, branch, base_sha, process, \
    (extract(epoch FROM acquired_at) * 1000)::bigint, \
    (extract(epoch FROM expires_at) * 1000)::bigint, \
    coalesce(expires_at <= now(), false), ended_nonces";

/// The host id recorded in PostgreSQL leases: `PORTCULLIS_HOST_ID` if set, else the host
/// name. Containers that share a host name but not a process table must set distinct ids.
pub fn host_id() -> String {
    std::env::var("PORTCULLIS_HOST_ID")
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(process::hostname)
}

/// One lease row as read.
struct LeaseRow {
    last_token: u64,
    record: Option<LeaseRecord>,
    expired: bool,
    ended: Vec<String>,
}

fn ms(v: Option<i64>) -> Timestamp {
    v.and_then(|m| Timestamp::from_millisecond(m).ok())
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

fn token_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn parse_row(key: &str, row: &Row) -> LeaseRow {
    let last_token = token_of(row.get(0));
    let holder: Option<String> = row.get(1);
    let nonce: Option<String> = row.get(2);
    let record = match (holder, nonce) {
        (Some(holder), Some(nonce)) => {
            let process: Option<String> = row.get(6);
            Some(LeaseRecord {
                version: RECORD_VERSION,
                key: key.to_string(),
                holder,
                host: row.get::<_, Option<String>>(3).unwrap_or_default(),
                branch: row.get(4),
                base_sha: row.get(5),
                acquired_at: ms(row.get(7)),
                expires_at: ms(row.get(8)),
                fencing_token: last_token,
                nonce,
                // An unreadable binding counts as none: the TTL still bounds the lease.
                process: process.and_then(|p| serde_json::from_str::<ProcessBinding>(&p).ok()),
            })
        }
        _ => None,
    };
    LeaseRow {
        last_token,
        record,
        expired: row.get(9),
        ended: row.get(10),
    }
}

/// Why the row's lease is stale, if it is (expiry by the database's clock).
fn stale_of(row: &LeaseRow) -> Option<StaleReason> {
    let rec = row.record.as_ref()?;
    if row.expired {
        return Some(StaleReason::Expired);
    }
    match &rec.process {
        Some(p)
            if rec.host == host_id()
                && process::liveness(&process::hostname(), p) == Liveness::Dead =>
        {
            Some(StaleReason::HolderProcessGone)
        }
        _ => None,
    }
}

fn session(t: &PgTarget) -> Result<Client, LeaseError> {
    let mut client = t.connect()?;
    schema::ensure(&mut client, t)?;
    Ok(client)
}

fn read_row(
    tx: &mut Transaction<'_>,
    t: &PgTarget,
    key: &str,
    lock: bool,
) -> Result<Option<LeaseRow>, LeaseError> {
    let sql = format!(
        "SELECT {COLS} FROM portcullis_lease WHERE lease_key = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let rows = tx.query(&sql, &[&key]).map_err(|e| t.error(&e))?;
    Ok(rows.first().map(|r| parse_row(key, r)))
}

fn ttl_ms(ttl: std::time::Duration) -> i64 {
    i64::try_from(ttl.as_millis())
        .unwrap_or(MAX_TTL_MS)
        .min(MAX_TTL_MS)
}

fn binding_json(p: &Option<ProcessBinding>) -> Option<String> {
    p.as_ref().and_then(|b| serde_json::to_string(b).ok())
}

/// A busy answer for a row that another transaction has locked for longer than the lock
/// timeout (a holder landing under [`super::while_held`]): read it without the lock.
fn busy_while_locked(
    client: &mut Client,
    t: &PgTarget,
    key: &str,
) -> Result<Acquisition, LeaseError> {
    let mut tx = client.transaction().map_err(|e| t.error(&e))?;
    match read_row(&mut tx, t, key, false)?.and_then(|r| r.record) {
        Some(rec) => Ok(Acquisition::Busy(rec)),
        None => Err(LeaseError::Database {
            location: t.redacted().to_string(),
            message: "lease row is locked by another session; try again".into(),
        }),
    }
}

fn is_lock_timeout(e: &LeaseError, raw: &postgres::Error) -> bool {
    matches!(e, LeaseError::Database { .. }) && raw.code() == Some(&SqlState::LOCK_NOT_AVAILABLE)
}

/// [`super::acquire`] on PostgreSQL.
pub(crate) fn acquire(
    t: &PgTarget,
    loc: &LeaseLocation,
    opts: &AcquireOptions,
) -> Result<Acquisition, LeaseError> {
    check_holder_id(&opts.holder)?;
    let key = loc.key();
    let mut client = session(t)?;
    let mut tx = client.transaction().map_err(|e| t.error(&e))?;
    tx.execute(
        "INSERT INTO portcullis_lease (lease_key) VALUES ($1) ON CONFLICT (lease_key) DO NOTHING",
        &[&key],
    )
    .map_err(|e| t.error(&e))?;
    let sql = format!("SELECT {COLS} FROM portcullis_lease WHERE lease_key = $1 FOR UPDATE");
    let row = match tx.query(&sql, &[&key]) {
        Ok(rows) => rows.first().map(|r| parse_row(key, r)),
        Err(raw) => {
            let e = t.error(&raw);
            drop(tx);
            if is_lock_timeout(&e, &raw) {
                return busy_while_locked(&mut client, t, key);
            }
            return Err(e);
        }
    };
    let Some(row) = row else {
        return Err(LeaseError::Database {
            location: t.redacted().to_string(),
            message: format!("lease row for {key:?} vanished"),
        });
    };
    let mut reclaimed = None;
    if let Some(rec) = &row.record {
        if stale_of(&row).is_none() {
            let rec = rec.clone();
            tx.rollback().map_err(|e| t.error(&e))?;
            return Ok(Acquisition::Busy(rec));
        }
        reclaimed = Some(format!("reclaimed:{}", rec.nonce));
    }
    let nonce = new_nonce();
    let host = host_id();
    let process = binding_json(&opts.process);
    let out = tx
        .query_one(
            "UPDATE portcullis_lease SET last_token = last_token + 1, holder = $2, nonce = $3, \
             host = $4, branch = $5, base_sha = $6, process = $7, \
             acquired_at = date_trunc('milliseconds', statement_timestamp()), \
             expires_at = date_trunc('milliseconds', statement_timestamp()) \
                 + $8::bigint * interval '1 millisecond', \
             ended_nonces = CASE WHEN $9::text IS NULL THEN ended_nonces \
                 ELSE (array_prepend($9::text, ended_nonces))[1:$10] END \
             WHERE lease_key = $1 \
             RETURNING last_token, (extract(epoch FROM acquired_at) * 1000)::bigint, \
                 (extract(epoch FROM expires_at) * 1000)::bigint",
            &[
                &key,
                &opts.holder,
                &nonce,
                &host,
                &opts.branch,
                &opts.base_sha,
                &process,
                &ttl_ms(opts.ttl),
                &reclaimed,
                &ENDED_KEEP,
            ],
        )
        .map_err(|e| t.error(&e))?;
    let record = LeaseRecord {
        version: RECORD_VERSION,
        key: key.to_string(),
        holder: opts.holder.clone(),
        host,
        branch: opts.branch.clone(),
        base_sha: opts.base_sha.clone(),
        acquired_at: ms(out.get(1)),
        expires_at: ms(out.get(2)),
        fencing_token: token_of(out.get(0)),
        nonce,
        process: opts.process.clone(),
    };
    // Held only once the commit is acknowledged; if the acknowledgement is lost the row
    // may hold an unknown lease, which expires by its TTL.
    tx.commit().map_err(|e| t.error(&e))?;
    Ok(Acquisition::Acquired(record))
}

fn check_owner(
    loc: &LeaseLocation,
    rec: &LeaseRecord,
    holder: &str,
    nonce: Option<&str>,
) -> Result<(), LeaseError> {
    super::check_owner(loc, rec, holder, nonce)
}

/// [`super::renew_with`] on PostgreSQL.
pub(crate) fn renew_with(
    t: &PgTarget,
    loc: &LeaseLocation,
    holder: &str,
    nonce: Option<&str>,
    ttl: std::time::Duration,
    binding: Binding,
) -> Result<LeaseRecord, LeaseError> {
    check_holder_id(holder)?;
    let key = loc.key();
    let mut client = session(t)?;
    let mut tx = client.transaction().map_err(|e| t.error(&e))?;
    let Some(rec) = read_row(&mut tx, t, key, true)?.and_then(|r| r.record) else {
        return Err(LeaseError::NotHeld {
            path: loc.lease_path(),
        });
    };
    check_owner(loc, &rec, holder, nonce)?;
    let (set_process, process) = match binding {
        Binding::Keep => (false, None),
        Binding::Clear => (true, None),
        Binding::Set(b) => (true, Some(b)),
    };
    let process_json = binding_json(&process);
    let out = tx
        .query_one(
            "UPDATE portcullis_lease SET \
             expires_at = date_trunc('milliseconds', statement_timestamp()) \
                 + $2::bigint * interval '1 millisecond', \
             process = CASE WHEN $3 THEN $4::text ELSE process END \
             WHERE lease_key = $1 \
             RETURNING (extract(epoch FROM expires_at) * 1000)::bigint",
            &[&key, &ttl_ms(ttl), &set_process, &process_json],
        )
        .map_err(|e| t.error(&e))?;
    let mut rec = rec;
    rec.expires_at = ms(out.get(0));
    if set_process {
        rec.process = process;
    }
    tx.commit().map_err(|e| t.error(&e))?;
    Ok(rec)
}

/// [`super::release`] on PostgreSQL.
pub(crate) fn release(
    t: &PgTarget,
    loc: &LeaseLocation,
    holder: &str,
    nonce: Option<&str>,
) -> Result<Released, LeaseError> {
    check_holder_id(holder)?;
    let key = loc.key();
    let mut client = session(t)?;
    let mut tx = client.transaction().map_err(|e| t.error(&e))?;
    let row = read_row(&mut tx, t, key, true)?;
    let earlier = |row: &Option<LeaseRow>| {
        let n = nonce?;
        let ended = &row.as_ref()?.ended;
        if ended.iter().any(|e| e == &format!("released:{n}")) {
            Some(Released::AlreadyReleased)
        } else if ended.iter().any(|e| e == &format!("reclaimed:{n}")) {
            Some(Released::WasReclaimed)
        } else {
            None
        }
    };
    let Some(rec) = row.as_ref().and_then(|r| r.record.clone()) else {
        return Ok(earlier(&row).unwrap_or(Released::NotHeld));
    };
    if let Err(refused) = check_owner(loc, &rec, holder, nonce) {
        return earlier(&row).ok_or(refused);
    }
    let ended = format!("released:{}", rec.nonce);
    tx.execute(
        "UPDATE portcullis_lease SET holder = NULL, nonce = NULL, host = NULL, branch = NULL, \
         base_sha = NULL, process = NULL, acquired_at = NULL, expires_at = NULL, \
         ended_nonces = (array_prepend($2::text, ended_nonces))[1:$3] \
         WHERE lease_key = $1",
        &[&key, &ended, &ENDED_KEEP],
    )
    .map_err(|e| t.error(&e))?;
    tx.commit().map_err(|e| t.error(&e))?;
    Ok(Released::Released(rec))
}

/// [`super::status`] on PostgreSQL.
pub(crate) fn status(t: &PgTarget, loc: &LeaseLocation) -> Result<LeaseState, LeaseError> {
    let mut client = session(t)?;
    let mut tx = client.transaction().map_err(|e| t.error(&e))?;
    let row = read_row(&mut tx, t, loc.key(), false)?;
    Ok(match row {
        Some(row) => {
            let stale = stale_of(&row);
            match row.record {
                Some(record) => LeaseState::Held { record, stale },
                None => LeaseState::Free,
            }
        }
        None => LeaseState::Free,
    })
}

/// [`super::last_fencing_token`] on PostgreSQL.
pub(crate) fn last_fencing_token(t: &PgTarget, loc: &LeaseLocation) -> Result<u64, LeaseError> {
    let mut client = session(t)?;
    let mut tx = client.transaction().map_err(|e| t.error(&e))?;
    Ok(read_row(&mut tx, t, loc.key(), false)?.map_or(0, |r| r.last_token))
}

/// [`super::while_held`] on PostgreSQL: lock the row, check the lease, run `f` while the row
/// stays locked (no one can reclaim it meanwhile), then end the transaction.
pub(crate) fn while_held<T>(
    t: &PgTarget,
    loc: &LeaseLocation,
    holder: &str,
    nonce: &str,
    token: u64,
    f: impl FnOnce() -> T,
) -> Result<T, LeaseError> {
    check_holder_id(holder)?;
    let mut client = session(t)?;
    let mut tx = client.transaction().map_err(|e| t.error(&e))?;
    let row = read_row(&mut tx, t, loc.key(), true)?;
    let fenced = |message: String| LeaseError::Fenced {
        path: loc.lease_path(),
        message,
    };
    let Some(row) = row else {
        return Err(fenced("no lease is held".into()));
    };
    let Some(rec) = row.record.clone() else {
        return Err(fenced("no lease is held".into()));
    };
    check_owner(loc, &rec, holder, Some(nonce))?;
    if rec.fencing_token != token {
        return Err(fenced(format!(
            "fencing token {token} is superseded by {}",
            rec.fencing_token
        )));
    }
    if let Some(why) = stale_of(&row) {
        return Err(fenced(format!("the lease is stale ({})", why.as_str())));
    }
    let out = f();
    tx.commit().map_err(|e| LeaseError::Fenced {
        path: loc.lease_path(),
        message: format!(
            "the database connection failed while the fenced step ran, so the lease may \
             have been lost before it ended: {}",
            t.error(&e)
        ),
    })?;
    Ok(out)
}
