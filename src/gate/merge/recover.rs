//! Recovering a worktree that an interrupted gate run (killed mid-rebase) left behind.
//!
//! Before it rebases, the gate writes a marker file into the worktree's own git directory
//! (`portcullis-gate-rebase`: branch, tip before, target, holder, pid) and removes it once the
//! rebase is done or aborted. The next run, which holds the repository's lease (so no other
//! gate can be using the worktree), aborts an operation left in progress when it is provably
//! the gate's:
//!
//! * a rebase of the branch whose `orig-head` matches the marker, in any worktree; or
//! * any rebase of the branch, merge, cherry-pick or revert in a worktree the gate created
//!   itself (under `<git-common-dir>/portcullis/worktrees/`), which nobody else works in.
//!
//! Anything else (a rebase or merge someone started by hand in their own worktree, changes
//! without an operation in progress in a worktree the gate did not create) is left untouched
//! and fails closed. In the gate's own worktrees, leftover tracked changes are reset, and a
//! worktree in the way of a new one is moved aside (never deleted).

use std::path::Path;

use super::git::{Git, Operation, first_lines};
use super::{Failure, Run, git_err, note_recovered, short};

/// Name of the marker file inside the worktree's git directory.
const MARKER: &str = "portcullis-gate-rebase";

/// What the marker records.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Marker {
    branch: String,
    orig: String,
}

/// Write the marker before rebasing `branch` (at `orig`) onto `onto`.
pub(super) fn mark_rebase(
    wt: &Git,
    branch: &str,
    orig: &str,
    onto: &str,
    holder: &str,
) -> Result<(), Failure> {
    let path = wt.git_path(MARKER).map_err(git_err)?;
    let text = format!(
        "branch={branch}\norig={orig}\nonto={onto}\nholder={}\npid={}\n",
        holder.replace('\n', " "),
        std::process::id()
    );
    std::fs::write(&path, text)
        .map_err(|e| git_err(format!("cannot write {}: {e}", path.display())))
}

/// Remove the marker (best effort: a stale marker without an operation is harmless).
pub(super) fn unmark(wt: &Git) {
    if let Ok(path) = wt.git_path(MARKER) {
        let _ = std::fs::remove_file(path);
    }
}

fn read_marker(wt: &Git) -> Option<Marker> {
    let path = wt.git_path(MARKER).ok()?;
    let text = std::fs::read_to_string(path).ok()?;
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
            .map(str::to_string)
    };
    Some(Marker {
        branch: get("branch")?,
        orig: get("orig")?,
    })
}

/// In the gate's own worktree (nobody else works there), tracked changes without an
/// operation in progress are leftovers of an interrupted run (a killed test command or
/// checkout): reset them, so the next run does not fail on "uncommitted changes" forever.
fn reset_gate_worktree(wt: &Git, full: &str, tip: &str, run: &mut Run) -> Result<(), Failure> {
    let on_branch = wt.head_branch().map_err(git_err)?.as_deref() == Some(full)
        && wt.commit_of("HEAD").map_err(git_err)?.as_deref() == Some(tip);
    if !on_branch || wt.tracked_changes().map_err(git_err)?.is_empty() {
        return Ok(());
    }
    wt.check(&["reset", "-q", "--hard", "HEAD"])
        .map_err(|e| git_err(format!("resetting the gate's worktree: {e}")))?;
    note_recovered(
        run,
        format!(
            "recovered: reset tracked changes an interrupted gate run left in its worktree \
             (at {})",
            short(tip)
        ),
    );
    Ok(())
}

/// True if `wt` is a worktree the gate created (under `<git-common-dir>/portcullis/worktrees/`).
pub(super) fn gate_owned_worktree(repo: &Git, wt: &Path) -> bool {
    let Ok(common) = repo.check(&["rev-parse", "--path-format=absolute", "--git-common-dir"])
    else {
        return false;
    };
    let root = Path::new(&common).join("portcullis").join("worktrees");
    match (root.canonicalize(), wt.canonicalize()) {
        (Ok(r), Ok(w)) => w.starts_with(r),
        _ => false,
    }
}

