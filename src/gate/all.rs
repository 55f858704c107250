//! `gate all`: the whole merge edge in one call, with one verdict.
//!
//! Phases of [`all`], each recorded as a step in the report:
//!
//! 1. **resolve**: fetch `REMOTE/MAIN` (and the branch, if the local repository lacks it) and
//!    find the branch head as the merge gate will see it.
//! 2. **security**: the security gate on `merge-base(REMOTE/MAIN, branch)..branch`, before any
//!    rebase, so the branch is never blamed for what main brought in. Not PASS → FAIL with
//!    reason `security`: no lease, no rebase, no push.
//! 3. **merge**: the merge gate (lease, rebase in the branch's worktree, re-test, push of the
//!    branch only), told to accept only that security report for that exact head and
//!    merge-base ([`SecurityCheck::Report`]). FAIL and DEFER end the run with the merge
//!    gate's reason / `retry_after_s`.
//! 4. **land** (with `land`): the lease is confirmed held with the merge gate's fencing token,
//!    then the remote's main is fast-forwarded from `base_sha` to exactly `tested_sha` with a
//!    compare-and-swap push (see [`land`](self::land)). If main moved in between, the lease is
//!    released and phases 1–4 run again, at most `max_attempts` times in all; after that the
//!    run DEFERs.
//! 5. **release**: after landing, the lease is released. Without `land` the lease stays held
//!    (as after a merge gate PASS) for the caller to land and release.
//!
//! Every error and any panic is a FAIL verdict (the lease, if held, is released). The report
//! (schema `portcullis/gate-all-report/v1`) names both gate reports, the landed sha and every
//! step's outcome; the returned verdict is read back from the file.

mod land;
mod report;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::gate::merge::git::{Git, GitCmdError};
use crate::gate::merge::{MergeRequest, SecurityCheck, merge};
use crate::gate::security::{SecurityRequest, security};
use crate::lease::{self, LeaseLocation};
use crate::report::frontmatter::write_report;
use crate::report::{Verdict, read_verdict};
use crate::settings::Settings;

use land::{HeldLease, Landing};
use report::{AllFrontmatter, render_body};

pub use report::StepOutcome;

/// Default report file name, relative to the repository.
pub const DEFAULT_REPORT_FILE: &str = "gate-report.md";
/// Default bound on merge-and-land attempts when main moves before landing.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

/// One `gate all` run.
#[derive(Debug, Clone, PartialEq)]
pub struct AllRequest {
    /// The merge gate's request: repository, branch, main, remote, test command, worktree,
    /// lease options (directory, holder, TTL) and its report file. Its `security` field is
    /// set by `gate all` itself.
    pub merge: MergeRequest,
    /// The security gate's options (configuration, ignore files, audit inputs, settings
    /// overrides, report file); its `repo`, `base` and `head` are set by `gate all`.
    pub security: SecurityRequest,
    /// Fast-forward the remote's main to the tested commit and release the lease.
    pub land: bool,
    /// Merge-and-land attempts when main moves before landing (at least 1).
    pub max_attempts: u32,
    /// The combined report (default `<repo>/gate-report.md`).
    pub report_file: Option<PathBuf>,
}

impl AllRequest {
    /// A request with defaults for everything but the repository and branch.
    pub fn new(repo: impl Into<PathBuf>, branch: impl Into<String>) -> AllRequest {
        let repo: PathBuf = repo.into();
        AllRequest {
            merge: MergeRequest::new(repo.clone(), branch),
            security: SecurityRequest::new(repo),
            land: false,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            report_file: None,
        }
    }

    /// Where the combined report is written.
    pub fn report_path(&self) -> PathBuf {
        let p = self
            .report_file
            .clone()
            .unwrap_or_else(|| self.merge.repo.join(DEFAULT_REPORT_FILE));
        std::path::absolute(&p).unwrap_or(p)
    }

    /// Where the security gate's report is written.
    pub fn security_report_path(&self) -> PathBuf {
        let p = match &self.security.report_file {
            Some(p) => p.clone(),
            None => crate::gate::security::report_path(
                &self.security_request_for("HEAD".into(), "HEAD".into()),
            ),
        };
        std::path::absolute(&p).unwrap_or(p)
    }

    fn security_request_for(&self, base: String, head: String) -> SecurityRequest {
        let mut s = self.security.clone();
        s.repo = self.merge.repo.clone();
        s.base = base;
        s.head = head;
        s
    }

    fn merge_report_path(&self) -> PathBuf {
        let p = self.merge.report_path();
        std::path::absolute(&p).unwrap_or(p)
    }
}

