//! The real work of the security gate: merge-base, history scan of `merge_base..head`, range
//! audit of the lockfiles it changes. Every failure becomes data in [`WorkOutput`].

use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::model::Timings;
use super::{
    DependenciesStatus, DepsPart, SecretsPart, SecretsStatus, SourceEntry, Vulnerability,
    WorkInput, WorkOutput,
};
use crate::audit::{AuditOptions, AuditReport, AuditStatus, audit_range};
use crate::detect::Suppressions;
use crate::rules::{Config, ConfigOrigin, discover_config};
use crate::scan::{ConfigChoice, GitTarget, RunError, ScanRequest, SuppressionChoice, Target};
use crate::source::git::{merge_base, resolve_rev};

/// The gitleaks configuration file looked up in the merge-base commit.
const CONFIG_FILE: &str = ".gitleaks.toml";
/// The ignore file looked up in the merge-base commit.
const IGNORE_FILE: &str = ".gitleaksignore";
/// The embedded default rules (hashed for `config_sha256`).
const EMBEDDED_RULES: &[u8] = include_bytes!("../../../rules/default.toml");

/// Run the gate's work: resolve, scan, audit.
pub(crate) fn run(input: WorkInput) -> WorkOutput {
    let t0 = Instant::now();
    let repo = input.repo.as_path();
    let mut out = WorkOutput {
        merge_base: None,
        head_commit: None,
        secrets: SecretsPart::error("not run"),
        deps: DepsPart::error("not run"),
        config: None,
        config_sha256: None,
        timings: Timings::default(),
    };
    let head = match resolve_rev(repo, &input.head) {
        Ok(h) => h,
        Err(e) => return fail_both(out, format!("head: {e}")),
    };
    out.head_commit = Some(head.clone());
    let mb = match merge_base(repo, &input.base, &head) {
        Ok(mb) => mb,
        Err(e) => return fail_both(out, format!("merge-base: {e}")),
    };
    out.merge_base = Some(mb.clone());

    out.timings.resolve_ms = t0.elapsed().as_millis() as u64;

    // The two halves are independent: audit on a second thread while the history is scanned.
    // A panic in the audit thread comes back from `join` and fails the audit with its message.
    let ((secrets, config_desc, config_sha, secrets_ms), (deps, deps_ms)) =
        std::thread::scope(|scope| {
            let audit = scope.spawn(|| {
                let t = Instant::now();
                let d = audit_deps(&input, &mb, &head);
                (d, t.elapsed().as_millis() as u64)
            });
            let t = Instant::now();
            let (s, c, h) = scan_secrets(&input, &mb, &head);
            let secrets = (s, c, h, t.elapsed().as_millis() as u64);
            let deps = audit.join().unwrap_or_else(|payload| {
                let msg = super::guard::panic_message(payload.as_ref());
                (
                    DepsPart::error(format!("panic in the dependency audit: {msg}")),
                    0,
                )
            });
            (secrets, deps)
        });
    out.secrets = secrets;
    out.config = config_desc;
    out.config_sha256 = config_sha;
    out.deps = deps;
    out.timings.secrets_ms = secrets_ms;
    out.timings.dependencies_ms = deps_ms;
    out
}

fn fail_both(mut out: WorkOutput, msg: String) -> WorkOutput {
    out.secrets = SecretsPart::error(msg.clone());
    out.deps = DepsPart::error(msg);
    out
}

