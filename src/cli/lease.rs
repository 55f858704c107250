//! `portcullis lease acquire|renew|release|status`.
//!
//! Output: one JSON object on stdout (`result`, `key`, `lease_path`, `record`, ...).
//! Exit codes: 0 acquired / renewed / released (or already released, or nothing held) /
//! status shown; 1 refused (another holder or nonce, or renew with no lease) or lost (release
//! of a lease that another acquirer reclaimed as stale); 2 usage or I/O error; 3 busy
//! (acquire only: another live holder).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::lease::{
    self, AcquireOptions, Acquisition, LeaseBackend, LeaseError, LeaseLocation, LeaseState,
    ProcessBinding, Released,
};
use crate::settings::Settings;

/// Exit status when the lease is busy (acquire), as for the merge gate's DEFER.
pub const EXIT_BUSY: i32 = 3;
/// Exit status when the request was refused (wrong holder or nonce, nothing held to renew)
/// or the lease was lost (released after another acquirer reclaimed it).
pub const EXIT_REFUSED: i32 = 1;

/// Lease commands.
#[derive(Debug, Subcommand)]
#[command(
    after_help = "Output: one JSON object on stdout. Exit status: 0 done, 1 refused \
(other holder or nonce; nothing changed) or lost (release of a lease another acquirer \
reclaimed), 2 usage or I/O error, 3 busy (acquire)."
)]
pub enum LeaseCommand {
    /// Acquire the repository's lease (exit 3 if another holder has it).
    Acquire(AcquireArgs),
    /// Extend the lease's expiry to now + TTL (holder must match).
    Renew(RenewArgs),
    /// Release the lease (holder must match; idempotent for the rightful holder).
    Release(ReleaseArgs),
    /// Show the lease of a repository.
    Status(StatusArgs),
}

/// `lease status` flags.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Which lease.
    #[command(flatten)]
    pub target: Target,
    /// Also report whether this holder id holds the lease (`"yours"`).
    #[arg(long)]
    pub holder: Option<String>,
}

/// Which lease: a repository (keyed by its remote's normalised URL) or an explicit key.
#[derive(Debug, Args)]
pub struct Target {
    /// Repository whose remote URL names the lease.
    #[arg(
        long,
        required_unless_present = "repo_key",
        conflicts_with = "repo_key"
    )]
    pub repo: Option<PathBuf>,
    /// Explicit lease key (e.g. `github.com/acme/app`), instead of --repo.
    #[arg(long)]
    pub repo_key: Option<String>,
    /// Remote whose URL is the key (with --repo).
    #[arg(long, default_value = "origin")]
    pub remote: String,
    /// Lease directory (default: settings `lease_dir`, else the platform state dir).
    #[arg(long)]
    pub lease_dir: Option<PathBuf>,
    /// PostgreSQL lease database, `postgres://USER@HOST:PORT/DB`, shared by every host
    /// (default: settings `lease_url` / `PORTCULLIS_LEASE_URL`; else file leases). Password
    /// from `PGPASSFILE`/`~/.pgpass` or `PGPASSWORD`.
    #[arg(long, conflicts_with = "lease_dir")]
    pub lease_url: Option<String>,
    /// Settings file (default: `<repo>/portcullis.toml` if present).
    #[arg(long)]
    pub settings: Option<PathBuf>,
    /// Output format: lease commands always print one JSON object (schema
    /// `portcullis/lease-output/v1`); `--format json` says so explicitly.
    #[arg(long, value_enum, default_value = "json")]
    pub format: LeaseFormat,
}

/// Output formats of the lease commands (JSON only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LeaseFormat {
    /// One JSON object on stdout.
    Json,
}

/// Schema id of the lease commands' JSON output.
pub const LEASE_OUTPUT_SCHEMA: &str = "portcullis/lease-output/v1";

/// `lease acquire` flags.
#[derive(Debug, Args)]
pub struct AcquireArgs {
    /// Which lease.
    #[command(flatten)]
    pub target: Target,
    /// Holder id.
    #[arg(long)]
    pub holder: String,
    /// Time to live in seconds (default: settings `lease_ttl_s`).
    #[arg(long)]
    pub ttl: Option<u64>,
    /// Branch being merged (recorded).
    #[arg(long)]
    pub branch: Option<String>,
    /// Main tip being merged onto (recorded).
    #[arg(long)]
    pub base_sha: Option<String>,
    /// Bind the lease to this running process: it goes stale as soon as the process exits.
    #[arg(long)]
    pub bind_pid: Option<u32>,
}

/// `lease renew` flags.
#[derive(Debug, Args)]
pub struct RenewArgs {
    /// Which lease.
    #[command(flatten)]
    pub target: Target,
    /// Holder id (must match).
    #[arg(long)]
    pub holder: String,
    /// Nonce of the acquisition (must match if given).
    #[arg(long)]
    pub nonce: Option<String>,
    /// New time to live from now, in seconds (default: settings `lease_ttl_s`).
    #[arg(long)]
    pub ttl: Option<u64>,
}

/// `lease release` flags.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// Which lease.
    #[command(flatten)]
    pub target: Target,
    /// Holder id (must match).
    #[arg(long)]
    pub holder: String,
    /// Nonce of the acquisition (must match if given).
    #[arg(long)]
    pub nonce: Option<String>,
}

struct Resolved {
    loc: LeaseLocation,
    settings: Settings,
}

