//! Typed errors of the tree-diff phase ([`super::changes`]), of commit metadata
//! ([`super::meta`]) and of peeling revisions to commits ([`super::revs`]).
//!
//! Each variant names the object it is about (commit, tree, parent) and renders the one-line
//! message the CLI prints; [`DiffError::kind`] says which [`ScanErrorKind`] it is, by variant.

use std::sync::Arc;

use gix::ObjectId;

use crate::source::{ScanError, ScanErrorKind};

/// A tree diff of one commit that failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DiffError {
    /// The diff machinery could not be set up for a repository handle.
    #[error("cannot set up tree diff: {0}")]
    Setup(#[source] gix::Error),
    /// A commit object is missing from the object database or cannot be read.
    #[error("commit {commit} is missing or corrupt: {source}")]
    MissingCommit {
        /// The commit.
        commit: ObjectId,
        /// gix's error.
        #[source]
        source: gix::Error,
    },
    /// A commit object was read but its tree id cannot be decoded.
    #[error("commit {commit} cannot be decoded: {source}")]
    UndecodableCommit {
        /// The commit.
        commit: ObjectId,
        /// gix's error.
        #[source]
        source: gix::Error,
    },
    /// The root tree of a commit is missing or corrupt.
    #[error("tree {tree} of commit {commit} is missing or corrupt: {source}")]
    RootTree {
        /// The tree.
        tree: ObjectId,
        /// The commit whose root it is.
        commit: ObjectId,
        /// gix's error.
        #[source]
        source: gix::Error,
    },
    /// Walking the two trees failed below their roots (see [`TreeError`]).
    #[error("commit {commit}: tree diff failed: {source}")]
    Walk {
        /// The commit being diffed.
        commit: ObjectId,
        /// What failed.
        #[source]
        source: TreeError,
    },
    /// gix's tree diff (with rename detection) failed.
    #[error("commit {commit}: tree diff failed: {source}")]
    Gix {
        /// The commit being diffed.
        commit: ObjectId,
        /// gix's error.
        #[source]
        source: gix::diff::tree::Error,
    },
    /// Looking a path of a merge up in another parent's tree failed.
    #[error("commit {commit}: parent {parent}: {source}")]
    Parent {
        /// The merge commit.
        commit: ObjectId,
        /// The parent whose tree was searched.
        parent: ObjectId,
        /// What failed.
        #[source]
        source: TreeError,
    },
    /// Rename detection was asked about a commit index outside the walked list (a bug).
    #[error("no commit with index {0}")]
    NoCommitIndex(u32),
    /// Rename detection was asked about a root commit (a bug: only additions of
    /// single-parent commits are resolved).
    #[error("commit {0} has no parent")]
    NoParent(ObjectId),
}

impl DiffError {
    /// The kind of scan error this is: a missing or corrupt commit or tree is
    /// [`ScanErrorKind::Object`]; a failure of the diff machinery is [`ScanErrorKind::Git`].
    pub(crate) fn kind(&self) -> ScanErrorKind {
        match self {
            DiffError::MissingCommit { .. }
            | DiffError::UndecodableCommit { .. }
            | DiffError::RootTree { .. } => ScanErrorKind::Object,
            DiffError::Walk { source, .. } | DiffError::Parent { source, .. } => source.kind(),
            DiffError::Setup(_)
            | DiffError::Gix { .. }
            | DiffError::NoCommitIndex(_)
            | DiffError::NoParent(_) => ScanErrorKind::Git,
        }
    }

    /// The id of the object the error is about, when it names one.
    pub(crate) fn object(&self) -> Option<ObjectId> {
        match self {
            DiffError::MissingCommit { commit, .. }
            | DiffError::UndecodableCommit { commit, .. } => Some(*commit),
            DiffError::RootTree { tree, .. } => Some(*tree),
            DiffError::Walk { source, .. } | DiffError::Parent { source, .. } => source.object(),
            DiffError::NoParent(commit) => Some(*commit),
            DiffError::Setup(_) | DiffError::Gix { .. } | DiffError::NoCommitIndex(_) => None,
        }
    }

    /// The scan error for a failed diff of `commit`: kind by variant, the object it names,
    /// the commit, and the message as [`Display`](std::fmt::Display) renders it.
    pub(crate) fn into_scan_error(self, commit: ObjectId) -> ScanError {
        let mut e = ScanError::new(self.kind(), self.to_string()).with_commit(commit.to_string());
        if let Some(id) = self.object() {
            e = e.with_object(id.to_string());
        }
        e
    }
}