/// A FAIL: reason code and one line.
struct Failure {
    reason: String,
    message: String,
}

fn failure(reason: impl Into<String>, message: impl Into<String>) -> Failure {
    Failure {
        reason: reason.into(),
        message: message.into(),
    }
}

enum End {
    Pass,
    Defer,
}

/// Run the whole edge and return the combined verdict, read back from its report.
///
/// Never panics and never returns an error: anything that goes wrong is a FAIL verdict.
///
/// ```no_run
/// use portcullis::gate::all::{all, AllRequest};
/// let mut req = AllRequest::new("/srv/repo", "task-42");
/// req.merge.test_command = Some("make test".into());
/// req.land = true;
/// let verdict = all(&req);
/// println!("{} {:?}", verdict.outcome, verdict.reasons);
/// ```
pub fn all(req: &AllRequest) -> Verdict {
    let started = Instant::now();
    let mut fm = AllFrontmatter::new(
        req.merge.repo.display().to_string(),
        req.merge.remote.clone(),
        req.merge.branch.clone(),
        req.merge.main.clone(),
        req.land,
    );
    fm.started_at = now_string();
    let mut held: Option<HeldLease> = None;
    let result = catch_unwind(AssertUnwindSafe(|| run(req, &mut fm, &mut held)));
    let end = match result {
        Ok(r) => r,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(failure(
                "internal_error",
                format!("internal error (panic): {what}"),
            ))
        }
    };
    match end {
        Ok(End::Pass) => fm.verdict = "PASS",
        Ok(End::Defer) => {
            fm.verdict = "DEFER";
            release(&mut held, &mut fm);
        }
        Err(f) => {
            fm.verdict = "FAIL";
            fm.reasons.insert(0, format!("{}: {}", f.reason, f.message));
            fm.reason = Some(f.reason);
            release(&mut held, &mut fm);
        }
    }
    fm.lease_held = held.is_some();
    fm.finished_at = now_string();
    fm.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let path = req.report_path();
    let body = render_body(&fm);
    if let Err(e) = write_report(&path, &fm, &body) {
        release(&mut held, &mut fm);
        return Verdict::fail(format!("gate all: cannot write report: {e}"));
    }
    let verdict = read_verdict(&path);
    if !verdict.is_pass() {
        release(&mut held, &mut fm);
    }
    verdict
}

fn release(held: &mut Option<HeldLease>, fm: &mut AllFrontmatter) {
    if let Some(h) = held.take() {
        match lease::release(&h.loc, &h.holder, Some(&h.nonce)) {
            Ok(_) => fm.step(
                "release",
                "done",
                format!("lease token {} released", h.fencing_token),
                None,
            ),
            Err(e) => {
                fm.step("release", "FAIL", e.to_string(), None);
                fm.reasons.push(format!("could not release the lease: {e}"));
            }
        }
    }
}

fn now_string() -> String {
    let now = Timestamp::now();
    Timestamp::from_millisecond(now.as_millisecond())
        .unwrap_or(now)
        .to_string()
}

fn frontmatter_str(v: &Verdict, key: &str) -> Option<String> {
    v.frontmatter
        .as_ref()?
        .get(key)?
        .as_str()
        .map(str::to_string)
}

fn frontmatter_u64(v: &Verdict, key: &str) -> Option<u64> {
    v.frontmatter.as_ref()?.get(key)?.as_u64()
}

fn first_reasons(v: &Verdict) -> String {
    let shown: Vec<&str> = v.reasons.iter().take(3).map(String::as_str).collect();
    if shown.is_empty() {
        "no reason given".into()
    } else {
        shown.join("; ")
    }
}

