//! The fuzz targets' checks (`fuzz/src/checks.rs`, the same code libFuzzer runs) on stable,
//! over every seed in `fuzz/corpus/<target>/` and every crashing input found so far in
//! `fuzz/regressions/<target>/`.

use std::path::{Path, PathBuf};

#[path = "../fuzz/src/archive_read.rs"]
mod archive_read;
#[path = "../fuzz/src/checks.rs"]
mod checks;
#[path = "../fuzz/src/frontmatter_read.rs"]
mod frontmatter_read;
#[path = "../fuzz/src/lockfile_parse.rs"]
mod lockfile_parse;

/// Every file directly inside `fuzz/<kind>/<target>/`, sorted.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind)
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `check` on each input; a panic names the input file.
fn run_all(kind: &str, target: &str, check: fn(&[u8]), min: usize) {
    let files = inputs(kind, target);
    assert!(
        files.len() >= min,
        "fuzz/{kind}/{target}: {} inputs, expected at least {min}",
        files.len()
    );
    for f in files {
        let data = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        if let Err(e) = std::panic::catch_unwind(|| check(&data)) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{}: {msg}", f.display());
        }
    }
}

#[test]
fn config_parse_seed_corpus() {
    run_all("corpus", "config_parse", checks::config_parse, 5);
}

#[test]
fn detector_bytes_seed_corpus() {
    run_all("corpus", "detector_bytes", checks::detector_bytes, 10);
}

#[test]
fn config_parse_regressions() {
    run_all("regressions", "config_parse", checks::config_parse, 0);
}

#[test]
fn detector_bytes_regressions() {
    run_all("regressions", "detector_bytes", checks::detector_bytes, 0);
}

#[test]
fn archive_read_seed_corpus() {
    run_all("corpus", "archive_read", archive_read::archive_read, 20);
}

#[test]
fn archive_read_regressions() {
    run_all("regressions", "archive_read", archive_read::archive_read, 0);
}

#[test]
fn frontmatter_read_seed_corpus() {
    run_all(
        "corpus",
        "frontmatter_read",
        frontmatter_read::frontmatter_read,
        30,
    );
}

#[test]
fn frontmatter_read_regressions() {
    run_all(
        "regressions",
        "frontmatter_read",
        frontmatter_read::frontmatter_read,
        0,
    );
}

#[test]
fn frontmatter_read_seeds_hold_every_outcome() {
    // The tamper checks of the property only run for accepted reports: the seeds must have
    // PASS and DEFER reports of every schema, not only corrupt ones.
    let mut outcomes = std::collections::BTreeSet::new();
    for f in inputs("corpus", "frontmatter_read") {
        let v = portcullis::report::read_verdict(&f);
        outcomes.insert((v.schema.clone(), v.outcome.as_str()));
    }
    for want in [
        ("portcullis/security-report/v1", "PASS"),
        ("portcullis/security-report/v1", "FAIL"),
        ("portcullis/merge-report/v1", "PASS"),
        ("portcullis/merge-report/v1", "DEFER"),
        ("portcullis/gate-all-report/v1", "DEFER"),
        ("portcullis/gate-all-report/v1", "FAIL"),
    ] {
        assert!(
            outcomes.contains(&(want.0.to_string(), want.1)),
            "no {} {} seed in {outcomes:?}",
            want.0,
            want.1
        );
    }
}

#[test]
fn lockfile_parse_regressions() {
    run_all(
        "regressions",
        "lockfile_parse",
        lockfile_parse::lockfile_parse,
        0,
    );
}

