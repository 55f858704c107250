//! The lease record: what the lease file contains (JSON, written complete before it is
//! published).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::process::ProcessBinding;

/// Version of the record format.
pub const RECORD_VERSION: u32 = 1;

/// One lease: who holds it, for what, until when, and with which fencing token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeaseRecord {
    /// Record format version ([`RECORD_VERSION`]).
    pub version: u32,
    /// The lease key (normalised remote URL of the repository).
    pub key: String,
    /// Holder id chosen by the caller (e.g. a pipeline task id).
    pub holder: String,
    /// Host name of the machine that acquired the lease.
    pub host: String,
    /// The branch being merged, if the holder said.
    #[serde(default)]
    pub branch: Option<String>,
    /// The main tip the holder works against, if known.
    #[serde(default)]
    pub base_sha: Option<String>,
    /// When the lease was acquired (RFC 3339, UTC).
    #[serde(with = "rfc3339")]
    pub acquired_at: Timestamp,
    /// When the lease becomes stale unless renewed (RFC 3339, UTC).
    #[serde(with = "rfc3339")]
    pub expires_at: Timestamp,
    /// Fencing token: strictly greater than every token handed out before for this key.
    pub fencing_token: u64,
    /// Random id of this acquisition; renew/release may require it.
    pub nonce: String,
    /// The gate process holding the lease, while one does; the lease is stale once it is gone.
    #[serde(default)]
    pub process: Option<ProcessBinding>,
}

impl LeaseRecord {
    /// The record as written to the lease file. Holder and branch names go through the
    /// redaction pass first (a branch named after a leaked key must not be stored raw).
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut stored = self.clone();
        stored.holder = stored_name(&self.holder);
        stored.branch = self.branch.as_deref().map(stored_name);
        let mut v = serde_json::to_vec_pretty(&stored).unwrap_or_default();
        v.push(b'\n');
        v
    }

    /// True if this record (as read back from the file) belongs to `holder`: the holder id
    /// as given, or as the lease file stores it after redaction.
    pub fn holder_is(&self, holder: &str) -> bool {
        self.holder == holder || self.holder == stored_name(holder)
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<LeaseRecord, RecordError> {
        let rec: LeaseRecord = serde_json::from_slice(bytes).map_err(RecordError::Json)?;
        if rec.version != RECORD_VERSION {
            return Err(RecordError::Version(rec.version));
        }
        if rec.nonce.is_empty() || rec.holder.is_empty() {
            return Err(RecordError::Empty);
        }
        Ok(rec)
    }
}

/// Why a lease file's content is not a usable record.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RecordError {
    /// Not the JSON of a record.
    #[error(transparent)]
    Json(serde_json::Error),
    /// Written by a version with another record format.
    #[error("unsupported lease record version {0}")]
    Version(u32),
    /// A record without holder or nonce.
    #[error("lease record has an empty holder or nonce")]
    Empty,
}

/// How a holder or branch name is stored: secrets the default rules find in it replaced.
/// Names without a run of [`MIN_SECRET_RUN`] letters and digits (`slot3-1234`,
/// `merge-gate:task@host`) cannot hold a token and are stored as they are, without running
/// the detector.
pub(crate) fn stored_name(name: &str) -> String {
    if !may_hold_secret(name) {
        return name.to_string();
    }
    crate::report::redact::scrub_line(&crate::report::redact::Redactor::default(), name)
}

/// Shortest run of ASCII letters and digits treated as a possible token in a name.
pub(crate) const MIN_SECRET_RUN: usize = 10;

fn may_hold_secret(name: &str) -> bool {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .any(|run| run.len() >= MIN_SECRET_RUN)
}

/// Build the redaction detector now if any of `names` will need it, so that it is not built
/// while the lease mutex is held.
pub(crate) fn prepare_redaction(names: &[&str]) {
    if names.iter().any(|n| may_hold_secret(n)) {
        let _ = crate::report::redact::default_detector();
    }
}

mod rfc3339 {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ts: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(ts)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_without_a_long_run_are_stored_as_given_and_keys_are_redacted() {
        assert_eq!(stored_name("slot3-12345"), "slot3-12345");
        assert_eq!(
            stored_name("merge-gate:task@host-1"),
            "merge-gate:task@host-1"
        );
        let key = format!("{}{}", "AKIA", "QZ7XPLM4RT2KW6HN");
        let stored = stored_name(&format!("merge-gate:fix/{key}@host"));
        assert!(!stored.contains(&key), "{stored}");
        assert!(stored.starts_with("merge-gate:fix/AKIA"), "{stored}");
    }
}
