//! Build the embedded advisory snapshot (`src/audit/advisory/snapshot.bin`).
//!
//! ```text
//! cargo run --example build-advisory-snapshot -- OUT \
//!     --rustsec DIR COMMIT DATE  --pypa DIR COMMIT DATE  --go DIR COMMIT DATE
//! ```
//!
//! `DIR` is a RustSec advisory-db checkout (`crates/`), a PyPA advisory-database checkout
//! (`vulns/`) or a copy of the Go vulnerability database's OSV folder (`osv/*.json`, or the
//! JSON files directly); `COMMIT` and `DATE` are the upstream commit and its date, recorded in
//! the snapshot and printed by `portcullis db info`. Only the fields matching needs are kept
//! (id, aliases, summary, severity, URL, ranges; not the details or Go symbol lists), and each
//! package's advisories are compressed separately.

use std::path::PathBuf;

use portcullis::audit::advisory::snapshot::{SnapshotSource, build};
use portcullis::audit::advisory::{osv, rustsec_dir};

fn main() {
    if let Err(e) = run() {
        eprintln!("build-advisory-snapshot: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: build-advisory-snapshot OUT [--rustsec DIR COMMIT DATE] [--pypa DIR COMMIT DATE] [--go DIR COMMIT DATE]";
    let out = PathBuf::from(args.first().ok_or(usage)?);
    let mut sources = Vec::new();
    let mut i = 1;
    while i < args.len() {
        let kind = args[i].as_str();
        let (dir, commit, date) = match (args.get(i + 1), args.get(i + 2), args.get(i + 3)) {
            (Some(d), Some(c), Some(t)) => (PathBuf::from(d), c.clone(), t.clone()),
            _ => return Err(usage.into()),
        };
        i += 4;
        let (meta, loaded) = match kind {
            "--rustsec" => (
                SnapshotSource {
                    name: "rustsec".into(),
                    origin: "https://github.com/rustsec/advisory-db".into(),
                    commit,
                    date,
                    license: "CC0-1.0 (21 advisories imported from GHSA: CC-BY-4.0)".into(),
                    advisories: 0,
                    ecosystems: Vec::new(),
                },
                rustsec_dir::load_all(&dir).map_err(|e| e.to_string())?,
            ),
            "--pypa" => (
                SnapshotSource {
                    name: "pypa".into(),
                    origin: "https://github.com/pypa/advisory-database".into(),
                    commit,
                    date,
                    license: "CC-BY-4.0 (Python Packaging Advisory Database)".into(),
                    advisories: 0,
                    ecosystems: Vec::new(),
                },
                osv::load_yaml_dir_all(&dir.join("vulns")).map_err(|e| e.to_string())?,
            ),
            "--go" => (
                SnapshotSource {
                    name: "go".into(),
                    origin: "https://github.com/golang/vulndb".into(),
                    commit,
                    date,
                    license: "CC-BY-4.0 (Go Vulnerability Database, https://go.dev/security/vuln)"
                        .into(),
                    advisories: 0,
                    ecosystems: Vec::new(),
                },
                {
                    let osv_dir = dir.join("osv");
                    osv::load_json_dir(if osv_dir.is_dir() { &osv_dir } else { &dir })
                        .map_err(|e| e.to_string())?
                },
            ),
            other => return Err(format!("unknown source {other}; {usage}")),
        };
        if let Some(e) = loaded.error_summary() {
            return Err(format!("{}: {e}", dir.display()));
        }
        eprintln!("{}: {} advisories", meta.name, loaded.advisories.len());
        sources.push((meta, loaded.advisories));
    }
    let bytes = build(sources).map_err(|e| e.to_string())?;
    std::fs::write(&out, &bytes).map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!("wrote {} ({} bytes)", out.display(), bytes.len());
    Ok(())
}
