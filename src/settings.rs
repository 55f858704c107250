//! Gate settings: `portcullis.toml` at the repository root (or an explicit file), overridden
//! by `PORTCULLIS_*` environment variables, overridden by command-line flags.
//!
//! Unknown keys and values of the wrong type are errors (a gate must not run on settings it
//! misread). Every key is optional; [`Settings::default`] gives the defaults listed on each
//! field.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// File name looked up at the repository root.
pub const SETTINGS_FILE: &str = "portcullis.toml";

/// All gate settings (security gate and merge gate share one file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Security gate on/off (default `true`). A disabled gate writes a skipped PASS report.
    pub enabled: bool,
    /// Repositories the security gate applies to: empty = only the repository holding the
    /// settings file; `["*"]` = all.
    pub repos: Vec<String>,
    /// Treat a degraded dependency audit (advisory source unreachable) as FAIL (default `false`).
    pub dep_audit_fail_closed: bool,
    /// Security report path, relative to the repository (default `security-report.md`).
    pub report_file: String,
    /// Bound on the whole security gate in seconds (default 600); past it the verdict is FAIL.
    pub timeout_s: u64,
    /// Skip blobs larger than this many megabytes (default: no limit).
    pub max_target_megabytes: Option<u64>,
    /// Merge gate on/off (default `true`).
    pub merge_gate_enabled: bool,
    /// Repositories the merge gate applies to (same rules as `repos`).
    pub merge_gate_repos: Vec<String>,
    /// Refs the merge gate refuses to push, in addition to the main branch (always refused).
    pub protected_refs: Vec<String>,
    /// Test command the merge gate runs on the combined tree.
    pub test_command: Option<String>,
    /// Bound on the merge gate's test command in seconds (default 1800).
    pub test_timeout_s: u64,
    /// Directory holding lease files (default: the platform's state dir, see `lease`).
    pub lease_dir: Option<PathBuf>,
    /// PostgreSQL lease database, `postgres://USER@HOST:PORT/DB` (default: none, file
    /// leases in `lease_dir`). Keep the password out of it: use `PGPASSFILE`/`~/.pgpass`
    /// or `PGPASSWORD`. Never serialised.
    #[serde(skip_serializing)]
    pub lease_url: Option<String>,
    /// Lease time-to-live in seconds (default 3600), extended by `portcullis lease renew`.
    pub lease_ttl_s: u64,
    /// Base retry delay reported with DEFER, in seconds (default 30; jitter is added).
    pub defer_retry_after_s: u64,
    /// Lowest finding confidence that fails the security gate (default `medium`); findings
    /// below it are listed in the report as warnings.
    pub block_confidence: crate::report::Confidence,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enabled: true,
            repos: Vec::new(),
            dep_audit_fail_closed: false,
            report_file: "security-report.md".into(),
            timeout_s: 600,
            max_target_megabytes: None,
            merge_gate_enabled: true,
            merge_gate_repos: Vec::new(),
            protected_refs: Vec::new(),
            test_command: None,
            test_timeout_s: 1800,
            lease_dir: None,
            lease_url: None,
            lease_ttl_s: 3600,
            defer_retry_after_s: 30,
            block_confidence: crate::report::Confidence::Medium,
        }
    }
}

/// A settings error; names the file or variable.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The settings file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The settings file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The settings file is not valid.
    #[error("{path}: {message}")]
    Parse {
        /// The settings file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An environment variable has a value of the wrong type.
    #[error("environment variable {name}: {message}")]
    Env {
        /// The variable name.
        name: String,
        /// What is wrong.
        message: String,
    },
}

/// Settings together with the file they came from (if any).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedSettings {
    /// The effective settings.
    pub settings: Settings,
    /// The settings file that was read, if one existed.
    pub file: Option<PathBuf>,
}