fn resolve(t: &Target) -> Result<Resolved, String> {
    let root = t.repo.clone().unwrap_or_else(|| PathBuf::from("."));
    let settings = Settings::load(&root, t.settings.as_deref())
        .map_err(|e| e.to_string())?
        .settings;
    let key = match (&t.repo_key, &t.repo) {
        (Some(k), _) => k.clone(),
        (None, Some(repo)) => lease::repo_key(repo, &t.remote).map_err(|e| e.to_string())?,
        (None, None) => return Err("one of --repo or --repo-key is required".into()),
    };
    let backend = LeaseBackend::choose(t.lease_url.as_deref(), t.lease_dir.as_deref(), &settings)
        .map_err(|e| e.to_string())?;
    let loc = backend.location(&key).map_err(|e| e.to_string())?;
    Ok(Resolved { loc, settings })
}

fn emit(loc: &LeaseLocation, result: &str, mut extra: Value) {
    let mut out = json!({
        "schema": LEASE_OUTPUT_SCHEMA,
        "result": result,
        "key": loc.key(),
        "lease_path": loc.lease_path(),
        "backend": if loc.postgres().is_some() { "postgres" } else { "file" },
    });
    if let (Some(o), Some(e)) = (out.as_object_mut(), extra.as_object_mut()) {
        o.append(e);
    }
    println!("{out}");
}

fn refused_or_error(loc: &LeaseLocation, e: LeaseError) -> i32 {
    match e {
        LeaseError::WrongHolder { .. } | LeaseError::NonceMismatch { .. } => {
            emit(loc, "refused", json!({ "error": e.to_string() }));
            EXIT_REFUSED
        }
        LeaseError::NotHeld { .. } => {
            emit(loc, "not_held", json!({ "error": e.to_string() }));
            EXIT_REFUSED
        }
        other => super::fail(other),
    }
}

fn ttl_of(flag: Option<u64>, s: &Settings) -> Duration {
    Duration::from_secs(flag.unwrap_or(s.lease_ttl_s))
}

/// Run a lease command; returns the exit status (see the module docs).
pub fn run(cmd: LeaseCommand) -> i32 {
    match cmd {
        LeaseCommand::Acquire(a) => acquire(a),
        LeaseCommand::Renew(a) => renew(a),
        LeaseCommand::Release(a) => release(a),
        LeaseCommand::Status(a) => status(&a),
    }
}

fn acquire(a: AcquireArgs) -> i32 {
    let r = match resolve(&a.target) {
        Ok(r) => r,
        Err(e) => return super::fail(e),
    };
    let process = match a.bind_pid {
        None => None,
        Some(pid) => match ProcessBinding::of_pid(pid) {
            Some(b) => Some(b),
            None => return super::fail(format!("--bind-pid {pid}: no such process")),
        },
    };
    let opts = AcquireOptions {
        holder: a.holder,
        branch: a.branch,
        base_sha: a.base_sha,
        ttl: ttl_of(a.ttl, &r.settings),
        process,
    };
    match lease::acquire(&r.loc, &opts) {
        Ok(Acquisition::Acquired(rec)) => {
            emit(&r.loc, "acquired", json!({ "record": rec }));
            0
        }
        Ok(Acquisition::Busy(rec)) => {
            let base = r.settings.defer_retry_after_s;
            emit(
                &r.loc,
                "busy",
                json!({ "record": rec, "retry_after_s": base + fastrand::u64(0..=base / 2 + 1) }),
            );
            EXIT_BUSY
        }
        Err(e) => super::fail(e),
    }
}

fn renew(a: RenewArgs) -> i32 {
    let r = match resolve(&a.target) {
        Ok(r) => r,
        Err(e) => return super::fail(e),
    };
    let ttl = ttl_of(a.ttl, &r.settings);
    match lease::renew(&r.loc, &a.holder, a.nonce.as_deref(), ttl) {
        Ok(rec) => {
            emit(&r.loc, "renewed", json!({ "record": rec }));
            0
        }
        Err(e) => refused_or_error(&r.loc, e),
    }
}

fn release(a: ReleaseArgs) -> i32 {
    let r = match resolve(&a.target) {
        Ok(r) => r,
        Err(e) => return super::fail(e),
    };
    match lease::release(&r.loc, &a.holder, a.nonce.as_deref()) {
        Ok(Released::Released(rec)) => {
            emit(&r.loc, "released", json!({ "record": rec }));
            0
        }
        Ok(Released::AlreadyReleased) => {
            emit(&r.loc, "already_released", json!({}));
            0
        }
        Ok(Released::WasReclaimed) => {
            // The holder lost its lease to a reclaim: whatever it did under it is unfenced.
            emit(
                &r.loc,
                "was_reclaimed",
                json!({ "error": "the lease was reclaimed as stale by another acquirer; it was no longer held" }),
            );
            EXIT_REFUSED
        }
        Ok(Released::NotHeld) => {
            emit(&r.loc, "not_held", json!({}));
            0
        }
        Err(e) => refused_or_error(&r.loc, e),
    }
}

fn status(a: &StatusArgs) -> i32 {
    let r = match resolve(&a.target) {
        Ok(r) => r,
        Err(e) => return super::fail(e),
    };
    match lease::status(&r.loc) {
        Ok(LeaseState::Free) => {
            emit(
                &r.loc,
                "free",
                json!({ "last_fencing_token": lease::last_fencing_token(&r.loc).ok() }),
            );
            0
        }
        Ok(LeaseState::Held { record, stale }) => {
            let yours = a.holder.as_deref().map(|h| h == record.holder);
            emit(
                &r.loc,
                "held",
                json!({ "record": record, "stale": stale.map(|s| s.as_str()), "yours": yours }),
            );
            0
        }
        Err(e) => super::fail(e),
    }
}
