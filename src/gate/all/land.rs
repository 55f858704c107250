//! Landing: move the remote's main to exactly `tested_sha`, only as a fast-forward from
//! `base_sha`, only while this run still holds the lease with the fencing token the merge gate
//! was given.
//!
//! The push is
//!
//! ```text
//! git push --porcelain --no-verify \
//!     --force-with-lease=refs/heads/MAIN:<base_sha> REMOTE <tested_sha>:refs/heads/MAIN
//! ```
//!
//! after checking locally that `base_sha` is an ancestor of `tested_sha`. The refspec has no
//! `+` and no `--force` is given; the lease makes the update a compare-and-swap: git sends
//! `<base_sha> <tested_sha> refs/heads/MAIN` and the receiving side applies it only if main is
//! still `base_sha`. Since `tested_sha` descends from `base_sha`, the only move this can make
//! is a fast-forward to the tested commit; if anyone moved main meanwhile, the push is rejected
//! and nothing changes ([`Landing::MainMoved`]). After a successful push the remote's main is
//! read back and must be `tested_sha`.

use std::time::Duration;

use crate::gate::merge::git::{Git, GitCmdError, first_lines};
use crate::lease::{self, LeaseLocation, LeaseState};

/// How a landing attempt ended (errors are `Err` with a reason code).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Landing {
    /// The remote's main is now `tested_sha`.
    Landed,
    /// Main is no longer `base_sha` (its tip now, if it could be read): nothing was pushed.
    MainMoved(Option<String>),
}

/// The lease the merge gate left held for this run.
pub(crate) struct HeldLease {
    pub loc: LeaseLocation,
    pub holder: String,
    pub nonce: String,
    pub fencing_token: u64,
    pub ttl: Duration,
}

