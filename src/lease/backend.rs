//! Where leases live: a directory of lease files (one host) or a PostgreSQL database
//! (any number of hosts). Gates take a [`LeaseBackend`] and pass it through.

use std::path::{Path, PathBuf};

use super::pg::PgTarget;
use super::{LeaseError, LeaseLocation, default_lease_dir};
use crate::settings::Settings;

/// The store of the leases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseBackend {
    /// Lease files in this directory: serialises merges on one host.
    Files(PathBuf),
    /// A PostgreSQL database: serialises merges across every host that uses it.
    Postgres(PgTarget),
}

impl LeaseBackend {
    /// The backend named by a URL: `postgres://` or `postgresql://` (the only kind).
    pub fn from_url(url: &str) -> Result<LeaseBackend, LeaseError> {
        PgTarget::parse(url).map(LeaseBackend::Postgres)
    }

    /// Choose the backend: the `--lease-url` flag, else the `--lease-dir` flag, else the
    /// settings' `lease_url` (from `portcullis.toml` or `PORTCULLIS_LEASE_URL`), else the
    /// settings' `lease_dir` (or `PORTCULLIS_LEASE_DIR`), else [`default_lease_dir`].
    ///
    /// ```
    /// use portcullis::lease::LeaseBackend;
    /// use portcullis::settings::Settings;
    /// let s = Settings::default();
    /// let b = LeaseBackend::choose(Some("postgres://ci@db:5432/merges"), None, &s).unwrap();
    /// assert_eq!(b.describe(), "postgres://db:5432/merges");
    /// let f = LeaseBackend::choose(None, Some(std::path::Path::new("/tmp/l")), &s).unwrap();
    /// assert_eq!(f, LeaseBackend::Files("/tmp/l".into()));
    /// ```
    pub fn choose(
        url: Option<&str>,
        dir: Option<&Path>,
        settings: &Settings,
    ) -> Result<LeaseBackend, LeaseError> {
        let url = url.filter(|u| !u.trim().is_empty());
        if let Some(u) = url {
            return LeaseBackend::from_url(u);
        }
        if let Some(d) = dir {
            return Ok(LeaseBackend::files(d.to_path_buf()));
        }
        if let Some(u) = settings
            .lease_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
        {
            return LeaseBackend::from_url(u);
        }
        Ok(LeaseBackend::files(
            settings.lease_dir.clone().unwrap_or_else(default_lease_dir),
        ))
    }

    fn files(dir: PathBuf) -> LeaseBackend {
        LeaseBackend::Files(std::path::absolute(&dir).unwrap_or(dir))
    }

    /// The lease of `key` in this backend.
    pub fn location(&self, key: &str) -> Result<LeaseLocation, LeaseError> {
        match self {
            LeaseBackend::Files(dir) => LeaseLocation::new(dir, key),
            LeaseBackend::Postgres(t) => LeaseLocation::in_postgres(t.clone(), key),
        }
    }

    /// A name for reports and messages: the directory, or the database URL without user
    /// info or password.
    pub fn describe(&self) -> String {
        match self {
            LeaseBackend::Files(dir) => dir.display().to_string(),
            LeaseBackend::Postgres(t) => t.redacted().to_string(),
        }
    }

    /// `"file"` or `"postgres"`.
    pub fn kind(&self) -> &'static str {
        match self {
            LeaseBackend::Files(_) => "file",
            LeaseBackend::Postgres(_) => "postgres",
        }
    }
}
