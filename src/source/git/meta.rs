//! Commit metadata as gitleaks reports it: author name and email, author date in UTC
//! (RFC 3339), and the message (title, plus `"\n\n" + body` when there is a body).

use gix::ObjectId;

use super::diff_error::MetaError;

/// Metadata of one commit.
#[derive(Debug, Clone, Default)]
pub(crate) struct CommitMeta {
    pub author: String,
    pub email: String,
    pub date: String,
    pub message: String,
}

/// Format seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn utc_rfc3339(seconds: i64) -> String {
    match jiff::Timestamp::from_second(seconds) {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Err(_) => String::new(),
    }
}

/// Read the metadata of `id`.
pub(crate) fn read(repo: &gix::Repository, id: ObjectId) -> Result<CommitMeta, MetaError> {
    let commit = repo
        .find_commit(id)
        .map_err(|source| MetaError::Missing { id, source })?;
    let decoded = commit
        .decode()
        .map_err(|source| MetaError::Undecodable { id, source })?;
    let author = decoded
        .author()
        .map_err(|source| MetaError::BadAuthor { id, source })?;
    let seconds = author.time().map(|t| t.seconds).unwrap_or(0);
    let msg = decoded.message();
    let title = msg.title.to_string();
    let mut message = title.trim().to_string();
    if let Some(body) = msg.body {
        let body = body.to_string();
        let body = body.trim();
        if !body.is_empty() {
            message.push_str("\n\n");
            message.push_str(body);
        }
    }
    Ok(CommitMeta {
        author: author.name.to_string(),
        email: author.email.to_string(),
        date: utc_rfc3339(seconds),
        message,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_utc_rfc3339() {
        assert_eq!(super::utc_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::utc_rfc3339(1_705_920_600), "2024-01-22T10:50:00Z");
    }
}
