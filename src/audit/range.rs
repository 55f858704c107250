//! Range mode: audit only what `BASE..HEAD` changes. Each lockfile at HEAD is compared with
//! the same path at the merge-base (both read with gix); only package versions HEAD introduces
//! (a new package, or a changed version) are reported.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use super::lockfile::{self, FileReader, LockFormat, ParsedLockfile};
use super::{AuditError, AuditOptions, AuditReport, NotAudited};

fn git_err(what: &str, e: impl std::fmt::Display) -> AuditError {
    AuditError::Git(format!("{what}: {e}"))
}

/// Reads files from one git tree (paths relative to the repository root).
struct TreeReader<'r> {
    repo: &'r gix::Repository,
    tree: gix::ObjectId,
}

impl TreeReader<'_> {
    fn get(&self, path: &Path) -> Result<Option<Vec<u8>>, AuditError> {
        // Normalise `a/./b` and `a/../b` (requirements includes may use them).
        let mut parts: Vec<String> = Vec::new();
        for c in path.components() {
            match c {
                std::path::Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
                std::path::Component::ParentDir => {
                    parts.pop();
                }
                _ => {}
            }
        }
        let tree = self
            .repo
            .find_object(self.tree)
            .map_err(|e| git_err("read tree", e))?
            .into_tree();
        let entry = tree
            .lookup_entry(parts.iter().map(|s| s.as_str()))
            .map_err(|e| git_err(&format!("look up {}", path.display()), e))?;
        let Some(entry) = entry else { return Ok(None) };
        if !entry.mode().is_blob() && !entry.mode().is_link() {
            return Ok(None);
        }
        let obj = entry
            .object()
            .map_err(|e| git_err(&format!("read {}", path.display()), e))?;
        Ok(Some(obj.detach().data))
    }
}

impl FileReader for TreeReader<'_> {
    fn read(&self, path: &Path) -> Result<Vec<u8>, AuditError> {
        self.get(path)?.ok_or_else(|| AuditError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not in the git tree"),
        })
    }
}

fn lockfiles_in_tree(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    prefix: &Path,
    out: &mut Vec<PathBuf>,
) -> Result<(), AuditError> {
    let tree = repo
        .find_object(tree)
        .map_err(|e| git_err("read tree", e))?
        .into_tree();
    for entry in tree.iter() {
        let entry = entry.map_err(|e| git_err("decode tree", e))?;
        let name = entry.filename().to_string();
        let path = prefix.join(&name);
        let mode = entry.mode();
        if mode.is_tree() {
            if !lockfile::is_skipped_dir(&name) && !name.starts_with('.') {
                lockfiles_in_tree(repo, entry.oid().to_owned(), &path, out)?;
            }
        } else if (mode.is_blob() || mode.is_link())
            && (LockFormat::detect(&path).is_some() || lockfile::is_unsupported_lockfile(&path))
        {
            out.push(path);
        }
    }
    Ok(())
}

fn commit_tree(repo: &gix::Repository, id: gix::ObjectId) -> Result<gix::ObjectId, AuditError> {
    let commit = repo
        .find_object(id)
        .map_err(|e| git_err(&format!("read commit {id}"), e))?
        .try_into_commit()
        .map_err(|e| git_err(&format!("{id} is not a commit"), e))?;
    commit
        .tree_id()
        .map(|t| t.detach())
        .map_err(|e| git_err(&format!("tree of {id}"), e))
}

fn resolve(repo: &gix::Repository, rev: &str) -> Result<gix::ObjectId, AuditError> {
    let id = repo
        .rev_parse_single(rev)
        .map_err(|e| git_err(&format!("cannot resolve {rev:?}"), e))?;
    let obj = id
        .object()
        .map_err(|e| git_err(&format!("read {rev}"), e))?
        .peel_to_commit()
        .map_err(|e| git_err(&format!("{rev} is not a commit"), e))?;
    Ok(obj.id)
}