fn run(
    req: &AllRequest,
    fm: &mut AllFrontmatter,
    held: &mut Option<HeldLease>,
) -> Result<End, Failure> {
    let m = &req.merge;
    let settings = Settings::load(&m.repo, m.settings_file.as_deref())
        .map_err(|e| failure("config_error", e.to_string()))?
        .settings;
    let git = Git::new(&m.repo);
    for (what, name) in [
        ("branch", &m.branch),
        ("main", &m.main),
        ("remote", &m.remote),
    ] {
        if name.is_empty() || name.starts_with('-') || name.contains(['\n', ':', ' ']) {
            return Err(failure(
                "config_error",
                format!("invalid {what} name '{name}'"),
            ));
        }
    }
    let merge_report = req.merge_report_path();
    let security_report = req.security_report_path();
    fm.merge_report = Some(merge_report.display().to_string());
    fm.security_report = Some(security_report.display().to_string());
    let max_attempts = req.max_attempts.max(1);
    loop {
        fm.attempts += 1;
        let attempt = fm.attempts;

        // 1. Resolve main and the branch head as the merge gate will see them.
        let (base, head) = resolve(&git, m).map_err(|e| failure("git_error", e.to_string()))?;
        fm.step(
            "resolve",
            "done",
            format!(
                "{}/{} at {}, {} at {}",
                m.remote,
                m.main,
                short(&base),
                m.branch,
                short(&head)
            ),
            None,
        );

        // 2. Security gate on the branch as it is (before any rebase).
        let mut sreq = req.security_request_for(base.clone(), head.clone());
        sreq.report_file = Some(security_report.clone());
        let sv = security(&sreq);
        let skipped = sv.is_pass()
            && sv
                .frontmatter
                .as_ref()
                .and_then(|f| f.get("skipped"))
                .and_then(|s| s.as_bool())
                == Some(true);
        fm.step(
            "security",
            sv.outcome.as_str(),
            if sv.is_pass() {
                if skipped {
                    format!("skipped: {}", first_reasons(&sv))
                } else {
                    format!("no secret or vulnerable dependency in {}", short(&head))
                }
            } else {
                first_reasons(&sv)
            },
            Some(security_report.display().to_string()),
        );
        if !sv.is_pass() {
            return Err(failure(
                "security",
                format!(
                    "the security gate does not PASS {} ({}): {}",
                    m.branch,
                    security_report.display(),
                    first_reasons(&sv)
                ),
            ));
        }

        // 3. Merge gate, bound to that security verdict.
        let mut mreq = m.clone();
        mreq.report_file = Some(merge_report.clone());
        if skipped {
            fm.security_mode = Some("skipped");
            mreq.security = SecurityCheck::Skip;
        } else {
            fm.security_mode = Some("report");
            mreq.security = SecurityCheck::Report(security_report.clone());
        }
        let mv = merge(&mreq);
        let merge_reason = frontmatter_str(&mv, "reason");
        fm.step(
            "merge",
            mv.outcome.as_str(),
            first_reasons(&mv),
            Some(merge_report.display().to_string()),
        );
        match mv.outcome {
            crate::report::Outcome::Fail => {
                return Err(failure(
                    merge_reason.unwrap_or_else(|| "merge".into()),
                    format!("the merge gate does not PASS: {}", first_reasons(&mv)),
                ));
            }
            crate::report::Outcome::Defer => {
                fm.holder = frontmatter_str(&mv, "holder");
                fm.retry_after_s = frontmatter_u64(&mv, "retry_after_s");
                fm.reasons
                    .push(format!("the merge gate DEFERs: {}", first_reasons(&mv)));
                return Ok(End::Defer);
            }
            crate::report::Outcome::Pass => {}
        }
        let merge_skipped = mv
            .frontmatter
            .as_ref()
            .and_then(|f| f.get("skipped"))
            .and_then(|s| s.as_bool())
            == Some(true);
        if merge_skipped {
            if req.land {
                return Err(failure(
                    "config_error",
                    "the merge gate is disabled by settings: refusing to land an untested branch",
                ));
            }
            fm.reasons
                .push(format!("merge gate skipped: {}", first_reasons(&mv)));
            return Ok(End::Pass);
        }
        let (Some(tested), Some(mbase), Some(token), Some(nonce), Some(holder)) = (
            frontmatter_str(&mv, "tested_sha"),
            frontmatter_str(&mv, "base_sha"),
            frontmatter_u64(&mv, "fencing_token"),
            frontmatter_str(&mv, "lease_nonce"),
            frontmatter_str(&mv, "gate_holder"),
        ) else {
            return Err(failure(
                "internal_error",
                "the merge report's PASS lacks tested_sha, base_sha, fencing_token, \
                 lease_nonce or gate_holder",
            ));
        };
        fm.base_sha = Some(mbase.clone());
        fm.tested_sha = Some(tested.clone());
        fm.fencing_token = Some(token);
        fm.lease_nonce = Some(nonce.clone());
        fm.lease_holder = Some(holder.clone());
        *held = Some(HeldLease {
            loc: lease_location(m, &settings).map_err(|e| failure("lease_error", e.to_string()))?,
            holder,
            nonce,
            fencing_token: token,
            ttl: m
                .lease_ttl
                .unwrap_or(Duration::from_secs(settings.lease_ttl_s))
                .max(Duration::from_secs(1)),
        });
        if !req.land {
            fm.reasons.push(format!(
                "{} tested at {} on top of {}; lease held with token {token} for the caller \
                 to land and release",
                m.branch,
                short(&tested),
                short(&mbase)
            ));
            return Ok(End::Pass);
        }

        // 4. Land: compare-and-swap fast-forward of main to exactly tested_sha.
        let Some(h) = held.as_ref() else {
            return Err(failure("lease_lost", "lease not held"));
        };
        match land::land(&git, &m.remote, &m.main, &mbase, &tested, h) {
            Ok(Landing::Landed) => {
                fm.landed_sha = Some(tested.clone());
                fm.step(
                    "land",
                    "done",
                    format!(
                        "{}/{} fast-forwarded {} -> {}",
                        m.remote,
                        m.main,
                        short(&mbase),
                        short(&tested)
                    ),
                    None,
                );
                fm.reasons.push(format!(
                    "{} landed: {}/{} is now {tested} (was {mbase})",
                    m.branch, m.remote, m.main
                ));
                release(held, fm);
                return Ok(End::Pass);
            }
            Ok(Landing::MainMoved(now)) => {
                let detail = format!(
                    "{}/{} moved from {} to {} before landing; nothing pushed to it",
                    m.remote,
                    m.main,
                    short(&mbase),
                    now.as_deref().map_or("(absent)", short)
                );
                fm.step("land", "moved", detail.clone(), None);
                release(held, fm);
                fm.tested_sha = None;
                fm.fencing_token = None;
                fm.lease_nonce = None;
                if attempt >= max_attempts {
                    let base_retry = settings.defer_retry_after_s.max(1);
                    fm.retry_after_s = Some(base_retry + fastrand::u64(0..=base_retry / 2));
                    fm.holder = None;
                    fm.reasons.push(format!(
                        "{detail}; gave up after {attempt} attempt(s): retry later"
                    ));
                    return Ok(End::Defer);
                }
            }
            Err((reason, message)) => {
                fm.step("land", "FAIL", message.clone(), None);
                return Err(failure(reason, message));
            }
        }
    }
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// The lease the merge gate uses for this request.
///
/// The merge request carries the lease options (a PostgreSQL URL or a directory); this is
/// the one place `gate all` turns them into a lease handle, as the merge gate does.
fn lease_location(
    m: &MergeRequest,
    settings: &Settings,
) -> Result<LeaseLocation, lease::LeaseError> {
    let key = lease::repo_key(&m.repo, &m.remote)?;
    lease::LeaseBackend::choose(m.lease_url.as_deref(), m.lease_dir.as_deref(), settings)
        .and_then(|b| b.location(&key))
}

/// Why the branch and main could not be resolved for `gate all`.
#[derive(Debug, thiserror::Error)]
enum ResolveError {
    /// A git command failed.
    #[error(transparent)]
    Git(#[from] GitCmdError),
    /// A ref that a fetch should have written is absent.
    #[error("{0} does not exist after fetch")]
    Missing(String),
    /// The branch is neither local nor on the remote.
    #[error("branch '{branch}' exists neither locally nor on {remote}: {source}")]
    NoBranch {
        /// The branch.
        branch: String,
        /// The remote.
        remote: String,
        /// The failed fetch.
        #[source]
        source: GitCmdError,
    },
}

/// Fetch main (and the branch, if only the remote has it); main's tip and the branch head.
fn resolve(git: &Git, m: &MergeRequest) -> Result<(String, String), ResolveError> {
    let remote_main = format!("refs/remotes/{}/{}", m.remote, m.main);
    git.check(&[
        "fetch",
        "--no-tags",
        "--no-write-fetch-head",
        &m.remote,
        &format!("+refs/heads/{}:{remote_main}", m.main),
    ])?;
    let base = git
        .commit_of(&remote_main)?
        .ok_or_else(|| ResolveError::Missing(remote_main.clone()))?;
    if let Some(local) = git.commit_of(&format!("refs/heads/{}", m.branch))? {
        return Ok((base, local));
    }
    let remote_branch = format!("refs/remotes/{}/{}", m.remote, m.branch);
    git.check(&[
        "fetch",
        "--no-tags",
        "--no-write-fetch-head",
        &m.remote,
        &format!("+refs/heads/{}:{remote_branch}", m.branch),
    ])
    .map_err(|source| ResolveError::NoBranch {
        branch: m.branch.clone(),
        remote: m.remote.clone(),
        source,
    })?;
    let head = git
        .commit_of(&remote_branch)?
        .ok_or_else(|| ResolveError::Missing(remote_branch.clone()))?;
    Ok((base, head))
}