impl Settings {
    /// Parse settings from TOML text; `path` names the origin in errors.
    pub fn from_toml_str(text: &str, path: &Path) -> Result<Settings, SettingsError> {
        toml::from_str(text).map_err(|e| SettingsError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim().replace('\n', " "),
        })
    }

    /// Load settings: `explicit` if given (it must exist), else `<repo_root>/portcullis.toml`
    /// if present, else defaults; then apply `PORTCULLIS_*` environment variables.
    pub fn load(
        repo_root: &Path,
        explicit: Option<&Path>,
    ) -> Result<LoadedSettings, SettingsError> {
        let candidate = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => {
                let p = repo_root.join(SETTINGS_FILE);
                p.is_file().then_some(p)
            }
        };
        let mut settings = match &candidate {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| SettingsError::Io {
                    path: p.clone(),
                    source,
                })?;
                Settings::from_toml_str(&text, p)?
            }
            None => Settings::default(),
        };
        settings.apply_env(|k| std::env::var(k).ok())?;
        Ok(LoadedSettings {
            settings,
            file: candidate,
        })
    }

    /// Apply `PORTCULLIS_<KEY>` overrides (upper-case field names; lists are comma-separated;
    /// booleans are `true/false/1/0/yes/no`; an empty value for an optional field clears it).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), SettingsError> {
        fn bool_of(name: &str, v: &str) -> Result<bool, SettingsError> {
            match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(true),
                "0" | "false" | "no" | "off" => Ok(false),
                _ => Err(SettingsError::Env {
                    name: name.into(),
                    message: format!("expected a boolean, got '{v}'"),
                }),
            }
        }
        fn u64_of(name: &str, v: &str) -> Result<u64, SettingsError> {
            v.trim().parse().map_err(|_| SettingsError::Env {
                name: name.into(),
                message: format!("expected a non-negative integer, got '{v}'"),
            })
        }
        fn list_of(v: &str) -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        }
        let var = |k: &str| get(&format!("PORTCULLIS_{k}")).map(|v| (format!("PORTCULLIS_{k}"), v));
        if let Some((n, v)) = var("ENABLED") {
            self.enabled = bool_of(&n, &v)?;
        }
        if let Some((_, v)) = var("REPOS") {
            self.repos = list_of(&v);
        }
        if let Some((n, v)) = var("DEP_AUDIT_FAIL_CLOSED") {
            self.dep_audit_fail_closed = bool_of(&n, &v)?;
        }
        if let Some((_, v)) = var("REPORT_FILE") {
            self.report_file = v;
        }
        if let Some((n, v)) = var("BLOCK_CONFIDENCE") {
            self.block_confidence = v
                .parse()
                .map_err(|message| SettingsError::Env { name: n, message })?;
        }
        if let Some((n, v)) = var("TIMEOUT_S") {
            self.timeout_s = u64_of(&n, &v)?;
        }
        if let Some((n, v)) = var("MAX_TARGET_MEGABYTES") {
            self.max_target_megabytes = if v.trim().is_empty() {
                None
            } else {
                Some(u64_of(&n, &v)?)
            };
        }
        if let Some((n, v)) = var("MERGE_GATE_ENABLED") {
            self.merge_gate_enabled = bool_of(&n, &v)?;
        }
        if let Some((_, v)) = var("MERGE_GATE_REPOS") {
            self.merge_gate_repos = list_of(&v);
        }
        if let Some((_, v)) = var("PROTECTED_REFS") {
            self.protected_refs = list_of(&v);
        }
        if let Some((_, v)) = var("TEST_COMMAND") {
            self.test_command = if v.trim().is_empty() { None } else { Some(v) };
        }
        if let Some((n, v)) = var("TEST_TIMEOUT_S") {
            self.test_timeout_s = u64_of(&n, &v)?;
        }
        if let Some((_, v)) = var("LEASE_DIR") {
            self.lease_dir = if v.trim().is_empty() {
                None
            } else {
                Some(PathBuf::from(v))
            };
        }
        if let Some((_, v)) = var("LEASE_URL") {
            self.lease_url = if v.trim().is_empty() { None } else { Some(v) };
        }
        if let Some((n, v)) = var("LEASE_TTL_S") {
            self.lease_ttl_s = u64_of(&n, &v)?;
        }
        if let Some((n, v)) = var("DEFER_RETRY_AFTER_S") {
            self.defer_retry_after_s = u64_of(&n, &v)?;
        }
        Ok(())
    }
}

/// Is `repo` covered by a gate's repository list (`repos` for the security gate,
/// `merge_gate_repos` for the merge gate)?
///
/// * An empty list means "only the repository that holds the settings file": the git work
///   tree that contains `settings_file` (or, with no settings file, the repository at hand,
///   so the defaults apply to whatever repository the gate is run on).
/// * `"*"` matches every repository.
/// * An entry containing `/` (or starting with `~`, or exactly `.` or `..`) is a path, relative to the
///   directory of the settings file (or the current directory without one); it matches when
///   it names the same directory as `repo`'s work-tree root. `*` and `?` wildcards in a path
///   entry are matched against the root's absolute path.
/// * Any other entry is matched (with `*` and `?` wildcards) against the name of the
///   repository's root directory, e.g. `portcullis` or `service-*`.
///
/// `repo` may be any directory inside a work tree; its root is found by walking up to the
/// directory holding `.git`. Paths that do not exist never match (fail towards "not in scope"
/// only for explicit lists; the empty list with no settings file is always in scope).
pub fn repo_in_scope(list: &[String], repo: &Path, settings_file: Option<&Path>) -> bool {
    let root = repo_root_of(repo);
    if list.is_empty() {
        return match settings_file {
            None => true,
            Some(file) => {
                let holder = file
                    .parent()
                    .map(|d| {
                        if d.as_os_str().is_empty() {
                            Path::new(".")
                        } else {
                            d
                        }
                    })
                    .unwrap_or(Path::new("."));
                same_dir(&repo_root_of(holder), &root)
            }
        };
    }
    let base = settings_file
        .and_then(Path::parent)
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let root_str = root.to_string_lossy();
    list.iter().any(|entry| {
        let entry = entry.trim();
        if entry == "*" {
            return true;
        }
        if entry.is_empty() {
            return false;
        }
        let is_path =
            entry.contains('/') || entry.starts_with('~') || entry == "." || entry == "..";
        if !is_path {
            return wildcard_match(entry, &name);
        }
        let expanded = match entry.strip_prefix('~') {
            Some(rest) => match std::env::var_os("HOME") {
                Some(home) => PathBuf::from(home).join(rest.trim_start_matches('/')),
                None => return false,
            },
            None => base.join(entry),
        };
        if entry.contains(['*', '?']) {
            let pattern = absolute_lexical(&expanded);
            return wildcard_match(&pattern.to_string_lossy(), &root_str);
        }
        same_dir(&expanded, &root)
    })
}