/// Audit the lockfiles HEAD changes relative to the merge-base of `base` and `head`.
pub fn audit_range(
    repo: &Path,
    base: &str,
    head: &str,
    opts: &AuditOptions,
) -> Result<AuditReport, AuditError> {
    let repo = gix::discover(repo).map_err(|e| git_err(&format!("open {}", repo.display()), e))?;
    let base_id = resolve(&repo, base)?;
    let head_id = resolve(&repo, head)?;
    let mb = repo
        .merge_base(base_id, head_id)
        .map_err(|e| {
            git_err(
                &format!("merge-base of {base} and {head} (shallow clone?)"),
                e,
            )
        })?
        .ok_or_else(|| AuditError::Git(format!("{base} and {head} have no merge-base")))?
        .detach();
    let head_tree = commit_tree(&repo, head_id)?;
    let base_tree = commit_tree(&repo, mb)?;
    let head_reader = TreeReader {
        repo: &repo,
        tree: head_tree,
    };
    let base_reader = TreeReader {
        repo: &repo,
        tree: base_tree,
    };

    let mut paths = Vec::new();
    lockfiles_in_tree(&repo, head_tree, Path::new(""), &mut paths)?;
    paths.sort();
    let gomods: HashSet<PathBuf> = paths
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "go.mod"))
        .cloned()
        .collect();
    let mut head_locks: Vec<ParsedLockfile> = Vec::new();
    let mut not_audited: Vec<NotAudited> = Vec::new();
    let mut only_new: BTreeSet<(String, String, String)> = BTreeSet::new();
    let mut notes = Vec::new();
    for path in paths {
        let display = path.to_string_lossy().replace('\\', "/");
        let format = LockFormat::detect(&path);
        let bytes = head_reader.read(&path)?;
        let changed = base_reader.get(&path)?.is_none_or(|b| b != bytes);
        let is_link = tree_entry_is_link(&repo, head_tree, &path)?;
        let skip = |reason: &str| NotAudited {
            path: display.clone(),
            format: format.map(|f| f.as_str().to_string()),
            ecosystem: format.map(LockFormat::ecosystem),
            reason: reason.to_string(),
        };
        if is_link {
            if changed {
                not_audited.push(skip("symlink in the git tree (not followed)"));
            }
            continue;
        }
        let Some(format) = format else {
            if changed {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                not_audited.push(skip(&format!(
                    "unsupported lockfile kind ({}): no parser",
                    name.unwrap_or_default()
                )));
            }
            continue;
        };
        if format == LockFormat::GoSum {
            let shown = format!("{display}@{head}");
            lockfile::parse_bytes(format, &path, &display, &bytes, &head_reader, opts.no_dev)
                .map_err(|e| relabel(e, &shown))?;
            if changed && !gomods.contains(&path.with_file_name("go.mod")) {
                not_audited.push(skip(lockfile::GO_SUM_ALONE));
            }
            continue;
        }
        let shown = format!("{display}@{head}");
        let head_lock =
            lockfile::parse_bytes(format, &path, &display, &bytes, &head_reader, opts.no_dev)
                .map_err(|e| relabel(e, &shown))?;
        let base_pkgs: HashSet<(String, String)> = match base_reader.get(&path)? {
            None => HashSet::new(),
            Some(b) => {
                match lockfile::parse_bytes(format, &path, &display, &b, &base_reader, opts.no_dev)
                {
                    Ok(l) => l
                        .packages
                        .iter()
                        .map(|p| (p.ecosystem.normalize_name(&p.name), p.version.clone()))
                        .collect(),
                    Err(e) => {
                        notes.push(format!(
                        "{display} at the merge-base does not parse ({e}); every package at HEAD counts as new"
                    ));
                        HashSet::new()
                    }
                }
            }
        };
        for p in &head_lock.packages {
            if !base_pkgs.contains(&(p.ecosystem.normalize_name(&p.name), p.version.clone())) {
                only_new.insert((display.clone(), p.name.clone(), p.version.clone()));
            }
        }
        head_locks.push(head_lock);
    }
    let mut report = super::run_audit(head_locks, not_audited, opts, Some(&only_new))?;
    report.warnings.extend(notes);
    Ok(report)
}

/// Is `path` a symlink entry of the tree?
fn tree_entry_is_link(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    path: &Path,
) -> Result<bool, AuditError> {
    let tree = repo
        .find_object(tree)
        .map_err(|e| git_err("read tree", e))?
        .into_tree();
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let entry = tree
        .lookup_entry(parts.iter().map(|s| s.as_str()))
        .map_err(|e| git_err(&format!("look up {}", path.display()), e))?;
    Ok(entry.is_some_and(|e| e.mode().is_link()))
}

fn relabel(e: AuditError, shown: &str) -> AuditError {
    match e {
        AuditError::Parse { line, message, .. } => AuditError::Parse {
            file: PathBuf::from(shown),
            line,
            message,
        },
        AuditError::GoMod { line, source, .. } => AuditError::GoMod {
            file: PathBuf::from(shown),
            line,
            source,
        },
        other => other,
    }
}