/// A configuration chosen for the scan, with its description and text hash.
struct ChosenConfig {
    config: Config,
    desc: String,
    sha256: String,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Why the rules or the merge-base's files for the secrets scan could not be read.
#[derive(Debug, thiserror::Error)]
enum BaseError {
    /// The rules could not be found or loaded.
    #[error(transparent)]
    Config(#[from] crate::rules::ConfigError),
    /// A config file could not be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The merge-base's `.gitleaks.toml` or `.gitleaksignore` is not UTF-8.
    #[error(transparent)]
    NotUtf8(#[from] super::NotUtf8),
    /// The merge-base's `.gitleaks.toml` is not a valid config.
    #[error("{origin}: {source}")]
    BadConfig {
        /// `<commit>:.gitleaks.toml`.
        origin: String,
        /// The config error.
        #[source]
        source: crate::rules::ConfigError,
    },
    /// An ignore file the operator gave cannot be read.
    #[error(transparent)]
    IgnoreFile(crate::rules::ConfigError),
    /// Reading the repository, the merge-base commit or one of its files failed.
    #[error("{what}: {source}")]
    Git {
        /// What was read (`merge-base commit <id>`, `<id>:.gitleaks.toml`).
        what: String,
        /// The git error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl BaseError {
    /// A git error while reading `what`.
    fn git(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        BaseError::Git {
            what: what.into(),
            source: Box::new(source),
        }
    }
}

/// Explicit file, then `$PORTCULLIS_CONFIG` / `$GITLEAKS_CONFIG` / `$GITLEAKS_CONFIG_TOML`,
/// then `.gitleaks.toml` as of the merge-base (never the branch's own version), then the
/// embedded default.
fn choose_config(input: &WorkInput, mb_files: &MergeBaseFiles) -> Result<ChosenConfig, BaseError> {
    let env_set = [
        "PORTCULLIS_CONFIG",
        "GITLEAKS_CONFIG",
        "GITLEAKS_CONFIG_TOML",
    ]
    .iter()
    .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()));
    if input.config.is_some() || env_set {
        // No target directory: the work tree's (branch's) .gitleaks.toml is never consulted.
        let nowhere = Path::new("");
        let (config, origin) = discover_config(input.config.as_deref(), nowhere)?;
        let bytes = match &origin {
            ConfigOrigin::Explicit(p)
            | ConfigOrigin::EnvPortcullis(p)
            | ConfigOrigin::EnvGitleaks(p)
            | ConfigOrigin::Target(p) => std::fs::read(p).map_err(|source| BaseError::Read {
                path: p.clone(),
                source,
            })?,
            ConfigOrigin::EnvGitleaksToml => std::env::var("GITLEAKS_CONFIG_TOML")
                .unwrap_or_default()
                .into_bytes(),
            ConfigOrigin::Embedded => EMBEDDED_RULES.to_vec(),
        };
        return Ok(ChosenConfig {
            config,
            desc: origin.to_string(),
            sha256: sha256_hex(&bytes),
        });
    }
    if let Some(bytes) = &mb_files.config {
        let origin = format!("{}:{CONFIG_FILE}", mb_files.commit);
        let text = super::utf8_at(bytes, &origin)?;
        let config =
            Config::from_toml_str(text, &input.repo.join(CONFIG_FILE)).map_err(|source| {
                BaseError::BadConfig {
                    origin: origin.clone(),
                    source,
                }
            })?;
        return Ok(ChosenConfig {
            config,
            desc: origin,
            sha256: sha256_hex(bytes),
        });
    }
    Ok(ChosenConfig {
        config: Config::embedded_default(),
        desc: "embedded default".into(),
        sha256: sha256_hex(EMBEDDED_RULES),
    })
}

/// `.gitleaks.toml` and `.gitleaksignore` as the merge-base commit has them.
struct MergeBaseFiles {
    commit: String,
    config: Option<Vec<u8>>,
    ignore: Option<Vec<u8>>,
}

fn read_merge_base_files(repo: &Path, mb: &str) -> Result<MergeBaseFiles, BaseError> {
    let r = gix::open(repo).map_err(|e| BaseError::git(repo.display().to_string(), e))?;
    let id = gix::ObjectId::from_hex(mb.as_bytes()).map_err(|e| BaseError::git(mb, e))?;
    let tree = r
        .find_commit(id)
        .map_err(|e| BaseError::git(format!("merge-base commit {mb}"), e))?
        .tree()
        .map_err(|e| BaseError::git(format!("tree of merge-base commit {mb}"), e))?;
    let read = |name: &str| -> Result<Option<Vec<u8>>, BaseError> {
        let entry = tree
            .lookup_entry_by_path(name)
            .map_err(|e| BaseError::git(format!("{mb}:{name}"), e))?;
        match entry {
            None => Ok(None),
            Some(e) if !e.mode().is_blob() => Ok(None),
            Some(e) => {
                let obj = e
                    .object()
                    .map_err(|err| BaseError::git(format!("{mb}:{name}"), err))?;
                Ok(Some(obj.data.clone()))
            }
        }
    };
    Ok(MergeBaseFiles {
        commit: mb.to_string(),
        config: read(CONFIG_FILE)?,
        ignore: read(IGNORE_FILE)?,
    })
}

fn scan_secrets(
    input: &WorkInput,
    mb: &str,
    head: &str,
) -> (SecretsPart, Option<String>, Option<String>) {
    let repo = input.repo.as_path();
    let mb_files = match read_merge_base_files(repo, mb) {
        Ok(f) => f,
        Err(e) => return (SecretsPart::error(e.to_string()), None, None),
    };
    let chosen = match choose_config(input, &mb_files) {
        Ok(c) => c,
        Err(e) => return (SecretsPart::error(format!("config: {e}")), None, None),
    };
    let desc = Some(chosen.desc.clone());
    if chosen.config.rules().iter().all(|r| r.skip_report) {
        let why = chosen.config.warnings().join("; ");
        return (
            SecretsPart::error(format!(
                "config {} has no rules to report with {why}",
                chosen.desc
            )),
            desc,
            Some(chosen.sha256),
        );
    }
    let sha = Some(chosen.sha256.clone());
    let mut warnings: Vec<String> = chosen
        .config
        .warnings()
        .iter()
        .map(|w| format!("config {}: {w}", chosen.desc))
        .collect();
    let suppressions = match load_ignore(&mb_files, &input.ignore_files) {
        Ok(s) => s,
        Err(e) => return (SecretsPart::error(e.to_string()), desc, sha),
    };
    // The scan the CLI's `scan git --range head ^merge-base` runs, with the merge-base's
    // configuration and ignore file.
    let mut target = GitTarget::new(repo);
    target.revs = vec![head.to_string(), format!("^{mb}")];
    target.dedup = Some(false);
    let mut req = ScanRequest::new(Target::Git(target));
    req.config = ConfigChoice::Loaded(Box::new(chosen.config));
    req.suppressions = match suppressions {
        Some(s) => SuppressionChoice::Given(Box::new(s)),
        None => SuppressionChoice::None,
    };
    req.limits.max_target_megabytes = input.max_target_megabytes;
    let rep = match crate::scan::run(&req) {
        Ok(r) => r,
        Err(RunError::Config(e)) => {
            return (
                SecretsPart::error(format!("config {}: {e}", chosen.desc)),
                desc,
                sha,
            );
        }
        Err(e) => return (SecretsPart::error(e.to_string()), desc, sha),
    };
    // Content the scan could not read makes the secrets part incomplete: a FAIL like an error
    // (the report's errors say so, and its warnings list every item).
    warnings.extend(rep.warnings);
    let findings = rep.findings;
    let errors: Vec<String> = rep.errors.iter().map(ToString::to_string).collect();
    let status = if errors.is_empty() {
        SecretsStatus::Ok
    } else {
        SecretsStatus::Error
    };
    (
        SecretsPart {
            status,
            findings,
            errors,
            warnings,
            commits_scanned: rep.stats.commits_scanned,
            bytes_scanned: rep.stats.bytes_scanned,
        },
        desc,
        sha,
    )
}

/// `.gitleaksignore` of the merge-base (the branch's own version is never used), plus the
/// operator's explicit ignore files.
fn load_ignore(
    files: &MergeBaseFiles,
    extra: &[PathBuf],
) -> Result<Option<Suppressions>, BaseError> {
    if files.ignore.is_none() && extra.is_empty() {
        return Ok(None);
    }
    let mut s = Suppressions::load(extra, None).map_err(BaseError::IgnoreFile)?;
    if let Some(bytes) = &files.ignore {
        let origin = format!("{}:{IGNORE_FILE}", files.commit);
        let text = super::utf8_at(bytes, &origin)?;
        s.add_ignore_text(text, Path::new(&origin));
    }
    Ok(Some(s))
}

fn audit_deps(input: &WorkInput, mb: &str, head: &str) -> DepsPart {
    let mut opts = AuditOptions {
        dbs: input.audit.dbs.clone(),
        online: input.audit.online,
        ignore: input.audit.ignore.clone(),
        ..AuditOptions::default()
    };
    if let Some(url) = &input.audit.osv_api_url {
        opts.osv_api_url = url.clone();
    }
    match audit_range(&input.repo, mb, head, &opts) {
        Ok(rep) => deps_from_report(rep, &input.audit.exclude),
        Err(e) => DepsPart::error(e.to_string()),
    }
}

/// Is the repository-relative `lockfile` covered by an exclusion (exact path or directory
/// prefix)?
fn excluded(lockfile: &str, exclude: &[String]) -> bool {
    let l = lockfile.trim_start_matches("./");
    exclude.iter().any(|e| {
        let e = e.trim_start_matches("./").trim_end_matches('/');
        !e.is_empty() && (l == e || l.starts_with(&format!("{e}/")))
    })
}

fn deps_from_report(rep: AuditReport, exclude: &[String]) -> DepsPart {
    // Lockfiles left out by `--audit-exclude` do not degrade the audit by being not audited.
    let only_excluded_not_audited =
        !rep.degraded_by_sources() && rep.not_audited.iter().all(|n| excluded(&n.path, exclude));
    let status = match rep.status {
        AuditStatus::Ok => DependenciesStatus::Ok,
        AuditStatus::Degraded if only_excluded_not_audited => DependenciesStatus::Ok,
        AuditStatus::Degraded => DependenciesStatus::Degraded,
        AuditStatus::Error => DependenciesStatus::Error,
    };
    let mut warnings: Vec<String> = rep
        .warnings
        .into_iter()
        .filter(|w| {
            let head = w.split([':', ' ']).next().unwrap_or("");
            !excluded(head, exclude)
        })
        .collect();
    let mut vulnerabilities = Vec::new();
    for f in rep
        .findings
        .into_iter()
        .filter(|f| !excluded(&f.lockfile, exclude))
    {
        let v = Vulnerability {
            kind: f.kind.as_str().to_string(),
            id: f.id,
            aliases: f.aliases,
            package: f.package,
            version: f.version,
            ecosystem: f.ecosystem.as_str().to_string(),
            lockfile: f.lockfile,
            fixed_in: f.fixed_in,
            severity: f.severity,
            summary: f.summary,
        };
        if f.blocking {
            vulnerabilities.push(v);
        } else {
            warnings.push(format!(
                "{} advisory {} for {} {} ({}): {}",
                v.kind, v.id, v.package, v.version, v.lockfile, v.summary
            ));
        }
    }
    let mut errors = Vec::new();
    if status == DependenciesStatus::Error {
        errors.extend(rep.sources.iter().filter_map(|s| {
            s.error
                .as_ref()
                .map(|e| format!("{} ({}): {e}", s.name, s.location))
        }));
        if errors.is_empty() {
            errors.push(
                "the dependency audit could not be trusted (no usable advisory source)".into(),
            );
        }
    } else if status == DependenciesStatus::Degraded {
        for s in rep.sources.iter().filter(|s| !s.ok) {
            let w = format!(
                "advisory source {} ({}) unavailable: {}",
                s.name,
                s.location,
                s.error.as_deref().unwrap_or("unknown error")
            );
            if !warnings.contains(&w) {
                warnings.push(w);
            }
        }
    }
    DepsPart {
        status,
        vulnerabilities,
        warnings,
        errors,
        sources: rep
            .sources
            .iter()
            .map(|s| SourceEntry {
                name: s.name.clone(),
                kind: s.kind.clone(),
                location: s.location.clone(),
                snapshot_date: s.date.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::{BaseError, MergeBaseFiles, excluded, load_ignore};
    use crate::rules::ConfigError;

    fn merge_base(ignore: Option<&[u8]>) -> MergeBaseFiles {
        MergeBaseFiles {
            commit: "c0ffee".into(),
            config: None,
            ignore: ignore.map(<[u8]>::to_vec),
        }
    }

    /// An ignore file given to the gate that does not exist is
    /// [`BaseError::IgnoreFile`] naming it, with the config loader's message.
    #[test]
    fn bad_gitleaksignore_path_is_an_ignore_file_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("nope/.gitleaksignore");
        let Err(err) = load_ignore(&merge_base(None), std::slice::from_ref(&missing)) else {
            panic!("a missing ignore file is an error");
        };
        match &err {
            BaseError::IgnoreFile(ConfigError::Io { path, .. }) => {
                assert_eq!(path, &missing);
            }
            other => panic!("expected IgnoreFile(Io), got {other:?}"),
        }
        assert!(
            err.to_string().contains(&missing.display().to_string()),
            "{err}"
        );
        // A directory without the file is skipped, as `scan --gitleaks-ignore-path` does.
        let none = load_ignore(&merge_base(None), &[PathBuf::from(dir.path())]).expect("dir");
        assert!(none.is_some());
    }

    /// The merge-base's `.gitleaksignore` that is not UTF-8 is [`BaseError::NotUtf8`] naming
    /// `<commit>:.gitleaksignore`.
    #[test]
    fn merge_base_gitleaksignore_not_utf8_names_its_origin() {
        let Err(err) = load_ignore(&merge_base(Some(b"a.txt:rule:1\n\xff\n")), &[]) else {
            panic!("not UTF-8 is an error");
        };
        assert!(
            matches!(&err, BaseError::NotUtf8(e) if e.origin == "c0ffee:.gitleaksignore"),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("c0ffee:.gitleaksignore: not UTF-8: "),
            "{err}"
        );
    }

    #[test]
    fn exclusions_are_exact_paths_or_directory_prefixes() {
        let ex = vec!["testdata/".to_string(), "fixtures/Cargo.lock".to_string()];
        assert!(excluded("testdata/audit/rust/x/Cargo.lock", &ex));
        assert!(excluded("./testdata/a/requirements.txt", &ex));
        assert!(excluded("fixtures/Cargo.lock", &ex));
        assert!(!excluded("fixtures/sub/Cargo.lock", &ex));
        assert!(!excluded("testdata2/Cargo.lock", &ex));
        assert!(!excluded("Cargo.lock", &ex));
        assert!(!excluded("Cargo.lock", &[String::new()]));
    }
}