/// Make room for a new gate-owned worktree at `path` (under
/// `<git-common-dir>/portcullis/worktrees/`): a directory an interrupted run left there, be it
/// registered with another HEAD, half-created or no longer registered, is renamed into
/// `<git-common-dir>/portcullis/stale/` (nothing is deleted) and its registration pruned.
/// Anything at `path` that is not a directory is refused, untouched.
pub(super) fn move_aside_gate_worktree(
    repo: &Git,
    path: &Path,
    run: &mut Run,
) -> Result<(), Failure> {
    let md = match std::fs::symlink_metadata(path) {
        Ok(md) => md,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A registration whose directory is gone would make `worktree add` fail too.
            repo.check(&["worktree", "prune"]).map_err(git_err)?;
            return Ok(());
        }
        Err(e) => return Err(git_err(format!("{}: {e}", path.display()))),
    };
    if !md.is_dir() || !gate_owned_worktree(repo, path) {
        return Err(git_err(format!(
            "{}: exists and is not a worktree directory of the gate; refusing to touch it",
            path.display()
        )));
    }
    let common = repo
        .check(&["rev-parse", "--path-format=absolute", "--git-common-dir"])
        .map_err(git_err)?;
    let stale = Path::new(&common).join("portcullis").join("stale");
    std::fs::create_dir_all(&stale)
        .map_err(|e| git_err(format!("cannot create {}: {e}", stale.display())))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "worktree".into());
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let dest = stale.join(format!("{name}.{stamp}.{:08x}", fastrand::u32(..)));
    // A lock (left by an interrupted `worktree add`) would keep the registration from
    // being pruned; the gate never locks its worktrees on purpose.
    let p = path.to_string_lossy().into_owned();
    let _ = repo.run(&["worktree", "unlock", &p]);
    std::fs::rename(path, &dest).map_err(|e| {
        git_err(format!(
            "cannot move {} aside to {}: {e}",
            path.display(),
            dest.display()
        ))
    })?;
    repo.check(&["worktree", "prune"]).map_err(git_err)?;
    note_recovered(
        run,
        format!(
            "recovered: moved aside a worktree an interrupted gate run left at {} (now {})",
            path.display(),
            dest.display()
        ),
    );
    Ok(())
}

/// If the worktree has an operation in progress that an interrupted gate left, abort it and
/// make sure the worktree is clean with `branch` checked out at `tip`. An operation the gate
/// did not provably start fails closed (`git_error`), untouched.
pub(super) fn recover_worktree(
    repo: &Git,
    wt: &Git,
    branch: &str,
    tip: &str,
    run: &mut Run,
) -> Result<(), Failure> {
    let full = format!("refs/heads/{branch}");
    let marker = read_marker(wt);
    let owned = gate_owned_worktree(repo, &wt.dir);
    let Some(op) = wt.operation_in_progress().map_err(git_err)? else {
        if marker.is_some() {
            unmark(wt); // the interrupted run got past its rebase
        }
        if owned {
            reset_gate_worktree(wt, &full, tip, run)?;
        }
        return Ok(());
    };
    let ours = match &op {
        Operation::Rebase {
            head_name,
            orig_head,
        } => {
            let by_marker = marker
                .as_ref()
                .is_some_and(|m| m.branch == branch && *head_name == full && *orig_head == m.orig);
            by_marker || (owned && *head_name == full)
        }
        _ => owned,
    };
    if !ours {
        return Err(git_err(format!(
            "{}: a {} is in progress that the gate did not start; finish or abort it first",
            wt.dir.display(),
            op.command()
        )));
    }
    let cmd = op.command();
    let abort = wt.run(&[cmd, "--abort"]).map_err(git_err)?;
    let mut how = format!("git {cmd} --abort");
    if !abort.ok() || wt.operation_in_progress().map_err(git_err)?.is_some() {
        // A state too broken to abort: drop it and check the branch out again.
        wt.run(&[cmd, "--quit"]).map_err(git_err)?;
        wt.check(&["checkout", "-q", "-f", branch])
            .map_err(|e| git_err(format!("recovering from an interrupted {cmd}: {e}")))?;
        how = format!(
            "git {cmd} --abort failed ({}); git {cmd} --quit and checkout -f {branch}",
            first_lines(&abort.stderr, 2)
        );
    }
    if !wt.tracked_changes().map_err(git_err)?.is_empty() {
        wt.check(&["reset", "-q", "--hard", "HEAD"])
            .map_err(|e| git_err(format!("recovering from an interrupted {cmd}: {e}")))?;
    }
    let head_ref = wt.run(&["symbolic-ref", "-q", "HEAD"]).map_err(git_err)?;
    let clean = wt.operation_in_progress().map_err(git_err)?.is_none()
        && head_ref.ok()
        && head_ref.stdout.trim() == full
        && wt.commit_of("HEAD").map_err(git_err)?.as_deref() == Some(tip)
        && wt.tracked_changes().map_err(git_err)?.is_empty();
    if !clean {
        return Err(git_err(format!(
            "{}: aborted an interrupted {cmd}, but the worktree is not clean at {branch} ({})",
            wt.dir.display(),
            short(tip)
        )));
    }
    unmark(wt);
    let line = format!(
        "recovered: aborted a {cmd} left in progress by an interrupted gate run ({how}); \
         worktree clean at {}",
        short(tip)
    );
    note_recovered(run, line);
    Ok(())
}
