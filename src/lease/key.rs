//! Lease keys (one lease per repository, named by its remote URL) and lease file locations.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use super::LeaseError;
use super::pg::PgTarget;

/// Where one repository's lease lives: a directory and a key. All files of the lease share
/// one stem derived from the key: `<stem>.lease`, `<stem>.mutex`, `<stem>.seq`,
/// `<stem>.children`, and
/// `<stem>.tmp.<nonce>`, `<stem>.stale.<nonce>`, `<stem>.released.<nonce>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseLocation {
    dir: PathBuf,
    key: String,
    stem: String,
    postgres: Option<PgTarget>,
}

impl LeaseLocation {
    /// A lease location for `key` inside `dir` (the directory is created on first use).
    ///
    /// ```
    /// use portcullis::lease::LeaseLocation;
    /// let loc = LeaseLocation::new("/tmp/leases", "github.com/acme/app").unwrap();
    /// assert!(loc.lease_path().to_string_lossy().ends_with(".lease"));
    /// assert!(LeaseLocation::new("/tmp/leases", "  ").is_err());
    /// ```
    pub fn new(dir: impl Into<PathBuf>, key: &str) -> Result<LeaseLocation, LeaseError> {
        let key = key.trim();
        if key.is_empty() {
            return Err(LeaseError::InvalidKey("lease key is empty".into()));
        }
        Ok(LeaseLocation {
            dir: dir.into(),
            key: key.to_string(),
            stem: file_stem(key),
            postgres: None,
        })
    }

    /// The lease of `key` in a PostgreSQL database (see [`crate::lease::LeaseBackend`]).
    /// Its [`lease_path`](Self::lease_path) is a name for messages:
    /// `postgres://HOST:PORT/DB#<key>`, without user info or password.
    ///
    /// The lease itself lives in the database; what only this host can judge (the record of
    /// the process group a holder runs, see [`super::children`], and the mutex guarding that
    /// record) lives in a local directory below [`default_lease_dir`].
    pub fn in_postgres(target: PgTarget, key: &str) -> Result<LeaseLocation, LeaseError> {
        let mut loc = LeaseLocation::new(default_lease_dir().join("postgres"), key)?;
        loc.postgres = Some(target);
        Ok(loc)
    }

    /// The PostgreSQL database holding this lease, if it is not a file lease.
    pub fn postgres(&self) -> Option<&PgTarget> {
        self.postgres.as_ref()
    }

    /// The lease key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The lease directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The lease file; it exists exactly while the lease is held (or stale, not yet reclaimed).
    pub fn lease_path(&self) -> PathBuf {
        if let Some(t) = &self.postgres {
            return PathBuf::from(format!("{}#{}", t.redacted(), self.key));
        }
        self.dir.join(format!("{}.lease", self.stem))
    }

    /// The mutex file, `flock`ed briefly by acquire, reclaim, renew and release.
    pub fn mutex_path(&self) -> PathBuf {
        self.dir.join(format!("{}.mutex", self.stem))
    }

    /// The fencing counter file (the last token handed out, in decimal).
    pub fn seq_path(&self) -> PathBuf {
        self.dir.join(format!("{}.seq", self.stem))
    }

    /// The record of the process group the holder runs (see [`super::children`]).
    pub fn children_path(&self) -> PathBuf {
        self.dir.join(format!("{}.children", self.stem))
    }

    pub(crate) fn side_path(&self, kind: &str, nonce: &str) -> PathBuf {
        self.dir.join(format!("{}.{kind}.{nonce}", self.stem))
    }

    pub(crate) fn stem(&self) -> &str {
        &self.stem
    }
}

/// File stem for a key: a readable, sanitised prefix plus 16 hex digits of its SHA-256, so
/// distinct keys never share files.
fn file_stem(key: &str) -> String {
    let readable: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    let digest = Sha256::digest(key.as_bytes());
    format!("{readable}-{}", &hex::encode(digest)[..16])
}

/// The default lease directory: `$XDG_STATE_HOME/portcullis/leases`, else
/// `$HOME/.local/state/portcullis/leases`, else `<tmp>/portcullis-leases-<uid>`.
///
/// Keep leases on a local file system: `flock` is unreliable on NFS.
pub fn default_lease_dir() -> PathBuf {
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(x).join("portcullis").join("leases");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(h)
            .join(".local")
            .join("state")
            .join("portcullis")
            .join("leases");
    }
    let uid = portcullis_unsafe::process::uid();
    std::env::temp_dir().join(format!("portcullis-leases-{uid}"))
}