/// The work-tree root of `dir`: the nearest ancestor (or `dir` itself) holding `.git`,
/// canonicalised when possible; `dir` itself when no ancestor holds `.git`.
pub(crate) fn repo_root_of(dir: &Path) -> PathBuf {
    let start = dir.canonicalize().unwrap_or_else(|_| absolute_lexical(dir));
    let mut cur: Option<&Path> = Some(&start);
    while let Some(d) = cur {
        if d.join(".git").exists() {
            return d.to_path_buf();
        }
        cur = d.parent();
    }
    start
}

fn absolute_lexical(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Glob-style match of `text` against `pattern` where `*` matches any run of characters and
/// `?` one character (no character classes).
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_an_error_naming_the_file() {
        let e = Settings::from_toml_str("enabeld = true\n", Path::new("x/portcullis.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x/portcullis.toml") && e.contains("enabeld"),
            "{e}"
        );
    }

    #[test]
    fn env_overrides_file_values() {
        let mut s =
            Settings::from_toml_str("enabled = false\ntimeout_s = 5\n", Path::new("p")).unwrap();
        assert!(!s.enabled);
        s.apply_env(|k| match k {
            "PORTCULLIS_ENABLED" => Some("yes".into()),
            "PORTCULLIS_REPOS" => Some("a, b".into()),
            _ => None,
        })
        .unwrap();
        assert!(s.enabled);
        assert_eq!(s.timeout_s, 5);
        assert_eq!(s.repos, vec!["a", "b"]);
        assert!(
            s.apply_env(|k| (k == "PORTCULLIS_TIMEOUT_S").then(|| "x".into()))
                .is_err()
        );
    }

    fn git_dir(root: &Path) {
        std::fs::create_dir_all(root.join(".git")).unwrap();
    }

    #[test]
    fn empty_repos_means_only_the_repository_holding_the_settings_file() {
        let t = tempfile::tempdir().unwrap();
        let a = t.path().join("a");
        let b = t.path().join("b");
        git_dir(&a);
        git_dir(&b);
        std::fs::create_dir_all(a.join("sub")).unwrap();
        let file = a.join(SETTINGS_FILE);
        assert!(repo_in_scope(&[], &a, Some(&file)));
        assert!(repo_in_scope(&[], &a.join("sub"), Some(&file)));
        assert!(!repo_in_scope(&[], &b, Some(&file)));
        // No settings file: the defaults apply to the repository at hand.
        assert!(repo_in_scope(&[], &b, None));
    }

    #[test]
    fn star_names_paths_and_wildcards_select_repositories() {
        let t = tempfile::tempdir().unwrap();
        let svc = t.path().join("service-api");
        let web = t.path().join("web");
        git_dir(&svc);
        git_dir(&web);
        let file = t.path().join("central.toml");
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(repo_in_scope(&l(&["*"]), &web, Some(&file)));
        assert!(repo_in_scope(&l(&["web"]), &web, Some(&file)));
        assert!(!repo_in_scope(&l(&["web"]), &svc, Some(&file)));
        assert!(repo_in_scope(&l(&["service-*"]), &svc, Some(&file)));
        assert!(!repo_in_scope(&l(&["service-*"]), &web, Some(&file)));
        assert!(repo_in_scope(&l(&["./web"]), &web, Some(&file)));
        assert!(!repo_in_scope(&l(&["./web"]), &svc, Some(&file)));
        let abs = svc.to_string_lossy().into_owned();
        assert!(repo_in_scope(&[abs], &svc, None));
        assert!(!repo_in_scope(&l(&["./missing"]), &web, Some(&file)));
        assert!(!repo_in_scope(&l(&["other", ""]), &web, Some(&file)));
        // A name starting with a dot is still a name.
        let hidden = t.path().join(".hidden-repo");
        git_dir(&hidden);
        assert!(repo_in_scope(&l(&[".hidden-repo"]), &hidden, Some(&file)));
    }

    #[test]
    fn wildcards_match_like_globs() {
        assert!(wildcard_match("a*c", "abbbc"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "abbc"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("abc", "abcd"));
        assert!(wildcard_match("*x*y", "axbxy"));
    }
}
