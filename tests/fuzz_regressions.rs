//! The fuzz targets' checks (`fuzz/src/checks.rs`, the same code libFuzzer runs) on stable,
//! over every seed in `fuzz/corpus/<target>/` and every crashing input found so far in
//! `fuzz/regressions/<target>/`.

use std::path::{Path, PathBuf};

#[path = "../fuzz/src/checks.rs"]
mod checks;

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
