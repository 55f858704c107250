//! Structured scan errors: a problem with one piece of input that does not stop the scan.
//!
//! Every source collects these in its report (the file it could not read, the archive member
//! that is damaged, the git object that is missing) and carries on; any of them makes the scan
//! fail (exit status 2 from `scan`, FAIL in the security gate). A [`ScanError`] names what it
//! is about in typed fields ([`ScanError::path`], [`ScanError::object`], [`ScanError::commit`])
//! so a library caller can act on it, and renders as the one-line message the CLI prints.

use std::fmt;

/// What kind of problem a [`ScanError`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanErrorKind {
    /// A file, directory entry, symlink, the index or standard input could not be read.
    Read,
    /// An archive (or one of its members) is damaged or not what its name says.
    Archive,
    /// A decompression bound was exceeded (a possible decompression bomb): the rest of the
    /// archive was not scanned.
    Limit,
    /// A git object (blob, tree, commit) is missing from the repository or corrupt.
    Object,
    /// Another git failure during the scan: an unresolvable reference, a failed tree diff or
    /// rename detection, unreadable commit metadata.
    Git,
    /// The scan was interrupted before it finished.
    Interrupted,
    /// Content was not scanned (too large, an encrypted archive member, nested deeper than
    /// the archive depth): the one line that lists it.
    Incomplete,
    /// A bug: scanning panicked or broke an internal invariant; the input it was working on
    /// was not (fully) scanned.
    Internal,
}

impl ScanErrorKind {
    /// The kind's name as it appears in JSON (`read`, `archive`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ScanErrorKind::Read => "read",
            ScanErrorKind::Archive => "archive",
            ScanErrorKind::Limit => "limit",
            ScanErrorKind::Object => "object",
            ScanErrorKind::Git => "git",
            ScanErrorKind::Interrupted => "interrupted",
            ScanErrorKind::Incomplete => "incomplete",
            ScanErrorKind::Internal => "internal",
        }
    }
}

impl fmt::Display for ScanErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem with one piece of input met during a scan.
///
/// `Display` prints [`ScanError::message`], the complete one-line message (it names the file,
/// object or commit in words, as the CLI prints it); the typed fields name the same things for
/// programs. Errors order by their message, so a sorted list reads as the CLI prints it.
///
/// ```
/// use portcullis::source::{ScanError, ScanErrorKind};
///
/// let e = ScanError::in_file(ScanErrorKind::Read, "src/a.txt", "cannot read file: denied");
/// assert_eq!(e.to_string(), "src/a.txt: cannot read file: denied");
/// assert_eq!(e.path.as_deref(), Some("src/a.txt"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ScanError {
    /// What kind of problem this is.
    pub kind: ScanErrorKind,
    /// The file the error is about, as findings name it (`outer.zip!inner.txt` for an archive
    /// member); `None` when no single file is involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Hex id of the git object involved (a blob, tree or commit), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Hex id of the commit whose change was being scanned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The complete one-line message, naming the file, object or commit (what `Display`
    /// prints).
    pub message: String,
}

impl ScanError {
    /// An error whose `message` is the whole line and that names no file, object or commit
    /// in its fields (add them with the `with_*` methods).
    pub fn new(kind: ScanErrorKind, message: impl Into<String>) -> Self {
        ScanError {
            kind,
            path: None,
            object: None,
            commit: None,
            message: message.into(),
        }
    }

    /// An error about the file `path`, rendered `"{path}: {detail}"`.
    pub fn in_file(
        kind: ScanErrorKind,
        path: impl Into<String>,
        detail: impl fmt::Display,
    ) -> Self {
        let path = path.into();
        ScanError {
            message: format!("{path}: {detail}"),
            path: Some(path),
            ..ScanError::new(kind, String::new())
        }
    }

    /// Set [`ScanError::path`] (the message is left as it is).
    pub fn with_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Set [`ScanError::object`] (the message is left as it is).
    pub fn with_object(mut self, object: impl Into<String>) -> Self {
        self.object = Some(object.into());
        self
    }

    /// Set [`ScanError::commit`] (the message is left as it is).
    pub fn with_commit(mut self, commit: impl Into<String>) -> Self {
        self.commit = Some(commit.into());
        self
    }

    /// Append `suffix` to the message (e.g. `" (blob <id>, file a.zip in commit <id>)"` when
    /// an error of the content pipeline is placed in git history).
    pub fn with_suffix(mut self, suffix: &str) -> Self {
        self.message.push_str(suffix);
        self
    }

    /// The one-line message (what `Display` prints).
    pub fn as_str(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScanError {}

impl PartialOrd for ScanError {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ScanError {
    /// By message first (the order the CLI prints), then by the typed fields.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (
            &self.message,
            self.kind,
            &self.path,
            &self.object,
            &self.commit,
        )
            .cmp(&(
                &other.message,
                other.kind,
                &other.path,
                &other.object,
                &other.commit,
            ))
    }
}

#[cfg(test)]
mod tests {
    use super::{ScanError, ScanErrorKind};

    #[test]
    fn in_file_renders_path_then_detail() {
        let e = ScanError::in_file(
            ScanErrorKind::Archive,
            "a.zip!b.txt",
            "cannot read archive member: bad",
        );
        assert_eq!(
            e.to_string(),
            "a.zip!b.txt: cannot read archive member: bad"
        );
        assert_eq!(e.path.as_deref(), Some("a.zip!b.txt"));
        assert_eq!(e.kind, ScanErrorKind::Archive);
    }

    #[test]
    fn typed_fields_do_not_change_the_message() {
        let e = ScanError::new(ScanErrorKind::Object, "object 1234 is missing")
            .with_object("1234")
            .with_commit("abcd")
            .with_path("a.txt");
        assert_eq!(e.to_string(), "object 1234 is missing");
        assert_eq!(e.object.as_deref(), Some("1234"));
        assert_eq!(e.commit.as_deref(), Some("abcd"));
        let placed = e.with_suffix(" (in HEAD)");
        assert_eq!(placed.as_str(), "object 1234 is missing (in HEAD)");
    }

    #[test]
    fn errors_sort_by_message_not_by_kind() {
        let mut v = [
            ScanError::new(ScanErrorKind::Read, "b: cannot read"),
            ScanError::new(ScanErrorKind::Internal, "a: internal error while scanning"),
        ];
        v.sort();
        assert_eq!(v[0].message, "a: internal error while scanning");
    }

    #[test]
    fn serializes_kind_in_snake_case_and_skips_absent_fields() {
        let e = ScanError::in_file(ScanErrorKind::Read, "x", "cannot read file: gone");
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"read","path":"x","message":"x: cannot read file: gone"}"#
        );
    }
}
