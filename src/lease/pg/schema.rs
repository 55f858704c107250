//! The lease tables, created on first use and versioned.
//!
//! `portcullis_lease` holds one row per lease key. A row is never deleted: releasing a lease
//! clears its holder columns and keeps `last_token`, so fencing tokens keep increasing
//! through releases, reclaims and server restarts. `portcullis_lease_schema` holds one row
//! with the schema version, so a later release can migrate the tables.

use postgres::Client;

use super::target::PgTarget;
use crate::lease::LeaseError;

/// The schema version this release writes and understands.
pub const SCHEMA_VERSION: i32 = 1;

/// Advisory lock id taken while creating or migrating the schema (any fixed number; it is
/// "portcull" in ASCII).
const SCHEMA_LOCK: i64 = 0x706f_7274_6375_6c6c;

const CREATE: &str = "
CREATE TABLE IF NOT EXISTS portcullis_lease_schema (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    version integer NOT NULL
);
CREATE TABLE IF NOT EXISTS portcullis_lease (
    lease_key text PRIMARY KEY,
    last_token bigint NOT NULL DEFAULT 0 CHECK (last_token >= 0),
    holder text,
    nonce text,
    host text,
    branch text,
    base_sha text,
    process text,
    acquired_at timestamptz,
    expires_at timestamptz,
    ended_nonces text[] NOT NULL DEFAULT '{}',
    CHECK ((holder IS NULL) = (nonce IS NULL))
);
";

/// Make sure the tables exist at [`SCHEMA_VERSION`] (creating them under an advisory lock
/// on first use); refuse a database written by a newer release.
pub(crate) fn ensure(client: &mut Client, t: &PgTarget) -> Result<(), LeaseError> {
    if let Some(v) = current_version(client, t)?
        && v == SCHEMA_VERSION
    {
        return Ok(());
    }
    let mut tx = client.transaction().map_err(|e| t.error(&e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .map_err(|e| t.error(&e))?;
    tx.batch_execute(CREATE).map_err(|e| t.error(&e))?;
    tx.execute(
        "INSERT INTO portcullis_lease_schema (id, version) VALUES (true, $1) \
         ON CONFLICT (id) DO NOTHING",
        &[&SCHEMA_VERSION],
    )
    .map_err(|e| t.error(&e))?;
    let row = tx
        .query_one("SELECT version FROM portcullis_lease_schema", &[])
        .map_err(|e| t.error(&e))?;
    let version: i32 = row.get(0);
    if version > SCHEMA_VERSION {
        return Err(newer(t, version));
    }
    // Version 1 is the first: nothing to migrate yet. Later releases migrate here, under
    // the advisory lock, and bump the version row in the same transaction.
    tx.commit().map_err(|e| t.error(&e))
}

fn newer(t: &PgTarget, version: i32) -> LeaseError {
    LeaseError::Database {
        location: t.redacted().to_string(),
        message: format!(
            "lease schema version {version} is newer than this release understands \
             ({SCHEMA_VERSION}); upgrade portcullis"
        ),
    }
}

fn current_version(client: &mut Client, t: &PgTarget) -> Result<Option<i32>, LeaseError> {
    let rows = client
        .query(
            "SELECT version FROM portcullis_lease_schema \
             WHERE to_regclass('portcullis_lease') IS NOT NULL",
            &[],
        )
        .or_else(|e| {
            if e.code() == Some(&postgres::error::SqlState::UNDEFINED_TABLE) {
                Ok(Vec::new())
            } else {
                Err(t.error(&e))
            }
        })?;
    match rows.first().map(|r| r.get::<_, i32>(0)) {
        Some(v) if v > SCHEMA_VERSION => Err(newer(t, v)),
        v => Ok(v),
    }
}
