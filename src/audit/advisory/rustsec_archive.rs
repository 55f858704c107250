//! Reading the RustSec advisory-db tarball that `db update` downloads: the advisories,
//! licence files, the commit the archive was made from and its newest entry time.

use std::io::Read;
use std::path::{Path, PathBuf};

/// What is wrong with a RustSec tarball, or where writing its files failed.
#[derive(Debug, thiserror::Error)]
pub enum RustsecArchiveError {
    /// The bytes are not a gzip-compressed tar archive.
    #[error("not a tar.gz: {0}")]
    NotTarGz(#[source] std::io::Error),
    /// An entry header of the archive is damaged (or the archive ends inside one).
    #[error("bad tar entry: {0}")]
    BadEntry(#[source] std::io::Error),
    /// An entry's path cannot be read.
    #[error("bad tar path: {0}")]
    BadPath(#[source] std::io::Error),
    /// An entry's data cannot be read (the archive is truncated or corrupt).
    #[error("{source}")]
    ReadEntry {
        /// The entry's path in the archive.
        entry: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A directory or file of the extracted tree cannot be written.
    #[error("{source}")]
    Write {
        /// The file or directory being written.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Extract `crates/`, `rust/` and licence files of a RustSec tarball (first path component
/// stripped) into `dest`; returns the commit named by the archive's pax comment, if any, and
/// the newest entry time (archives made by `git archive` stamp every entry with the commit
/// time).
pub(crate) fn extract_rustsec(
    tarball: &[u8],
    dest: &Path,
) -> Result<(Option<String>, Option<u64>), RustsecArchiveError> {
    let gz = flate2::read::GzDecoder::new(tarball);
    let mut ar = tar::Archive::new(gz);
    let mut commit = None;
    let mut newest: Option<u64> = None;
    for entry in ar.entries().map_err(RustsecArchiveError::NotTarGz)? {
        let mut entry = entry.map_err(RustsecArchiveError::BadEntry)?;
        if entry.header().entry_type() == tar::EntryType::XGlobalHeader {
            let mut buf = String::new();
            let _ = entry.read_to_string(&mut buf);
            for line in buf.lines() {
                if let Some(c) = line.split_once("comment=").map(|(_, c)| c.trim())
                    && c.len() == 40
                    && c.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    commit = Some(c.to_string());
                }
            }
            continue;
        }
        let path = entry
            .path()
            .map_err(RustsecArchiveError::BadPath)?
            .into_owned();
        let rel: PathBuf = path.components().skip(1).collect();
        let keep = rel.starts_with("crates")
            || rel.starts_with("rust")
            || rel.to_string_lossy().starts_with("LICENSE");
        if !keep
            || rel
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
        {
            continue;
        }
        if let Ok(t) = entry.header().mtime()
            && t > 0
        {
            newest = Some(newest.map_or(t, |n| n.max(t)));
        }
        let target = dest.join(&rel);
        let write = |path: &Path| {
            let path = path.to_path_buf();
            move |source| RustsecArchiveError::Write { path, source }
        };
        if entry.header().entry_type().is_dir() {
            std::fs::create_dir_all(&target).map_err(write(&target))?;
        } else if entry.header().entry_type().is_file() {
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(write(parent))?;
            }
            let mut data = Vec::new();
            entry
                .read_to_end(&mut data)
                .map_err(|source| RustsecArchiveError::ReadEntry {
                    entry: path.clone(),
                    source,
                })?;
            std::fs::write(&target, data).map_err(write(&target))?;
        }
    }
    Ok((commit, newest))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A gzip-compressed tar of `advisory-db-main/<path>` entries with these contents.
    fn tarball(files: &[(&str, &[u8])]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        for (path, data) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_mtime(1_700_000_000);
            h.set_cksum();
            b.append_data(&mut h, format!("advisory-db-main/{path}"), *data)
                .expect("append");
        }
        b.into_inner().expect("tar").finish().expect("gzip")
    }

    /// The same archive with its bytes (after gunzip) changed by `damage`, gzipped again.
    fn damaged(files: &[(&str, &[u8])], damage: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(tarball(files).as_slice())
            .read_to_end(&mut tar)
            .expect("gunzip");
        damage(&mut tar);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).expect("gzip");
        gz.finish().expect("gzip")
    }

    const ADVISORY: &[u8] = b"```toml\n[advisory]\nid = \"RUSTSEC-2020-0001\"\n```\n";

    #[test]
    fn intact_archive_extracts_advisories_and_newest_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tgz = tarball(&[
            ("crates/a/RUSTSEC-2020-0001.md", ADVISORY),
            ("README.md", b"skipped"),
        ]);
        let (commit, newest) = extract_rustsec(&tgz, dir.path()).expect("extract");
        assert_eq!((commit, newest), (None, Some(1_700_000_000)));
        let kept = dir.path().join("crates/a/RUSTSEC-2020-0001.md");
        assert_eq!(std::fs::read(kept).expect("extracted"), ADVISORY);
        assert!(!dir.path().join("README.md").exists());
    }

    /// A damaged header of the second entry (its checksum no longer matches) is
    /// [`RustsecArchiveError::BadEntry`], rendered `bad tar entry: ...` as before.
    #[test]
    fn broken_rustsec_archive_entry_is_a_bad_entry_error() {
        let tgz = damaged(
            &[
                ("crates/a/RUSTSEC-2020-0001.md", ADVISORY),
                ("crates/b/RUSTSEC-2020-0002.md", ADVISORY),
            ],
            |tar| {
                // Entry 1: a 512-byte header and one 512-byte block of data; entry 2's
                // header follows. Change a byte of its name.
                tar[1024 + 20] ^= 0x55;
            },
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let err = extract_rustsec(&tgz, dir.path()).expect_err("damaged header");
        assert!(
            matches!(err, RustsecArchiveError::BadEntry(_)),
            "expected BadEntry, got {err:?}"
        );
        assert!(err.to_string().starts_with("bad tar entry: "), "{err}");
    }

    /// An archive cut off inside an entry's data is an error (the entry that follows cannot
    /// be reached), not a silently shorter advisory.
    #[test]
    fn truncated_archive_is_a_bad_entry_error() {
        let big = vec![b'x'; 4096];
        let tgz = damaged(&[("crates/a/RUSTSEC-2020-0001.md", &big)], |tar| {
            tar.truncate(512 + 1000);
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let err = extract_rustsec(&tgz, dir.path()).expect_err("truncated");
        assert!(
            matches!(err, RustsecArchiveError::BadEntry(_)),
            "expected BadEntry, got {err:?}"
        );
    }

    /// Bytes that are not gzip fail on the first entry, not silently as an empty archive.
    #[test]
    fn not_gzip_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = extract_rustsec(b"plain text, not an archive", dir.path()).expect_err("not gz");
        assert!(
            matches!(err, RustsecArchiveError::BadEntry(_)),
            "expected BadEntry, got {err:?}"
        );
    }
}
