//! `--staged` (index against `HEAD`) and `--uncommitted` (work tree against `HEAD`): the same
//! added-line semantics as history scans, without commit information (gitleaks' 3-part
//! fingerprint `file:rule:line`).

use std::collections::HashMap;
use std::path::Path;

use gix::ObjectId;
use gix::bstr::{BString, ByteSlice};
use gix::index::entry::{Mode, Stage};

use super::GitError;
use super::engine::{Job, NO_COMMIT, NewSide, Use};
use crate::source::{ScanError, ScanErrorKind};

fn wt_err(repo: &Path, what: &'static str, e: impl std::fmt::Display) -> GitError {
    GitError::Worktree {
        repo: repo.to_path_buf(),
        what,
        message: e.to_string(),
    }
}

/// Path → blob id of every file in `HEAD`'s tree (empty for an unborn `HEAD`).
fn head_files(repo: &gix::Repository, path: &Path) -> Result<HashMap<BString, ObjectId>, GitError> {
    let tree = match repo.head_commit() {
        Ok(c) => c.tree().map_err(|e| wt_err(path, "HEAD", e))?,
        Err(_) if repo.head().map(|h| h.is_unborn()).unwrap_or(false) => return Ok(HashMap::new()),
        Err(e) => return Err(wt_err(path, "HEAD", e)),
    };
    let mut rec = gix::traverse::tree::Recorder::default();
    tree.traverse()
        .breadthfirst(&mut rec)
        .map_err(|e| wt_err(path, "HEAD", e))?;
    Ok(rec
        .records
        .into_iter()
        .filter(|e| e.mode.is_blob() || e.mode.is_link())
        .map(|e| (e.filepath, e.oid))
        .collect())
}

fn is_content(mode: Mode) -> bool {
    mode.contains(Mode::FILE) || mode.contains(Mode::SYMLINK)
}

/// Jobs for the staged changes (index entries whose blob differs from `HEAD`).
/// Conflicted entries are reported as warnings.
pub(crate) fn staged_jobs(
    repo: &gix::Repository,
    path: &Path,
    warnings: &mut Vec<String>,
) -> Result<Vec<Job>, GitError> {
    let head = head_files(repo, path)?;
    let index = repo
        .index_or_empty()
        .map_err(|e| wt_err(path, "index", e))?;
    let mut jobs = Vec::new();
    for entry in index.entries() {
        let p = entry.path(&index);
        if entry.stage() != Stage::Unconflicted {
            if entry.stage() == Stage::Ours {
                warnings.push(format!(
                    "{p}: unmerged (conflicted) index entry; not scanned"
                ));
            }
            continue;
        }
        if !is_content(entry.mode) {
            continue;
        }
        let old = head.get(p).copied();
        if old == Some(entry.id) {
            continue;
        }
        jobs.push(Job {
            olds: old.into_iter().collect(),
            new: NewSide::Blob(entry.id),
            uses: vec![Use {
                path: p.to_string(),
                commit: NO_COMMIT,
                maybe_renamed: false,
            }],
        });
    }
    Ok(jobs)
}

/// Jobs for the work tree: every tracked file whose content differs from `HEAD` (including
/// files only added to the index). Untracked files are not included (use `scan dir`); no
/// clean filters (CRLF conversion, LFS) are applied to work-tree bytes.
pub(crate) fn uncommitted_jobs(
    repo: &gix::Repository,
    path: &Path,
    errors: &mut Vec<ScanError>,
) -> Result<Vec<Job>, GitError> {
    let workdir = repo
        .workdir()
        .ok_or_else(|| wt_err(path, "work tree", "bare repository has no work tree"))?
        .to_path_buf();
    let head = head_files(repo, path)?;
    let index = repo
        .index_or_empty()
        .map_err(|e| wt_err(path, "index", e))?;
    let mut jobs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for entry in index.entries() {
        let p = entry.path(&index);
        if !is_content(entry.mode) || !seen.insert(p.to_owned()) {
            continue;
        }
        let Ok(rel) = p.to_path() else {
            errors.push(ScanError::in_file(
                ScanErrorKind::Read,
                p.to_string(),
                "path is not valid on this platform; not scanned",
            ));
            continue;
        };
        let full = workdir.join(rel);
        let bytes = match std::fs::symlink_metadata(&full) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue, // deleted: nothing added
            Err(e) => {
                errors.push(read_error(&full, format!("cannot read: {e}")));
                continue;
            }
            Ok(md) if md.file_type().is_symlink() => match std::fs::read_link(&full) {
                Ok(t) => match gix::path::into_bstr(t) {
                    Ok(b) => b.into_owned().into(),
                    Err(e) => {
                        errors.push(read_error(
                            &full,
                            format!("link target is not valid UTF-8: {e}"),
                        ));
                        continue;
                    }
                },
                Err(e) => {
                    errors.push(read_error(&full, format!("cannot read link: {e}")));
                    continue;
                }
            },
            Ok(md) if md.is_dir() => continue, // e.g. a checked-out submodule
            Ok(_) => match std::fs::read(&full) {
                Ok(b) => b,
                Err(e) => {
                    errors.push(read_error(&full, format!("cannot read: {e}")));
                    continue;
                }
            },
        };
        let old = head.get(p).copied();
        if let Some(old) = old {
            let id = gix::objs::compute_hash(repo.object_hash(), gix::objs::Kind::Blob, &bytes)
                .map_err(|e| wt_err(path, "work tree", e))?;
            if id == old {
                continue;
            }
        }
        jobs.push(Job {
            olds: old.into_iter().collect(),
            new: NewSide::Bytes(bytes),
            uses: vec![Use {
                path: p.to_string(),
                commit: NO_COMMIT,
                maybe_renamed: false,
            }],
        });
    }
    Ok(jobs)
}

/// A work-tree file that cannot be read: `"{full}: {detail}"`.
fn read_error(full: &Path, detail: String) -> ScanError {
    ScanError::in_file(ScanErrorKind::Read, full.display().to_string(), detail)
}
