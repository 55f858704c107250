//! Opening a repository and turning revision arguments (`A..B`, `A...B`, `^X`, refs) into
//! the tips to walk and the tips to hide.

use std::path::Path;

use gix::ObjectId;

use super::GitError;

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

/// Peel `id` (a commit or an annotated tag) to a commit id.
pub(crate) fn peel_to_commit(repo: &gix::Repository, id: ObjectId) -> Result<ObjectId, String> {
    let obj = repo
        .find_object(id)
        .map_err(|e| format!("object {id}: {e}"))?;
    let commit = obj
        .peel_to_commit()
        .map_err(|e| format!("object {id} does not lead to a commit: {e}"))?;
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
        .map_err(|e| rev_error(path, rev, e))?
        .detach();
    peel_to_commit(repo, id).map_err(|m| rev_error(path, rev, m))
}

/// All merge bases of `a` and `b`.
pub(crate) fn merge_bases(
    repo: &gix::Repository,
    a: ObjectId,
    b: ObjectId,
) -> Result<Vec<ObjectId>, String> {
    match repo.merge_bases_many(a, &[b]) {
        Ok(ids) => Ok(ids.into_iter().map(|id| id.detach()).collect()),
        Err(e) => Err(e.to_string()),
    }
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
                .map_err(|e| rev_error(path, rev, e))?
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

/// Every ref (branches, remote branches, tags, notes, `refs/stash`) and `HEAD`, peeled to
/// commits, as `git log --all` walks them. Refs that do not lead to a commit become warnings;
/// refs whose object is missing become errors.
pub(crate) fn all_refs(
    repo: &gix::Repository,
    path: &Path,
    warnings: &mut Vec<String>,
    errors: &mut Vec<String>,
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
                errors.push(format!("unreadable reference in {}: {e}", path.display()));
                continue;
            }
        };
        let name = r.name().as_bstr().to_string();
        let id = match r.peel_to_id() {
            Ok(id) => id.detach(),
            Err(e) => {
                errors.push(format!("reference {name}: cannot resolve: {e}"));
                continue;
            }
        };
        match repo.find_object(id) {
            Err(e) => errors.push(format!(
                "reference {name}: object {id} is missing or corrupt: {e}"
            )),
            Ok(obj) => match obj.peel_to_commit() {
                Ok(c) => tips.push(c.id),
                Err(_) => warnings.push(format!(
                    "reference {name} points to {id}, which is not a commit; skipped"
                )),
            },
        }
    }
    if let Ok(head) = repo.head_id() {
        tips.push(head.detach());
    }
    tips.sort();
    tips.dedup();
    Ok(tips)
}