/// The lease key of a repository: the normalised URL of `remote` (see
/// [`normalise_remote_url`]); a repository without that remote is keyed by the absolute path
/// of its git common directory (`file://...`). The merge gate uses the same key.
pub fn repo_key(repo: &Path, remote: &str) -> Result<String, LeaseError> {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(repo)
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let top =
        git(&["rev-parse", "--path-format=absolute", "--git-common-dir"]).ok_or_else(|| {
            LeaseError::InvalidKey(format!("{}: not a git repository", repo.display()))
        })?;
    if let Some(url) = git(&["remote", "get-url", remote]) {
        // Relative remote paths are relative to the repository's working directory.
        let base = git(&["rev-parse", "--show-toplevel"])
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(&top));
        return Ok(normalise_remote_url(&url, &base));
    }
    let common = Path::new(&top);
    let abs = common
        .canonicalize()
        .unwrap_or_else(|_| common.to_path_buf());
    Ok(format!("file://{}", abs.display()))
}

/// Normalise a git remote URL so every spelling of one repository gives one key:
/// scheme, user and default port dropped, host lower-cased, a trailing `/` and `.git`
/// removed; scp-like `user@host:path` becomes `host/path`; local paths (and `file://`)
/// become `file://<canonical absolute path>` (resolved against `base`).
///
/// ```
/// use portcullis::lease::normalise_remote_url;
/// let base = std::path::Path::new("/");
/// let a = normalise_remote_url("git@GitHub.com:acme/app.git", base);
/// let b = normalise_remote_url("https://user@github.com/acme/app/", base);
/// let c = normalise_remote_url("ssh://git@github.com:22/acme/app", base);
/// assert_eq!(a, "github.com/acme/app");
/// assert_eq!(a, b);
/// assert_eq!(a, c);
/// ```
pub fn normalise_remote_url(url: &str, base: &Path) -> String {
    let url = url.trim();
    if let Some((scheme, rest)) = url.split_once("://") {
        let scheme = scheme.to_ascii_lowercase();
        if scheme == "file" {
            return local_key(Path::new(rest), base);
        }
        let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let host_port = host_port.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "ssh" | "git+ssh" | "ssh+git" => Some("22"),
            "https" => Some("443"),
            "http" => Some("80"),
            "git" => Some("9418"),
            _ => None,
        };
        let host = match (host_port.rsplit_once(':'), default_port) {
            (Some((h, p)), Some(d)) if p == d => h.to_string(),
            _ => host_port,
        };
        return format!("{host}/{}", trim_path(path.trim_start_matches('/')));
    }
    // scp-like syntax: [user@]host:path, where no '/' comes before the first ':'.
    if let Some((before, path)) = url.split_once(':')
        && !before.contains('/')
        && !before.is_empty()
        && !Path::new(url).exists()
    {
        let host = before.rsplit_once('@').map_or(before, |(_, h)| h);
        return format!(
            "{}/{}",
            host.to_ascii_lowercase(),
            trim_path(path.trim_start_matches('/'))
        );
    }
    local_key(Path::new(url), base)
}

fn trim_path(p: &str) -> &str {
    let p = p.trim_end_matches('/');
    let p = p.strip_suffix(".git").unwrap_or(p);
    p.trim_end_matches('/')
}

fn local_key(p: &Path, base: &Path) -> String {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    };
    let canon = abs.canonicalize().unwrap_or(abs);
    let s = canon.to_string_lossy();
    format!("file://{}", s.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_remote_share_a_key_and_paths_stay_distinct() {
        let b = Path::new("/");
        assert_eq!(
            normalise_remote_url("https://GITHUB.com:443/acme/app.git", b),
            "github.com/acme/app"
        );
        assert_eq!(
            normalise_remote_url("https://github.com:8443/acme/app.git", b),
            "github.com:8443/acme/app"
        );
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("origin.git");
        std::fs::create_dir(&repo).unwrap();
        let k1 = normalise_remote_url(repo.to_str().unwrap(), b);
        let k2 = normalise_remote_url("origin.git/", dir.path());
        let k3 = normalise_remote_url(&format!("file://{}", repo.display()), b);
        assert_eq!(k1, k2);
        assert_eq!(k1, k3);
        assert!(k1.starts_with("file:///"), "{k1}");
    }

    #[test]
    fn stems_differ_for_keys_that_sanitise_alike() {
        let a = LeaseLocation::new("/x", "a/b").unwrap();
        let b = LeaseLocation::new("/x", "a_b").unwrap();
        assert_ne!(a.lease_path(), b.lease_path());
    }
}
