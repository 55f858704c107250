//! The embedded advisory snapshot: compact data compiled into the binary so that
//! `portcullis audit` works offline on a fresh machine.
//!
//! File format (`snapshot.bin`, built by `cargo run --example build-advisory-snapshot`):
//!
//! ```text
//! b"PCSNAP1\n"  u32-LE header length  header JSON  body
//! header = { "sources": [SnapshotSource...], "index": [[ecosystem, package, offset, length]...] }
//! body   = one raw-deflate chunk per (ecosystem, package): JSON [[source index, Advisory]...]
//! ```
//!
//! The index is sorted, so a lookup is a binary search and only the chunks of audited packages
//! are ever decompressed and parsed.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use super::{Advisory, LoadedSources, Wanted};
use crate::audit::{Ecosystem, SourceInfo};

/// Magic bytes at the start of a snapshot.
pub const MAGIC: &[u8; 8] = b"PCSNAP1\n";

/// The compiled-in snapshot.
pub static EMBEDDED: &[u8] = include_bytes!("snapshot.bin");

/// Provenance of one source in a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotSource {
    /// Short name (`rustsec`, `pypa`).
    pub name: String,
    /// Upstream repository URL.
    pub origin: String,
    /// Upstream commit.
    pub commit: String,
    /// Commit date (RFC 3339).
    pub date: String,
    /// Licence of the data.
    pub license: String,
    /// Number of advisories stored.
    pub advisories: usize,
    /// Ecosystems of the stored advisories (empty in snapshots that predate the field: then
    /// derived from the name).
    #[serde(default)]
    pub ecosystems: Vec<Ecosystem>,
}

impl SnapshotSource {
    /// The ecosystems this source covers.
    pub fn covered(&self) -> Vec<Ecosystem> {
        if !self.ecosystems.is_empty() {
            return self.ecosystems.clone();
        }
        match self.name.as_str() {
            "rustsec" => vec![Ecosystem::CratesIo],
            "pypa" => vec![Ecosystem::PyPI],
            "go" => vec![Ecosystem::Go],
            _ => Vec::new(),
        }
    }
}

