//! Helpers for tests that build real repositories with the `git` CLI, shared by this crate's
//! unit tests and by portcullis' tests (enabled there by the `testing` feature). Test code
//! only: every helper panics, with git's message, when git fails.

use std::path::Path;
use std::process::Command;

use gix::ObjectId;

/// A `git` command run in `dir` that ignores the user's and the system's configuration and
/// commits as `T <t@example.com>` on `main`, unsigned, without line-ending conversion. Add
/// arguments and environment (an identity or dates in the environment override these), then
/// run it with [`run`].
pub fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .args(["-c", "user.name=T", "-c", "user.email=t@example.com"])
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args(["-c", "core.autocrlf=false", "-c", "init.defaultBranch=main"])
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    cmd
}

/// Run `cmd` (a git command); its standard output. Panics with git's stderr when it fails.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run git");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run `git args` in `dir` (see [`git_command`]); its standard output.
pub fn git(dir: &Path, args: &[&str]) -> String {
    run(git_command(dir).args(args))
}

/// The ids of every blob reachable from a reference of the repository at `dir`.
pub fn blob_ids(dir: &Path) -> Vec<ObjectId> {
    let listing = git(dir, &["rev-list", "--objects", "--all"]);
    let repo = gix::open(dir).expect("open");
    listing
        .lines()
        .map(|l| ObjectId::from_hex(&l.as_bytes()[..40]).expect("id"))
        .filter(|id| repo.find_blob(*id).is_ok())
        .collect()
}
