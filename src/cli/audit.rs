//! `portcullis audit` and `portcullis db`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use crate::audit::advisory::{cache, snapshot};
use crate::audit::{self, AuditOptions, WarningKind, report};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// Human-readable table on stderr only.
    Table,
    /// JSON report on stdout (schema `portcullis.audit/v1`), table on stderr.
    Json,
    /// SARIF 2.1.0 on stdout, table on stderr.
    Sarif,
}

/// `audit` flags.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// A lockfile, or a directory searched recursively (in range mode: the repository).
    #[arg(default_value = ".")]
    pub path: PathBuf,
    /// Advisory source (RustSec dir, OSV dir or zip, PyPA YAML dir, `db update` cache);
    /// repeatable. Replaces the embedded snapshot and the cache.
    #[arg(long = "db", value_name = "PATH")]
    pub dbs: Vec<PathBuf>,
    /// Also query the OSV API.
    #[arg(long)]
    pub online: bool,
    /// OSV API base URL.
    #[arg(long, env = "PORTCULLIS_OSV_URL", default_value = audit::DEFAULT_OSV_API_URL)]
    pub osv_url: String,
    /// Timeout of each online request, in seconds.
    #[arg(long, default_value_t = 20.0)]
    pub timeout: f64,
    /// Leave development-only packages out.
    #[arg(long)]
    pub no_dev: bool,
    /// Ignore an advisory id (or alias); repeatable.
    #[arg(long, value_name = "ID")]
    pub ignore: Vec<String>,
    /// Fail on an informational kind too; repeatable (`warnings` = all of them).
    #[arg(long, value_name = "KIND", value_parser = parse_deny)]
    pub deny: Vec<Vec<WarningKind>>,
    /// A degraded result (a source could not be used) is an error (exit 2).
    #[arg(long)]
    pub strict: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: AuditFormat,
    /// Audit only what BASE..HEAD changes (lockfiles at the merge-base vs HEAD).
    #[arg(long, value_name = "BASE..HEAD")]
    pub range: Option<String>,
    /// `db update` cache directory.
    #[arg(long, env = "PORTCULLIS_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Ignore the `db update` cache (use the embedded snapshot).
    #[arg(long)]
    pub no_cache: bool,
    /// Do not print the table on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

fn parse_deny(s: &str) -> Result<Vec<WarningKind>, String> {
    if s == "warnings" {
        return Ok(vec![
            WarningKind::Unmaintained,
            WarningKind::Unsound,
            WarningKind::Notice,
        ]);
    }
    WarningKind::from_str(s, true)
        .map(|k| vec![k])
        .map_err(|_| format!("unknown kind {s:?} (unmaintained, unsound, notice, warnings)"))
}

/// `db` commands.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Show the advisory sources in use: the embedded snapshot and the update cache.
    Info {
        /// Cache directory.
        #[arg(long, env = "PORTCULLIS_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// Download fresh RustSec and OSV data into the cache directory. What is fetched is
    /// checked (it parses, holds advisories, and holds no fewer than 75% of what the cache had)
    /// before it replaces anything; ecosystems not named are kept from the previous cache.
    Update {
        /// Cache directory to write.
        #[arg(long, env = "PORTCULLIS_CACHE_DIR")]
        dir: Option<PathBuf>,
        /// RustSec advisory-db tarball URL.
        #[arg(long, env = "PORTCULLIS_RUSTSEC_URL", default_value = cache::DEFAULT_RUSTSEC_URL)]
        rustsec_url: String,
        /// OSV export base URL (`<url>/<ECOSYSTEM>/all.zip`).
        #[arg(long, env = "PORTCULLIS_OSV_EXPORT_URL", default_value = cache::DEFAULT_OSV_EXPORT_URL)]
        osv_export_url: String,
        /// OSV ecosystems to download (`PyPI`, `Go`, `npm`, `crates.io`); repeatable.
        #[arg(long = "ecosystem", default_values_t = cache::DEFAULT_ECOSYSTEMS.iter().map(|e| e.to_string()).collect::<Vec<_>>())]
        ecosystems: Vec<String>,
        /// Accept data that holds far fewer advisories than the cache it replaces.
        #[arg(long)]
        force: bool,
        /// Timeout per download, in seconds.
        #[arg(long, default_value_t = 300.0)]
        timeout: f64,
    },
}

fn duration(secs: f64) -> Result<Duration, String> {
    Duration::try_from_secs_f64(secs).map_err(|e| format!("invalid timeout {secs}: {e}"))
}

