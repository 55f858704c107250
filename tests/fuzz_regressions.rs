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
#[path = "../fuzz/src/pack.rs"]
mod pack;
#[path = "../fuzz/src/simd_filter.rs"]
mod simd_filter;

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
        naming_input(&f, || check(&data));
    }
}

/// Runs `check`; a panic is re-raised with the input file's name in front of its message.
fn naming_input(f: &Path, check: impl FnOnce() + std::panic::UnwindSafe) {
    if let Err(e) = std::panic::catch_unwind(check) {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        panic!("{}: {msg}", f.display());
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
    let mut parsed = 0;
    for f in inputs("corpus", "lockfile_parse") {
        let data = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let Some((of, file)) = lockfile_parse::split_input(&data) else {
            continue;
        };
        if of != format {
            continue;
        }
        naming_input(&f, || lockfile_parse::check_format(format, file));
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
fn requirements_chain_included_under_two_names_per_level_is_refused_not_read_exponentially() {
    // d/r0.txt .. d/r24.txt: each includes the next as ../d/rN.txt and as ../d/../d/rN.txt,
    // two names of one file. Paths are compared as written, so every level doubles the files
    // read: without a bound on included files the parser reads 2^25 of them.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    std::fs::create_dir(&d).unwrap();
    for i in 0..25 {
        let next = format!("r{}.txt", i + 1);
        let text = format!("-r ../d/{next}\n-r ../d/../d/{next}\nflask==2.0.{i}\n");
        std::fs::write(d.join(format!("r{i}.txt")), text).unwrap();
    }
    std::fs::write(d.join("r25.txt"), "click==8.0.0\n").unwrap();
    let path = d.join("r0.txt");
    let text = std::fs::read(&path).unwrap();
    let reader = CountingReader {
        reads: std::cell::Cell::new(0),
        limit: 1000,
    };
    let res = portcullis::audit::lockfile::parse_bytes(
        portcullis::audit::lockfile::LockFormat::Requirements,
        &path,
        "d/r0.txt",
        &text,
        &reader,
        false,
    );
    let e = res
        .expect_err("an include fan-out must be an error")
        .to_string();
    assert!(e.contains("requirement files included"), "{e}");
    assert!(reader.reads.get() <= 256, "{} reads", reader.reads.get());
}

#[test]
fn tar_error_quoting_a_member_path_with_a_newline_is_one_line() {
    // The tar crate's error quotes the member's path ("!<arch>\n" here): the scan error that
    // names the file must still be one line.
    let data = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/regressions/archive_read/tar-error-with-newline-in-member-path"),
    )
    .unwrap();
    let mut budget = portcullis::source::archive::Budget::default();
    let e = portcullis::source::archive::extract_tar(
        &data[1..],
        &portcullis::source::archive::ArchiveLimits::default(),
        &mut budget,
        &mut |_, _| {},
    )
    .expect_err("a corrupt tar header");
    let msg = e.to_string();
    assert!(!msg.contains('\n'), "{msg:?}");
    assert!(msg.contains("\\n"), "the newline is shown escaped: {msg:?}");
}

#[test]
fn simd_filter_seed_corpus() {
    run_all("corpus", "simd_filter", simd_filter::simd_filter, 9);
}

#[test]
fn simd_filter_regressions() {
    run_all("regressions", "simd_filter", simd_filter::simd_filter, 0);
}

#[test]
fn inflate_seed_corpus() {
    run_all("corpus", "inflate", pack::inflate, 15);
}

#[test]
fn inflate_regressions() {
    run_all("regressions", "inflate", pack::inflate, 0);
}

#[test]
fn delta_apply_seed_corpus() {
    run_all("corpus", "delta_apply", pack::delta_apply, 10);
}

#[test]
fn delta_apply_regressions() {
    run_all("regressions", "delta_apply", pack::delta_apply, 0);
}

#[test]
fn pack_entry_header_seed_corpus() {
    run_all("corpus", "pack_entry_header", pack::pack_entry_header, 15);
}

#[test]
fn pack_entry_header_regressions() {
    run_all(
        "regressions",
        "pack_entry_header",
        pack::pack_entry_header,
        0,
    );
}

#[test]
fn tree_entries_seed_corpus() {
    run_all("corpus", "tree_entries", pack::tree_entries, 10);
}

#[test]
fn tree_entries_regressions() {
    run_all("regressions", "tree_entries", pack::tree_entries, 0);
}