/// Why snapshot bytes cannot be read or built.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The bytes do not start with [`MAGIC`].
    #[error("bad snapshot magic")]
    BadMagic,
    /// The bytes end before the header length.
    #[error("truncated snapshot")]
    Truncated,
    /// The bytes end inside the header.
    #[error("truncated snapshot header")]
    TruncatedHeader,
    /// The header is not the JSON the format describes.
    #[error("snapshot header: {0}")]
    Header(#[source] serde_json::Error),
    /// The index names a chunk beyond the end of the body.
    #[error("snapshot chunk out of bounds")]
    ChunkOutOfBounds {
        /// The package whose chunk it is.
        package: String,
    },
    /// A package's chunk is not valid raw deflate data.
    #[error("snapshot chunk for {package}: {source}")]
    Inflate {
        /// The package whose chunk it is.
        package: String,
        /// The decompression error.
        #[source]
        source: std::io::Error,
    },
    /// A package's chunk is not the JSON the format describes.
    #[error("snapshot chunk for {package}: {source}")]
    Chunk {
        /// The package whose chunk it is.
        package: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// Building: advisories or the header could not be encoded as JSON.
    #[error("{0}")]
    Encode(#[source] serde_json::Error),
    /// Building: a chunk could not be compressed.
    #[error("{0}")]
    Compress(#[source] std::io::Error),
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    sources: Vec<SnapshotSource>,
    index: Vec<(Ecosystem, String, u64, u32)>,
}

/// A parsed snapshot (header only; chunks are decoded on demand).
pub struct Snapshot<'a> {
    header: Header,
    body: &'a [u8],
}

impl<'a> Snapshot<'a> {
    /// Parse the header of a snapshot.
    pub fn parse(bytes: &'a [u8]) -> Result<Snapshot<'a>, SnapshotError> {
        let rest = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or(SnapshotError::BadMagic)?;
        let len_bytes: [u8; 4] = rest
            .get(..4)
            .and_then(|b| b.try_into().ok())
            .ok_or(SnapshotError::Truncated)?;
        let len = u32::from_le_bytes(len_bytes) as usize;
        let header_bytes = rest.get(4..4 + len).ok_or(SnapshotError::TruncatedHeader)?;
        let header: Header = serde_json::from_slice(header_bytes).map_err(SnapshotError::Header)?;
        Ok(Snapshot {
            header,
            body: &rest[4 + len..],
        })
    }

    /// Sources recorded in the snapshot.
    pub fn sources(&self) -> &[SnapshotSource] {
        &self.header.sources
    }

    /// Number of packages with advisories.
    pub fn packages(&self) -> usize {
        self.header.index.len()
    }

    /// Advisories of one package, each with its source index.
    pub fn lookup(
        &self,
        eco: Ecosystem,
        name: &str,
    ) -> Result<Vec<(usize, Advisory)>, SnapshotError> {
        let idx = &self.header.index;
        let Ok(i) = idx.binary_search_by(|(e, n, _, _)| (e, n.as_str()).cmp(&(&eco, name))) else {
            return Ok(Vec::new());
        };
        let (_, _, off, len) = &idx[i];
        let start = *off as usize;
        let chunk = self.body.get(start..start + *len as usize).ok_or_else(|| {
            SnapshotError::ChunkOutOfBounds {
                package: name.to_string(),
            }
        })?;
        let mut json = Vec::new();
        flate2::read::DeflateDecoder::new(chunk)
            .read_to_end(&mut json)
            .map_err(|source| SnapshotError::Inflate {
                package: name.to_string(),
                source,
            })?;
        serde_json::from_slice(&json).map_err(|source| SnapshotError::Chunk {
            package: name.to_string(),
            source,
        })
    }
}

/// Build snapshot bytes from sources and their advisories.
pub fn build(sources: Vec<(SnapshotSource, Vec<Advisory>)>) -> Result<Vec<u8>, SnapshotError> {
    let mut groups: BTreeMap<(Ecosystem, String), Vec<(usize, Advisory)>> = BTreeMap::new();
    let mut metas = Vec::new();
    for (si, (mut meta, advisories)) in sources.into_iter().enumerate() {
        meta.advisories = advisories.len();
        let mut ecos: Vec<Ecosystem> = advisories.iter().map(|a| a.ecosystem).collect();
        ecos.sort();
        ecos.dedup();
        meta.ecosystems = ecos;
        metas.push(meta);
        for a in advisories {
            groups
                .entry((a.ecosystem, a.package.clone()))
                .or_default()
                .push((si, a));
        }
    }
    let mut body = Vec::new();
    let mut index = Vec::new();
    for ((eco, name), mut advs) in groups {
        advs.sort_by(|a, b| a.1.id.cmp(&b.1.id));
        let json = serde_json::to_vec(&advs).map_err(SnapshotError::Encode)?;
        let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&json).map_err(SnapshotError::Compress)?;
        let chunk = enc.finish().map_err(SnapshotError::Compress)?;
        index.push((eco, name, body.len() as u64, chunk.len() as u32));
        body.extend_from_slice(&chunk);
    }
    let header = serde_json::to_vec(&Header {
        sources: metas,
        index,
    })
    .map_err(SnapshotError::Encode)?;
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Source descriptions of a snapshot for reports.
pub fn source_infos(snap: &Snapshot<'_>) -> Vec<SourceInfo> {
    snap.sources()
        .iter()
        .map(|s| SourceInfo {
            commit: Some(s.commit.clone()),
            date: Some(s.date.clone()),
            license: Some(s.license.clone()),
            advisories: Some(s.advisories),
            ..SourceInfo::new(
                s.name.clone(),
                "embedded",
                format!("embedded snapshot of {}", s.origin),
            )
            .covering(s.covered())
        })
        .collect()
}

/// Load the wanted packages from the embedded snapshot.
pub fn load_embedded(wanted: &Wanted, out: &mut LoadedSources) {
    load_from_bytes(EMBEDDED, wanted, out)
}

/// Load the wanted packages from the embedded sources that cover one of `ecosystems` (used for
/// the ecosystems an update cache has no data for).
pub fn load_embedded_for(
    wanted: &Wanted,
    ecosystems: &std::collections::BTreeSet<Ecosystem>,
    out: &mut LoadedSources,
) {
    load_filtered(EMBEDDED, wanted, out, &|s: &SnapshotSource| {
        s.covered().iter().any(|e| ecosystems.contains(e))
    })
}

/// Load the wanted packages from snapshot bytes.
pub fn load_from_bytes(bytes: &[u8], wanted: &Wanted, out: &mut LoadedSources) {
    load_filtered(bytes, wanted, out, &|_| true)
}

fn load_filtered(
    bytes: &[u8],
    wanted: &Wanted,
    out: &mut LoadedSources,
    keep: &dyn Fn(&SnapshotSource) -> bool,
) {
    let snap = match Snapshot::parse(bytes) {
        Ok(s) => s,
        Err(e) => {
            out.infos
                .push(SourceInfo::new("embedded", "embedded", "embedded snapshot").failed(e));
            return;
        }
    };
    let mut infos = source_infos(&snap);
    if infos.is_empty() {
        out.infos.push(SourceInfo {
            advisories: Some(0),
            ..SourceInfo::new("embedded", "embedded", "embedded snapshot")
                .failed("the embedded snapshot is empty")
        });
        return;
    }
    let kept: Vec<bool> = snap.sources().iter().map(keep).collect();
    let mut infos: Vec<SourceInfo> = infos
        .drain(..)
        .zip(kept.iter())
        .filter(|(_, k)| **k)
        .map(|(i, _)| i)
        .collect();
    let mut advisories = Vec::new();
    for (eco, name) in wanted {
        match snap.lookup(*eco, name) {
            Ok(found) => {
                for (si, mut a) in found {
                    if !kept.get(si).copied().unwrap_or(false) {
                        continue;
                    }
                    a.source_name = snap
                        .sources()
                        .get(si)
                        .map(|s| s.name.clone())
                        .unwrap_or_default();
                    advisories.push(a);
                }
            }
            Err(e) => {
                for i in &mut infos {
                    i.ok = false;
                    i.error.get_or_insert_with(|| e.to_string());
                }
            }
        }
    }
    out.index.extend(advisories);
    out.infos.extend(infos);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot of one source with no advisories.
    fn empty_snapshot() -> Vec<u8> {
        let source = SnapshotSource {
            name: "rustsec".into(),
            origin: "https://example.invalid/advisory-db".into(),
            commit: "0".repeat(40),
            date: "2024-01-01T00:00:00Z".into(),
            license: "CC0-1.0".into(),
            advisories: 0,
            ecosystems: Vec::new(),
        };
        build(vec![(source, Vec::new())]).expect("build")
    }

    #[test]
    fn damaged_snapshot_bytes_are_typed_errors_with_todays_messages() {
        let good = empty_snapshot();
        assert_eq!(Snapshot::parse(&good).expect("parse").sources().len(), 1);
        let cases: [(&[u8], &str); 3] = [
            (b"NOTSNAP\n", "bad snapshot magic"),
            (&good[..MAGIC.len() + 2], "truncated snapshot"),
            (&good[..MAGIC.len() + 6], "truncated snapshot header"),
        ];
        for (bytes, message) in cases {
            let err = Snapshot::parse(bytes).err().expect("an error");
            assert_eq!(err.to_string(), message);
        }
        assert!(matches!(
            Snapshot::parse(b"NOTSNAP\n"),
            Err(SnapshotError::BadMagic)
        ));
        let mut bad_header = good.clone();
        bad_header[MAGIC.len() + 4] = b'!';
        let err = Snapshot::parse(&bad_header).err().expect("bad header");
        assert!(matches!(err, SnapshotError::Header(_)), "{err:?}");
        assert!(err.to_string().starts_with("snapshot header: "), "{err}");
    }
}