/// Run `audit`.
pub fn run(args: AuditArgs) -> i32 {
    let timeout = match duration(args.timeout) {
        Ok(t) => t,
        Err(e) => return super::fail(e),
    };
    let opts = AuditOptions {
        dbs: args.dbs.clone(),
        online: args.online,
        no_dev: args.no_dev,
        ignore: args.ignore.clone(),
        deny: args.deny.iter().flatten().copied().collect(),
        strict: args.strict,
        osv_api_url: args.osv_url.clone(),
        timeout,
        cache_dir: args.cache_dir.clone(),
        no_cache: args.no_cache,
    };
    let result = match &args.range {
        Some(r) => match r.split_once("..") {
            Some((base, head)) if !base.is_empty() => {
                let head = head.trim_start_matches('.');
                let head = if head.is_empty() { "HEAD" } else { head };
                audit::audit_range(&args.path, base, head, &opts)
            }
            _ => return super::fail(format!("--range {r:?}: expected BASE..HEAD")),
        },
        None => audit::audit_path(&args.path, &opts),
    };
    let report = match result {
        Ok(r) => r,
        Err(e) => return super::fail(format!("audit: {e}")),
    };
    match args.format {
        AuditFormat::Json => println!("{}", report::to_json(&report)),
        AuditFormat::Sarif => println!("{}", report::to_sarif_at(&report, &args.path)),
        AuditFormat::Table => {}
    }
    if !args.quiet {
        eprint!("{}", report::to_table(&report));
    }
    report.exit_code()
}

/// Run a `db` command.
pub fn run_db(cmd: DbCommand) -> i32 {
    match cmd {
        DbCommand::Info { cache_dir } => {
            match snapshot::Snapshot::parse(snapshot::EMBEDDED) {
                Ok(snap) => {
                    println!(
                        "embedded snapshot: {} packages with advisories, {} bytes",
                        snap.packages(),
                        snapshot::EMBEDDED.len()
                    );
                    for s in snap.sources() {
                        let ecos: Vec<&str> = s.covered().iter().map(|e| e.as_str()).collect();
                        println!(
                            "  {}: {} commit {} ({}), {} advisories ({}), licence {}",
                            s.name,
                            s.origin,
                            s.commit,
                            s.date,
                            s.advisories,
                            ecos.join(", "),
                            s.license
                        );
                    }
                }
                Err(e) => return super::fail(format!("embedded snapshot: {e}")),
            }
            match cache::db_dir(cache_dir.as_deref()) {
                Some(dir) => match cache::read_meta(&dir) {
                    Ok(meta) => {
                        println!(
                            "cache: {} (updated {}; preferred over the embedded snapshot)",
                            dir.display(),
                            meta.updated
                        );
                        for s in meta.sources {
                            println!(
                                "  {}: {} from {} commit {} data dated {} licence {}",
                                s.name,
                                s.path,
                                s.url,
                                s.commit.as_deref().unwrap_or("unknown"),
                                s.date.as_deref().unwrap_or("unknown"),
                                s.license
                            );
                        }
                    }
                    Err(_) => println!(
                        "cache: {} (none; run `portcullis db update`)",
                        dir.display()
                    ),
                },
                None => println!("cache: no cache directory (set PORTCULLIS_CACHE_DIR or HOME)"),
            }
            0
        }
        DbCommand::Update {
            dir,
            rustsec_url,
            osv_export_url,
            ecosystems,
            timeout,
            force,
        } => {
            let timeout = match duration(timeout) {
                Ok(t) => t,
                Err(e) => return super::fail(e),
            };
            let Some(dir) = cache::db_dir(dir.as_deref()) else {
                return super::fail("db update: no cache directory (pass --dir)");
            };
            let opts = cache::UpdateOptions {
                rustsec_url,
                osv_export_url,
                ecosystems,
                timeout,
                force,
            };
            match cache::update(&dir, &opts) {
                Ok(meta) => {
                    println!("updated {} at {}", dir.display(), meta.updated);
                    for s in meta.sources {
                        println!(
                            "  {}: {} ({}), {} advisories, data dated {}",
                            s.name,
                            s.path,
                            s.url,
                            s.advisories
                                .map_or_else(|| "?".to_string(), |n| n.to_string()),
                            s.date.as_deref().unwrap_or("unknown")
                        );
                    }
                    0
                }
                Err(e) => super::fail(format!("db update: {e}")),
            }
        }
    }
}
