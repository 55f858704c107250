//! Phase 1: which commits to scan. Every ref when no revision is given (`git log --all`),
//! otherwise the revisions and ranges of the options, minus `--since-commit`.

use std::path::Path;

use super::super::revs::{self, Selection};
use super::super::{GitError, GitScanOptions};

/// Reject contradictory options before anything is opened.
pub(crate) fn check_options(opts: &GitScanOptions) -> Result<(), GitError> {
    if opts.staged && opts.uncommitted {
        return Err(GitError::Options(
            "--staged and --uncommitted exclude each other".into(),
        ));
    }
    if (opts.staged || opts.uncommitted) && (!opts.revs.is_empty() || opts.since_commit.is_some()) {
        return Err(GitError::Options(
            "--staged/--uncommitted cannot be combined with revisions or --since-commit".into(),
        ));
    }
    Ok(())
}

/// The tips and hidden commits of the scan; refs that cannot be read are reported in
/// `errors`, odd refs in `warnings`.
pub(crate) fn select_commits(
    repo: &gix::Repository,
    path: &Path,
    opts: &GitScanOptions,
    warnings: &mut Vec<String>,
    errors: &mut Vec<crate::source::ScanError>,
) -> Result<Selection, GitError> {
    if opts.revs.is_empty() && opts.since_commit.is_none() {
        return Ok(Selection {
            tips: revs::all_refs(repo, path, warnings, errors)?,
            hidden: Vec::new(),
        });
    }
    let mut revs_list = opts.revs.clone();
    if let Some(since) = &opts.since_commit {
        revs::resolve_one(repo, path, since)?;
        revs_list.push(format!("^{since}"));
    }
    revs::select(repo, path, &revs_list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::git::test_support::git;

    fn repo_with_two_commits() -> (tempfile::TempDir, String, String) {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path();
        git(p, &["init", "-q", "-b", "main"]);
        std::fs::write(p.join("a"), "1\n").expect("write");
        git(p, &["add", "a"]);
        git(p, &["commit", "-q", "-m", "one"]);
        let first = git(p, &["rev-parse", "HEAD"]).trim().to_string();
        std::fs::write(p.join("a"), "2\n").expect("write");
        git(p, &["commit", "-qam", "two"]);
        let second = git(p, &["rev-parse", "HEAD"]).trim().to_string();
        (dir, first, second)
    }

    #[test]
    fn without_revisions_every_ref_is_a_tip_and_nothing_is_hidden() {
        let (dir, _first, second) = repo_with_two_commits();
        let repo = revs::open(dir.path()).expect("open");
        let (mut w, mut e) = (Vec::new(), Vec::new());
        let sel = select_commits(
            &repo,
            dir.path(),
            &GitScanOptions::default(),
            &mut w,
            &mut e,
        )
        .expect("select");
        assert!(sel.hidden.is_empty());
        assert!(sel.tips.iter().any(|t| *t == second));
        assert!(e.is_empty(), "{e:?}");
    }

    #[test]
    fn since_commit_hides_that_commit() {
        let (dir, first, second) = repo_with_two_commits();
        let repo = revs::open(dir.path()).expect("open");
        let opts = GitScanOptions {
            since_commit: Some(first.clone()),
            revs: vec!["HEAD".into()],
            ..GitScanOptions::default()
        };
        let (mut w, mut e) = (Vec::new(), Vec::new());
        let sel = select_commits(&repo, dir.path(), &opts, &mut w, &mut e).expect("select");
        assert_eq!(
            sel.hidden
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [first]
        );
        assert_eq!(
            sel.tips.iter().map(ToString::to_string).collect::<Vec<_>>(),
            [second]
        );
    }

    #[test]
    fn an_unknown_since_commit_is_an_error_naming_it() {
        let (dir, _, _) = repo_with_two_commits();
        let repo = revs::open(dir.path()).expect("open");
        let opts = GitScanOptions {
            since_commit: Some("no-such-rev".into()),
            ..GitScanOptions::default()
        };
        let (mut w, mut e) = (Vec::new(), Vec::new());
        let err = select_commits(&repo, dir.path(), &opts, &mut w, &mut e).expect_err("unknown");
        assert!(err.to_string().contains("no-such-rev"), "{err}");
    }

    #[test]
    fn staged_and_uncommitted_together_are_rejected() {
        let opts = GitScanOptions {
            staged: true,
            uncommitted: true,
            ..GitScanOptions::default()
        };
        assert!(matches!(check_options(&opts), Err(GitError::Options(_))));
        let opts = GitScanOptions {
            staged: true,
            revs: vec!["HEAD".into()],
            ..GitScanOptions::default()
        };
        assert!(matches!(check_options(&opts), Err(GitError::Options(_))));
        assert!(check_options(&GitScanOptions::default()).is_ok());
    }
}