/// A failed landing: reason code and one line.
pub(crate) type LandError = (&'static str, String);

/// Prove the lease is still ours with the same fencing token (and extend it), now.
pub(crate) fn confirm_lease(h: &HeldLease) -> Result<(), LandError> {
    match lease::status(&h.loc) {
        Ok(LeaseState::Held { record, stale }) => {
            if record.nonce != h.nonce || record.fencing_token != h.fencing_token {
                return Err((
                    "lease_lost",
                    format!(
                        "the lease is now held by '{}' with token {} (ours was {})",
                        record.holder, record.fencing_token, h.fencing_token
                    ),
                ));
            }
            if let Some(s) = stale {
                return Err(("lease_lost", format!("our lease is stale ({})", s.as_str())));
            }
        }
        Ok(LeaseState::Free) => {
            return Err(("lease_lost", "the lease is no longer held".into()));
        }
        Err(e) => return Err(("lease_error", e.to_string())),
    }
    let rec = lease::renew(&h.loc, &h.holder, Some(&h.nonce), h.ttl)
        .map_err(|e| ("lease_lost", format!("the lease is no longer ours: {e}")))?;
    if rec.fencing_token != h.fencing_token {
        return Err((
            "lease_lost",
            format!(
                "fencing token changed from {} to {}",
                h.fencing_token, rec.fencing_token
            ),
        ));
    }
    Ok(())
}

/// The remote's current tip of `refs/heads/<main>`.
pub(crate) fn remote_tip(
    git: &Git,
    remote: &str,
    main: &str,
) -> Result<Option<String>, GitCmdError> {
    let dst = format!("refs/heads/{main}");
    let out = git.check(&["ls-remote", remote, &dst])?;
    Ok(out
        .lines()
        .find(|l| l.ends_with(&format!("\t{dst}")))
        .and_then(|l| l.split('\t').next())
        .map(str::to_string))
}

/// Fast-forward `REMOTE/MAIN` from `base` to `tested` (see the module docs).
pub(crate) fn land(
    git: &Git,
    remote: &str,
    main: &str,
    base: &str,
    tested: &str,
    held: &HeldLease,
) -> Result<Landing, LandError> {
    let ancestor = git
        .is_ancestor(base, tested)
        .map_err(|e| ("git_error", e.to_string()))?;
    if !ancestor {
        return Err((
            "git_error",
            format!(
                "tested_sha {tested} does not descend from base_sha {base}: refusing a \
                 non-fast-forward of {main}"
            ),
        ));
    }
    confirm_lease(held)?;
    let dst = format!("refs/heads/{main}");
    let lease_arg = format!("--force-with-lease={dst}:{base}");
    let refspec = format!("{tested}:{dst}");
    // The push runs inside the fence: the lease store (the lease mutex, or the locked row in
    // PostgreSQL) confirms this holder, nonce and fencing token and keeps them for the push.
    let out = lease::while_held(
        &held.loc,
        &held.holder,
        &held.nonce,
        held.fencing_token,
        || {
            git.run(&[
                "push",
                "--porcelain",
                "--no-verify",
                &lease_arg,
                remote,
                &refspec,
            ])
        },
    )
    .map_err(|e| {
        (
            e.gate_reason(),
            format!("landing refused by the lease fence: {e}"),
        )
    })?
    .map_err(|e| ("git_error", e.to_string()))?;
    if !out.ok() {
        let rejected = out.stdout.lines().any(|l| l.starts_with('!'));
        if rejected {
            let now = remote_tip(git, remote, main).ok().flatten();
            if now.as_deref() == Some(base) {
                return Err((
                    "push_rejected",
                    format!(
                        "push to {dst} rejected although it is still {base}: {}",
                        first_lines(&out.stdout, 3)
                    ),
                ));
            }
            return Ok(Landing::MainMoved(now));
        }
        return Err((
            "git_error",
            format!("git push to {dst} failed: {}", first_lines(&out.stderr, 4)),
        ));
    }
    match remote_tip(git, remote, main) {
        Ok(Some(now)) if now == tested => Ok(Landing::Landed),
        Ok(now) => Err((
            "git_error",
            format!(
                "after the push {dst} reads {} instead of {tested}",
                now.as_deref().unwrap_or("(absent)")
            ),
        )),
        Err(e) => Err(("git_error", format!("cannot read {dst} back: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::{AcquireOptions, Acquisition, acquire, release};

    fn held(dir: &std::path::Path) -> HeldLease {
        let loc = LeaseLocation::new(dir, "example.org/repo").unwrap();
        let Acquisition::Acquired(rec) =
            acquire(&loc, &AcquireOptions::new("gate", Duration::from_secs(60))).unwrap()
        else {
            panic!("lease busy")
        };
        HeldLease {
            loc,
            holder: "gate".into(),
            nonce: rec.nonce,
            fencing_token: rec.fencing_token,
            ttl: Duration::from_secs(60),
        }
    }

    /// The remote's tip is read with `git ls-remote`; a remote that is not a repository is a
    /// [`GitCmdError::Failed`] naming the command, not a string.
    #[test]
    fn remote_tip_reads_the_branch_and_a_bad_remote_is_a_failed_command() {
        use crate::source::git::test_support::git;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        git(d, &["commit", "-q", "--allow-empty", "-m", "one"]);
        let head = git(d, &["rev-parse", "HEAD"]).trim().to_string();
        let g = Git::new(d);
        let here = d.display().to_string();
        assert_eq!(remote_tip(&g, &here, "main").unwrap(), Some(head));
        assert_eq!(remote_tip(&g, &here, "other").unwrap(), None);
        let missing = d.join("no-such-remote").display().to_string();
        match remote_tip(&g, &missing, "main") {
            Err(e @ GitCmdError::Failed { .. }) => {
                assert!(e.to_string().contains("ls-remote"), "{e}");
            }
            other => panic!("expected Failed, got {other:?}"),
        }
    }

    #[test]
    fn landing_needs_the_lease_with_the_same_fencing_token() {
        let dir = tempfile::tempdir().unwrap();
        let h = held(dir.path());
        assert_eq!(confirm_lease(&h), Ok(()));
        let other_token = HeldLease {
            fencing_token: h.fencing_token + 1,
            loc: h.loc.clone(),
            holder: h.holder.clone(),
            nonce: h.nonce.clone(),
            ttl: h.ttl,
        };
        assert_eq!(confirm_lease(&other_token).unwrap_err().0, "lease_lost");
        release(&h.loc, &h.holder, Some(&h.nonce)).unwrap();
        assert_eq!(confirm_lease(&h).unwrap_err().0, "lease_lost");
        // A new holder with a newer token: ours is gone for good.
        let _newer = held(dir.path());
        assert_eq!(confirm_lease(&h).unwrap_err().0, "lease_lost");
    }
}