/// A failure while reading the trees below a commit's root tree.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TreeError {
    /// A subtree met by the diff is missing or cannot be read (gix's message names it).
    #[error("{source}")]
    Subtree {
        /// The subtree.
        id: ObjectId,
        /// gix's error.
        #[source]
        source: gix::Error,
    },
    /// A subtree looked up by path in a merge parent is missing or cannot be read.
    #[error("tree {id} is missing or corrupt: {source}")]
    LookupTree {
        /// The subtree.
        id: ObjectId,
        /// gix's error.
        #[source]
        source: gix::Error,
    },
    /// A tree entry runs past the end of its tree.
    #[error("a tree entry is truncated at byte {at}")]
    TruncatedEntry {
        /// Offset of the entry in the tree.
        at: usize,
    },
    /// A tree entry cannot be decoded (gix's message says why).
    #[error("{source}")]
    BadEntry {
        /// Offset of the entry in the tree.
        at: usize,
        /// gix's decoding error.
        #[source]
        source: gix::Error,
    },
    /// A complete tree entry yielded nothing when decoded.
    #[error("a tree entry cannot be decoded at byte {at}")]
    EmptyEntry {
        /// Offset of the entry in the tree.
        at: usize,
    },
    /// A tree searched by path cannot be decoded.
    #[error("a tree cannot be decoded: {source}")]
    Undecodable {
        /// gix's decoding error.
        #[source]
        source: gix::Error,
    },
}

impl TreeError {
    /// Every tree error is about a missing or corrupt tree: [`ScanErrorKind::Object`].
    pub(crate) fn kind(&self) -> ScanErrorKind {
        match self {
            TreeError::Subtree { .. }
            | TreeError::LookupTree { .. }
            | TreeError::TruncatedEntry { .. }
            | TreeError::BadEntry { .. }
            | TreeError::EmptyEntry { .. }
            | TreeError::Undecodable { .. } => ScanErrorKind::Object,
        }
    }

    /// The tree the error names, when known.
    pub(crate) fn object(&self) -> Option<ObjectId> {
        match self {
            TreeError::Subtree { id, .. } | TreeError::LookupTree { id, .. } => Some(*id),
            TreeError::TruncatedEntry { .. }
            | TreeError::BadEntry { .. }
            | TreeError::EmptyEntry { .. }
            | TreeError::Undecodable { .. } => None,
        }
    }
}

/// Why rename detection could not tell whether an addition is a rename.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum RenameError {
    /// Another thread panicked while holding the cache of rename diffs.
    #[error("rename cache poisoned")]
    Poisoned,
    /// Diffing the commit again with rename detection failed (shared by every thread that
    /// asks about the commit).
    #[error(transparent)]
    Diff(Arc<DiffError>),
}

/// Commit metadata that could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MetaError {
    /// The commit object is missing or cannot be read.
    #[error("commit {id} is missing or corrupt: {source}")]
    Missing {
        /// The commit.
        id: ObjectId,
        /// gix's error.
        #[source]
        source: gix::Error,
    },
    /// The commit object cannot be decoded.
    #[error("commit {id} cannot be decoded: {source}")]
    Undecodable {
        /// The commit.
        id: ObjectId,
        /// gix's error.
        #[source]
        source: gix::Error,
    },
    /// The author line cannot be parsed.
    #[error("commit {id}: bad author: {source}")]
    BadAuthor {
        /// The commit.
        id: ObjectId,
        /// gix's error.
        #[source]
        source: gix::Error,
    },
}

/// An object that could not be peeled to a commit.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PeelError {
    /// The object cannot be read.
    #[error("object {id}: {source}")]
    Find {
        /// The object.
        id: ObjectId,
        /// gix's error.
        #[source]
        source: gix::Error,
    },
    /// The object is not a commit and no tag chain leads from it to one.
    #[error("object {id} does not lead to a commit: {source}")]
    NotCommit {
        /// The object.
        id: ObjectId,
        /// gix's error.
        #[source]
        source: gix::Error,
    },
    /// An object of a tag chain is missing or corrupt.
    #[error("object {id} is missing or corrupt: {source}")]
    Missing {
        /// The object.
        id: ObjectId,
        /// gix's error.
        #[source]
        source: gix::Error,
    },
    /// A chain of tags is longer than git accepts (a cycle in a damaged repository).
    #[error("object {id}: tag chain too deep")]
    TagChainTooDeep {
        /// The object reached after the longest chain followed.
        id: ObjectId,
    },
}