/// The seeds of one lockfile format (first byte) through the check; at least one parses.
fn lockfile_seeds(format: portcullis::audit::lockfile::LockFormat) {
    let byte = lockfile_parse::format_byte(format);
    let mut parsed = 0;
    for f in inputs("corpus", "lockfile_parse") {
        let data = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let Some((&b, file)) = data.split_first() else {
            continue;
        };
        if usize::from(b) % lockfile_parse::FORMATS.len() != usize::from(byte) {
            continue;
        }
        if let Err(e) = std::panic::catch_unwind(|| lockfile_parse::check_format(format, file)) {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{}: {msg}", f.display());
        }
        let reader = portcullis::audit::lockfile::FsReader;
        let path = std::path::Path::new("seed").join(format.as_str());
        if portcullis::audit::lockfile::parse_bytes(format, &path, "seed", file, &reader, false)
            .is_ok_and(|p| !p.packages.is_empty())
        {
            parsed += 1;
        }
    }
    assert!(
        parsed > 0,
        "no seed of {} parses to packages",
        format.as_str()
    );
}

#[test]
fn lockfile_parse_cargo_seeds() {
    lockfile_seeds(portcullis::audit::lockfile::LockFormat::Cargo);
}

#[test]
fn lockfile_parse_requirements_seeds() {
    lockfile_seeds(portcullis::audit::lockfile::LockFormat::Requirements);
}

#[test]
fn lockfile_parse_poetry_seeds() {
    lockfile_seeds(portcullis::audit::lockfile::LockFormat::Poetry);
}

#[test]
fn lockfile_parse_pipfile_seeds() {
    lockfile_seeds(portcullis::audit::lockfile::LockFormat::Pipfile);
}

#[test]
fn lockfile_parse_pdm_seeds() {
    lockfile_seeds(portcullis::audit::lockfile::LockFormat::Pdm);
}

#[test]
fn lockfile_parse_uv_seeds() {
    lockfile_seeds(portcullis::audit::lockfile::LockFormat::Uv);
}

#[test]
fn lockfile_parse_pylock_seeds() {
    lockfile_seeds(portcullis::audit::lockfile::LockFormat::Pylock);
}

#[test]
fn lockfile_parse_npm_lock_seeds() {
    lockfile_seeds(portcullis::audit::lockfile::LockFormat::NpmLock);
}

#[test]
fn lockfile_parse_go_sum_seeds() {
    lockfile_seeds(portcullis::audit::lockfile::LockFormat::GoSum);
}

#[test]
fn lockfile_parse_go_mod_seeds() {
    lockfile_seeds(portcullis::audit::lockfile::LockFormat::GoMod);
}

/// Reads requirement files from disk, counting them; panics past `limit` reads.
struct CountingReader {
    reads: std::cell::Cell<usize>,
    limit: usize,
}

impl portcullis::audit::lockfile::FileReader for CountingReader {
    fn read(&self, path: &Path) -> Result<Vec<u8>, portcullis::audit::AuditError> {
        self.reads.set(self.reads.get() + 1);
        assert!(self.reads.get() <= self.limit, "{} reads", self.reads.get());
        portcullis::audit::lockfile::FsReader.read(path)
    }
}

#[test]
fn requirements_file_including_itself_under_two_names_is_refused_not_read_exponentially() {
    // d/requirements.txt includes itself as ../d/requirements.txt and as
    // ../d/../d/requirements.txt: every level doubles the distinct paths, so without a bound
    // on the included files the parser reads 2^32 files before the depth limit stops it.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    std::fs::create_dir(&d).unwrap();
    let text = "-r ../d/requirements.txt\n-r ../d/../d/requirements.txt\nflask==2.0.0\n";
    let path = d.join("requirements.txt");
    std::fs::write(&path, text).unwrap();
    let reader = CountingReader {
        reads: std::cell::Cell::new(0),
        limit: 1000,
    };
    let res = portcullis::audit::lockfile::parse_bytes(
        portcullis::audit::lockfile::LockFormat::Requirements,
        &path,
        "d/requirements.txt",
        text.as_bytes(),
        &reader,
        false,
    );
    let e = res
        .expect_err("an include fan-out must be an error")
        .to_string();
    assert!(e.contains("requirement files included"), "{e}");
    assert!(e.starts_with(&path.display().to_string()), "{e}");
    assert!(reader.reads.get() <= 256, "{} reads", reader.reads.get());
}
