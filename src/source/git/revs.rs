//! Opening a repository and turning revision arguments (`A..B`, `A...B`, `^X`, refs) into
//! the tips to walk and the tips to hide.

use std::path::Path;

use gix::ObjectId;

use super::GitError;
use super::diff_error::PeelError;
use crate::source::{ScanError, ScanErrorKind};

/// Open the repository at (or above) `path` for scanning.
pub(crate) fn open(path: &Path) -> Result<gix::Repository, GitError> {
    let repo = gix::discover(path).map_err(|e| GitError::Open {
        repo: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok(repo)
}

/// What to walk: commits reachable from `tips` but not from `hidden`.
#[derive(Debug, Default, Clone)]
pub(crate) struct Selection {
    pub tips: Vec<ObjectId>,
    pub hidden: Vec<ObjectId>,
}

fn rev_error(path: &Path, rev: &str, message: impl ToString) -> GitError {
    GitError::Rev {
        repo: path.to_path_buf(),
        rev: rev.to_string(),
        message: message.to_string(),
    }
}

/// The error for a revision gix could not parse or resolve, saying what is missing instead of
/// gix's generic "rev-spec is malformed": an empty repository, a reference whose commit is
/// gone from the object database (a deleted or damaged pack), or no such name at all.
fn unresolved(repo: &gix::Repository, path: &Path, rev: &str, err: impl ToString) -> GitError {
    rev_error(path, rev, explain_unresolved(repo, rev, &err.to_string()))
}

/// See [`unresolved`].
pub(crate) fn explain_unresolved(repo: &gix::Repository, rev: &str, err: &str) -> String {
    let has_refs = repo
        .references()
        .ok()
        .and_then(|p| p.all().ok().map(|mut it| it.next().is_some()))
        .unwrap_or(true);
    let unborn = repo.head().is_ok_and(|h| h.is_unborn());
    if !has_refs && unborn {
        return "the repository is empty: it has no commits yet".into();
    }
    // The name part of `name~2`, `name^{commit}`, `name@{1}`, `name:path`.
    let name = rev
        .split(['~', '^', '@', ':'])
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("HEAD");
    if let Some(id) = reference_target(repo, name) {
        return if repo.has_object(id) {
            format!("'{name}' points to commit {id}, which cannot be read: {err}")
        } else {
            format!(
                "'{name}' points to object {id}, which is missing from the object database \
                 (a deleted or damaged pack or loose object)"
            )
        };
    }
    if name == "HEAD" && unborn {
        return "HEAD points to a branch that has no commits yet".into();
    }
    if name.len() == 40
        && name.bytes().all(|b| b.is_ascii_hexdigit())
        && let Ok(id) = ObjectId::from_hex(name.as_bytes())
        && !repo.has_object(id)
    {
        if repo.is_shallow().unwrap_or(false) {
            return format!(
                "object {id} is not in the object database; the clone is shallow, so older \
                 commits are missing (fetch with --unshallow or --deepen)"
            );
        }
        return format!("object {id} is not in the object database");
    }
    format!("no branch, tag or commit is named '{name}' ({err})")
}

/// The object a reference named `name` (short or full, symbolic references followed) points
/// to, read from the reference store only.
fn reference_target(repo: &gix::Repository, name: &str) -> Option<ObjectId> {
    let mut r = repo.try_find_reference(name).ok()??;
    for _ in 0..8 {
        match r.inner.target.clone() {
            gix::refs::Target::Object(id) => return Some(id),
            gix::refs::Target::Symbolic(next) => {
                r = repo.try_find_reference(next.as_ref()).ok()??
            }
        }
    }
    None
}

/// Peel `id` (a commit or an annotated tag) to a commit id.
pub(crate) fn peel_to_commit(repo: &gix::Repository, id: ObjectId) -> Result<ObjectId, PeelError> {
    let obj = repo
        .find_object(id)
        .map_err(|source| PeelError::Find { id, source })?;
    let commit = obj
        .peel_to_commit()
        .map_err(|source| PeelError::NotCommit { id, source })?;
    Ok(commit.id)
}

/// Resolve one revision (any revspec that names a single object) to a commit id.
pub(crate) fn resolve_one(
    repo: &gix::Repository,
    path: &Path,
    rev: &str,
) -> Result<ObjectId, GitError> {
    let id = repo
        .rev_parse_single(rev)
        .map_err(|e| unresolved(repo, path, rev, e))?
        .detach();
    peel_to_commit(repo, id).map_err(|m| unresolved(repo, path, rev, m))
}

/// All merge bases of `a` and `b`.
pub(crate) fn merge_bases(
    repo: &gix::Repository,
    a: ObjectId,
    b: ObjectId,
) -> Result<Vec<ObjectId>, gix::Error> {
    let ids = repo.merge_bases_many(a, &[b])?;
    Ok(ids.into_iter().map(|id| id.detach()).collect())
}

/// Turn revision arguments into a [`Selection`]. Each argument may hold several
/// whitespace-separated revisions; each revision may be a single rev, `^rev`, `A..B`, `A...B`,
/// `rev^@` or `rev^!`.
pub(crate) fn select(
    repo: &gix::Repository,
    path: &Path,
    revs: &[String],
) -> Result<Selection, GitError> {
    use gix::revision::plumbing::Spec;
    let mut sel = Selection::default();
    let peel =
        |id: ObjectId, rev: &str| peel_to_commit(repo, id).map_err(|m| rev_error(path, rev, m));
    for arg in revs {
        for rev in arg.split_whitespace() {
            if let Some(excluded) = rev.strip_prefix('^') {
                sel.hidden.push(resolve_one(repo, path, excluded)?);
                continue;
            }
            let spec = repo
                .rev_parse(rev)
                .map_err(|e| unresolved(repo, path, rev, e))?
                .detach();
            match spec {
                Spec::Include(id) => sel.tips.push(peel(id, rev)?),
                Spec::Exclude(id) => sel.hidden.push(peel(id, rev)?),
                Spec::Range { from, to } => {
                    sel.hidden.push(peel(from, rev)?);
                    sel.tips.push(peel(to, rev)?);
                }
                Spec::Merge { theirs, ours } => {
                    let (a, b) = (peel(theirs, rev)?, peel(ours, rev)?);
                    sel.tips.push(a);
                    sel.tips.push(b);
                    sel.hidden
                        .extend(merge_bases(repo, a, b).map_err(|m| rev_error(path, rev, m))?);
                }
                Spec::IncludeOnlyParents(id) => {
                    let c = repo
                        .find_commit(peel(id, rev)?)
                        .map_err(|e| rev_error(path, rev, e))?;
                    sel.tips.extend(c.parent_ids().map(|p| p.detach()));
                }
                Spec::ExcludeParents(id) => {
                    let id = peel(id, rev)?;
                    let c = repo.find_commit(id).map_err(|e| rev_error(path, rev, e))?;
                    sel.tips.push(id);
                    sel.hidden.extend(c.parent_ids().map(|p| p.detach()));
                }
            }
        }
    }
    if sel.tips.is_empty() && !sel.hidden.is_empty() {
        // `^X` alone means "HEAD, minus X", as `git log ^X` would.
        sel.tips.push(resolve_one(repo, path, "HEAD")?);
    }
    sel.tips.sort();
    sel.tips.dedup();
    sel.hidden.sort();
    sel.hidden.dedup();
    Ok(sel)
}

/// The commits of every reference (like `git log --all`, `refs/stash` included) and `HEAD`.
/// Object headers tell commits apart without inflating them; annotated tags are peeled. A
/// reference that cannot be resolved or whose object is missing is an error (the scan goes on
/// without it); one that leads to a tree or blob is a warning.
pub(crate) fn all_refs(
    repo: &gix::Repository,
    path: &Path,
    warnings: &mut Vec<String>,
    errors: &mut Vec<ScanError>,
) -> Result<Vec<ObjectId>, GitError> {
    let walk_err = |e: &dyn std::fmt::Display| GitError::Walk {
        repo: path.to_path_buf(),
        message: format!("cannot list references: {e}"),
    };
    let platform = repo.references().map_err(|e| walk_err(&e))?;
    let iter = platform.all().map_err(|e| walk_err(&e))?;
    let mut tips = Vec::new();
    for r in iter {
        let mut r = match r {
            Ok(r) => r,
            Err(e) => {
                errors.push(ScanError::new(
                    ScanErrorKind::Git,
                    format!("unreadable reference in {}: {e}", path.display()),
                ));
                continue;
            }
        };
        let name = r.name().as_bstr().to_string();
        let target = match r.target().try_id() {
            Some(id) => id.to_owned(),
            None => match r.peel_to_id() {
                Ok(id) => id.detach(),
                Err(e) => {
                    errors.push(ScanError::new(
                        ScanErrorKind::Git,
                        format!("reference {name}: cannot resolve: {e}"),
                    ));
                    continue;
                }
            },
        };
        match commit_of(repo, target) {
            Ok(Ok(commit)) => tips.push(commit),
            Ok(Err(other)) => warnings.push(format!(
                "reference {name} points to {other}, which is not a commit; skipped"
            )),
            Err(e) => errors.push(ScanError::new(
                ScanErrorKind::Git,
                format!("reference {name}: {e}"),
            )),
        }
    }
    if let Ok(head) = repo.head_id() {
        tips.push(head.detach());
    }
    tips.sort();
    tips.dedup();
    Ok(tips)
}

/// The commit `id` leads to, peeling annotated tags: `Ok(Ok(commit))`, or `Ok(Err(other))`
/// for a tree or blob; `Err` when an object is missing or corrupt.
fn commit_of(
    repo: &gix::Repository,
    mut id: ObjectId,
) -> Result<Result<ObjectId, ObjectId>, PeelError> {
    let missing = |id: ObjectId| move |source| PeelError::Missing { id, source };
    // git refuses deeper tag chains too; a longer one is a cycle in a damaged repository.
    for _ in 0..64 {
        let header = repo.find_header(id).map_err(missing(id))?;
        match header.kind() {
            gix::object::Kind::Commit => return Ok(Ok(id)),
            gix::object::Kind::Tag => {
                let tag = repo.find_object(id).map_err(missing(id))?;
                id = tag.try_to_tag_ref().map_err(missing(id))?.target();
            }
            gix::object::Kind::Tree | gix::object::Kind::Blob => return Ok(Err(id)),
        }
    }
    Err(PeelError::TagChainTooDeep { id })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::source::git::test_support::git;

    fn id(s: &str) -> ObjectId {
        ObjectId::from_hex(s.trim().as_bytes()).expect("hex id")
    }

    /// Branches, lightweight and annotated tags (a tag of a tag too), a stash and `HEAD` give
    /// their commits; tags of a tree and of a blob are warnings; a reference to a missing
    /// object is an error; nothing is listed twice.
    #[test]
    fn every_reference_leads_to_its_commit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        std::fs::write(d.join("a.txt"), "one\n").expect("write");
        git(d, &["add", "-A"]);
        git(d, &["commit", "-q", "-m", "one"]);
        let first = id(&git(d, &["rev-parse", "HEAD"]));
        git(d, &["checkout", "-q", "-b", "side"]);
        std::fs::write(d.join("a.txt"), "two\n").expect("write");
        git(d, &["commit", "-q", "-am", "two"]);
        let side = id(&git(d, &["rev-parse", "HEAD"]));
        git(d, &["checkout", "-q", "main"]);
        git(d, &["tag", "light", &first.to_string()]);
        git(
            d,
            &[
                "tag",
                "-a",
                "-m",
                "annotated",
                "annotated",
                &side.to_string(),
            ],
        );
        git(d, &["tag", "-a", "-m", "of a tag", "nested", "annotated"]);
        git(d, &["tag", "-a", "-m", "a tree", "tree-tag", "HEAD^{tree}"]);
        let blob = git(d, &["rev-parse", "HEAD:a.txt"]);
        git(d, &["tag", "blob-tag", blob.trim()]);
        std::fs::write(d.join("a.txt"), "stashed\n").expect("write");
        git(d, &["stash", "-q"]);
        let stash = id(&git(d, &["rev-parse", "refs/stash"]));
        std::fs::write(
            d.join(".git/refs/heads/broken"),
            "0123456789012345678901234567890123456789\n",
        )
        .expect("write");

        let repo = gix::open(d).expect("open");
        let (mut warnings, mut errors) = (Vec::new(), Vec::new());
        let tips = all_refs(&repo, d, &mut warnings, &mut errors).expect("refs listed");
        let mut expected = vec![first, side, stash];
        expected.sort();
        assert_eq!(tips, expected);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings.iter().any(|w| w.contains("refs/tags/tree-tag")));
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("refs/tags/blob-tag") && w.contains(blob.trim()))
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        let e = &errors[0];
        assert!(e.message.contains("refs/heads/broken") && e.message.contains("missing"));
        assert_eq!(e.kind, ScanErrorKind::Git);
    }
}
